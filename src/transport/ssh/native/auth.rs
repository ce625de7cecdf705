//! Logging in to one hop, in the order the server allows: public keys (the identity files,
//! each with its OpenSSH certificate when `<file>-cert.pub` exists, then the agent at
//! `SSH_AUTH_SOCK`), the password, then keyboard-interactive, whose password prompts are
//! answered with the password. Any other prompt ends the login with a message quoting it.
//! The password itself never goes into a message.

use std::path::PathBuf;
use std::sync::Arc;

use russh::client::{AuthResult, Handle, KeyboardInteractiveAuthResponse};
use russh::keys::agent::client::AgentClient;
use russh::keys::agent::AgentIdentity;
use russh::keys::{load_openssh_certificate, load_secret_key, PrivateKeyWithHashAlg};
use russh::MethodKind;

use super::handler::{Client, Seen};
use super::target::{Hop, Secret};
use crate::outcome::{ErrorKind, TaskError};

/// Rounds of keyboard-interactive questions answered before giving up.
const MAX_ROUNDS: usize = 8;

struct Login<'a> {
    handle: &'a mut Handle<Client>,
    hop: &'a Hop,
    seen: &'a Seen,
    /// What the server still accepts, from its last answer.
    methods: Vec<MethodKind>,
    /// What the server accepted at first, for the message.
    offered: Vec<MethodKind>,
    tried: Vec<String>,
}

enum Step {
    Done,
    Next,
}

pub async fn authenticate(
    handle: &mut Handle<Client>,
    hop: &Hop,
    seen: &Seen,
) -> Result<(), TaskError> {
    let first = handle
        .authenticate_none(hop.user.clone())
        .await
        .map_err(|e| super::classify::from_server(&e, &hop.label(), seen))?;
    let methods = match first {
        AuthResult::Success => {
            *seen.login.lock().unwrap_or_else(|e| e.into_inner()) = Some("none".into());
            return Ok(());
        }
        AuthResult::Failure {
            remaining_methods, ..
        } => remaining_methods.to_vec(),
    };
    let mut login = Login {
        handle,
        hop,
        seen,
        offered: methods.clone(),
        methods,
        tried: Vec::new(),
    };
    if let Step::Done = login.public_keys().await? {
        return Ok(());
    }
    if let Step::Done = login.password().await? {
        return Ok(());
    }
    if let Step::Done = login.keyboard_interactive().await? {
        return Ok(());
    }
    Err(login.denied())
}

impl Login<'_> {
    fn allows(&self, m: MethodKind) -> bool {
        self.methods.contains(&m)
    }

    fn result(&mut self, r: AuthResult, what: String) -> Step {
        match r {
            AuthResult::Success => {
                *self.seen.login.lock().unwrap_or_else(|e| e.into_inner()) = Some(what);
                Step::Done
            }
            AuthResult::Failure {
                remaining_methods, ..
            } => {
                self.methods = remaining_methods.to_vec();
                self.tried.push(what);
                Step::Next
            }
        }
    }

    fn lost(&self, e: &russh::Error) -> TaskError {
        super::classify::from_server(e, &self.hop.label(), self.seen)
    }

    async fn public_keys(&mut self) -> Result<Step, TaskError> {
        if !self.allows(MethodKind::PublicKey) {
            return Ok(Step::Next);
        }
        let user = self.hop.user.clone();
        let rsa_hash = self
            .handle
            .best_supported_rsa_hash()
            .await
            .ok()
            .flatten()
            .flatten();
        for path in self.hop.identities() {
            if !self.allows(MethodKind::PublicKey) {
                break;
            }
            let key = match load_secret_key(&path, None) {
                Ok(key) => Arc::new(key),
                Err(e) => {
                    self.tried
                        .push(format!("key {} (not usable: {e})", path.display()));
                    continue;
                }
            };
            let cert_path = PathBuf::from(format!("{}-cert.pub", path.display()));
            if let Ok(cert) = load_openssh_certificate(&cert_path) {
                let r = self
                    .handle
                    .authenticate_openssh_cert(user.clone(), key.clone(), cert)
                    .await
                    .map_err(|e| self.lost(&e))?;
                if let Step::Done = self.result(r, format!("certificate {}", cert_path.display())) {
                    return Ok(Step::Done);
                }
            }
            let r = self
                .handle
                .authenticate_publickey(user.clone(), PrivateKeyWithHashAlg::new(key, rsa_hash))
                .await
                .map_err(|e| self.lost(&e))?;
            if let Step::Done = self.result(r, format!("key {}", path.display())) {
                return Ok(Step::Done);
            }
        }
        self.agent(rsa_hash).await
    }

    async fn agent(&mut self, rsa_hash: Option<russh::keys::HashAlg>) -> Result<Step, TaskError> {
        if !self.allows(MethodKind::PublicKey) || std::env::var_os("SSH_AUTH_SOCK").is_none() {
            return Ok(Step::Next);
        }
        let mut agent = match AgentClient::connect_env().await {
            Ok(agent) => agent,
            Err(e) => {
                self.tried.push(format!("the agent (not reachable: {e})"));
                return Ok(Step::Next);
            }
        };
        let identities = match agent.request_identities().await {
            Ok(ids) => ids,
            Err(e) => {
                self.tried.push(format!("the agent (no keys listed: {e})"));
                return Ok(Step::Next);
            }
        };
        for identity in identities {
            if !self.allows(MethodKind::PublicKey) {
                break;
            }
            let AgentIdentity::PublicKey { key, comment } = identity else {
                continue;
            };
            let what = format!("agent key {comment}");
            match self
                .handle
                .authenticate_publickey_with(self.hop.user.clone(), key, rsa_hash, &mut agent)
                .await
            {
                Ok(r) => {
                    if let Step::Done = self.result(r, what) {
                        return Ok(Step::Done);
                    }
                }
                Err(e) => self
                    .tried
                    .push(format!("{what} (the agent did not sign: {e})")),
            }
        }
        Ok(Step::Next)
    }

    async fn password(&mut self) -> Result<Step, TaskError> {
        let Some(password) = &self.hop.password else {
            return Ok(Step::Next);
        };
        if !self.allows(MethodKind::Password) {
            return Ok(Step::Next);
        }
        let r = self
            .handle
            .authenticate_password(self.hop.user.clone(), password.expose())
            .await
            .map_err(|e| self.lost(&e))?;
        Ok(self.result(r, "password".to_string()))
    }

    async fn keyboard_interactive(&mut self) -> Result<Step, TaskError> {
        if !self.allows(MethodKind::KeyboardInteractive) {
            return Ok(Step::Next);
        }
        let mut reply = self
            .handle
            .authenticate_keyboard_interactive_start(self.hop.user.clone(), None)
            .await
            .map_err(|e| self.lost(&e))?;
        for _ in 0..MAX_ROUNDS {
            let prompts = match reply {
                KeyboardInteractiveAuthResponse::Success => {
                    *self.seen.login.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some("keyboard-interactive".into());
                    return Ok(Step::Done);
                }
                KeyboardInteractiveAuthResponse::Failure {
                    remaining_methods, ..
                } => {
                    self.methods = remaining_methods.to_vec();
                    self.tried.push("keyboard-interactive".to_string());
                    return Ok(Step::Next);
                }
                KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => prompts,
            };
            let mut answers = Vec::with_capacity(prompts.len());
            for p in &prompts {
                answers.push(self.answer(&p.prompt)?.expose().to_string());
            }
            reply = self
                .handle
                .authenticate_keyboard_interactive_respond(answers)
                .await
                .map_err(|e| self.lost(&e))?;
        }
        self.tried.push(format!(
            "keyboard-interactive (more than {MAX_ROUNDS} rounds of questions)"
        ));
        Ok(Step::Next)
    }

    /// The password, for a prompt that asks for it.
    fn answer(&self, prompt: &str) -> Result<&Secret, TaskError> {
        let asked = prompt.trim();
        if !is_password_prompt(asked) {
            return Err(TaskError::new(
                ErrorKind::AuthFailed,
                format!(
                    "{}@{}: keyboard-interactive asks {asked:?}, which drover does not answer \
                     (it answers password prompts only, with the host's password)",
                    self.hop.user,
                    self.hop.label()
                ),
            ));
        }
        self.hop.password.as_ref().ok_or_else(|| {
            TaskError::new(
                ErrorKind::AuthFailed,
                format!(
                    "{}@{}: keyboard-interactive asks {asked:?}, and the host has no password \
                     (`password`, `ansible_password` or `ansible_ssh_pass`)",
                    self.hop.user,
                    self.hop.label()
                ),
            )
        })
    }

    fn denied(&self) -> TaskError {
        if let Some(said) = self.seen.disconnect() {
            return TaskError::new(
                ErrorKind::AuthFailed,
                format!("{} disconnected: {said}", self.hop.label()),
            );
        }
        let offered: Vec<&str> = self.offered.iter().map(<&str>::from).collect();
        let tried = if self.tried.is_empty() {
            "nothing the server accepts (no key, agent or password for these methods)".to_string()
        } else {
            self.tried.join(", ")
        };
        TaskError::new(
            ErrorKind::AuthFailed,
            format!(
                "{}@{}: Permission denied ({}); tried {tried}",
                self.hop.user,
                self.hop.label(),
                offered.join(",")
            ),
        )
    }
}

/// `Password:`, `user@host's password:`, `Passcode:`...
fn is_password_prompt(prompt: &str) -> bool {
    let p = prompt.to_ascii_lowercase();
    ["password", "passwort", "passcode", "passphrase"]
        .iter()
        .any(|w| p.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_like_prompts_are_told_from_others() {
        for p in ["Password:", "root@r1's password: ", "Passcode:"] {
            assert!(is_password_prompt(p), "{p}");
        }
        for p in ["Verification code:", "OTP:", "Username:"] {
            assert!(!is_password_prompt(p), "{p}");
        }
    }
}
