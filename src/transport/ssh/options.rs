//! A host's ssh options, read from its variables and checked at plan time, and the per-run
//! ssh config text they turn into. Everything OpenSSH should see goes into that config file
//! (not `-o` flags), because `ProxyJump` hands only `-F` on to the jump connection.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::inventory::Vars;

/// How an unknown or changed host key is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostKeyPolicy {
    /// Only keys already in known_hosts are accepted.
    Strict,
    /// Unknown keys are added; changed keys are refused.
    AcceptNew,
    /// Nothing is checked or recorded. Only when asked for by name.
    Off,
}

/// What runs at the other end of the exec channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteShell {
    /// A POSIX login shell: drover learns the command's process group, so a command timeout
    /// kills it, and `shell` scripts run under `sh -c`.
    Posix,
    /// A device CLI: the line is sent exactly as typed; a command timeout closes the
    /// connection, which is all a device offers.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshOptions {
    pub identity_file: Option<PathBuf>,
    pub jump: Vec<String>,
    pub config: Option<PathBuf>,
    pub host_keys: HostKeyPolicy,
    /// `ssh_options`, in the order written, as config lines.
    pub extra: Vec<(String, String)>,
    pub shell: RemoteShell,
}

/// Options drover manages itself; setting them would break the master or the run.
const RESERVED: [&str; 5] = [
    "ControlMaster",
    "ControlPath",
    "ControlPersist",
    "BatchMode",
    "StrictHostKeyChecking",
];

impl SshOptions {
    /// Reads the ssh variables of one host. The message says which variable is wrong.
    pub fn from_vars(vars: &Vars) -> Result<SshOptions, String> {
        fn first<'a>(vars: &'a Vars, names: &[&'static str]) -> Option<(&'static str, &'a Value)> {
            names
                .iter()
                .find_map(|n| vars.get(*n).filter(|v| !v.is_null()).map(|v| (*n, v)))
        }
        let get = |names: &[&'static str]| first(vars, names);
        let identity_file = match get(&["ssh_identity_file", "ansible_ssh_private_key_file"]) {
            None => None,
            Some((name, v)) => Some(existing_file(name, v)?),
        };
        let config = match get(&["ssh_config"]) {
            None => None,
            Some((name, v)) => Some(existing_file(name, v)?),
        };
        let jump = match get(&["jump", "ssh_jump"]) {
            None => Vec::new(),
            Some((name, Value::String(s))) => vec![jump_host(name, s)?],
            Some((name, Value::Array(items))) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => jump_host(name, s),
                    other => Err(format!(
                        "`{name}` entries must be `[user@]host[:port]` strings, not {other}"
                    )),
                })
                .collect::<Result<_, _>>()?,
            Some((name, other)) => {
                return Err(format!(
                    "`{name}` must be a list of `[user@]host[:port]` strings, not {other}"
                ))
            }
        };
        let host_keys = match get(&["host_key_checking", "ansible_host_key_checking"]) {
            None => HostKeyPolicy::Strict,
            Some((_, Value::String(s))) if s == "strict" => HostKeyPolicy::Strict,
            Some((_, Value::String(s))) if s == "accept-new" => HostKeyPolicy::AcceptNew,
            Some((_, Value::String(s))) if s == "off" => HostKeyPolicy::Off,
            Some((name, other)) => {
                return Err(format!(
                    "`{name}` must be `strict`, `accept-new` or `off`, not {other}"
                ))
            }
        };
        let extra = match get(&["ssh_options"]) {
            None => Vec::new(),
            Some((_, Value::Object(map))) => map
                .iter()
                .map(|(k, v)| extra_option(k, v))
                .collect::<Result<_, _>>()?,
            Some((_, other)) => {
                return Err(format!(
                    "`ssh_options` must be a map of ssh_config options, not {other}"
                ))
            }
        };
        let device = matches!(
            vars.get("ansible_connection"),
            Some(Value::String(s)) if s == "network_cli"
        );
        let shell = match get(&["ssh_shell"]) {
            None if device => RemoteShell::None,
            None => RemoteShell::Posix,
            Some((_, Value::String(s))) if s == "posix" => RemoteShell::Posix,
            Some((_, Value::String(s))) if s == "none" => RemoteShell::None,
            Some((name, other)) => {
                return Err(format!("`{name}` must be `posix` or `none`, not {other}"))
            }
        };
        Ok(SshOptions {
            identity_file,
            jump,
            config,
            host_keys,
            extra,
            shell,
        })
    }

    /// The per-run ssh config for hosts with these options. OpenSSH keeps the first value
    /// it reads for an option, so the user's `ssh_options` come first, then drover's
    /// defaults, then the included user config (which fills in whatever is left).
    pub fn config_text(&self, connect_timeout_secs: u64) -> String {
        let mut text = String::from("# generated by drover for one run; removed at exit\nHost *\n");
        for (k, v) in &self.extra {
            text.push_str(&format!("  {k} {v}\n"));
        }
        text.push_str("  ServerAliveInterval 15\n  ServerAliveCountMax 3\n");
        text.push_str(&format!("  ConnectTimeout {connect_timeout_secs}\n"));
        if let Some(key) = &self.identity_file {
            text.push_str(&format!(
                "  IdentityFile {}\n  IdentitiesOnly yes\n",
                quoted(key)
            ));
        }
        if self.host_keys == HostKeyPolicy::Off {
            text.push_str("  UserKnownHostsFile /dev/null\n  GlobalKnownHostsFile /dev/null\n");
        }
        match &self.config {
            Some(path) => text.push_str(&format!("  Include {}\n", quoted(path))),
            None => text.push_str("  Include ~/.ssh/config\n  Include /etc/ssh/ssh_config\n"),
        }
        text
    }
}

fn quoted(path: &Path) -> String {
    format!("\"{}\"", path.display())
}

/// A path that exists, made absolute (ssh resolves relative `Include`s against `~/.ssh`).
fn existing_file(name: &str, value: &Value) -> Result<PathBuf, String> {
    let Value::String(s) = value else {
        return Err(format!("`{name}` must be a file path, not {value}"));
    };
    let expanded = match s.strip_prefix("~/") {
        Some(rest) => match std::env::var_os("HOME") {
            Some(home) => Path::new(&home).join(rest),
            None => PathBuf::from(s),
        },
        None => PathBuf::from(s),
    };
    let path =
        std::path::absolute(&expanded).map_err(|e| format!("`{name}`: cannot resolve {s}: {e}"))?;
    if !path.is_file() {
        return Err(format!("`{name}`: no such file: {}", path.display()));
    }
    let text = path.to_string_lossy();
    if text.contains(['"', '\n', '\r']) {
        return Err(format!(
            "`{name}`: a path with quotes or line breaks cannot go into an ssh config: {s}"
        ));
    }
    Ok(path)
}

/// `[user@]host[:port]`, as `ssh -J` takes it.
fn jump_host(name: &str, s: &str) -> Result<String, String> {
    let bad = |why: &str| format!("`{name}`: `{s}` is not a `[user@]host[:port]` jump host: {why}");
    let rest = s.rsplit_once('@').map_or(s, |(_, h)| h);
    let host = match rest.rsplit_once(':') {
        Some((h, port)) if !h.contains(':') => {
            port.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| bad("the port must be a number from 1 to 65535"))?;
            h
        }
        _ => rest,
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    if s.chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ',' || c == '"')
    {
        return Err(bad("spaces, commas and quotes are not allowed"));
    }
    Ok(s.to_string())
}

fn extra_option(key: &str, value: &Value) -> Result<(String, String), String> {
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "`ssh_options`: `{key}` is not an ssh_config option name"
        ));
    }
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(key)) {
        return Err(format!(
            "`ssh_options`: `{key}` is managed by drover (see `host_key_checking` for host keys)"
        ));
    }
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(true) => "yes".to_string(),
        Value::Bool(false) => "no".to_string(),
        other => {
            return Err(format!(
                "`ssh_options`: `{key}` must be a string, number or boolean, not {other}"
            ))
        }
    };
    if text.is_empty() || text.chars().any(|c| c.is_control()) {
        return Err(format!(
            "`ssh_options`: `{key}` must be one line of text, not {text:?}"
        ));
    }
    Ok((key.to_string(), text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(yaml: &str) -> Vars {
        serde_yaml::from_str(yaml).expect("yaml")
    }

    #[test]
    fn defaults_are_strict_posix_and_include_the_user_config() {
        let o = SshOptions::from_vars(&Vars::new()).expect("valid");
        assert_eq!(o.host_keys, HostKeyPolicy::Strict);
        assert_eq!(o.shell, RemoteShell::Posix);
        let text = o.config_text(10);
        assert!(text.contains("  ConnectTimeout 10\n"), "{text}");
        assert!(text.contains("  Include ~/.ssh/config\n"), "{text}");
    }

    #[test]
    fn user_ssh_options_come_first_so_they_win() {
        let o = SshOptions::from_vars(&vars(
            "ssh_options: {KexAlgorithms: +diffie-hellman-group1-sha1, ServerAliveCountMax: 9, Compression: true}",
        ))
        .expect("valid");
        let text = o.config_text(10);
        let user = text.find("ServerAliveCountMax 9").expect("user value");
        let ours = text.find("ServerAliveCountMax 3").expect("default");
        assert!(user < ours, "{text}");
        assert!(text.contains("  KexAlgorithms +diffie-hellman-group1-sha1\n"));
        assert!(text.contains("  Compression yes\n"));
    }

    #[test]
    fn bad_options_are_refused_with_the_variable_named() {
        for (yaml, needle) in [
            ("host_key_checking: maybe", "`host_key_checking` must be"),
            (
                "ssh_options: {\"Bad Key\": x}",
                "not an ssh_config option name",
            ),
            (
                "ssh_options: {ProxyCommand: \"a\\nHost *\"}",
                "one line of text",
            ),
            ("ssh_options: {ControlPath: /tmp/x}", "managed by drover"),
            ("jump: [\"a b\"]", "spaces, commas"),
            ("jump: [\"bastion:99999\"]", "port must be"),
            ("jump: 3", "must be a list"),
            ("ssh_identity_file: /nonexistent/key", "no such file"),
            ("ssh_config: /nonexistent/config", "no such file"),
            ("ssh_shell: csh", "`ssh_shell` must be"),
        ] {
            let err = SshOptions::from_vars(&vars(yaml)).expect_err(yaml);
            assert!(err.contains(needle), "{yaml}: {err}");
        }
    }

    #[test]
    fn jump_hosts_accept_users_ports_and_a_single_string() {
        let o = SshOptions::from_vars(&vars("jump: [ops@bastion:2222, 10.0.0.1]")).expect("ok");
        assert_eq!(o.jump, ["ops@bastion:2222", "10.0.0.1"]);
        let o = SshOptions::from_vars(&vars("jump: bastion")).expect("ok");
        assert_eq!(o.jump, ["bastion"]);
    }

    #[test]
    fn network_cli_hosts_get_the_line_as_typed() {
        let o = SshOptions::from_vars(&vars("ansible_connection: network_cli")).expect("ok");
        assert_eq!(o.shell, RemoteShell::None);
    }
}
