//! russh's errors as drover's error classes, with what the server said where it said
//! anything.

use russh::AlgorithmKind;

use super::handler::{ClientError, Seen};
use crate::outcome::{ErrorKind, TaskError};

/// A TCP connect that failed (to the first hop).
pub fn tcp_error(label: &str, e: &std::io::Error) -> TaskError {
    let kind = match e.kind() {
        std::io::ErrorKind::TimedOut => ErrorKind::ConnectTimeout,
        _ => ErrorKind::Unreachable,
    };
    TaskError::new(kind, format!("connect to {label}: {e}"))
}

/// The handshake failed. `head`, the first bytes the server sent, tells a server that hung
/// up before its banner (sshd over `MaxStartups`, which says so in plain text, or nothing)
/// from one that hung up later.
pub fn handshake_error(e: ClientError, label: &str, seen: &Seen, head: &[u8]) -> TaskError {
    let e = match e {
        ClientError::HostKey(e) => return e,
        ClientError::Ssh(e) => e,
    };
    let text = String::from_utf8_lossy(head);
    let banner_seen = text.starts_with("SSH-") || text.contains("\nSSH-");
    if !banner_seen {
        let said = text.trim();
        let kind = if said.is_empty() || said.contains("MaxStartups") {
            ErrorKind::Throttled
        } else {
            ErrorKind::Protocol
        };
        let said = if said.is_empty() {
            String::new()
        } else {
            format!(", saying {said:?}")
        };
        return TaskError::new(
            kind,
            format!("{label} closed the connection before its banner{said}: {e}"),
        );
    }
    if let russh::Error::NoCommonAlgo { kind, ours, theirs } = &e {
        let what = match kind {
            AlgorithmKind::Kex => "key exchange method",
            AlgorithmKind::Key => "host key type",
            AlgorithmKind::Cipher => "cipher",
            AlgorithmKind::Mac => "MAC",
            AlgorithmKind::Compression => "compression method",
        };
        return TaskError::new(
            ErrorKind::Protocol,
            format!(
                "no matching {what} with {label}: the server offers {}; drover offers {} \
                 (for an old device set `ssh_legacy_algorithms: true`, or name the lists: \
                 `ssh_kex`, `ssh_ciphers`, `ssh_macs`, `ssh_host_key_algorithms`)",
                theirs.join(","),
                ours.join(",")
            ),
        );
    }
    from_server(&e, label, seen)
}

/// An error after the handshake: the server's disconnect message decides, when it sent one.
pub fn from_server(e: &russh::Error, label: &str, seen: &Seen) -> TaskError {
    match seen.disconnect() {
        Some(said) => {
            let kind = if said.contains("authentication") {
                ErrorKind::AuthFailed
            } else if said.contains("MaxStartups") {
                ErrorKind::Throttled
            } else {
                ErrorKind::Protocol
            };
            TaskError::new(kind, format!("{label} disconnected: {said}"))
        }
        None => TaskError::new(ErrorKind::Protocol, format!("ssh to {label}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_that_closes_before_its_banner_is_throttled() {
        let e = handshake_error(
            ClientError::Ssh(russh::Error::Disconnect),
            "192.0.2.1:22",
            &Seen::default(),
            b"",
        );
        assert_eq!(e.kind, ErrorKind::Throttled);
        let e = handshake_error(
            ClientError::Ssh(russh::Error::Disconnect),
            "192.0.2.1:22",
            &Seen::default(),
            b"Exceeded MaxStartups\r\n",
        );
        assert_eq!(e.kind, ErrorKind::Throttled);
        assert!(
            e.message.contains("saying \"Exceeded MaxStartups\""),
            "{}",
            e.message
        );
    }

    #[test]
    fn the_server_s_disconnect_message_is_kept_and_classifies() {
        let seen = Seen::default();
        *seen.disconnect.lock().unwrap() = Some("Too many authentication failures".into());
        let e = from_server(&russh::Error::Disconnect, "192.0.2.1:22", &seen);
        assert_eq!(e.kind, ErrorKind::AuthFailed);
        assert!(
            e.message.ends_with("Too many authentication failures"),
            "{}",
            e.message
        );
        let e = handshake_error(
            ClientError::Ssh(russh::Error::NoCommonAlgo {
                kind: AlgorithmKind::Kex,
                ours: vec!["curve25519-sha256".into()],
                theirs: vec!["diffie-hellman-group1-sha1".into()],
            }),
            "192.0.2.1:22",
            &Seen::default(),
            b"SSH-2.0-OpenSSH_9.6\r\n",
        );
        assert_eq!(e.kind, ErrorKind::Protocol);
        assert!(
            e.message.contains("offers diffie-hellman-group1-sha1"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("ssh_legacy_algorithms: true"),
            "{}",
            e.message
        );
    }
}
