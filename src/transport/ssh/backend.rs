//! Which ssh backend a host gets, and why: `ssh_backend: native | openssh` when set;
//! otherwise native for a host with a password (OpenSSH runs in BatchMode here and cannot
//! use one) or a network platform, and for every host when no `ssh` client is installed;
//! otherwise the system OpenSSH client, which knows the user's `~/.ssh/config`.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;

use super::native::PASSWORD_VARS;
use crate::inventory::Vars;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Native,
    OpenSsh,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Native => "native",
            Backend::OpenSsh => "openssh",
        }
    }
}

/// The backend for a host's variables, with the reason in words.
pub fn choose(vars: &Vars) -> Result<(Backend, String), String> {
    let set = |name: &str| vars.get(name).filter(|v| !v.is_null());
    match set("ssh_backend") {
        Some(Value::String(s)) if s == "native" => {
            return Ok((Backend::Native, "`ssh_backend: native`".to_string()))
        }
        Some(Value::String(s)) if s == "openssh" => {
            return Ok((Backend::OpenSsh, "`ssh_backend: openssh`".to_string()))
        }
        Some(other) => {
            return Err(format!(
                "`ssh_backend` must be `native` or `openssh`, not {other}"
            ))
        }
        None => {}
    }
    if let Some(name) = PASSWORD_VARS.iter().find(|n| set(n).is_some()) {
        return Ok((
            Backend::Native,
            format!("the host has a password (`{name}`), which the openssh backend cannot use"),
        ));
    }
    if let Some(name) = ["platform", "ansible_network_os"]
        .iter()
        .find(|n| set(n).is_some())
    {
        return Ok((
            Backend::Native,
            format!("the host is a network device (`{name}`)"),
        ));
    }
    if !openssh_installed() {
        return Ok((
            Backend::Native,
            "no `ssh` client is installed (none on PATH)".to_string(),
        ));
    }
    Ok((
        Backend::OpenSsh,
        "the default with an `ssh` client installed (`ssh_backend: native` for the in-process one)"
            .to_string(),
    ))
}

/// Whether an executable `ssh` is on PATH; looked up once per run.
fn openssh_installed() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    *FOUND.get_or_init(|| {
        use std::os::unix::fs::PermissionsExt;
        let Some(path) = std::env::var_os("PATH") else {
            return false;
        };
        std::env::split_paths(&path).any(|dir| {
            let ssh = Path::new(&dir).join("ssh");
            std::fs::metadata(&ssh)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(yaml: &str) -> Result<Backend, String> {
        let vars: Vars = serde_yaml::from_str(yaml).expect("yaml");
        choose(&vars).map(|(b, _)| b)
    }

    #[test]
    fn a_password_or_a_platform_picks_native_and_the_variable_wins() {
        assert_eq!(backend("ansible_ssh_pass: x"), Ok(Backend::Native));
        assert_eq!(backend("platform: cisco_ios"), Ok(Backend::Native));
        assert_eq!(backend("ansible_network_os: eos"), Ok(Backend::Native));
        assert_eq!(
            backend("password: x\nssh_backend: openssh"),
            Ok(Backend::OpenSsh)
        );
        assert_eq!(backend("ssh_backend: native"), Ok(Backend::Native));
        assert!(backend("ssh_backend: paramiko")
            .unwrap_err()
            .contains("`ssh_backend` must be"));
    }
}
