//! `--metrics FILE`: the hosts' state in Prometheus' text format, for node_exporter's
//! textfile collector, rewritten atomically (a scrape never sees half a file).

use std::fmt::Write;

use super::event::CheckStatus;
use super::ledger::Ledger;

/// The file's text. `up` is 1 after an ok check, 0 after any other, absent before the first.
pub fn text(ledger: &Ledger) -> String {
    let mut out = String::new();
    let label = |name: &str| name.replace('\\', "\\\\").replace('"', "\\\"");
    out.push_str("# HELP drover_watch_up Whether the host's last check was ok.\n# TYPE drover_watch_up gauge\n");
    for h in &ledger.hosts {
        if let Some(s) = h.status {
            let up = u8::from(s == CheckStatus::Ok);
            let _ = writeln!(out, "drover_watch_up{{host=\"{}\"}} {up}", label(&h.name));
        }
    }
    out.push_str("# HELP drover_watch_level The host's monitoring level: 0 critical, 1 high, 2 normal, 3 low, 4 minimal.\n# TYPE drover_watch_level gauge\n");
    for h in &ledger.hosts {
        let _ = writeln!(
            out,
            "drover_watch_level{{host=\"{}\",level=\"{}\"}} {}",
            label(&h.name),
            h.level.as_str(),
            h.level.index()
        );
    }
    out.push_str("# HELP drover_watch_check_seconds How long the host's last check took.\n# TYPE drover_watch_check_seconds gauge\n");
    for h in &ledger.hosts {
        if let Some(ms) = h.last_duration_ms {
            let _ = writeln!(
                out,
                "drover_watch_check_seconds{{host=\"{}\"}} {:.3}",
                label(&h.name),
                ms as f64 / 1000.0
            );
        }
    }
    out.push_str("# HELP drover_watch_checks_total Checks since the watch started.\n# TYPE drover_watch_checks_total counter\n");
    let _ = writeln!(out, "drover_watch_checks_total {}", ledger.checks);
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::watch::{Level, Rules, Stamped, WatchEvent};

    #[test]
    fn up_level_and_check_time_per_host() {
        let names: Vec<Arc<str>> = vec![Arc::from("r\"1"), Arc::from("r2")];
        let (mut ledger, _, _) = Ledger::new(&names, &Rules::default(), Default::default(), 0);
        ledger.apply(&Stamped {
            at_ms: 10,
            event: WatchEvent::Check {
                host: Arc::from("r\"1"),
                status: CheckStatus::Failed,
                level: Level::High,
                failures: 1,
                successes: 0,
                error: None,
                duration_ms: 1250,
                next_in_ms: 15_000,
                in_flight: 1,
                breaker_open: false,
                heartbeat: false,
            },
        });
        let text = text(&ledger);
        assert!(
            text.contains("drover_watch_up{host=\"r\\\"1\"} 0\n"),
            "{text}"
        );
        assert!(!text.contains("drover_watch_up{host=\"r2\"}"), "{text}");
        assert!(text.contains("drover_watch_level{host=\"r2\",level=\"normal\"} 2\n"));
        assert!(text.contains("drover_watch_check_seconds{host=\"r\\\"1\"} 1.250\n"));
        assert!(text.ends_with("drover_watch_checks_total 1\n"));
    }
}
