//! Ansible habits: `-f/--forks`, `-u`, `--check`, `--syntax-check`, `--list-hosts`, and a
//! plain "not supported" for `--step` and `--start-at-task`.

use crate::support::{Test, LAB};

/// Leaves a file named after the host: proof that it ran.
const TOUCH: &str = "- name: touch\n  hosts: core\n  tasks:\n    - name: mark\n      command: touch ran-{{ inventory_hostname }}\n";

fn ran(out: &crate::support::Outcome) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(&out.dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("ran-"))
        .collect();
    names.sort();
    names
}

#[test]
fn forks_is_concurrency() {
    for flag in ["-f", "--forks", "--concurrency"] {
        let out = Test::new()
            .file("inv.yml", LAB)
            .file("p.yml", TOUCH)
            .args(&[
                "run",
                "p.yml",
                "-i",
                "inv.yml",
                "--report",
                "report.json",
                flag,
                "2",
            ])
            .run()
            .code(0);
        assert_eq!(
            out.report()["plays"][0]["settings"]["concurrency"],
            2,
            "{flag}"
        );
    }
}

#[test]
fn list_hosts_check_and_syntax_check_connect_nothing() {
    let list = Test::new()
        .file("inv.yml", LAB)
        .file("p.yml", TOUCH)
        .args(&["run", "p.yml", "-i", "inv.yml", "--list-hosts"])
        .run()
        .code(0);
    assert_eq!(
        list.stdout,
        "play `touch` (hosts: core): 3 hosts\n  lab-r1\n  lab-r2\n  lab-r3\n"
    );
    assert!(ran(&list).is_empty());
    let on_check = Test::new()
        .file("inv.yml", LAB)
        .file("p.yml", TOUCH)
        .args(&[
            "check",
            "p.yml",
            "-i",
            "inv.yml",
            "--list-hosts",
            "--limit",
            "lab-r3",
        ])
        .run()
        .code(0);
    assert_eq!(
        on_check.stdout,
        "play `touch` (hosts: core): 1 host\n  lab-r3\n"
    );
    for flag in ["--check", "--syntax-check"] {
        let out = Test::new()
            .file("inv.yml", LAB)
            .file("p.yml", TOUCH)
            .args(&["run", "p.yml", "-i", "inv.yml", flag])
            .run()
            .code(0)
            .stdout_has("touch ran-lab-r2");
        assert!(ran(&out).is_empty(), "{flag} ran something");
    }
    // A broken playbook is an input error under --check too.
    Test::new()
        .file("inv.yml", LAB)
        .file(
            "p.yml",
            "- hosts: core\n  tasks:\n    - command: echo {{ nope }}\n",
        )
        .args(&["run", "p.yml", "-i", "inv.yml", "--check"])
        .run()
        .code(1)
        .stderr_has("nope");
}

/// Without a terminal (stdin is null here and there is no controlling tty), `-k` says where
/// else a password can come from, and nothing runs.
#[test]
fn ask_pass_without_a_terminal_says_where_else_a_password_goes() {
    use std::os::unix::process::CommandExt;
    for flag in ["-k", "--ask-pass"] {
        let test = Test::new()
            .file("inv.yml", LAB)
            .file("p.yml", TOUCH)
            .args(&["run", "p.yml", "-i", "inv.yml", flag]);
        let mut command = test.command();
        // SAFETY: setsid is async-signal-safe; it leaves drover without a controlling tty.
        unsafe {
            command.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        let out = command.stdin(std::process::Stdio::null()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("reads the password from a terminal, and drover has none"),
            "{stderr}"
        );
        let ran = std::fs::read_dir(test.path())
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().starts_with("ran-"));
        assert!(!ran, "a task ran");
    }
}

#[test]
fn step_and_start_at_task_say_they_are_not_supported() {
    for args in [&["--step"][..], &["--start-at-task", "mark"]] {
        let out = Test::new()
            .file("inv.yml", LAB)
            .file("p.yml", TOUCH)
            .args(&["run", "p.yml", "-i", "inv.yml"])
            .args(args)
            .run()
            .code(1)
            .stderr_has("is not supported");
        assert!(ran(&out).is_empty());
    }
}

/// `-u` fills in the user where the inventory has none; an inventory `user` wins.
#[test]
fn user_flag_is_the_default_user() {
    let inv = "defaults:\n  transport: local\nhosts:\n  r1: {}\n  r2: { user: bob }\n";
    let play = "- hosts: all\n  tasks:\n    - command: echo {{ user | default(ansible_user) }}\n";
    let out = Test::new()
        .file("inv.yml", inv)
        .file("p.yml", play)
        .args(&[
            "run",
            "p.yml",
            "-i",
            "inv.yml",
            "--report",
            "report.json",
            "-u",
            "alice",
        ])
        .run()
        .code(0);
    let report = out.report();
    assert_eq!(
        crate::support::host(&report, "r1")["tasks"][0]["stdout"],
        "alice\n"
    );
    assert_eq!(
        crate::support::host(&report, "r2")["tasks"][0]["stdout"],
        "bob\n"
    );
}
