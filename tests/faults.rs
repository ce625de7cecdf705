//! Faults blamed on the right thing and cleaned up after: what a stalled or dying server
//! leaves behind, and which class a failure gets.

use std::sync::Arc;
use std::time::Duration;

use crate::support::mosquitto::{closed_port, Behaviour, Mosquitto, Simulator};
use crate::support::relay::{Relay, Stall};
use crate::support::sshd::Lab;
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

/// MQTT hosts on `url`, `mode` shared or per_node.
fn mqtt_inventory(url: &str, mode: &str, hosts: &[&str]) -> String {
    let mut out =
        format!("defaults:\n  transport: mqtt\n  mqtt_url: {url}\n  mqtt_mode: {mode}\nhosts:\n");
    for h in hosts {
        out.push_str(&format!("  {h}: {{}}\n"));
    }
    out
}

const PUBLISH: &str = r#"
- hosts: all
  batch_size: 0
  concurrency: 10
  tasks:
    - mqtt:
        topic: "node/{{ node_id }}/to-node"
        payload: { cmd: ping }
        qos: 1
"#;

/// A broker that takes 1.5 s to accept (a WAN, a TLS offload) is an ordinary broker: the
/// connection attempt runs to its own deadline and is not started over by housekeeping.
#[test]
fn a_broker_slow_to_accept_is_reached_on_the_first_attempt() {
    let broker = Mosquitto::start();
    for (mode, connections) in [("shared", 1), ("per_node", 3)] {
        let relay = Relay::delayed(&[broker.port], Duration::from_millis(1_500));
        let url = format!("mqtt://{}:{}", net::host(), relay.ports[0]);
        let out = Test::new()
            .file("inv.yml", &mqtt_inventory(&url, mode, &["n1", "n2", "n3"]))
            .file("p.yml", PUBLISH)
            .args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"])
            .run()
            .code(0);
        let report = out.report();
        assert_eq!(report["counts"]["ok"], 3, "{mode}");
        for h in ["n1", "n2", "n3"] {
            assert_eq!(
                host(&report, h)["connect_attempts"]
                    .as_array()
                    .unwrap()
                    .len(),
                1
            );
        }
        assert_eq!(
            relay.accepted().len(),
            connections,
            "{mode}: TCP connections the broker saw"
        );
    }
}

/// A broker that fails slowly (here: closes each connection after a second) is recorded as
/// down, with its name, so its hosts are unreachable at once rather than each waiting out
/// its connect timeout while the attempt is started over and over.
#[test]
fn a_broker_that_fails_slowly_is_recorded_down_and_named() {
    let relay = Relay::delayed(&[closed_port()], Duration::from_secs(1));
    let url = format!("mqtt://{}:{}", net::host(), relay.ports[0]);
    let hosts = ["d1", "d2", "d3", "d4", "d5"];
    let out = Test::new()
        .file("inv.yml", &mqtt_inventory(&url, "shared", &hosts))
        .file("p.yml", PUBLISH)
        .args(&[
            "run",
            "p.yml",
            "-i",
            "inv.yml",
            "--connect-timeout",
            "8s",
            "--retries",
            "0",
            "--report",
            "report.json",
        ])
        .run()
        .code(2);
    let report = out.report();
    assert_eq!(report["counts"]["unreachable"], 5);
    for h in hosts {
        let error = &host(&report, h)["error"];
        assert_eq!(error["kind"], "unreachable", "{h}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(&url), "{h}: {message}");
    }
    // One connection: the hosts were told of the recorded failure instead of redialling.
    assert_eq!(relay.accepted().len(), 1);
}

/// Shared mode opens one connection per broker and identity: each is a new connection to
/// a broker, paced by `rate` like any other, while the hosts sharing it spend no token.
#[test]
fn new_shared_broker_connections_are_paced_by_the_rate() {
    let broker = Mosquitto::start();
    let mut inventory = String::from("defaults:\n  transport: mqtt\n  mqtt_mode: shared\nhosts:\n");
    // Four identities (client ids) on one broker: four connections, three hosts each.
    for i in 0..12 {
        inventory.push_str(&format!(
            "  n{i}:\n    vars: {{ mqtt_url: '{}', mqtt_client_id: 'id{}' }}\n",
            broker.url(),
            i % 4
        ));
    }
    let playbook = PUBLISH.replace("concurrency: 10", "concurrency: 12\n  rate: 4/s");
    let out = Test::new()
        .file("inv.yml", &inventory)
        .file("p.yml", &playbook)
        .args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"])
        .run()
        .code(0);
    let report = out.report();
    assert_eq!(report["mqtt"]["connections"], 4);
    let mut waited: Vec<u64> = report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["connect_attempts"][0]["waited_ms"].as_u64().unwrap())
        .collect();
    waited.sort();
    // At 4/s the fourth new connection waits for its token (750 ms after the first); a host
    // that shares a connection being opened waits for it, not for a token of its own.
    assert!(*waited.last().unwrap() >= 700, "{waited:?}");
    let paced = waited.iter().filter(|w| **w > 0).count();
    assert!(
        paced <= 3,
        "only new connections wait for tokens: {waited:?}"
    );
}

/// A shared-mode host without `mqtt_url` connects to a broker at its own address: `check`
/// says so per host, and warns when that gives a play many brokers, naming the variable.
#[test]
fn check_shows_each_hosts_broker_and_warns_about_default_brokers() {
    let mut inventory = String::from("defaults:\n  transport: mqtt\nhosts:\n");
    for i in 1..=4 {
        inventory.push_str(&format!("  n{i}: {{ address: 10.0.0.{i} }}\n"));
    }
    inventory.push_str("  b1: { address: 10.0.1.1, vars: { mqtt_url: 'mqtt://10.0.9.9:1884' } }\n");
    let out = Test::new()
        .file("inv.yml", &inventory)
        .file("p.yml", PUBLISH)
        .args(&["check", "p.yml", "-i", "inv.yml"])
        .run()
        .code(0)
        .stdout_has(
            "n2 (mqtt 10.0.0.2, broker mqtt://10.0.0.2:1883 (no `mqtt_url`: the host's address))",
        )
        .stdout_has("b1 (mqtt 10.0.1.1, broker mqtt://10.0.9.9:1884)")
        .stdout_has("warning: 4 MQTT hosts have no `mqtt_url`");
    assert!(out.stdout.contains("set `mqtt_url`"), "{}", out.stdout);
    // One broker for all, set once: no warning.
    let out = Test::new()
        .file(
            "inv.yml",
            &inventory.replace(
                "transport: mqtt\n",
                "transport: mqtt\n  mqtt_url: mqtt://10.0.9.9:1883\n",
            ),
        )
        .file("p.yml", PUBLISH)
        .args(&["check", "p.yml", "-i", "inv.yml"])
        .run()
        .code(0)
        .stdout_has("n2 (mqtt 10.0.0.2, broker mqtt://10.0.9.9:1883)");
    assert!(!out.stdout.contains("warning"), "{}", out.stdout);
}

/// `correlation: none` waits for the first message on the reply topic. After a `no_reply`
/// the waiter of the request that gave up must not hold the topic: the retry of an
/// idempotent task waits there again instead of failing with "another request already
/// waits".
#[test]
fn a_timed_out_first_on_topic_waiter_is_released_for_the_retry() {
    let broker = Mosquitto::start();
    let sim = Simulator::start(broker.port, Arc::new(|_: &str| Behaviour::Silent));
    let playbook = r#"
- hosts: all
  tasks:
    - idempotent: true
      mqtt:
        topic: "node/{{ node_id }}/to-node"
        payload: { cmd: read }
        reply:
          topic: "node/{{ node_id }}/from-node"
          correlation: none
          timeout: 300ms
"#;
    let out = Test::new()
        .file("inv.yml", &mqtt_inventory(&broker.url(), "shared", &["q1"]))
        .file("p.yml", playbook)
        .args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"])
        .run()
        .code(2);
    let report = out.report();
    let error = &host(&report, "q1")["error"];
    assert_eq!(error["kind"], "no_reply", "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("after 3 attempts"),
        "{error}"
    );
    assert_eq!(sim.seen("q1"), 3);
}

/// `exec --output json` lists every distinct output: the one host that drifted is the group
/// that matters, and it has a single host.
#[test]
fn exec_json_lists_single_host_output_groups() {
    let out = Test::new()
        .file("inv.yml", crate::support::LAB)
        .args(&[
            "exec",
            "-i",
            "inv.yml",
            "all",
            "--output",
            "json",
            "--",
            "echo",
            "{{ 'drift' if inventory_hostname == 'lab-e2' else 'same' }}",
        ])
        .run()
        .code(0);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("stdout is JSON");
    let groups: Vec<(&str, &str)> = report["output_groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| (g["folded"].as_str().unwrap(), g["stdout"].as_str().unwrap()))
        .collect();
    assert_eq!(
        groups,
        [("lab-r[1-3],lab-e[1,3]", "same\n"), ("lab-e2", "drift\n")]
    );
}

/// Two hosts that are one node on one broker fail at run time (per-node: each connection
/// takes the other's session over; shared: they answer each other's requests), so the plan
/// refuses them, and `check` with it.
#[test]
fn duplicate_mqtt_node_ids_are_rejected_before_the_run() {
    let url = format!("mqtt://{}:{}", net::host(), closed_port());
    let inventory = format!(
        "defaults:\n  transport: mqtt\n  mqtt_url: {url}\nhosts:\n  a: {{ vars: {{ node_id: n7 }} }}\n  \
         b: {{ vars: {{ node_id: n7 }} }}\n  c: {{ vars: {{ node_id: n8 }} }}\n"
    );
    for command in ["check", "run"] {
        Test::new()
            .file("inv.yml", &inventory)
            .file("p.yml", PUBLISH)
            .args(&[command, "p.yml", "-i", "inv.yml"])
            .run()
            .code(1)
            .stderr_has("hosts a and b have the same MQTT node_id `n7`")
            .stderr_has("give each its own `node_id`");
    }
}

/// The sshd serving a session dies mid-command (here the command kills it): the connection
/// was lost, which is the path's failure — `connection_lost`, counted by the breaker, and not
/// made `ignored` by `ignore_errors` — not the command's `nonzero_exit`.
#[test]
fn a_killed_sshd_mid_command_is_a_lost_connection() {
    let lab = Lab::builder().good(1).start();
    let playbook = r#"
- hosts: all
  tasks:
    - name: the server dies
      command: "kill -9 $PPID; sleep 1"
      ignore_errors: true
    - command: "true"
"#;
    for inventory in [lab.inventory(""), lab.native_inventory("")] {
        let out = Test::new()
            .file("inv.yml", &inventory)
            .file("p.yml", playbook)
            .args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"])
            .run()
            .code(2);
        let report = out.report();
        let h = &report["hosts"][0];
        let task = &h["tasks"][0];
        assert_eq!(task["error"]["kind"], "connection_lost", "{task}");
        assert_eq!(task["status"], "failed", "{task}");
        assert_eq!(h["status"], "failed", "{h}");
        assert_eq!(h["breaker"]["failures"], 1, "{h}");
    }
}

/// A host that accepts TCP and never speaks (a blackhole behind a firewall) failed to
/// connect, whichever deadline cut the attempt: the connect timeout or the host timeout.
#[test]
fn a_blackholed_host_is_a_connect_timeout_whichever_deadline_cuts_it() {
    let silent = Stall::start(b"");
    let inventory = format!(
        "defaults:\n  transport: ssh\n  ssh_backend: native\n  host_key_checking: off\n\
         hosts:\n  r1:\n    address: {}\n    port: {}\n",
        net::host(),
        silent.port
    );
    for deadline in [
        ["--connect-timeout", "1s", "--host-timeout", "30s"],
        ["--connect-timeout", "30s", "--host-timeout", "1s"],
    ] {
        let mut args = vec!["exec", "-i", "inv.yml", "all", "--retries", "0"];
        args.extend(deadline);
        args.extend(["--report", "report.json", "-q", "--", "true"]);
        let out = Test::new()
            .file("inv.yml", &inventory)
            .args(&args)
            .run()
            .code(2);
        let r1 = host(&out.report(), "r1").clone();
        assert_eq!(r1["status"], "unreachable", "{deadline:?}: {r1}");
        assert_eq!(r1["error"]["kind"], "connect_timeout", "{deadline:?}: {r1}");
        assert_eq!(r1["breaker"]["failures"], 1, "{deadline:?}: {r1}");
    }
}

/// A control directory whose owner runs in another PID namespace (its PID means nothing
/// here) but still holds its lock is not stale: its masters are left alone.
#[test]
fn a_control_dir_whose_owner_holds_its_lock_is_not_cleaned_whatever_its_pid() {
    use std::os::unix::io::AsRawFd;
    let lab = Lab::builder().good(1).start();
    // pid_max is at most 2^22 on Linux, so no process here has this pid.
    let live = std::path::PathBuf::from(format!("/tmp/drover-4999998-{:06x}", std::process::id()));
    std::fs::create_dir_all(live.join(".ssh-connectionXXXX")).expect("live dir");
    let lock = std::fs::File::create(live.join("owner.lock")).expect("lock file");
    // SAFETY: flock on a file we own; the "other drover" holding its lock.
    assert_eq!(
        unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) },
        0
    );
    let run = || {
        Test::new()
            .file("inv.yml", &lab.inventory(""))
            .args(&["exec", "-i", "inv.yml", "all", "--", "true"])
            .run()
            .code(0)
    };
    run();
    assert!(
        live.exists(),
        "the live control dir of another namespace was removed"
    );
    // Its owner gone (the lock with it), the next run cleans it.
    drop(lock);
    run();
    assert!(!live.exists(), "the stale control dir is still there");
}
