//! What users see and what machines read: plain lines through a pipe, the NDJSON stream and
//! its replay, JUnit, `--output json`, the shipped JSON Schema, the generated completions and
//! man pages, and progress bars on a real terminal (tmux).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use crate::support::events_of;
use crate::support::fake::FakeTransport;
use drover::engine::{self, BreakerStore, Clock, Plan, PlanOptions, RunEnv, Shutdown};
use drover::event::{Event, EventSink};
use drover::inventory;
use drover::playbook::Playbook;
use drover::report::{ReportBuilder, RunInfo, RunReport};
use drover::transport::Output;

use crate::support::{run_play, Test, LAB};

/// Two tasks; the second fails on lab-r2.
const TWO_TASKS: &str = "
- name: two tasks
  hosts: all
  batch_size: 4
  tasks:
    - name: hello
      command: echo hello from {{ role | default('none') }}
    - name: maybe fail
      command: \"{% if inventory_hostname == 'lab-r2' %}echo broken >&2; exit 5{% else %}echo fine{% endif %}\"
";

#[test]
fn a_pipe_gets_no_escape_codes_and_one_line_per_host_state_change() {
    let out = Test::new()
        .file("inv.yml", LAB)
        .file("p.yml", TWO_TASKS)
        .args(&["run", "p.yml", "-i", "inv.yml", "--events", "events.ndjson"])
        .run()
        .code(2);
    assert!(!out.stderr.contains('\x1b'), "{}", out.stderr);
    assert!(!out.stdout.contains('\x1b'), "{}", out.stdout);
    let stamp = regex_lite::Regex::new(r"^\d\d:\d\d\.\d{3} ").unwrap();
    for line in out.stderr.lines() {
        assert!(stamp.is_match(line), "untimestamped line {line:?}");
    }
    // Exactly the lines the events call for: each state change, each host's end, and each
    // failed task — per host, in order.
    let events = events_of(&out.dir.join("events.ndjson"));
    for host in ["lab-r1", "lab-r2", "lab-e3"] {
        let expected: Vec<String> = events
            .iter()
            .filter_map(|s| match &s.event {
                Event::HostState {
                    host: h,
                    state,
                    task,
                    ..
                } if &**h == host => Some(match task {
                    Some(t) => format!("running `{t}`"),
                    None => serde_json::to_value(state)
                        .unwrap()
                        .as_str()
                        .unwrap()
                        .to_string(),
                }),
                Event::TaskFinished {
                    host: h, result, ..
                } if &**h == host && result.error.is_some() => {
                    Some(format!("task `{}` failed", result.name))
                }
                Event::HostFinished {
                    host: h, outcome, ..
                } if &**h == host => Some(outcome.status.as_str().to_string()),
                _ => None,
            })
            .collect();
        let seen: Vec<&str> = out
            .stderr
            .lines()
            .filter_map(|l| l.split_once(' ').map(|(_, rest)| rest))
            .filter_map(|rest| rest.strip_prefix(host))
            .map(str::trim_start)
            .collect();
        assert_eq!(seen.len(), expected.len(), "{host}: {seen:#?}");
        for (line, want) in seen.iter().zip(&expected) {
            assert!(line.starts_with(want.as_str()), "{line:?} is not {want:?}");
        }
    }
    assert!(out.stderr.contains("lab-r2 failed ("), "{}", out.stderr);
}

#[test]
fn color_always_colours_plain_lines_and_never_or_no_color_does_not() {
    let run = |extra: &[&str]| {
        Test::new()
            .file("inv.yml", LAB)
            .args(&["exec", "-i", "inv.yml", "lab-r1"])
            .args(extra)
            .args(&["--", "true"])
            .run()
            .code(0)
    };
    // The test harness sets NO_COLOR; `always` still wins, as no-color.org allows.
    assert!(run(&["--color", "always"])
        .stderr
        .contains("\x1b[32mok\x1b[0m"));
    assert!(!run(&["--color", "never"]).stderr.contains('\x1b'));
    assert!(!run(&[]).stderr.contains('\x1b'));
}

#[test]
fn events_replay_into_the_same_report_and_summary() {
    let out = Test::new()
        .file("inv.yml", LAB)
        .file("p.yml", TWO_TASKS)
        .args(&[
            "run",
            "p.yml",
            "-i",
            "inv.yml",
            "--events",
            "events.ndjson",
            "--report",
            "report.json",
        ])
        .run()
        .code(2);
    let written: RunReport =
        serde_json::from_value(out.report()).expect("the report reads back as a RunReport");
    let events = events_of(&out.dir.join("events.ndjson"));
    assert!(matches!(events[0].event, Event::RunStarted { .. }));
    assert!(matches!(
        events.last().map(|e| &e.event),
        Some(Event::RunFinished { .. })
    ));
    let replayed = crate::support::replay(events, &written);
    assert_eq!(
        serde_json::to_value(&replayed).unwrap(),
        serde_json::to_value(&written).unwrap()
    );
    let summary = drover::ui::summary(&replayed, false);
    assert_eq!(out.stdout, summary);
    assert!(summary.contains("nonzero_exit"), "{summary}");
}

#[test]
fn events_to_stdout_are_pure_ndjson_and_the_summary_moves_to_stderr() {
    let out = Test::new()
        .file("inv.yml", LAB)
        .args(&[
            "exec", "-i", "inv.yml", "all", "--events", "-", "--", "echo hi",
        ])
        .run()
        .code(0);
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let finished = lines
        .iter()
        .filter(|e| e["event"] == "host_finished")
        .count();
    assert_eq!(finished, 6);
    assert!(lines.iter().all(|e| e["at_ms"].is_u64()));
    assert!(out.stderr.contains("| ok       6"), "{}", out.stderr);
}

#[test]
fn exec_output_json_prints_only_the_report_on_stdout() {
    let out = Test::new()
        .file("inv.yml", LAB)
        .args(&[
            "exec",
            "-i",
            "inv.yml",
            "all",
            "--output",
            "json",
            "--",
            "echo",
            "{{ role | default('none') }}",
        ])
        .run()
        .code(0);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("stdout is JSON");
    assert_eq!(report["counts"]["ok"], 6);
    let groups = report["output_groups"].as_array().expect("groups");
    let folded: Vec<&str> = groups
        .iter()
        .map(|g| g["folded"].as_str().unwrap())
        .collect();
    assert_eq!(folded, ["lab-r[1-3]", "lab-e[1-3]"]);
    assert_eq!(groups[0]["stdout"], "core\n");
    assert_eq!(groups[1]["hosts"].as_array().map(Vec::len), Some(3));
    assert!(out.stderr.contains("| ok       6"), "{}", out.stderr);
    Test::new()
        .file("inv.yml", LAB)
        .args(&[
            "exec", "-i", "inv.yml", "all", "--output", "json", "--events", "-", "--", "true",
        ])
        .run()
        .code(1)
        .stderr_has("both want stdout");
}

#[test]
fn the_summary_folds_groups_and_names_failures_and_the_slowest() {
    let out = Test::new()
        .file("inv.yml", LAB)
        .file("p.yml", TWO_TASKS)
        .args(&["run", "p.yml", "-i", "inv.yml", "-v"])
        .run()
        .code(2);
    let s = &out.stdout;
    assert!(s.contains("| ok       5"), "{s}");
    assert!(s.contains("| failed   1"), "{s}");
    // The failure: host, status, class, task, message and the task's own output.
    assert!(
        s.contains(
            "| lab-r2 (1)   failed · nonzero_exit · task `maybe fail` |\n\
             |              exit code 5: broken                       |\n"
        ),
        "{s}"
    );
    assert!(s.contains("| slowest "), "{s}");
    // -v on `run` adds the grouped outputs, per task.
    assert!(
        s.contains("lab-r[1-3] (3) · task `hello`\n---------------\nhello from core\n"),
        "{s}"
    );
    assert!(
        s.contains("lab-r[1,3],lab-e[1-3] (5) · task `maybe fail`"),
        "{s}"
    );
}

/// Runs a two-task play over four fake hosts twice with one breaker store: h002 is dead
/// (unreachable, then breaker-skipped), h003's second task fails.
async fn fake_runs() -> Vec<(RunReport, Vec<Vec<String>>)> {
    let inv = "hosts:\n  h001: {}\n  h002: {}\n  h003: {}\n  h004: {}\n";
    let play = "- name: audit\n  hosts: all\n  retries: 0\n  rate: 1000/s\n  circuit_breaker: { threshold: 1, cooldown: 180s }\n  tasks:\n    - name: first\n      command: a\n    - name: second\n      command: b\n";
    let inv = inventory::from_yaml(Path::new("inv.yml"), inv).unwrap();
    let book = Playbook::parse(Path::new("p.yml"), play).unwrap();
    let mut fake = FakeTransport::new(|host, command| Output {
        exit_code: Some(if host == "h003" && command == "b" {
            1
        } else {
            0
        }),
        stdout: format!("{command} <&> \x1b[1m{host}\n"),
        ..Default::default()
    });
    fake.unreachable = Arc::new(["h002".to_string()].into_iter().collect());
    let transports = fake;
    let plan = Arc::new(Plan::build(&book, &inv, &PlanOptions::default(), &transports).unwrap());
    let tasks: Vec<Vec<String>> = plan
        .plays
        .iter()
        .map(|p| p.tasks.iter().map(|t| t.name.clone()).collect())
        .collect();
    let store = Arc::new(BreakerStore::in_memory());
    let transports: Arc<dyn drover::transport::Transport> = Arc::new(transports);
    let mut reports = Vec::new();
    for _ in 0..2 {
        let (events, mut rx) = EventSink::new();
        let (_trigger, shutdown) = Shutdown::new();
        let env = RunEnv {
            transports: transports.clone(),
            breakers: store.clone(),
            clock: Clock::new(1_000_000),
        };
        engine::run(plan.clone(), env, events, shutdown).await;
        let mut builder = ReportBuilder::default();
        while let Ok(e) = rx.try_recv() {
            builder.apply(e);
        }
        let mut report = builder.build(RunInfo {
            command: "run".into(),
            ..RunInfo::default()
        });
        report.run.exit_code = report.exit_code();
        reports.push((report, tasks.clone()));
    }
    reports
}

/// (classname, name) → ("passed" | "failure:TYPE" | "skipped:MESSAGE").
fn cases(xml: &str) -> Vec<(String, String, String)> {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let cases: Vec<_> = root
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|c| {
            let verdict = c
                .children()
                .find_map(|k| match k.tag_name().name() {
                    "failure" => Some(format!("failure:{}", k.attribute("type").unwrap_or(""))),
                    "skipped" => Some(format!("skipped:{}", k.attribute("message").unwrap_or(""))),
                    _ => None,
                })
                .unwrap_or_else(|| "passed".into());
            (
                c.attribute("classname").unwrap_or("").to_string(),
                c.attribute("name").unwrap_or("").to_string(),
                verdict,
            )
        })
        .collect();
    let count = |what: &str| cases.iter().filter(|c| c.2.starts_with(what)).count();
    assert_eq!(
        root.attribute("tests"),
        Some(cases.len().to_string().as_str())
    );
    assert_eq!(
        root.attribute("failures"),
        Some(count("failure").to_string().as_str())
    );
    // `skipped` is counted per suite (the JUnit schema has no such attribute on the root).
    assert_eq!(root.attribute("skipped"), None);
    let skipped: usize = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .map(|n| {
            n.attribute("skipped")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(skipped, count("skipped"));
    assert_valid_junit(xml);
    cases
}

/// Validates against the JUnit schema in tests/junit.xsd (Jenkins' junit-10 structure) with
/// libxml2's `xmllint`, which CI installs.
#[track_caller]
pub fn assert_valid_junit(xml: &str) {
    use std::io::Write;
    let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/junit.xsd");
    let child = std::process::Command::new("xmllint")
        .args(["--noout", "--schema", schema, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(_) if std::env::var_os("CI").is_none() => {
            eprintln!(
                "SKIPPED: xmllint is not installed; the JUnit schema check needs it (CI has it)"
            );
            return;
        }
        Err(e) => panic!("xmllint: {e}"),
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(xml.as_bytes())
        .expect("feed xmllint");
    let out = child.wait_with_output().expect("xmllint");
    assert!(
        out.status.success(),
        "the JUnit file does not validate:\n{}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_junit_schema_check_can_fail() {
    if std::process::Command::new("xmllint")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: xmllint is not installed");
        return;
    }
    let bad = "<?xml version=\"1.0\"?>\n<testsuites skipped=\"1\"><testsuite name=\"x\" tests=\"1\"><testcase name=\"t\"><system-out/><failure/></testcase></testsuite></testsuites>\n";
    let caught = std::panic::catch_unwind(|| assert_valid_junit(bad));
    assert!(
        caught.is_err(),
        "a root `skipped` and a misplaced failure must not validate"
    );
}

#[tokio::test(start_paused = true)]
async fn junit_has_every_host_and_task_and_unreachable_and_breaker_skipped_hosts_stay() {
    let runs = fake_runs().await;
    let (first, tasks) = &runs[0];
    let xml = drover::report::junit(first, tasks);
    let got = cases(&xml);
    let verdict = |host: &str, task: &str| {
        got.iter()
            .find(|c| c.0 == host && c.1 == task)
            .map(|c| c.2.clone())
            .unwrap_or_else(|| panic!("no case {host}/{task}"))
    };
    assert_eq!(got.len(), 4 * 2, "one case per host × task");
    assert_eq!(verdict("h001", "first"), "passed");
    assert_eq!(verdict("h002", "first"), "failure:unreachable");
    assert_eq!(verdict("h002", "second"), "failure:unreachable");
    assert_eq!(verdict("h003", "first"), "passed");
    assert_eq!(verdict("h003", "second"), "failure:nonzero_exit");
    // The failures match the report: every task of each unreachable host, plus failed tasks.
    let failed_tasks: usize = first
        .hosts
        .iter()
        .flat_map(|h| &h.tasks)
        .filter(|t| t.error.is_some())
        .count();
    let unreachable = first.counts[&drover::outcome::HostStatus::Unreachable];
    assert_eq!(
        got.iter().filter(|c| c.2.starts_with("failure")).count(),
        failed_tasks + unreachable * 2
    );
    // Terminal escapes in a device's output do not break the XML; markup is escaped.
    assert!(xml.contains("a &lt;&amp;&gt; [1mh001"), "{xml}");

    let (second, tasks) = &runs[1];
    assert_eq!(
        second
            .hosts
            .iter()
            .find(|h| h.name == "h002")
            .map(|h| h.outcome.status),
        Some(drover::outcome::HostStatus::Skipped)
    );
    let got = cases(&drover::report::junit(second, tasks));
    assert_eq!(got.len(), 8, "the breaker-skipped host does not vanish");
    // It was not reached, so the exit code is 2, and JUnit says failure too.
    assert_eq!(second.exit_code(), 2);
    for task in ["first", "second"] {
        let v = &got.iter().find(|c| c.0 == "h002" && c.1 == task).unwrap().2;
        assert_eq!(v, "failure:breaker_open");
    }
}

#[test]
fn junit_from_the_binary_counts_match_the_report() {
    let out = Test::new()
        .file("inv.yml", LAB)
        .file("p.yml", TWO_TASKS)
        .args(&[
            "run",
            "p.yml",
            "-i",
            "inv.yml",
            "--junit",
            "junit.xml",
            "--report",
            "report.json",
        ])
        .run()
        .code(2);
    let xml = std::fs::read_to_string(out.dir.join("junit.xml")).expect("junit written");
    let got = cases(&xml);
    assert_eq!(got.len(), 6 * 2);
    assert_eq!(
        got.iter().filter(|c| c.2.starts_with("failure")).count(),
        out.report()["counts"]["failed"].as_u64().unwrap() as usize
    );
    assert!(got.contains(&(
        "lab-r2".into(),
        "maybe fail".into(),
        "failure:nonzero_exit".into()
    )));
}

pub fn schema_validator() -> (boon::Schemas, boon::SchemaIndex) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.schema.json"),
    )
    .expect("schema/report.schema.json ships");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    let url = "file:///drover/schema/report.schema.json";
    compiler.add_resource(url, schema).expect("add schema");
    let index = compiler
        .compile(url, &mut schemas)
        .expect("schema compiles");
    (schemas, index)
}

#[tokio::test(start_paused = true)]
async fn reports_validate_against_the_shipped_schema() {
    let (schemas, index) = schema_validator();
    let mut reports: Vec<serde_json::Value> = fake_runs()
        .await
        .iter()
        .map(|(r, _)| serde_json::to_value(r).unwrap())
        .collect();
    let out = run_play(LAB, include_str!("../playbooks/site-audit.yml")).code(0);
    reports.push(out.report());
    for report in &reports {
        if let Err(e) = schemas.validate(report, index) {
            panic!("{e:#}");
        }
    }
    // The validator can say no: a status the schema does not know.
    let mut bad = reports[0].clone();
    bad["hosts"][0]["status"] = "bogus".into();
    assert!(schemas.validate(&bad, index).is_err());
    let mut bad = reports[0].clone();
    bad["counts"]["ok"] = "many".into();
    assert!(schemas.validate(&bad, index).is_err());
}

/// Every file under `dir`, relative.
fn files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn completions_man_pages_and_schema_are_not_stale() {
    let fresh = Test::new()
        .args(&["generate", "--dir", "gen"])
        .run()
        .code(0);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for dir in ["completions", "man", "schema"] {
        let (new, old) = (fresh.dir.join("gen").join(dir), repo.join(dir));
        let names = files(&new);
        assert!(!names.is_empty(), "generate wrote nothing in {dir}");
        for name in names.union(&files(&old)) {
            let a = std::fs::read(new.join(name)).ok();
            let b = std::fs::read(old.join(name)).ok();
            if a != b {
                stale.push(format!("{dir}/{name}"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files {stale:?}: run `cargo run -- generate` and commit the result"
    );
    // The pages say what users need.
    let man = std::fs::read_to_string(repo.join("man/drover.1")).unwrap();
    assert!(man.contains("130"), "exit codes in the man page");
    assert!(repo.join("man/drover-exec.1").exists());
    assert!(
        !repo.join("man/drover-generate.1").exists(),
        "generate is hidden"
    );
    let bash = std::fs::read_to_string(repo.join("completions/drover.bash")).unwrap();
    assert!(bash.contains("--junit") && bash.contains("--events"));
    assert!(
        !bash.contains("generate"),
        "the developer command is not completed"
    );
}

/// Bars and the batch line on a real terminal: drover under tmux, a frame captured mid-run.
#[test]
fn a_terminal_shows_bars_a_batch_line_and_host_lines() {
    if !crate::support::tmux::available() {
        eprintln!("SKIPPED: tmux is not installed; the terminal check needs it (CI has it)");
        return;
    }
    let slow = "
- name: slow
  hosts: all
  batch_size: 2
  tasks:
    - name: nap
      command: \"{% if inventory_hostname == 'lab-r2' %}exit 3{% else %}sleep 1{% endif %}\"
";
    let test = Test::new().file("inv.yml", LAB).file("p.yml", slow);
    let script = format!(
        "cd '{}' && unset NO_COLOR && '{}' run p.yml -i inv.yml --report report.json; echo EXIT=$?; sleep 60",
        test.path().display(),
        env!("CARGO_BIN_EXE_drover")
    );
    let pane = crate::support::tmux::Pane::start(120, 40, &script);
    let capture = || pane.capture(false);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut mid_run = None;
    let mut last = String::new();
    while std::time::Instant::now() < deadline {
        last = capture();
        if last.contains("EXIT=") {
            break;
        }
        if mid_run.is_none()
            && last.contains("Batch ")
            && last.contains("running `nap`")
            && last.contains("lab-r2 failed")
        {
            mid_run = Some(last.clone());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    drop(pane);
    let frame = mid_run.unwrap_or_else(|| panic!("no mid-run frame with bars; last:\n{last}"));
    eprintln!("mid-run frame:\n{frame}");
    let bar =
        regex_lite::Regex::new(r"drover \[[=> ]+\] \d/6 hosts · \d+ ok · \d+ failed").unwrap();
    assert!(bar.is_match(&frame), "no overall bar:\n{frame}");
    assert!(
        regex_lite::Regex::new(r"Batch [1-3]/3 · 2 hosts")
            .unwrap()
            .is_match(&frame),
        "no batch line:\n{frame}"
    );
    assert!(
        regex_lite::Regex::new(r"(?m)^  lab-\w+ +running `nap`$")
            .unwrap()
            .is_match(&frame),
        "no host line:\n{frame}"
    );
    // A failed host is logged above the bars, not drawn through them.
    let line_of = |needle: &str| frame.lines().position(|l| l.contains(needle));
    let (failed, bar) = (line_of("lab-r2 failed"), line_of("drover ["));
    assert!(
        failed.is_some() && bar.is_some() && failed < bar,
        "the failure is not above the bars:\n{frame}"
    );
    // The bars are not the plain printer: no timestamped state-change lines.
    let stamp =
        regex_lite::Regex::new(r"^\d\d:\d\d\.\d{3} \S+ +(connect|running|disconnect)").unwrap();
    assert!(!frame.lines().any(|l| stamp.is_match(l)), "{frame}");
    // At the end: the bar's last frame, then the summary.
    assert!(last.contains("EXIT=2"), "{last}");
    assert!(last.contains("6/6 hosts · 5 ok · 1 failed"), "{last}");
    assert!(last.contains("| ok       5"), "{last}");
    assert!(
        !last.contains("running `nap`"),
        "host lines are cleared:\n{last}"
    );
}

/// The README's settings table is the one declaration of the settings, rendered.
#[test]
fn the_readme_settings_table_is_the_settings_declaration() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let fresh = drover::generate::with_settings_table(&readme).expect("the table's markers");
    assert!(
        fresh == readme,
        "the README's run settings table is stale: run `cargo run -- generate`"
    );
    for setting in drover::settings::table() {
        assert!(
            readme.contains(setting.flag),
            "{} in the README",
            setting.flag
        );
    }
}

/// The shipped bash completion offers the inventory's host and group names after `--limit`
/// and `--host`, read from the `-i` on the line being completed (and flags as before).
#[test]
fn bash_completion_offers_host_and_group_names_from_the_inventory() {
    let test = Test::new().file("inv.yml", LAB);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/drover.bash");
    let bin = Path::new(env!("CARGO_BIN_EXE_drover"));
    let complete = |line: &str| {
        let words: Vec<&str> = line.split(' ').collect();
        let program = format!(
            "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE='{line}'\nCOMP_POINT=${{#COMP_LINE}}\n_drover_with_names drover\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
            script.display(),
            words
                .iter()
                .map(|w| format!("'{w}'"))
                .collect::<Vec<_>>()
                .join(" "),
            words.len() - 1,
        );
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(program)
            .current_dir(test.path())
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin.parent().unwrap().display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("XDG_CONFIG_HOME", test.path())
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        complete("drover run p.yml -i inv.yml --limit lab-r"),
        ["lab-r1", "lab-r2", "lab-r3"]
    );
    assert_eq!(
        complete("drover inventory -i inv.yml --host lab-e"),
        ["lab-e1", "lab-e2", "lab-e3"]
    );
    assert_eq!(complete("drover exec -i inv.yml -l co"), ["core"]);
    // Anything else is clap's: the flags of `run`.
    assert!(complete("drover run p.yml --lim").contains(&"--limit".to_string()));
}
