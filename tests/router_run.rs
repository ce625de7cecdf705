//! `drover run` against simulated routers (tests/support/router.rs) over real SSH: the whole
//! path a network engineer uses — inventory with `platform`, password logins, one PTY shell
//! per device kept across tasks, `enable`, `config:` with its per-line report, paging,
//! failure patterns, an interrupted hang, a wrong enable secret, Ansible's variable names,
//! and a device behind an OpenSSH jump host.

use std::fmt::Write;

use crate::support::router::{Device, DeviceConfig};
use crate::support::sshd::{user, Lab};
use crate::support::tmux::Pane;
use crate::support::{host, net, Outcome, Test};

async fn fleet(n: usize, platform: &str) -> Vec<Device> {
    let mut devices = Vec::with_capacity(n);
    for i in 0..n {
        let name = format!("r{:03}", i + 1);
        devices.push(Device::start(DeviceConfig::new(platform, &name)).await);
    }
    devices
}

/// A native inventory with each device as a host, `defaults` as given (YAML lines).
fn inventory(devices: &[Device], defaults: &str) -> String {
    let mut text = String::from("defaults:\n");
    for line in defaults.lines() {
        let _ = writeln!(text, "  {line}");
    }
    text.push_str("hosts:\n");
    for d in devices {
        let _ = writeln!(
            text,
            "  {}:\n    address: {}\n    port: {}",
            d.config.hostname,
            net::host(),
            d.addr.port()
        );
    }
    text
}

/// The usual login of a simulated device, with a known_hosts file in the test directory
/// that drover fills on first contact.
const IOS: &str = "\
platform: cisco_ios
user: admin
password: lab-pass
enable_secret: en-secret
host_key_checking: accept-new
known_hosts_file: ./known_hosts
";

/// Runs drover off the runtime's threads, so the simulated devices keep answering.
async fn run(test: Test) -> Outcome {
    tokio::task::spawn_blocking(move || test.run())
        .await
        .expect("drover ran")
}

fn play(inventory: &str, playbook: &str) -> Test {
    Test::new()
        .file("inv.yml", inventory)
        .file("p.yml", playbook)
        .args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_fleet_show_commands_on_50_devices_with_password_auth() {
    let devices = fleet(50, "cisco_ios").await;
    let playbook = "\
- hosts: all
  concurrency: 50
  tasks:
    - name: version
      command: show version
      expect: { stdout_contains: Version 1.0 }
    - name: uptime again
      command: show version
";
    let out = run(play(&inventory(&devices, IOS), playbook)).await.code(0);
    let report = out.report();
    for d in &devices {
        let name = &d.config.hostname;
        let h = host(&report, name);
        assert_eq!(h["status"], "ok", "{name}: {h}");
        // Clean output: no echoed command, no prompt, no carriage returns.
        assert_eq!(
            h["tasks"][0]["stdout"],
            format!("cisco_ios simulated software, Version 1.0\n{name} uptime is 1 day"),
        );
        assert_eq!(h["tasks"][0]["exit_code"], 0);
        let seen = d.seen();
        // One login and one shell for both tasks, the paging off before the first.
        assert_eq!(seen.logins, ["password"], "{name}");
        assert_eq!(seen.exec_refused, 0, "{name}: drover tried exec");
        assert_eq!(
            seen.lines,
            [
                "terminal length 0",
                "terminal width 511",
                "show version",
                "show version"
            ],
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_config_lines_show_up_in_running_config_and_each_answer_is_reported() {
    let devices = fleet(2, "cisco_ios").await;
    let playbook = "\
- hosts: all
  enable: true
  tasks:
    - name: ntp and banner
      config:
        lines:
          - ntp server 192.0.2.123
          - 'snmp-server location {{ inventory_hostname }}-rack'
        save: true
    - name: running
      command: show running-config
      register: running
      expect:
        stdout_contains: ['ntp server 192.0.2.123', '{{ inventory_hostname }}-rack']
";
    let out = run(play(&inventory(&devices, IOS), playbook)).await.code(0);
    let report = out.report();
    for d in &devices {
        let name = &d.config.hostname;
        let h = host(&report, name);
        let config = &h["tasks"][0];
        assert_eq!(config["kind"], "config");
        assert_eq!(config["status"], "ok", "{config}");
        let lines: Vec<&str> = config["lines"]
            .as_array()
            .expect("per-line answers in the report")
            .iter()
            .map(|l| l["line"].as_str().unwrap())
            .collect();
        assert_eq!(
            lines,
            [
                "ntp server 192.0.2.123",
                &format!("snmp-server location {name}-rack"),
                "write memory"
            ]
        );
        assert_eq!(h["tasks"][1]["status"], "ok", "{}", h["tasks"][1]);
        let seen = d.seen();
        assert!(seen.running.contains(&"ntp server 192.0.2.123".to_string()));
        assert!(seen
            .saved
            .contains(&format!("snmp-server location {name}-rack")));
        // Enabled once: the second task found the session in privileged mode already.
        assert_eq!(seen.lines.iter().filter(|l| *l == "enable").count(), 1);
        assert!(!seen.lines.iter().any(|l| l.contains("en-secret")));
    }
    assert!(!out.stdout.contains("en-secret") && !out.stderr.contains("en-secret"));
    let text = std::fs::read_to_string(out.dir.join("report.json")).unwrap();
    assert!(!text.contains("en-secret") && !text.contains("lab-pass"));

    // The README's jq line for config answers, as written there.
    let readme = include_str!("../README.md");
    let recipe = readme
        .lines()
        .find(|l| l.starts_with("jq '.hosts[] | {name, lines:"))
        .expect("the README's config jq recipe");
    let jq = std::process::Command::new("sh")
        .arg("-c")
        .arg(recipe)
        .current_dir(&out.dir)
        .output()
        .expect("jq runs");
    let printed = String::from_utf8_lossy(&jq.stdout);
    assert!(
        jq.status.success(),
        "{}",
        String::from_utf8_lossy(&jq.stderr)
    );
    assert_eq!(printed.matches("\"write memory\"").count(), 2, "{printed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_failure_pattern_fails_the_task_with_the_devices_line() {
    let devices = fleet(1, "cisco_ios").await;
    let playbook = "\
- hosts: all
  tasks:
    - name: typo
      command: show vresion
    - name: never
      command: show version
";
    let out = run(play(&inventory(&devices, IOS), playbook)).await.code(2);
    let report = out.report();
    let h = host(&report, "r001");
    assert_eq!(h["status"], "failed");
    let task = &h["tasks"][0];
    assert_eq!(task["error"]["kind"], "nonzero_exit", "{task}");
    let message = task["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("% Invalid input detected at '^' marker."),
        "{message}"
    );
    assert_eq!(
        h["tasks"].as_array().unwrap().len(),
        1,
        "the host stops at the failure"
    );
    out.stdout_has("Invalid input detected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_hung_command_is_interrupted_and_the_next_task_uses_the_same_shell() {
    let devices = fleet(1, "cisco_ios").await;
    let playbook = "\
- hosts: all
  tasks:
    - name: hangs
      command: hang
      timeout: 1s
      ignore_errors: true
    - name: after
      command: show version
";
    let out = run(play(&inventory(&devices, IOS), playbook)).await.code(0);
    let report = out.report();
    let h = host(&report, "r001");
    assert_eq!(h["tasks"][0]["status"], "ignored");
    assert_eq!(h["tasks"][0]["error"]["kind"], "command_timeout");
    assert_eq!(h["tasks"][1]["status"], "ok", "{}", h["tasks"][1]);
    let seen = devices[0].seen();
    assert_eq!(seen.interrupts, 1, "Ctrl-C sent once");
    assert_eq!(seen.logins.len(), 1, "the same session carried on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_wrong_enable_secret_is_a_clear_failure_that_never_prints_it() {
    let devices = fleet(1, "cisco_ios").await;
    let inv = inventory(&devices, &IOS.replace("en-secret", "not-the-secret"));
    let playbook = "\
- hosts: all
  tasks:
    - name: privileged
      command: show running-config
      enable: true
";
    let out = run(play(&inv, playbook)).await.code(2);
    let report = out.report();
    let task = &host(&report, "r001")["tasks"][0];
    assert_eq!(task["error"]["kind"], "auth_failed", "{task}");
    let message = task["error"]["message"].as_str().unwrap();
    assert!(message.contains("enable secret"), "{message}");
    let text = std::fs::read_to_string(out.dir.join("report.json")).unwrap();
    for output in [&out.stdout, &out.stderr, &text] {
        assert!(
            !output.contains("not-the-secret"),
            "the secret leaked:\n{output}"
        );
    }
    // The device never ran the privileged command.
    assert!(!devices[0]
        .seen()
        .lines
        .contains(&"show running-config".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_pager_is_answered_when_a_profile_from_the_inventory_keeps_paging_on() {
    let mut config = DeviceConfig::new("cisco_ios", "r001");
    config.page = 3;
    let device = Device::start(config).await;
    // An inventory `platforms:` override: the same CLI without the on-open commands.
    let inv = format!(
        "{}platforms:\n  cisco_ios:\n    on_open: []\n",
        inventory(std::slice::from_ref(&device), IOS)
    );
    let playbook = "\
- hosts: all
  enable: true
  tasks:
    - config: [ntp server 192.0.2.1, ntp server 192.0.2.2, ntp server 192.0.2.3, ntp server 192.0.2.4]
    - name: running
      command: show running-config
";
    let out = run(play(&inv, playbook)).await.code(0);
    let report = out.report();
    let stdout = host(&report, "r001")["tasks"][1]["stdout"]
        .as_str()
        .unwrap()
        .to_string();
    for n in 1..=4 {
        assert!(
            stdout.contains(&format!("ntp server 192.0.2.{n}")),
            "{stdout}"
        );
    }
    assert!(
        !stdout.contains("More"),
        "pager prompt left in the output: {stdout}"
    );
    assert!(!device
        .seen()
        .lines
        .contains(&"terminal length 0".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_shell_task_on_a_platform_host_is_refused_before_anything_connects() {
    let devices = fleet(1, "cisco_ios").await;
    let playbook = "- hosts: all\n  tasks:\n    - shell: 'show version; show clock'\n";
    let out = run(play(&inventory(&devices, IOS), playbook))
        .await
        .code(1)
        .stderr_has("platform `cisco_ios` has a CLI, not a POSIX shell");
    assert!(!out.stdout.contains("ok"), "{}", out.stdout);
    assert!(devices[0].seen().logins.is_empty());

    // And `config`/`enable` on a host without a platform.
    let test = Test::new()
        .file("inv.yml", "hosts:\n  h:\n    transport: local\n")
        .file("p.yml", "- hosts: all\n  tasks:\n    - config: [x]\n")
        .args(&["run", "p.yml", "-i", "inv.yml"]);
    run(test)
        .await
        .code(1)
        .stderr_has("is for a network device's CLI (`config`)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_ansible_network_cli_inventory_runs_as_it_would_under_ansible() {
    let devices = fleet(2, "cisco_ios").await;
    let mut inv = String::from("all:\n  children:\n    routers:\n      hosts:\n");
    for d in &devices {
        let _ = writeln!(
            inv,
            "        {}:\n          ansible_host: {}\n          ansible_port: {}",
            d.config.hostname,
            net::host(),
            d.addr.port()
        );
    }
    inv.push_str(
        "      vars:\n        ansible_connection: ansible.netcommon.network_cli\n        \
         ansible_network_os: cisco.ios.ios\n        ansible_user: admin\n        \
         ansible_password: lab-pass\n        ansible_become_password: en-secret\n        \
         host_key_checking: accept-new\n        known_hosts_file: ./known_hosts\n",
    );
    let playbook = "\
- hosts: routers
  enable: true
  tasks:
    - command: show running-config
      register: run
    - assert:
        that: ['\"hostname\" in run.stdout']
";
    let out = run(play(&inv, playbook)).await.code(0);
    let report = out.report();
    for d in &devices {
        assert_eq!(host(&report, &d.config.hostname)["status"], "ok");
        assert_eq!(d.seen().lines.iter().filter(|l| *l == "enable").count(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_mixed_cisco_and_juniper_fleet_in_one_play() {
    let ios = Device::start(DeviceConfig::new("cisco_ios", "r001")).await;
    let junos = Device::start(DeviceConfig::new("juniper_junos", "r002")).await;
    let mut inv = inventory(std::slice::from_ref(&ios), IOS);
    let _ = write!(
        inv,
        "  r002:\n    address: {}\n    port: {}\n    vars: {{platform: juniper_junos}}\n",
        net::host(),
        junos.addr.port()
    );
    let playbook = "\
- hosts: all
  enable: true
  tasks:
    - name: version
      command: show version
      expect: { stdout_contains: simulated software }
";
    let out = run(play(&inv, playbook)).await.code(0);
    let report = out.report();
    assert_eq!(
        host(&report, "r002")["tasks"][0]["stdout"]
            .as_str()
            .unwrap()
            .lines()
            .next(),
        Some("juniper_junos simulated software, Version 1.0")
    );
    // Junos has no enable: nothing was sent for it.
    assert!(!junos.seen().lines.iter().any(|l| l == "enable"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_behind_an_openssh_jump_host() {
    let lab = Lab::builder().good(1).start();
    let bastion = lab.endpoint("h000");
    let device = Device::start(DeviceConfig::new("cisco_ios", "r001")).await;
    let defaults = format!(
        "{IOS}jump: [{{host: \"{}\", port: {}, user: {}, identity_file: {}}}]\n",
        net::host(),
        bastion.port,
        user(),
        lab.path("client_key").display(),
    )
    .replace(
        "known_hosts_file: ./known_hosts",
        &format!("known_hosts_file: {}", lab.path("known_hosts").display()),
    );
    let inv = inventory(std::slice::from_ref(&device), &defaults);
    let playbook = "- hosts: all\n  tasks:\n    - command: show version\n";
    let out = run(play(&inv, playbook)).await.code(0);
    let report = out.report();
    assert_eq!(host(&report, "r001")["status"], "ok");
    lab.wait_for("Accepted publickey", 1);
    assert_eq!(device.seen().logins, ["password"]);
    // The bastion carried the connection: it logged a forwarding to the device's port.
    let log = lab.log();
    assert!(
        log.iter().any(|l| l.text.contains("Accepted publickey")),
        "{log:?}"
    );
}

/// The README's example, `playbooks/router-baseline.yml` over `inventory/routers.yml`, as
/// shipped, with only where each router is and how to log in changed to reach simulated
/// ones (the example's addresses are documentation addresses, never contacted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_example_playbook_runs_on_simulated_cisco_and_juniper_routers() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("inventory/routers.yml")).unwrap();
    let mut inv: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let groups = inv["groups"].as_mapping().unwrap().clone();
    let platform_of = |name: &str| {
        let (_, group) = groups
            .iter()
            .find(|(_, g)| {
                g["hosts"]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .any(|h| h.as_str() == Some(name))
            })
            .expect("every example host is in a group");
        group["vars"]["platform"].as_str().unwrap().to_string()
    };
    let names: Vec<String> = inv["hosts"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    let mut devices = Vec::new();
    for name in &names {
        let device = Device::start(DeviceConfig::new(&platform_of(name), name)).await;
        let host = &mut inv["hosts"][name.as_str()];
        host["address"] = net::host().to_string().into();
        host["port"] = u64::from(device.addr.port()).into();
        if let Some(vars) = host.get_mut("vars").and_then(|v| v.as_mapping_mut()) {
            vars.remove("jump");
        }
        devices.push(device);
    }
    let defaults = &mut inv["defaults"];
    defaults["user"] = "admin".into();
    defaults["known_hosts_file"] = "./known_hosts".into();
    let secrets = "password: lab-pass\nenable_secret: en-secret\n";
    let playbook = std::fs::read_to_string(root.join("playbooks/router-baseline.yml")).unwrap();
    let test = Test::new()
        .file("inv.yml", &serde_yaml::to_string(&inv).unwrap())
        .file("p.yml", &playbook)
        .file("secrets.yml", secrets)
        .args(&["run", "p.yml", "-i", "inv.yml", "-e", "@secrets.yml"])
        .args(&["--report", "report.json"]);
    let out = run(test).await.code(0);
    let report = out.report();
    for (name, device) in names.iter().zip(&devices) {
        let h = host(&report, name);
        assert_eq!(h["status"], "ok", "{name}: {h}");
        assert_eq!(h["tasks"][0]["parsed"]["version"], "1.0", "{name}");
        assert!(
            device
                .seen()
                .running
                .iter()
                .any(|l| l.contains("ntp server 192.0.2.123")),
            "{name}: {:?}",
            device.seen()
        );
    }
    for output in [&out.stdout, &out.stderr] {
        assert!(!output.contains("lab-pass") && !output.contains("en-secret"));
    }
}

/// `drover check` on the shipped example plans every host and connects to nothing (the
/// example's addresses are never contacted).
#[test]
fn router_example_checks_without_connecting() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_drover"))
        .args(["check", "playbooks/router-baseline.yml"])
        .args(["-i", "inventory/routers.yml"])
        .current_dir(root)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["core-r1", "core-r2", "edge-j1"] {
        assert!(stdout.contains(name), "{stdout}");
    }
    assert!(!stdout.contains("change-me"), "{stdout}");
}

/// `-k` on a real terminal (tmux): the prompt shows, the typed password does not, and the
/// hosts without a password of their own log in with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_ask_pass_reads_the_password_from_the_terminal_without_echo() {
    let device = Device::start(DeviceConfig::new("cisco_ios", "r001")).await;
    let inv = inventory(
        std::slice::from_ref(&device),
        &IOS.replace("password: lab-pass\n", ""),
    );
    let test = play(
        &inv,
        "- hosts: all\n  tasks:\n    - command: show version\n",
    )
    .args(&["-k"]);
    let screen = tokio::task::spawn_blocking(move || {
        // The command line and environment the harness would give drover, as a shell line.
        let command = test.command();
        let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy());
        let mut line = String::from("env");
        for (key, value) in command.get_envs() {
            match value {
                Some(v) => line.push_str(&format!(" {}={}", key.to_string_lossy(), quote(v))),
                None => line.push_str(&format!(" -u {}", key.to_string_lossy())),
            }
        }
        for word in std::iter::once(command.get_program()).chain(command.get_args()) {
            line.push(' ');
            line.push_str(&quote(word));
        }
        let script = format!(
            "cd '{}' && {line}; echo EXIT=$?; sleep 30",
            test.path().display()
        );
        let pane = Pane::start(120, 40, &script);
        let limit = std::time::Duration::from_secs(30);
        pane.wait_for("SSH password:", limit);
        pane.send_keys(&["lab-pass", "Enter"]);
        (pane.wait_for("EXIT=", limit), test)
    })
    .await
    .unwrap();
    let (screen, test) = screen;
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        !screen.contains("lab-pass"),
        "the password was echoed:\n{screen}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(test.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(host(&report, "r001")["status"], "ok");
    assert!(!std::fs::read_to_string(test.path().join("report.json"))
        .unwrap()
        .contains("lab-pass"));
    assert_eq!(device.seen().logins, ["password"]);
}

/// A router that refuses exec, reached without a `platform`: the message says what to set,
/// not that a process was killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_without_a_platform_is_told_to_set_one_when_exec_is_refused() {
    let device = Device::start(DeviceConfig::new("cisco_ios", "r001")).await;
    let inv = inventory(
        std::slice::from_ref(&device),
        &IOS.replace("platform: cisco_ios\n", ""),
    );
    let out = run(play(
        &inv,
        "- hosts: all\n  tasks:\n    - command: show version\n",
    ))
    .await
    .code(2);
    let report = out.report();
    let error = &host(&report, "r001")["tasks"][0]["error"];
    assert_eq!(error["kind"], "protocol", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("refused to run the command on an exec channel"),
        "{message}"
    );
    assert!(message.contains("needs the host's `platform`"), "{message}");
    assert_eq!(device.seen().exec_refused, 1);
}

/// `-vvv` says how each connection was made: the backend, the host key, the login and, on
/// a device, the platform and prompt; never the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_vvv_shows_how_each_connection_was_made() {
    let device = Device::start(DeviceConfig::new("cisco_ios", "r001")).await;
    let inv = inventory(std::slice::from_ref(&device), IOS);
    let out = run(play(
        &inv,
        "- hosts: all\n  tasks:\n    - command: show version\n",
    )
    .args(&["-vvv"]))
    .await
    .code(0);
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("connect attempt 1"))
        .unwrap_or_else(|| panic!("no connect line:\n{}", out.stderr))
        .to_string();
    for needle in [
        "native ssh to ",
        "host key ED25519 SHA256:",
        "login by password",
        "a PTY shell driven as platform `cisco_ios`, at the prompt `r001>`",
    ] {
        assert!(line.contains(needle), "{needle:?} missing: {line}");
    }
    assert!(!out.stderr.contains("lab-pass"));
    let report = out.report();
    let via = host(&report, "r001")["connect_attempts"][0]["via"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(via.starts_with("native ssh to "), "{via}");
}
