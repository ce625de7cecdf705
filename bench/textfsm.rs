//! TextFSM parsing at fleet scale: a 2,000-line `show ip interface brief` parsed with the
//! ntc-templates-style template from tests/fixtures, once per host for 1,000 hosts (each
//! host's output differs), plus turning each result into the template value `register`
//! keeps. Prints the CPU time (user + system, from getrusage) and the wall time.
//!
//!     cargo bench --bench textfsm            # 1,000 hosts × 2,000 lines
//!     cargo bench --bench textfsm -- 5000    # another fleet size

use std::time::{Duration, Instant};

use drover::parse::textfsm::Template;

const TEMPLATE: &str =
    include_str!("../tests/fixtures/textfsm/cisco_ios_show_ip_interface_brief.textfsm");

fn cpu() -> Duration {
    // SAFETY: getrusage fills the struct it is given and nothing else.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn output(host: usize, lines: usize) -> String {
    let mut text = String::from(
        "Interface              IP-Address      OK? Method Status                Protocol\n",
    );
    for i in 0..lines - 1 {
        let (status, proto) = match (i + host) % 7 {
            0 => ("administratively down", "down"),
            1 => ("down", "down"),
            _ => ("up", "up"),
        };
        let ip = if i % 3 == 0 {
            "unassigned".to_string()
        } else {
            format!("10.{}.{}.{}", host % 250, (i / 250) % 250, i % 250)
        };
        text.push_str(&format!(
            "GigabitEthernet{}/0/{:<6} {ip:<15} YES NVRAM  {status:<21} {proto:<8}\n",
            i / 48,
            i % 48
        ));
    }
    text
}

fn main() {
    let hosts: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    let lines = 2000;
    let outputs: Vec<String> = (0..hosts).map(|h| output(h, lines)).collect();
    let template = Template::compile(TEMPLATE).expect("template compiles");

    let (cpu0, wall0) = (cpu(), Instant::now());
    let mut records = 0;
    for text in &outputs {
        let rows = template.parse(text).expect("parses");
        records += rows.len();
        std::hint::black_box(rows);
    }
    let (parse_cpu, parse_wall) = (cpu() - cpu0, wall0.elapsed());

    let (cpu1, wall1) = (cpu(), Instant::now());
    for text in &outputs {
        let rows = serde_json::Value::Array(template.parse(text).expect("parses"));
        std::hint::black_box(drover::template::to_value(&rows));
    }
    let (both_cpu, both_wall) = (cpu() - cpu1, wall1.elapsed());

    assert_eq!(
        records,
        hosts * (lines - 1),
        "every interface line is a record"
    );
    println!("{hosts} hosts × {lines} lines, {records} records");
    println!(
        "parse:                {:>8.1} ms CPU  {:>8.1} ms wall  ({:.1} µs per host)",
        parse_cpu.as_secs_f64() * 1e3,
        parse_wall.as_secs_f64() * 1e3,
        parse_cpu.as_secs_f64() * 1e6 / hosts as f64
    );
    println!(
        "parse + register:     {:>8.1} ms CPU  {:>8.1} ms wall",
        both_cpu.as_secs_f64() * 1e3,
        both_wall.as_secs_f64() * 1e3
    );
}
