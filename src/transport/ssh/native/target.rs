//! A host's native ssh settings, read once from its connection and variables: where to
//! connect, as whom, with which keys and password, through which jump hosts, how host keys
//! are checked and which algorithms may be offered.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::algorithms::Algorithms;
use crate::inventory::{Connection, Vars};
use crate::transport::ssh::options::HostKeyPolicy;

/// A password that never shows: `Debug` prints stars, and nothing formats it otherwise.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"********\"")
    }
}

/// One machine to log in to: the target or a jump host on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub address: String,
    pub port: u16,
    pub user: String,
    /// Tried in order; `None` means OpenSSH's defaults in `~/.ssh` (those that exist).
    pub identity_files: Option<Vec<PathBuf>>,
    pub password: Option<Secret>,
}

impl Hop {
    /// `addr:port` as messages name it (`[v6]:port` for IPv6).
    pub fn label(&self) -> String {
        if self.address.contains(':') {
            format!("[{}]:{}", self.address, self.port)
        } else {
            format!("{}:{}", self.address, self.port)
        }
    }

    /// The identity files to offer: the given ones, or the usual defaults that exist.
    pub fn identities(&self) -> Vec<PathBuf> {
        match &self.identity_files {
            Some(files) => files.clone(),
            None => {
                let Some(home) = std::env::var_os("HOME") else {
                    return Vec::new();
                };
                ["id_ed25519", "id_ecdsa", "id_rsa"]
                    .iter()
                    .map(|n| Path::new(&home).join(".ssh").join(n))
                    .filter(|p| p.is_file())
                    .collect()
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeTarget {
    pub host: Hop,
    /// Jump hosts, first hop first.
    pub jumps: Vec<Hop>,
    pub host_keys: HostKeyPolicy,
    pub known_hosts: PathBuf,
    pub algorithms: Algorithms,
    /// What a network device's `enable` asks for (`enable_secret`, which Ansible's
    /// `ansible_become_password` becomes).
    pub enable_secret: Option<Secret>,
}

/// The first of `names` that is set (not null), with the name it was found under.
fn first<'a>(vars: &'a Vars, names: &[&'static str]) -> Option<(&'static str, &'a Value)> {
    names
        .iter()
        .find_map(|n| vars.get(*n).filter(|v| !v.is_null()).map(|v| (*n, v)))
}

/// The variables a password can come in, in the order they are looked at.
pub const PASSWORD_VARS: [&str; 3] = ["password", "ansible_password", "ansible_ssh_pass"];

impl NativeTarget {
    /// Reads one host's native ssh settings. The message names the variable that is wrong.
    pub fn from_connection(conn: &Connection) -> Result<NativeTarget, String> {
        let vars = &conn.vars;
        let get = |names: &[&'static str]| first(vars, names);
        let user = conn.user.clone().unwrap_or_else(local_user);
        let identity_files = match get(&["ssh_identity_file", "ansible_ssh_private_key_file"]) {
            None => None,
            Some((name, v)) => Some(files(name, v)?),
        };
        let password = match get(&PASSWORD_VARS) {
            None => None,
            Some((name, v)) => Some(secret(name, v)?),
        };
        let host = Hop {
            address: conn.address.clone(),
            port: conn.port.unwrap_or(22),
            user: user.clone(),
            identity_files: identity_files.clone(),
            password,
        };
        // What a hop has unless it says otherwise: `jump_*`, else the host's user and keys
        // (never the host's password: a router's password is not sent to a bastion).
        let hop_user = match get(&["jump_user"]) {
            None => user,
            Some((name, v)) => text(name, v)?,
        };
        let hop_files = match get(&["jump_identity_file"]) {
            None => identity_files,
            Some((name, v)) => Some(files(name, v)?),
        };
        let hop_password = match get(&["jump_password"]) {
            None => None,
            Some((name, v)) => Some(secret(name, v)?),
        };
        let defaults = Hop {
            address: String::new(),
            port: 22,
            user: hop_user,
            identity_files: hop_files,
            password: hop_password,
        };
        let jumps = match get(&["jump", "ssh_jump"]) {
            Some((name, v)) => jump_list(name, v, &defaults)?,
            None => match get(&["ansible_ssh_common_args", "ssh_common_args"]) {
                Some((name, Value::String(args))) => match proxy_jump(args) {
                    Some(spec) => spec
                        .split(',')
                        .map(|s| jump_string(name, s, &defaults))
                        .collect::<Result<_, _>>()?,
                    None => Vec::new(),
                },
                Some((name, other)) => {
                    return Err(format!(
                        "`{name}` must be a string of ssh options, not {other}"
                    ))
                }
                None => Vec::new(),
            },
        };
        let host_keys = host_key_policy(vars)?;
        let known_hosts = match get(&["known_hosts_file", "ssh_known_hosts_file"]) {
            Some((name, v)) => expand(&text(name, v)?),
            None => expand("~/.ssh/known_hosts"),
        };
        Ok(NativeTarget {
            host,
            jumps,
            host_keys,
            known_hosts,
            algorithms: Algorithms::from_vars(vars)?,
            enable_secret: match get(&["enable_secret"]) {
                None => None,
                Some((name, v)) => Some(secret(name, v)?),
            },
        })
    }
}

/// The same names and defaults as the openssh backend (`options.rs`).
fn host_key_policy(vars: &Vars) -> Result<HostKeyPolicy, String> {
    Ok(
        match first(vars, &["host_key_checking", "ansible_host_key_checking"]) {
            None => HostKeyPolicy::Strict,
            Some((_, Value::String(s))) if s == "strict" => HostKeyPolicy::Strict,
            Some((_, Value::String(s))) if s == "accept-new" => HostKeyPolicy::AcceptNew,
            Some((_, Value::String(s))) if s == "off" => HostKeyPolicy::Off,
            Some(("ansible_host_key_checking", Value::Bool(true))) => HostKeyPolicy::Strict,
            Some(("ansible_host_key_checking", Value::Bool(false))) => HostKeyPolicy::Off,
            Some((name, other)) => {
                return Err(format!(
                    "`{name}` must be `strict`, `accept-new` or `off`, not {other}"
                ))
            }
        },
    )
}

/// The value of `-J X` / `-JX` / `-o ProxyJump=X` in an ssh argument string.
fn proxy_jump(args: &str) -> Option<String> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let next = words.get(i + 1).map(|s| s.to_string());
        if w == "-J" {
            return next;
        }
        if let Some(v) = w.strip_prefix("-J") {
            return Some(v.to_string());
        }
        let option = if w == "-o" {
            i += 1;
            next
        } else {
            w.strip_prefix("-o").map(str::to_string)
        };
        if let Some(o) = option {
            let o = o.trim_matches(['"', '\'']);
            if let Some((k, v)) = o.split_once(['=', ' ']) {
                if k.eq_ignore_ascii_case("ProxyJump") {
                    return Some(v.trim().to_string());
                }
            }
        }
        i += 1;
    }
    None
}

fn jump_list(name: &str, value: &Value, defaults: &Hop) -> Result<Vec<Hop>, String> {
    match value {
        Value::String(s) => s.split(',').map(|s| jump_string(name, s, defaults)).collect(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => jump_string(name, s, defaults),
                Value::Object(map) => jump_map(name, map, defaults),
                other => Err(format!(
                    "`{name}` entries must be `[user@]host[:port]` strings or maps with `host`, not {other}"
                )),
            })
            .collect(),
        other => Err(format!(
            "`{name}` must be a list of `[user@]host[:port]` strings or maps, not {other}"
        )),
    }
}

/// `[user@]host[:port]`, as `ssh -J` takes it.
fn jump_string(name: &str, s: &str, defaults: &Hop) -> Result<Hop, String> {
    let bad = |why: &str| format!("`{name}`: `{s}` is not a `[user@]host[:port]` jump host: {why}");
    if s.chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '"')
    {
        return Err(bad("spaces and quotes are not allowed"));
    }
    let (user, rest) = match s.rsplit_once('@') {
        Some((u, h)) => (Some(u.to_string()), h),
        None => (None, s),
    };
    let (address, port) = match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
        Some((a, p)) => (a, p.strip_prefix(':')),
        None => match rest.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            _ => (rest, None),
        },
    };
    let port = match port {
        None => 22,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad("the port must be a number from 1 to 65535"))?,
    };
    if address.is_empty() || address.starts_with('-') {
        return Err(bad("no host"));
    }
    Ok(Hop {
        address: address.to_string(),
        port,
        user: user.unwrap_or_else(|| defaults.user.clone()),
        ..defaults.clone()
    })
}

/// `{host, port, user, identity_file, password}`, each but `host` optional.
fn jump_map(
    name: &str,
    map: &serde_json::Map<String, Value>,
    defaults: &Hop,
) -> Result<Hop, String> {
    let mut hop = defaults.clone();
    for (key, v) in map {
        let what = format!("{name}.{key}");
        match key.as_str() {
            "host" | "address" => hop.address = text(&what, v)?,
            "port" => {
                hop.port = match v {
                    Value::Number(n) => n.as_u64().and_then(|p| u16::try_from(p).ok()),
                    Value::String(s) => s.parse().ok(),
                    _ => None,
                }
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("`{what}` must be a number from 1 to 65535, not {v}"))?
            }
            "user" => hop.user = text(&what, v)?,
            "identity_file" => hop.identity_files = Some(files(&what, v)?),
            "password" => hop.password = Some(secret(&what, v)?),
            other => {
                return Err(format!(
                    "`{name}`: unknown jump host key `{other}` (expected host, port, user, identity_file, password)"
                ))
            }
        }
    }
    if hop.address.is_empty() || hop.address.starts_with('-') {
        return Err(format!("`{name}`: a jump host map needs a `host`"));
    }
    Ok(hop)
}

fn text(name: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(format!("`{name}` must be a non-empty string, not {value}")),
    }
}

/// Never quotes the value: a wrong password must not show in the message.
fn secret(name: &str, value: &Value) -> Result<Secret, String> {
    match value {
        Value::String(s) => Ok(Secret(s.clone())),
        Value::Number(n) => Ok(Secret(n.to_string())),
        _ => Err(format!("`{name}` must be a string")),
    }
}

/// One path or a list of paths, each an existing file.
fn files(name: &str, value: &Value) -> Result<Vec<PathBuf>, String> {
    let one = |v: &Value| -> Result<PathBuf, String> {
        let path = expand(&text(name, v)?);
        if !path.is_file() {
            return Err(format!("`{name}`: no such file: {}", path.display()));
        }
        Ok(path)
    };
    match value {
        Value::Array(items) => items.iter().map(one).collect(),
        v => Ok(vec![one(v)?]),
    }
}

fn expand(s: &str) -> PathBuf {
    match (s.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(s),
    }
}

/// Who we are here, as OpenSSH's default login name: `$USER`, else the passwd entry.
fn local_user() -> String {
    if let Some(user) = std::env::var("USER").ok().filter(|u| !u.is_empty()) {
        return user;
    }
    // SAFETY: getuid cannot fail and has no preconditions.
    let uid = unsafe { libc::getuid() }.to_string();
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.get(2) == Some(&uid.as_str())).then(|| f[0].to_string())
            })
        })
        .unwrap_or_else(|| "root".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::TransportKind;

    fn target(yaml: &str) -> Result<NativeTarget, String> {
        let vars: Vars = serde_yaml::from_str(yaml).expect("yaml");
        NativeTarget::from_connection(&Connection {
            address: "192.0.2.1".into(),
            port: None,
            user: Some("admin".into()),
            transport: TransportKind::Ssh,
            vars: std::sync::Arc::new(vars),
        })
    }

    #[test]
    fn jump_hosts_come_as_strings_maps_or_ssh_args() {
        let t = target("jump: [ops@192.0.2.9:2222, 192.0.2.8]\njump_password: pw").expect("ok");
        assert_eq!(t.jumps.len(), 2);
        assert_eq!(
            (
                t.jumps[0].user.as_str(),
                t.jumps[0].address.as_str(),
                t.jumps[0].port
            ),
            ("ops", "192.0.2.9", 2222)
        );
        assert_eq!(t.jumps[1].user, "admin");
        assert_eq!(t.jumps[1].password.as_ref().map(Secret::expose), Some("pw"));
        let t = target("jump: [{host: 192.0.2.7, port: 22, user: b, password: x}]").expect("ok");
        assert_eq!(t.jumps[0].password.as_ref().map(Secret::expose), Some("x"));
        let t = target(
            "ansible_ssh_common_args: '-o StrictHostKeyChecking=no -J a@192.0.2.5:23,192.0.2.6'",
        )
        .expect("ok");
        assert_eq!(
            t.jumps.iter().map(Hop::label).collect::<Vec<_>>(),
            ["192.0.2.5:23", "192.0.2.6:22"]
        );
        let t = target("ansible_ssh_common_args: '-oProxyJump=192.0.2.4'").expect("ok");
        assert_eq!(t.jumps[0].address, "192.0.2.4");
    }

    #[test]
    fn bad_settings_name_the_variable_and_never_the_password() {
        for (yaml, needle) in [
            ("jump: [{port: 22}]", "needs a `host`"),
            ("jump: [{host: a, pass: x}]", "unknown jump host key `pass`"),
            ("jump: [\"a:0\"]", "port must be"),
            ("host_key_checking: maybe", "`host_key_checking` must be"),
            ("password: [hunter2]", "`password` must be a string"),
            ("ssh_identity_file: /nonexistent/key", "no such file"),
        ] {
            let err = target(yaml).expect_err(yaml);
            assert!(err.contains(needle), "{yaml}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        let t = target("ansible_password: hunter2").expect("ok");
        assert!(!format!("{t:?}").contains("hunter2"));
    }
}
