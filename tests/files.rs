//! The files drover writes and reads by path: reports into FIFOs, through symlinks and to
//! stdout; an output that cannot be written; the state directory; paths in inventory
//! variables relative to the inventory file.

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use crate::support::Test;

const INV: &str = "defaults:\n  transport: local\nhosts:\n  10.0.0.1: {}\n  10.0.0.2: {}\n";
const PLAY: &str = "- hosts: all\n  tasks:\n    - command: echo hi\n";

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

#[test]
fn a_report_to_a_fifo_is_written_through_not_replaced() {
    let test = Test::new().file("inv.yml", INV).file("p.yml", PLAY);
    let fifo = test.path().join("report.fifo");
    mkfifo(&fifo);
    // Opened for reading first, without blocking, so drover's open for writing succeeds and
    // what it writes waits in the pipe.
    let mut reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    let out = test
        .args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.fifo"])
        .run()
        .code(0);
    let mut text = String::new();
    let _ = reader.read_to_string(&mut text);
    let kind = std::fs::symlink_metadata(out.dir.join("report.fifo"))
        .unwrap()
        .file_type();
    assert!(kind.is_fifo(), "the FIFO was replaced by {kind:?}");
    let report: serde_json::Value = serde_json::from_str(&text).expect("the report came through");
    assert_eq!(report["counts"]["ok"], 2);
}

#[test]
fn a_report_through_a_symlink_keeps_the_link() {
    let test = Test::new()
        .file("inv.yml", INV)
        .file("p.yml", PLAY)
        .file("out/real.json", "old");
    std::os::unix::fs::symlink("out/real.json", test.path().join("report.json")).unwrap();
    let out = test
        .args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"])
        .run()
        .code(0);
    let link = out.dir.join("report.json");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let real = std::fs::read_to_string(out.dir.join("out/real.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&real).unwrap();
    assert_eq!(report["counts"]["ok"], 2);
}

#[test]
fn a_report_to_dash_goes_to_stdout_and_the_summary_to_stderr() {
    let out = Test::new()
        .file("inv.yml", INV)
        .file("p.yml", PLAY)
        .args(&["run", "p.yml", "-i", "inv.yml", "--report", "-"])
        .run()
        .code(0);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("stdout is JSON");
    assert_eq!(report["counts"]["ok"], 2);
    assert!(!out.dir.join("-").exists(), "no file named `-`");
    assert!(out.stderr.contains("10.0.0.1"), "{}", out.stderr);
}

#[test]
fn junit_to_dash_goes_to_stdout() {
    let out = Test::new()
        .file("inv.yml", INV)
        .file("p.yml", PLAY)
        .args(&["run", "p.yml", "-i", "inv.yml", "--junit", "-"])
        .run()
        .code(0);
    assert!(out.stdout.starts_with("<?xml"), "{}", out.stdout);
    assert!(!out.dir.join("-").exists());
}

#[test]
fn two_outputs_on_stdout_are_a_usage_error() {
    Test::new()
        .file("inv.yml", INV)
        .file("p.yml", PLAY)
        .args(&[
            "run", "p.yml", "-i", "inv.yml", "--report", "-", "--events", "-",
        ])
        .run()
        .code(1)
        .stderr_has("only one of --report, --junit and --events can be `-`");
}

#[test]
fn a_report_that_cannot_be_written_keeps_the_runs_exit_code_family() {
    // The hosts ran and were ok: not 1 ("nothing ran"), but 2, with the message.
    let out = Test::new()
        .file("inv.yml", INV)
        .file("p.yml", PLAY)
        .args(&[
            "run",
            "p.yml",
            "-i",
            "inv.yml",
            "--report",
            "no/such/dir/r.json",
        ])
        .run()
        .code(2)
        .stderr_has("cannot write no/such/dir/r.json");
    assert!(out.stderr.contains("10.0.0.1"), "{}", out.stderr);
    // A run that was already 3 or 130 keeps its code.
    assert_eq!(drover::app::output_exit_code(3, false), 3);
    assert_eq!(drover::app::output_exit_code(130, false), 130);
    assert_eq!(drover::app::output_exit_code(0, true), 0);
}

#[test]
fn a_run_leaves_no_lock_file_in_the_state_dir() {
    let play = "- hosts: all\n  tasks:\n    - command: exit 1\n";
    let out = Test::new()
        .file("inv.yml", INV)
        .file("p.yml", play)
        .args(&["run", "p.yml", "-i", "inv.yml"])
        .run()
        .code(2);
    let state = out.dir.join(".state/drover");
    let mut files = Vec::new();
    for dir in [state.clone(), state.join("runs")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            files.push(entry.unwrap().file_name().to_string_lossy().into_owned());
        }
    }
    assert!(files.iter().any(|f| f == "index.jsonl"), "{files:?}");
    assert!(!files.iter().any(|f| f.ends_with(".lock")), "{files:?}");
}

#[test]
fn without_home_stderr_says_state_is_not_saved_and_a_relative_xdg_state_home_is_ignored() {
    let out = Test::new()
        .file("inv.yml", INV)
        .file("p.yml", PLAY)
        .env("HOME", "")
        .env("XDG_STATE_HOME", "relative-state")
        .args(&["run", "p.yml", "-i", "inv.yml"])
        .run()
        .code(0)
        .stderr_has("no state directory")
        .stderr_has("breaker state and run history are not saved");
    assert!(!out.dir.join("relative-state").exists());
}

#[test]
fn relative_paths_in_inventory_vars_resolve_against_the_inventory_file() {
    // Run from another directory (as cron runs from $HOME): the key and the CA are found
    // beside the inventory and the group_vars file that name them.
    let inv = "defaults:\n  transport: ssh\n  ssh_backend: native\n  ssh_identity_file: keys/id\nhosts:\n  10.0.0.1: {}\n";
    let ansible = "all:\n  hosts:\n    10.0.0.2:\n";
    let test = Test::new()
        .file("site/inv.yml", inv)
        .file("site/keys/id", "not a real key\n")
        .file("site2/hosts.yml", ansible)
        .file(
            "site2/group_vars/all.yml",
            "ansible_connection: ssh\nssh_identity_file: k/id2\n",
        )
        .file("site2/group_vars/k/id2", "not a real key\n")
        .file("p.yml", "- hosts: all\n  tasks:\n    - command: echo hi\n");
    test.args(&[
        "check",
        "p.yml",
        "-i",
        "site/inv.yml",
        "-i",
        "site2/hosts.yml",
    ])
    .run()
    .code(0);
}
