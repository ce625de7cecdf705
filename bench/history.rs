//! History benchmark: a state directory holding 200 runs of 1,000 hosts each, then the
//! real binary's `drover history`, `drover report diff` and `drover report show` timed on it.
//!
//! One real run of 1,000 local hosts (two tasks, device-like multi-line output) gives the
//! report; 210 variants of it (each its own run id and start time, 1% of hosts with a new
//! version string, one host unreachable now and then) are recorded through the history's own
//! store with `--keep-runs 200`, so the last ten also prune. Prints the wall time of each
//! command (median of 5) and the state directory's size per run.
//!
//! Run: `cargo bench --bench history` (add `-- HOSTS RUNS` to change the sizes).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, UNIX_EPOCH};

use drover::history::{run_id, Keep, Store};
use drover::outcome::{ErrorKind, HostStatus, TaskError};
use drover::report::{counts, RunReport};

const PLAYBOOK: &str = r#"
- hosts: all
  batch_size: 0
  concurrency: 50
  tasks:
    - name: version
      command: printf 'hostname %s\nCisco IOS XE Software, Version 17.3.4\nuptime is 41 weeks, 2 days\nSystem serial number FOC%s\n' {{ inventory_hostname }} {{ inventory_hostname[1:] }}
    - name: interfaces
      command: printf 'Gi0/0 up up uplink\nGi0/1 up up core-%s\nGi0/2 admin down\n' {{ inventory_hostname }}
"#;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let hosts = args.first().copied().unwrap_or(1000);
    let runs = args.get(1).copied().unwrap_or(200);
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = env!("CARGO_BIN_EXE_drover");
    let mut inv = String::from("defaults: { transport: local }\nhosts:\n");
    for h in 0..hosts {
        inv.push_str(&format!("  r{h:05}: {{}}\n"));
    }
    std::fs::write(dir.path().join("inv.yml"), inv).expect("inventory");
    std::fs::write(dir.path().join("p.yml"), PLAYBOOK).expect("playbook");

    let t = Instant::now();
    let status = Command::new(bin)
        .args(["run", "p.yml", "-i", "inv.yml", "--no-history", "-q"])
        .args(["--report", "base.json"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run drover");
    assert!(status.success(), "the base run failed");
    println!("base run: {hosts} local hosts in {:?}", t.elapsed());
    let base: RunReport = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("base.json")).expect("base report"),
    )
    .expect("base report parses");

    let state = dir.path().join("state");
    let store = Store::new(&state);
    let keep = Keep {
        runs,
        max_age: None,
    };
    let start = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
    let mut record_times = Vec::new();
    for i in 0..runs + 10 {
        let mut report = base.clone();
        let at = start + Duration::from_secs(300 * i as u64);
        report.run.run_id = run_id(at);
        report.run.started_at = humantime::format_rfc3339_millis(at).to_string();
        for (n, h) in report.hosts.iter_mut().enumerate() {
            // 1% of the hosts per run upgraded, a different 1% each run.
            if (n + i) % 100 == 0 {
                for t in &mut h.tasks {
                    t.stdout = t.stdout.replace("17.3.4", "17.6.1");
                }
            }
            if n == i % hosts {
                h.outcome.status = HostStatus::Unreachable;
                h.outcome.error = Some(TaskError::new(ErrorKind::Unreachable, "refused"));
                h.tasks.clear();
            }
        }
        report.counts = counts(&report.hosts);
        report.run.exit_code = report.exit_code();
        let t = Instant::now();
        store.record(&report, "bench", &keep).expect("record");
        record_times.push(t.elapsed());
    }
    record_times.sort();
    println!(
        "record: {} runs, median {:?}, max {:?} (report written + index rewritten + prune)",
        record_times.len(),
        record_times[record_times.len() / 2],
        record_times[record_times.len() - 1]
    );

    let (files, bytes) = size(&state.join("runs"));
    println!(
        "state dir: {files} files, {:.1} MiB, {:.0} KiB per run",
        bytes as f64 / 1048576.0,
        bytes as f64 / 1024.0 / runs as f64
    );
    let state_arg = state.display().to_string();
    let first = store.entries().expect("entries")[0].id.clone();
    for (label, args) in [
        ("history", vec!["history"]),
        ("history --json", vec!["history", "--json"]),
        (
            "report diff last~1 last",
            vec!["report", "diff", "last~1", "last"],
        ),
        (
            "report diff first last",
            vec!["report", "diff", &first, "last"],
        ),
        (
            "report diff --json first last",
            vec!["report", "diff", "--json", &first, "last"],
        ),
        ("report show last", vec!["report", "show", "last"]),
    ] {
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let out = Command::new(bin)
                .args(&args)
                .args(["--state-dir", &state_arg])
                .current_dir(dir.path())
                .output()
                .expect("run drover");
            times.push(t.elapsed());
            assert!(
                matches!(out.status.code(), Some(0 | 2)),
                "{label}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        times.sort();
        println!(
            "{label:<32} median {:>7.1} ms  (min {:.1}, max {:.1})",
            ms(times[2]),
            ms(times[0]),
            ms(times[4])
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn size(dir: &Path) -> (usize, u64) {
    std::fs::read_dir(dir)
        .expect("runs dir")
        .filter_map(|e| e.ok()?.metadata().ok())
        .fold((0, 0), |(n, b), m| (n + 1, b + m.len()))
}
