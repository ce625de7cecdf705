//! Bounded capture of a command's output stream, the one copy every transport uses: a
//! reader in the background fills a shared buffer up to [`OUTPUT_LIMIT`] and counts what it
//! drops, so a timed-out command still reports what it printed and a chatty one cannot
//! exhaust memory.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt;

/// The most output kept per stream; the rest is dropped and the text says so.
pub const OUTPUT_LIMIT: usize = 4 << 20;

/// A bounded buffer: the first [`OUTPUT_LIMIT`] bytes are kept, the rest only counted, and
/// the text says how much was not kept.
#[derive(Debug, Default)]
pub struct Bounded {
    kept: Vec<u8>,
    dropped: usize,
}

impl Bounded {
    pub fn push(&mut self, chunk: &[u8]) {
        let room = OUTPUT_LIMIT.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
        self.dropped += chunk.len().saturating_sub(room);
    }

    pub fn text(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.kept).into_owned();
        if self.dropped > 0 {
            text.push_str(&format!("\n[drover: {} more bytes not kept]", self.dropped));
        }
        text
    }
}

/// A stream read in the background into a shared [`Bounded`] buffer.
pub struct Capture {
    buf: Arc<Mutex<Bounded>>,
    /// The reader, until it has been seen to end.
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Capture {
    pub fn start<R: tokio::io::AsyncRead + Unpin + Send + 'static>(stream: Option<R>) -> Capture {
        let buf: Arc<Mutex<Bounded>> = Arc::default();
        let fill = buf.clone();
        let task = tokio::spawn(async move {
            let Some(mut stream) = stream else { return };
            let mut chunk = [0u8; 8192];
            while let Ok(n @ 1..) = stream.read(&mut chunk).await {
                let mut guard = fill.lock().unwrap_or_else(|e| e.into_inner());
                guard.push(&chunk[..n]);
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
    pub async fn finish(self, wait: Duration) -> String {
        self.finish_by(tokio::time::Instant::now() + wait).await.0
    }

    /// Waits until `deadline` at most for the stream to end; its text, and whether it
    /// ended. Streams that share one deadline wait together, not one after the other.
    pub async fn finish_by(mut self, deadline: tokio::time::Instant) -> (String, bool) {
        let mut ended = true;
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
                ended = false;
            }
        }
        let guard = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        (guard.text(), ended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_past_the_limit_is_counted_not_kept() {
        let mut b = Bounded::default();
        b.push(&vec![b'a'; OUTPUT_LIMIT - 1]);
        b.push(b"bcd");
        let text = b.text();
        assert!(
            text.ends_with("ab\n[drover: 2 more bytes not kept]"),
            "{}",
            &text[text.len() - 40..]
        );
    }
}
