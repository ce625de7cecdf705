//! The fleet: hosts, groups and their variables, read from native YAML, Ansible's YAML
//! inventory or a dynamic inventory script, and merged when `-i` is given several times.
//!
//! Variable precedence in drover's format, lowest to highest: `defaults` → groups (parents
//! before children, depth-first in the order the host's groups were declared, each group
//! once) → the host's own keys and vars. An Ansible inventory (YAML, INI, a host list)
//! resolves exactly as Ansible does instead (see `precedence`). Play vars and
//! `--extra-vars` come on top of that in the playbook module.
//! Connection settings (`address`, `port`, `user`, `transport`) are ordinary variables, so a
//! group can set `user` for all its hosts; Ansible's `ansible_host`, `ansible_port`,
//! `ansible_user` and `ansible_connection` (and their `ansible_ssh_*` forms) are read as
//! aliases, and the one set closer to the host wins.

mod address;
mod ansible;
mod connection;
mod dynamic;
mod group_vars;
mod ini;
mod literal;
mod load;
mod native;
mod paths;
mod pattern;
mod precedence;
mod range;
mod yaml11;

use indexmap::{IndexMap, IndexSet};
use serde_json::Value;

use crate::error::{Error, Result};

pub use connection::platform_for_network_os;
pub use load::{add_playbook_vars, from_yaml, load};
pub use pattern::select;

/// Variables: an ordered map of JSON values.
pub type Vars = serde_json::Map<String, Value>;

#[derive(Debug, Default, Clone)]
pub struct Inventory {
    pub defaults: Vars,
    pub groups: IndexMap<String, Group>,
    pub hosts: IndexMap<String, Host>,
    /// Present once an Ansible source is read: variables then resolve, and patterns select,
    /// exactly as Ansible does.
    pub(crate) ansible: Option<Box<precedence::AnsibleData>>,
    /// Native inventory files with a `platforms:` key (network platform profiles), and
    /// their text, for `platform::Platforms::add_inventory`.
    pub platform_sources: Vec<(std::path::PathBuf, String)>,
}

#[derive(Debug, Default, Clone)]
pub struct Group {
    pub vars: Vars,
    /// Hosts that are direct members.
    pub hosts: IndexSet<String>,
    /// Child groups: their hosts are members of this group too.
    pub children: IndexSet<String>,
}

#[derive(Debug, Default, Clone)]
pub struct Host {
    pub vars: Vars,
    /// Groups this host is a direct member of, in declaration order.
    pub groups: IndexSet<String>,
}

/// Where a resolved variable came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarSource {
    Defaults,
    Group(String),
    Host,
    /// A `group_vars/` or `host_vars/` file (or directory).
    File(std::path::PathBuf),
}

impl std::fmt::Display for VarSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VarSource::Defaults => write!(f, "defaults"),
            VarSource::Group(g) => write!(f, "group {g}"),
            VarSource::Host => write!(f, "host"),
            VarSource::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The transport a host is reached by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    Local,
    Ssh,
    Mqtt,
}

impl TransportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Local => "local",
            TransportKind::Ssh => "ssh",
            TransportKind::Mqtt => "mqtt",
        }
    }
}

/// How to reach one host, read from its resolved variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub address: String,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub transport: TransportKind,
    /// Every variable the host ends up with (inventory, play vars, extra vars), from which
    /// each transport reads its own options (identity file, jump hosts, broker URL...).
    pub vars: std::sync::Arc<Vars>,
}

impl Connection {
    /// Reads `address`/`ansible_host`/`ansible_ssh_host`, `port`/`ansible_port`/
    /// `ansible_ssh_port`, `user`/`ansible_user`/`ansible_ssh_user` and
    /// `transport`/`ansible_connection` (default `ssh`, as Ansible does), and adds drover's
    /// names for Ansible's other connection variables (`platform`, `enable_secret`, ...).
    /// Takes the vars by value: a fleet's worth of per-host copies would be megabytes for
    /// nothing.
    pub fn from_vars(host: &str, mut vars: Vars) -> Result<Connection> {
        let invalid = |message: String| Error::Invalid {
            what: format!("host {host}"),
            message,
        };
        connection::derive(host, &mut vars).map_err(invalid)?;
        let get = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| vars.get(*n).filter(|v| !v.is_null()))
        };
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let address = get(&ADDRESS).map_or_else(|| host.to_string(), text);
        let port =
            match get(&PORT) {
                None => None,
                Some(v) => Some(text(v).parse::<u16>().map_err(|_| {
                    invalid(format!("port must be a number from 1 to 65535, not {v}"))
                })?),
            };
        let user = get(&USER).map(text);
        let transport = match (
            vars.get("transport").filter(|v| !v.is_null()),
            get(&["ansible_connection"]),
        ) {
            (Some(v), _) => match text(v).as_str() {
                "ssh" | "paramiko" | "network_cli" => TransportKind::Ssh,
                "local" => TransportKind::Local,
                "mqtt" => TransportKind::Mqtt,
                other => {
                    return Err(invalid(format!(
                        "unknown transport `{other}` (expected local, ssh or mqtt)"
                    )))
                }
            },
            (None, Some(v)) => connection::transport_for(&text(v)).map_err(invalid)?,
            (None, None) => TransportKind::Ssh,
        };
        let vars = std::sync::Arc::new(vars);
        Ok(Connection {
            address,
            port,
            user,
            transport,
            vars,
        })
    }
}

/// Drover's name for a connection setting first, then Ansible's, then Ansible's legacy one.
const ADDRESS: [&str; 3] = ["address", "ansible_host", "ansible_ssh_host"];
const PORT: [&str; 3] = ["port", "ansible_port", "ansible_ssh_port"];
const USER: [&str; 3] = ["user", "ansible_user", "ansible_ssh_user"];
const TRANSPORT: [&str; 2] = ["transport", "ansible_connection"];

/// Where a connection setting is given under several names, the one set closest to the
/// host wins: drover's name takes the value of an alias set at a closer level.
fn closer_aliases(out: &mut Vars, rank: &std::collections::HashMap<String, usize>) {
    for names in [&ADDRESS[..], &PORT[..], &USER[..], &TRANSPORT[..]] {
        let (own, aliases) = (names[0], &names[1..]);
        let Some(own_rank) = rank.get(own) else {
            continue;
        };
        let closest = aliases
            .iter()
            .filter_map(|a| rank.get(*a).map(|r| (r, *a)))
            .filter(|(r, _)| *r > own_rank)
            .max();
        if let Some((_, alias)) = closest {
            if let Some(v) = out.get(alias).cloned() {
                if own == "transport" {
                    // Ansible's connection names are not drover's; the alias decides.
                    out.remove(own);
                } else {
                    out.insert(own.to_string(), v);
                }
            }
        }
    }
}

impl Inventory {
    /// Adds `other` on top of `self`: later inventories win for variables, memberships add up.
    pub fn merge(&mut self, other: Inventory) {
        if let Some(theirs) = other.ansible {
            let mine = self.ansible.get_or_insert_with(Box::default);
            mine.all_hosts.extend(theirs.all_hosts);
            mine.ungrouped.extend(theirs.ungrouped);
            mine.all_children.extend(theirs.all_children);
            mine.priority.extend(theirs.priority);
            mine.inventory_dirs.extend(theirs.inventory_dirs);
            mine.playbook_dirs.extend(theirs.playbook_dirs);
        }
        self.defaults.extend(other.defaults);
        self.platform_sources.extend(other.platform_sources);
        for (name, group) in other.groups {
            let mine = self.groups.entry(name).or_default();
            mine.vars.extend(group.vars);
            mine.hosts.extend(group.hosts);
            mine.children.extend(group.children);
        }
        for (name, host) in other.hosts {
            let mine = self.hosts.entry(name).or_default();
            mine.vars.extend(host.vars);
            mine.groups.extend(host.groups);
        }
    }

    /// Makes memberships consistent both ways, creates groups and hosts that are only named,
    /// and rejects cycles among groups.
    pub(crate) fn finish(&mut self) -> Result<()> {
        let names: Vec<String> = self.groups.keys().cloned().collect();
        for group in &names {
            let (hosts, children) = {
                let g = &self.groups[group];
                (g.hosts.clone(), g.children.clone())
            };
            for host in hosts {
                self.hosts
                    .entry(host)
                    .or_default()
                    .groups
                    .insert(group.clone());
            }
            for child in children {
                self.groups.entry(child).or_default();
            }
        }
        let memberships: Vec<(String, String)> = self
            .hosts
            .iter()
            .flat_map(|(h, host)| host.groups.iter().map(move |g| (h.clone(), g.clone())))
            .collect();
        for (host, group) in memberships {
            self.groups.entry(group).or_default().hosts.insert(host);
        }
        for name in self.groups.keys() {
            let mut path = Vec::new();
            self.check_cycle(name, &mut path)?;
        }
        Ok(())
    }

    fn check_cycle<'a>(&'a self, group: &'a str, path: &mut Vec<&'a str>) -> Result<()> {
        if path.contains(&group) {
            path.push(group);
            return Err(Error::Invalid {
                what: "inventory".into(),
                message: format!("groups contain each other: {}", path.join(" → ")),
            });
        }
        path.push(group);
        if let Some(g) = self.groups.get(group) {
            for child in &g.children {
                self.check_cycle(child, path)?;
            }
        }
        path.pop();
        Ok(())
    }

    /// The parents of a group, in the order they were declared.
    fn parents<'a>(&'a self, group: &str) -> impl Iterator<Item = &'a str> + 'a {
        let group = group.to_string();
        self.groups
            .iter()
            .filter(move |(_, g)| g.children.contains(&group))
            .map(|(name, _)| name.as_str())
    }

    /// The groups whose vars apply to `host`, lowest precedence first: for each group the
    /// host is in, its ancestors (depth-first) and then the group itself, each group once.
    pub fn group_order(&self, host: &str) -> Vec<&str> {
        if let Some(data) = &self.ansible {
            return self
                .ansible_group_order(data, host)
                .iter()
                .filter_map(|g| match self.groups.get_key_value(g.as_str()) {
                    Some((name, _)) => Some(name.as_str()),
                    None => (g == precedence::UNGROUPED).then_some(precedence::UNGROUPED),
                })
                .collect();
        }
        fn visit<'a>(inv: &'a Inventory, g: &'a str, out: &mut IndexSet<&'a str>, depth: usize) {
            if out.contains(g) || depth > inv.groups.len() {
                return;
            }
            for parent in inv.parents(g) {
                visit(inv, parent, out, depth + 1);
            }
            out.insert(g);
        }
        let mut out = IndexSet::new();
        if let Some(h) = self.hosts.get(host) {
            for g in &h.groups {
                if let Some((name, _)) = self.groups.get_key_value(g.as_str()) {
                    visit(self, name, &mut out, 0);
                }
            }
        }
        out.into_iter().collect()
    }

    /// The variable layers of `host`, lowest precedence first.
    /// The maps a host's variables are resolved from, lowest precedence first.
    pub fn var_layers(&self, host: &str) -> Vec<&Vars> {
        self.layers(host).into_iter().map(|(_, v)| v).collect()
    }

    fn layers(&self, host: &str) -> Vec<(VarSource, &Vars)> {
        if let Some(data) = &self.ansible {
            return self.ansible_layers(data, host);
        }
        let mut layers = vec![(VarSource::Defaults, &self.defaults)];
        for g in self.group_order(host) {
            layers.push((VarSource::Group(g.to_string()), &self.groups[g].vars));
        }
        if let Some(h) = self.hosts.get(host) {
            layers.push((VarSource::Host, &h.vars));
        }
        layers
    }

    /// The host's variables with the place each came from, in precedence order, as the
    /// inventory itself says (`drover inventory --host`).
    pub fn resolve_with_sources(&self, host: &str) -> IndexMap<String, (Value, VarSource)> {
        let mut out = IndexMap::new();
        for (source, vars) in self.layers(host) {
            for (k, v) in vars {
                out.insert(k.clone(), (v.clone(), source.clone()));
            }
        }
        out
    }

    /// The host's variables as the inventory lists them (`--list`).
    fn listed_vars(&self, host: &str) -> Vars {
        let mut out = Vars::new();
        for (_, vars) in self.layers(host) {
            out.extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        out
    }

    /// The host's variables, resolved for a run: as listed, and where a connection setting
    /// is given under several names, the one set closest to the host wins.
    pub fn resolve(&self, host: &str) -> Vars {
        let mut out = Vars::new();
        let mut rank = std::collections::HashMap::new();
        for (i, (_, vars)) in self.layers(host).into_iter().enumerate() {
            for (k, v) in vars {
                out.insert(k.clone(), v.clone());
                rank.insert(k.clone(), i);
            }
        }
        closer_aliases(&mut out, &rank);
        out
    }

    /// Every host in `group`, through its children too, in inventory order.
    pub fn group_members(&self, group: &str) -> IndexSet<&str> {
        let mut groups = IndexSet::new();
        let mut stack = vec![group];
        while let Some(g) = stack.pop() {
            if groups.insert(g) {
                if let Some(grp) = self.groups.get(g) {
                    stack.extend(grp.children.iter().map(String::as_str));
                }
            }
        }
        self.hosts
            .iter()
            .filter(|(_, h)| h.groups.iter().any(|g| groups.contains(g.as_str())))
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// Hosts in no group, in inventory order (Ansible's `ungrouped`).
    pub fn ungrouped(&self) -> impl Iterator<Item = &str> {
        self.hosts
            .iter()
            .filter(|(_, h)| h.groups.is_empty())
            .map(|(n, _)| n.as_str())
    }

    /// `groups` as templates see it: every group (and `all`, `ungrouped`) to its hosts.
    pub fn groups_map(&self) -> IndexMap<String, Vec<String>> {
        let mut map = IndexMap::new();
        if let Some(data) = &self.ansible {
            // In Ansible's order, as its `groups` magic variable has them.
            let names = ["all", precedence::UNGROUPED]
                .into_iter()
                .chain(self.groups.keys().map(String::as_str));
            for name in names {
                map.insert(name.to_string(), self.ansible_group_hosts(data, name));
            }
            return map;
        }
        map.insert("all".to_string(), self.hosts.keys().cloned().collect());
        let ungrouped = self.ungrouped().map(str::to_string).collect();
        map.insert("ungrouped".to_string(), ungrouped);
        for name in self.groups.keys() {
            let members = self
                .group_members(name)
                .into_iter()
                .map(str::to_string)
                .collect();
            map.insert(name.clone(), members);
        }
        map
    }

    /// Groups with no parent: the roots of `--graph`.
    pub fn top_groups(&self) -> Vec<&str> {
        self.groups
            .keys()
            .filter(|g| self.parents(g).next().is_none())
            .map(String::as_str)
            .collect()
    }
}

/// The group tree as `ansible-inventory --graph` draws it.
pub fn graph(inv: &Inventory) -> String {
    if let Some(data) = &inv.ansible {
        return inv.ansible_graph(data);
    }
    fn group(inv: &Inventory, name: &str, depth: usize, out: &mut String) {
        let indent = "  |".repeat(depth);
        out.push_str(&format!("{indent}--@{name}:\n"));
        if let Some(g) = inv.groups.get(name) {
            for child in &g.children {
                group(inv, child, depth + 1, out);
            }
            for host in &g.hosts {
                out.push_str(&format!("{indent}  |--{host}\n"));
            }
        }
    }
    let mut out = String::from("@all:\n");
    for name in inv.top_groups() {
        group(inv, name, 1, &mut out);
    }
    let ungrouped: Vec<&str> = inv.ungrouped().collect();
    if !ungrouped.is_empty() {
        out.push_str("  |--@ungrouped:\n");
        for h in ungrouped {
            out.push_str(&format!("  |  |--{h}\n"));
        }
    }
    out
}

/// The inventory in Ansible's `--list` JSON form, with resolved `_meta.hostvars`.
pub fn to_ansible_json(inv: &Inventory) -> Value {
    let mut top = ansible_groups(inv);
    let hostvars: serde_json::Map<String, Value> = inv
        .hosts
        .keys()
        .map(|h| (h.clone(), Value::Object(masked(inv.listed_vars(h)))))
        .collect();
    top.insert("_meta".into(), serde_json::json!({ "hostvars": hostvars }));
    Value::Object(top)
}

/// [`to_ansible_json`], pretty-printed, written a host at a time: every host's hostvars
/// repeat the group vars it inherits (as Ansible's do), so a big group's vars on thousands
/// of hosts would be gigabytes if built as one value first.
pub fn write_ansible_json(inv: &Inventory, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let groups = serde_json::to_string_pretty(&Value::Object(ansible_groups(inv)))?;
    let head = groups.strip_suffix("\n}").unwrap_or("{");
    out.write_all(head.as_bytes())?;
    out.write_all(b",\n  \"_meta\": {\n    \"hostvars\": {")?;
    for (i, h) in inv.hosts.keys().enumerate() {
        let vars = serde_json::to_string_pretty(&Value::Object(masked(inv.listed_vars(h))))?;
        let key = Value::String(h.clone()).to_string();
        let sep = if i == 0 { "" } else { "," };
        let vars = vars.replace('\n', "\n      ");
        out.write_all(format!("{sep}\n      {key}: {vars}").as_bytes())?;
    }
    let end = if inv.hosts.is_empty() {
        "}\n  }\n}\n"
    } else {
        "\n    }\n  }\n}\n"
    };
    out.write_all(end.as_bytes())
}

/// The `--list` form's groups, without `_meta`.
fn ansible_groups(inv: &Inventory) -> serde_json::Map<String, Value> {
    let mut top = serde_json::Map::new();
    let mut all = serde_json::Map::new();
    let mut children: Vec<&str> = inv.top_groups();
    let ungrouped: Vec<String> = match &inv.ansible {
        Some(data) => inv.ansible_direct_hosts(data, precedence::UNGROUPED),
        None => inv.ungrouped().map(str::to_string).collect(),
    };
    if !ungrouped.is_empty() {
        children.push("ungrouped");
        top.insert(
            "ungrouped".into(),
            serde_json::json!({ "hosts": ungrouped }),
        );
    }
    all.insert("children".into(), serde_json::json!(children));
    if !inv.defaults.is_empty() {
        all.insert("vars".into(), Value::Object(masked(inv.defaults.clone())));
    }
    top.insert("all".into(), Value::Object(all));
    for (name, g) in &inv.groups {
        let mut entry = serde_json::Map::new();
        entry.insert("hosts".into(), serde_json::json!(g.hosts));
        if !g.children.is_empty() {
            entry.insert("children".into(), serde_json::json!(g.children));
        }
        if !g.vars.is_empty() {
            entry.insert("vars".into(), Value::Object(masked(g.vars.clone())));
        }
        top.insert(name.clone(), Value::Object(entry));
    }
    top
}

/// Variable names whose values are masked in output (see [`crate::secrets`]).
pub fn is_secret_name(name: &str) -> bool {
    crate::secrets::is_secret_name(name)
}

/// Secret-named values as listings show them, at any depth.
fn masked(mut vars: Vars) -> Vars {
    for (k, v) in vars.iter_mut() {
        *v = crate::secrets::mask_json(k, v, false);
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn the_streamed_listing_is_the_built_one() {
        let native = "defaults: {transport: local, api_token: t0k3nX}\n\
            groups:\n  core:\n    vars: {acl: [a, b], ntp: {server: x}}\n    hosts: [10.0.0.1]\n\
            hosts:\n  10.0.0.1: {vars: {role: \"edge\\n\"}}\n  10.0.0.2: {}\n";
        let ini = "[core]\n10.0.0.1 x=1\n[edge]\n10.0.0.2\n";
        for inv in [
            native::parse(Path::new("inv.yml"), native).unwrap(),
            ini::parse(Path::new("hosts"), ini).unwrap(),
            native::parse(Path::new("inv.yml"), "hosts: {}\n").unwrap(),
        ] {
            let mut streamed = Vec::new();
            write_ansible_json(&inv, &mut streamed).unwrap();
            let built = serde_json::to_string_pretty(&to_ansible_json(&inv)).unwrap() + "\n";
            assert_eq!(String::from_utf8(streamed).unwrap(), built);
        }
    }
}
