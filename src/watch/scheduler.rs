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
//!
//! MQTT topics: at the start the watch opens a link (`Transport::topics`) per connection
//! that carries hosts' topics and sends the subscription manager's packets on it as they
//! come (UNSUBSCRIBE before SUBSCRIBE); messages on those topics come back into this loop
//! (`hearing`). A heartbeat host that holds its topics is checked by its heartbeat, at once
//! and without a connection; one that does not is checked by the play's tasks (with no
//! tasks, it waits until its topics fit). Hosts on a connection that cannot hold topics (a
//! node's own, per-node mode) get none.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::event::{CheckStatus, WatchEvent, WatchSink};
use super::hearing::{Hearing, Verdict};
use super::rules::{Change, Rules, Track};
use super::subscriptions::{Delta, Subscriptions};
use crate::engine::{self, connector::Connector, Plan, RunEnv, Shutdown};
use crate::event::EventSink;
use crate::outcome::{ErrorKind, HostOutcome, HostStatus, TaskError};
use crate::policy::BreakerState;
use crate::transport::topics::{Refused, TopicLink};

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
    /// Each host's topics and heartbeat.
    pub hearing: Hearing,
    /// The oldest heartbeat a check accepts; `None`: the host's level's interval.
    pub stale_after: Option<Duration>,
}

/// A packet's acknowledgement: its filters, whether it subscribed, the filters refused.
type Ack = (Vec<String>, bool, Result<Vec<Refused>, TaskError>);

/// How one check ended, before the rules have their say.
struct Checked {
    started: Instant,
    status: CheckStatus,
    error: Option<TaskError>,
    /// The host's breaker is open until this much later.
    cooldown: Option<Duration>,
    in_flight: usize,
    /// Judged by its heartbeat, without a connection.
    by_heartbeat: bool,
}

/// The loop's state beside its queue and its running checks.
struct Watcher {
    plan: Arc<Plan>,
    rules: Rules,
    stale_after: Option<Duration>,
    tracks: Vec<Track>,
    subscriptions: Subscriptions,
    hearing: Hearing,
    links: HashMap<String, Box<dyn TopicLink>>,
    acks: JoinSet<Ack>,
    events: WatchSink,
    connector: Arc<Connector>,
    checks: u64,
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
        mut hearing,
        stale_after,
    } = setup;
    events.emit(WatchEvent::WatchStarted {
        hosts,
        resumed,
        start_unix_ms: env.clock.now_ms(),
        concurrency: cap,
    });
    let now = Instant::now();
    hearing.start(now);
    let (topic_tx, mut messages) = mpsc::unbounded_channel();
    let mut links = HashMap::new();
    for (connection, first) in subscriptions.connections() {
        let host = &play.hosts[first];
        match env
            .transports
            .topics(&host.name, &host.endpoint, topic_tx.clone())
        {
            Some(link) => {
                links.insert(connection, link);
            }
            None => subscriptions.drop_connection(&connection),
        }
    }
    drop(topic_tx);
    let mut w = Watcher {
        plan: plan.clone(),
        rules,
        stale_after,
        tracks: starts.iter().map(|s| s.track).collect(),
        subscriptions,
        hearing,
        links,
        acks: JoinSet::new(),
        events,
        connector: connector.clone(),
        checks: 0,
    };
    let mut due: BinaryHeap<Reverse<(Instant, usize)>> = starts
        .iter()
        .enumerate()
        .map(|(i, s)| Reverse((now + s.first_in, i)))
        .collect();
    let delta = w.subscriptions.rebalance();
    w.apply(delta);
    let no_tasks = play.tasks.is_empty();
    let mut running: JoinSet<(usize, Instant, HostOutcome)> = JoinSet::new();
    let mut peak = 0usize;
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
            // A heartbeat host holding its topics: judged now, no connection.
            let span = w.stale_after.unwrap_or(w.rules.interval(w.tracks[i].level));
            match w.hearing.verdict(i, now, span) {
                Some(Verdict::NotBefore(at)) => {
                    // Not heard yet: judged then, or at its next check if that comes first.
                    let next = now + w.rules.interval(w.tracks[i].level);
                    due.push(Reverse((at.min(next), i)));
                    continue;
                }
                Some(verdict) => {
                    let error = match verdict {
                        Verdict::Failed(e) => Some(e),
                        _ => None,
                    };
                    let status = match error {
                        Some(_) => CheckStatus::Failed,
                        None => CheckStatus::Ok,
                    };
                    let checked = Checked {
                        started: now,
                        status,
                        error,
                        cooldown: None,
                        in_flight: running.len(),
                        by_heartbeat: true,
                    };
                    let at = w.conclude(i, checked);
                    due.push(Reverse((at, i)));
                    continue;
                }
                None if no_tasks && w.hearing.has_heartbeat(i) => {
                    // Nothing to check it by until its topics fit.
                    due.push(Reverse((now + w.rules.interval(w.tracks[i].level), i)));
                    continue;
                }
                None => {}
            }
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
                    if let Some(at) = w.finished(i, started, outcome, in_flight) {
                        due.push(Reverse((at, i)));
                    }
                }
            }
            Some(msg) = messages.recv() => w.hearing.message(&msg, Instant::now()),
            Some(Ok(ack)) = w.acks.join_next(), if !w.acks.is_empty() => w.acked(ack),
            _ = tokio::time::sleep_until(next.unwrap_or(now)), if next.is_some() => {}
            _ = shutdown.drained() => {}
        }
    }
    while let Some(done) = running.join_next().await {
        let in_flight = running.len() + 1;
        if let Ok((i, started, outcome)) = done {
            w.finished(i, started, outcome, in_flight);
        }
    }
    w.events.emit(WatchEvent::WatchFinished {
        checks: w.checks,
        peak_in_flight: peak,
    });
}

impl Watcher {
    /// Applies one check's outcome. Returns when the next check is due, or `None` for a
    /// check cancelled by the shutdown.
    fn finished(
        &mut self,
        i: usize,
        started: Instant,
        outcome: HostOutcome,
        in_flight: usize,
    ) -> Option<Instant> {
        let status = match (outcome.status, outcome.error.as_ref().map(|e| e.kind)) {
            (HostStatus::Cancelled, _) => return None,
            (HostStatus::Skipped, Some(ErrorKind::BreakerOpen)) => CheckStatus::BreakerOpen,
            (HostStatus::Unreachable, _) => CheckStatus::Unreachable,
            (HostStatus::Ok, _) | (HostStatus::Skipped, _) => CheckStatus::Ok,
            _ => CheckStatus::Failed,
        };
        if status == CheckStatus::Ok {
            self.hearing.answered(i, Instant::now());
        }
        let cooldown = match outcome.breaker {
            Some(BreakerState::Open { until_ms }) => Some(Duration::from_millis(
                until_ms.saturating_sub(self.connector.now_ms()),
            )),
            _ => None,
        };
        let checked = Checked {
            started,
            status,
            error: outcome.error,
            cooldown,
            in_flight,
            by_heartbeat: false,
        };
        Some(self.conclude(i, checked))
    }

    /// A check's result: the level (the result, then `idle_after`), the events, the
    /// subscriptions; returns when the next check is due.
    fn conclude(&mut self, i: usize, checked: Checked) -> Instant {
        let Checked {
            started,
            status,
            error,
            cooldown,
            in_flight,
            by_heartbeat,
        } = checked;
        let host = self.plan.plays[0].hosts[i].name.clone();
        let track = &mut self.tracks[i];
        let mut changes: Vec<(Change, Option<u64>)> = Vec::new();
        if status != CheckStatus::BreakerOpen {
            changes.extend(
                track
                    .record(&self.rules, status == CheckStatus::Ok)
                    .map(|c| (c, None)),
            );
        }
        let idle = self.hearing.idle_for(i, Instant::now());
        if let Some(c) = track.idle(&self.rules, idle) {
            changes.push((c, Some(idle.as_millis() as u64)));
        }
        let track = *track;
        let mut next = started + self.rules.interval(track.level);
        if let Some(cooldown) = cooldown {
            next = next.max(Instant::now() + cooldown);
        }
        let next = next.max(Instant::now());
        self.checks += 1;
        self.events.emit(WatchEvent::Check {
            host: host.clone(),
            status,
            level: track.level,
            failures: track.failures,
            successes: track.successes,
            error,
            duration_ms: if by_heartbeat {
                0
            } else {
                started.elapsed().as_millis() as u64
            },
            next_in_ms: (next - Instant::now()).as_millis() as u64,
            in_flight,
            breaker_open: cooldown.is_some(),
            heartbeat: by_heartbeat,
        });
        for (c, idle_ms) in changes {
            self.events.emit(WatchEvent::LevelChanged {
                host: host.clone(),
                from: c.from,
                to: c.to,
                streak: c.streak,
                idle_ms,
            });
        }
        let delta = self.subscriptions.set_level(i, track.level);
        self.apply(delta);
        next
    }

    /// Sends a subscription change to the broker and says so.
    fn apply(&mut self, delta: Delta) {
        if delta.is_empty() {
            return;
        }
        let now = Instant::now();
        for i in &delta.evicted {
            self.hearing.subscribed(*i, false, now);
        }
        for i in &delta.added {
            self.hearing.subscribed(*i, true, now);
        }
        let packets = delta
            .unsubscribe
            .iter()
            .map(|p| (p, false))
            .chain(delta.subscribe.iter().map(|p| (p, true)));
        for (packet, subscribe) in packets {
            let Some(link) = self.links.get(&packet.connection) else {
                continue;
            };
            let filters = packet.filters.clone();
            let sent = if subscribe {
                link.subscribe(filters.clone())
            } else {
                let sent = link.unsubscribe(filters.clone());
                Box::pin(async move { sent.await.map(|()| Vec::new()) })
            };
            self.acks
                .spawn(async move { (filters, subscribe, sent.await) });
        }
        let plan = &self.plan;
        let name = |i: &usize| plan.plays[0].hosts[*i].name.clone();
        let held = self.subscriptions.counts();
        self.events.emit(WatchEvent::Subscriptions {
            evicted: delta.evicted.iter().map(name).collect(),
            added: delta.added.iter().map(name).collect(),
            unsubscribe: delta.unsubscribe,
            subscribe: delta.subscribe,
            held,
            waiting: self.subscriptions.unserved(),
        });
    }

    /// Refused filters: their heartbeat hosts fail their checks saying why. A packet lost
    /// with the connection is sent again by the link after the reconnect; one that could not
    /// be sent at all counts as refused.
    fn acked(&mut self, (filters, subscribe, result): Ack) {
        if !subscribe {
            return;
        }
        match result {
            Ok(refused) => {
                for r in refused {
                    let why = format!("the broker refused it: {}", r.reason);
                    self.hearing.refused(&r.filter, &why);
                }
            }
            Err(e) if e.kind == ErrorKind::ConnectionLost => {}
            Err(e) => {
                for f in &filters {
                    self.hearing.refused(f, &e.message);
                }
            }
        }
    }
}
