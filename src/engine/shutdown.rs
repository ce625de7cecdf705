//! The shutdown trigger, passed into the scheduler so tests can fire it as Ctrl-C would.
//! Once: start no new host, let running ones finish. Twice: cancel the running ones too.

use tokio::sync::watch;

/// The sending side, held by the signal handler (or a test).
#[derive(Debug, Clone)]
pub struct ShutdownTrigger {
    tx: watch::Sender<u8>,
}

/// The receiving side, cloned into the scheduler and every host task.
#[derive(Debug, Clone)]
pub struct Shutdown {
    rx: watch::Receiver<u8>,
}

impl ShutdownTrigger {
    /// Each call is one more Ctrl-C.
    pub fn fire(&self) {
        self.tx.send_modify(|n| *n = n.saturating_add(1));
    }
}

impl Shutdown {
    pub fn new() -> (ShutdownTrigger, Shutdown) {
        let (tx, rx) = watch::channel(0);
        (ShutdownTrigger { tx }, Shutdown { rx })
    }

    /// No new host may start.
    pub fn draining(&self) -> bool {
        *self.rx.borrow() >= 1
    }

    /// Resolves when running hosts must be cancelled; never, if the trigger is gone.
    pub async fn cancelled(&mut self) {
        if self.rx.wait_for(|n| *n >= 2).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Resolves at the first Ctrl-C; never, if the trigger is gone.
    pub async fn drained(&mut self) {
        if self.rx.wait_for(|n| *n >= 1).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
