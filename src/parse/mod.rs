//! Output parsing: `parse:` on a task turns what a device printed into data, kept under the
//! task's `register` name as `parsed` and in the report, so `when`, `until`, `failed_when`,
//! `assert` and later templates can ask questions of it.
//!
//! - `parse: { regex: '…' }`: named captures of the first match as a map (`all: true`: a list
//!   of maps, one per match); without named groups, the matched text (or the list of them);
//! - `parse: { json: true }` / `parse: { yaml: true }`: the output as structured data;
//! - `parse: { textfsm: FILE }`: a TextFSM template (ntc-templates' format), a list of records.

mod linematch;
mod records;
pub mod textfsm;

pub use records::Records;

use std::borrow::Cow;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use crate::diagnostic::{with_needle, SourceError};

/// A compiled parser.
#[derive(Clone)]
pub enum Parser {
    Regex { regex: regex::Regex, all: bool },
    Json,
    Yaml,
    TextFsm(Arc<textfsm::Template>),
}

impl fmt::Debug for Parser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind())
    }
}

impl Parser {
    pub fn kind(&self) -> &'static str {
        match self {
            Parser::Regex { .. } => "regex",
            Parser::Json => "json",
            Parser::Yaml => "yaml",
            Parser::TextFsm(_) => "textfsm",
        }
    }

    /// Parses a task's output. A regex or template that matches nothing is not an error
    /// (null, or an empty list); output that is not the JSON or YAML asked for is.
    pub fn run(&self, text: &str) -> Result<Parsed, String> {
        match self {
            Parser::Regex { regex, all } => Ok(Parsed::Json(regex_parse(regex, *all, text))),
            Parser::Json => serde_json::from_str(text)
                .map(Parsed::Json)
                .map_err(|e| format!("parse: the output is not JSON: {e}")),
            Parser::Yaml => serde_yaml::from_str(text)
                .map(Parsed::Json)
                .map_err(|e| format!("parse: the output is not YAML: {e}")),
            Parser::TextFsm(t) => t
                .parse(text)
                .map(|r| Parsed::Records(Arc::new(r)))
                .map_err(|e| format!("parse: textfsm: {e}")),
        }
    }
}

/// What `parse:` made of an output: JSON-shaped data, or a TextFSM template's records kept
/// in their compact form ([`Records`]) until they are read. Either serializes as JSON does
/// (a report read back holds plain JSON), and compares by its JSON.
#[derive(Debug, Clone)]
pub enum Parsed {
    Json(Json),
    Records(Arc<Records>),
}

impl Parsed {
    /// The data as JSON (built here for records).
    pub fn to_json(&self) -> Cow<'_, Json> {
        match self {
            Parsed::Json(j) => Cow::Borrowed(j),
            Parsed::Records(r) => Cow::Owned(r.to_json()),
        }
    }

    /// The data as a template value; records are a view, converted as they are read.
    pub fn to_value(&self) -> minijinja::Value {
        match self {
            Parsed::Json(j) => crate::template::to_value(j),
            Parsed::Records(r) => r.to_value(),
        }
    }
}

impl From<Json> for Parsed {
    fn from(j: Json) -> Parsed {
        Parsed::Json(j)
    }
}

impl PartialEq for Parsed {
    fn eq(&self, other: &Parsed) -> bool {
        match (self, other) {
            (Parsed::Json(a), Parsed::Json(b)) => a == b,
            (Parsed::Records(a), Parsed::Records(b)) if Arc::ptr_eq(a, b) => true,
            (a, b) => a.to_json() == b.to_json(),
        }
    }
}

impl serde::Serialize for Parsed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Parsed::Json(j) => j.serialize(s),
            Parsed::Records(r) => r.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Parsed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Json::deserialize(d).map(Parsed::Json)
    }
}

impl schemars::JsonSchema for Parsed {
    fn inline_schema() -> bool {
        Json::inline_schema()
    }

    fn schema_name() -> Cow<'static, str> {
        Json::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        Json::schema_id()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        Json::json_schema(g)
    }
}

fn regex_parse(regex: &regex::Regex, all: bool, text: &str) -> Json {
    let named: Vec<&str> = regex.capture_names().flatten().collect();
    let one = |caps: regex::Captures| -> Json {
        if named.is_empty() {
            return Json::String(caps[0].to_string());
        }
        let mut map = Map::new();
        for name in &named {
            let value = caps
                .name(name)
                .map_or(Json::Null, |m| Json::String(m.as_str().to_string()));
            map.insert((*name).to_string(), value);
        }
        Json::Object(map)
    };
    if all {
        Json::Array(regex.captures_iter(text).map(one).collect())
    } else {
        regex.captures(text).map_or(Json::Null, one)
    }
}

impl PartialEq for Parser {
    fn eq(&self, other: &Parser) -> bool {
        match (self, other) {
            (Parser::Regex { regex: a, all: x }, Parser::Regex { regex: b, all: y }) => {
                a.as_str() == b.as_str() && x == y
            }
            (Parser::TextFsm(a), Parser::TextFsm(b)) => Arc::ptr_eq(a, b),
            (a, b) => a.kind() == b.kind(),
        }
    }
}

/// `parse:` as written in a playbook. A TextFSM template is read once the playbook's
/// directory is known ([`ParseSpec::load`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ParseSpec {
    Ready(Parser),
    TextFsmFile(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    regex: Option<String>,
    #[serde(default)]
    all: bool,
    #[serde(default)]
    json: bool,
    #[serde(default)]
    yaml: bool,
    textfsm: Option<String>,
}

impl<'de> Deserialize<'de> for ParseSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawSpec::deserialize(d)?;
        let count = usize::from(raw.regex.is_some())
            + usize::from(raw.json)
            + usize::from(raw.yaml)
            + usize::from(raw.textfsm.is_some());
        if count != 1 {
            return Err(de::Error::custom(
                "`parse` takes one of `regex: PATTERN`, `json: true`, `yaml: true`, `textfsm: FILE`",
            ));
        }
        if raw.all && raw.regex.is_none() {
            return Err(de::Error::custom("`all` goes with `regex`"));
        }
        if let Some(pattern) = raw.regex {
            let regex = regex::Regex::new(&pattern).map_err(|e| {
                let text = e
                    .to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                de::Error::custom(with_needle(
                    format!("not a valid regular expression: {text}"),
                    pattern.lines().next().unwrap_or(""),
                ))
            })?;
            return Ok(ParseSpec::Ready(Parser::Regex {
                regex,
                all: raw.all,
            }));
        }
        if raw.json {
            return Ok(ParseSpec::Ready(Parser::Json));
        }
        if raw.yaml {
            return Ok(ParseSpec::Ready(Parser::Yaml));
        }
        Ok(ParseSpec::TextFsmFile(raw.textfsm.unwrap_or_default()))
    }
}

impl ParseSpec {
    /// The compiled parser; a TextFSM template is read relative to `base` (the playbook's
    /// directory). Errors point into the template itself, or at the playbook's `textfsm:`
    /// line when the file cannot be read.
    pub fn load(
        &self,
        base: &Path,
        playbook: &Path,
        source: &str,
    ) -> Result<Parser, Box<SourceError>> {
        let file = match self {
            ParseSpec::Ready(p) => return Ok(p.clone()),
            ParseSpec::TextFsmFile(file) => file,
        };
        let path = base.join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            let offset = source.find(file.as_str()).unwrap_or(0);
            let message = format!("cannot read the TextFSM template {}: {e}", path.display());
            Box::new(SourceError::at_offset(playbook, source, offset, message))
        })?;
        textfsm::Template::compile(&text)
            .map(|t| Parser::TextFsm(Arc::new(t)))
            .map_err(|e| {
                let offset: usize = text
                    .split_inclusive('\n')
                    .take(e.line.saturating_sub(1))
                    .map(str::len)
                    .sum();
                let message = format!("TextFSM template does not compile: {}", e.message);
                Box::new(SourceError::at_offset(&path, &text, offset, message))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What `parser` makes of `text`, as JSON.
    fn out(parser: &Parser, text: &str) -> Json {
        parser.run(text).unwrap().to_json().into_owned()
    }

    fn regex(pattern: &str, all: bool) -> Parser {
        Parser::Regex {
            regex: regex::Regex::new(pattern).unwrap(),
            all,
        }
    }

    #[test]
    fn regex_named_captures_first_and_all() {
        let text = "Gi0/1 up\nGi0/2 down\n";
        let p = regex(r"(?m)^(?P<name>\S+) (?P<state>\w+)$", false);
        assert_eq!(out(&p, text), json!({"name": "Gi0/1", "state": "up"}));
        let p = regex(r"(?m)^(?P<name>\S+) (?P<state>\w+)$", true);
        assert_eq!(
            out(&p, text),
            json!([{"name": "Gi0/1", "state": "up"}, {"name": "Gi0/2", "state": "down"}])
        );
        assert_eq!(out(&regex(r"Gi\S+", true), text), json!(["Gi0/1", "Gi0/2"]));
        assert_eq!(out(&regex(r"Te\S+", false), text), Json::Null);
    }

    #[test]
    fn json_and_yaml() {
        assert_eq!(out(&Parser::Json, r#"{"a": [1]}"#), json!({"a": [1]}));
        assert!(Parser::Json
            .run("not json")
            .unwrap_err()
            .contains("not JSON"));
        assert_eq!(
            out(&Parser::Yaml, "a: 1\nb: [x]\n"),
            json!({"a": 1, "b": ["x"]})
        );
    }

    #[test]
    fn spec_takes_exactly_one_parser() {
        let bad = [
            "{}",
            "{json: true, yaml: true}",
            "{json: true, all: true}",
            "{regex: '('}",
        ];
        for text in bad {
            assert!(serde_yaml::from_str::<ParseSpec>(text).is_err(), "{text}");
        }
        let ok: ParseSpec = serde_yaml::from_str("{textfsm: t.textfsm}").unwrap();
        assert!(matches!(ok, ParseSpec::TextFsmFile(f) if f == "t.textfsm"));
    }

    #[test]
    fn records_serialize_compare_and_read_back_as_their_json() {
        let template = "Value A (\\d)\n\nStart\n  ^a ${A} -> Record\n";
        let parser = Parser::TextFsm(Arc::new(textfsm::Template::compile(template).unwrap()));
        let parsed = parser.run("a 1\na 2\n").unwrap();
        assert!(matches!(parsed, Parsed::Records(_)));
        let json = json!([{"A": "1"}, {"A": "2"}]);
        assert_eq!(parsed, Parsed::Json(json.clone()));
        assert_ne!(parsed, Parsed::Json(json!([{"A": "1"}])));
        let text = serde_json::to_string(&parsed).unwrap();
        assert_eq!(text, r#"[{"A":"1"},{"A":"2"}]"#);
        let back: Parsed = serde_json::from_str(&text).unwrap();
        assert_eq!(back, Parsed::Json(json));
        assert_eq!(back, parsed);
    }
}
