//! Real runs on the local transport: reports, expectations, exit codes, timeouts and Ctrl-C.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{host, run_play, Test, LAB};

#[test]
fn the_example_playbook_runs_and_reports() {
    let out = run_play(LAB, include_str!("../playbooks/site-audit.yml"))
        .code(0)
        .stdout_has("| ok       6");
    let report = out.report();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["run"]["command"], "run");
    assert_eq!(report["run"]["exit_code"], 0);
    assert_eq!(report["counts"]["ok"], 6);
    assert_eq!(report["plays"][0]["settings"]["batch_size"], 3);
    assert_eq!(
        report["plays"][0]["batches"].as_array().map(Vec::len),
        Some(2)
    );
    let names: Vec<&str> = report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["lab-r1", "lab-r2", "lab-r3", "lab-e1", "lab-e2", "lab-e3"]
    );
    let r1 = host(&report, "lab-r1");
    assert_eq!(r1["status"], "ok");
    assert_eq!(r1["transport"], "local");
    assert_eq!(r1["batch"], 1);
    let t0 = &r1["tasks"][0];
    assert_eq!(t0["name"], "identify");
    assert_eq!(t0["kind"], "command");
    assert_eq!(
        t0["command"],
        "echo \"lab-r1 role=core site=from_host_lab-r1\""
    );
    assert_eq!(t0["stdout"], "lab-r1 role=core site=from_host_lab-r1\n");
    assert_eq!(t0["exit_code"], 0);
    assert_eq!(t0["status"], "ok");
    assert!(t0["duration_ms"].is_u64());
    assert_eq!(
        r1["tasks"][3]["stdout"],
        "core router lab-r1 in 3-host core group\n"
    );
    assert_eq!(host(&report, "lab-e1")["tasks"][3]["status"], "skipped");
}

#[test]
fn a_failed_host_does_not_stop_its_batch_and_exit_is_2() {
    let playbook = "
- hosts: all
  batch_size: 0
  tasks:
    - name: fail on r2
      command: \"{% if inventory_hostname == 'lab-r2' %}echo broken >&2; exit 5{% else %}echo fine{% endif %}\"
    - name: after
      command: echo after
";
    let out = run_play(LAB, playbook)
        .code(2)
        .stderr_has("lab-r2 failed")
        .stdout_has("nonzero_exit");
    let report = out.report();
    let r2 = host(&report, "lab-r2");
    assert_eq!(r2["status"], "failed");
    assert_eq!(r2["error"]["kind"], "nonzero_exit");
    assert_eq!(r2["error"]["message"], "exit code 5: broken");
    assert_eq!(r2["tasks"][0]["stderr"], "broken\n");
    assert_eq!(
        r2["tasks"].as_array().map(Vec::len),
        Some(1),
        "no task after the failure"
    );
    assert_eq!(host(&report, "lab-r1")["tasks"][1]["stdout"], "after\n");
    assert_eq!(report["counts"]["ok"], 5);
    assert_eq!(report["counts"]["failed"], 1);
    assert_eq!(report["run"]["exit_code"], 2);
}

#[test]
fn expectations_turn_a_run_into_an_audit() {
    let playbook = "
- hosts: lab-r1
  tasks:
    - command: echo 'version 17.3'
      expect: { stdout_contains: ['version', '17.3'], stdout_not_contains: error, stdout_matches: '^version \\d+' }
    - command: exit 1
      expect: { exit_code: [0, 1] }
    - name: wrong version
      command: echo 'version 16.9'
      expect: { stdout_contains: '{{ want }}' }
";
    let out = Test::new()
        .file("inv.yml", LAB)
        .file("p.yml", playbook)
        .args(&[
            "run",
            "p.yml",
            "-i",
            "inv.yml",
            "-e",
            "want=17.3",
            "--report",
            "report.json",
        ])
        .run()
        .code(2);
    let report = out.report();
    let tasks = &host(&report, "lab-r1")["tasks"];
    assert_eq!(tasks[0]["status"], "ok");
    assert_eq!(tasks[1]["status"], "ok");
    assert_eq!(tasks[1]["exit_code"], 1);
    assert_eq!(tasks[2]["status"], "failed");
    assert_eq!(tasks[2]["error"]["kind"], "expectation_failed");
    assert_eq!(
        tasks[2]["error"]["message"],
        "stdout does not contain `17.3`"
    );
    for (expect, message) in [
        ("{ exit_code: 3 }", "exit code 0, expected [3]"),
        ("{ stdout_not_contains: hello }", "stdout contains `hello`"),
        ("{ stdout_matches: '^bye' }", "stdout does not match /^bye/"),
    ] {
        let p = format!(
            "- hosts: lab-r1\n  tasks:\n    - command: echo hello\n      expect: {expect}\n"
        );
        let out = run_play(LAB, &p).code(2);
        assert_eq!(host(&out.report(), "lab-r1")["error"]["message"], message);
    }
}

/// Whether `pid` still runs: a zombie waiting for a reaper does not count. SIGKILL is
/// delivered asynchronously, so this waits (bounded) for the process to go.
fn alive(pid: i32) -> bool {
    let running = || match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(") ").next().unwrap_or("").starts_with('Z'),
        Err(_) => false,
    };
    for _ in 0..50 {
        if !running() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    true
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

#[test]
fn command_timeout_kills_the_whole_process_group() {
    let playbook = "
- hosts: lab-r1
  command_timeout: 1s
  tasks:
    - name: hangs
      shell: |
        sleep 300 &
        echo $! > child.pid
        echo started
        wait
";
    let out = run_play(LAB, playbook).code(2);
    let report = out.report();
    let r1 = host(&report, "lab-r1");
    assert_eq!(r1["status"], "failed");
    assert_eq!(r1["error"]["kind"], "command_timeout");
    assert_eq!(
        r1["tasks"][0]["stdout"], "started\n",
        "output before the timeout is kept"
    );
    let pid: i32 = std::fs::read_to_string(out.dir.join("child.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        !alive(pid),
        "the background child {pid} of the timed-out command survived"
    );
}

#[test]
fn host_timeout_is_reported_as_its_own_class() {
    let out = run_play(LAB, "- hosts: lab-r1\n  host_timeout: 500ms\n  tasks:\n    - command: sleep 0.3\n    - command: sleep 0.3\n    - command: sleep 0.3\n")
        .code(2);
    let r1 = host(&out.report(), "lab-r1").clone();
    assert_eq!(r1["error"]["kind"], "host_timeout");
    assert_eq!(
        r1["tasks"][0]["status"], "ok",
        "tasks finished before the deadline are kept"
    );
}

#[test]
fn exec_groups_identical_outputs() {
    Test::new()
        .file("inv.yml", LAB)
        .args(&[
            "exec",
            "-i",
            "inv.yml",
            "all",
            "--",
            "echo",
            "{{ role | default('none') }}",
        ])
        .run()
        .code(0)
        .stdout_has("lab-r[1-3] (3)\n---------------\ncore\n")
        .stdout_has("lab-e[1-3] (3)\n---------------\nedge\n");
}

#[test]
fn a_host_failed_in_one_play_is_left_out_of_the_next() {
    let playbook = "
- hosts: all
  tasks:
    - command: \"{% if inventory_hostname == 'lab-e1' %}exit 1{% else %}true{% endif %}\"
- name: second
  hosts: edge
  tasks:
    - command: echo second
";
    let out = run_play(LAB, playbook).code(2);
    let report = out.report();
    let second: Vec<_> = report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["play"] == 1)
        .collect();
    assert_eq!(second.len(), 3);
    assert_eq!(second[0]["name"], "lab-e1");
    assert_eq!(second[0]["status"], "skipped");
    assert_eq!(second[1]["tasks"][0]["stdout"], "second\n");
    assert_eq!(report["counts"]["failed"], 1);
}

#[test]
fn secrets_are_masked_in_reports() {
    let out = Test::new()
        .file(
            "inv.yml",
            "defaults: { transport: local }\nhosts:\n  r1: { vars: { api_token: s3cr3t-value } }\n",
        )
        .file(
            "p.yml",
            "- hosts: all\n  tasks:\n    - command: echo login {{ api_token }}\n",
        )
        .args(&[
            "run",
            "p.yml",
            "-i",
            "inv.yml",
            "--report",
            "report.json",
            "-v",
        ])
        .run()
        .code(0);
    let text = std::fs::read_to_string(out.dir.join("report.json")).unwrap();
    assert!(!text.contains("s3cr3t-value"), "{text}");
    assert!(text.contains("echo login ********"), "{text}");
}

/// Starts drover, waits until `marker` shows on stderr, sends SIGINT `times` times.
fn interrupt(test: Test, marker: &str, times: usize) -> (i32, String, std::path::PathBuf, Test) {
    let mut child = test
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut line = String::new();
    while !seen.contains(marker) && Instant::now() < deadline {
        line.clear();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        seen.push_str(&line);
    }
    assert!(seen.contains(marker), "never saw {marker:?}: {seen}");
    for _ in 0..times {
        // SAFETY: sending SIGINT to our own child.
        unsafe { libc_kill(child.id() as i32, 2) };
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).ok();
    seen.push_str(&rest);
    let status = child.wait().expect("wait");
    let dir = test.path().to_path_buf();
    (status.code().unwrap_or(-1), seen, dir, test)
}

const SLOW: &str = "
- hosts: all
  batch_size: 2
  tasks:
    - name: slow
      command: sleep 1.5 && echo done-{{ inventory_hostname }}
";

#[test]
fn ctrl_c_once_finishes_running_hosts_and_writes_the_report() {
    let test = Test::new().file("inv.yml", LAB).file("p.yml", SLOW).args(&[
        "run",
        "p.yml",
        "-i",
        "inv.yml",
        "--report",
        "report.json",
    ]);
    let (code, stderr, dir, _keep) = interrupt(test, "lab-r2 connected", 1);
    assert_eq!(code, 130, "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["run"]["interrupted"], true);
    assert_eq!(report["run"]["exit_code"], 130);
    assert_eq!(host(&report, "lab-r1")["status"], "ok");
    assert_eq!(
        host(&report, "lab-r1")["tasks"][0]["stdout"],
        "done-lab-r1\n"
    );
    assert_eq!(host(&report, "lab-r2")["status"], "ok");
    for h in ["lab-r3", "lab-e1", "lab-e2", "lab-e3"] {
        assert_eq!(host(&report, h)["status"], "cancelled", "{h}");
    }
    assert_eq!(
        report["hosts"].as_array().map(Vec::len),
        Some(6),
        "every host is in the report"
    );
}

#[test]
fn ctrl_c_twice_cancels_running_hosts_and_still_writes_the_report() {
    let test = Test::new()
        .file("inv.yml", LAB)
        .file("p.yml", SLOW.replace("sleep 1.5", "sleep 30").as_str())
        .args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"]);
    let started = Instant::now();
    let (code, stderr, dir, _keep) = interrupt(test, "lab-r2 connected", 2);
    assert_eq!(code, 130, "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "running hosts were not cancelled"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(host(&report, "lab-r1")["status"], "cancelled");
    assert_eq!(host(&report, "lab-r1")["error"]["kind"], "cancelled");
    assert_eq!(report["counts"]["cancelled"], 6);
}

/// `drover run` as the command layer runs it, with the shutdown trigger in the test's hand
/// instead of a signal: the first trigger lets running hosts finish and starts no more, the
/// second cancels the running ones; the report is written either way and the exit is 130.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_command_stops_on_a_test_supplied_shutdown_trigger() {
    use drover::app::Job;
    use drover::cli::{OutputArgs, RunArgs, TargetArgs};
    use drover::engine::Shutdown;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("started");
    let inventory = "defaults: { transport: local }\nhosts: { a: {}, b: {}, c: {}, d: {} }\n";
    let playbook = format!(
        "- hosts: all\n  batch_size: 2\n  command_timeout: 60s\n  tasks:\n    - command: touch {m}.{{{{ inventory_hostname }}}}; sleep 30\n",
        m = marker.display()
    );
    std::fs::write(dir.path().join("inv.yml"), inventory).unwrap();
    std::fs::write(dir.path().join("p.yml"), playbook).unwrap();
    let report = dir.path().join("report.json");
    let args = RunArgs {
        playbook: dir.path().join("p.yml"),
        target: TargetArgs {
            inventories: vec![dir.path().join("inv.yml")],
            limit: None,
            extra_vars: Vec::new(),
            platforms: None,
            tags: Vec::new(),
            skip_tags: Vec::new(),
        },
        login: Default::default(),
        habits: Default::default(),
        settings: Default::default(),
        state: drover::cli::StateArgs {
            state_dir: Some(dir.path().join("state")),
            reset_breakers: false,
        },
        history: Default::default(),
        output: OutputArgs {
            report: Some(report.clone()),
            quiet: true,
            ..OutputArgs::default()
        },
    };
    let job = Job::from_run(args, drover::history::Session::none()).unwrap();
    let (trigger, shutdown) = Shutdown::new();
    let run = tokio::spawn(job.execute_until(drover::transport::Transports::default(), shutdown));
    // Both hosts of the first batch are running their command.
    let started = |h: &str| marker.with_extension(h).exists();
    for _ in 0..600 {
        if started("a") && started("b") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        started("a") && started("b"),
        "the first batch never started"
    );
    trigger.fire();
    trigger.fire();
    let code = run.await.unwrap().unwrap();
    assert_eq!(code, 130);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["run"]["interrupted"], true);
    assert_eq!(report["counts"]["cancelled"], 4, "{report:#}");
    let a = host(&report, "a");
    assert_eq!(a["error"]["message"], "cancelled by a second interrupt");
    let c = host(&report, "c");
    assert_eq!(
        c["error"]["message"],
        "not started: the run was interrupted"
    );
    assert!(!started("c") && !started("d"), "no host of batch 2 started");
}

/// A secret-named key inside a list of maps (the list form of `jump`) is masked in output
/// like a top-level one.
#[test]
fn secrets_nested_in_lists_of_maps_are_masked() {
    let inventory = "defaults: { transport: local }\nhosts:\n  a:\n    vars:\n      hops: [{host: 127.0.0.1, password: nested-s3cret}]\n";
    let playbook = "- hosts: all\n  tasks:\n    - command: echo {{ hops[0].password }}\n";
    let out = run_play(inventory, playbook).code(0);
    let text = std::fs::read_to_string(out.dir.join("report.json")).unwrap();
    assert!(!text.contains("nested-s3cret"), "{text}");
    assert_eq!(host(&out.report(), "a")["tasks"][0]["stdout"], "********\n");
    assert!(!out.stdout.contains("nested-s3cret") && !out.stderr.contains("nested-s3cret"));
}
