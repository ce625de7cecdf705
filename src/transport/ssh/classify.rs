//! Turns what OpenSSH printed when a master connection failed into an error class, keeping
//! OpenSSH's own words as the message.

use crate::outcome::{ErrorKind, TaskError};

/// Where the failed connection went: for the fix an unknown host key message gives.
#[derive(Debug, Clone, Copy)]
pub struct Destination<'a> {
    pub address: &'a str,
    pub port: Option<u16>,
    pub jump: &'a [String],
}

/// Classifies the master's log (its stderr) after a failed connect. Through jump hosts, a
/// failed jump shows only as the far end closing the connection (the jump ssh's own error is
/// not shown), which would read as throttling: there it is `unreachable`, and says so.
pub fn connect_error(log: &str, to: Destination<'_>) -> TaskError {
    let message = tidy(log);
    match classify(&message) {
        ErrorKind::Throttled | ErrorKind::Protocol if !to.jump.is_empty() => TaskError::new(
            ErrorKind::Unreachable,
            format!("through jump host {}: {message}", to.jump.join(", ")),
        ),
        ErrorKind::HostKeyUnknown => {
            TaskError::new(ErrorKind::HostKeyUnknown, unknown_key(&message, to))
        }
        kind => TaskError::new(kind, message),
    }
}

/// The first connection to a device under `strict`: what happened in plain words, OpenSSH's
/// own line, and the two ways to trust the key.
fn unknown_key(message: &str, to: Destination<'_>) -> String {
    let port = to.port.unwrap_or(22);
    format!(
        "unknown host key: {address} port {port} is not in known_hosts; to trust its key on \
         first connect set `host_key_checking: accept-new` for the host, or add the key after \
         checking its fingerprint: ssh-keyscan -p {port} {address} >> ~/.ssh/known_hosts \
         (ssh: {message})",
        address = to.address
    )
}

fn classify(m: &str) -> ErrorKind {
    let has = |s: &str| m.contains(s);
    if has("REMOTE HOST IDENTIFICATION HAS CHANGED") || has("has changed and you have requested") {
        ErrorKind::HostKeyMismatch
    } else if has("host key is known for") {
        // "No ED25519 host key is known for [h]:22 and you have requested strict checking."
        ErrorKind::HostKeyUnknown
    } else if has("Host key verification failed") || has("you have requested strict checking") {
        ErrorKind::HostKeyMismatch
    } else if has("Exceeded MaxStartups")
        || (has("kex_exchange_identification")
            && (has("Connection reset by peer") || has("Connection closed by remote host")))
    {
        // sshd drops connections beyond MaxStartups before its banner.
        ErrorKind::Throttled
    } else if has("Could not resolve hostname")
        || has("Name or service not known")
        || has("Temporary failure in name resolution")
        || has("Connection refused")
        || has("No route to host")
        || has("Network is unreachable")
        || has("Host is unreachable")
    {
        ErrorKind::Unreachable
    } else if has("timed out") {
        ErrorKind::ConnectTimeout
    } else if has("Permission denied (") || has("Too many authentication failures") {
        ErrorKind::AuthFailed
    } else if has("connect to host") && has("Permission denied") {
        // A local firewall said no (EACCES on connect).
        ErrorKind::Unreachable
    } else {
        ErrorKind::Protocol
    }
}

/// One readable message: CRLF normalised, the `@@@` banner lines of a changed host key
/// dropped, lines joined with "; ".
fn tidy(log: &str) -> String {
    let lines: Vec<&str> = log
        .lines()
        .map(|l| l.trim())
        .map(|l| l.strip_prefix("ssh: ").unwrap_or(l))
        .filter(|l| !l.is_empty() && !l.starts_with('@'))
        .filter(|l| !l.starts_with("Warning: Permanently added"))
        .collect();
    if lines.is_empty() {
        return "ssh exited without saying why".to_string();
    }
    lines.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to(jump: &[String]) -> Destination<'_> {
        Destination {
            address: "192.0.2.7",
            port: Some(2222),
            jump,
        }
    }

    #[test]
    fn an_unknown_key_says_so_and_gives_both_fixes() {
        let e = connect_error(
            "No ED25519 host key is known for [192.0.2.7]:2222 and you have requested strict checking.\r\nHost key verification failed.",
            to(&[]),
        );
        assert_eq!(e.kind, ErrorKind::HostKeyUnknown);
        assert!(
            e.message
                .starts_with("unknown host key: 192.0.2.7 port 2222 "),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("`host_key_checking: accept-new`"),
            "{}",
            e.message
        );
        assert!(
            e.message
                .contains("ssh-keyscan -p 2222 192.0.2.7 >> ~/.ssh/known_hosts (ssh: No ED25519"),
            "{}",
            e.message
        );
    }

    /// Messages as OpenSSH 9 prints them; the integration tests produce most of them from
    /// real endpoints, these cover the ones a loopback test cannot (DNS, routing).
    #[test]
    fn openssh_messages_map_to_their_classes() {
        for (log, kind) in [
            ("ssh: Could not resolve hostname nowhere.invalid: Name or service not known", ErrorKind::Unreachable),
            ("ssh: connect to host 10.9.9.9 port 22: No route to host", ErrorKind::Unreachable),
            ("ssh: connect to host 10.9.9.9 port 22: Network is unreachable", ErrorKind::Unreachable),
            ("ssh: connect to host 127.0.0.1 port 9: Connection refused", ErrorKind::Unreachable),
            ("ssh: connect to host 10.9.9.9 port 22: Connection timed out", ErrorKind::ConnectTimeout),
            ("Connection timed out during banner exchange\r\nConnection to UNKNOWN port 65535 timed out", ErrorKind::ConnectTimeout),
            ("root@127.0.0.1: Permission denied (publickey).", ErrorKind::AuthFailed),
            ("Received disconnect from 127.0.0.1 port 22:2: Too many authentication failures", ErrorKind::AuthFailed),
            ("@@@@@@@@@@@\r\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\nHost key verification failed.", ErrorKind::HostKeyMismatch),
            ("No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\r\nHost key verification failed.", ErrorKind::HostKeyUnknown),
            ("Host key for [127.0.0.1]:2222 has changed and you have requested strict checking.\r\nHost key verification failed.", ErrorKind::HostKeyMismatch),
            ("kex_exchange_identification: read: Connection reset by peer", ErrorKind::Throttled),
            ("kex_exchange_identification: Connection closed by remote host", ErrorKind::Throttled),
            ("Exceeded MaxStartups", ErrorKind::Throttled),
            ("Unable to negotiate with 127.0.0.1 port 22: no matching key exchange method found.", ErrorKind::Protocol),
            ("", ErrorKind::Protocol),
        ] {
            assert_eq!(connect_error(log, to(&[])).kind, kind, "{log}");
        }
    }

    #[test]
    fn a_closed_connection_through_a_jump_host_is_unreachable() {
        let log = "kex_exchange_identification: Connection closed by remote host";
        let e = connect_error(log, to(&["bastion:2222".to_string()]));
        assert_eq!(e.kind, ErrorKind::Unreachable);
        assert_eq!(e.message, format!("through jump host bastion:2222: {log}"));
        let denied = connect_error(
            "root@r1: Permission denied (publickey).",
            to(&["b".to_string()]),
        );
        assert_eq!(denied.kind, ErrorKind::AuthFailed);
    }

    #[test]
    fn the_message_is_openssh_s_own_on_one_line() {
        let e = connect_error(
            "@@@@\r\n@ WARNING @\r\nOffending key in /k:1\r\nHost key verification failed.\r\n",
            to(&[]),
        );
        assert_eq!(
            e.message,
            "Offending key in /k:1; Host key verification failed."
        );
    }
}
