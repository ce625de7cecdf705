//! Watch benchmark: 1000 MQTT nodes (shared mode, three subscribed topics each, under the
//! 300 cap) at NORMAL, checked by an MQTT request and reply on the in-process fake
//! transport, on tokio's paused clock. The first minute is the start (every node checked at
//! once); the second minute is the steady state this measures: checks per second of watch
//! time, and the CPU the whole watch took for it (scheduler, connector, rendering, events,
//! the ledger and every event serialized as `--events` would), as a share of one core over
//! those 60 s. Also the process's RSS. The fake answers at once, so the network's own cost
//! (the broker client, TLS) is not in it.
//!
//! Run: `cargo bench --bench watch` (add `-- NODES` to change the fleet size).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use drover::engine::{BreakerStore, Clock, Plan, PlanOptions, RunEnv, Shutdown};
use drover::inventory;
use drover::playbook::Playbook;
use drover::watch::{self, WatchSink};
// The test suite's fake; the benchmark uses only part of it.
#[allow(dead_code)]
#[path = "../tests/support/fake.rs"]
mod fake;

use fake::FakeTransport;

const PLAYBOOK: &str = r#"
- name: health
  hosts: all
  concurrency: 50
  watch:
    calm_after: { normal: 0 }
    subscribe:
      - "node/{{ node_id }}/params/remote"
      - "node/{{ node_id }}/otaurl"
      - "node/{{ node_id }}/to-node"
  tasks:
    - name: ping
      mqtt:
        topic: "node/{{ node_id }}/to-node"
        payload: { cmd: ping, correlation_id: "{{ correlation_id }}" }
        reply:
          topic: "node/{{ node_id }}/from-node"
          correlation: payload
          field: correlation_id
          status_field: status
          timeout: 5s
"#;

fn inventory_text(nodes: usize) -> String {
    let mut text = String::from(
        "defaults:\n  transport: mqtt\n  mqtt_url: mqtt://127.0.0.1:1883\n  mqtt_version: \"3.1.1\"\nhosts:\n",
    );
    for n in 0..nodes {
        text.push_str(&format!(
            "  node{n:04}: {{ vars: {{ node_id: node{n:04} }} }}\n"
        ));
    }
    text
}

fn cpu() -> Duration {
    // SAFETY: getrusage fills the struct it is given and nothing else.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn rss_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// Counts what `--events` would write.
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

async fn once(nodes: usize) {
    let inv = inventory::from_yaml(Path::new("bench.yml"), &inventory_text(nodes)).expect("inv");
    let book = Playbook::parse(Path::new("health.yml"), PLAYBOOK).expect("playbook");
    let keys = book.plays[0].watch.clone().unwrap_or_default();
    let fake = FakeTransport::new(|host, _| drover::transport::Output {
        exit_code: Some(0),
        stdout: format!("{{\"node\":\"{host}\",\"status\":\"ok\"}}"),
        stderr: String::new(),
        lines: Vec::new(),
    });
    let plan = Plan::build(&book, &inv, &PlanOptions::default(), &fake).expect("plan");
    drop(inv);
    let clock = Clock::new(1_700_000_000_000);
    let (setup, mut ledger) =
        watch::command::prepare(&plan, &keys, BTreeMap::new(), clock.now_ms()).expect("setup");
    let env = RunEnv {
        transports: Arc::new(fake),
        breakers: Arc::new(BreakerStore::in_memory()),
        clock,
    };
    let (sink, mut rx) = WatchSink::new();
    let (trigger, shutdown) = Shutdown::new();
    let marks: Arc<Mutex<Vec<(Duration, f64)>>> = Arc::default();
    let m = marks.clone();
    tokio::spawn(async move {
        // The start minute, then the steady-state minute.
        tokio::time::sleep(Duration::from_millis(59_500)).await;
        m.lock().unwrap().push((cpu(), rss_mib("VmRSS:")));
        tokio::time::sleep(Duration::from_secs(60)).await;
        m.lock().unwrap().push((cpu(), rss_mib("VmRSS:")));
        trigger.fire();
    });
    let watcher = tokio::spawn(watch::watch(Arc::new(plan), setup, env, sink, shutdown));
    let mut out = ByteCount(0);
    let mut checks_at_mark = None;
    while let Some(e) = rx.recv().await {
        if checks_at_mark.is_none() && !marks.lock().unwrap().is_empty() {
            checks_at_mark = Some(ledger.checks);
        }
        serde_json::to_writer(&mut out, &e).expect("json");
        ledger.apply(&e);
    }
    watcher.await.expect("watch");
    let metrics = watch::metrics::text(&ledger);
    let marks = marks.lock().unwrap().clone();
    let [(cpu0, _), (cpu1, rss1)] = marks[..] else {
        panic!("no marks")
    };
    let steady = ledger.checks - checks_at_mark.unwrap_or(0);
    let cpu_ms = (cpu1 - cpu0).as_secs_f64() * 1e3;
    println!(
        "watch nodes={nodes} steady-minute checks={steady} ({:.2}/s) cpu={cpu_ms:.0} ms ({:.3}% of one core over 60 s) rss={rss1:.1} MiB peak_rss={:.1} MiB events={:.1} KiB metrics={} B",
        steady as f64 / 60.0,
        cpu_ms / 60_000.0 * 100.0,
        rss_mib("VmHWM:"),
        out.0 as f64 / 1024.0,
        metrics.len(),
    );
}

fn main() {
    let nodes: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime");
    runtime.block_on(once(nodes));
}
