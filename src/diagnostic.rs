//! Errors about a file the user wrote, drawn as `path:line:col` with the offending line, a
//! caret under the text and, where one is known, a hint. Every input error a user can make in
//! an inventory or a playbook ends here, so they all look alike.

use std::fmt;
use std::path::{Path, PathBuf};

/// An error at a position in a user's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    pub path: PathBuf,
    /// 1-based line and column; 0 when the position is unknown.
    pub line: usize,
    pub column: usize,
    /// The text of the offending line, without its newline.
    pub text: String,
    /// How many characters the caret covers.
    pub width: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl SourceError {
    /// An error at a byte offset of `source`.
    pub fn at_offset(path: &Path, source: &str, offset: usize, message: String) -> SourceError {
        let offset = floor_char_boundary(source, offset.min(source.len()));
        let line_start = source[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[offset..]
            .find('\n')
            .map_or(source.len(), |i| offset + i);
        let text = source[line_start..line_end]
            .trim_end_matches('\r')
            .to_string();
        let line = source[..offset].matches('\n').count() + 1;
        let column = source[line_start..offset].chars().count() + 1;
        let width = token_width(&source[offset..line_end]);
        SourceError {
            path: path.to_path_buf(),
            line,
            column,
            text,
            width,
            message,
            hint: None,
        }
    }

    /// An error about a whole file, with no position in it.
    pub fn whole_file(path: &Path, message: String) -> SourceError {
        SourceError {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            text: String::new(),
            width: 0,
            message,
            hint: None,
        }
    }

    /// Turns a YAML (or serde) error into a positioned one. serde reports custom errors at
    /// the mapping that holds the bad value; `needle`, when the message carries one, moves
    /// the caret onto the offending text itself.
    pub fn from_yaml(path: &Path, source: &str, err: &serde_yaml::Error) -> SourceError {
        let raw = err.to_string();
        let message = strip_yaml_decorations(&raw);
        let (message, needle) = split_needle(&message);
        let Some(location) = err.location() else {
            return SourceError::whole_file(path, message);
        };
        let mut offset = location.index();
        if let Some(needle) = needle.as_deref() {
            if let Some(found) = source[offset.min(source.len())..].find(needle) {
                offset += found;
            }
        }
        let mut error = SourceError::at_offset(path, source, offset, message);
        error.hint = hint_for(&error.message);
        if let Some(needle) = needle {
            let first_line = needle.lines().next().unwrap_or("");
            if error.text.contains(first_line) && !first_line.is_empty() {
                error.width = first_line.chars().count();
            }
        }
        error
    }

    pub fn with_hint(mut self, hint: Option<String>) -> SourceError {
        if hint.is_some() {
            self.hint = hint;
        }
        self
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.message)?;
        if self.line == 0 {
            write!(f, "  --> {}", self.path.display())?;
        } else {
            let gutter = self.line.to_string().len();
            let pad = " ".repeat(gutter);
            writeln!(
                f,
                "{pad}--> {}:{}:{}",
                self.path.display(),
                self.line,
                self.column
            )?;
            writeln!(f, "{pad} |")?;
            let (shown, before) = quoted(&self.text, self.column.saturating_sub(1));
            writeln!(f, "{} | {}", self.line, shown)?;
            let lead: String = shown
                .chars()
                .take(before)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let room = shown.chars().count().saturating_sub(before).max(1);
            write!(f, "{pad} | {lead}{}", "^".repeat(self.width.clamp(1, room)))?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  = hint: {hint}")?;
        }
        Ok(())
    }
}

/// The most characters of a source line an error quotes (a minified JSON file is one line).
const QUOTE_CHARS: usize = 100;

/// The part of `line` an error shows, and how many of its characters come before the caret
/// (`column` characters into `line`): at most [`QUOTE_CHARS`] around the caret, with the
/// values of secret-named keys (`password: …`, `"api_token":"…"`) as stars.
fn quoted(line: &str, column: usize) -> (String, usize) {
    let (masked, column) = mask_secret_values(line, column);
    let chars: Vec<char> = masked.chars().collect();
    if chars.len() <= QUOTE_CHARS {
        return (masked, column);
    }
    let start = column.saturating_sub(QUOTE_CHARS / 3).min(chars.len());
    let end = (start + QUOTE_CHARS).min(chars.len());
    let mut shown = String::new();
    let mut before = column - start;
    if start > 0 {
        shown.push('…');
        before += 1;
    }
    shown.extend(&chars[start..end]);
    if end < chars.len() {
        shown.push('…');
    }
    (shown, before)
}

/// Replaces the values of secret-named keys with stars, moving `column` (in characters) with
/// the text.
fn mask_secret_values(line: &str, column: usize) -> (String, usize) {
    static PATTERN: std::sync::OnceLock<regex_lite::Regex> = std::sync::OnceLock::new();
    let re = PATTERN.get_or_init(|| {
        regex_lite::Regex::new(
            r#"(?i)(?:pass|secret|token|private_key|api_key|credential)[a-z0-9_]*["']?\s*[:=]\s*("(?:[^"\\]|\\.)*"|'[^']*'|[^\s,}\]#]+)"#,
        )
        .expect("valid pattern")
    });
    let mut out = String::new();
    // Where the caret goes in the masked text: its column, moved by every value before it.
    let mut moved = column;
    let mut last = 0;
    for caps in re.captures_iter(line) {
        let Some(value) = caps.get(1) else { continue };
        out.push_str(&line[last..value.start()]);
        let value_start = line[..value.start()].chars().count();
        let value_chars = value.as_str().chars().count();
        if column >= value_start + value_chars {
            moved = moved + 8 - value_chars;
        } else if column > value_start {
            moved = moved + value_start - column;
        }
        out.push_str("********");
        last = value.end();
    }
    out.push_str(&line[last..]);
    (out, moved)
}

/// Marks the text a custom deserialization error is about, so `from_yaml` can point at it.
/// The marker travels inside the error message because serde errors carry only a string.
pub fn with_needle(message: impl fmt::Display, needle: &str) -> String {
    format!("{message}\u{1}{needle}\u{1}")
}

fn split_needle(message: &str) -> (String, Option<String>) {
    match (message.find('\u{1}'), message.rfind('\u{1}')) {
        (Some(a), Some(b)) if a < b => {
            let needle = message[a + 1..b].to_string();
            let rest = format!("{}{}", &message[..a], &message[b + 1..]);
            (rest, Some(needle))
        }
        _ => (message.to_string(), None),
    }
}

/// serde_yaml renders `.[0].tasks: message at line 3 column 5`; the position is drawn
/// separately, so keep only the message.
fn strip_yaml_decorations(raw: &str) -> String {
    let mut message = raw.to_string();
    if let Some(i) = message.rfind(" at line ") {
        if message[i..].contains(" column ") {
            message.truncate(i);
        }
    }
    // The serde path (`.[0].tasks`, `hosts.r1`): one word before the first `: `.
    if let Some(i) = message.find(": ") {
        if !message[..i].contains(char::is_whitespace) && !message[..i].contains('`') {
            message = message[i + 2..].to_string();
        }
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        message = format!("unknown key {rest}");
    }
    message
}

/// "did you mean" for serde's `unknown field `x`, expected one of `a`, `b``.
fn hint_for(message: &str) -> Option<String> {
    let (kind, rest) = if let Some(rest) = message.strip_prefix("unknown key `") {
        ("key", rest)
    } else if let Some(rest) = message.strip_prefix("unknown variant `") {
        ("value", rest)
    } else {
        return None;
    };
    let (bad, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    let best = closest(bad, expected.iter().copied()).into_iter().next()?;
    Some(format!("did you mean the {kind} `{best}`?"))
}

/// Names from `candidates` close to `word` (edit distance, then prefix), best first.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    let lower = word.to_lowercase();
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter_map(|c| {
            let d = edit_distance(&lower, &c.to_lowercase());
            let prefix =
                c.to_lowercase().starts_with(&lower) || lower.starts_with(&c.to_lowercase());
            if d <= limit {
                Some((d, c))
            } else if prefix && !lower.is_empty() {
                Some((limit + 1, c))
            } else {
                None
            }
        })
        .collect();
    scored.sort();
    scored.dedup();
    scored.into_iter().map(|(_, c)| c).take(3).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

fn token_width(rest: &str) -> usize {
    let rest = rest.trim_end_matches('\r');
    let end = rest
        .char_indices()
        .find(|&(_, c)| c == ':' || c == ',' || c == ']' || c == '}' || c.is_whitespace())
        .map_or(rest.len(), |(i, _)| i);
    rest[..end].chars().count().max(1)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_prefers_small_edits() {
        let names = ["batch_size", "concurrency", "strategy"];
        assert_eq!(closest("batch_sise", names), vec!["batch_size"]);
        assert!(closest("zzzzzz", names).is_empty());
    }

    #[test]
    fn draws_line_and_caret() {
        let src = "a: 1\nbatch_sise: 3\n";
        let e = SourceError::at_offset(Path::new("p.yml"), src, 5, "unknown key".into());
        assert_eq!((e.line, e.column, e.width), (2, 1, 10));
        let text = e.to_string();
        assert!(text.contains("--> p.yml:2:1"), "{text}");
        assert!(text.contains("2 | batch_sise: 3"), "{text}");
        assert!(text.contains("^^^^^^^^^^"), "{text}");
    }

    #[test]
    fn a_long_line_is_quoted_around_the_caret_only() {
        let src = format!("{{\"a\": [{}], \"b\": oops}}", "1,".repeat(5000));
        let at = src.find("oops").unwrap();
        let e = SourceError::at_offset(Path::new("i.json"), &src, at, "bad".into());
        let text = e.to_string();
        let quoted = text.lines().find(|l| l.starts_with("1 | ")).unwrap();
        assert!(quoted.chars().count() < 120, "{quoted}");
        assert!(quoted.contains("oops"), "{quoted}");
        let caret = text.lines().find(|l| l.contains('^')).unwrap();
        let col = |l: &str| l.chars().position(|c| c == '^' || c == 'o').unwrap();
        assert_eq!(
            col(caret),
            quoted
                .find("oops")
                .map(|i| quoted[..i].chars().count())
                .unwrap()
        );
    }

    #[test]
    fn secret_values_on_the_quoted_line_are_masked() {
        let src = "hosts: {r1: {ansible_password: hunter2, \"api_token\": \"s3cr3t\", port: x}}";
        let at = src.find("x}").unwrap();
        let e = SourceError::at_offset(Path::new("i.yml"), src, at, "bad port".into());
        let text = e.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("s3cr3t"),
            "{text}"
        );
        assert!(text.contains("ansible_password: ********"), "{text}");
        let quoted = text.lines().find(|l| l.starts_with("1 | ")).unwrap();
        let caret = text.lines().find(|l| l.contains('^')).unwrap();
        assert_eq!(caret.find('^'), quoted.find("x}"), "{text}");
    }

    #[test]
    fn needle_round_trips() {
        let m = with_needle("bad template", "{{ a");
        assert_eq!(
            split_needle(&m),
            ("bad template".to_string(), Some("{{ a".to_string()))
        );
    }
}
