//! The watch loop: every host has a due time; when it comes, the host is checked (the play's
//! tasks, through the normal connector: rate limit, breaker, retries), its result moves its
//! level (`rules`), and its next check is due one interval of the new level after this one
//! started. At most `concurrency` checks run at once; a host that comes due while the cap
//! is reached waits its turn, most overdue first.
//!
//! Each check connects, runs and disconnects. An SSH connection kept between checks would
//! save its setup only for hosts checked every 5 or 15 s, while a fleet at NORMAL and below
//! would hold a thousand idle sessions (and OpenSSH processes) to save one handshake a minute;
//! MQTT nodes in shared mode cost nothing to "connect", as their broker client lives on for
//! the whole watch.
//!
//! A host whose breaker is open is not checked before its cool-down ends: its next check is
//! due at the later of its level's interval and the cool-down's end.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use super::event::{CheckStatus, WatchEvent, WatchSink};
use super::rules::{Rules, Track};
use super::subscriptions::{Delta, Subscriptions};
use crate::engine::{self, connector::Connector, Plan, RunEnv, Shutdown};
use crate::event::EventSink;
use crate::outcome::{ErrorKind, HostOutcome, HostStatus};
use crate::policy::BreakerState;

/// Where a host starts: its level and streak, and how long until its first check.
#[derive(Debug, Clone, Copy)]
pub struct Start {
    pub track: Track,
    pub first_in: Duration,
}

/// What a watch needs besides the plan.
#[derive(Debug)]
pub struct Setup {
    pub rules: Rules,
    /// Per host of the play, in its order: where it starts.
    pub starts: Vec<Start>,
    /// How many resumed from saved state, for the start event.
    pub resumed: usize,
    pub subscriptions: Subscriptions,
}

/// Watches the first play's hosts until `shutdown` fires; then lets running checks finish
/// (a second trigger cancels them) and returns.
pub async fn watch(
    plan: Arc<Plan>,
    setup: Setup,
    env: RunEnv,
    events: WatchSink,
    mut shutdown: Shutdown,
) {
    let play = &plan.plays[0];
    let hosts = play.hosts.len();
    let cap = play.settings.concurrency.max(1);
    let connector = Arc::new(Connector::new(
        &play.settings,
        &play.hosts,
        env.transports.clone(),
        env.breakers.clone(),
        env.clock,
    ));
    // The engine's own events (task by task) are not part of a watch's output: a closed
    // channel takes them at no cost.
    let engine_events = EventSink::new().0;
    let Setup {
        rules,
        starts,
        resumed,
        mut subscriptions,
    } = setup;
    events.emit(WatchEvent::WatchStarted {
        hosts,
        resumed,
        start_unix_ms: env.clock.now_ms(),
        concurrency: cap,
    });
    let mut tracks: Vec<Track> = starts.iter().map(|s| s.track).collect();
    let now = Instant::now();
    let mut due: BinaryHeap<Reverse<(Instant, usize)>> = starts
        .iter()
        .enumerate()
        .map(|(i, s)| Reverse((now + s.first_in, i)))
        .collect();
    let delta = subscriptions.rebalance();
    emit_delta(&events, &plan, &subscriptions, delta);
    let mut running: JoinSet<(usize, Instant, HostOutcome)> = JoinSet::new();
    let (mut checks, mut peak) = (0u64, 0usize);
    loop {
        if shutdown.draining() {
            break;
        }
        let now = Instant::now();
        while running.len() < cap {
            match due.peek() {
                Some(Reverse((at, _))) if *at <= now => {}
                _ => break,
            }
            let Some(Reverse((_, i))) = due.pop() else {
                break;
            };
            let (plan, connector, engine_events, sd) = (
                plan.clone(),
                connector.clone(),
                engine_events.clone(),
                shutdown.clone(),
            );
            running.spawn(async move {
                let started = Instant::now();
                let host = &plan.plays[0].hosts[i];
                let outcome = engine::run_host(&plan, 0, host, &connector, &engine_events, sd);
                (i, started, Box::pin(outcome).await)
            });
            peak = peak.max(running.len());
        }
        let next = (running.len() < cap)
            .then(|| due.peek().map(|r| r.0 .0))
            .flatten();
        tokio::select! {
            Some(done) = running.join_next(), if !running.is_empty() => {
                let in_flight = running.len() + 1;
                if let Ok((i, started, outcome)) = done {
                    if let Some(at) = finished(&plan, &rules, &mut tracks[i], &mut subscriptions, &events, &connector, i, started, outcome, in_flight) {
                        checks += 1;
                        due.push(Reverse((at, i)));
                    }
                }
            }
            _ = tokio::time::sleep_until(next.unwrap_or(now)), if next.is_some() => {}
            _ = shutdown.drained() => {}
        }
    }
    while let Some(done) = running.join_next().await {
        let in_flight = running.len() + 1;
        if let Ok((i, started, outcome)) = done {
            if finished(
                &plan,
                &rules,
                &mut tracks[i],
                &mut subscriptions,
                &events,
                &connector,
                i,
                started,
                outcome,
                in_flight,
            )
            .is_some()
            {
                checks += 1;
            }
        }
    }
    events.emit(WatchEvent::WatchFinished {
        checks,
        peak_in_flight: peak,
    });
}

/// Applies one check's outcome: level, events, subscriptions. Returns when the next check is
/// due, or `None` for a check cancelled by the shutdown.
#[allow(clippy::too_many_arguments)]
fn finished(
    plan: &Plan,
    rules: &Rules,
    track: &mut Track,
    subscriptions: &mut Subscriptions,
    events: &WatchSink,
    connector: &Connector,
    i: usize,
    started: Instant,
    outcome: HostOutcome,
    in_flight: usize,
) -> Option<Instant> {
    let host = plan.plays[0].hosts[i].name.clone();
    let status = match (outcome.status, outcome.error.as_ref().map(|e| e.kind)) {
        (HostStatus::Cancelled, _) => return None,
        (HostStatus::Skipped, Some(ErrorKind::BreakerOpen)) => CheckStatus::BreakerOpen,
        (HostStatus::Unreachable, _) => CheckStatus::Unreachable,
        (HostStatus::Ok, _) | (HostStatus::Skipped, _) => CheckStatus::Ok,
        _ => CheckStatus::Failed,
    };
    let change = match status {
        CheckStatus::BreakerOpen => None,
        _ => track.record(rules, status == CheckStatus::Ok),
    };
    let mut next = started + rules.interval(track.level);
    let mut breaker_open = false;
    if let Some(BreakerState::Open { until_ms }) = outcome.breaker {
        let cooldown = Duration::from_millis(until_ms.saturating_sub(connector.now_ms()));
        next = next.max(Instant::now() + cooldown);
        breaker_open = true;
    }
    let next = next.max(Instant::now());
    events.emit(WatchEvent::Check {
        host: host.clone(),
        status,
        level: track.level,
        failures: track.failures,
        successes: track.successes,
        error: outcome.error,
        duration_ms: started.elapsed().as_millis() as u64,
        next_in_ms: (next - Instant::now()).as_millis() as u64,
        in_flight,
        breaker_open,
    });
    if let Some(c) = change {
        events.emit(WatchEvent::LevelChanged {
            host,
            from: c.from,
            to: c.to,
            streak: c.streak,
        });
        let delta = subscriptions.set_level(i, c.to);
        emit_delta(events, plan, subscriptions, delta);
    }
    Some(next)
}

fn emit_delta(events: &WatchSink, plan: &Plan, subscriptions: &Subscriptions, delta: Delta) {
    if delta.is_empty() {
        return;
    }
    let name = |i: &usize| plan.plays[0].hosts[*i].name.clone();
    let held = subscriptions.counts();
    events.emit(WatchEvent::Subscriptions {
        evicted: delta.evicted.iter().map(name).collect(),
        added: delta.added.iter().map(name).collect(),
        unsubscribe: delta.unsubscribe,
        subscribe: delta.subscribe,
        held,
    });
}
