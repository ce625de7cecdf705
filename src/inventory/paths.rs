//! Relative paths in inventory variables (identity files, certificates, known_hosts) are
//! relative to the file that set them, as Ansible reads `group_vars`: the same inventory then
//! works from cron, which starts in `$HOME`, as it does from the inventory's directory.

use std::path::Path;

use serde_json::Value;

use super::{Inventory, Vars};

/// The variables that hold a path (or a list of them, for identity files).
pub const PATH_VARS: [&str; 12] = [
    "ssh_identity_file",
    "ansible_ssh_private_key_file",
    "ansible_private_key_file",
    "jump_identity_file",
    "ssh_config",
    "known_hosts_file",
    "ssh_known_hosts_file",
    "mqtt_ca",
    "mqtt_cert",
    "mqtt_key",
    "mqtt_cert_dir",
    "mqtt_password_file",
];

/// Makes the relative paths in `vars` relative to `dir`. `~/…`, absolute paths and templates
/// (`{{ inventory_dir }}/key`) are left as they are.
pub fn anchor(vars: &mut Vars, dir: &Path) {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    for name in PATH_VARS {
        match vars.get_mut(name) {
            Some(Value::String(s)) => anchor_one(s, &dir),
            Some(Value::Array(items)) => {
                for item in items {
                    if let Value::String(s) = item {
                        anchor_one(s, &dir);
                    }
                }
            }
            _ => {}
        }
    }
}

fn anchor_one(value: &mut String, dir: &Path) {
    let relative = !value.is_empty()
        && Path::new(value.as_str()).is_relative()
        && !value.starts_with('~')
        && !value.contains("{{");
    if relative {
        *value = dir.join(value.as_str()).display().to_string();
    }
}

impl Inventory {
    /// Anchors every path variable this inventory (read from a file in `dir`) sets.
    pub(crate) fn anchor_paths(&mut self, dir: &Path) {
        anchor(&mut self.defaults, dir);
        for group in self.groups.values_mut() {
            anchor(&mut group.vars, dir);
        }
        for host in self.hosts.values_mut() {
            anchor(&mut host.vars, dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_anchored_and_others_kept() {
        let mut vars = Vars::new();
        vars.insert("ssh_identity_file".into(), "keys/id".into());
        vars.insert("mqtt_ca".into(), "/etc/ca.pem".into());
        vars.insert("known_hosts_file".into(), "~/.ssh/kh".into());
        vars.insert("mqtt_cert_dir".into(), "{{ base }}/certs".into());
        vars.insert("jump_identity_file".into(), serde_json::json!(["a", "/b"]));
        vars.insert("other".into(), "keys/id".into());
        anchor(&mut vars, Path::new("/inv"));
        assert_eq!(vars["ssh_identity_file"], "/inv/keys/id");
        assert_eq!(vars["mqtt_ca"], "/etc/ca.pem");
        assert_eq!(vars["known_hosts_file"], "~/.ssh/kh");
        assert_eq!(vars["mqtt_cert_dir"], "{{ base }}/certs");
        assert_eq!(
            vars["jump_identity_file"],
            serde_json::json!(["/inv/a", "/b"])
        );
        assert_eq!(vars["other"], "keys/id");
    }
}
