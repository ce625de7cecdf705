//! The engine: a plan goes in, events come out. Plays run in order; within a play, hosts run
//! in batches (`batched`: batch N+1 starts once every host of batch N has disconnected) or
//! in a rolling window (`rolling`: the next host starts as one ends), never more than the
//! concurrency cap at once. A host's failure is its own: the batch and the run go on.
//!
//! A host that failed or was unreachable in one play is left out of the plays after it, as
//! Ansible does.

pub mod breaker;
mod host;
pub mod plan;
pub mod rate_limit;
pub mod retry;
mod shutdown;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::event::{Event, EventSink};
use crate::outcome::{ErrorKind, HostOutcome, HostStatus, TaskError};
use crate::settings::Strategy;
use crate::transport::Transports;

pub use host::Registered;
pub use plan::{Plan, PlanOptions};
pub use shutdown::{Shutdown, ShutdownTrigger};

/// How the run ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunEnd {
    pub interrupted: bool,
}

/// Runs every play of `plan`, emitting events, until done or shut down.
pub async fn run(
    plan: Arc<Plan>,
    transports: Transports,
    events: EventSink,
    shutdown: Shutdown,
) -> RunEnd {
    events.emit(Event::RunStarted {
        plays: plan.plays.len(),
        hosts: plan.host_count(),
    });
    let transports = Arc::new(transports);
    let mut registered: HashMap<Arc<str>, Registered> = HashMap::new();
    let mut failed: HashSet<Arc<str>> = HashSet::new();
    for play in &plan.plays {
        let batches: Vec<&[Arc<plan::PlannedHost>]> =
            match (play.settings.strategy, play.settings.batch_size) {
                (Strategy::Batched, n) if n > 0 => play.hosts.chunks(n).collect(),
                _ if play.hosts.is_empty() => Vec::new(),
                _ => vec![&play.hosts[..]],
            };
        events.emit(Event::PlayStarted {
            play: play.index,
            name: play.name.clone(),
            pattern: play.pattern.clone(),
            hosts: play.hosts.len(),
            batches: batches.len(),
            settings: play.settings.clone(),
        });
        let concurrency = play.settings.effective_concurrency(play.hosts.len());
        for (bi, batch) in batches.iter().enumerate() {
            let batch_no = bi + 1;
            if shutdown.draining() {
                for host in batch.iter() {
                    cancel_unstarted(&events, play.index, batch_no, host);
                }
                continue;
            }
            if bi > 0 && !play.settings.batch_pause.is_zero() {
                let mut sd = shutdown.clone();
                tokio::select! {
                    _ = tokio::time::sleep(play.settings.batch_pause) => {}
                    _ = sd.drained() => {}
                }
            }
            events.emit(Event::BatchStarted {
                play: play.index,
                batch: batch_no,
                hosts: batch.iter().map(|h| h.name.clone()).collect(),
            });
            let permits = Arc::new(Semaphore::new(concurrency));
            let mut running = JoinSet::new();
            for host in batch.iter() {
                if failed.contains(&host.name) {
                    skip_failed_earlier(&events, play.index, batch_no, host);
                    continue;
                }
                let permit = {
                    let mut sd = shutdown.clone();
                    tokio::select! {
                        p = permits.clone().acquire_owned() => p.ok(),
                        _ = sd.drained() => None,
                    }
                };
                let Some(permit) = permit.filter(|_| !shutdown.draining()) else {
                    cancel_unstarted(&events, play.index, batch_no, host);
                    continue;
                };
                let mut mine = registered.remove(&host.name).unwrap_or_default();
                let (plan, transports, events, host, sd) = (
                    plan.clone(),
                    transports.clone(),
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
                        transports: &transports,
                        events: &events,
                    };
                    let outcome = run.run(&mut mine, sd).await;
                    let status = outcome.status;
                    finish_host(&events, pi, batch_no, &host, outcome);
                    drop(permit);
                    (host.name.clone(), mine, status)
                });
                while let Some(done) = running.try_join_next() {
                    collect(done, &mut registered, &mut failed);
                }
            }
            while let Some(done) = running.join_next().await {
                collect(done, &mut registered, &mut failed);
            }
            events.emit(Event::BatchFinished {
                play: play.index,
                batch: batch_no,
            });
        }
        events.emit(Event::PlayFinished { play: play.index });
    }
    let interrupted = shutdown.draining();
    events.emit(Event::RunFinished { interrupted });
    RunEnd { interrupted }
}

type Done = (Arc<str>, Registered, HostStatus);

fn collect(
    done: Result<Done, tokio::task::JoinError>,
    registered: &mut HashMap<Arc<str>, Registered>,
    failed: &mut HashSet<Arc<str>>,
) {
    // A panicking host task is a bug; its host simply has no further results.
    if let Ok((name, mine, status)) = done {
        if status.is_failure() {
            failed.insert(name.clone());
        }
        registered.insert(name, mine);
    }
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
        address: host.connection.address.clone(),
        transport: host.connection.transport.as_str().into(),
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
    };
    finish_host(events, play, batch, host, outcome);
}

fn cancel_unstarted(events: &EventSink, play: usize, batch: usize, host: &plan::PlannedHost) {
    let error = TaskError::new(ErrorKind::Cancelled, "not started: the run was interrupted");
    not_run(events, play, batch, host, HostStatus::Cancelled, error);
}

fn skip_failed_earlier(events: &EventSink, play: usize, batch: usize, host: &plan::PlannedHost) {
    let error = TaskError::new(
        ErrorKind::Cancelled,
        "not run: the host failed in an earlier play",
    );
    not_run(events, play, batch, host, HostStatus::Skipped, error);
}
