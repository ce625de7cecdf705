//! What drover gives up on is stopped on the far end: a command timeout, the host timeout
//! and a second Ctrl-C each kill what the command started on the remote host (background
//! children that hold the channel open included), on both ssh backends, and the report
//! says what was done. The lab's sshd runs as the test's own user, so the test reads the
//! remote processes' fate in `/proc` itself.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::sshd::Lab;
use crate::support::{host, Test};

const BACKENDS: [&str; 2] = ["openssh", "native"];

fn inventory(lab: &Lab, backend: &str) -> String {
    match backend {
        "native" => lab.native_inventory(""),
        _ => lab.inventory("ssh_backend: openssh\n"),
    }
}

fn test(lab: &Lab, backend: &str, playbook: &str) -> Test {
    Test::new()
        .file("inv.yml", &inventory(lab, backend))
        .file("p.yml", playbook)
        .args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"])
}

/// The pids the remote command wrote to `file`, one a line.
fn pids(file: &Path) -> Vec<u32> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
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

#[track_caller]
fn all_gone(backend: &str, file: &Path, expected: usize) {
    let pids = pids(file);
    assert_eq!(
        pids.len(),
        expected,
        "{backend}: the command wrote its pids"
    );
    for pid in pids {
        assert!(gone(pid), "{backend}: remote process {pid} outlived drover");
    }
}

#[test]
fn background_children_holding_the_output_are_killed_at_the_command_timeout() {
    let lab = Lab::builder().good(1).start();
    for backend in BACKENDS {
        let file = lab.path(&format!("pids.{backend}"));
        // The shell exits at once; what it leaves behind holds its stdout, so the channel
        // stays open: the command timeout, not the end of the output, ends the task.
        let playbook = format!(
            "
- hosts: all
  command_timeout: 2s
  tasks:
    - name: leaves children behind
      shell: |
        sleep 3001 & echo $! >> {f}
        nohup sleep 3002 & echo $! >> {f}
        setsid sleep 3003 & echo $! >> {f}
        echo started
",
            f = file.display()
        );
        let out = test(&lab, backend, &playbook).run().code(2);
        let report = out.report();
        let task = &host(&report, "h000")["tasks"][0];
        assert_eq!(
            task["error"]["kind"], "command_timeout",
            "{backend}: {task}"
        );
        let message = task["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("timed out after 2s")
                && message.contains("; drover killed the remote command (3 processes: "),
            "{backend}: {message}"
        );
        assert!(!message.contains("gone"), "{backend}: {message}");
        if backend == "native" {
            assert!(
                message.contains("its shell had exited with status 0"),
                "{backend}: {message}"
            );
        }
        assert_eq!(task["stdout"], "started\n", "{backend}: output is kept");
        // One deadline: the timeout and the kill's grace, not a wait per stream after it.
        let took = task["duration_ms"].as_u64().unwrap_or(u64::MAX);
        assert!(
            took < 2_000 + 2_000 + 1_000,
            "{backend}: the task took {took} ms"
        );
        all_gone(backend, &file, 3);
    }
}

#[test]
fn the_host_timeout_mid_command_kills_the_remote_command() {
    let lab = Lab::builder().good(1).start();
    for backend in BACKENDS {
        let file = lab.path(&format!("pids.{backend}"));
        let playbook = format!(
            "
- hosts: all
  host_timeout: 2s
  command_timeout: 60s
  tasks:
    - name: runs long
      shell: |
        sleep 3011 & echo $! >> {f}
        echo $$ >> {f}
        wait
",
            f = file.display()
        );
        let out = test(&lab, backend, &playbook).run().code(2);
        let report = out.report();
        let h = host(&report, "h000");
        assert_eq!(h["error"]["kind"], "host_timeout", "{backend}: {h}");
        assert_eq!(
            h["tasks"][0]["error"]["kind"], "host_timeout",
            "{backend}: {h}"
        );
        all_gone(backend, &file, 2);
    }
}

#[test]
fn a_second_sigint_mid_command_kills_the_remote_command() {
    let lab = Lab::builder().good(1).start();
    for backend in BACKENDS {
        let file = lab.path(&format!("pids.{backend}"));
        let playbook = format!(
            "
- hosts: all
  command_timeout: 60s
  tasks:
    - name: runs long
      shell: |
        sleep 3021 & echo $! >> {f}.part
        echo $$ >> {f}.part
        mv {f}.part {f}
        wait
",
            f = file.display()
        );
        let t = test(&lab, backend, &playbook);
        let mut child = t
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn drover");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !file.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(file.exists(), "{backend}: the remote command never started");
        for _ in 0..2 {
            // SAFETY: sending SIGINT to our own child.
            unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
            std::thread::sleep(Duration::from_millis(100));
        }
        let status = child.wait().expect("wait for drover");
        assert_eq!(status.code(), Some(130), "{backend}");
        let report: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(t.path().join("report.json")).expect("a report"),
        )
        .expect("json");
        let h = host(&report, "h000");
        assert_eq!(h["status"], "cancelled", "{backend}: {h}");
        assert_eq!(
            h["tasks"][0]["error"]["kind"], "cancelled",
            "{backend}: {h}"
        );
        all_gone(backend, &file, 2);
    }
}

#[test]
fn what_an_earlier_task_left_running_is_spared_by_a_later_timeout() {
    let lab = Lab::builder().good(1).start();
    for backend in BACKENDS {
        let earlier = lab.path(&format!("earlier.{backend}"));
        let file = lab.path(&format!("pids.{backend}"));
        let playbook = format!(
            "
- hosts: all
  command_timeout: 2s
  tasks:
    - name: starts a daemon on purpose
      shell: |
        nohup sleep 3031 >/dev/null 2>&1 & echo $! > {e}
        sleep 1
    - name: hangs
      shell: |
        sleep 3032 & echo $! >> {f}
",
            e = earlier.display(),
            f = file.display()
        );
        let out = test(&lab, backend, &playbook).run().code(2);
        let report = out.report();
        let tasks = &host(&report, "h000")["tasks"];
        assert_eq!(tasks[0]["status"], "ok", "{backend}: {tasks}");
        assert_eq!(
            tasks[1]["error"]["kind"], "command_timeout",
            "{backend}: {tasks}"
        );
        let message = tasks[1]["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("drover killed the remote command (1 process: "),
            "{backend}: {message}"
        );
        all_gone(backend, &file, 1);
        let daemon = pids(&earlier);
        assert_eq!(daemon.len(), 1, "{backend}");
        let alive = std::fs::read_to_string(format!("/proc/{}/cmdline", daemon[0]))
            .is_ok_and(|c| c.starts_with("sleep\u{0}3031"));
        // SAFETY: ending the test's own leftover.
        unsafe { libc::kill(daemon[0] as i32, libc::SIGKILL) };
        assert!(alive, "{backend}: the earlier task's daemon was killed too");
    }
}
