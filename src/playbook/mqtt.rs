//! The `mqtt` task kind: publish to a topic, and optionally wait for the node's reply on a
//! reply topic, matched by MQTT 5 correlation data, by an id inside the JSON payload, or by
//! being the first message on that topic. Checked while parsing, so a bad `qos` or an unknown
//! `correlation` is reported with its position.

use serde::de::{self, Deserializer};
use serde::Deserialize;

use super::values::TemplateText;
use crate::diagnostic::with_needle;
use crate::settings::DurationValue;
use crate::template;

/// `mqtt:` on a task.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttTask {
    pub topic: TemplateText,
    #[serde(default)]
    pub payload: Payload,
    #[serde(default)]
    pub qos: Qos,
    #[serde(default)]
    pub retain: bool,
    pub reply: Option<Reply>,
}

/// What is published: text as-is, or a YAML mapping (or list) sent as JSON. Both are
/// templates; in a mapping, each string leaf is one.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Text(TemplateText),
    Json(serde_json::Value),
}

impl Default for Payload {
    fn default() -> Self {
        Payload::Text(TemplateText(String::new()))
    }
}

impl Payload {
    /// Whether any template in the payload mentions `name`.
    pub fn mentions(&self, name: &str) -> bool {
        match self {
            Payload::Text(t) => t.0.contains(name),
            Payload::Json(v) => v.to_string().contains(name),
        }
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        match value {
            serde_json::Value::String(s) => {
                check_template::<D::Error>(&s)?;
                Ok(Payload::Text(TemplateText(s)))
            }
            v @ (serde_json::Value::Object(_) | serde_json::Value::Array(_)) => {
                let mut leaves = Vec::new();
                string_leaves(&v, String::new(), &mut leaves);
                for (_, text) in &leaves {
                    check_template::<D::Error>(text)?;
                }
                Ok(Payload::Json(v))
            }
            other => Ok(Payload::Text(TemplateText(other.to_string()))),
        }
    }
}

fn check_template<E: de::Error>(text: &str) -> Result<(), E> {
    template::check_syntax(text).map_err(|e| {
        let needle = text.lines().map(str::trim).find(|l| !l.is_empty());
        E::custom(with_needle(
            format!("payload template does not compile: {e}"),
            needle.unwrap_or("payload"),
        ))
    })
}

/// Every string leaf of `value` with its JSON pointer (`/a/0/b`).
pub fn string_leaves<'a>(
    value: &'a serde_json::Value,
    pointer: String,
    out: &mut Vec<(String, &'a str)>,
) {
    match value {
        serde_json::Value::String(s) => out.push((pointer, s)),
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = k.replace('~', "~0").replace('/', "~1");
                string_leaves(v, format!("{pointer}/{key}"), out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                string_leaves(v, format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// MQTT quality of service: 0, 1 (the default: the broker acknowledges) or 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Qos(pub u8);

impl Default for Qos {
    fn default() -> Self {
        Qos(1)
    }
}

impl<'de> Deserialize<'de> for Qos {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        match n {
            0..=2 => Ok(Qos(n as u8)),
            _ => Err(de::Error::custom(with_needle(
                format!("qos must be 0, 1 or 2, not {n}"),
                "qos",
            ))),
        }
    }
}

/// How a reply is matched to its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Correlation {
    /// MQTT 5 response topic + correlation data.
    #[default]
    V5,
    /// A generated id, put in the request by `{{ correlation_id }}` and read back from the
    /// reply's JSON at `field`.
    Payload,
    /// The first non-retained message on the reply topic after the publish.
    None,
}

/// `reply:` — wait for an answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// Templated, e.g. `node/{{ node_id }}/from-node`.
    pub topic: TemplateText,
    #[serde(default)]
    pub correlation: Correlation,
    /// Dotted path of the correlation id in the reply JSON (`correlation: payload`).
    #[serde(default = "default_field")]
    pub field: JsonPath,
    /// Dotted path of the node's status in the reply JSON; when set, a value other than
    /// `ok`/`success`/`true`/`0` makes the task `failed`.
    pub status_field: Option<JsonPath>,
    /// How long to wait for the reply; the task's `timeout` (or the play's
    /// `command_timeout`) when absent.
    pub timeout: Option<DurationValue>,
}

fn default_field() -> JsonPath {
    JsonPath(vec!["correlation_id".into()])
}

/// A dotted path into JSON: `result.id`; a numeric part indexes a list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JsonPath(pub Vec<String>);

impl JsonPath {
    pub fn get<'a>(&self, value: &'a serde_json::Value) -> Option<&'a serde_json::Value> {
        self.0.iter().try_fold(value, |v, part| match v {
            serde_json::Value::Object(m) => m.get(part),
            serde_json::Value::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        })
    }
}

impl std::fmt::Display for JsonPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.join("."))
    }
}

impl<'de> Deserialize<'de> for JsonPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let parts: Vec<String> = text.split('.').map(str::to_string).collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(de::Error::custom(with_needle(
                format!("`{text}` is not a field path such as `result.id`"),
                &text,
            )));
        }
        Ok(JsonPath(parts))
    }
}

impl MqttTask {
    /// Checks that need more than one key: a payload correlation needs the id in the payload.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(reply) = &self.reply {
            if reply.correlation == Correlation::Payload && !self.payload.mentions("correlation_id")
            {
                return Err(
                    "`correlation: payload` needs `{{ correlation_id }}` in the payload, so the node can send it back"
                        .into(),
                );
            }
        }
        Ok(())
    }
}
