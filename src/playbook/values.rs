//! Values in a playbook that are checked while it is parsed, so a bad one is reported with
//! its position before anything runs: templates, `when:` expressions, regular expressions.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, IntoDeserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::diagnostic::with_needle;
use crate::template;

/// Template source text whose syntax has been checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TemplateText(pub String);

impl<'de> Deserialize<'de> for TemplateText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        template::check_syntax(&text).map_err(|e| {
            de::Error::custom(with_needle(
                format!("template does not compile: {e}"),
                first_line(&text),
            ))
        })?;
        Ok(TemplateText(text))
    }
}

/// A condition (`when`, `until`, `failed_when`, `changed_when`, `assert: that`): a minijinja
/// expression without braces, as in Ansible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Condition(pub String);

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(
            untagged,
            expecting = "an expression such as `result.rc == 0`, or true/false"
        )]
        enum Raw {
            Bool(bool),
            Text(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Bool(b) => b.to_string(),
            Raw::Text(t) => t,
        };
        template::check_expression(&text).map_err(|e| {
            de::Error::custom(with_needle(
                format!("the condition does not compile: {e}"),
                first_line(&text),
            ))
        })?;
        Ok(Condition(text))
    }
}

/// A regular expression, compiled while parsing.
#[derive(Debug, Clone)]
pub struct RegexValue(pub regex_lite::Regex);

impl PartialEq for RegexValue {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl Serialize for RegexValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for RegexValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        regex_lite::Regex::new(&text).map(RegexValue).map_err(|e| {
            let message = format!(
                "not a valid regular expression: {}",
                one_line(&e.to_string())
            );
            de::Error::custom(with_needle(message, first_line(&text)))
        })
    }
}

/// One value or a list of them: `stdout_contains: ok` and `stdout_contains: [a, b]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a value or a list of values")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(OneOrMany(out))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                T::deserialize(v.into_deserializer()).map(|t| OneOrMany(vec![t]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                T::deserialize(v.into_deserializer()).map(|t| OneOrMany(vec![t]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                T::deserialize(v.into_deserializer()).map(|t| OneOrMany(vec![t]))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                T::deserialize(v.into_deserializer()).map(|t| OneOrMany(vec![t]))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Condition {
    /// Several conditions that must all hold, as one (Ansible's list form).
    pub fn all(list: &[Condition]) -> Option<Condition> {
        match list {
            [] => None,
            [one] => Some(one.clone()),
            many => Some(Condition(
                many.iter()
                    .map(|c| format!("({})", c.0))
                    .collect::<Vec<_>>()
                    .join(" and "),
            )),
        }
    }
}
