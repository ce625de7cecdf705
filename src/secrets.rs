//! Which values are secret, and masking them in whatever drover prints or writes.
//!
//! A value is secret when the variable holding it is named like a secret (at any depth: a
//! jump host's `password`, `snmp.auth_password`), when a play lists it under `secret:`, or
//! when it came from a secret reference (`lookup('env'|'file'|'pipe', …)`, see
//! `template::lookup`). What is masked in output is those values (strings and numbers) and
//! their simple transforms (upper and lower case), what templates made of them (see
//! [`shadow`]), never whatever merely equals a value of a variable that is not secret
//! (`token_ttl: 3600` is not a secret, so "3600" stays).

pub mod shadow;

use serde_json::Value;

/// What a masked value is shown as.
pub const STARS: &str = "********";

/// Shorter values are not masked: masking every "ab" would garble all output.
const MIN_LEN: usize = 3;

/// Words that make any name containing them a secret's.
const ALWAYS: [&str; 7] = [
    "password",
    "passwd",
    "passphrase",
    "secret",
    "private_key",
    "api_key",
    "credential",
];

/// Words that make a name a secret's when they are its last part (`api_token`,
/// `ansible_ssh_pass`, but not `token_ttl`).
const LAST: [&str; 5] = ["pass", "token", "pw", "pwd", "apikey"];

/// Variable names whose values are secret.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ALWAYS.iter().any(|w| n.contains(w))
        || n.rsplit(['_', '-', '.'])
            .next()
            .is_some_and(|last| LAST.contains(&last))
}

/// Whether a free text (a command-line argument, a JSON mapping) mentions a secret-like
/// word anywhere: broader than [`is_secret_name`], for text whose keys are not parsed.
pub fn looks_secret(text: &str) -> bool {
    let n = text.to_ascii_lowercase();
    ALWAYS.iter().chain(&LAST).any(|w| n.contains(w))
}

/// A value as listings show it: secret-named values, also inside maps and lists, as stars;
/// `secret` says the value is secret whatever its name.
pub fn mask_json(key: &str, value: &Value, secret: bool) -> Value {
    mask_named(value, secret || is_secret_name(key))
}

/// [`mask_json`] once the name is judged: a list's items share it, so it is judged once.
fn mask_named(value: &Value, secret: bool) -> Value {
    match value {
        Value::Null => Value::Null,
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), mask_json(k, v, secret)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| mask_named(v, secret)).collect()),
        _ if secret => Value::String(STARS.to_string()),
        other => other.clone(),
    }
}

/// Adds the secret values under `key` (at any depth) to `out`; `secret` says the value is
/// secret whatever its name.
pub fn collect(key: &str, value: &Value, secret: bool, out: &mut Vec<String>) {
    collect_named(value, secret || is_secret_name(key), out);
}

/// [`collect`] once the name is judged (a list's items share it).
fn collect_named(value: &Value, secret: bool, out: &mut Vec<String>) {
    match value {
        Value::String(s) if secret => add(s, out),
        Value::Number(n) if secret => add(&n.to_string(), out),
        Value::Object(map) => {
            for (k, v) in map {
                collect(k, v, secret, out);
            }
        }
        Value::Array(items) => {
            for v in items {
                collect_named(v, secret, out);
            }
        }
        _ => {}
    }
}

/// Adds one secret value and its simple transforms.
pub fn add(value: &str, out: &mut Vec<String>) {
    if value.chars().count() < MIN_LEN {
        return;
    }
    for v in [
        value.to_string(),
        value.to_uppercase(),
        value.to_lowercase(),
    ] {
        if !out.contains(&v) {
            out.push(v);
        }
    }
}

/// What `no_log` shows instead of a task's command, output and error.
pub const HIDDEN: &str = "(hidden: no_log)";

/// Hides a `no_log` task's command, output and error (and its loop items').
pub fn hide(result: &mut crate::outcome::TaskResult) {
    for text in [&mut result.command, &mut result.stdout, &mut result.stderr] {
        if !text.is_empty() {
            *text = HIDDEN.to_string();
        }
    }
    if let Some(error) = &mut result.error {
        error.message = HIDDEN.to_string();
    }
    result.parsed = None;
    for line in &mut result.lines {
        line.line = HIDDEN.to_string();
        line.response = HIDDEN.to_string();
    }
    for item in &mut result.items {
        hide(item);
    }
}

/// `text` with every secret value as stars, the longest first (so a secret that contains
/// another is masked whole).
pub fn mask<'a>(text: &str, secrets: impl IntoIterator<Item = &'a String>) -> String {
    let mut list: Vec<&String> = secrets.into_iter().collect();
    list.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for secret in list {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), STARS);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_that_are_secrets_and_names_that_are_not() {
        for name in [
            "ansible_password",
            "ansible_ssh_pass",
            "enable_secret",
            "api_token",
            "api_key",
            "auth_password",
            "ansible_become_password",
            "db_pw",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["token_ttl", "passive", "port", "user", "compass_heading"] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn nested_and_numeric_secrets_are_collected_and_a_ttl_is_not() {
        let mut out = Vec::new();
        let vars = json!({"snmp": {"auth_password": "authpw1"}, "enable_secret": 98765, "token_ttl": "3600"});
        for (k, v) in vars.as_object().unwrap() {
            collect(k, v, false, &mut out);
        }
        assert!(out.contains(&"authpw1".to_string()));
        assert!(out.contains(&"AUTHPW1".to_string()));
        assert!(out.contains(&"98765".to_string()));
        assert!(!out.contains(&"3600".to_string()));
        assert_eq!(mask("ttl 3600, pw AUTHPW1", &out), "ttl 3600, pw ********");
    }

    #[test]
    fn a_listing_masks_at_any_depth() {
        let v = json!({"auth_password": "x", "level": 3, "keys": [{"password": "y"}]});
        assert_eq!(
            mask_json("snmp", &v, false),
            json!({"auth_password": STARS, "level": 3, "keys": [{"password": STARS}]})
        );
        assert_eq!(mask_json("token_ttl", &json!("3600"), false), json!("3600"));
        assert_eq!(mask_json("x", &json!(1234), true), json!(STARS));
    }
}
