//! Ansible's connection variables, read into drover's: `ansible_connection` (also the
//! fully qualified `ansible.netcommon.network_cli`), `ansible_network_os` as `platform`,
//! `ansible_become_password` as `enable_secret`, `ansible_password`/`ansible_ssh_pass` as
//! `password`, `ansible_private_key_file` as `ssh_identity_file`, and the `-J`/`-o` options
//! of `ansible_ssh_common_args`/`ansible_ssh_extra_args` as `jump`/`ssh_options`. A drover
//! name the host already has is never overwritten.

use serde_json::Value;

use super::{TransportKind, Vars};

/// The drover platform for an `ansible_network_os` value (`cisco.ios.ios` or `ios` →
/// `cisco_ios`). `None` for a network OS drover has no name for.
pub fn platform_for_network_os(network_os: &str) -> Option<&'static str> {
    let os = network_os.trim().to_ascii_lowercase();
    let short = os.rsplit('.').next().unwrap_or(&os);
    Some(match (os.as_str(), short) {
        (_, "ios") => "cisco_ios",
        (_, "iosxr") => "cisco_iosxr",
        (_, "nxos") => "cisco_nxos",
        (_, "asa") => "cisco_asa",
        (_, "junos") => "juniper_junos",
        (_, "eos") => "arista_eos",
        (_, "routeros") => "mikrotik_routeros",
        (_, "ce" | "vrp") => "huawei_vrp",
        (o, _) if o.starts_with("huawei") => "huawei_vrp",
        (_, "os6") => "dell_os6",
        (_, "os9") => "dell_os9",
        (_, "os10") => "dell_os10",
        (_, "vyos") => "vyos",
        _ => return None,
    })
}

/// The transport an `ansible_connection` value means.
pub fn transport_for(connection: &str) -> Result<TransportKind, String> {
    let short = connection
        .strip_prefix("ansible.builtin.")
        .or_else(|| connection.strip_prefix("ansible.netcommon."))
        .unwrap_or(connection);
    match short {
        "ssh" | "paramiko" | "paramiko_ssh" | "network_cli" | "libssh" => Ok(TransportKind::Ssh),
        "local" => Ok(TransportKind::Local),
        "mqtt" => Ok(TransportKind::Mqtt),
        "netconf" | "httpapi" | "winrm" | "psrp" | "grpc" => Err(format!(
            "`ansible_connection: {connection}` is not supported: drover reaches hosts over ssh \
             (`ssh`, `paramiko`, `network_cli`), `local` or `mqtt`; netconf, httpapi and winrm \
             are not supported"
        )),
        _ => Err(format!(
            "`ansible_connection: {connection}` is not a connection drover knows (expected ssh, \
             paramiko, network_cli, local or mqtt)"
        )),
    }
}

/// What drover reads from `ansible_ssh_common_args`/`ansible_ssh_extra_args`.
#[derive(Debug, Default, PartialEq)]
pub struct SshArgs {
    pub jump: Vec<String>,
    pub options: Vec<(String, String)>,
}

/// Reads `-J host[,host]` and `-o Key=Value` (also `-oKey=Value`, `-o "Key Value"`).
pub fn ssh_args(var: &str, text: &str) -> Result<SshArgs, String> {
    let words = shell_words(text).ok_or_else(|| format!("`{var}` has an unclosed quote"))?;
    let mut out = SshArgs::default();
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        let (flag, inline) = if word.len() > 2 && word.starts_with('-') {
            (word[..2].to_string(), Some(word[2..].to_string()))
        } else {
            (word.clone(), None)
        };
        let mut arg = || {
            inline
                .clone()
                .or_else(|| words.next())
                .ok_or_else(|| format!("`{var}`: `{flag}` needs a value"))
        };
        match flag.as_str() {
            "-J" => out.jump.extend(arg()?.split(',').map(str::to_string)),
            "-o" => {
                let option = arg()?;
                let (k, v) = option
                    .split_once('=')
                    .or_else(|| option.split_once(char::is_whitespace))
                    .ok_or_else(|| format!("`{var}`: `-o {option}` must be `-o Key=Value`"))?;
                let (k, v) = (k.trim().to_string(), v.trim().to_string());
                if k.eq_ignore_ascii_case("ProxyJump") {
                    out.jump.extend(v.split(',').map(str::to_string));
                } else {
                    out.options.push((k, v));
                }
            }
            _ => {
                return Err(format!(
                    "`{var}`: `{word}` is not supported (drover reads `-J` jump hosts and `-o` options; \
                     put other settings in ~/.ssh/config or `ssh_config`)"
                ))
            }
        }
    }
    Ok(out)
}

/// POSIX-shell word splitting with single and double quotes and backslashes.
fn shell_words(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = cur.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '"' => {
                let w = cur.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => w.push(chars.next()?),
                        c => w.push(c),
                    }
                }
            }
            '\\' => cur.get_or_insert_with(String::new).push(chars.next()?),
            c if c.is_whitespace() => words.extend(cur.take()),
            c => cur.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(cur);
    Some(words)
}

fn first<'a>(vars: &'a Vars, names: &[&str]) -> Option<&'a Value> {
    names
        .iter()
        .find_map(|n| vars.get(*n).filter(|v| !v.is_null()))
}

/// Adds the drover names for the Ansible connection variables a host has.
pub fn derive(host: &str, vars: &mut Vars) -> Result<(), String> {
    if let Some((name, _)) = vars.iter().find(|(_, v)| super::yaml11::is_vault(v)) {
        return Err(format!(
            "variable `{name}` is encrypted with ansible-vault (`!vault`); drover cannot decrypt \
             vault values: give it as a plain value, a `lookup('env', ...)` or a `lookup('file', ...)`"
        ));
    }
    let add = |vars: &mut Vars, name: &str, value: Option<Value>| {
        if let Some(v) = value {
            if !vars.contains_key(name) {
                vars.insert(name.to_string(), v);
            }
        }
    };
    let os = first(vars, &["ansible_network_os"]).and_then(Value::as_str);
    let platform =
        os.map(|os| platform_for_network_os(os).map_or_else(|| os.to_string(), str::to_string));
    add(vars, "platform", platform.map(Value::String));
    let secret = first(vars, &["ansible_become_password", "ansible_become_pass"]).cloned();
    add(vars, "enable_secret", secret);
    let password = first(
        vars,
        &[
            "ansible_password",
            "ansible_ssh_pass",
            "ansible_ssh_password",
        ],
    )
    .cloned();
    add(vars, "password", password);
    let key = first(
        vars,
        &["ansible_private_key_file", "ansible_ssh_private_key_file"],
    )
    .cloned();
    add(vars, "ssh_identity_file", key);
    let mut args = SshArgs::default();
    for name in ["ansible_ssh_common_args", "ansible_ssh_extra_args"] {
        if let Some(Value::String(text)) = vars.get(name) {
            let more = ssh_args(name, text).map_err(|m| format!("host {host}: {m}"))?;
            args.jump.extend(more.jump);
            args.options.extend(more.options);
        }
    }
    if !args.jump.is_empty() {
        add(vars, "jump", Some(serde_json::json!(args.jump)));
    }
    let mut options = serde_json::Map::new();
    for (k, v) in args.options {
        if k.eq_ignore_ascii_case("StrictHostKeyChecking") {
            let policy = match v.to_ascii_lowercase().as_str() {
                "yes" | "ask" => "strict",
                "accept-new" => "accept-new",
                _ => "off",
            };
            add(vars, "host_key_checking", Some(policy.into()));
        } else if !options.contains_key(&k) {
            options.insert(k, Value::String(v));
        }
    }
    if !options.is_empty() {
        add(vars, "ssh_options", Some(Value::Object(options)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{platform_for_network_os as p, ssh_args};

    #[test]
    fn network_os_names() {
        assert_eq!(p("cisco.ios.ios"), Some("cisco_ios"));
        assert_eq!(p("ios"), Some("cisco_ios"));
        assert_eq!(p("junipernetworks.junos.junos"), Some("juniper_junos"));
        assert_eq!(p("arista.eos.eos"), Some("arista_eos"));
        assert_eq!(p("cisco.nxos.nxos"), Some("cisco_nxos"));
        assert_eq!(p("cisco.iosxr.iosxr"), Some("cisco_iosxr"));
        assert_eq!(p("community.routeros.routeros"), Some("mikrotik_routeros"));
        assert_eq!(p("community.network.ce"), Some("huawei_vrp"));
        assert_eq!(p("dellemc.os6.os6"), Some("dell_os6"));
        assert_eq!(p("frobnicator"), None);
    }

    #[test]
    fn ssh_args_jump_and_options() {
        let a = ssh_args("x", "-J ops@10.0.0.1:2222 -o StrictHostKeyChecking=no -oServerAliveInterval=5 -o 'ProxyJump=10.0.0.2'").unwrap();
        assert_eq!(a.jump, ["ops@10.0.0.1:2222", "10.0.0.2"]);
        assert_eq!(a.options.len(), 2);
        assert!(ssh_args("x", "-C")
            .unwrap_err()
            .contains("`-C` is not supported"));
    }
}
