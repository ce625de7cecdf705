//! What a person would see on the terminal: the bytes a device prints, with carriage
//! returns, backspaces and ANSI escape sequences applied instead of kept. A pager that erases
//! itself with `\b\b\b` or `\r   \r`, a prompt redrawn after `ESC[K`, and UTF-8 or an escape
//! sequence split across two reads all come out as the clean text of each line.
//!
//! The screen keeps finished lines (bounded: past `limit` bytes they are counted, not kept)
//! and the line being written, which is where a prompt or a pager waits for input.

/// A small line-oriented terminal.
#[derive(Debug)]
pub(crate) struct Screen {
    lines: Vec<String>,
    kept: usize,
    dropped: usize,
    limit: usize,
    line: Vec<char>,
    cursor: usize,
    state: Esc,
    /// The start of a UTF-8 character whose other bytes have not arrived yet.
    partial: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Esc {
    Ground,
    /// After ESC.
    Escape,
    /// In `ESC [ params final`.
    Csi(String),
    /// In `ESC ] ... BEL` (or `ESC \`); `true` just after an ESC inside it.
    Osc(bool),
}

impl Screen {
    pub(crate) fn new(limit: usize) -> Screen {
        Screen {
            lines: Vec::new(),
            kept: 0,
            dropped: 0,
            limit,
            line: Vec::new(),
            cursor: 0,
            state: Esc::Ground,
            partial: Vec::new(),
        }
    }

    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        let mut buf = std::mem::take(&mut self.partial);
        buf.extend_from_slice(bytes);
        let mut rest = &buf[..];
        loop {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    text.chars().for_each(|c| self.put(c));
                    break;
                }
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    // SAFETY-free: `good` is valid UTF-8 by construction.
                    String::from_utf8_lossy(good)
                        .chars()
                        .for_each(|c| self.put(c));
                    match e.error_len() {
                        Some(n) => {
                            self.put(char::REPLACEMENT_CHARACTER);
                            rest = &bad[n..];
                        }
                        None => {
                            self.partial = bad.to_vec();
                            break;
                        }
                    }
                }
            }
        }
    }

    fn put(&mut self, c: char) {
        match std::mem::replace(&mut self.state, Esc::Ground) {
            Esc::Ground => self.ground(c),
            Esc::Escape => match c {
                '[' => self.state = Esc::Csi(String::new()),
                ']' => self.state = Esc::Osc(false),
                // A two-character sequence (`ESC 7`, `ESC =`, …): nothing to show.
                _ => {}
            },
            Esc::Csi(mut params) => {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    self.csi(&params, c);
                } else if params.len() < 32 {
                    params.push(c);
                    self.state = Esc::Csi(params);
                }
            }
            Esc::Osc(after_esc) => match c {
                '\u{7}' => {}
                '\\' if after_esc => {}
                '\u{1b}' => self.state = Esc::Osc(true),
                _ => self.state = Esc::Osc(false),
            },
        }
    }

    fn ground(&mut self, c: char) {
        match c {
            '\u{1b}' => self.state = Esc::Escape,
            '\n' => self.end_line(),
            '\r' => self.cursor = 0,
            '\u{8}' => self.cursor = self.cursor.saturating_sub(1),
            '\t' => self.write('\t'),
            c if c.is_control() => {}
            c => self.write(c),
        }
    }

    fn write(&mut self, c: char) {
        if self.cursor < self.line.len() {
            self.line[self.cursor] = c;
        } else {
            self.line.resize(self.cursor, ' ');
            self.line.push(c);
        }
        self.cursor += 1;
    }

    fn csi(&mut self, params: &str, command: char) {
        let n = params
            .trim_start_matches('?')
            .split(';')
            .next()
            .and_then(|p| p.parse::<usize>().ok());
        match command {
            // Erase in line: 0 (or none) to its end, 1 to the cursor, 2 all of it.
            'K' => match n.unwrap_or(0) {
                0 => self.line.truncate(self.cursor),
                1 => {
                    let end = self.cursor.min(self.line.len());
                    self.line[..end].iter_mut().for_each(|c| *c = ' ');
                }
                _ => self.line.clear(),
            },
            'D' => self.cursor = self.cursor.saturating_sub(n.unwrap_or(1).max(1)),
            'C' => self.cursor += n.unwrap_or(1).max(1),
            // Cursor to a column (1-based).
            'G' => self.cursor = n.unwrap_or(1).saturating_sub(1),
            // Erase the display: what was shown is gone for a person too, but not for the
            // record of a command's output, so only the line being written is cleared.
            'J' if n == Some(2) => {
                self.line.clear();
                self.cursor = 0;
            }
            // Colours, cursor position reports and everything else show no text.
            _ => {}
        }
    }

    fn end_line(&mut self) {
        let text: String = self.line.iter().collect();
        let text = text.trim_end().to_string();
        if self.kept + text.len() < self.limit {
            self.kept += text.len() + 1;
            self.lines.push(text);
        } else {
            self.dropped += text.len() + 1;
        }
        self.line.clear();
        self.cursor = 0;
    }

    /// The line being written (a prompt or a pager waits here), trailing spaces removed.
    pub(crate) fn current(&self) -> String {
        let text: String = self.line.iter().collect();
        text.trim_end().to_string()
    }

    /// Forgets the line being written (a pager that has been answered).
    pub(crate) fn clear_current(&mut self) {
        self.line.clear();
        self.cursor = 0;
    }

    /// Ends the line being written, so it is kept and not matched again (a question that has
    /// been answered).
    pub(crate) fn commit_current(&mut self) {
        self.end_line();
    }

    /// The finished lines kept so far.
    pub(crate) fn lines(&self) -> &[String] {
        &self.lines
    }

    /// The finished lines and how many bytes were not kept, leaving the line being written
    /// (the prompt) behind, and starting afresh.
    pub(crate) fn take(&mut self) -> (Vec<String>, usize) {
        let lines = std::mem::take(&mut self.lines);
        let dropped = std::mem::take(&mut self.dropped);
        self.kept = 0;
        self.clear_current();
        (lines, dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen(chunks: &[&[u8]]) -> (Vec<String>, String) {
        let mut s = Screen::new(1 << 20);
        for c in chunks {
            s.feed(c);
        }
        let current = s.current();
        (s.take().0, current)
    }

    #[test]
    fn crlf_and_trailing_spaces() {
        let (lines, cur) = screen(&[b"show clock\r\n12:00:01 UTC  \r\nr1#"]);
        assert_eq!(lines, ["show clock", "12:00:01 UTC"]);
        assert_eq!(cur, "r1#");
    }

    #[test]
    fn a_pager_erased_with_backspaces_leaves_no_trace() {
        let (lines, _) = screen(&[
            b"line 1\r\n --More-- ",
            b"\x08\x08\x08\x08\x08\x08\x08\x08\x08\x08          \x08\x08\x08\x08\x08\x08\x08\x08\x08\x08",
            b"line 2\r\nr1#",
        ]);
        assert_eq!(lines, ["line 1", "line 2"]);
    }

    #[test]
    fn a_pager_erased_with_cr_and_erase_line() {
        let (lines, _) = screen(&[b"a\r\n---(more)---", b"\r\x1b[K", b"b\r\n"]);
        assert_eq!(lines, ["a", "b"]);
    }

    #[test]
    fn colours_and_split_escape_sequences_vanish() {
        let (lines, cur) = screen(&[
            b"\x1b[1;3",
            b"2mred\x1b[0m ok\r\n\x1b]0;title\x07[admin@M",
            b"T] >",
        ]);
        assert_eq!(lines, ["red ok"]);
        assert_eq!(cur, "[admin@MT] >");
    }

    #[test]
    fn utf8_split_across_reads() {
        let text = "Größe\r\n".as_bytes();
        let (lines, _) = screen(&[&text[..3], &text[3..]]);
        assert_eq!(lines, ["Größe"]);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let (lines, _) = screen(&[b"a\xffb\r\n"]);
        assert_eq!(lines, ["a\u{fffd}b"]);
    }

    #[test]
    fn overwriting_after_carriage_return() {
        let (lines, _) = screen(&[b"12345\r ab\r\n"]);
        assert_eq!(lines, [" ab45"]);
    }

    #[test]
    fn output_past_the_limit_is_counted() {
        let mut s = Screen::new(10);
        s.feed(b"aaaa\nbbbb\ncccc\n");
        let (lines, dropped) = s.take();
        assert_eq!(lines, ["aaaa", "bbbb"]);
        assert_eq!(dropped, 5);
    }
}
