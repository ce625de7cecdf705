//! `drover watch`, wired together: plan the play, resume saved state, run the scheduler,
//! feed its events to the live table or plain lines, the NDJSON stream, the ledger (saved
//! state, metrics) and, at the end, the report.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use super::config::WatchKeys;
use super::event::{CheckStatus, WatchSink};
use super::hearing::Hearing;
use super::ledger::{self, Ledger, Saved};
use super::output::{self, WatchReport};
use super::scheduler::{self, Setup};
use super::subscriptions::Subscriptions;
use crate::app::Job;
use crate::cli::WatchOptions;
use crate::engine::{BreakerStore, Clock, Plan, RunEnv, Shutdown};
use crate::error::{Error, Result};
use crate::report::EventLog;
use crate::transport::{Transport, Transports};

/// How often the saved state and the metrics file are rewritten while the watch runs (and
/// once more at its end).
const SAVE_EVERY: Duration = Duration::from_secs(10);

/// `drover watch`: until SIGINT/SIGTERM (twice cancels running checks) or `--duration`.
pub fn run(job: Job, options: WatchOptions) -> Result<i32> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        let (trigger, shutdown) = Shutdown::new();
        let signals = trigger.clone();
        tokio::spawn(async move {
            while crate::app::wait_for_signal().await {
                signals.fire();
            }
        });
        if let Some(d) = options.duration {
            tokio::spawn(async move {
                tokio::time::sleep(d.0).await;
                trigger.fire();
            });
        }
        execute(job, options, Arc::new(Transports::default()), shutdown).await
    })
}

/// The play's watch: its plan, its `watch:` keys. A watch runs one play.
pub fn plan(job: &Job, transports: &dyn Transport) -> Result<(Plan, WatchKeys)> {
    if job.playbook.plays.len() != 1 {
        return Err(Error::Usage(format!(
            "{}: a watch runs one play, and this playbook has {}",
            job.playbook.path.display(),
            job.playbook.plays.len()
        )));
    }
    let keys = job.playbook.plays[0].watch.clone().unwrap_or_default();
    let plan = job.plan(transports)?;
    Ok((plan, keys))
}

/// The scheduler's setup and the ledger that follows it: the rules, where each host starts
/// (`saved`, else the start level), and each MQTT host's topics on its connection (its
/// heartbeat first, then `subscribe`).
pub fn prepare(
    plan: &Plan,
    keys: &WatchKeys,
    saved: BTreeMap<String, Saved>,
    now_unix_ms: u64,
) -> Result<(Setup, Ledger)> {
    let rules = keys.rules();
    let play = &plan.plays[0];
    let names: Vec<Arc<str>> = play.hosts.iter().map(|h| h.name.clone()).collect();
    let (ledger, starts, resumed) = Ledger::new(&names, &rules, saved, now_unix_ms);
    let mut subscriptions = Subscriptions::new(keys.limits());
    let mut hearing = Hearing::new(play.hosts.len(), tokio::time::Instant::now());
    let heartbeat = keys.heartbeat.as_ref();
    for (i, host) in play.hosts.iter().enumerate() {
        if host.endpoint.transport != "mqtt" || (keys.subscribe.is_empty() && heartbeat.is_none()) {
            continue;
        }
        let context = plan.context(host, &minijinja::Value::from(()));
        let render = |key: &str, t: &str| {
            plan.env.render_str(t, &context).map_err(|e| {
                Error::Usage(format!(
                    "`watch.{key}: {t}` does not render for {}: {}",
                    host.name,
                    crate::template::describe(&e)
                ))
            })
        };
        let mut topics = Vec::with_capacity(keys.subscribe.len() + 1);
        let mut beat = None;
        if let Some(h) = heartbeat {
            let topic = render("heartbeat.topic", &h.topic.0)?;
            let topic = topic.trim();
            if topic.contains(['+', '#', '\0']) {
                return Err(Error::Usage(format!(
                    "`watch.heartbeat.topic: {}` is `{topic}` for {}: a heartbeat is one node's topic, without `+`, `#` or NUL",
                    h.topic.0, host.name
                )));
            }
            if !topic.is_empty() {
                topics.push(topic.to_string());
                beat = Some(topic.to_string());
            }
        }
        for super::config::Topic(t) in &keys.subscribe {
            let topic = render("subscribe", t)?;
            if !topics.contains(&topic) {
                topics.push(topic);
            }
        }
        hearing.topics(i, &topics, beat);
        // Shared mode: one connection per broker; per-node mode: the node's own.
        let connection = match (&host.endpoint.gateway, host.endpoint.opens_connection) {
            (Some(broker), false) => broker.clone(),
            _ => host.name.to_string(),
        };
        subscriptions.add(i, &connection, topics, starts[i].track.level);
    }
    hearing.status_field(heartbeat.and_then(|h| h.status_field.clone()));
    let setup = Setup {
        rules,
        starts,
        resumed,
        subscriptions,
        hearing,
        stale_after: heartbeat.and_then(|h| h.stale_after).map(|d| d.0),
    };
    Ok((setup, ledger))
}

/// Runs the watch until `shutdown` says so and returns the exit code.
pub async fn execute(
    mut job: Job,
    options: WatchOptions,
    transports: Arc<dyn Transport>,
    shutdown: Shutdown,
) -> Result<i32> {
    let (plan, keys) = plan(&job, &*transports)?;
    drop(std::mem::take(&mut job.inventory));
    crate::check::check(&plan)?;
    let dir = job
        .state
        .state_dir
        .clone()
        .or_else(crate::state_dir::default_dir);
    let inventories = &job.target.inventories;
    let breakers = match &dir {
        Some(d) => BreakerStore::open(d, inventories, job.state.reset_breakers)?,
        None => BreakerStore::in_memory(),
    };
    let breakers = Arc::new(breakers);
    let state_path = match &dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| Error::io(d, "create state directory", e))?;
            Some(ledger::state_path(d, inventories))
        }
        None => None,
    };
    let saved = match (&state_path, options.fresh) {
        (Some(p), false) => ledger::load(p)?,
        _ => BTreeMap::new(),
    };
    let clock = Clock::system();
    let (setup, mut ledger) = prepare(&plan, &keys, saved, clock.now_ms())?;
    let mut events_log = options.events.as_deref().map(EventLog::open).transpose()?;
    let terminal =
        std::io::stderr().is_terminal() && !matches!(std::env::var("TERM").as_deref(), Ok("dumb"));
    let env = RunEnv {
        transports,
        breakers: breakers.clone(),
        clock,
    };
    let (sink, mut rx) = WatchSink::new();
    let plan = Arc::new(plan);
    let watcher = tokio::spawn(scheduler::watch(plan, setup, env, sink, shutdown));
    let mut redraw = tokio::time::interval(Duration::from_secs(1));
    redraw.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_save = tokio::time::Instant::now();
    loop {
        tokio::select! {
            event = rx.recv() => {
                let Some(event) = event else { break };
                if !terminal {
                    let last = match &event.event {
                        super::WatchEvent::Check { host, .. } => ledger.hosts.iter().find(|h| h.name == *host).and_then(|h| h.status),
                        _ => None,
                    };
                    for line in output::plain_lines(&event, last) {
                        crate::ui::out::eprintln(&line);
                    }
                }
                if let Some(log) = &mut events_log {
                    log.write(&event);
                }
                ledger.apply(&event);
            }
            _ = redraw.tick() => {
                if terminal {
                    draw(&ledger);
                }
                if last_save.elapsed() >= SAVE_EVERY {
                    last_save = tokio::time::Instant::now();
                    // A failed save while watching is retried at the next one; the last
                    // one's error is reported. Breakers too, so a killed watch keeps them.
                    let _ = save(&ledger, state_path.as_deref(), options.metrics.as_deref());
                    let _ = breakers.save(inventories);
                }
            }
        }
    }
    watcher
        .await
        .map_err(|e| Error::Usage(format!("internal error: {e}")))?;
    if terminal {
        draw(&ledger);
    }
    let saved = save(&ledger, state_path.as_deref(), options.metrics.as_deref());
    let breakers_saved = breakers.save(inventories);
    let report = WatchReport::new(&ledger);
    if let Some(path) = &options.report {
        crate::report::write_atomic(path, |out| {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            out.write_all(b"\n")
        })?;
    }
    if let Some(log) = events_log {
        log.finish()?;
    }
    if options.events.as_deref() != Some(std::path::Path::new("-")) {
        crate::ui::out::print(&report.text())?;
    }
    saved?;
    breakers_saved?;
    let all_ok = ledger
        .hosts
        .iter()
        .all(|h| h.status.is_none_or(|s| s == CheckStatus::Ok));
    Ok(if all_ok { 0 } else { 2 })
}

fn save(
    ledger: &Ledger,
    state: Option<&std::path::Path>,
    metrics: Option<&std::path::Path>,
) -> Result<()> {
    if let Some(p) = state {
        ledger.save(p)?;
    }
    if let Some(p) = metrics {
        let text = super::metrics::text(ledger);
        crate::atomic_write::write_atomic(p, |out| out.write_all(text.as_bytes()))?;
    }
    Ok(())
}

/// Redraws the table in place: home, the table, clear what is below it.
fn draw(ledger: &Ledger) {
    let (cols, rows) = crate::ui::term::size(libc::STDERR_FILENO).unwrap_or((100, 30));
    // The header line, the table's borders and header, and the "… more" line.
    let fit = rows.saturating_sub(7).max(1);
    let text = output::table(ledger, fit, Some(cols));
    crate::ui::out::eprint(&format!("\x1b[H{}\x1b[J", text.replace('\n', "\x1b[K\n")));
}
