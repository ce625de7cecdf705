//! Unknown keys in plays and tasks, all of them at once. serde stops at the first unknown
//! key; a playbook brought over from Ansible has several (`become`, `notify`, `with_items`),
//! and fixing them one run at a time is tiresome. So a play or task is read through
//! [`Checked`], which filters its keys against the struct's fields, and the playbook is read
//! in passes: pass *k* steps over the first *k* unknown keys and stops at the next one, where
//! the YAML parser knows its exact position. Each pass finds one more; the last pass either
//! succeeds or stops at some other error, and every unknown key is reported with its
//! position and, for Ansible's keys, what drover calls it or that drover does not have it.
//!
//! The pass counter is thread-local because a serde `Deserialize` impl has no other way to
//! receive state; a playbook is deserialized on one thread, start to end, within [`scan`].

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{
    self, DeserializeSeed, Deserializer, IgnoredAny, IntoDeserializer, MapAccess, Visitor,
};
use serde::Deserialize;

use crate::diagnostic::closest;

/// What an unknown key was and what to tell the user about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    pub message: String,
    pub hint: Option<String>,
}

#[derive(Default)]
struct Scan {
    tolerate: usize,
    seen: usize,
    last: Option<Unknown>,
}

thread_local! {
    static SCAN: RefCell<Option<Scan>> = const { RefCell::new(None) };
}

/// Runs `parse` stepping over the first `tolerate` unknown keys; returns what it returned
/// and, when it stopped at an unknown key, that key.
pub fn scan<T>(tolerate: usize, parse: impl FnOnce() -> T) -> (T, Option<Unknown>) {
    SCAN.with(|s| {
        *s.borrow_mut() = Some(Scan {
            tolerate,
            ..Scan::default()
        })
    });
    let out = parse();
    let last = SCAN.with(|s| s.borrow_mut().take().and_then(|s| s.last));
    (out, last)
}

/// How many unknown keys the running scan has stepped over so far.
pub fn stepped_over() -> usize {
    SCAN.with(|s| s.borrow().as_ref().map_or(0, |s| s.seen))
}

/// A value read with its unknown keys filtered (see the module doc).
#[derive(Debug, Clone)]
pub struct Checked<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Checked<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(Filtering { inner: d }).map(Checked)
    }
}

/// Reads `T` with its unknown keys filtered; for `#[serde(deserialize_with)]`.
pub fn checked_vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Vec::<Checked<T>>::deserialize(d).map(|v| v.into_iter().map(|c| c.0).collect())
}

struct Filtering<D> {
    inner: D,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Filtering<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_map(FilteringVisitor { visitor, fields })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

struct FilteringVisitor<V> {
    visitor: V,
    fields: &'static [&'static str],
}

impl<'de, V: Visitor<'de>> Visitor<'de> for FilteringVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(FilteringMap {
            inner: map,
            fields: self.fields,
            _p: PhantomData,
        })
    }
}

struct FilteringMap<'de, A> {
    inner: A,
    fields: &'static [&'static str],
    _p: PhantomData<&'de ()>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for FilteringMap<'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(key) = self.inner.next_key::<String>()? else {
                return Ok(None);
            };
            if self.fields.contains(&key.as_str()) {
                return seed.deserialize(key.into_deserializer()).map(Some);
            }
            let unknown = describe(&key, self.fields);
            let stop = SCAN.with(|s| match s.borrow_mut().as_mut() {
                Some(scan) if scan.seen < scan.tolerate => {
                    scan.seen += 1;
                    None
                }
                Some(scan) => {
                    scan.last = Some(unknown.clone());
                    // serde places the error at the mapping; the needle moves it to the key.
                    Some(crate::diagnostic::with_needle(&unknown.message, &key))
                }
                None => Some(format!(
                    "unknown key `{key}`, expected one of {}",
                    self.fields
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            });
            match stop {
                Some(message) => return Err(de::Error::custom(message)),
                None => {
                    self.inner.next_value::<IgnoredAny>()?;
                }
            }
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }
}

/// Ansible's keys that drover has under another name.
const RENAMED: &[(&str, &str)] = &[
    ("with_items", "`loop`"),
    ("with_list", "`loop`"),
    ("with_dict", "`loop` (over `dict2items`-style data)"),
    ("with_nested", "`loop`"),
    ("with_sequence", "`loop`"),
    ("forks", "`concurrency`"),
    ("throttle", "`concurrency`"),
    (
        "connection",
        "`transport`, a host variable in the inventory",
    ),
    (
        "remote_user",
        "`user`, a host variable (`ansible_user` is read too)",
    ),
    ("port", "`port`, a host variable"),
    ("check_mode", "`--check` on the command line"),
    ("raw", "`command`"),
    (
        "become",
        "`enable: true` (a network device's privileged mode, with the host's `enable_secret`)",
    ),
    ("ios_config", "`config`"),
    ("cisco.ios.ios_config", "`config`"),
    ("nxos_config", "`config`"),
    ("cisco.nxos.nxos_config", "`config`"),
    ("eos_config", "`config`"),
    ("arista.eos.eos_config", "`config`"),
    ("junos_config", "`config`"),
    ("junipernetworks.junos.junos_config", "`config`"),
    ("cli_config", "`config`"),
    ("ansible.netcommon.cli_config", "`config`"),
    ("ansible.builtin.raw", "`command`"),
    ("ansible.builtin.command", "`command`"),
    ("cli_command", "`command`"),
    ("ansible.netcommon.cli_command", "`command`"),
    ("ios_command", "`command`"),
    ("cisco.ios.ios_command", "`command`"),
    ("nxos_command", "`command`"),
    ("cisco.nxos.nxos_command", "`command`"),
    ("eos_command", "`command`"),
    ("arista.eos.eos_command", "`command`"),
    ("junos_command", "`command`"),
    ("junipernetworks.junos.junos_command", "`command`"),
    ("ansible.builtin.shell", "`shell`"),
    ("script", "`shell`"),
    ("ansible.builtin.assert", "`assert`"),
    ("cli_parse", "`parse:` on the task"),
    ("ansible.netcommon.cli_parse", "`parse:` on the task"),
    (
        "ansible.builtin.fail",
        "`assert` (with `fail_msg`) or `failed_when`",
    ),
    ("fail", "`assert` (with `fail_msg`) or `failed_when`"),
    ("local_action", "a host with `transport: local`"),
    ("delegate_to", "a host with `transport: local`"),
];

/// Ansible's keys that drover does not have at all.
const ANSIBLE: &[&str] = &[
    "become_user",
    "become_method",
    "become_flags",
    "become_exe",
    "handlers",
    "roles",
    "pre_tasks",
    "post_tasks",
    "environment",
    "collections",
    "module_defaults",
    "vars_prompt",
    "diff",
    "debugger",
    "ignore_unreachable",
    "order",
    "fact_path",
    "gather_subset",
    "gather_timeout",
    "force_handlers",
    "notify",
    "listen",
    "block",
    "rescue",
    "always",
    "include_tasks",
    "import_tasks",
    "include_role",
    "import_role",
    "import_playbook",
    "include_vars",
    "async",
    "poll",
    "args",
    "debug",
    "ansible.builtin.debug",
    "set_fact",
    "ansible.builtin.set_fact",
    "pause",
    "wait_for",
    "template",
    "copy",
    "vars",
    "strategy_plugins",
    "hosts",
];

fn describe(key: &str, fields: &[&str]) -> Unknown {
    if let Some((_, name)) = RENAMED.iter().find(|(k, _)| *k == key) {
        return Unknown {
            message: format!("`{key}` is not supported in drover"),
            hint: Some(format!("drover calls this {name}")),
        };
    }
    if ANSIBLE.contains(&key) || key.contains('.') {
        return Unknown {
            message: format!("`{key}` is not supported in drover"),
            hint: None,
        };
    }
    Unknown {
        message: format!("unknown key `{key}`"),
        hint: closest(key, fields.iter().copied())
            .first()
            .map(|best| format!("did you mean the key `{best}`?")),
    }
}

/// `DeserializeSeed`-free helper for tests: parse `T` from YAML through [`Checked`].
#[cfg(test)]
fn parse_all<T: for<'de> Deserialize<'de>>(source: &str) -> Vec<Unknown> {
    let mut found = Vec::new();
    for k in 0..100 {
        let (result, unknown) = scan(k, || serde_yaml::from_str::<Checked<T>>(source));
        match (result, unknown) {
            (Err(_), Some(u)) => found.push(u),
            _ => break,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        name: String,
        #[serde(default)]
        retries: u32,
    }

    #[test]
    fn finds_every_unknown_key_with_hints() {
        let found = parse_all::<T>("name: x\nbecome: true\nwith_items: [1]\nretires: 3\n");
        let messages: Vec<&str> = found.iter().map(|u| u.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`become` is not supported in drover",
                "`with_items` is not supported in drover",
                "unknown key `retires`"
            ]
        );
        assert_eq!(found[1].hint.as_deref(), Some("drover calls this `loop`"));
        assert_eq!(
            found[2].hint.as_deref(),
            Some("did you mean the key `retries`?")
        );
    }

    #[test]
    fn without_a_scan_the_first_unknown_key_is_an_error() {
        let e = serde_yaml::from_str::<Checked<T>>("name: x\nbogus: 1\n").unwrap_err();
        assert!(e.to_string().contains("unknown key `bogus`"), "{e}");
    }
}
