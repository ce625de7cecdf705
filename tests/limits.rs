//! Bad or huge input gets a clear, positioned error before it costs memory or time: YAML
//! alias bombs, deep nesting, oversized files, templates rendering huge text; and a run keeps
//! a bounded amount of output whatever the fleet size.

use std::path::Path;
use std::sync::Arc;

use crate::support::fake::FakeTransport;
use crate::support::Test;
use drover::engine::{self, BreakerStore, Clock, Plan, PlanOptions, RunEnv, Shutdown};
use drover::event::EventSink;
use drover::inventory;
use drover::playbook::Playbook;
use drover::report::{ReportBuilder, RunInfo, RUN_OUTPUT_BUDGET};
use drover::transport::Output;

/// Nine levels of nine references each: 9^9 (387 million) values from a kilobyte.
fn alias_bomb() -> String {
    let mut s = String::from("all:\n  vars:\n    a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        s.push_str(&format!("    a{i}: &a{i} [{refs}]\n"));
    }
    s.push_str("  hosts:\n    10.0.0.1:\n");
    s
}

#[test]
fn a_yaml_alias_bomb_in_an_inventory_is_refused_with_its_position() {
    Test::new()
        .file("inv.yml", &alias_bomb())
        .args(&["inventory", "-i", "inv.yml", "--list"])
        .run()
        .code(1)
        .stderr_has("alias bomb")
        .stderr_has("--> inv.yml:");
}

#[test]
fn a_yaml_alias_bomb_in_group_vars_is_refused() {
    let bomb = alias_bomb();
    let vars = bomb
        .lines()
        .filter(|l| l.starts_with("    a"))
        .map(|l| &l[4..])
        .collect::<Vec<_>>()
        .join("\n");
    Test::new()
        .file("hosts", "[web]\n10.0.0.1\n")
        .file("group_vars/web.yml", &vars)
        .args(&["inventory", "-i", "hosts", "--list"])
        .run()
        .code(1)
        .stderr_has("alias bomb")
        .stderr_has("group_vars/web.yml:");
}

#[test]
fn deep_flow_nesting_in_a_playbook_is_refused_at_its_position() {
    let deep = format!("- hosts: all\n  vars:\n    x: {}\n", "[".repeat(400_000));
    Test::new()
        .file("inv.yml", "hosts:\n  10.0.0.1: {transport: local}\n")
        .file("p.yml", &deep)
        .args(&["check", "p.yml", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("nesting deeper than 64 levels")
        .stderr_has("--> p.yml:3:72");
}

#[test]
fn deep_flow_nesting_in_a_json_inventory_is_refused() {
    let deep = format!("{{\"all\": {{\"vars\": {{\"x\": {}", "[".repeat(100_000));
    Test::new()
        .file("inv.json", &deep)
        .args(&["inventory", "-i", "inv.json", "--list"])
        .run()
        .code(1)
        .stderr_has("nesting deeper than 64 levels")
        .stderr_has("--> inv.json:1:");
}

#[test]
fn an_inventory_over_the_size_limit_is_refused() {
    let mut big = String::from("all:\n  hosts:\n    10.0.0.1:\n");
    while big.len() <= drover::yaml_limits::MAX_BYTES {
        big.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    Test::new()
        .file("inv.yml", &big)
        .args(&["inventory", "-i", "inv.yml", "--list"])
        .run()
        .code(1)
        .stderr_has("the most drover reads")
        .stderr_has("--> inv.yml:");
}

#[test]
fn a_template_rendering_a_huge_string_is_refused_before_anything_runs() {
    let play =
        "- hosts: all\n  tasks:\n    - name: huge\n      command: \"echo {{ 'b' * 99999999 }}\"\n";
    let out = Test::new()
        .file("inv.yml", "hosts:\n  10.0.0.1: {transport: local}\n")
        .file("p.yml", play)
        .args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"])
        .run()
        .code(1)
        .stderr_has("task `huge`")
        .stderr_has("a huge string?");
    let report = std::fs::metadata(out.dir.join("report.json")).map_or(0, |m| m.len());
    assert!(report < 100_000, "a {report}-byte report");
}

#[test]
fn a_template_rendering_over_a_mebibyte_is_refused() {
    let play = "- hosts: all\n  tasks:\n    - command: \"echo {{ 'b' * 2000000 }}\"\n";
    Test::new()
        .file("inv.yml", "hosts:\n  10.0.0.1: {transport: local}\n")
        .file("p.yml", play)
        .args(&["check", "p.yml", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("the rendered text is over 1048576 bytes");
}

#[test]
fn a_template_that_loops_without_end_runs_out_of_fuel() {
    let play = "- hosts: all\n  tasks:\n    - command: \"{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}x\"\n";
    Test::new()
        .file("inv.yml", "hosts:\n  10.0.0.1: {transport: local}\n")
        .file("p.yml", play)
        .args(&["check", "p.yml", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("an endless loop");
}

#[tokio::test]
async fn a_fleet_of_chatty_hosts_keeps_at_most_the_runs_output_budget() {
    // 40 hosts × 4 MiB of stdout = 160 MiB produced; the report keeps the budget.
    let hosts: String = (1..=40).map(|i| format!("  10.0.1.{i}: {{}}\n")).collect();
    let inv = inventory::from_yaml(Path::new("inv.yml"), &format!("hosts:\n{hosts}")).unwrap();
    let play = "- hosts: all\n  rate: 1000/s\n  tasks:\n    - command: talk\n";
    let book = Playbook::parse(Path::new("p.yml"), play).unwrap();
    let fake = FakeTransport::new(|_, _| Output {
        exit_code: Some(0),
        stdout: "y".repeat(4 << 20),
        stderr: String::new(),
        lines: Vec::new(),
    });
    let plan = Arc::new(Plan::build(&book, &inv, &PlanOptions::default(), &fake).unwrap());
    let (events, mut rx) = EventSink::new();
    let (_trigger, shutdown) = Shutdown::new();
    let env = RunEnv {
        transports: Arc::new(fake),
        breakers: Arc::new(BreakerStore::in_memory()),
        clock: Clock::new(1_000_000),
    };
    let engine = tokio::spawn(engine::run(plan, env, events, shutdown));
    let mut builder = ReportBuilder::default();
    while let Some(e) = rx.recv().await {
        builder.apply(e);
    }
    engine.await.unwrap();
    let report = builder.build(RunInfo::default());
    let tasks: Vec<_> = report.hosts.iter().flat_map(|h| &h.tasks).collect();
    assert_eq!(tasks.len(), 40);
    let kept: usize = tasks.iter().map(|t| t.stdout.len()).sum();
    assert!(
        kept <= RUN_OUTPUT_BUDGET + 40 * 200,
        "{kept} bytes kept, budget {RUN_OUTPUT_BUDGET}"
    );
    let cut = tasks
        .iter()
        .filter(|t| {
            t.stdout
                .contains("the run's output budget of 64 MiB is spent")
        })
        .count();
    assert!(cut >= 40 - 16, "{cut} outputs say they were cut");
    // The first ones are whole.
    assert!(tasks.iter().filter(|t| t.stdout.len() == 4 << 20).count() >= 15);
}

/// The most memory any child this test process waited for used at once, in MiB (nextest
/// runs each test in a process of its own, so that is the drover the test ran).
fn children_peak_mib() -> i64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) },
        0
    );
    usage.ru_maxrss / 1024
}

#[test]
fn a_big_group_var_on_thousands_of_hosts_is_shared_not_copied_per_host() {
    // A 4,000-line access list in a group of 1,500 hosts. Held per host, it was 700 MB
    // for `check` (and `run`; 1.6 GB with 3,500 hosts); shared, tens of MiB.
    let mut inv =
        String::from("defaults:\n  transport: local\ngroups:\n  core:\n    vars:\n      acl:\n");
    for i in 0..4000 {
        inv.push_str(&format!(
            "        - permit tcp 10.{}.{}.0/24 any eq {}\n",
            i / 250,
            i % 250,
            1000 + i
        ));
    }
    inv.push_str("    hosts:\n");
    for i in 0..1500 {
        inv.push_str(&format!("      - 10.{}.{}.1\n", i / 250, i % 250));
    }
    let out = Test::new()
        .file("inv.yml", &inv)
        .file(
            "p.yml",
            "- hosts: all\n  tasks:\n    - command: \"echo {{ acl | length }} {{ acl[0] }}\"\n",
        )
        .args(&["check", "p.yml", "-i", "inv.yml"])
        .run()
        .code(0)
        .stdout_has("echo 4000 permit tcp 10.0.0.0/24 any eq 1000");
    assert!(
        out.stdout.contains("1500 hosts"),
        "{}",
        out.stdout.chars().take(300).collect::<String>()
    );
    let peak = children_peak_mib();
    assert!(peak < 200, "drover check peaked at {peak} MiB");
}
