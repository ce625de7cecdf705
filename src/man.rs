//! Man pages from the clap definitions: clap_mangen renders the title, NAME, SYNOPSIS,
//! DESCRIPTION, OPTIONS and COMMANDS; the examples and exit codes that `--help` shows after
//! the options become proper EXAMPLES and EXIT STATUS sections (examples unfilled, so no
//! reflowing or hyphenation), and the result is tidied until `mandoc -T lint` has nothing
//! to say: an upper-case title with a parseable date, no trailing blanks, no `.br` around
//! blank lines, and no input line longer than 80 bytes.

use clap::Command;

/// The date on every page: the last time the pages changed in substance. Bump it with the
/// version (a generated date would make the checked-in pages stale every day).
const DATE: &str = "2026-12-01";

/// Longest example line before it is continued with ` \` on the next.
const EXAMPLE_WIDTH: usize = 72;

/// The pages: `drover.1` and one per visible subcommand, as (file name, contents).
pub fn pages(root: Command) -> Vec<(String, Vec<u8>)> {
    let mut root = root.disable_help_subcommand(true);
    root.build();
    let mut pages = Vec::new();
    for sub in root.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages.push(page(sub.clone()));
    }
    pages.insert(0, page(root));
    pages
}

fn page(cmd: Command) -> (String, Vec<u8>) {
    let name = cmd
        .get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_string();
    let version = cmd.get_version().unwrap_or_default().to_string();
    let after = cmd
        .get_after_help()
        .map(|h| h.to_string())
        .unwrap_or_default();
    let subcommands = cmd.get_subcommands().any(|s| !s.is_hide_set());
    let man = clap_mangen::Man::new(cmd.clone().after_help(None::<&str>))
        .title(name.to_uppercase())
        .date(DATE)
        .source(format!("drover {version}"))
        .manual("drover manual");
    let mut out: Vec<u8> = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = man.render_title(&mut out);
    // Ragged right and no hyphenation: a reader copies flag names out of these pages.
    out.extend_from_slice(b".ad l\n.nh\n");
    let _ = man.render_name_section(&mut out);
    let _ = man.render_synopsis_section(&mut out);
    let _ = man.render_description_section(&mut out);
    let _ = man.render_options_section(&mut out);
    if subcommands {
        let _ = man.render_subcommands_section(&mut out);
    }
    let mut roff = String::from_utf8_lossy(&out).into_owned();
    let (examples, exit_codes, notes) = split_after_help(&after);
    if !notes.is_empty() {
        roff.push_str(".SH NOTES\n");
        for (i, paragraph) in notes.iter().enumerate() {
            // A paragraph break right after the heading is one too many.
            if i > 0 {
                roff.push_str(".PP\n");
            }
            roff.push_str(&escape(paragraph));
            roff.push('\n');
        }
    }
    if !examples.is_empty() {
        roff.push_str(".SH EXAMPLES\n.RS 4\n.nf\n");
        for example in &examples {
            for line in continued(example) {
                roff.push_str(&escape(&line));
                roff.push('\n');
            }
        }
        roff.push_str(".fi\n.RE\n");
    }
    if !exit_codes.is_empty() {
        roff.push_str(".SH EXIT STATUS\n");
        for (code, meaning) in &exit_codes {
            roff.push_str(&format!(".TP\n.B {code}\n{}\n", escape(meaning)));
        }
    }
    if name != "drover" {
        roff.push_str(".SH SEE ALSO\n.BR drover (1)\n");
    }
    (format!("{name}.1"), tidy(&roff).into_bytes())
}

/// The paragraphs after the options in `--help`: the `Examples:` lines, the `Exit codes:`
/// table, and any other paragraph.
#[allow(clippy::type_complexity)]
fn split_after_help(text: &str) -> (Vec<String>, Vec<(String, String)>, Vec<String>) {
    let (mut examples, mut codes, mut notes) = (Vec::new(), Vec::new(), Vec::new());
    for paragraph in text.split("\n\n") {
        let mut lines = paragraph.lines();
        match lines.next().map(str::trim) {
            Some("Examples:") => examples.extend(lines.map(|l| l.trim().to_string())),
            Some("Exit codes:") => {
                for line in lines {
                    let line = line.trim();
                    if let Some((code, meaning)) = line.split_once(char::is_whitespace) {
                        codes.push((code.to_string(), meaning.trim().to_string()));
                    }
                }
            }
            Some(first) if !first.is_empty() => {
                let rest: Vec<&str> = lines.map(str::trim).collect();
                notes.push(
                    std::iter::once(first)
                        .chain(rest)
                        .collect::<Vec<_>>()
                        .join(" "),
                );
            }
            _ => {}
        }
    }
    (examples, codes, notes)
}

/// A shell command cut at spaces outside quotes into lines of at most [`EXAMPLE_WIDTH`],
/// each but the last ending in ` \`, the rest indented: still a command one can paste.
fn continued(command: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let flush_word = |current: &mut String, word: &mut String, lines: &mut Vec<String>| {
        if !current.is_empty()
            && current.chars().count() + 1 + word.chars().count() + 2 > EXAMPLE_WIDTH
        {
            lines.push(format!("{current} \\"));
            *current = "    ".to_string();
        } else if !current.is_empty() && current != "    " {
            current.push(' ');
        }
        current.push_str(word);
        word.clear();
    };
    for c in command.chars() {
        match (c, quote) {
            (' ', None) => {
                if !word.is_empty() {
                    flush_word(&mut current, &mut word, &mut lines);
                }
            }
            ('\'' | '"', None) => {
                quote = Some(c);
                word.push(c);
            }
            (q, Some(open)) if q == open => {
                quote = None;
                word.push(c);
            }
            _ => word.push(c),
        }
    }
    if !word.is_empty() {
        flush_word(&mut current, &mut word, &mut lines);
    }
    lines.push(current);
    lines
}

/// Text for a roff text line: backslashes, dashes and quotes as roff wants them, and no
/// line starting with a control character.
fn escape(text: &str) -> String {
    let mut out = text
        .replace('\\', "\\e")
        .replace('-', "\\-")
        .replace('\'', "\\(aq");
    if out.starts_with('.') {
        out.insert_str(0, "\\&");
    }
    out
}

/// What mandoc's lint asks for: no `.br` around a blank line (one `.sp` says it), no
/// trailing blanks, and text lines refilled to at most 80 bytes (in fill mode a line break
/// is a space, so this changes nothing on the page).
fn tidy(roff: &str) -> String {
    let roff = roff.replace("\n.br\n\n.br\n", "\n.sp\n");
    let mut out = String::with_capacity(roff.len());
    let mut filling = true;
    let mut seen_preamble = false;
    for line in roff.lines() {
        let line = line.trim_end();
        // clap_mangen repeats its `Aq` string definition before every section it renders.
        if line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq") {
            if seen_preamble && line.starts_with(".el") {
                continue;
            }
            if line.starts_with(".el") {
                seen_preamble = true;
            } else if seen_preamble {
                continue;
            }
        }
        match line {
            ".nf" => filling = false,
            ".fi" => filling = true,
            _ => {}
        }
        if filling && !line.starts_with(['.', '\'']) && line.len() > 80 {
            for part in refill(line, 80) {
                out.push_str(&part);
                out.push('\n');
            }
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Breaks a text line at spaces (not escaped ones) into lines of at most `max` bytes where it
/// can; a line never starts with `.` or `'`, which would make it a request.
fn refill(line: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut words = line.split(' ').peekable();
    while let Some(word) = words.next() {
        let mut word = word.to_string();
        // `\ ` is an unbreakable space: keep the next word glued.
        while word.ends_with('\\') && !word.ends_with("\\\\") {
            match words.next() {
                Some(next) => {
                    word.push(' ');
                    word.push_str(next);
                }
                None => break,
            }
        }
        let starts_request = word.starts_with(['.', '\'']);
        if !current.is_empty() && current.len() + 1 + word.len() > max && !starts_request {
            parts.push(std::mem::take(&mut current));
        } else if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_examples_are_continued_outside_quotes() {
        let lines = continued(
            "drover run site.yml -i inv.yml --junit junit.xml --events - | jq -c 'select(.event==\"host finished\")'",
        );
        assert!(
            lines.iter().all(|l| l.chars().count() <= EXAMPLE_WIDTH),
            "{lines:?}"
        );
        assert!(lines[0].ends_with(" \\"), "{lines:?}");
        assert!(lines[1].starts_with("    "), "{lines:?}");
        let joined = lines.join("\n").replace(" \\\n    ", " ");
        assert_eq!(
            joined,
            "drover run site.yml -i inv.yml --junit junit.xml --events - | jq -c 'select(.event==\"host finished\")'"
        );
    }

    #[test]
    fn refilled_lines_fit_and_never_start_a_request() {
        let line = format!(
            "{}.not-a-request {}",
            "word ".repeat(15),
            "more ".repeat(20)
        );
        let line = line.trim();
        let parts = refill(line, 80);
        assert!(parts.len() > 1, "{parts:?}");
        assert_eq!(parts.join(" "), line);
        for part in &parts {
            assert!(!part.starts_with('.'), "{part}");
        }
        // Where it may break, it fits.
        assert!(parts[1..].iter().all(|p| p.len() <= 80), "{parts:?}");
        let glued = refill(&format!("{}a\\ b", "x ".repeat(39)), 80);
        assert!(glued.iter().any(|p| p.contains("a\\ b")), "{glued:?}");
    }
}
