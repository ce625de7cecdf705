//! The scheduler on an in-process fake transport and tokio's paused clock: batch ordering,
//! the concurrency cap, rolling windows and the event stream, exactly.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::support::fake::FakeTransport;
use drover::engine::{self, Plan, PlanOptions, RunEnv, Shutdown};
use drover::event::{Event, EventSink, HostState, Stamped};
use drover::inventory;
use drover::playbook::Playbook;

fn fleet(n: usize) -> String {
    let mut inv = String::from("hosts:\n");
    for i in 1..=n {
        inv.push_str(&format!("  h{i:02}: {{}}\n"));
    }
    inv
}

async fn run(n: usize, play: &str, fake: FakeTransport) -> Vec<Stamped> {
    let inv = inventory::from_yaml(Path::new("inv.yml"), &fleet(n)).unwrap();
    let book = Playbook::parse(Path::new("p.yml"), play).unwrap();
    let plan = Plan::build(
        &book,
        &inv,
        &PlanOptions::default(),
        &FakeTransport::default(),
    )
    .unwrap();
    let (events, mut rx) = EventSink::new();
    let (_trigger, shutdown) = Shutdown::new();
    let transports = fake;
    engine::run(Arc::new(plan), RunEnv::new(transports), events, shutdown).await;
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}

fn slow(connect: u64, command: u64) -> FakeTransport {
    let mut fake = FakeTransport::default();
    fake.connect_delay = Duration::from_millis(connect);
    fake.command_delay = Duration::from_millis(command);
    fake
}

/// Hosts in flight (connecting → finished) at most, from the event stream alone.
fn peak_in_flight(events: &[Stamped]) -> usize {
    let (mut now, mut peak) = (0usize, 0usize);
    for e in events {
        match &e.event {
            Event::HostState {
                state: HostState::Connecting,
                ..
            } => {
                now += 1;
                peak = peak.max(now);
            }
            Event::HostFinished { outcome, .. } if outcome.attempts > 0 => now -= 1,
            _ => {}
        }
    }
    peak
}

#[tokio::test(start_paused = true)]
async fn batched_no_host_of_batch_2_starts_before_batch_1_ends() {
    let play = "- hosts: all\n  batch_size: 4\n  concurrency: 4\n  rate: 1000/ms\n  burst: 1000\n  tasks:\n    - command: a\n    - command: b\n";
    let fake = slow(100, 1000);
    let events = run(10, play, fake.clone()).await;
    let mut batch_of: HashMap<String, usize> = HashMap::new();
    let mut last_end: HashMap<usize, u64> = HashMap::new();
    let mut first_start: HashMap<usize, u64> = HashMap::new();
    for e in &events {
        match &e.event {
            Event::HostState {
                batch,
                host,
                state: HostState::Connecting,
                ..
            } => {
                batch_of.insert(host.to_string(), *batch);
                first_start.entry(*batch).or_insert(e.at_ms);
            }
            Event::HostFinished { batch, .. } => {
                last_end.insert(*batch, e.at_ms);
            }
            _ => {}
        }
    }
    assert_eq!(batch_of.values().filter(|b| **b == 1).count(), 4);
    assert_eq!(batch_of.values().filter(|b| **b == 3).count(), 2);
    assert!(
        first_start[&2] >= last_end[&1],
        "{first_start:?} {last_end:?}"
    );
    assert!(
        first_start[&3] >= last_end[&2],
        "{first_start:?} {last_end:?}"
    );
    // Each batch takes connect + 2 commands = 2.1 s on the paused clock, exactly.
    assert_eq!(last_end[&3], 3 * 2100);
    assert_eq!(peak_in_flight(&events), 4);
    assert_eq!(fake.peak_sessions(), 4);
}

#[tokio::test(start_paused = true)]
async fn concurrency_is_never_exceeded_within_a_batch() {
    let play = "- hosts: all\n  batch_size: 10\n  concurrency: 3\n  tasks:\n    - command: a\n";
    let fake = slow(0, 1000);
    let events = run(10, play, fake.clone()).await;
    assert_eq!(peak_in_flight(&events), 3);
    assert_eq!(fake.peak_sessions(), 3);
    let end = events
        .iter()
        .rev()
        .find(|e| matches!(e.event, Event::RunFinished { .. }))
        .unwrap();
    assert_eq!(end.at_ms, 4000, "ceil(10/3) rounds of 1 s");
}

#[tokio::test(start_paused = true)]
async fn concurrency_in_batched_never_exceeds_the_batch_size() {
    let play = "- hosts: all\n  batch_size: 2\n  concurrency: 50\n  tasks:\n    - command: a\n";
    let events = run(6, play, slow(0, 500)).await;
    assert_eq!(peak_in_flight(&events), 2);
}

#[tokio::test(start_paused = true)]
async fn rolling_starts_the_next_host_as_one_ends() {
    // Host i takes i×100 ms; with a window of 3 the 4th host starts when the first ends.
    let play = "- hosts: all\n  strategy: rolling\n  concurrency: 3\n  rate: 1000/ms\n  burst: 1000\n  tasks:\n    - command: a\n";
    let mut fake = FakeTransport::default();
    fake.command_delay = Duration::from_millis(1000);
    let events = run(7, play, fake).await;
    assert_eq!(peak_in_flight(&events), 3);
    let starts: Vec<u64> = events
        .iter()
        .filter(|e| {
            matches!(
                e.event,
                Event::HostState {
                    state: HostState::Connecting,
                    ..
                }
            )
        })
        .map(|e| e.at_ms)
        .collect();
    assert_eq!(starts, [0, 0, 0, 1000, 1000, 1000, 2000]);
    let batches = events
        .iter()
        .filter(|e| matches!(e.event, Event::BatchStarted { .. }))
        .count();
    assert_eq!(batches, 1, "rolling is one window, not batches");
}

#[tokio::test(start_paused = true)]
async fn batch_size_zero_is_one_batch() {
    let play = "- hosts: all\n  batch_size: 0\n  concurrency: 100\n  tasks:\n    - command: a\n";
    let events = run(25, play, slow(0, 10)).await;
    let batches: Vec<usize> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::BatchStarted { hosts, .. } => Some(hosts.len()),
            _ => None,
        })
        .collect();
    assert_eq!(batches, [25]);
    assert_eq!(peak_in_flight(&events), 25);
}

#[tokio::test(start_paused = true)]
async fn unreachable_hosts_do_not_stop_the_batch() {
    let play = "- hosts: all\n  batch_size: 5\n  tasks:\n    - command: a\n";
    let mut fake = slow(0, 10);
    fake.unreachable = Arc::new(["h02".to_string(), "h04".to_string()].into_iter().collect());
    let events = run(5, play, fake).await;
    let statuses: Vec<(String, &str)> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::HostFinished { host, outcome, .. } => {
                Some((host.to_string(), outcome.status.as_str()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(statuses.len(), 5);
    assert!(statuses.contains(&("h02".into(), "unreachable")));
    assert_eq!(statuses.iter().filter(|(_, s)| *s == "ok").count(), 3);
}

#[tokio::test(start_paused = true)]
async fn shutdown_once_starts_no_new_batch() {
    let inv = inventory::from_yaml(Path::new("inv.yml"), &fleet(6)).unwrap();
    let play = "- hosts: all\n  batch_size: 2\n  tasks:\n    - command: a\n";
    let book = Playbook::parse(Path::new("p.yml"), play).unwrap();
    let plan = Arc::new(
        Plan::build(
            &book,
            &inv,
            &PlanOptions::default(),
            &FakeTransport::default(),
        )
        .unwrap(),
    );
    let (events, mut rx) = EventSink::new();
    let (trigger, shutdown) = Shutdown::new();
    let transports = slow(0, 1000);
    let run = tokio::spawn(engine::run(plan, RunEnv::new(transports), events, shutdown));
    tokio::time::sleep(Duration::from_millis(500)).await;
    trigger.fire();
    let end = run.await.unwrap();
    assert!(end.interrupted);
    let mut finished = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if let Event::HostFinished { host, outcome, .. } = e.event {
            finished.push((host.to_string(), outcome.status.as_str()));
        }
    }
    assert_eq!(
        finished,
        [
            ("h01".into(), "ok"),
            ("h02".into(), "ok"),
            ("h03".into(), "cancelled"),
            ("h04".into(), "cancelled"),
            ("h05".into(), "cancelled"),
            ("h06".into(), "cancelled")
        ]
    );
}

/// A host cut short by its deadline in the middle of a task still reports that task: started,
/// with its command, failed with what ended it (not an empty task list).
#[tokio::test(start_paused = true)]
async fn a_task_cut_by_the_host_timeout_is_in_the_report_as_started() {
    let play = "- hosts: all\n  host_timeout: 2s\n  tasks:\n    - name: quick\n      command: a\n    - name: slow\n      command: b {{ inventory_hostname }}\n";
    let fake = slow(0, 1500);
    let events = run(1, play, fake).await;
    let tasks: Vec<&drover::outcome::TaskResult> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::TaskFinished { result, .. } => Some(result),
            _ => None,
        })
        .collect();
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    assert_eq!(tasks[0].status, drover::outcome::TaskStatus::Ok);
    let cut = tasks[1];
    assert_eq!(cut.name, "slow");
    assert_eq!(cut.command, "b h01");
    assert_eq!(cut.status, drover::outcome::TaskStatus::Failed);
    assert_eq!(
        cut.error.as_ref().map(|e| e.kind),
        Some(drover::outcome::ErrorKind::HostTimeout)
    );
    assert_eq!(cut.started_ms, 1500);
    assert_eq!(cut.duration_ms, 500);
}

/// The same for a run cancelled (a second interrupt) in the middle of a task.
#[tokio::test(start_paused = true)]
async fn a_task_cut_by_a_cancel_is_in_the_report_as_started() {
    let inv = inventory::from_yaml(Path::new("inv.yml"), &fleet(1)).unwrap();
    let play =
        "- hosts: all\n  tasks:\n    - name: long\n      command: sleep {{ inventory_hostname }}\n";
    let book = Playbook::parse(Path::new("p.yml"), play).unwrap();
    let plan = Plan::build(
        &book,
        &inv,
        &PlanOptions::default(),
        &FakeTransport::default(),
    )
    .unwrap();
    let (events, mut rx) = EventSink::new();
    let (trigger, shutdown) = Shutdown::new();
    let run = tokio::spawn(engine::run(
        Arc::new(plan),
        RunEnv::new(slow(0, 60_000)),
        events,
        shutdown,
    ));
    tokio::time::sleep(Duration::from_millis(700)).await;
    trigger.fire();
    trigger.fire();
    run.await.unwrap();
    let mut cut = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if let Event::TaskFinished { result, .. } = e.event {
            cut.push(result);
        }
    }
    assert_eq!(cut.len(), 1, "{cut:?}");
    assert_eq!(cut[0].command, "sleep h01");
    assert_eq!(
        cut[0].error.as_ref().map(|e| e.kind),
        Some(drover::outcome::ErrorKind::Cancelled)
    );
    assert_eq!(cut[0].duration_ms, 700);
}
