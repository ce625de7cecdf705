//! How an Ansible inventory resolves a host's variables and orders a group's hosts, exactly as
//! ansible-core does (`ansible-inventory --host`, `ansible PATTERN --list-hosts`).
//!
//! Variables, lowest first: `all`'s inventory vars → the host's groups' inventory vars,
//! ordered by depth (a child after its parents), then `ansible_group_priority`, then name →
//! `group_vars/all` beside each inventory source, then beside the playbook → `group_vars/G`
//! for those groups, same order → the host's inventory vars → `host_vars/H` beside the
//! inventory, then beside the playbook. Note the surprise Ansible users know: a
//! `group_vars/all` file beats `[g:vars]` written in the inventory.

use std::collections::HashMap;
use std::path::PathBuf;

use indexmap::IndexSet;

use super::group_vars::VarsDir;
use super::{Inventory, VarSource, Vars};

/// What an Ansible source adds to drover's model of groups and hosts.
#[derive(Debug, Default, Clone)]
pub struct AnsibleData {
    /// Hosts written directly under `all:` (Ansible lists them first in `all`).
    pub all_hosts: IndexSet<String>,
    /// Hosts put in `ungrouped` by the source itself (INI lines before any section, a host
    /// list): Ansible lists them before the hosts that are ungrouped only for lack of a group.
    pub ungrouped: IndexSet<String>,
    /// Groups written under `all: children:`, in order.
    pub all_children: IndexSet<String>,
    /// `ansible_group_priority` (default 1).
    pub priority: HashMap<String, i64>,
    /// Directories whose `group_vars/`/`host_vars/` apply, beside each inventory source.
    pub inventory_dirs: Vec<(PathBuf, VarsDir)>,
    /// The same beside the playbook, one level above the inventory's.
    pub playbook_dirs: Vec<(PathBuf, VarsDir)>,
}

pub const UNGROUPED: &str = "ungrouped";

impl Inventory {
    fn ansible_children(&self, data: &AnsibleData, group: &str) -> Vec<String> {
        if group == "all" {
            let mut out: IndexSet<String> = IndexSet::from([UNGROUPED.to_string()]);
            out.extend(data.all_children.iter().cloned());
            out.extend(
                self.groups
                    .keys()
                    .filter(|g| self.parents(g).next().is_none())
                    .cloned(),
            );
            return out.into_iter().collect();
        }
        self.groups
            .get(group)
            .map(|g| g.children.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn ansible_direct_hosts(&self, data: &AnsibleData, group: &str) -> Vec<String> {
        match group {
            "all" => data
                .all_hosts
                .iter()
                .filter(|h| self.hosts.contains_key(*h))
                .cloned()
                .collect(),
            UNGROUPED => {
                let ungrouped: IndexSet<&str> = self.ungrouped().collect();
                let mut out: IndexSet<&str> = data
                    .ungrouped
                    .iter()
                    .map(String::as_str)
                    .filter(|h| ungrouped.contains(h))
                    .collect();
                out.extend(ungrouped);
                out.into_iter().map(str::to_string).collect()
            }
            g => self
                .groups
                .get(g)
                .map(|g| g.hosts.iter().cloned().collect())
                .unwrap_or_default(),
        }
    }

    /// `ansible-inventory --graph`, line for line.
    pub(crate) fn ansible_graph(&self, data: &AnsibleData) -> String {
        fn group(inv: &Inventory, data: &AnsibleData, name: &str, depth: usize, out: &mut String) {
            let line = |text: &str, depth: usize| {
                if depth == 0 {
                    format!("{text}\n")
                } else {
                    format!("{}--{text}\n", "  |".repeat(depth))
                }
            };
            out.push_str(&line(&format!("@{name}:"), depth));
            if depth > inv.groups.len() + 1 {
                return; // cycles are rejected when loading; never loop here
            }
            for child in inv.ansible_children(data, name) {
                // drover draws `ungrouped` only when it has hosts.
                if child == UNGROUPED && inv.ungrouped().next().is_none() {
                    continue;
                }
                group(inv, data, &child, depth + 1, out);
            }
            if name != "all" {
                for host in inv.ansible_direct_hosts(data, name) {
                    out.push_str(&line(&host, depth + 1));
                }
            }
        }
        let mut out = String::new();
        group(self, data, "all", 0, &mut out);
        out
    }

    /// A group's hosts in Ansible's order: its own, then its children's level by level.
    pub(crate) fn ansible_group_hosts(&self, data: &AnsibleData, group: &str) -> Vec<String> {
        let mut ordered = vec![group.to_string()];
        let mut seen: IndexSet<String> = IndexSet::from([group.to_string()]);
        let mut frontier = vec![group.to_string()];
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for g in &frontier {
                for child in self.ansible_children(data, g) {
                    if seen.insert(child.clone()) {
                        ordered.push(child.clone());
                        next.push(child);
                    }
                }
            }
            frontier = next;
        }
        let mut hosts: IndexSet<String> = IndexSet::new();
        for g in ordered {
            hosts.extend(self.ansible_direct_hosts(data, &g));
        }
        hosts.into_iter().collect()
    }

    /// Group depth as Ansible counts it: a group without parents is 1, a child one more
    /// than its deepest parent.
    fn depth(&self, group: &str, memo: &mut HashMap<String, usize>) -> usize {
        if let Some(d) = memo.get(group) {
            return *d;
        }
        memo.insert(group.to_string(), 1); // cycles are rejected elsewhere
        let parents: Vec<String> = self.parents(group).map(str::to_string).collect();
        let d = parents
            .iter()
            .map(|p| self.depth(p, memo) + 1)
            .max()
            .unwrap_or(1);
        memo.insert(group.to_string(), d);
        d
    }

    /// The host's groups (with every ancestor), in Ansible's variable order.
    pub(crate) fn ansible_group_order(&self, data: &AnsibleData, host: &str) -> Vec<String> {
        let mut groups: IndexSet<String> = IndexSet::new();
        let Some(h) = self.hosts.get(host) else {
            return Vec::new();
        };
        let mut stack: Vec<String> = h.groups.iter().cloned().collect();
        while let Some(g) = stack.pop() {
            if groups.insert(g.clone()) {
                stack.extend(self.parents(&g).map(str::to_string));
            }
        }
        if h.groups.is_empty() {
            groups.insert(UNGROUPED.to_string());
        }
        let mut memo = HashMap::new();
        let mut keyed: Vec<(usize, i64, String)> = groups
            .into_iter()
            .map(|g| {
                let depth = self.depth(&g, &mut memo);
                let priority = data.priority.get(&g).copied().unwrap_or(1);
                (depth, priority, g)
            })
            .collect();
        keyed.sort();
        keyed.into_iter().map(|(_, _, g)| g).collect()
    }

    /// The host's variable layers, lowest first, as `ansible-inventory --host` merges them.
    pub(crate) fn ansible_layers<'a>(
        &'a self,
        data: &'a AnsibleData,
        host: &str,
    ) -> Vec<(VarSource, &'a Vars)> {
        let mut out = vec![(VarSource::Defaults, &self.defaults)];
        let groups = self.ansible_group_order(data, host);
        for g in &groups {
            if let Some(group) = self.groups.get(g) {
                out.push((VarSource::Group(g.clone()), &group.vars));
            }
        }
        let layers = [&data.inventory_dirs, &data.playbook_dirs];
        for dirs in layers {
            for (dir, vars) in dirs {
                if let Some(v) = vars.groups.get("all") {
                    out.push((VarSource::File(dir.join("group_vars/all")), v));
                }
            }
        }
        for dirs in layers {
            for (dir, vars) in dirs {
                for g in &groups {
                    if let Some(v) = vars.groups.get(g) {
                        out.push((VarSource::File(dir.join("group_vars").join(g)), v));
                    }
                }
            }
        }
        if let Some(h) = self.hosts.get(host) {
            out.push((VarSource::Host, &h.vars));
        }
        for dirs in layers {
            for (dir, vars) in dirs {
                if let Some(v) = vars.hosts.get(host) {
                    out.push((VarSource::File(dir.join("host_vars").join(host)), v));
                }
            }
        }
        out
    }
}
