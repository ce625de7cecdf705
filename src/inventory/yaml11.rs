//! YAML as Ansible reads it (PyYAML, YAML 1.1) for inventories and `group_vars`/`host_vars`
//! files: plain `yes`/`no`/`on`/`off` are booleans, `1_000` and `1:30` are numbers, and a
//! `!vault` value is kept as Ansible's own JSON shows it (`{"__ansible_vault": ...}`) so the
//! rest of the file stays readable. Keys keep their byte offset for error positions.

use std::fmt;
use std::path::Path;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use serde_json::{Map, Value};

use crate::diagnostic::SourceError;

/// The key Ansible's JSON uses for an encrypted value.
pub const VAULT_KEY: &str = "__ansible_vault";

/// A YAML node: mappings keep their keys' positions.
#[derive(Debug, Clone)]
pub enum Node {
    Scalar(Value),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
    Vault(String),
}

#[derive(Debug, Clone)]
pub struct Key {
    pub text: String,
    /// Byte offset in the source, when the parser lent us the key's text.
    pub offset: Option<usize>,
}

impl Node {
    pub fn to_json(&self) -> Value {
        match self {
            Node::Scalar(v) => v.clone(),
            Node::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Node::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.text.clone(), v.to_json()))
                    .collect::<Map<_, _>>(),
            ),
            Node::Vault(text) => serde_json::json!({ VAULT_KEY: text }),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Node::Scalar(Value::Null))
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Node::Scalar(Value::String(_)) => "a string",
            Node::Scalar(Value::Null) => "empty",
            Node::Scalar(_) => "a scalar",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
            Node::Vault(_) => "a vault value",
        }
    }
}

/// Whether a variable value is an encrypted `!vault` value.
pub fn is_vault(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.len() == 1 && m.contains_key(VAULT_KEY))
}

/// Parses one YAML document. An empty file is `None`.
pub fn parse(path: &Path, source: &str) -> Result<Option<Node>, SourceError> {
    if source.trim().is_empty() {
        return Ok(None);
    }
    let de = serde_yaml::Deserializer::from_str(source);
    let seed = Seed { source };
    match seed.deserialize(de) {
        Ok(Node::Scalar(Value::Null)) => Ok(None),
        Ok(node) => Ok(Some(node)),
        Err(e) => Err(SourceError::from_yaml(path, source, &e)),
    }
}

#[derive(Clone, Copy)]
struct Seed<'s> {
    source: &'s str,
}

impl<'s> Seed<'s> {
    fn offset(&self, text: &str) -> Option<usize> {
        let base = self.source.as_ptr() as usize;
        let at = text.as_ptr() as usize;
        (at >= base && at + text.len() <= base + self.source.len()).then(|| at - base)
    }

    /// A string the parser lent from the source: plain unless a quote precedes it.
    fn borrowed(&self, text: &str) -> Value {
        let quoted = self
            .offset(text)
            .and_then(|at| at.checked_sub(1))
            .is_some_and(|before| matches!(self.source.as_bytes()[before], b'\'' | b'"'));
        if quoted {
            Value::String(text.to_string())
        } else {
            plain_1_1(text)
        }
    }
}

/// YAML 1.1 meanings of plain scalars that YAML 1.2 reads as strings.
fn plain_1_1(text: &str) -> Value {
    match text {
        "yes" | "Yes" | "YES" | "on" | "On" | "ON" => return Value::Bool(true),
        "no" | "No" | "NO" | "off" | "Off" | "OFF" => return Value::Bool(false),
        _ => {}
    }
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1i64, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    // YAML 1.1 octal: 010 is 8.
    if digits.len() > 1
        && digits.starts_with('0')
        && digits.bytes().all(|b| (b'0'..=b'7').contains(&b))
    {
        if let Ok(n) = i64::from_str_radix(&digits[1..], 8) {
            return Value::from(sign * n);
        }
    }
    if digits.contains('_') && !digits.starts_with('_') {
        let clean = digits.replace('_', "");
        let parsed = if let Some(b) = clean.strip_prefix("0b") {
            i64::from_str_radix(b, 2).ok()
        } else if let Some(h) = clean.strip_prefix("0x") {
            i64::from_str_radix(h, 16).ok()
        } else if clean.len() > 1 && clean.starts_with('0') {
            i64::from_str_radix(&clean[1..], 8).ok()
        } else if clean.bytes().all(|b| b.is_ascii_digit()) {
            clean.parse().ok()
        } else {
            None
        };
        if let Some(n) = parsed {
            return Value::from(sign * n);
        }
        if clean.contains('.') && clean.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            if let Ok(f) = clean.parse::<f64>() {
                return Value::from(sign as f64 * f);
            }
        }
    }
    // Sexagesimal: 1:30 is 90.
    let parts: Vec<&str> = digits.split(':').collect();
    if parts.len() > 1
        && parts[0].bytes().all(|b| b.is_ascii_digit())
        && !parts[0].is_empty()
        && !parts[0].starts_with('0')
        && parts[1..].iter().all(|p| {
            (1..=2).contains(&p.len())
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u8>().is_ok_and(|n| n < 60)
        })
    {
        let n = parts.iter().fold(0i64, |acc, p| {
            acc.saturating_mul(60)
                .saturating_add(p.parse().unwrap_or(0))
        });
        return Value::from(sign * n);
    }
    Value::String(text.to_string())
}

impl<'de, 's> DeserializeSeed<'de> for Seed<'s> {
    type Value = Node;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, 's> Visitor<'de> for Seed<'s> {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Scalar(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Scalar(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Scalar(Value::from(v)))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Scalar(Value::String(v.to_string())))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Node, E> {
        Ok(Node::Scalar(Value::String(v.to_string())))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Scalar(serde_json::Number::from_f64(v).map_or_else(
            || Value::String(v.to_string()),
            Value::Number,
        )))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Node, E> {
        Ok(Node::Scalar(self.borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Scalar(Value::String(v.to_string())))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Scalar(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Scalar(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        self.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries: Vec<(Key, Node)> = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed(self))? {
            let value = map.next_value_seed(self)?;
            // A repeated key replaces the earlier one, as in Ansible.
            entries.retain(|(k, _)| k.text != key.text);
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Node, A::Error> {
        let (tag, variant): (String, _) = data.variant()?;
        let inner = variant.newtype_variant_seed(self)?;
        match (tag.as_str(), inner) {
            ("vault", Node::Scalar(Value::String(text))) => Ok(Node::Vault(text)),
            ("vault", _) => Err(de::Error::custom("a `!vault` value must be a string")),
            ("unsafe", inner) => Ok(inner),
            (other, _) => Err(de::Error::custom(format!(
                "the YAML tag `!{other}` is not supported (expected `!vault` or `!unsafe`)"
            ))),
        }
    }
}

struct KeySeed<'s>(Seed<'s>);

impl<'de, 's> DeserializeSeed<'de> for KeySeed<'s> {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, 's> Visitor<'de> for KeySeed<'s> {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key, E> {
        Ok(Key {
            text: v.to_string(),
            offset: self.0.offset(v),
        })
    }
    fn visit_str<E>(self, v: &str) -> Result<Key, E> {
        Ok(Key {
            text: v.to_string(),
            offset: None,
        })
    }
    fn visit_bool<E>(self, v: bool) -> Result<Key, E> {
        Ok(text_key(v.to_string()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Key, E> {
        Ok(text_key(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Key, E> {
        Ok(text_key(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Key, E> {
        Ok(text_key(v.to_string()))
    }
    fn visit_unit<E>(self) -> Result<Key, E> {
        Ok(text_key("null".into()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Key, A::Error> {
        Err(de::Error::custom("a list cannot be a key here"))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Key, A::Error> {
        Err(de::Error::custom("a mapping cannot be a key here"))
    }
}

fn text_key(text: String) -> Key {
    Key { text, offset: None }
}

#[cfg(test)]
mod tests {
    use super::{parse, Node};
    use serde_json::json;
    use std::path::Path;

    fn json(src: &str) -> serde_json::Value {
        parse(Path::new("t.yml"), src)
            .unwrap()
            .map(|n| n.to_json())
            .unwrap()
    }

    #[test]
    fn yaml_1_1_scalars() {
        assert_eq!(
            json("a: yes\nb: 'yes'\nc: off\nd: \"on\"\ne: 1_000\nf: 1:30\ng: true\nh: x\ni: 010\nj: '010'\n"),
            json!({"a": true, "b": "yes", "c": false, "d": "on", "e": 1000, "f": 90, "g": true, "h": "x", "i": 8, "j": "010"})
        );
    }

    #[test]
    fn vault_values_are_kept() {
        let node = parse(
            Path::new("t.yml"),
            "pw: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n",
        )
        .unwrap()
        .unwrap();
        let Node::Map(entries) = node else { panic!() };
        assert!(matches!(&entries[0].1, Node::Vault(t) if t.starts_with("$ANSIBLE_VAULT")));
        assert_eq!(entries[0].0.offset, Some(0));
    }
}
