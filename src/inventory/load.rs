//! Reading one `-i` argument: an executable is a dynamic inventory, anything else is YAML in
//! drover's native format or Ansible's, told apart by the top-level keys.

use std::path::Path;

use indexmap::IndexMap;
use serde::de::IgnoredAny;

use super::{ansible, dynamic, native, Inventory};
use crate::diagnostic::SourceError;
use crate::error::{Error, Result};

/// Top-level keys of the native format; any other key means an Ansible inventory.
const NATIVE_KEYS: [&str; 3] = ["defaults", "groups", "hosts"];

/// Loads every path and merges them in order (later ones win for variables).
pub fn load(paths: &[impl AsRef<Path>]) -> Result<Inventory> {
    let mut inventory = Inventory::default();
    for path in paths {
        inventory.merge(load_one(path.as_ref())?);
    }
    inventory.finish()?;
    Ok(inventory)
}

fn load_one(path: &Path) -> Result<Inventory> {
    if dynamic::is_script(path) {
        return dynamic::load(path);
    }
    let source = std::fs::read_to_string(path).map_err(|e| Error::io(path, "read inventory", e))?;
    parse_yaml(path, &source)
}

/// Parses one YAML inventory on its own, ready to use.
pub fn from_yaml(path: &Path, source: &str) -> Result<Inventory> {
    let mut inventory = parse_yaml(path, source)?;
    inventory.finish()?;
    Ok(inventory)
}

/// Parses YAML inventory text (to be merged and finished), choosing the format by its top-level keys.
fn parse_yaml(path: &Path, source: &str) -> Result<Inventory> {
    // Only the top-level keys decide the format; their contents are parsed once, below.
    let top: Option<IndexMap<String, IgnoredAny>> =
        serde_yaml::from_str(source).map_err(|e| SourceError::from_yaml(path, source, &e))?;
    let Some(top) = top else {
        return Ok(Inventory::default());
    };
    let keys: Vec<&String> = top.keys().collect();
    if keys.iter().all(|k| NATIVE_KEYS.contains(&k.as_str())) && !keys.is_empty() {
        native::parse(path, source)
    } else {
        ansible::parse(path, source)
    }
}
