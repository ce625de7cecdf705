//! HTML report benchmark: the page for 1,000 hosts × 5 tasks, written in-process (the
//! library's `page` and the atomic write) and by the release binary (`drover report html
//! FILE -o page.html`: read and parse the JSON report, build the page, write it). Prints the
//! median, min and max of 5 runs of each and the page's size, plain and gzipped (as a mail
//! attachment would be compressed in an archive).
//!
//! The report is made here: device-like outputs (a version banner most hosts share, an
//! interface table and a 30-line config excerpt unique per host, a parsed field), 2% of
//! hosts failed, 1% unreachable after a retried connection, batches of 50.
//!
//! Run: `cargo bench --bench html` (add `-- HOSTS` to change the size).

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use drover::report::{counts, html, write_atomic, RunReport};
use serde_json::{json, Value};

fn task(index: usize, name: &str, stdout: String, started: u64, failed: bool) -> Value {
    json!({"index": index, "name": name, "kind": "command", "command": format!("show {name}"),
        "status": if failed { "failed" } else { "ok" }, "exit_code": if failed { 1 } else { 0 },
        "stdout": stdout, "stderr": if failed { "% Invalid input detected at '^' marker.\n" } else { "" },
        "started_ms": started, "duration_ms": 80 + (started % 40),
        "error": if failed { json!({"kind": "nonzero_exit", "message": "exit code 1"}) } else { Value::Null },
        "attempts": 1})
}

fn host(n: usize) -> Value {
    let name = format!("r{n:04}");
    let batch = n / 50 + 1;
    let start = (batch as u64 - 1) * 900 + (n % 50) as u64 * 3;
    let attempt = |i: u32, at: u64, error: bool| {
        json!({"attempt": i, "started_ms": at, "waited_ms": 2, "duration_ms": 40,
            "backoff_ms": if error { 200 } else { 0 }, "probe": false,
            "error": if error { json!({"kind": "connect_timeout", "message": "timed out after 10s"}) } else { Value::Null }})
    };
    if n % 100 == 7 {
        return json!({"name": name, "play": 0, "batch": batch, "address": format!("10.0.{}.{}", n / 250, n % 250),
            "transport": "ssh", "groups": ["edge"], "started_ms": start, "finished_ms": start + 500,
            "status": "unreachable", "error": {"kind": "connect_timeout", "message": "timed out after 10s"},
            "connect_ms": null, "duration_ms": 500, "attempts": 2,
            "connect_attempts": [attempt(1, start, true), attempt(2, start + 260, true)],
            "breaker": {"state": "closed", "failures": 2}, "tasks": []});
    }
    let failed = n % 50 == 3;
    let version = if n % 100 < 90 { "17.3.4" } else { "17.6.1" };
    let mut t = start + 45;
    let mut tasks = Vec::new();
    let mut next = |i: usize, name: &str, out: String, fail: bool| {
        let v = task(i, name, out, t, fail);
        t += 130;
        v
    };
    let mut v = next(
        0,
        "version",
        format!("Cisco IOS XE Software, Version {version}\nuptime is 41 weeks, 2 days\nSystem image file is \"bootflash:packages.conf\"\n"),
        false,
    );
    v["parsed"] = json!({"version": version, "uptime_weeks": 41});
    tasks.push(v);
    tasks.push(next(
        1,
        "interfaces",
        format!("Interface  Status  Protocol  Description\nGi0/0  up  up  uplink\nGi0/1  up  up  core-{name}\nGi0/2  admin down  down\nLo0  up  up  router-id\n"),
        false,
    ));
    let config: String = (0..30)
        .map(|i| {
            format!(
                " ip route 10.{}.{i}.0 255.255.255.0 192.0.2.{}\n",
                n % 200,
                i + 1
            )
        })
        .collect();
    tasks.push(next(
        2,
        "config",
        format!("hostname {name}\n{config}"),
        false,
    ));
    tasks.push(next(
        3,
        "ntp",
        "Clock is synchronized, stratum 3\n".into(),
        false,
    ));
    tasks.push(next(
        4,
        "audit",
        if failed {
            String::new()
        } else {
            "compliant\n".into()
        },
        failed,
    ));
    json!({"name": name, "play": 0, "batch": batch, "address": format!("10.0.{}.{}", n / 250, n % 250),
        "transport": "ssh", "groups": [if n.is_multiple_of(2) { "core" } else { "edge" }, "deu"],
        "started_ms": start, "finished_ms": t + 20,
        "status": if failed { "failed" } else { "ok" },
        "error": if failed { json!({"kind": "nonzero_exit", "message": "exit code 1"}) } else { Value::Null },
        "connect_ms": 42, "duration_ms": t + 20 - start, "attempts": 1,
        "connect_attempts": [attempt(1, start, false)],
        "breaker": {"state": "closed", "failures": 0}, "tasks": tasks})
}

fn report(hosts: usize) -> RunReport {
    let list: Vec<Value> = (0..hosts).map(host).collect();
    let batches: Vec<Value> = (0..hosts.div_ceil(50))
        .map(|b| {
            json!({"index": b + 1, "hosts": (b * 50..((b + 1) * 50).min(hosts)).map(|n| format!("r{n:04}")).collect::<Vec<_>>(),
                "started_ms": b as u64 * 900, "finished_ms": b as u64 * 900 + 880})
        })
        .collect();
    let end = hosts.div_ceil(50) as u64 * 900;
    let mut report: RunReport = serde_json::from_value(json!({
        "schema_version": 1, "drover_version": "0.1.0",
        "run": {"command": "run", "playbook": "audit.yml", "inventories": ["fleet.yml"],
            "limit": null, "started_at": "2026-12-01T10:00:00Z", "finished_at": "2026-12-01T10:00:20Z",
            "duration_ms": end, "interrupted": false, "aborted": null, "state_file": null,
            "exit_code": 2, "run_id": "20261201T100000.000Z-bench", "user": "ops", "hostname": "jump1",
            "argv": ["drover", "run", "audit.yml", "-i", "fleet.yml"]},
        "counts": {},
        "plays": [{"index": 0, "name": "audit", "pattern": "all",
            "settings": {"batch_size": 50, "concurrency": 50, "retries": 1}, "batches": batches,
            "tasks": ["version", "interfaces", "config", "ntp", "audit"]}],
        "hosts": list,
    }))
    .expect("the bench's report is a report");
    report.counts = counts(&report.hosts);
    report
}

fn stats(mut times: Vec<Duration>) -> String {
    times.sort();
    format!(
        "median {:?}, min {:?}, max {:?}",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    )
}

fn main() {
    let hosts: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().expect("temp dir");
    let report = report(hosts);
    let json_path = dir.path().join("report.json");
    std::fs::write(&json_path, serde_json::to_vec(&report).expect("json")).expect("report");
    let page_path = std::env::var_os("DROVER_BENCH_PAGE")
        .map_or_else(|| dir.path().join("page.html"), std::path::PathBuf::from);

    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let page = html::page(&report, None);
        write_atomic(&page_path, |out| out.write_all(page.as_bytes())).expect("write");
        times.push(t.elapsed());
        size = page.len();
    }
    println!(
        "page for {hosts} hosts × 5 tasks, in-process: {}",
        stats(times)
    );

    let bin = env!("CARGO_BIN_EXE_drover");
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let status = Command::new(bin)
            .args(["report", "html"])
            .arg(&json_path)
            .arg("-o")
            .arg(&page_path)
            .status()
            .expect("run drover");
        times.push(t.elapsed());
        assert!(status.success(), "drover report html failed");
    }
    println!("`drover report html FILE -o page.html`: {}", stats(times));

    let page = std::fs::read(&page_path).expect("page");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&page).expect("gzip");
    let gzipped = gz.finish().expect("gzip").len();
    println!(
        "page: {:.2} MiB ({size} bytes), gzipped {:.0} KiB; JSON report {:.2} MiB",
        page.len() as f64 / 1048576.0,
        gzipped as f64 / 1024.0,
        std::fs::metadata(&json_path).expect("report").len() as f64 / 1048576.0
    );
}
