//! A host's broker settings, read from its variables (`mqtt_url`, `mqtt_version`, TLS files,
//! credentials by reference, ...) and checked at plan time, so a bad URL or a missing
//! certificate stops the run before anything connects. Secrets are read only when a
//! connection is made, and never kept in anything that is printed.

use std::path::{Path, PathBuf};

use crate::inventory::Connection;
use crate::outcome::{ErrorKind, TaskError};

/// MQTT protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    V5,
    V311,
}

/// One client per broker+identity in shared mode; one per node in per-node mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    Shared,
    PerNode,
}

/// Where the password comes from; the value itself is read at connect time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PasswordRef {
    Env(String),
    File(PathBuf),
}

/// The broker and the identity to use with it. Two hosts with equal options share a client
/// in shared mode.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BrokerOptions {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    pub version: Version,
    pub mode: Mode,
    pub username: Option<String>,
    pub password: Option<PasswordRef>,
    pub ca: Option<PathBuf>,
    /// Client certificate and key (mutual TLS).
    pub identity: Option<(PathBuf, PathBuf)>,
    /// Explicit client id; otherwise `drover-<pid>-<n>` (shared) or the node id (per-node).
    pub client_id: Option<String>,
    pub keep_alive_s: u16,
    pub max_packet_size: u32,
}

/// The node's id in topics and certificate paths: `node_id`, or the host name.
pub fn node_id(host: &str, conn: &Connection) -> String {
    conn.vars
        .get("node_id")
        .map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_else(|| host.to_string())
}

/// Default maximum packet size: 128 KiB (what AWS IoT allows), well above rumqttc's 10 KiB.
pub const DEFAULT_MAX_PACKET: u32 = 128 * 1024;

impl BrokerOptions {
    /// Reads and checks a host's settings; the message names the variable that is wrong.
    pub fn from_connection(host: &str, conn: &Connection) -> Result<BrokerOptions, String> {
        let vars = &conn.vars;
        let text = |name: &str| -> Result<Option<String>, String> {
            match vars.get(name) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(v @ serde_json::Value::Number(_)) => Ok(Some(v.to_string())),
                Some(other) => Err(format!("`{name}` must be a string, not {other}")),
            }
        };
        let number =
            |name: &str, default: u64, max: u64| -> Result<u64, String> {
                match text(name)? {
                    None => Ok(default),
                    Some(s) => s.parse::<u64>().ok().filter(|n| *n <= max).ok_or_else(|| {
                        format!("`{name}` must be a number from 0 to {max}, not {s}")
                    }),
                }
            };
        let url = text("mqtt_url")?.unwrap_or_else(|| {
            let port = conn.port.unwrap_or(1883);
            format!("mqtt://{}:{port}", conn.address)
        });
        let (tls, host_port) = if let Some(rest) = url.strip_prefix("mqtts://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("mqtt://") {
            (false, rest)
        } else {
            return Err(format!(
                "`mqtt_url: {url}` must start with mqtt:// or mqtts://"
            ));
        };
        let host_port = host_port.trim_end_matches('/');
        // `host`, `host:port`, `[v6]`, `[v6]:port`.
        let (broker_host, port_text) = match host_port.strip_prefix('[') {
            Some(rest) => match rest.split_once(']') {
                Some((h, "")) => (h, None),
                Some((h, p)) => (h, Some(p.strip_prefix(':').unwrap_or(p))),
                None => ("", None),
            },
            None => match host_port.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (host_port, None),
            },
        };
        let port = match port_text {
            None => {
                if tls {
                    8883
                } else {
                    1883
                }
            }
            Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                format!("`mqtt_url: {url}`: the port must be a number from 1 to 65535")
            })?,
        };
        if broker_host.is_empty() || broker_host.contains('/') || broker_host.contains('@') {
            return Err(format!(
                "`mqtt_url: {url}` must be mqtt://host:port or mqtts://host:port"
            ));
        }
        let version = match text("mqtt_version")?.as_deref() {
            None | Some("5") | Some("5.0") => Version::V5,
            Some("3") | Some("3.1.1") | Some("4") => Version::V311,
            Some(other) => {
                return Err(format!(
                    "`mqtt_version: {other}` is not supported (expected 5 or 3.1.1)"
                ))
            }
        };
        let mode = match text("mqtt_mode")?.as_deref() {
            None | Some("shared") => Mode::Shared,
            Some("per_node") => Mode::PerNode,
            Some(other) => {
                return Err(format!(
                    "`mqtt_mode: {other}` is not a mode (expected shared or per_node)"
                ))
            }
        };
        let password = match (text("mqtt_password_env")?, text("mqtt_password_file")?) {
            (Some(_), Some(_)) => {
                return Err("set `mqtt_password_env` or `mqtt_password_file`, not both".into())
            }
            (Some(env), None) => Some(PasswordRef::Env(env)),
            (None, Some(file)) => {
                let path = PathBuf::from(file);
                must_exist("mqtt_password_file", &path)?;
                Some(PasswordRef::File(path))
            }
            (None, None) => None,
        };
        if vars.contains_key("mqtt_password") {
            return Err(
                "`mqtt_password` is not read: give the password by reference, with `mqtt_password_env` or `mqtt_password_file`"
                    .into(),
            );
        }
        let ca = text("mqtt_ca")?.map(PathBuf::from);
        if let Some(ca) = &ca {
            must_exist("mqtt_ca", ca)?;
        }
        let node = node_id(host, conn);
        let identity = match (
            text("mqtt_cert")?,
            text("mqtt_key")?,
            text("mqtt_cert_dir")?,
        ) {
            (Some(cert), Some(key), _) => Some((PathBuf::from(cert), PathBuf::from(key))),
            (Some(_), None, _) | (None, Some(_), _) => {
                return Err("`mqtt_cert` and `mqtt_key` go together".into())
            }
            (None, None, Some(dir)) if mode == Mode::PerNode => {
                let dir = Path::new(&dir).join(&node);
                Some((dir.join("cert.pem"), dir.join("key.pem")))
            }
            (None, None, _) => None,
        };
        if let Some((cert, key)) = &identity {
            must_exist("mqtt_cert", cert)?;
            must_exist("mqtt_key", key)?;
        }
        if tls && ca.is_none() {
            return Err(format!(
                "`mqtt_url: {url}` uses TLS: set `mqtt_ca` to the CA that signed the broker's certificate"
            ));
        }
        if (ca.is_some() || identity.is_some()) && !tls {
            return Err(format!(
                "TLS files are set but `mqtt_url: {url}` is not mqtts://"
            ));
        }
        let client_id = text("mqtt_client_id")?;
        let client_id = match (mode, client_id) {
            (_, Some(id)) => Some(id),
            (Mode::PerNode, None) => Some(node),
            (Mode::Shared, None) => None,
        };
        let max_packet_size = number(
            "mqtt_max_packet_size",
            DEFAULT_MAX_PACKET.into(),
            256 * 1024 * 1024,
        )? as u32;
        if max_packet_size < 1024 {
            return Err(format!(
                "`mqtt_max_packet_size: {max_packet_size}` is too small (at least 1024 bytes)"
            ));
        }
        Ok(BrokerOptions {
            host: broker_host.to_string(),
            port,
            tls,
            version,
            mode,
            username: text("mqtt_username")?,
            password,
            ca,
            identity,
            client_id,
            keep_alive_s: number("mqtt_keep_alive", 30, u16::MAX.into())? as u16,
            max_packet_size,
        })
    }

    /// `mqtt://host:port`, for messages.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        format!("{scheme}://{}:{}", self.host, self.port)
    }

    /// Reads the password, wherever it is; the error never holds the value.
    pub fn password(&self) -> Result<Option<String>, TaskError> {
        let auth = |m: String| TaskError::new(ErrorKind::AuthFailed, m);
        match &self.password {
            None => Ok(None),
            Some(PasswordRef::Env(name)) => std::env::var(name)
                .map(Some)
                .map_err(|_| auth(format!("environment variable {name} is not set"))),
            Some(PasswordRef::File(path)) => std::fs::read_to_string(path)
                .map(|s| Some(s.trim_end_matches(['\n', '\r']).to_string()))
                .map_err(|e| auth(format!("cannot read {}: {e}", path.display()))),
        }
    }
}

fn must_exist(var: &str, path: &Path) -> Result<(), String> {
    if path.is_file() {
        Ok(())
    } else {
        Err(format!("`{var}`: no file at {}", path.display()))
    }
}

/// TLS material, read at the first connect and kept for the run.
#[derive(Clone)]
pub struct TlsFiles {
    pub ca: Vec<u8>,
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
}

/// Never prints the key material.
impl std::fmt::Debug for TlsFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsFiles").finish_non_exhaustive()
    }
}

impl BrokerOptions {
    pub fn tls_files(&self) -> Result<Option<TlsFiles>, TaskError> {
        if !self.tls {
            return Ok(None);
        }
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| {
                TaskError::new(
                    ErrorKind::AuthFailed,
                    format!("cannot read {}: {e}", p.display()),
                )
            })
        };
        let ca = match &self.ca {
            Some(p) => read(p)?,
            None => Vec::new(),
        };
        let identity = match &self.identity {
            Some((c, k)) => {
                let cert = read(c)?;
                if let Some(v @ 1..=2) = super::x509::pem_version(&cert) {
                    return Err(TaskError::new(
                        ErrorKind::AuthFailed,
                        format!(
                            "the client certificate {} is X.509 version {v}; TLS client \
                             authentication needs version 3 (issue it with extensions: \
                             `openssl x509 -req … -extfile FILE` with \
                             `basicConstraints=CA:FALSE`, or `openssl req -x509 -CA … -addext …`)",
                            c.display()
                        ),
                    ));
                }
                Some((cert, read(k)?))
            }
            None => None,
        };
        Ok(Some(TlsFiles { ca, identity }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Vars;

    fn options(vars: serde_json::Value) -> Result<BrokerOptions, String> {
        let mut v: Vars = serde_json::from_value(vars).unwrap();
        v.insert("transport".into(), "mqtt".into());
        let conn = Connection::from_vars("n1", v).unwrap();
        BrokerOptions::from_connection("n1", &conn)
    }

    #[test]
    fn url_forms() {
        let o = options(serde_json::json!({"mqtt_url": "mqtt://broker.lan:1884"})).unwrap();
        assert_eq!(
            (o.host.as_str(), o.port, o.tls),
            ("broker.lan", 1884, false)
        );
        let o = options(serde_json::json!({"mqtt_url": "mqtt://[::1]"})).unwrap();
        assert_eq!((o.host.as_str(), o.port), ("::1", 1883));
        let o = options(serde_json::json!({})).unwrap();
        assert_eq!((o.host.as_str(), o.port), ("n1", 1883));
        for bad in [
            "http://x",
            "mqtt://",
            "mqtt://x:0",
            "mqtt://x:99999",
            "mqtt://u@x:1",
        ] {
            assert!(
                options(serde_json::json!({ "mqtt_url": bad })).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn versions_modes_and_limits() {
        let o =
            options(serde_json::json!({"mqtt_version": "3.1.1", "mqtt_mode": "per_node"})).unwrap();
        assert_eq!((o.version, o.mode), (Version::V311, Mode::PerNode));
        assert_eq!(o.client_id.as_deref(), Some("n1"));
        assert!(options(serde_json::json!({"mqtt_version": 4.5})).is_err());
        assert!(options(serde_json::json!({"mqtt_mode": "pooled"})).is_err());
        assert!(options(serde_json::json!({"mqtt_keep_alive": -1})).is_err());
        assert!(options(serde_json::json!({"mqtt_max_packet_size": 0})).is_err());
        assert!(
            options(serde_json::json!({"mqtt_url": "mqtts://x"})).is_err(),
            "TLS needs a CA"
        );
    }
}
