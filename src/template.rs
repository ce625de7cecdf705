//! The minijinja environment: strict about undefined variables, with a `quote` filter for
//! shell-safe quoting and the output-reading filters of [`filters`]. Task templates are added
//! once per task and rendered once per host.

mod filters;
mod lookup;

pub use lookup::Lookups;

use std::collections::HashSet;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::{Environment, UndefinedBehavior, Value};

/// The most text one template may render to: a command line, a script or a payload.
pub const MAX_RENDERED: usize = 1 << 20;

/// The work one render may do, in minijinja's fuel: an instruction is one, and so is every
/// 64 bytes of text it makes, checked before a big string is allocated (so a loop over a
/// billion items or `'b' * 99999999` is refused, not run).
pub const FUEL: u64 = 1_000_000;

/// A fresh environment with drover's filters, strict undefined variables and bounded work.
pub fn environment() -> Environment<'static> {
    environment_with(Lookups::default())
}

/// The same, whose `lookup(…)` function caches in (and reports its secrets to) `lookups`.
pub fn environment_with(lookups: Lookups) -> Environment<'static> {
    let mut env = Environment::new();
    env.add_function("lookup", move |kind: String, arg: String| {
        // In a shadow render (see `secrets::shadow`), a secret answers with its shadow, and
        // only a lookup the real render made answers at all: a shadowed argument must never
        // run a command or read a file the real render did not.
        match crate::secrets::shadow::current() {
            0 => lookups.lookup(&kind, &arg),
            n => lookups
                .cached(&kind, &arg)
                .map(|value| crate::secrets::shadow::perturb(&value, n))
                .ok_or_else(|| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        "a lookup only the shadow render makes",
                    )
                }),
        }
    });
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
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
    Value::from_object(JsonMap {
        map,
        converted: Default::default(),
    })
}

/// A JSON map seen as a template value, each value converted when first used. Lists and
/// maps are kept once converted: a group's long list that every host's template reads is
/// converted once per run, not once per read.
#[derive(Debug)]
struct JsonMap {
    map: Arc<serde_json::Map<String, serde_json::Value>>,
    converted: std::sync::Mutex<std::collections::HashMap<String, Value>>,
}

impl Object for JsonMap {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        let json = self.map.get(key)?;
        if !(json.is_array() || json.is_object()) {
            return Some(to_value(json));
        }
        let mut converted = self
            .converted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Some(
            converted
                .entry(key.to_string())
                .or_insert_with(|| to_value(json))
                .clone(),
        )
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.map.keys().map(|k| Value::from(k.as_str())).collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.map.len())
    }
}

/// Renders `tmpl` into at most [`MAX_RENDERED`] bytes.
pub fn render_bounded(
    tmpl: &minijinja::Template<'_, '_>,
    context: &Value,
) -> Result<String, RenderError> {
    let mut out = BoundedText::default();
    match tmpl.render_captured_to(context, &mut out) {
        Ok(_) => Ok(String::from_utf8_lossy(&out.text).into_owned()),
        Err(_) if out.full => Err(RenderError::TooLarge),
        Err(e) => Err(RenderError::Template(e)),
    }
}

/// Why [`render_bounded`] failed.
#[derive(Debug)]
pub enum RenderError {
    Template(minijinja::Error),
    TooLarge,
}

impl RenderError {
    /// The message, naming the undefined variables of the template for an undefined value.
    pub fn explain(&self, referenced: HashSet<String>, context: &Value) -> String {
        match self {
            RenderError::Template(e) => explain_render_error(e, referenced, context),
            RenderError::TooLarge => format!(
                "the rendered text is over {MAX_RENDERED} bytes (1 MiB), the most a template may produce"
            ),
        }
    }
}

#[derive(Default)]
struct BoundedText {
    text: Vec<u8>,
    full: bool,
}

impl std::io::Write for BoundedText {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.text.len() + buf.len() > MAX_RENDERED {
            self.full = true;
            return Err(std::io::Error::other("rendered text too large"));
        }
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
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
    if err.kind() == minijinja::ErrorKind::OutOfFuel {
        return format!(
            "the template needs more than {FUEL} steps (an instruction, or 64 bytes of text it makes): an endless loop or a huge string?"
        );
    }
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

    fn render(source: &str) -> Result<String, String> {
        let env = environment();
        let t = env.template_from_str(source).unwrap();
        render_bounded(&t, &Value::from(()))
            .map_err(|e| e.explain(HashSet::new(), &Value::UNDEFINED))
    }

    #[test]
    fn a_huge_rendered_string_is_refused() {
        let e = render("{{ 'b' * 99999999 }}").unwrap_err();
        assert!(e.contains("a huge string?"), "{e}");
        let e = render("{{ 'b' * 2000000 }}").unwrap_err();
        assert!(e.contains("over 1048576 bytes"), "{e}");
        assert_eq!(render("{{ 'b' * 3 }}").unwrap(), "bbb");
    }

    #[test]
    fn an_endless_loop_runs_out_of_fuel() {
        let e = render(
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        )
        .unwrap_err();
        assert!(e.contains("steps"), "{e}");
    }

    #[test]
    fn strict_undefined_is_an_error() {
        let env = environment();
        let t = env.template_from_str("{{ missing }}").unwrap();
        assert!(t.render(minijinja::context! {}).is_err());
    }
}
