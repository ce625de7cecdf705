//! The native ssh backend (russh inside drover) against real OpenSSH `sshd` processes on
//! loopback: key, agent, password and keyboard-interactive logins, known_hosts checks, jump
//! chains, a legacy-only server, every connect error class, and the same playbook giving
//! the same report through both backends.

use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::support::net;
use crate::support::sshd::{Kind, Lab};
use crate::support::{host, Outcome, Test};

fn run(inventory: &str, playbook: &str, extra: &[&str]) -> Outcome {
    let mut args = vec!["run", "p.yml", "-i", "inv.yml", "--report", "report.json"];
    args.extend_from_slice(extra);
    Test::new()
        .file("inv.yml", inventory)
        .file("p.yml", playbook)
        .args(&args)
        .run()
}

const ECHO: &str = "
- hosts: all
  connect_timeout: 5s
  tasks:
    - command: echo ok from $(whoami)
";

fn error_of(report: &Value, name: &str) -> (String, String) {
    let h = host(report, name);
    (
        h["error"]["kind"].as_str().unwrap_or_default().to_string(),
        h["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

const MULTI_TASK: &str = "
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

#[test]
fn native_runs_24_hosts_with_one_connection_per_host() {
    let lab = Lab::builder().good(24).start();
    let out = run(&lab.native_inventory(""), MULTI_TASK, &[]).code(0);
    let report = out.report();
    for e in &lab.endpoints {
        let h = host(&report, &e.name);
        assert_eq!(h["status"], "ok", "{}: {h}", e.name);
        let tasks = &h["tasks"];
        assert_eq!(tasks[0]["stdout"], format!("hello from {}\n", e.name));
        assert_eq!(tasks[1]["stdout"], "single quotes\n");
        assert_eq!(tasks[1]["stderr"], "to-stderr\n");
        assert_eq!(tasks[2]["exit_code"], 3);
    }
    lab.wait_for("Disconnected from", 24);
    let connections = lab.connections();
    for e in &lab.endpoints {
        let carried: Vec<usize> = connections
            .iter()
            .filter(|c| c.server_port == e.port && c.sessions > 0)
            .map(|c| c.sessions)
            .collect();
        assert_eq!(carried, [3], "sessions per connection to {}", e.name);
        assert!(
            connections
                .iter()
                .filter(|c| c.server_port == e.port && c.sessions > 0)
                .all(|c| c.closed.is_some()),
            "{} was closed",
            e.name
        );
    }
}

/// The report with what differs between two runs taken out: timings, dates, run ids, paths,
/// and how each connection was made (`via`, which names the backend).
fn comparable(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| {
                    !(k.ends_with("_ms")
                        || k.ends_with("_at")
                        || k.contains("duration")
                        || k.contains("elapsed")
                        || *k == "run_id"
                        || *k == "id"
                        || *k == "inventory"
                        || *k == "playbook"
                        || *k == "slowest"
                        || *k == "via")
                })
                .map(|(k, v)| (k.clone(), comparable(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(comparable).collect()),
        other => other.clone(),
    }
}

#[test]
fn both_backends_give_the_same_report_apart_from_timings() {
    let lab = Lab::builder().good(4).with(Kind::Device).start();
    let playbook = format!(
        "{}
- hosts: router
  tasks:
    - command: show version
    - command: bogus
",
        MULTI_TASK.replace("- hosts: all\n", "- hosts: all:!router\n")
    );
    let openssh = run(&lab.inventory(""), &playbook, &[]).code(2).report();
    let native = run(&lab.native_inventory(""), &playbook, &[])
        .code(2)
        .report();
    assert_eq!(
        serde_json::to_string_pretty(&comparable(&openssh["hosts"])).unwrap(),
        serde_json::to_string_pretty(&comparable(&native["hosts"])).unwrap()
    );
    assert_eq!(openssh["counts"], native["counts"]);
    let router = host(&native, "router");
    assert_eq!(router["tasks"][0]["stdout"], "ToyOS 1.0\n", "{router}");
    assert_eq!(
        router["tasks"][1]["stderr"], "% Invalid input: bogus\n",
        "{router}"
    );
}

/// A real `ssh-agent` on a socket in `dir`, holding `key`; killed on drop.
struct Agent(Child, String);

impl Agent {
    fn start(dir: &std::path::Path, key: &std::path::Path) -> Agent {
        let sock = dir.join("agent.sock").display().to_string();
        let child = Command::new("ssh-agent")
            .args(["-D", "-a", &sock])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ssh-agent");
        let mut agent = Agent(child, sock);
        for _ in 0..100 {
            let added = Command::new("ssh-add")
                .arg(key)
                .env("SSH_AUTH_SOCK", &agent.1)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if added {
                return agent;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = agent.0.kill();
        panic!("ssh-add never reached the agent at {}", agent.1);
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_agent_logs_in_when_no_key_file_is_given() {
    let lab = Lab::builder().good(1).start();
    let agent = Agent::start(lab.dir.path(), &lab.path("client_key"));
    let inventory = lab.inventory(&format!(
        "ssh_backend: native\nknown_hosts_file: {}\n",
        lab.path("known_hosts").display()
    ));
    let test = Test::new()
        .file("inv.yml", &inventory)
        .file("p.yml", ECHO)
        .args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"]);
    // A home without ~/.ssh keys: only the agent has the key.
    let home = test.path().display().to_string();
    let report = test
        .env("HOME", &home)
        .env("SSH_AUTH_SOCK", &agent.1)
        .run()
        .code(0)
        .report();
    let user = crate::support::sshd::user();
    assert_eq!(
        host(&report, "h000")["tasks"][0]["stdout"],
        format!("ok from {user}\n")
    );
    lab.wait_for("Accepted publickey", 1);
    assert!(lab
        .log()
        .iter()
        .any(|l| l.text.contains("Accepted publickey")));
    // Without the agent the same host is refused.
    let test = Test::new()
        .file("inv.yml", &inventory)
        .file("p.yml", ECHO)
        .args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"]);
    let home = test.path().display().to_string();
    let report = test
        .env("HOME", &home)
        .env("SSH_AUTH_SOCK", "")
        .run()
        .code(2)
        .report();
    assert_eq!(error_of(&report, "h000").0, "auth_failed");
}

/// An inventory of the lab's login endpoint (`name`) as its throwaway user with `password`.
fn login_inventory(lab: &Lab, name: &str, password: &str) -> String {
    let login = lab.login.as_ref().expect("a lab user");
    let vars = format!(
        "{{user: {}, ansible_password: \"{password}\", known_hosts_file: {}}}",
        login.name,
        lab.path("known_hosts").display()
    );
    lab.inventory_with("", &[(name, &vars)])
}

fn assert_no_secret(out: &Outcome, secret: &str) {
    let report = std::fs::read_to_string(out.dir.join("report.json")).unwrap_or_default();
    for (what, text) in [
        ("stdout", &out.stdout),
        ("stderr", &out.stderr),
        ("report", &report),
    ] {
        assert!(!text.contains(secret), "the password is in drover's {what}");
    }
}

#[test]
fn a_password_logs_in_and_a_wrong_one_is_auth_failed() {
    let lab = Lab::builder().with(Kind::Password).start();
    let login = lab.login.as_ref().expect("a lab user");
    // No `ssh_backend`: a host with a password gets the native backend by default.
    let out = run(
        &login_inventory(&lab, "password", &login.password),
        ECHO,
        &[],
    )
    .code(0);
    assert_eq!(
        host(&out.report(), "password")["tasks"][0]["stdout"],
        format!("ok from {}\n", login.name)
    );
    assert_no_secret(&out, &login.password);
    lab.wait_for("Accepted password", 1);
    assert!(lab.log().iter().any(|l| l
        .text
        .contains(&format!("Accepted password for {}", login.name))));

    let wrong = "not-the-password-42";
    let out = run(&login_inventory(&lab, "password", wrong), ECHO, &[]).code(2);
    let (kind, message) = error_of(&out.report(), "password");
    assert_eq!(kind, "auth_failed", "{message}");
    assert!(
        message.contains("Permission denied (password)"),
        "{message}"
    );
    assert!(message.contains("tried password"), "{message}");
    assert_no_secret(&out, wrong);
}

#[test]
fn keyboard_interactive_prompts_are_answered_with_the_password() {
    let lab = Lab::builder().with(Kind::KbdInteractive).start();
    let login = lab.login.as_ref().expect("a lab user");
    let out = run(&login_inventory(&lab, "kbdint", &login.password), ECHO, &[]).code(0);
    assert_eq!(
        host(&out.report(), "kbdint")["tasks"][0]["stdout"],
        format!("ok from {}\n", login.name)
    );
    assert_no_secret(&out, &login.password);
    lab.wait_for("Accepted keyboard-interactive", 1);
    // Without a password the prompt is quoted back.
    let vars = format!(
        "{{user: {}, ssh_backend: native, known_hosts_file: {}}}",
        login.name,
        lab.path("known_hosts").display()
    );
    let out = run(&lab.inventory_with("", &[("kbdint", &vars)]), ECHO, &[]).code(2);
    let (kind, message) = error_of(&out.report(), "kbdint");
    assert_eq!(kind, "auth_failed", "{message}");
    assert!(
        message.contains("keyboard-interactive asks \"Password:\""),
        "{message}"
    );
}

#[test]
fn host_keys_unknown_changed_and_accepted_new() {
    let lab = Lab::builder().good(1).with(Kind::WrongHostKey).start();
    let good = lab.endpoint("h000").port;
    let empty = lab.path("empty_known_hosts");
    std::fs::write(&empty, "").unwrap();
    let unknown = format!("{{known_hosts_file: {}}}", empty.display());
    let inventory = lab.native_inventory("").replace(
        &format!("port: {good}\n"),
        &format!("port: {good}\n    vars: {unknown}\n"),
    );
    let out = run(&inventory, ECHO, &[]).code(2);
    let report = out.report();
    let (kind, message) = error_of(&report, "h000");
    assert_eq!(kind, "host_key_mismatch", "{message}");
    assert!(message.starts_with("unknown host key for ["), "{message}");
    assert!(message.contains("ED25519 SHA256:"), "{message}");
    assert!(
        message.contains("host_key_checking: accept-new"),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "ssh-keyscan -p {good} {} >> {}",
            net::host(),
            empty.display()
        )),
        "{message}"
    );
    let (kind, message) = error_of(&report, "badhostkey");
    assert_eq!(kind, "host_key_mismatch", "{message}");
    assert!(message.starts_with("host key mismatch for ["), "{message}");
    assert!(
        message.contains("the server offers ED25519 SHA256:"),
        "{message}"
    );
    assert!(
        message.contains(":1 has ED25519 SHA256:") || message.contains(" has ED25519 SHA256:"),
        "{message}"
    );

    // accept-new: the unknown key is written, and is then known under `strict`.
    let accept = format!(
        "{{known_hosts_file: {}, host_key_checking: accept-new}}",
        empty.display()
    );
    let inventory = lab.native_inventory("").replace(
        &format!("port: {good}\n"),
        &format!("port: {good}\n    vars: {accept}\n"),
    );
    let out = run(
        &inventory,
        "- hosts: h000\n  tasks:\n    - command: echo ok\n",
        &[],
    )
    .code(0);
    assert_eq!(host(&out.report(), "h000")["status"], "ok");
    let written = std::fs::read_to_string(&empty).unwrap();
    assert!(
        written.starts_with(&format!("[{}]:{good} ssh-ed25519 ", net::host())),
        "{written}"
    );
    let inventory = lab.native_inventory("").replace(
        &format!("port: {good}\n"),
        &format!("port: {good}\n    vars: {unknown}\n"),
    );
    run(
        &inventory,
        "- hosts: h000\n  tasks:\n    - command: echo ok\n",
        &[],
    )
    .code(0);
    // accept-new never replaces a changed key.
    let out = run(
        &lab.native_inventory("host_key_checking: accept-new"),
        "- hosts: badhostkey\n  tasks:\n    - command: echo ok\n",
        &[],
    )
    .code(2);
    assert_eq!(error_of(&out.report(), "badhostkey").0, "host_key_mismatch");
}

#[test]
fn a_two_hop_jump_chain_carries_the_connection_and_each_hop_keeps_its_errors() {
    let lab = Lab::builder()
        .good(3)
        .with(Kind::WrongHostKey)
        .with(Kind::WrongUserKey)
        .start();
    let port = |n: &str| lab.endpoint(n).port;
    let ip = net::host();
    let chain = format!(
        "{{jump: [\"{ip}:{}\", {{host: \"{ip}\", port: {}}}]}}",
        port("h000"),
        port("h001")
    );
    let inventory = lab.native_inventory("").replace(
        &format!("port: {}\n", port("h002")),
        &format!("port: {}\n    vars: {chain}\n", port("h002")),
    );
    let playbook = "- hosts: h002\n  tasks:\n    - command: echo through two hops\n";
    let out = run(&inventory, playbook, &[]).code(0);
    assert_eq!(
        host(&out.report(), "h002")["tasks"][0]["stdout"],
        "through two hops\n"
    );
    lab.wait_for("Accepted publickey", 3);
    let conns = lab.connections();
    for n in ["h000", "h001", "h002"] {
        assert!(
            conns
                .iter()
                .any(|c| c.server_port == port(n) && c.authenticated.is_some()),
            "{n} saw no login: {conns:?}"
        );
    }
    // The target saw its connection come from the last hop's sshd, on loopback.
    assert!(conns
        .iter()
        .filter(|c| c.server_port == port("h002"))
        .all(|c| c.sessions <= 1));

    // Ansible's way of saying it.
    let args = format!(
        "{{ansible_ssh_common_args: \"-o ServerAliveInterval=5 -J {ip}:{}\"}}",
        port("h001")
    );
    let inventory = lab.native_inventory("").replace(
        &format!("port: {}\n", port("h002")),
        &format!("port: {}\n    vars: {args}\n", port("h002")),
    );
    let out = run(&inventory, playbook, &[]).code(0);
    assert_eq!(host(&out.report(), "h002")["status"], "ok");

    for (bad, kind, says) in [
        ("badhostkey", "host_key_mismatch", "host key mismatch"),
        ("badkey", "auth_failed", "Permission denied (publickey)"),
    ] {
        let chain = format!(
            "{{jump: [\"{ip}:{}\", \"{ip}:{}\"]}}",
            port("h000"),
            port(bad)
        );
        let inventory = lab.native_inventory("").replace(
            &format!("port: {}\n", port("h002")),
            &format!("port: {}\n    vars: {chain}\n", port("h002")),
        );
        let out = run(&inventory, playbook, &[]).code(2);
        let (k, message) = error_of(&out.report(), "h002");
        assert_eq!(k, kind, "{message}");
        assert!(
            message.starts_with(&format!("jump host {ip}:{}: ", port(bad))),
            "{message}"
        );
        assert!(message.contains(says), "{message}");
    }
}

#[test]
fn a_legacy_only_server_needs_the_host_to_ask_for_legacy_algorithms() {
    let lab = Lab::builder().with(Kind::Legacy).start();
    let play = "- hosts: legacy\n  tasks:\n    - command: echo old router\n";
    let out = run(&lab.native_inventory(""), play, &[]).code(2);
    let (kind, message) = error_of(&out.report(), "legacy");
    assert_eq!(kind, "protocol", "{message}");
    assert!(message.contains("no matching"), "{message}");
    assert!(message.contains("ssh_legacy_algorithms: true"), "{message}");

    let out = run(
        &lab.native_inventory("ssh_legacy_algorithms: true"),
        play,
        &[],
    )
    .code(0);
    assert_eq!(
        host(&out.report(), "legacy")["tasks"][0]["stdout"],
        "old router\n"
    );

    let lists = "ssh_kex: [diffie-hellman-group14-sha1]\nssh_ciphers: 3des-cbc\n\
                 ssh_macs: [hmac-sha1]\nssh_host_key_algorithms: [ssh-rsa]";
    let out = run(&lab.native_inventory(lists), play, &[]).code(0);
    assert_eq!(host(&out.report(), "legacy")["status"], "ok");
}

#[test]
fn every_connect_error_class_comes_from_a_real_endpoint_natively() {
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
  retries: 0
  tasks:
    - command: echo ok
";
    let out = run(&lab.native_inventory(""), playbook, &[]).code(2);
    let report = out.report();
    assert_eq!(host(&report, "h000")["status"], "ok");
    let router = host(&report, "router");
    assert_eq!(router["error"]["kind"], "nonzero_exit", "{router}");
    assert_eq!(router["tasks"][0]["stderr"], "% Invalid input: echo ok\n");
    for (name, kind, says) in [
        ("refused", "unreachable", "Connection refused"),
        ("blackhole", "connect_timeout", "waiting for the banner of"),
        ("badhostkey", "host_key_mismatch", "host key mismatch"),
        ("badkey", "auth_failed", "Permission denied (publickey)"),
        (
            "throttled",
            "throttled",
            "closed the connection before its banner",
        ),
    ] {
        let (k, message) = error_of(&report, name);
        assert_eq!(host(&report, name)["status"], "unreachable", "{name}");
        assert_eq!(k, kind, "{name}: {message}");
        assert!(message.contains(says), "{name}: {message}");
    }
}

#[test]
fn a_native_command_timeout_kills_the_remote_process_group_and_signals_are_reported() {
    let lab = Lab::builder().good(1).start();
    let playbook = "
- hosts: all
  command_timeout: 2s
  tasks:
    - name: hangs
      shell: |
        echo started
        exec sleep 3001
      ignore_errors: true
    - name: the connection still serves
      command: echo still here
    - name: killed
      shell: kill -9 $$
";
    let out = run(&lab.native_inventory(""), playbook, &[]).code(2);
    let report = out.report();
    let tasks = &host(&report, "h000")["tasks"];
    assert_eq!(tasks[0]["error"]["kind"], "command_timeout", "{tasks}");
    let message = tasks[0]["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("drover killed the remote command"),
        "{message}"
    );
    assert_eq!(tasks[0]["stdout"], "started\n");
    assert_eq!(tasks[1]["stdout"], "still here\n", "{tasks}");
    assert_eq!(tasks[2]["error"]["kind"], "nonzero_exit", "{tasks}");
    let message = tasks[2]["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("killed by signal KILL"), "{message}");
    let left = Command::new("pgrep")
        .args(["-f", "sleep 3001"])
        .output()
        .unwrap();
    assert!(left.stdout.is_empty(), "the timed-out command survived");
}

#[test]
fn inventory_host_says_which_backend_and_why_without_the_password() {
    let out = Test::new()
        .file(
            "inv.yml",
            "hosts:\n  r1:\n    address: 192.0.2.1\n    vars:\n      ansible_password: hunter2hunter\n      \
             jump: [{host: 192.0.2.2, password: bastion-secret}]\n  r2:\n    address: 192.0.2.3\n    \
             vars: {platform: cisco_ios}\n  s1:\n    address: 192.0.2.4\n    vars: {ssh_backend: openssh, password: x12}\n",
        )
        .args(&["inventory", "-i", "inv.yml", "--host", "r1"])
        .run()
        .code(0);
    assert!(
        out.stdout
            .contains("# ssh backend: native (the host has a password"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("hunter2hunter") && !out.stdout.contains("bastion-secret"),
        "{}",
        out.stdout
    );
    let out = Test::new()
        .file("inv.yml", "hosts:\n  r2:\n    address: 192.0.2.3\n    vars: {platform: cisco_ios}\n  s1:\n    address: 192.0.2.4\n    vars: {ssh_backend: openssh}\n")
        .args(&["inventory", "-i", "inv.yml", "--host", "r2"])
        .run()
        .code(0);
    assert!(
        out.stdout
            .contains("# ssh backend: native (the host is a network device (`platform`))"),
        "{}",
        out.stdout
    );
    let out = Test::new()
        .file(
            "inv.yml",
            "hosts:\n  s1:\n    address: 192.0.2.4\n    vars: {ssh_backend: openssh}\n",
        )
        .args(&["inventory", "-i", "inv.yml", "--host", "s1"])
        .run()
        .code(0);
    assert!(
        out.stdout
            .contains("# ssh backend: openssh (`ssh_backend: openssh`)"),
        "{}",
        out.stdout
    );
}

#[test]
fn large_outputs_on_both_streams_come_back_whole_and_capped_natively() {
    let lab = Lab::builder().good(2).start();
    // Past the 2 MiB window on both streams at once, and past the 4 MiB cap on stdout.
    let playbook = "
- hosts: all
  tasks:
    - shell: head -c 3000000 /dev/zero | tr '\\0' o; head -c 3000000 /dev/zero | tr '\\0' e >&2
    - shell: head -c 5000000 /dev/zero | tr '\\0' x
";
    let out = run(&lab.native_inventory(""), playbook, &[]).code(0);
    let report = out.report();
    for e in &lab.endpoints {
        let tasks = &host(&report, &e.name)["tasks"];
        let stdout = tasks[0]["stdout"].as_str().unwrap_or_default();
        let stderr = tasks[0]["stderr"].as_str().unwrap_or_default();
        assert_eq!(stdout.len(), 3_000_000, "{}: stdout", e.name);
        assert_eq!(stderr.len(), 3_000_000, "{}: stderr", e.name);
        assert!(stdout.bytes().all(|b| b == b'o') && stderr.bytes().all(|b| b == b'e'));
        let capped = tasks[1]["stdout"].as_str().unwrap_or_default();
        assert!(
            capped.ends_with(&format!(
                "\n[drover: {} more bytes not kept]",
                5_000_000 - (4 << 20)
            )),
            "{}: {}",
            e.name,
            &capped[capped.len().saturating_sub(60)..]
        );
    }
}

#[test]
fn a_host_deadline_mid_command_ends_the_native_connection() {
    let lab = Lab::builder().good(1).start();
    let playbook = "
- hosts: all
  host_timeout: 2s
  command_timeout: 60s
  tasks:
    - command: sleep 20
";
    let out = run(&lab.native_inventory(""), playbook, &[]).code(2);
    assert_eq!(host(&out.report(), "h000")["error"]["kind"], "host_timeout");
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
fn bad_native_settings_stop_the_run_before_anything_connects() {
    for (vars, says) in [
        (
            "{ssh_backend: native, ssh_kex: [diffie-hellman-group99-sha1]}",
            "`ssh_kex`: `diffie-hellman-group99-sha1` is not",
        ),
        (
            "{password: sekrit-value, jump: [{port: 22}]}",
            "a jump host map needs a `host`",
        ),
        (
            "{ssh_backend: putty}",
            "`ssh_backend` must be `native` or `openssh`",
        ),
    ] {
        let inventory =
            format!("hosts:\n  r1:\n    address: 127.0.0.1\n    port: 9\n    vars: {vars}\n");
        let out = run(&inventory, ECHO, &[]).code(1);
        assert!(out.stderr.contains(says), "{vars}: {}", out.stderr);
        assert!(!out.stderr.contains("sekrit-value"), "{}", out.stderr);
    }
}
