//! The native ssh backend: SSH inside drover on the `russh` crate (ring crypto), one
//! connection per host and an exec channel per command. It logs in with keys, the agent, a
//! password or keyboard-interactive (`auth`), checks host keys in OpenSSH's known_hosts
//! under the same policies as the openssh backend (`handler`, `known_hosts`), goes through
//! jump hosts over `direct-tcpip` with per-hop credentials (`jump`), and offers legacy
//! algorithms only to hosts that ask (`algorithms`). One process serves the whole fleet, so
//! a connection costs a key exchange, not a process.

mod algorithms;
mod auth;
mod classify;
mod cli;
mod handler;
mod jump;
mod known_hosts;
mod session;
mod target;

use std::time::Duration;

use crate::outcome::{ErrorKind, TaskError};

pub use cli::connect as connect_cli;
pub use session::NativeSession;
pub use target::{NativeTarget, PASSWORD_VARS};

/// Connects and logs in to the target, through its jump hosts. The timeout covers all of
/// it: every TCP connect, key exchange and login on the way.
pub async fn connect(target: &NativeTarget, timeout: Duration) -> Result<NativeSession, TaskError> {
    let progress = jump::Progress::default();
    // A hair inside the engine's own deadline for the attempt (the same duration, started
    // just before), so the message that says what was being waited for is the one reported.
    let limit = timeout.saturating_sub(timeout / 100);
    match tokio::time::timeout(limit, jump::connect(target, &progress)).await {
        Ok(chain) => chain.map(NativeSession::new),
        Err(_) => Err(TaskError::new(
            ErrorKind::ConnectTimeout,
            format!(
                "timed out after {} {}",
                humantime::format_duration(timeout),
                progress.describe()
            ),
        )),
    }
}
