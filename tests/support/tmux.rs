//! A real terminal for tests: a detached tmux session of a given size, on a server of its
//! own (a second session on the socket of one just killed can meet that server still going
//! away), running one shell line. The server is killed when the pane is dropped.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub fn available() -> bool {
    std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

pub struct Pane {
    socket: String,
}

impl Pane {
    /// Starts `script` (a `sh -c` line) in a `cols`×`rows` pane.
    pub fn start(cols: u16, rows: u16, script: &str) -> Pane {
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        let call = CALLS.fetch_add(1, Ordering::Relaxed);
        let pane = Pane {
            socket: format!("drover-test-{}-{cols}-{call}", std::process::id()),
        };
        let (x, y) = (cols.to_string(), rows.to_string());
        let started = pane.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            &x,
            "-y",
            &y,
            "-s",
            "t",
            "sh",
            "-c",
            script,
        ]);
        assert!(started.status.success(), "{started:?}");
        pane
    }

    pub fn tmux(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux")
    }

    /// What the pane shows now; with `all`, the history too, wrapped lines joined.
    pub fn capture(&self, all: bool) -> String {
        let mut args = vec!["capture-pane", "-p", "-t", "t"];
        if all {
            args.extend(["-J", "-S", "-"]);
        }
        String::from_utf8_lossy(&self.tmux(&args).stdout).into_owned()
    }

    /// Types `keys` (tmux key names: `Enter`) into the pane.
    pub fn send_keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        let sent = self.tmux(&args);
        assert!(sent.status.success(), "{sent:?}");
    }

    /// The whole capture once it shows `needle`; panics with the screen after `limit`.
    pub fn wait_for(&self, needle: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let screen = self.capture(true);
            if screen.contains(needle) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("the terminal never showed {needle:?}:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}
