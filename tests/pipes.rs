//! A reader that goes away (`drover … | head -1`) or a closed stderr ends drover quietly, as
//! it does other Unix tools: no panic, no message about it, the exit code drover had anyway,
//! and a run's report still written. Each test hands drover a pipe whose reading end is
//! already closed, so every write meets EPIPE, not only the late ones.

use std::process::{Output, Stdio};

use crate::support::{Test, LAB};

#[derive(Clone, Copy)]
enum Closed {
    Stdout,
    Stderr,
}

/// Runs drover with `closed` a pipe nobody reads; returns the process output (the other
/// stream captured).
fn run_closed(test: &Test, closed: Closed) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut cmd = test.command();
    cmd.stdin(Stdio::null());
    match closed {
        Closed::Stdout => cmd.stdout(writer).stderr(Stdio::piped()),
        Closed::Stderr => cmd.stderr(writer).stdout(Stdio::piped()),
    };
    cmd.output().expect("run drover")
}

#[track_caller]
fn assert_quiet(out: &Output, code: i32) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
}

#[test]
fn inventory_list_into_a_closed_pipe_ends_quietly() {
    for args in [
        &["inventory", "-i", "inv.yml", "--list"][..],
        &["inventory", "-i", "inv.yml", "--graph"],
        &["inventory", "-i", "inv.yml", "--host", "lab-r1"],
    ] {
        let test = Test::new().file("inv.yml", LAB).args(args);
        let out = run_closed(&test, Closed::Stdout);
        assert_quiet(&out, 0);
        assert!(out.stderr.is_empty(), "{args:?}: {:?}", out.stderr);
    }
}

#[test]
fn check_into_a_closed_pipe_ends_quietly() {
    let test = Test::new()
        .file("inv.yml", LAB)
        .file("p.yml", "- hosts: all\n  tasks:\n    - command: echo hi\n")
        .args(&["check", "p.yml", "-i", "inv.yml"]);
    let out = run_closed(&test, Closed::Stdout);
    assert_quiet(&out, 0);
    assert!(out.stderr.is_empty(), "{:?}", out.stderr);
}

#[test]
fn exec_into_a_closed_pipe_still_writes_its_report_and_keeps_its_exit_code() {
    let test = Test::new().file("inv.yml", LAB).args(&[
        "exec",
        "-i",
        "inv.yml",
        "all",
        "--report",
        "report.json",
        "--",
        "{% if inventory_hostname == 'lab-r2' %}exit 4{% else %}echo hi{% endif %}",
    ]);
    let out = run_closed(&test, Closed::Stdout);
    assert_quiet(&out, 2);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(test.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(report["run"]["exit_code"], 2);
    assert_eq!(report["hosts"].as_array().unwrap().len(), 6);
}

#[test]
fn events_and_json_report_into_a_closed_pipe_end_quietly() {
    for output in [&["--events", "-"][..], &["--output", "json"]] {
        let test = Test::new()
            .file("inv.yml", LAB)
            .args(&["exec", "-i", "inv.yml", "all", "--report", "report.json"])
            .args(output)
            .args(&["--", "echo", "hi"]);
        let out = run_closed(&test, Closed::Stdout);
        assert_quiet(&out, 0);
        assert!(test.path().join("report.json").exists(), "{output:?}");
    }
}

#[test]
fn a_closed_stderr_neither_stops_a_run_nor_an_error_message() {
    // Plain lines go to stderr during the run; the summary still reaches stdout.
    let test = Test::new().file("inv.yml", LAB).args(&[
        "exec",
        "-i",
        "inv.yml",
        "all",
        "--report",
        "report.json",
        "--",
        "echo",
        "hi",
    ]);
    let out = run_closed(&test, Closed::Stderr);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("| ok "));
    assert!(test.path().join("report.json").exists());
    // An input error has nowhere to be said, but its exit code is still 1, not a panic's 101.
    let test = Test::new().file("inv.yml", LAB).args(&[
        "exec",
        "-i",
        "inv.yml",
        "nosuchgroup",
        "--",
        "true",
    ]);
    let out = run_closed(&test, Closed::Stderr);
    assert_eq!(out.status.code(), Some(1));
}
