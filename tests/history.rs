//! Audits over time: the run history, drift between runs, retrying the failed hosts, and
//! shards merged into one run's report. Runs use the local transport (and an SSH address
//! nobody listens on, for an unreachable host) and each test's own state directory.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::net;

/// A directory several drover invocations share, with its own state directory.
struct Dir {
    tmp: tempfile::TempDir,
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    #[track_caller]
    fn code(self, expected: i32) -> Out {
        assert_eq!(
            self.code, expected,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// The id the run printed at its end.
    fn run_id(&self) -> String {
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix("run id: "))
            .unwrap_or_else(|| panic!("no run id printed:\n{}", self.stdout))
            .to_string()
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).expect("stdout is JSON")
    }
}

impl Dir {
    fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self) -> &Path {
        self.tmp.path()
    }

    fn file(&self, name: &str, contents: &str) -> &Dir {
        std::fs::write(self.path().join(name), contents).expect("write");
        self
    }

    fn state(&self) -> PathBuf {
        self.path().join(".state")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_drover"));
        cmd.args(args)
            .current_dir(self.path())
            .env("NO_COLOR", "1")
            .env("XDG_STATE_HOME", self.state())
            .stdin(Stdio::null());
        cmd
    }

    fn drover(&self, args: &[&str]) -> Out {
        let out = self.command(args).output().expect("run drover");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn json(&self, name: &str) -> Value {
        let text = std::fs::read_to_string(self.path().join(name)).expect("report written");
        serde_json::from_str(&text).expect("report is JSON")
    }

    fn runs_dir(&self) -> PathBuf {
        self.state().join("drover/runs")
    }
}

fn local_hosts(names: &[&str]) -> String {
    let mut inv = String::from("defaults: { transport: local }\nhosts:\n");
    for n in names {
        inv.push_str(&format!("  {n}: {{}}\n"));
    }
    inv
}

const ECHO: &str = "- hosts: all\n  tasks:\n    - name: version\n      command: echo {{ inventory_hostname }} {{ version | default('v1') }}\n";

fn host_names(report: &Value) -> Vec<String> {
    report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn three_runs_are_recorded_and_listed() {
    let d = Dir::new();
    d.file("inv.yml", &local_hosts(&["r1", "r2", "r3"]))
        .file("p.yml", ECHO)
        .file("q.yml", ECHO);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let out = d
            .drover(&[
                "run",
                "p.yml",
                "-i",
                "inv.yml",
                "-e",
                "api_token=sekrit",
                "--report",
                "report.json",
            ])
            .code(0);
        ids.push(out.run_id());
    }
    let other = d
        .drover(&["run", "q.yml", "-i", "inv.yml"])
        .code(0)
        .run_id();
    let report = d.json("report.json");
    assert_eq!(report["run"]["run_id"], ids[2].as_str());
    for field in ["user", "hostname", "inventory_digest", "playbook_digest"] {
        assert!(
            !report["run"][field].as_str().unwrap().is_empty(),
            "{field}"
        );
    }
    let argv = report["run"]["argv"].to_string();
    assert!(argv.contains("api_token=********"), "{argv}");
    assert!(!argv.contains("sekrit"), "{argv}");

    let listed = d.drover(&["history", "--json"]).code(0).json();
    let listed_ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    expected.push(&other);
    assert_eq!(listed_ids, expected, "oldest first, as they ran");
    assert_eq!(listed[0]["counts"]["ok"], 3);
    assert_eq!(listed[0]["exit_code"], 0);

    let only_p = d
        .drover(&["history", "--json", "--playbook", "p.yml"])
        .json();
    assert_eq!(only_p.as_array().unwrap().len(), 3);
    let none = d.drover(&["history", "--json", "--until", "1h"]).json();
    assert_eq!(none.as_array().unwrap().len(), 0);
    let table = d.drover(&["history", "--since", "1h"]).code(0).stdout;
    for id in &ids {
        assert!(table.contains(id.as_str()), "{table}");
    }
    assert!(table.contains("q.yml"), "{table}");
}

#[test]
fn report_show_prints_the_summary_as_the_run_did() {
    let d = Dir::new();
    d.file("inv.yml", &local_hosts(&["r1", "r2"]))
        .file("p.yml", ECHO);
    let run = d.drover(&["run", "p.yml", "-i", "inv.yml"]).code(0);
    let id = run.run_id();
    let shown = d.drover(&["report", "show", "last"]).code(0);
    assert_eq!(shown.stdout, run.stdout);
    let by_id = d.drover(&["report", "show", &id[..15]]).code(0);
    assert_eq!(by_id.stdout, run.stdout);
    d.drover(&["report", "show", "20000101T"])
        .code(1)
        .stderr
        .contains("drover history")
        .then_some(())
        .expect("names the way to list runs");
}

#[test]
fn no_history_records_nothing() {
    let d = Dir::new();
    d.file("inv.yml", &local_hosts(&["r1"])).file("p.yml", ECHO);
    d.drover(&["run", "p.yml", "-i", "inv.yml", "--no-history"])
        .code(0);
    assert!(!d.runs_dir().exists());
}

#[test]
fn retention_prunes_the_oldest_under_two_concurrent_processes() {
    let d = Dir::new();
    d.file("inv.yml", &local_hosts(&["r1", "r2"]))
        .file("p.yml", ECHO);
    let runs_per_process = 6;
    let ids: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    (0..runs_per_process)
                        .map(|_| {
                            d.drover(&["run", "p.yml", "-i", "inv.yml", "--keep-runs", "4"])
                                .code(0)
                                .run_id()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect()
    });
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        12,
        "ids are unique"
    );
    let mut newest: Vec<String> = ids.clone();
    newest.sort();
    let newest = newest.split_off(8);

    let listed = d.drover(&["history", "--json"]).code(0).json();
    let listed: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, newest);
    // Nothing half-written, nothing left behind (not even the lock): the index and exactly
    // its four reports.
    let mut files: Vec<String> = std::fs::read_dir(d.runs_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut expected: Vec<String> = newest.iter().map(|id| format!("{id}.json.gz")).collect();
    expected.push("index.jsonl".to_string());
    expected.sort();
    assert_eq!(files, expected);
    let index = std::fs::read_to_string(d.runs_dir().join("index.jsonl")).unwrap();
    assert_eq!(index.lines().count(), 4);
    for id in &newest {
        let report = d.drover(&["report", "show", id, "--json"]).code(0).json();
        assert_eq!(report["run"]["run_id"], id.as_str());
        assert_eq!(report["counts"]["ok"], 2);
    }
}

#[test]
fn drift_shows_changed_output_an_unreachable_host_and_hosts_that_came_and_went() {
    let d = Dir::new();
    d.file("p.yml", ECHO)
        .file("inv.yml", &local_hosts(&["r1", "r2", "r3", "r5"]));
    d.drover(&["run", "p.yml", "-i", "inv.yml", "--retries", "0"])
        .code(0);
    let second = format!(
        "defaults: {{ transport: local }}\nhosts:\n  r1: {{ vars: {{ version: v2 }} }}\n  \
         r2: {{ transport: ssh, address: {}, port: {} }}\n  r3: {{}}\n  r4: {{}}\n",
        net::host(),
        net::free_port()
    );
    d.file("inv.yml", &second);
    d.drover(&["run", "p.yml", "-i", "inv.yml", "--retries", "0"])
        .code(2);

    let text = d
        .drover(&["report", "diff", "last~1", "last"])
        .code(2)
        .stdout;
    assert!(text.contains("4 of 5 hosts changed"), "{text}");
    assert!(text.contains("-r1 v1\n"), "{text}");
    assert!(text.contains("+r1 v2\n"), "{text}");
    assert!(
        text.contains("status ok → unreachable (unreachable)"),
        "{text}"
    );
    assert!(text.contains("appeared (ok)"), "{text}");
    assert!(text.contains("vanished (was ok)"), "{text}");

    let drift = d
        .drover(&["report", "diff", "last~1", "last", "--json"])
        .code(2)
        .json();
    assert_eq!(drift["drift"], true);
    let by_host: BTreeMap<String, Value> = drift["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| {
            g["hosts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| (h.as_str().unwrap().to_string(), g["changes"].clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        by_host.keys().collect::<Vec<_>>(),
        ["r1", "r2", "r4", "r5"],
        "r3 did not change"
    );
    assert_eq!(by_host["r1"][0]["change"], "stdout");
    assert_eq!(by_host["r1"][0]["task"], "version");
    assert_eq!(
        by_host["r2"][0],
        serde_json::json!({"change": "status", "from": "ok", "to": "unreachable", "error": "unreachable"})
    );
    assert_eq!(by_host["r2"].as_array().unwrap().len(), 1, "no task noise");
    assert_eq!(
        by_host["r4"][0],
        serde_json::json!({"change": "appeared", "status": "ok"})
    );
    assert_eq!(
        by_host["r5"][0],
        serde_json::json!({"change": "vanished", "status": "ok"})
    );
}

#[test]
fn identical_runs_have_no_drift() {
    let d = Dir::new();
    d.file("p.yml", ECHO)
        .file("inv.yml", &local_hosts(&["r1", "r2", "r3"]));
    let first = d
        .drover(&["run", "p.yml", "-i", "inv.yml", "--report", "a.json"])
        .code(0);
    let again = d
        .drover(&["run", "p.yml", "-i", "inv.yml", "--diff-against", "last"])
        .code(0);
    assert!(
        again.stdout.contains(&format!(
            "no drift from {} to {}",
            first.run_id(),
            again.run_id()
        )),
        "{}",
        again.stdout
    );
    let out = d.drover(&["report", "diff", "a.json", "last"]).code(0);
    assert!(out.stdout.starts_with("no drift"), "{}", out.stdout);
    let json = d
        .drover(&["report", "diff", "last~1", "last", "--json"])
        .code(0)
        .json();
    assert_eq!(json["drift"], false);
    assert_eq!(json["hosts"], 3);
}

#[test]
fn retry_failed_last_runs_exactly_the_failed_hosts() {
    let d = Dir::new();
    let failing = "- hosts: all\n  tasks:\n    - command: test {{ inventory_hostname }} != r2 -a {{ inventory_hostname }} != r4\n";
    d.file("p.yml", failing)
        .file("inv.yml", &local_hosts(&["r1", "r2", "r3", "r4", "r5"]));
    let first = d
        .drover(&["run", "p.yml", "-i", "inv.yml", "--report", "first.json"])
        .code(2);
    // Another playbook's run in between: `last` means the last run of this playbook.
    d.file("other.yml", ECHO);
    d.drover(&["run", "other.yml", "-i", "inv.yml"]).code(0);

    d.drover(&[
        "run",
        "p.yml",
        "-i",
        "inv.yml",
        "--retry-failed",
        "last",
        "--report",
        "retry.json",
    ])
    .code(2);
    let retry = d.json("retry.json");
    assert_eq!(host_names(&retry), ["r2", "r4"]);
    assert_eq!(retry["run"]["retry_of"], first.run_id().as_str());

    d.drover(&[
        "run",
        "p.yml",
        "-i",
        "inv.yml",
        "--retry-failed",
        "first.json",
        "--report",
        "again.json",
    ])
    .code(2);
    assert_eq!(host_names(&d.json("again.json")), ["r2", "r4"]);

    // Nothing failed: nothing to retry, and that is not an error.
    d.file("p.yml", ECHO);
    d.drover(&["run", "p.yml", "-i", "inv.yml", "--report", "ok.json"])
        .code(0);
    d.drover(&[
        "run",
        "p.yml",
        "-i",
        "inv.yml",
        "--retry-failed",
        "ok.json",
        "--report",
        "none.json",
    ])
    .code(0);
    assert_eq!(host_names(&d.json("none.json")).len(), 0);
}

#[test]
fn limit_from_a_file_one_host_a_line() {
    let d = Dir::new();
    d.file("p.yml", ECHO)
        .file("inv.yml", &local_hosts(&["r1", "r2", "r3", "r4"]))
        .file("hosts.txt", "r1\n# not this one: r2\n\nr3\n");
    d.drover(&[
        "run",
        "p.yml",
        "-i",
        "inv.yml",
        "--limit",
        "@hosts.txt",
        "--report",
        "r.json",
    ])
    .code(0);
    assert_eq!(host_names(&d.json("r.json")), ["r1", "r3"]);
    let missing = d
        .drover(&["run", "p.yml", "-i", "inv.yml", "--limit", "@nope.txt"])
        .code(1);
    assert!(missing.stderr.contains("nope.txt"), "{}", missing.stderr);
}

#[test]
fn an_input_error_leaves_a_report_saying_why_instead_of_the_old_one() {
    let d = Dir::new();
    d.file("p.yml", ECHO).file("inv.yml", &local_hosts(&["r1"]));
    let ok = d
        .drover(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"])
        .code(0)
        .run_id();
    assert_eq!(d.json("report.json")["counts"]["ok"], 1);
    d.file(
        "p.yml",
        "- hosts: all\n  tasks:\n    - command: echo {{ nope }\n",
    );
    let out = d
        .drover(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"])
        .code(1);
    let report = d.json("report.json");
    assert_eq!(report["run"]["exit_code"], 1);
    assert_eq!(report["hosts"].as_array().unwrap().len(), 0);
    let why = report["run"]["error"].as_str().expect("says why");
    assert!(out.stderr.contains(why.lines().next().unwrap()), "{why}");
    let listed = d.drover(&["history", "--json"]).json();
    assert_eq!(listed[1]["exit_code"], 1);
    assert_eq!(listed[1]["error"].as_str(), Some(why));
    // Within a run, `last` skips the run that never ran.
    d.file("p.yml", ECHO);
    let again = d
        .drover(&["run", "p.yml", "-i", "inv.yml", "--diff-against", "last"])
        .code(0);
    assert!(
        again.stdout.contains(&format!("no drift from {ok} ")),
        "{}",
        again.stdout
    );
}

fn hundred_hosts(reversed: bool) -> String {
    let mut names: Vec<String> = (1..=100).map(|i| format!("h{i:03}")).collect();
    if reversed {
        names.reverse();
    }
    local_hosts(&names.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Every 7th host fails, so the merged statuses and exit code have something to get right.
const SHARDED: &str = "- hosts: all\n  batch_size: 0\n  concurrency: 20\n  tasks:\n    - name: hello\n      command: echo hello from {{ inventory_hostname }}\n    - name: sevens\n      command: test $(( {{ inventory_hostname[1:] | int }} % 7 )) -ne 0\n";

/// (status, per task (name, status, stdout, exit code)) per host.
type Outcomes = BTreeMap<String, (Value, Vec<(Value, Value, Value, Value)>)>;

fn outcomes(report: &Value) -> Outcomes {
    report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let tasks = h["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    (
                        t["name"].clone(),
                        t["status"].clone(),
                        t["stdout"].clone(),
                        t["exit_code"].clone(),
                    )
                })
                .collect();
            (
                h["name"].as_str().unwrap().to_string(),
                (h["status"].clone(), tasks),
            )
        })
        .collect()
}

#[test]
fn four_shards_merged_equal_one_run() {
    let d = Dir::new();
    d.file("p.yml", SHARDED)
        .file("inv.yml", &hundred_hosts(false));
    d.drover(&[
        "run",
        "p.yml",
        "-i",
        "inv.yml",
        "--no-history",
        "--report",
        "all.json",
        "--junit",
        "all.xml",
    ])
    .code(2);
    let mut shard_files = Vec::new();
    let mut seen = BTreeSet::new();
    for k in 1..=4 {
        let name = format!("s{k}.json");
        let shard = format!("{k}/4");
        let out = d.drover(&[
            "run", "p.yml", "-i", "inv.yml", "--shard", &shard, "--report", &name,
        ]);
        assert!(out.code == 0 || out.code == 2, "{}", out.stderr);
        let names = host_names(&d.json(&name));
        assert!(
            (10..=40).contains(&names.len()),
            "shard {k}: {} hosts",
            names.len()
        );
        for n in names {
            assert!(seen.insert(n), "a host in two shards");
        }
        shard_files.push(name);
    }
    assert_eq!(seen.len(), 100);

    let mut args = vec!["report", "merge"];
    // Given in any order.
    args.extend(shard_files.iter().rev().map(String::as_str));
    args.extend(["--report", "merged.json", "--junit", "merged.xml"]);
    d.drover(&args).code(2);
    let (all, merged) = (d.json("all.json"), d.json("merged.json"));
    assert_eq!(outcomes(&merged), outcomes(&all));
    assert_eq!(merged["counts"], all["counts"]);
    assert_eq!(merged["run"]["exit_code"], all["run"]["exit_code"]);
    assert_eq!(merged["run"]["merged_from"].as_array().unwrap().len(), 4);
    assert_eq!(merged["plays"][0]["tasks"], all["plays"][0]["tasks"]);
    let cases = |file: &str| {
        let xml = std::fs::read_to_string(d.path().join(file)).unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let mut cases: Vec<(String, String, bool)> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .map(|n| {
                (
                    n.attribute("classname").unwrap_or_default().to_string(),
                    n.attribute("name").unwrap_or_default().to_string(),
                    n.children().any(|c| c.has_tag_name("failure")),
                )
            })
            .collect();
        cases.sort();
        cases
    };
    assert_eq!(cases("merged.xml"), cases("all.xml"));

    // The shard a host lands in does not depend on the inventory's order.
    d.file("reversed.yml", &hundred_hosts(true));
    d.drover(&[
        "run",
        "p.yml",
        "-i",
        "reversed.yml",
        "--shard",
        "2/4",
        "--report",
        "r2.json",
    ]);
    let mut a = host_names(&d.json("r2.json"));
    let mut b = host_names(&d.json("s2.json"));
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn merged_shards_add_up_their_mqtt_counters() {
    let d = Dir::new();
    d.file("p.yml", ECHO)
        .file("inv.yml", &local_hosts(&["r1", "r2", "r3", "r4"]));
    for (k, connections) in [(1, 3), (2, 4)] {
        let name = format!("s{k}.json");
        let shard = format!("{k}/2");
        d.drover(&[
            "run", "p.yml", "-i", "inv.yml", "--shard", &shard, "--report", &name,
        ])
        .code(0);
        // What a shard of MQTT nodes reports beside its hosts.
        let mut report = d.json(&name);
        report["mqtt"] = serde_json::json!({
            "connections": connections, "late_replies": 1, "unmatched_replies": 0, "reconnects": k
        });
        d.file(&name, &report.to_string());
    }
    d.drover(&[
        "report", "merge", "s1.json", "s2.json", "--report", "m.json",
    ])
    .code(0);
    assert_eq!(
        d.json("m.json")["mqtt"],
        serde_json::json!({
            "connections": 7, "late_replies": 2, "unmatched_replies": 0, "reconnects": 3
        })
    );
}

#[test]
fn shards_of_different_playbooks_or_incomplete_sets_are_refused() {
    let d = Dir::new();
    d.file("p.yml", ECHO)
        .file(
            "q.yml",
            "- hosts: all\n  tasks:\n    - command: echo other\n",
        )
        .file(
            "inv.yml",
            &local_hosts(&["r1", "r2", "r3", "r4", "r5", "r6"]),
        );
    d.drover(&[
        "run", "p.yml", "-i", "inv.yml", "--shard", "1/2", "--report", "p1.json",
    ])
    .code(0);
    d.drover(&[
        "run", "p.yml", "-i", "inv.yml", "--shard", "2/2", "--report", "p2.json",
    ])
    .code(0);
    d.drover(&[
        "run", "q.yml", "-i", "inv.yml", "--shard", "2/2", "--report", "q2.json",
    ])
    .code(0);
    let refused = d
        .drover(&[
            "report", "merge", "p1.json", "q2.json", "--report", "m.json",
        ])
        .code(1);
    assert!(
        refused
            .stderr
            .contains("shards of different runs: playbook"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("q2.json"), "{}", refused.stderr);
    assert!(!d.path().join("m.json").exists());
    let missing = d.drover(&["report", "merge", "p1.json"]).code(1);
    assert!(
        missing.stderr.contains("shard(s) 2/2 missing"),
        "{}",
        missing.stderr
    );
    let twice = d.drover(&["report", "merge", "p2.json", "p2.json"]).code(1);
    assert!(twice.stderr.contains("both shard 2/2"), "{}", twice.stderr);
    d.drover(&["report", "merge", "p1.json", "p2.json"]).code(0);
    let bad = d
        .drover(&["run", "p.yml", "-i", "inv.yml", "--shard", "3/2"])
        .code(1);
    assert!(bad.stderr.contains("K/N"), "{}", bad.stderr);
}
