//! Ansible's YAML inventory, read as-is: nested groups under `all:` with `hosts:`,
//! `children:` and `vars:`. `all`'s vars become drover's defaults.

use std::path::Path;

use indexmap::IndexMap;
use serde::Deserialize;

use super::{Inventory, Vars};
use crate::diagnostic::SourceError;
use crate::error::Result;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct GroupDef {
    #[serde(default)]
    hosts: Option<IndexMap<String, Option<Vars>>>,
    #[serde(default)]
    children: Option<IndexMap<String, Option<GroupDef>>>,
    #[serde(default)]
    vars: Option<Vars>,
}

pub fn parse(path: &Path, source: &str) -> Result<Inventory> {
    let top: IndexMap<String, Option<GroupDef>> =
        serde_yaml::from_str(source).map_err(|e| SourceError::from_yaml(path, source, &e))?;
    let mut inventory = Inventory::default();
    for (name, def) in top {
        add_group(&mut inventory, &name, def.unwrap_or_default());
    }
    Ok(inventory)
}

fn add_group(inventory: &mut Inventory, name: &str, def: GroupDef) {
    let is_all = name == "all";
    let is_special = is_all || name == "ungrouped";
    if is_all {
        inventory.defaults.extend(def.vars.unwrap_or_default());
    } else if !is_special {
        let group = inventory.groups.entry(name.to_string()).or_default();
        group.vars.extend(def.vars.unwrap_or_default());
    }
    for (host, vars) in def.hosts.unwrap_or_default() {
        let entry = inventory.hosts.entry(host.clone()).or_default();
        entry.vars.extend(vars.unwrap_or_default());
        if !is_special {
            entry.groups.insert(name.to_string());
        }
    }
    for (child, child_def) in def.children.unwrap_or_default() {
        if !is_special && child != "ungrouped" {
            let group = inventory.groups.entry(name.to_string()).or_default();
            group.children.insert(child.clone());
        }
        add_group(inventory, &child, child_def.unwrap_or_default());
    }
}
