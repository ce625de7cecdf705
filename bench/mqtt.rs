//! MQTT benchmark: the real `drover` binary against a real mosquitto and the test suite's node
//! simulator (in this process). Shared mode: N nodes, one request/response each, concurrency
//! 100, through one broker client. Per-node mode: N connections, one per node, each with one
//! request/response. Prints wall time and drover's peak RSS (`ru_maxrss` of the child).
//!
//! `cargo bench --bench mqtt` (1000 nodes) or `cargo bench --bench mqtt -- 5000`.

#[allow(dead_code)]
#[path = "../tests/support/mosquitto.rs"]
mod mosquitto;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use mosquitto::{Behaviour, Mosquitto, Simulator};

const PLAYBOOK: &str = r#"
- hosts: all
  batch_size: 0
  concurrency: 100
  tasks:
    - name: ask
      mqtt:
        topic: "node/{{ node_id }}/to-node"
        payload: { cmd: uptime }
        reply:
          topic: "node/{{ node_id }}/from-node"
          status_field: status
          timeout: 10s
"#;

struct Measure {
    wall_ms: u128,
    max_rss_kib: i64,
    ok: u64,
    connections: u64,
    errors: std::collections::BTreeMap<String, (u64, String)>,
}

// The child is reaped by `wait4`, which also gives its peak RSS; clippy cannot see that.
#[allow(clippy::zombie_processes)]
fn run(dir: &Path) -> Measure {
    let start = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_drover"))
        .args([
            "run",
            "p.yml",
            "-i",
            "inv.yml",
            "--report",
            "report.json",
            "--quiet",
        ])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("run drover");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for the child we spawned; `child` is not waited on elsewhere.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4");
    let wall_ms = start.elapsed().as_millis();
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("report.json")).expect("report written"),
    )
    .expect("report is JSON");
    let mut errors = std::collections::BTreeMap::new();
    for h in report["hosts"].as_array().into_iter().flatten() {
        if let Some(kind) = h["error"]["kind"].as_str() {
            let e = errors
                .entry(kind.to_string())
                .or_insert((0, h["error"]["message"].as_str().unwrap_or("").to_string()));
            e.0 += 1;
        }
    }
    Measure {
        errors,
        wall_ms,
        max_rss_kib: usage.ru_maxrss,
        ok: report["counts"]["ok"].as_u64().unwrap_or(0),
        connections: report["mqtt"]["connections"].as_u64().unwrap_or(0),
    }
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    let broker = Mosquitto::start();
    let sim = Simulator::start(broker.port, Arc::new(|_| Behaviour::Ok));
    println!("{n} nodes, one request/response each, concurrency 100\n");
    println!("| mode | wall | drover peak RSS | ok | broker connections |");
    println!("| --- | --- | --- | --- | --- |");
    for (mode, extra) in [("shared", ""), ("per_node", "  mqtt_mode: per_node\n")] {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut inv = format!(
            "defaults:\n  transport: mqtt\n  mqtt_url: {}\n{extra}hosts:\n",
            broker.url()
        );
        for i in 1..=n {
            inv.push_str(&format!("  b{i}: {{}}\n"));
        }
        std::fs::write(dir.path().join("inv.yml"), inv).expect("write inventory");
        std::fs::write(dir.path().join("p.yml"), PLAYBOOK).expect("write playbook");
        let m = run(dir.path());
        println!(
            "| {mode} | {} ms | {:.1} MiB | {} | {} |",
            m.wall_ms,
            m.max_rss_kib as f64 / 1024.0,
            m.ok,
            m.connections
        );
        for (kind, (count, example)) in &m.errors {
            println!("|   {count} × {kind} | {example} | | | |");
        }
    }
    println!("\nrequests the simulator answered: {}", sim.total());
}
