//! Engine benchmark: 10,000 hosts × 3 tasks on the in-process fake transport — inventory
//! parsed, plan built (vars resolved, templates compiled), every command rendered, scheduled,
//! events folded into the report and the report serialized. Prints wall time per phase and
//! the process's peak RSS.
//!
//! Run: `cargo bench --bench engine` (add `-- HOSTS` to change the fleet size).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use drover::engine::{self, Plan, PlanOptions, RunEnv, Shutdown};
use drover::event::EventSink;
use drover::inventory;
use drover::playbook::Playbook;
use drover::report::{ReportBuilder, RunInfo};
use drover::settings::Overrides;
// The test suite's fake; the benchmark uses only part of it.
#[allow(dead_code)]
#[path = "../tests/support/fake.rs"]
mod fake;

use fake::FakeTransport;

const PLAYBOOK: &str = r#"
- name: bench
  hosts: all
  tasks:
    - name: version
      command: show version | include {{ inventory_hostname }}
      register: ver
    - name: interfaces
      command: show interfaces {{ uplink | quote }} description
      expect: { stdout_contains: "{{ uplink }}" }
    - name: site
      command: echo {{ site }} {{ ver.rc }}
      when: ver.rc == 0
"#;

fn inventory_text(hosts: usize) -> String {
    let mut text = String::from("defaults: { site: fra1, uplink: Gi0/0 }\ngroups:\n");
    for g in 0..10 {
        text.push_str(&format!("  g{g}: {{ vars: {{ region: r{g} }}, hosts: ["));
        let members: Vec<String> = (0..hosts)
            .filter(|h| h % 10 == g)
            .map(|h| format!("r{h:05}"))
            .collect();
        text.push_str(&members.join(", "));
        text.push_str("] }\n");
    }
    text.push_str("hosts:\n");
    for h in 0..hosts {
        text.push_str(&format!(
            "  r{h:05}: {{ address: 10.{}.{}.{}, vars: {{ loopback: 10.255.{}.{} }} }}\n",
            h / 65536,
            (h / 256) % 256,
            h % 256,
            (h / 256) % 256,
            h % 256
        ));
    }
    text
}

/// Counts what would be written to the report file, as the real writer streams it.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

async fn once(hosts: usize, overrides: Overrides, label: &str) {
    let t0 = Instant::now();
    let inv =
        inventory::from_yaml(Path::new("bench.yml"), &inventory_text(hosts)).expect("inventory");
    let book = Playbook::parse(Path::new("bench-playbook.yml"), PLAYBOOK).expect("playbook");
    let t_load = t0.elapsed();
    // The engine's own cost: no connection pacing (the limiter has its own exact tests).
    let unpaced = Overrides {
        rate: Some("1000/ms".parse().expect("rate")),
        burst: Some(u32::MAX),
        ..overrides
    };
    let options = PlanOptions {
        overrides: unpaced,
        ..PlanOptions::default()
    };
    let plan =
        Arc::new(Plan::build(&book, &inv, &options, &FakeTransport::default()).expect("plan"));
    // As `drover run` does: the plan holds what the run needs, the parsed inventory goes.
    drop(inv);
    let t_plan = t0.elapsed();
    drover::check::check(&plan).expect("preflight render");
    let t_check = t0.elapsed();
    let fake = FakeTransport::new(|host, cmd| drover::transport::Output {
        exit_code: Some(0),
        stdout: format!("{host}: {cmd} Gi0/0\n"),
        stderr: String::new(),
        lines: Vec::new(),
    });
    let (events, mut rx) = EventSink::new();
    let (_trigger, shutdown) = Shutdown::new();
    let run = tokio::spawn(engine::run(
        plan.clone(),
        RunEnv::new(fake),
        events,
        shutdown,
    ));
    let mut builder = ReportBuilder::default();
    let mut count = 0usize;
    while let Some(e) = rx.recv().await {
        builder.apply(e);
        count += 1;
    }
    run.await.expect("engine");
    let t_run = t0.elapsed();
    let report = builder.build(RunInfo::default());
    let mut json = ByteCount(0);
    serde_json::to_writer_pretty(&mut json, &report).expect("json");
    let t_total = t0.elapsed();
    assert_eq!(
        report.counts.get(&drover::outcome::HostStatus::Ok).copied(),
        Some(hosts)
    );
    println!(
        "{label:<34} hosts={hosts} events={count} load={:>4} ms plan={:>4} ms preflight={:>4} ms run+events={:>5} ms report={:>4} ms ({:.1} MiB JSON) total={:>5} ms peak_rss={:.1} MiB",
        t_load.as_millis(),
        (t_plan - t_load).as_millis(),
        (t_check - t_plan).as_millis(),
        (t_run - t_check).as_millis(),
        (t_total - t_run).as_millis(),
        json.0 as f64 / 1048576.0,
        t_total.as_millis(),
        peak_rss_mib(),
    );
}

const SCENARIOS: [&str; 3] = ["defaults", "batch100", "onebatch"];

/// Each scenario runs in its own process, so each peak RSS is its own.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let hosts: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(10_000);
    let Some(scenario) = args.iter().find(|a| SCENARIOS.contains(&a.as_str())) else {
        let exe = std::env::current_exe().expect("own path");
        for s in SCENARIOS {
            let status = std::process::Command::new(&exe)
                .arg(s)
                .arg(hosts.to_string())
                .status();
            assert!(status.is_ok_and(|s| s.success()), "scenario {s} failed");
        }
        return;
    };
    let (overrides, label) = match scenario.as_str() {
        "batch100" => (
            Overrides {
                batch_size: Some(100),
                concurrency: Some(100),
                ..Overrides::default()
            },
            "batched, batch 100, concurrency 100",
        ),
        "onebatch" => (
            Overrides {
                batch_size: Some(0),
                concurrency: Some(1000),
                ..Overrides::default()
            },
            "one batch, concurrency 1000",
        ),
        _ => (Overrides::default(), "defaults (batch 10, concurrency 10)"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(once(hosts, overrides, label));
}
