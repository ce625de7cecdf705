//! `-e/--extra-vars`: `key=value` pairs, an inline JSON/YAML mapping, or `@file.yml`.

use std::path::Path;

use crate::diagnostic::SourceError;
use crate::error::{Error, Result};
use crate::inventory::Vars;

/// Merges every `-e` argument, later ones winning.
pub fn parse_extra_vars(args: &[String]) -> Result<Vars> {
    let mut vars = Vars::new();
    for arg in args {
        vars.extend(parse_one(arg)?);
    }
    Ok(vars)
}

fn parse_one(arg: &str) -> Result<Vars> {
    if let Some(file) = arg.strip_prefix('@') {
        let path = Path::new(file);
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::io(path, "read extra vars", e))?;
        return mapping(path, &text);
    }
    let trimmed = arg.trim_start();
    if trimmed.starts_with('{') {
        return mapping(Path::new("<--extra-vars>"), arg);
    }
    let mut vars = Vars::new();
    for pair in shell_words(arg) {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(Error::Usage(format!(
                "--extra-vars `{pair}`: expected key=value, a JSON/YAML mapping, or @file.yml"
            )));
        };
        if key.is_empty() {
            return Err(Error::Usage(format!(
                "--extra-vars `{pair}`: the key is empty"
            )));
        }
        vars.insert(key.to_string(), value.into());
    }
    Ok(vars)
}

fn mapping(path: &Path, text: &str) -> Result<Vars> {
    let vars: Option<Vars> =
        serde_yaml::from_str(text).map_err(|e| SourceError::from_yaml(path, text, &e))?;
    Ok(vars.unwrap_or_default())
}

/// Splits `a=1 b='two words'` on unquoted spaces.
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut any = false;
    for c in text.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            (_, c) => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_and_mappings() {
        let v = parse_extra_vars(&["a=1 b='two words'".into(), r#"{"c": 3}"#.into()]).unwrap();
        assert_eq!(v["a"], "1");
        assert_eq!(v["b"], "two words");
        assert_eq!(v["c"], 3);
        assert!(parse_extra_vars(&["novalue".into()]).is_err());
    }
}
