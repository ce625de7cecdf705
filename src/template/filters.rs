//! The filters and tests Ansible users reach for when they read a device's output:
//! `regex_search`, `regex_findall`, `regex_replace`, `from_json`, `from_yaml`, `to_json`, the
//! `version` test (`facts.version is version('17.3', '>=')`) and the `match` (anchored at the
//! start) and `search` tests. They behave as Ansible's
//! do; where Python's regex syntax differs from Rust's (`\1` and `\g<name>` in a
//! replacement), the Python form is translated.

use minijinja::value::{Kwargs, Rest};
use minijinja::{Environment, Error, ErrorKind, Value};

pub fn add(env: &mut Environment<'static>) {
    env.add_filter("regex_search", regex_search);
    env.add_filter("regex_findall", regex_findall);
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("from_json", from_json);
    env.add_filter("from_yaml", from_yaml);
    env.add_filter("to_json", to_json);
    env.add_test("version", version_test);
    env.add_test("match", match_test);
    env.add_test("search", search_test);
    env.add_test("regex", search_test);
    env.add_filter("version_compare", version_test);
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

/// A regex with Ansible's `ignorecase` and `multiline` keyword flags.
fn compile(pattern: &str, kwargs: &Kwargs) -> Result<regex::Regex, Error> {
    let ignorecase: Option<bool> = kwargs.get("ignorecase")?;
    let multiline: Option<bool> = kwargs.get("multiline")?;
    kwargs.assert_all_used()?;
    regex::RegexBuilder::new(pattern)
        .case_insensitive(ignorecase.unwrap_or(false))
        .multi_line(multiline.unwrap_or(false))
        .build()
        .map_err(|e| {
            let text = e
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            invalid(format!(
                "`{pattern}` is not a valid regular expression: {text}"
            ))
        })
}

/// The first match, or with group arguments (`'\\1'`, `'\\g<name>'`) the list of those
/// groups; none when nothing matches.
fn regex_search(
    value: String,
    pattern: String,
    groups: Rest<String>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let re = compile(&pattern, &kwargs)?;
    let Some(caps) = re.captures(&value) else {
        return Ok(Value::from(()));
    };
    if groups.0.is_empty() {
        return Ok(Value::from(&caps[0]));
    }
    let mut out = Vec::new();
    for g in &groups.0 {
        let m = if let Some(n) = g.strip_prefix('\\').and_then(|n| n.parse::<usize>().ok()) {
            caps.get(n)
        } else if let Some(name) = g.strip_prefix("\\g<").and_then(|n| n.strip_suffix('>')) {
            caps.name(name)
        } else {
            return Err(invalid(format!(
                "regex_search: `{g}` is not a group reference such as '\\1' or '\\g<name>'"
            )));
        };
        out.push(m.map_or(Value::from(()), |m| Value::from(m.as_str())));
    }
    Ok(Value::from(out))
}

/// Every match; with one group, that group of each; with several, a list per match.
fn regex_findall(value: String, pattern: String, kwargs: Kwargs) -> Result<Value, Error> {
    let re = compile(&pattern, &kwargs)?;
    let groups = re.captures_len() - 1;
    let out: Vec<Value> = re
        .captures_iter(&value)
        .map(|caps| {
            let text = |i: usize| Value::from(caps.get(i).map_or("", |m| m.as_str()));
            match groups {
                0 => text(0),
                1 => text(1),
                n => Value::from((1..=n).map(text).collect::<Vec<_>>()),
            }
        })
        .collect();
    Ok(Value::from(out))
}

/// Every match replaced; `\1` and `\g<name>` in the replacement are groups, as in Python.
fn regex_replace(
    value: String,
    pattern: Option<String>,
    replacement: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let re = compile(pattern.as_deref().unwrap_or(""), &kwargs)?;
    let replacement = python_replacement(replacement.as_deref().unwrap_or(""));
    Ok(re.replace_all(&value, replacement.as_str()).into_owned())
}

/// Python's `\1`, `\g<1>` and `\g<name>` as Rust's `${1}` and `${name}`; a `$` stays literal.
fn python_replacement(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => {
                let rest = &text[i + 1..];
                let digits = rest.chars().take_while(char::is_ascii_digit).count();
                if digits > 0 {
                    out.push_str(&format!("${{{}}}", &rest[..digits]));
                    for _ in 0..digits {
                        chars.next();
                    }
                } else if let Some(end) = rest.strip_prefix("g<").and_then(|r| r.find('>')) {
                    out.push_str(&format!("${{{}}}", &rest[2..2 + end]));
                    for _ in 0..end + 3 {
                        chars.next();
                    }
                } else if let Some((_, next)) = chars.next() {
                    match next {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        '\\' => out.push('\\'),
                        other => {
                            out.push('\\');
                            out.push(other);
                        }
                    }
                } else {
                    out.push('\\');
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// `x is match('^\\d+$')`: the pattern matches at the start of the value.
fn match_test(value: String, pattern: String, kwargs: Kwargs) -> Result<bool, Error> {
    let re = compile(&format!("^(?:{pattern})"), &kwargs)?;
    Ok(re.is_match(&value))
}

/// `x is search('Established')`: the pattern matches anywhere in the value.
fn search_test(value: String, pattern: String, kwargs: Kwargs) -> Result<bool, Error> {
    Ok(compile(&pattern, &kwargs)?.is_match(&value))
}

fn from_json(value: String) -> Result<Value, Error> {
    serde_json::from_str::<serde_json::Value>(&value)
        .map(super::to_value)
        .map_err(|e| invalid(format!("from_json: not JSON: {e}")))
}

fn from_yaml(value: String) -> Result<Value, Error> {
    serde_yaml::from_str::<serde_json::Value>(&value)
        .map(super::to_value)
        .map_err(|e| invalid(format!("from_yaml: not YAML: {e}")))
}

fn to_json(value: Value) -> Result<String, Error> {
    serde_json::to_string(&value).map_err(|e| invalid(format!("to_json: {e}")))
}

/// `a is version(b, op)`: Ansible's loose version comparison. Numbers compare as numbers,
/// letters as text (case-insensitively), and anything else separates parts, so `17.3.4a`,
/// `16.09.04` and `15.2(4)M3` all compare as a network engineer reads them.
fn version_test(value: Value, other: Value, op: Option<String>) -> Result<bool, Error> {
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    let (a, b) = (text(&value), text(&other));
    let ordering = compare_versions(&a, &b);
    use std::cmp::Ordering::{Equal, Greater, Less};
    let op = op.unwrap_or_else(|| "==".into());
    Ok(match op.as_str() {
        "<" | "lt" => ordering == Less,
        "<=" | "le" => ordering != Greater,
        ">" | "gt" => ordering == Greater,
        ">=" | "ge" => ordering != Less,
        "==" | "=" | "eq" => ordering == Equal,
        "!=" | "<>" | "ne" => ordering != Equal,
        other => {
            return Err(invalid(format!(
                "version: `{other}` is not a comparison (expected <, <=, >, >=, ==, != or lt, le, gt, ge, eq, ne)"
            )))
        }
    })
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    // Declared first, so text ranks below a number in the same place (`1.0rc1` < `1.0.1`).
    Text(String),
    Number(u64),
}

fn parts(version: &str) -> Vec<Part> {
    let mut out = Vec::new();
    let mut chars = version.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut n: u64 = 0;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                n = n.saturating_mul(10).saturating_add(u64::from(d));
                chars.next();
            }
            out.push(Part::Number(n));
        } else if c.is_alphabetic() {
            let mut s = String::new();
            while let Some(&c) = chars.peek().filter(|c| c.is_alphabetic()) {
                s.extend(c.to_lowercase());
                chars.next();
            }
            out.push(Part::Text(s));
        } else {
            chars.next();
        }
    }
    out
}

pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    parts(a).cmp(&parts(b))
}

#[cfg(test)]
mod tests {
    use super::super::environment;
    use super::*;
    use std::cmp::Ordering::*;

    fn eval(expr: &str) -> String {
        let env = environment();
        let t = env.template_from_str(expr).unwrap();
        t.render(minijinja::context! {
            out => "Cisco IOS XE Software, Version 17.03.04a\nuptime is 5 weeks",
        })
        .unwrap()
    }

    #[test]
    fn versions_compare_as_engineers_read_them() {
        assert_eq!(compare_versions("17.3.4a", "17.3"), Greater);
        assert_eq!(compare_versions("16.09.04", "16.9.4"), Equal);
        assert_eq!(compare_versions("15.2(4)M3", "15.2(4)M10"), Less);
        assert_eq!(compare_versions("1.0rc1", "1.0.1"), Less);
        assert_eq!(compare_versions("4.22.1F", "4.3"), Greater);
    }

    #[test]
    fn version_test_and_operators() {
        assert_eq!(eval("{{ '17.3.4' is version('17.3', '>=') }}"), "True");
        assert_eq!(eval("{{ '16.12' is version('17.3', 'ge') }}"), "False");
        assert_eq!(eval("{{ '17.3' is version('17.03') }}"), "True");
        let env = environment();
        let t = env
            .template_from_str("{{ '1' is version('2', '~') }}")
            .unwrap();
        assert!(t.render(()).is_err());
    }

    #[test]
    fn regex_filters() {
        assert_eq!(
            eval(r"{{ out | regex_search('Version (\\S+)', '\\1') | first }}"),
            "17.03.04a"
        );
        assert_eq!(
            eval(r"{{ out | regex_search('Version \\S+') }}"),
            "Version 17.03.04a"
        );
        assert_eq!(eval(r"{{ out | regex_search('nothing') is none }}"), "True");
        assert_eq!(
            eval(r"{{ out | regex_search('(?P<n>\\d+) weeks', '\\g<n>') | to_json }}"),
            r#"["5"]"#
        );
        assert_eq!(
            eval(r"{{ 'a1 b2 c3' | regex_findall('[a-z](\\d)') | to_json }}"),
            r#"["1","2","3"]"#
        );
        assert_eq!(
            eval(r"{{ 'a1 b2' | regex_findall('([a-z])(\\d)') | to_json }}"),
            r#"[["a","1"],["b","2"]]"#
        );
        assert_eq!(
            eval(r"{{ 'Gi0/1 Gi0/2' | regex_replace('Gi(\\S+)', 'GigabitEthernet\\1') }}"),
            "GigabitEthernet0/1 GigabitEthernet0/2"
        );
        assert_eq!(eval(r"{{ 'a' | regex_replace('a', '$1') }}"), "$1");
        assert_eq!(
            eval(r"{{ 'ABC' | regex_search('b', ignorecase=true) }}"),
            "B"
        );
    }

    #[test]
    fn match_and_search_tests() {
        assert_eq!(eval(r"{{ '931' is match('\\d+$') }}"), "True");
        assert_eq!(eval(r"{{ 'x931' is match('\\d+') }}"), "False");
        assert_eq!(eval(r"{{ 'x931' is search('\\d+') }}"), "True");
        assert_eq!(
            eval(r"{{ ['1', 'Idle', '2'] | reject('match', '\\d+$') | list | length }}"),
            "1"
        );
    }

    #[test]
    fn json_and_yaml_filters() {
        assert_eq!(eval(r#"{{ ('{"a": [1, 2]}' | from_json).a[1] }}"#), "2");
        assert_eq!(eval("{{ ('a: {b: x}' | from_yaml).a.b }}"), "x");
        assert_eq!(eval("{{ {'a': [1]} | to_json }}"), r#"{"a":[1]}"#);
    }
}
