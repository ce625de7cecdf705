//! The engine: a plan goes in, events come out. Plays run in order; within a play, hosts run
//! in batches (`batched`: batch N+1 starts once every host of batch N has disconnected) or
//! in a rolling window (`rolling`: the next host starts as one ends), never more than the
//! concurrency cap at once. A host's failure is its own: the batch and the run go on, unless
//! the play's abort rule (`max_fail_percentage`, `any_errors_fatal`) says to stop starting
//! hosts.
//!
//! A host that failed or was unreachable in one play is left out of the plays after it, as
//! Ansible does.

pub mod audit;
pub mod breaker;
pub mod breaker_store;
pub mod connector;
mod host;
pub mod plan;
pub mod rate_limit;
mod shared_vars;
mod shutdown;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::event::{Event, EventSink};
use crate::outcome::{ErrorKind, HostOutcome, HostStatus, TaskError};
use crate::settings::RunSettings;
use crate::transport::Transport;

pub use breaker_store::BreakerStore;
pub use connector::Clock;
pub use host::Registered;
pub use plan::{Plan, PlanOptions};
pub use shutdown::{Shutdown, ShutdownTrigger};

/// What a run needs besides the plan: the transports, the breaker store, the clock.
#[derive(Debug)]
pub struct RunEnv {
    pub transports: Arc<dyn Transport>,
    pub breakers: Arc<BreakerStore>,
    pub clock: Clock,
}

impl RunEnv {
    /// In-memory breakers, the wall clock.
    pub fn new(transports: impl Transport + 'static) -> RunEnv {
        RunEnv {
            transports: Arc::new(transports),
            breakers: Arc::new(BreakerStore::in_memory()),
            clock: Clock::system(),
        }
    }
}

/// How the run ended, for the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEnd {
    pub interrupted: bool,
    /// Why the abort rule stopped the run, if it did.
    pub aborted: Option<String>,
}

/// The play's abort rule, judged on every finished host before another starts.
struct AbortRule<'a> {
    settings: &'a RunSettings,
    done: usize,
    failed: usize,
}

impl AbortRule<'_> {
    fn record(&mut self, status: HostStatus) {
        self.done += 1;
        self.failed += usize::from(status.is_failure());
    }

    /// `Some(reason)` once the rule says to start no more hosts.
    fn verdict(&self) -> Option<String> {
        if self.settings.any_errors_fatal && self.failed > 0 {
            return Some(format!("any_errors_fatal: {} host(s) failed", self.failed));
        }
        let limit = self.settings.max_fail_percentage?;
        if self.done < self.settings.min_hosts_done.max(1) {
            return None;
        }
        let share = self.failed as f64 * 100.0 / self.done as f64;
        (share > limit).then(|| {
            format!(
                "max_fail_percentage {limit}% exceeded: {} of {} finished hosts failed ({share:.1}%)",
                self.failed, self.done
            )
        })
    }
}

/// Runs every play of `plan`, emitting events, until done, aborted or shut down.
pub async fn run(plan: Arc<Plan>, env: RunEnv, events: EventSink, shutdown: Shutdown) -> RunEnd {
    events.emit(Event::RunStarted {
        plays: plan.plays.len(),
        hosts: plan.host_count(),
    });
    let mut registered: HashMap<Arc<str>, Registered> = HashMap::new();
    let mut failed: HashSet<Arc<str>> = HashSet::new();
    let mut aborted = None;
    for (position, play) in plan.plays.iter().enumerate() {
        let settings = &play.settings;
        // Registered results live on for later plays; after the last one nothing reads them,
        // and on a large fleet they are megabytes.
        let keep = position + 1 < plan.plays.len();
        let batches = play.batches();
        events.emit(Event::PlayStarted {
            play: play.index,
            name: play.name.clone(),
            pattern: play.pattern.clone(),
            hosts: play.hosts.len(),
            batches: batches.len(),
            settings: settings.clone(),
            tasks: play.tasks.iter().map(|t| t.name.clone()).collect(),
        });
        let connector = Arc::new(connector::Connector::new(
            settings,
            &play.hosts,
            env.transports.clone(),
            env.breakers.clone(),
            env.clock,
        ));
        let concurrency = settings.effective_concurrency(play.hosts.len());
        let mut rule = AbortRule {
            settings,
            done: 0,
            failed: 0,
        };
        for (bi, batch) in batches.iter().enumerate() {
            let batch_no = bi + 1;
            if shutdown.draining() || aborted.is_some() {
                for host in batch.iter() {
                    cancel_unstarted(&events, play.index, batch_no, host, aborted.is_some());
                }
                continue;
            }
            if bi > 0 && !settings.batch_pause.is_zero() {
                let mut sd = shutdown.clone();
                tokio::select! {
                    _ = tokio::time::sleep(settings.batch_pause) => {}
                    _ = sd.drained() => {}
                }
            }
            events.emit(Event::BatchStarted {
                play: play.index,
                batch: batch_no,
                hosts: batch.iter().map(|h| h.name.clone()).collect(),
            });
            let mut running = JoinSet::new();
            for host in batch.iter() {
                if failed.contains(&host.name) {
                    skip_failed_earlier(&events, play.index, batch_no, host);
                    continue;
                }
                // Wait for a free slot; a finished host is judged before the next starts.
                while running.len() >= concurrency && !shutdown.draining() {
                    let mut sd = shutdown.clone();
                    tokio::select! {
                        Some(done) = running.join_next() => if let Some(status) = collect(done, keep, &mut registered, &mut failed) { rule.record(status) },
                        _ = sd.drained() => {}
                    }
                }
                if aborted.is_none() {
                    aborted = rule.verdict();
                }
                if shutdown.draining() || aborted.is_some() {
                    cancel_unstarted(&events, play.index, batch_no, host, aborted.is_some());
                    continue;
                }
                let mut mine = registered.remove(&host.name).unwrap_or_default();
                let (plan, connector, events, host, sd) = (
                    plan.clone(),
                    connector.clone(),
                    events.clone(),
                    host.clone(),
                    shutdown.clone(),
                );
                let pi = play.index;
                running.spawn(async move {
                    let run = host::HostRun {
                        plan: &plan,
                        play: &plan.plays[pi],
                        batch: batch_no,
                        host: &host,
                        connector: &connector,
                        events: &events,
                    };
                    let outcome = run.run(&mut mine, sd).await;
                    let status = outcome.status;
                    finish_host(&events, pi, batch_no, &host, outcome);
                    (host.name.clone(), mine, status)
                });
            }
            while let Some(done) = running.join_next().await {
                if let Some(status) = collect(done, keep, &mut registered, &mut failed) {
                    rule.record(status);
                }
            }
            if aborted.is_none() {
                aborted = rule.verdict();
            }
            events.emit(Event::BatchFinished {
                play: play.index,
                batch: batch_no,
            });
        }
        events.emit(Event::PlayFinished { play: play.index });
    }
    // Shared connections close here, and what the transports saw beyond the hosts' own
    // results travels as events, so a replayed event log makes the same report.
    for summary in env.transports.finish().await {
        events.emit(Event::TransportSummary { summary });
    }
    let interrupted = shutdown.draining();
    events.emit(Event::RunFinished {
        interrupted,
        aborted: aborted.clone(),
    });
    RunEnd {
        interrupted,
        aborted,
    }
}

/// One host's turn outside a run: connect through `connector` (rate limit, breaker,
/// retries), run the play's tasks, disconnect. `drover watch` checks a host this way.
pub async fn run_host(
    plan: &Plan,
    play: usize,
    host: &plan::PlannedHost,
    connector: &connector::Connector,
    events: &EventSink,
    shutdown: Shutdown,
) -> HostOutcome {
    let run = host::HostRun {
        plan,
        play: &plan.plays[play],
        batch: 0,
        host,
        connector,
        events,
    };
    run.run(&mut Registered::default(), shutdown).await
}

type Done = (Arc<str>, Registered, HostStatus);

fn collect(
    done: Result<Done, tokio::task::JoinError>,
    keep: bool,
    registered: &mut HashMap<Arc<str>, Registered>,
    failed: &mut HashSet<Arc<str>>,
) -> Option<HostStatus> {
    // A panicking host task is a bug; its host simply has no further results.
    let (name, mine, status) = done.ok()?;
    if status.is_failure() {
        failed.insert(name.clone());
    }
    if keep {
        registered.insert(name, mine);
    }
    Some(status)
}

fn finish_host(
    events: &EventSink,
    play: usize,
    batch: usize,
    host: &plan::PlannedHost,
    outcome: HostOutcome,
) {
    events.emit(Event::HostFinished {
        play,
        batch,
        host: host.name.clone(),
        address: host.endpoint.address.clone(),
        transport: host.endpoint.transport.into(),
        groups: host.group_names(),
        outcome,
    });
}

fn not_run(
    events: &EventSink,
    play: usize,
    batch: usize,
    host: &plan::PlannedHost,
    status: HostStatus,
    error: TaskError,
) {
    let outcome = HostOutcome {
        status,
        error: Some(error),
        connect_ms: None,
        duration_ms: 0,
        attempts: 0,
        connect_attempts: Vec::new(),
        breaker: None,
    };
    finish_host(events, play, batch, host, outcome);
}

fn cancel_unstarted(
    events: &EventSink,
    play: usize,
    batch: usize,
    host: &plan::PlannedHost,
    aborted: bool,
) {
    let why = if aborted {
        "the run was aborted by its failure threshold"
    } else {
        "the run was interrupted"
    };
    let error = TaskError::new(ErrorKind::Cancelled, format!("not started: {why}"));
    not_run(events, play, batch, host, HostStatus::Cancelled, error);
}

fn skip_failed_earlier(events: &EventSink, play: usize, batch: usize, host: &plan::PlannedHost) {
    let error = TaskError::new(
        ErrorKind::Cancelled,
        "not run: the host failed in an earlier play",
    );
    not_run(events, play, batch, host, HostStatus::Skipped, error);
}
