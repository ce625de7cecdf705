//! `drover.toml`: the config file's keys in TOML. The file is flat (four keys, each a string
//! or a number), so drover reads the part of TOML such a file uses — `key = value` lines,
//! basic and literal strings, integers, booleans and comments — rather than carrying a TOML
//! library; anything else (tables, arrays, dates, multi-line strings) is an error at its
//! line and column that says what the file may hold.

use std::path::Path;

use serde_json::{Map, Value};

use crate::diagnostic::SourceError;

/// The file's keys and values, or an error at the offending place.
pub fn parse(path: &Path, source: &str, keys: &[&str]) -> Result<Map<String, Value>, SourceError> {
    let mut out = Map::new();
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        let at = |column: usize, message: String| {
            SourceError::at_offset(path, source, offset + column, message)
        };
        let text = line.trim_end_matches(['\n', '\r']);
        let body = text.trim_start();
        let indent = text.len() - body.len();
        if body.is_empty() || body.starts_with('#') {
            offset += line.len();
            continue;
        }
        if body.starts_with('[') {
            return Err(at(
                indent,
                "drover.toml has no tables: it holds `key = value` lines for inventory, \
                 concurrency, rate and state_dir"
                    .into(),
            ));
        }
        let Some(eq) = body.find('=') else {
            return Err(at(indent, "expected `key = value`".into()));
        };
        let key = body[..eq].trim();
        let key = key
            .strip_prefix('"')
            .and_then(|k| k.strip_suffix('"'))
            .unwrap_or(key);
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(at(
                indent,
                format!("`{key}` is not a key drover.toml can have"),
            ));
        }
        if !keys.contains(&key) {
            let hint = match crate::diagnostic::closest(key, keys.iter().copied()).first() {
                Some(k) => format!("did you mean `{k}`?"),
                None => format!("the keys are {}", keys.join(", ")),
            };
            return Err(at(indent, format!("unknown key `{key}` ({hint})")));
        }
        let value_start = indent + eq + 1;
        let raw = &text[value_start..];
        let lead = raw.len() - raw.trim_start().len();
        let (value, rest) = value(raw.trim_start())
            .map_err(|(column, message)| at(value_start + lead + column, message))?;
        let rest_trim = rest.trim_start();
        if !rest_trim.is_empty() && !rest_trim.starts_with('#') {
            let column = text.len() - rest_trim.len();
            return Err(at(
                column,
                "expected the end of the line or a `# comment`".into(),
            ));
        }
        if out.insert(key.to_string(), value).is_some() {
            return Err(at(indent, format!("`{key}` is set twice")));
        }
        offset += line.len();
    }
    Ok(out)
}

/// One value at the start of `text`, and what follows it; errors carry a column into `text`.
fn value(text: &str) -> Result<(Value, &str), (usize, String)> {
    let expected = "expected a string (\"…\" or '…'), a number, or true/false";
    if let Some(rest) = text
        .strip_prefix("'''")
        .or_else(|| text.strip_prefix("\"\"\""))
    {
        let _ = rest;
        return Err((
            0,
            "multi-line strings are not supported in drover.toml".into(),
        ));
    }
    if let Some(rest) = text.strip_prefix('\'') {
        let end = rest
            .find('\'')
            .ok_or((0, "this literal string has no closing `'`".to_string()))?;
        return Ok((Value::String(rest[..end].to_string()), &rest[end + 1..]));
    }
    if let Some(rest) = text.strip_prefix('"') {
        let mut s = String::new();
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return Ok((Value::String(s), &rest[i + 1..])),
                '\\' => match chars.next() {
                    Some((_, 'n')) => s.push('\n'),
                    Some((_, 't')) => s.push('\t'),
                    Some((_, '"')) => s.push('"'),
                    Some((_, '\\')) => s.push('\\'),
                    Some((j, other)) => {
                        return Err((
                            j + 1,
                            format!("`\\{other}` is not an escape drover.toml reads"),
                        ))
                    }
                    None => break,
                },
                c => s.push(c),
            }
        }
        return Err((0, "this string has no closing `\"`".into()));
    }
    let word_end = text
        .find(|c: char| c.is_whitespace() || c == '#')
        .unwrap_or(text.len());
    let (word, rest) = text.split_at(word_end);
    let value = match word {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => match word.replace('_', "").parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) if word.starts_with('[') || word.starts_with('{') => {
                return Err((
                    0,
                    format!("arrays and inline tables are not supported; {expected}"),
                ))
            }
            Err(_) => return Err((0, expected.to_string())),
        },
    };
    Ok((value, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(source: &str) -> Result<Map<String, Value>, String> {
        let keys = ["inventory", "concurrency", "rate", "state_dir"];
        parse(Path::new("drover.toml"), source, &keys).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_the_flat_keys_a_config_file_has() {
        let map = read(
            "# defaults\ninventory = \"inv/lab.yml\"  # the lab\nconcurrency = 50\nrate = '20/s'\n\n",
        )
        .unwrap();
        assert_eq!(map["inventory"], "inv/lab.yml");
        assert_eq!(map["concurrency"], 50);
        assert_eq!(map["rate"], "20/s");
    }

    #[test]
    fn what_it_does_not_read_is_an_error_at_its_place() {
        let cases = [
            ("[run]\n", "drover.toml:1:1", "has no tables"),
            (
                "rate = [1, 2]\n",
                "drover.toml:1:8",
                "arrays and inline tables",
            ),
            ("rate = \"20/s\n", "drover.toml:1:8", "no closing"),
            ("concurrency = 5 6\n", "drover.toml:1:17", "end of the line"),
            ("\nrate\n", "drover.toml:2:1", "expected `key = value`"),
            ("rate = 1\nrate = 2\n", "drover.toml:2:1", "set twice"),
            (
                "concurency = 2\n",
                "drover.toml:1:1",
                "did you mean `concurrency`?",
            ),
        ];
        for (source, at, message) in cases {
            let e = read(source).unwrap_err();
            assert!(e.contains(at) && e.contains(message), "{source:?}: {e}");
        }
    }
}
