//! How the benches measure a client process: wall time, CPU (user + system, from
//! `getrusage(RUSAGE_CHILDREN)` around the run, so a client's whole process tree once reaped)
//! and peak RSS.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn children_cpu() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_CHILDREN is always valid.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init()
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Runs `command` to its end; peak RSS from `/proc/<pid>/status` (`VmHWM`) every 2 ms (not
/// `ru_maxrss`, which carries this process's own size across the fork).
pub fn measure(mut command: Command) -> (Duration, Duration, i64, std::process::ExitStatus) {
    let cpu_before = children_cpu();
    let start = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start the client");
    let status_file = format!("/proc/{}/status", child.id());
    let mut max_rss_kib = 0i64;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok());
            max_rss_kib = max_rss_kib.max(hwm.unwrap_or(0));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    (
        start.elapsed(),
        children_cpu() - cpu_before,
        max_rss_kib,
        status,
    )
}
