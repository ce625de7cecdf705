//! TextFSM parsing at fleet scale: a 2,000-line `show ip interface brief` parsed with the
//! ntc-templates-style template from tests/fixtures, once per host for 1,000 hosts (each
//! host's output differs), through the engine's own call (`Parser::run`), then turning each
//! result into the template value `register` keeps, and freeing them. Prints the CPU time
//! (user + system, from getrusage) and the wall time of each step.
//!
//!     cargo bench --bench textfsm            # 1,000 hosts × 2,000 lines
//!     cargo bench --bench textfsm -- 5000    # another fleet size

use std::sync::Arc;
use std::time::{Duration, Instant};

use drover::parse::textfsm::Template;
use drover::parse::{Parsed, Parser};

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
    // Once per run, as loading the playbook does; every host's task shares it.
    let parser = Parser::TextFsm(Arc::new(
        Template::compile(TEMPLATE).expect("template compiles"),
    ));

    // The engine's call for each host's output; the results are kept, as the report keeps
    // them until it is written.
    let (cpu0, wall0) = (cpu(), Instant::now());
    let parsed: Vec<Parsed> = outputs
        .iter()
        .map(|text| parser.run(text).expect("parses"))
        .collect();
    let (parse_cpu, parse_wall) = (cpu() - cpu0, wall0.elapsed());

    // What `register` keeps of it: the value later templates read.
    let (cpu1, wall1) = (cpu(), Instant::now());
    for p in &parsed {
        std::hint::black_box(p.to_value());
    }
    let (register_cpu, register_wall) = (cpu() - cpu1, wall1.elapsed());

    // Writing the parsed fields into the JSON report (to nowhere): report cost, not parse
    // cost, shown for scale.
    let (cpu2, wall2) = (cpu(), Instant::now());
    serde_json::to_writer(std::io::sink(), &parsed).expect("serializes");
    let (report_cpu, report_wall) = (cpu() - cpu2, wall2.elapsed());

    let (cpu3, wall3) = (cpu(), Instant::now());
    let records: usize = parsed
        .iter()
        .map(|p| match p {
            Parsed::Records(r) => r.len(),
            Parsed::Json(_) => 0,
        })
        .sum();
    drop(parsed);
    let (drop_cpu, drop_wall) = (cpu() - cpu3, wall3.elapsed());

    assert_eq!(
        records,
        hosts * (lines - 1),
        "every interface line is a record"
    );
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("{hosts} hosts × {lines} lines, {records} records");
    let row = |what: &str, c: Duration, w: Duration| {
        println!("{what:<24} {:>8.1} ms CPU  {:>8.1} ms wall", ms(c), ms(w));
    };
    row("parse", parse_cpu, parse_wall);
    row("register", register_cpu, register_wall);
    row("free the results", drop_cpu, drop_wall);
    let total = parse_cpu + register_cpu + drop_cpu;
    println!(
        "{:<24} {:>8.1} ms CPU  {:>8.1} ms wall  ({:.1} µs per host; target: under 1,000 ms)",
        "parse + register + free",
        ms(total),
        ms(parse_wall + register_wall + drop_wall),
        total.as_secs_f64() * 1e6 / hosts as f64
    );
    row("(report serialization)", report_cpu, report_wall);
}
