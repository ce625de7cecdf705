//! The ssh transport against real OpenSSH `sshd` processes on loopback (`support::sshd`):
//! output per host, one connection per host for all its tasks, every connect error class
//! from an endpoint that really misbehaves, command timeouts that leave nothing running,
//! jump hosts, and batches whose connections never overlap.

use std::collections::HashMap;
use std::time::Duration;

use crate::support::net;
use crate::support::sshd::{Kind, Lab};
use crate::support::{host, Test};

fn run(lab: &Lab, inventory: String, playbook: &str, extra: &[&str]) -> crate::support::Outcome {
    let mut args = vec!["run", "p.yml", "-i", "inv.yml", "--report", "report.json"];
    args.extend_from_slice(extra);
    let _ = lab;
    Test::new()
        .file("inv.yml", &inventory)
        .file("p.yml", playbook)
        .args(&args)
        .run()
}

/// Waits (bounded) for a process to be gone; a zombie counts as gone.
fn gone(pid: u32) -> bool {
    for _ in 0..100 {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat) if stat.rsplit(") ").next().unwrap_or("").starts_with('Z') => return true,
            Ok(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    false
}

#[test]
fn a_playbook_runs_on_24_hosts_with_one_connection_per_host() {
    let lab = Lab::builder().good(24).start();
    let playbook = "
- hosts: all
  batch_size: 0
  concurrency: 12
  tasks:
    - name: hello
      command: echo hello from {{ inventory_hostname }}
    - name: script
      shell: |
        x='single quotes'
        echo \"$x\" && echo to-stderr >&2
    - name: exit code is not a transport error
      command: exit 3
      expect:
        exit_code: [3]
";
    let out = run(&lab, lab.inventory(""), playbook, &[]).code(0);
    let report = out.report();
    for e in &lab.endpoints {
        let h = host(&report, &e.name);
        assert_eq!(h["status"], "ok", "{}: {h}", e.name);
        let tasks = &h["tasks"];
        assert_eq!(tasks[0]["stdout"], format!("hello from {}\n", e.name));
        assert_eq!(tasks[1]["stdout"], "single quotes\n");
        assert_eq!(
            tasks[1]["stderr"], "to-stderr\n",
            "stderr comes back on its own"
        );
        assert_eq!(tasks[2]["exit_code"], 3);
    }
    // What the servers saw: one connection per host carried all 3 commands. On a saturated
    // machine a handshake can time out and be retried; such a connection carries nothing.
    lab.wait_for("Disconnected from", 24);
    let connections = lab.connections();
    for e in &lab.endpoints {
        let carried: Vec<usize> = connections
            .iter()
            .filter(|c| c.server_port == e.port && c.sessions > 0)
            .map(|c| c.sessions)
            .collect();
        assert_eq!(carried, [3], "sessions per connection to {}", e.name);
    }
}

#[test]
fn every_connect_error_class_comes_from_a_real_endpoint() {
    let lab = Lab::builder()
        .good(1)
        .with(Kind::Refused)
        .with(Kind::Blackhole)
        .with(Kind::WrongHostKey)
        .with(Kind::WrongUserKey)
        .with(Kind::Throttled)
        .with(Kind::Device)
        .start();
    let playbook = "
- hosts: all
  connect_timeout: 3s
  tasks:
    - command: echo ok
";
    let out = run(&lab, lab.inventory(""), playbook, &[]).code(2);
    let report = out.report();
    assert_eq!(host(&report, "h000")["status"], "ok");
    // Connected, but the command failed: a failed host, not a transport error.
    let router = host(&report, "router");
    assert_eq!(router["status"], "failed", "{router}");
    assert_eq!(router["error"]["kind"], "nonzero_exit", "{router}");
    assert_eq!(router["tasks"][0]["stderr"], "% Invalid input: echo ok\n");
    for (name, kind, says) in [
        ("refused", "unreachable", "Connection refused"),
        ("blackhole", "connect_timeout", ""),
        (
            "badhostkey",
            "host_key_mismatch",
            "Host key verification failed",
        ),
        ("badkey", "auth_failed", "Permission denied (publickey)"),
        ("throttled", "throttled", "kex_exchange_identification"),
    ] {
        let h = host(&report, name);
        assert_eq!(h["status"], "unreachable", "{name}: {h}");
        assert_eq!(h["error"]["kind"], kind, "{name}: {h}");
        let message = h["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{name}: {message}");
        // The summary names the class the report has, not only the host's status.
        assert!(
            out.stdout
                .contains(&format!("unreachable · {kind} · while connecting")),
            "{name}: {}",
            out.stdout
        );
    }
}

#[test]
fn a_command_timeout_kills_the_remote_process_group() {
    let lab = Lab::builder().good(1).start();
    let pids = lab.path("pids");
    let playbook = format!(
        "
- hosts: all
  command_timeout: 2s
  tasks:
    - name: hangs
      shell: |
        sleep 3001 &
        echo $! > {pids}.child
        echo $$ > {pids}.shell
        echo started
        wait
",
        pids = pids.display()
    );
    let out = run(&lab, lab.inventory(""), &playbook, &[]).code(2);
    let report = out.report();
    let h = host(&report, "h000");
    let task = &h["tasks"][0];
    assert_eq!(task["error"]["kind"], "command_timeout", "{h}");
    let message = task["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("drover killed the remote command"),
        "{message}"
    );
    assert_eq!(
        task["stdout"], "started\n",
        "output before the timeout is kept"
    );
    for suffix in ["child", "shell"] {
        let pid: u32 = std::fs::read_to_string(format!("{}.{suffix}", pids.display()))
            .expect("the command wrote its pid")
            .trim()
            .parse()
            .expect("a pid");
        assert!(
            gone(pid),
            "the remote {suffix} process {pid} survived the timeout"
        );
    }
}

#[test]
fn a_device_cli_gets_the_line_as_typed() {
    let lab = Lab::builder().with(Kind::Device).start();
    let playbook = r#"
- hosts: all
  tasks:
    - command: show version
    - command: show run | include "host name"
"#;
    let out = run(&lab, lab.inventory(""), playbook, &[]).code(0);
    let report = out.report();
    let tasks = &host(&report, "router")["tasks"];
    assert_eq!(tasks[0]["stdout"], "ToyOS 1.0\n");
    assert_eq!(
        tasks[1]["stdout"],
        "you typed: show run | include \"host name\"\n"
    );
}

#[test]
fn a_device_cli_timeout_closes_the_connection() {
    let lab = Lab::builder().with(Kind::Device).start();
    let playbook = "
- hosts: all
  command_timeout: 1s
  tasks:
    - command: monitor
";
    let out = run(&lab, lab.inventory(""), playbook, &[]).code(2);
    let report = out.report();
    let task = &host(&report, "router")["tasks"][0];
    assert_eq!(task["error"]["kind"], "command_timeout", "{task}");
    let message = task["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("the connection was closed"), "{message}");
    assert!(message.contains("no POSIX shell"), "{message}");
    assert!(task["stdout"]
        .as_str()
        .unwrap_or_default()
        .starts_with("tick\n"));
    lab.wait_for("Disconnected from", 1);
    let closed = lab.connections().iter().any(|c| c.closed.is_some());
    assert!(closed, "the server saw the connection close");
}

#[test]
fn a_host_deadline_mid_command_ends_the_connection() {
    let lab = Lab::builder().good(1).start();
    let playbook = "
- hosts: all
  host_timeout: 2s
  command_timeout: 60s
  tasks:
    - command: sleep 20
";
    let out = run(&lab, lab.inventory(""), playbook, &[]).code(2);
    assert_eq!(host(&out.report(), "h000")["error"]["kind"], "host_timeout");
    // drover has exited; its master must not keep the connection open for the command.
    lab.wait_for("Disconnected from", 1);
    let conns = lab.connections();
    let conn = conns
        .iter()
        .find(|c| c.authenticated.is_some())
        .expect("a login");
    assert!(
        conn.closed.is_some(),
        "the connection outlived drover: {conn:?}"
    );
}

#[test]
fn a_jump_host_carries_the_connection() {
    let lab = Lab::builder().good(2).start();
    let bastion = lab.endpoint("h000").port;
    let target = lab.endpoint("h001").port;
    let jump = format!("{{jump: [\"{}:{bastion}\"]}}", net::host());
    let inventory = lab.inventory_with("", &[("h001", &jump)]);
    let playbook = "
- hosts: h001
  tasks:
    - command: echo through the bastion
";
    let out = run(&lab, inventory, playbook, &[]).code(0);
    let report = out.report();
    assert_eq!(
        host(&report, "h001")["tasks"][0]["stdout"],
        "through the bastion\n"
    );
    lab.wait_for("Accepted publickey", 2);
    let authenticated: Vec<u16> = lab
        .connections()
        .iter()
        .filter(|c| c.authenticated.is_some())
        .map(|c| c.server_port)
        .collect();
    // Only h001 is in the play: the bastion saw a login only because of the jump.
    assert!(authenticated.contains(&bastion), "{authenticated:?}");
    assert!(authenticated.contains(&target), "{authenticated:?}");
}

#[test]
fn a_jump_host_that_fails_leaves_the_host_unreachable() {
    let lab = Lab::builder().good(1).with(Kind::Refused).start();
    let refused = lab.endpoint("refused").port;
    let jump = format!("{{jump: [\"{}:{refused}\"]}}", net::host());
    let inventory = lab.inventory_with("", &[("h000", &jump)]);
    let playbook = "
- hosts: h000
  tasks:
    - command: echo never
";
    let out = run(&lab, inventory, playbook, &[]).code(2);
    let h = &host(&out.report(), "h000")["error"].clone();
    assert_eq!(h["kind"], "unreachable", "{h}");
    let message = h["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(&format!("through jump host {}:", net::host())),
        "{message}"
    );
}

#[test]
fn batches_disconnect_before_the_next_batch_connects() {
    let lab = Lab::builder().good(12).start();
    let playbook = "
- hosts: all
  batch_size: 4
  concurrency: 4
  tasks:
    - command: sleep 0.2
    - command: echo done
";
    run(&lab, lab.inventory(""), playbook, &[]).code(0);
    lab.wait_for("Disconnected from", 12);
    let conns: HashMap<u16, _> = lab
        .connections()
        .into_iter()
        .filter(|c| c.authenticated.is_some())
        .map(|c| (c.server_port, c))
        .collect();
    // Batches take hosts in inventory order.
    let batches: Vec<Vec<_>> = lab
        .endpoints
        .chunks(4)
        .map(|b| b.iter().map(|e| &conns[&e.port]).collect())
        .collect();
    for pair in batches.windows(2) {
        let last_close = pair[0]
            .iter()
            .map(|c| c.closed.expect("closed"))
            .fold(f64::MIN, f64::max);
        let first_open = pair[1].iter().map(|c| c.opened).fold(f64::MAX, f64::min);
        assert!(
            last_close < first_open,
            "a batch connected at {first_open} before the previous one was gone at {last_close}"
        );
    }
}

#[test]
fn exec_prints_one_line_per_host_and_a_grouped_summary() {
    let lab = Lab::builder().good(3).start();
    let out = Test::new()
        .file("inv.yml", &lab.inventory(""))
        .args(&["exec", "-i", "inv.yml", "all", "--", "uname", "-a"])
        .run()
        .code(0)
        .stdout_has("h[000-002] (3)\n");
    assert!(out.stdout.contains("Linux"), "{}", out.stdout);
    for name in ["h000", "h001", "h002"] {
        assert!(
            out.stderr.lines().any(|l| l.contains(name)),
            "no line for {name}:\n{}",
            out.stderr
        );
    }
}

#[test]
fn bad_ssh_options_stop_the_run_before_anything_connects() {
    let inventory = "
hosts:
  r1:
    address: 127.0.0.1
    port: 9
    vars:
      host_key_checking: maybe
";
    Test::new()
        .file("inv.yml", inventory)
        .args(&["exec", "-i", "inv.yml", "all", "--", "true"])
        .run()
        .code(1)
        .stderr_has("`host_key_checking` must be `strict`, `accept-new` or `off`");
}

#[test]
fn an_address_that_ssh_would_read_as_an_option_is_refused() {
    let inventory = "
hosts:
  r1:
    address: -oProxyCommand=touch pwned
";
    let out = Test::new()
        .file("inv.yml", inventory)
        .args(&["exec", "-i", "inv.yml", "all", "--", "true"])
        .run()
        .code(1)
        .stderr_has("is not a host name or address ssh can be given");
    assert!(!out.dir.join("pwned").exists());
}

#[test]
fn stale_control_dirs_of_dead_runs_are_removed() {
    let lab = Lab::builder().good(1).start();
    // pid_max is at most 2^22 on Linux, so this pid cannot be running.
    let stale = std::path::Path::new("/tmp/drover-4999999-dead00");
    std::fs::create_dir_all(stale.join(".ssh-connectionXXXX")).expect("stale dir");
    Test::new()
        .file("inv.yml", &lab.inventory(""))
        .args(&["exec", "-i", "inv.yml", "all", "--", "true"])
        .run()
        .code(0);
    assert!(!stale.exists(), "the stale control dir is still there");
}

#[test]
fn large_outputs_on_both_streams_come_back_whole() {
    // Both streams are read to their end before the exit status is asked for (the mux master
    // drops a session's pipes once its status is taken).
    let lab = Lab::builder().good(4).start();
    let playbook = "
- hosts: all
  tasks:
    - shell: head -c 300000 /dev/zero | tr '\\0' o; head -c 300000 /dev/zero | tr '\\0' e >&2
";
    let out = run(&lab, lab.inventory(""), playbook, &[]).code(0);
    let report = out.report();
    for e in &lab.endpoints {
        let task = &host(&report, &e.name)["tasks"][0];
        let stdout = task["stdout"].as_str().unwrap_or_default();
        let stderr = task["stderr"].as_str().unwrap_or_default();
        assert_eq!(stdout.len(), 300_000, "{}: stdout", e.name);
        assert_eq!(stderr.len(), 300_000, "{}: stderr", e.name);
        assert!(stdout.bytes().all(|b| b == b'o') && stderr.bytes().all(|b| b == b'e'));
    }
}

/// The first connection to a device whose key is not in known_hosts, under the default
/// `strict`: not a "mismatch" (nothing changed), but an unknown key, with the fix spelled out.
#[test]
fn an_unknown_host_key_says_so_and_how_to_trust_it() {
    let lab = Lab::builder().good(1).start();
    let config = std::fs::read_to_string(lab.path("ssh_config"))
        .unwrap()
        .replace(
            &lab.path("known_hosts").display().to_string(),
            &lab.path("empty_known_hosts").display().to_string(),
        );
    std::fs::write(lab.path("empty_known_hosts"), "").unwrap();
    std::fs::write(lab.path("fresh_config"), config).unwrap();
    let fresh = format!("{{ ssh_config: {} }}", lab.path("fresh_config").display());
    let inventory = lab.inventory_with("", &[("h000", &fresh)]);
    let playbook = "- hosts: all\n  tasks:\n    - command: echo ok\n";
    let out = run(&lab, inventory, playbook, &[]).code(2);
    let report = out.report();
    let h = host(&report, "h000");
    assert_eq!(h["error"]["kind"], "host_key_unknown", "{h}");
    let message = h["error"]["message"].as_str().unwrap();
    let port = lab.endpoints[0].port;
    let addr = net::host();
    assert!(message.starts_with("unknown host key: "), "{message}");
    assert!(
        message.contains("host_key_checking: accept-new"),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "ssh-keyscan -p {port} {addr} >> ~/.ssh/known_hosts"
        )),
        "{message}"
    );
    // The summary on stdout shows the class the report has, and the fix.
    assert!(
        out.stdout
            .contains("unreachable · host_key_unknown · while connecting"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("accept-new"), "{}", out.stdout);
    // With accept-new the same host connects and its key is recorded.
    let inventory = lab.inventory_with("host_key_checking: accept-new", &[("h000", &fresh)]);
    run(&lab, inventory, playbook, &[]).code(0);
    let learned = std::fs::read_to_string(lab.path("empty_known_hosts")).unwrap();
    assert!(learned.contains(&format!("]:{port} ")), "{learned}");
}

/// `-vvv` on the openssh backend shows the ssh command line drover started the master with,
/// and the report's connect attempt keeps it.
#[test]
fn vvv_shows_the_ssh_command_line_of_the_master() {
    let lab = Lab::builder().good(1).start();
    let out = run(
        &lab,
        lab.inventory(""),
        "- hosts: all\n  tasks:\n    - command: 'true'\n",
        &["-vvv"],
    )
    .code(0);
    let e = &lab.endpoints[0];
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("connect attempt 1"))
        .unwrap_or_else(|| panic!("no connect line:\n{}", out.stderr))
        .to_string();
    assert!(
        line.contains("openssh: ssh ") && line.contains(" -F "),
        "{line}"
    );
    assert!(
        line.contains(&format!("-p {} ", e.port)) && line.contains(&net::host().to_string()),
        "{line}"
    );
    assert!(line.contains("master pid "), "{line}");
    let via = host(&out.report(), &e.name)["connect_attempts"][0]["via"].clone();
    assert!(
        via.as_str().is_some_and(|v| v.starts_with("openssh: ssh ")),
        "{via}"
    );
}
