//! drover's own inventory format:
//!
//! ```yaml
//! defaults: { transport: local }
//! groups:
//!   core: { vars: { role: core }, hosts: [r1], children: [deu] }
//! hosts:
//!   r1: { address: 10.0.0.1, port: 22, user: admin, vars: { site: fra } }
//! ```

use std::path::Path;

use indexmap::IndexMap;
use serde::Deserialize;

use super::{Group, Host, Inventory, TransportKind, Vars};
use crate::diagnostic::SourceError;
use crate::error::Result;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    defaults: Vars,
    #[serde(default)]
    groups: IndexMap<String, Option<GroupDef>>,
    #[serde(default)]
    hosts: IndexMap<String, Option<HostDef>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct GroupDef {
    #[serde(default)]
    vars: Vars,
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
    vars: Vars,
}

pub fn parse(path: &Path, source: &str) -> Result<Inventory> {
    let file: File =
        serde_yaml::from_str(source).map_err(|e| SourceError::from_yaml(path, source, &e))?;
    let mut inventory = Inventory {
        defaults: file.defaults,
        ..Inventory::default()
    };
    for (name, def) in file.groups {
        let def = def.unwrap_or_default();
        let group = Group {
            vars: def.vars,
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
        vars.extend(def.vars);
        let host = Host {
            vars,
            groups: def.groups.into_iter().collect(),
        };
        inventory.hosts.insert(name, host);
    }
    Ok(inventory)
}
