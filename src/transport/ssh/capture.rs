//! The bounded output buffer both ssh backends keep a command's stdout and stderr in: the
//! first `OUTPUT_LIMIT` bytes are kept, the rest only counted, and the text says how much
//! was not kept.

use crate::transport::local::OUTPUT_LIMIT;

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
