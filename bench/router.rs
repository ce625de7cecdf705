//! Router CLI benchmark: the real `drover` binary (release) against N simulated Cisco IOS
//! routers (tests/support/router.rs, in this process, on loopback): password login, one PTY
//! shell per device, paging off, three show commands each. Prints wall time, drover's CPU
//! (user + system, from `getrusage(RUSAGE_CHILDREN)` around the run: drover on the native
//! backend is one process) per device, and drover's peak RSS.
//!
//! With `NETMIKO_PYTHON=/path/to/python` (a venv with `netmiko`), the same devices are also
//! driven by `bench/netmiko_fleet.py` (Netmiko's `cisco_ios` driver, 10 threads, the way
//! its docs show a fleet), measured the same way.
//!
//! `cargo bench --bench router` (50 and 500 devices) or `cargo bench --bench router -- 50`.

mod measure;
#[allow(dead_code)]
#[path = "../tests/support/net.rs"]
mod net;
#[allow(dead_code)]
#[path = "../tests/support/router.rs"]
mod router;

use std::fmt::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use measure::measure;
use router::{Device, DeviceConfig};

const PLAYBOOK: &str = "\
- hosts: all
  batch_size: 0
  concurrency: 100
  # Not the default 20/s: the bench measures what a connection costs, not the pacing.
  rate: 1000/s
  burst: 100
  tasks:
    - command: show version
    - command: show running-config
    - command: show version
";

struct Measure {
    wall: Duration,
    cpu: Duration,
    max_rss_kib: i64,
    ok: usize,
}

fn drover(dir: &Path) -> Measure {
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
    let (wall, cpu, max_rss_kib, _) = measure(command);
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("report.json")).expect("report written"),
    )
    .expect("report is JSON");
    Measure {
        wall,
        cpu,
        max_rss_kib,
        ok: report["counts"]["ok"].as_u64().unwrap_or(0) as usize,
    }
}

fn netmiko(python: &str, dir: &Path) -> Measure {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/netmiko_fleet.py");
    let mut command = Command::new(python);
    command.arg(script).arg("devices.txt").current_dir(dir);
    command.stdout(Stdio::piped());
    let (wall, cpu, max_rss_kib, status) = measure(command);
    let ok = std::fs::read_to_string(dir.join("netmiko_ok"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    assert!(status.success() || ok > 0, "netmiko run failed: {status}");
    Measure {
        wall,
        cpu,
        max_rss_kib,
        ok,
    }
}

fn row(client: &str, n: usize, m: &Measure) {
    println!(
        "| {n} | {client} | {:.2} s | {:.2} s | {:.1} ms | {:.1} MiB | {}/{n} |",
        m.wall.as_secs_f64(),
        m.cpu.as_secs_f64(),
        m.cpu.as_secs_f64() * 1000.0 / n as f64,
        m.max_rss_kib as f64 / 1024.0,
        m.ok
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let counts = if counts.is_empty() {
        vec![50, 500]
    } else {
        counts
    };
    let python = std::env::var("NETMIKO_PYTHON").ok();
    println!("simulated cisco_ios routers, password login, 3 show commands each\n");
    println!("| devices | client | wall | client CPU | CPU per device | peak RSS | ok |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for n in counts {
        let mut devices = Vec::with_capacity(n);
        for i in 0..n {
            let name = format!("r{:04}", i + 1);
            devices.push(Device::start(DeviceConfig::new("cisco_ios", &name)).await);
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let mut inv = String::from(
            "defaults:\n  platform: cisco_ios\n  user: admin\n  password: lab-pass\n  \
             host_key_checking: 'off'\nhosts:\n",
        );
        let mut list = String::new();
        for d in &devices {
            let _ = writeln!(
                inv,
                "  {}:\n    address: {}\n    port: {}",
                d.config.hostname,
                net::host(),
                d.addr.port()
            );
            let _ = writeln!(list, "{} {}", net::host(), d.addr.port());
        }
        std::fs::write(dir.path().join("inv.yml"), inv).unwrap();
        std::fs::write(dir.path().join("p.yml"), PLAYBOOK).unwrap();
        std::fs::write(dir.path().join("devices.txt"), list).unwrap();
        let path = dir.path().to_path_buf();
        let m = tokio::task::spawn_blocking(move || drover(&path))
            .await
            .unwrap();
        row("drover (native, concurrency 100, rate 1000/s)", n, &m);
        if let Some(python) = &python {
            let (python, path) = (python.clone(), dir.path().to_path_buf());
            let m = tokio::task::spawn_blocking(move || netmiko(&python, &path))
                .await
                .unwrap();
            row("Netmiko (10 threads)", n, &m);
        }
    }
}
