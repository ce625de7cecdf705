//! Faults blamed on the right thing and cleaned up after: what a stalled or dying server
//! leaves behind, and which class a failure gets.

use std::time::Duration;

use crate::support::relay::Stall;
use crate::support::{host, net, Test};

/// A key exchange that stalls past the connect timeout: every abandoned attempt's `ssh`
/// must end with it, not hold a TCP session (a router's vty line) for another ~45 s.
#[test]
fn an_abandoned_connect_ends_its_ssh_and_its_tcp_session() {
    let stall = Stall::start(b"SSH-2.0-OpenSSH_9.6 stalls\r\n");
    let inventory = format!(
        "defaults:\n  transport: ssh\n  ssh_backend: openssh\n  host_key_checking: off\n\
         hosts:\n  r1:\n    address: {}\n    port: {}\n",
        net::host(),
        stall.port
    );
    let out = Test::new()
        .file("inv.yml", &inventory)
        .args(&[
            "exec",
            "-i",
            "inv.yml",
            "all",
            "--connect-timeout",
            "1s",
            "--retries",
            "2",
            "--backoff",
            "10ms",
            "--report",
            "report.json",
            "-q",
            "--",
            "true",
        ])
        .run()
        .code(2);
    let report = out.report();
    let r1 = host(&report, "r1");
    assert_eq!(r1["error"]["kind"], "connect_timeout", "{r1}");
    // Bounded wait for the server to see the sessions end: they end when drover abandons
    // each attempt, seconds before this bound; left alone they would last 45 s.
    let (accepted, open) = stall.wait_all_closed(Duration::from_secs(10));
    assert_eq!(accepted, 3, "one TCP session per attempt");
    assert_eq!(open, 0, "sessions of abandoned attempts still open");
}
