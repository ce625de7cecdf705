//! Variables that many hosts inherit, shared instead of copied per host. A group's 200 KB
//! access list on 3,500 hosts was 3,500 copies of it held for the whole run (1.6 GB for a
//! 250 KB inventory). A host's templates now see, lowest first, the lists and maps of each
//! layer it inherits from (inventory defaults, groups, the host, play vars, extra vars),
//! each layer's converted once per run, and on top of them the host's own resolved map with
//! what those layers already say left out.

use std::collections::HashMap;
use std::sync::Arc;

use minijinja::Value;

use crate::inventory::Vars;

#[derive(Default)]
pub struct SharedVars {
    /// A layer's lists and maps (by the layer's address; layers live as long as the plan's
    /// inventory and playbook), or `None` when it has none.
    layers: HashMap<usize, Option<Value>>,
}

impl SharedVars {
    /// What `resolved` (the host's variables, resolved from `sources`, lowest first) looks
    /// like to templates: the sources' lists and maps, shared, under the host's own values.
    pub fn view(&mut self, sources: &[&Vars], resolved: &Arc<Vars>) -> Vec<Value> {
        let shared = |key: &String, value: &serde_json::Value| {
            (value.is_array() || value.is_object())
                && sources.iter().rev().find_map(|s| s.get(key)) == Some(value)
        };
        // Each value compared once: a shared list is as long to compare as to copy.
        let is_shared: Vec<bool> = resolved.iter().map(|(k, v)| shared(k, v)).collect();
        if !is_shared.contains(&true) {
            return vec![crate::template::json_map(resolved.clone())];
        }
        let own: Vars = resolved
            .iter()
            .zip(&is_shared)
            .filter(|(_, shared)| !**shared)
            .map(|((k, v), _)| (k.clone(), v.clone()))
            .collect();
        let mut view: Vec<Value> = sources.iter().filter_map(|s| self.layer(s)).collect();
        view.push(crate::template::json_map(Arc::new(own)));
        view
    }

    fn layer(&mut self, vars: &Vars) -> Option<Value> {
        self.layers
            .entry(vars as *const Vars as usize)
            .or_insert_with(|| {
                let containers: Vars = vars
                    .iter()
                    .filter(|(_, v)| v.is_array() || v.is_object())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                (!containers.is_empty()).then(|| crate::template::json_map(Arc::new(containers)))
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: serde_json::Value) -> Vars {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn the_view_says_what_the_resolved_map_says() {
        let group = vars(json!({"acl": ["a", "b"], "role": "core", "ntp": {"server": "x"}}));
        let host = vars(json!({"role": "edge", "ntp": {"server": "y"}}));
        let sources = [&group, &host];
        let mut resolved = group.clone();
        resolved.extend(host.clone());
        resolved.insert("address".into(), json!("10.0.0.1"));
        let resolved = Arc::new(resolved);
        let mut shared = SharedVars::default();
        let view = minijinja::value::merge_maps(shared.view(&sources, &resolved));
        for (k, v) in resolved.iter() {
            let seen = view.get_attr(k).unwrap();
            assert_eq!(seen, crate::template::to_value(v), "{k}");
        }
        let mut keys: Vec<String> = view
            .try_iter()
            .unwrap()
            .map(|k| k.as_str().unwrap().to_string())
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys, ["acl", "address", "ntp", "role"]);
        // The group's list is one value for every host.
        assert_eq!(shared.layers.len(), 2);
    }

    #[test]
    fn nothing_shared_is_the_resolved_map_itself() {
        let group = vars(json!({"role": "core"}));
        let resolved = Arc::new(group.clone());
        let view = SharedVars::default().view(&[&group], &resolved);
        assert_eq!(view.len(), 1);
    }
}
