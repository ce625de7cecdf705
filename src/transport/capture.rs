//! Bounded capture of a command's output stream, the one copy every transport uses: a
//! reader in the background fills a shared buffer up to [`OUTPUT_LIMIT`] and counts what it
//! drops, so a timed-out command still reports what it printed and a chatty one cannot
//! exhaust memory.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt;

/// The most output kept per stream; the rest is dropped and the text says so.
pub const OUTPUT_LIMIT: usize = 4 << 20;

/// A stream read in the background into a shared buffer.
pub struct Capture {
    buf: Arc<Mutex<(Vec<u8>, usize)>>,
    /// The reader, until it has been seen to end.
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Capture {
    pub fn start<R: tokio::io::AsyncRead + Unpin + Send + 'static>(stream: Option<R>) -> Capture {
        let buf: Arc<Mutex<(Vec<u8>, usize)>> = Arc::default();
        let fill = buf.clone();
        let task = tokio::spawn(async move {
            let Some(mut stream) = stream else { return };
            let mut chunk = [0u8; 8192];
            while let Ok(n @ 1..) = stream.read(&mut chunk).await {
                let mut guard = fill.lock().unwrap_or_else(|e| e.into_inner());
                let (kept, dropped) = &mut *guard;
                let room = OUTPUT_LIMIT.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..n.min(room)]);
                *dropped += n.saturating_sub(room);
            }
        });
        Capture {
            buf,
            task: Some(task),
        }
    }

    /// Waits for the stream to end (cancel-safe: the reader goes on if this is dropped).
    pub async fn ended(&mut self) {
        if let Some(task) = &mut self.task {
            let _ = task.await;
            self.task = None;
        }
    }

    /// Waits at most `wait` for the stream to end and returns its text.
    pub async fn finish(mut self, wait: Duration) -> String {
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(wait, &mut task).await.is_err() {
                task.abort();
            }
        }
        let guard = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        let mut text = String::from_utf8_lossy(&guard.0).into_owned();
        if guard.1 > 0 {
            text.push_str(&format!("\n[drover: {} more bytes not kept]", guard.1));
        }
        text
    }
}
