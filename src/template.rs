//! The minijinja environment: strict about undefined variables, with a `quote` filter for
//! shell-safe quoting and the output-reading filters of [`filters`]. Task templates are added
//! once per task and rendered once per host.

mod filters;

use std::collections::HashSet;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::{Environment, UndefinedBehavior, Value};

/// A fresh environment with drover's filters and strict undefined variables.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_filter("quote", quote);
    filters::add(&mut env);
    env
}

/// Any serializable value as a template value.
pub fn to_value<T: serde::Serialize>(value: T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// A JSON map (a host's variables) as a template value, read in place: a value is converted
/// when a template looks it up, so a fleet does not carry a second, template-shaped copy of
/// every host's variables.
pub fn json_map(map: Arc<serde_json::Map<String, serde_json::Value>>) -> Value {
    Value::from_object(JsonMap(map))
}

#[derive(Debug)]
struct JsonMap(Arc<serde_json::Map<String, serde_json::Value>>);

impl Object for JsonMap {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.0.get(key.as_str()?).map(to_value)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.keys().map(|k| Value::from(k.as_str())).collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.0.len())
    }
}

/// Whether `text` needs a template engine at all; plain text is used as-is.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// Checks template syntax, for validation before anything runs.
pub fn check_syntax(source: &str) -> Result<(), String> {
    if !is_template(source) {
        return Ok(());
    }
    let env = environment();
    env.template_from_str(source)
        .map(|_| ())
        .map_err(|e| describe(&e))
}

/// Checks the syntax of a `when:` expression.
pub fn check_expression(source: &str) -> Result<(), String> {
    let env = environment();
    env.compile_expression(source)
        .map(|_| ())
        .map_err(|e| describe(&e))
}

/// Shell-safe quoting: safe words stay as they are, anything else is single-quoted.
pub fn quote(value: Value) -> String {
    match value.as_str() {
        Some(s) => crate::shell::quote(s),
        None => crate::shell::quote(&value.to_string()),
    }
}

/// A minijinja error in one line, without the template-name noise.
pub fn describe(err: &minijinja::Error) -> String {
    let mut text = match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    };
    if let Some(line) = err.line() {
        if line > 1 {
            text.push_str(&format!(" (template line {line})"));
        }
    }
    text
}

/// Names a render error: for an undefined value, which of the template's variables the
/// context lacks.
pub fn explain_render_error(
    err: &minijinja::Error,
    referenced: HashSet<String>,
    context: &Value,
) -> String {
    if err.kind() == minijinja::ErrorKind::UndefinedError {
        let mut missing: Vec<String> = referenced
            .into_iter()
            .filter(|name| {
                let top = name.split('.').next().unwrap_or(name);
                match context.get_attr(top) {
                    Ok(v) => v.is_undefined(),
                    Err(_) => true,
                }
            })
            .collect();
        missing.sort();
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
            return format!("undefined variable {}", list.join(", "));
        }
    }
    describe(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_is_shell_safe() {
        assert_eq!(quote(Value::from("abc-1.2")), "abc-1.2");
        assert_eq!(quote(Value::from("a b")), "'a b'");
        assert_eq!(quote(Value::from("it's")), r"'it'\''s'");
        assert_eq!(quote(Value::from("")), "''");
    }

    #[test]
    fn strict_undefined_is_an_error() {
        let env = environment();
        let t = env.template_from_str("{{ missing }}").unwrap();
        assert!(t.render(minijinja::context! {}).is_err());
    }
}
