//! MQTT benchmark: the real `drover` binary against a real mosquitto and the test suite's node
//! simulator (in this process). Shared mode: N nodes, one request/response each, concurrency
//! 100, through one broker client. Per-node mode: N connections, one per node, each with one
//! request/response. Prints wall time and drover's peak RSS.
//!
//! `cargo bench --bench mqtt` (1000 nodes) or `cargo bench --bench mqtt -- 5000`.

#[allow(dead_code)]
mod measure;
#[allow(dead_code)]
#[path = "../tests/support/mosquitto.rs"]
mod mosquitto;
#[allow(dead_code)]
#[path = "../tests/support/net.rs"]
mod net;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use mosquitto::{Behaviour, Mosquitto, Simulator};

const PLAYBOOK: &str = r#"
- hosts: all
  batch_size: 0
  concurrency: 100
  rate: RATE
  burst: BURST
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

/// Peak RSS is read from `/proc/<pid>/status` (`VmHWM`) while drover runs, every 2 ms.
/// Not `wait4`'s `ru_maxrss`: Linux carries the parent's RSS across `vfork` + `exec` into
/// the child's figure, so it would report this benchmark's own size (the simulator's).
fn run(dir: &Path) -> Measure {
    let mut command = Command::new(env!("CARGO_BIN_EXE_drover"));
    command
        .args([
            "run",
            "p.yml",
            "-i",
            "inv.yml",
            "--report",
            "report.json",
            "--quiet",
        ])
        .current_dir(dir);
    let (wall, _, max_rss_kib, _) = measure::measure(command);
    let wall_ms = wall.as_millis();
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
        max_rss_kib,
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
    // Shared-mode nodes join one client and spend no rate-limit token; per-node mode opens a
    // connection per node, paced by `rate` (at 100/s, 1000 connections take at least 9.99 s).
    let scenarios = [
        ("shared", "", "20/s", "1"),
        (
            "per_node, rate 100/s",
            "  mqtt_mode: per_node\n",
            "100/s",
            "1",
        ),
        (
            "per_node, unpaced",
            "  mqtt_mode: per_node\n",
            "1000/ms",
            "100000",
        ),
    ];
    for (mode, extra, rate, burst) in scenarios {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut inv = format!(
            "defaults:\n  transport: mqtt\n  mqtt_url: {}\n{extra}hosts:\n",
            broker.url()
        );
        for i in 1..=n {
            inv.push_str(&format!("  b{i}: {{}}\n"));
        }
        std::fs::write(dir.path().join("inv.yml"), inv).expect("write inventory");
        let playbook = PLAYBOOK.replace("RATE", rate).replace("BURST", burst);
        std::fs::write(dir.path().join("p.yml"), playbook).expect("write playbook");
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
