//! drover's own inventory format:
//!
//! ```yaml
//! defaults: { transport: local }     # or, as groups and hosts do: { vars: { transport: local } }
//! groups:
//!   core: { vars: { role: core }, hosts: [r1], children: [deu] }
//! hosts:
//!   r1: { address: 10.0.0.1, port: 22, user: admin, vars: { site: fra } }
//! ```

use std::path::Path;

use indexmap::IndexMap;
use serde::Deserialize;

use super::{Group, Host, Inventory, TransportKind, Vars};
use crate::diagnostic::{with_needle, SourceError};
use crate::error::Result;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    defaults: DefaultsDef,
    #[serde(default)]
    groups: IndexMap<String, Option<GroupDef>>,
    #[serde(default)]
    hosts: IndexMap<String, Option<HostDef>>,
    /// Network platform profiles, read by `platform::Platforms::add_inventory`.
    #[serde(default, rename = "platforms")]
    _platforms: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct GroupDef {
    #[serde(default)]
    vars: VarsDef,
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    children: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct HostDef {
    address: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    transport: Option<TransportKind>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    vars: VarsDef,
}

/// The variables of `defaults`: given directly, or under `vars:` as groups and hosts take
/// theirs (what anyone writes by analogy), or both. A variable literally named `vars` is
/// never defined: it would silently hide every variable meant to be inside it.
#[derive(Default)]
struct DefaultsDef(Vars);

impl<'de> Deserialize<'de> for DefaultsDef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut vars = Vars::deserialize(d)?;
        let nested = match vars.shift_remove("vars") {
            None => return Ok(DefaultsDef(vars)),
            Some(serde_json::Value::Object(nested)) => nested,
            Some(_) => {
                return Err(D::Error::custom(with_needle(
                    "`vars` under `defaults` must be a mapping of variables \
                     (a variable cannot be named `vars`)",
                    "vars",
                )))
            }
        };
        for (key, value) in nested {
            if key == "vars" {
                return Err(D::Error::custom(nested_vars()));
            }
            if vars.contains_key(&key) {
                return Err(D::Error::custom(with_needle(
                    format!("`{key}` is set both in `defaults` and in `defaults.vars`"),
                    &key,
                )));
            }
            vars.insert(key, value);
        }
        Ok(DefaultsDef(vars))
    }
}

/// A group's or host's `vars:`; a variable named `vars` inside is a typo for nesting.
#[derive(Default)]
struct VarsDef(Vars);

impl<'de> Deserialize<'de> for VarsDef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let vars = Vars::deserialize(d)?;
        if vars.contains_key("vars") {
            return Err(serde::de::Error::custom(nested_vars()));
        }
        Ok(VarsDef(vars))
    }
}

fn nested_vars() -> String {
    with_needle(
        "a variable cannot be named `vars`: variables go directly under `vars:` \
         (is `vars:` written twice?)",
        "vars",
    )
}

pub fn parse(path: &Path, source: &str) -> Result<Inventory> {
    let file: File =
        serde_yaml::from_str(source).map_err(|e| SourceError::from_yaml(path, source, &e))?;
    let mut inventory = Inventory {
        defaults: file.defaults.0,
        ..Inventory::default()
    };
    for (name, def) in file.groups {
        let def = def.unwrap_or_default();
        let group = Group {
            vars: def.vars.0,
            hosts: def.hosts.into_iter().collect(),
            children: def.children.into_iter().collect(),
        };
        inventory.groups.insert(name, group);
    }
    for (name, def) in file.hosts {
        let def = def.unwrap_or_default();
        let mut vars = Vars::new();
        if let Some(a) = def.address {
            vars.insert("address".into(), a.into());
        }
        if let Some(p) = def.port {
            vars.insert("port".into(), p.into());
        }
        if let Some(u) = def.user {
            vars.insert("user".into(), u.into());
        }
        if let Some(t) = def.transport {
            vars.insert("transport".into(), t.as_str().into());
        }
        vars.extend(def.vars.0);
        let host = Host {
            vars,
            groups: def.groups.into_iter().collect(),
        };
        inventory.hosts.insert(name, host);
    }
    Ok(inventory)
}
