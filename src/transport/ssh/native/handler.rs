//! The russh client handler of one hop: it checks the server's host key against
//! known_hosts under the host's policy, and keeps what the server said when it hung up, so
//! an error can carry the server's own words.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use russh::client::{DisconnectReason, Handler};
use russh::keys::{PublicKey, PublicKeyOrCertificate};

use super::known_hosts::{self, Verdict};
use crate::outcome::{ErrorKind, TaskError};
use crate::transport::ssh::options::HostKeyPolicy;

/// What a hop's connection learnt that its errors should tell.
#[derive(Debug, Default)]
pub struct Seen {
    /// The server's disconnect message, if it sent one.
    pub disconnect: Mutex<Option<String>>,
    /// The host key the server showed (`ED25519 SHA256:…`), and how the login succeeded,
    /// for `-vvv` and the report's connect attempt.
    pub host_key: Mutex<Option<String>>,
    pub login: Mutex<Option<String>>,
}

impl Seen {
    pub fn disconnect(&self) -> Option<String> {
        self.disconnect
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// An error out of the connection: russh's, or our refusal of the host key.
#[derive(Debug)]
pub enum ClientError {
    Ssh(russh::Error),
    HostKey(TaskError),
}

impl From<russh::Error> for ClientError {
    fn from(e: russh::Error) -> ClientError {
        ClientError::Ssh(e)
    }
}

pub struct Client {
    /// The name known_hosts knows the hop by (`addr` or `[addr]:port`).
    pub host_name: String,
    /// `addr:port`, for messages and the ssh-keyscan hint.
    pub address: String,
    pub port: u16,
    pub policy: HostKeyPolicy,
    pub known_hosts: PathBuf,
    pub seen: Arc<Seen>,
}

impl Handler for Client {
    type Error = ClientError;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, ClientError> {
        let key = server_key.public_key();
        *self.seen.host_key.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(super::known_hosts::describe(&key));
        self.verify(&key)
            .map(|()| true)
            .map_err(ClientError::HostKey)
    }

    async fn disconnected(
        &mut self,
        reason: DisconnectReason<ClientError>,
    ) -> Result<(), ClientError> {
        match reason {
            DisconnectReason::ReceivedDisconnect(info) => {
                *self
                    .seen
                    .disconnect
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Some(info.message);
                Ok(())
            }
            DisconnectReason::Error(e) => Err(e),
        }
    }
}

impl Client {
    fn verify(&self, key: &PublicKey) -> Result<(), TaskError> {
        if self.policy == HostKeyPolicy::Off {
            return Ok(());
        }
        let path = &self.known_hosts;
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(TaskError::new(
                    ErrorKind::HostKeyMismatch,
                    format!("cannot read {}: {e}", path.display()),
                ))
            }
        };
        let offered = known_hosts::describe(key);
        let mismatch = |m: String| Err(TaskError::new(ErrorKind::HostKeyMismatch, m));
        match known_hosts::check(&text, &self.host_name, key) {
            Verdict::Known => Ok(()),
            Verdict::Revoked { line } => mismatch(format!(
                "the host key of {} ({offered}) is marked @revoked in {}:{line}",
                self.host_name,
                path.display()
            )),
            Verdict::Changed { line, recorded } => mismatch(format!(
                "host key mismatch for {}: the server offers {offered}, but {}:{line} has {recorded} \
                 (if the key was changed on purpose, remove that line)",
                self.host_name,
                path.display()
            )),
            Verdict::Unknown { .. } if self.policy == HostKeyPolicy::AcceptNew => {
                known_hosts::append(path, &self.host_name, key)
                    .or_else(mismatch)
            }
            Verdict::Unknown { others } => {
                let also = if others.is_empty() {
                    String::new()
                } else {
                    format!(" (it has a key of another type: {})", others.join(", "))
                };
                mismatch(format!(
                    "unknown host key for {}: {offered} is not in {}{also}; to trust it, set \
                     `host_key_checking: accept-new` or run `ssh-keyscan -p {} {} >> {}`",
                    self.host_name,
                    path.display(),
                    self.port,
                    self.address,
                    path.display()
                ))
            }
        }
    }
}
