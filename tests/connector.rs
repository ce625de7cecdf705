//! The resilient connector on the fake transport and tokio's paused clock, exactly: the rate
//! limit, circuit breakers across runs, retries with jittered backoff, and the fleet abort.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::support::fake::FakeTransport;
use drover::engine::breaker::BreakerState;
use drover::engine::{self, BreakerStore, Clock, Plan, PlanOptions, RunEnd, RunEnv, Shutdown};
use drover::event::{Event, EventSink, Stamped};
use drover::inventory;
use drover::outcome::{ErrorKind, HostOutcome};
use drover::playbook::Playbook;

use crate::support::{host, run_play, Test, LAB};

fn fleet(n: usize) -> String {
    let mut inv = String::from("hosts:\n");
    for i in 1..=n {
        inv.push_str(&format!("  h{i:03}: {{}}\n"));
    }
    inv
}

struct Run {
    end: RunEnd,
    events: Vec<Stamped>,
}

impl Run {
    fn outcomes(&self) -> Vec<(String, HostOutcome)> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                Event::HostFinished { host, outcome, .. } => {
                    Some((host.to_string(), outcome.clone()))
                }
                _ => None,
            })
            .collect()
    }

    fn outcome(&self, name: &str) -> HostOutcome {
        self.outcomes()
            .into_iter()
            .find(|(h, _)| h == name)
            .map(|(_, o)| o)
            .expect("host finished")
    }

    fn finished_at(&self) -> u64 {
        self.events.last().map_or(0, |e| e.at_ms)
    }
}

async fn run_with(
    n: usize,
    play: &str,
    fake: &FakeTransport,
    breakers: Arc<BreakerStore>,
    epoch_ms: u64,
) -> Run {
    let inv = inventory::from_yaml(Path::new("inv.yml"), &fleet(n)).unwrap();
    let book = Playbook::parse(Path::new("p.yml"), play).unwrap();
    let transports = fake.clone();
    let plan = Plan::build(&book, &inv, &PlanOptions::default(), &transports).unwrap();
    let (events, mut rx) = EventSink::new();
    let (_trigger, shutdown) = Shutdown::new();
    let env = RunEnv {
        transports: Arc::new(transports),
        breakers,
        clock: Clock::new(epoch_ms),
    };
    let end = engine::run(Arc::new(plan), env, events, shutdown).await;
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    Run { end, events: out }
}

async fn run(n: usize, play: &str, fake: &FakeTransport) -> Run {
    run_with(
        n,
        play,
        fake,
        Arc::new(BreakerStore::in_memory()),
        1_000_000,
    )
    .await
}

/// Connection start times in ms since the first one.
fn connect_times(fake: &FakeTransport) -> Vec<u64> {
    let log = fake.connects();
    let first = log.first().map(|(_, t)| *t).expect("connections");
    log.iter()
        .map(|(_, t)| (*t - first).as_millis() as u64)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn no_one_second_window_holds_more_connections_than_the_rate() {
    let fake = FakeTransport::default();
    let play = "- hosts: all\n  batch_size: 0\n  concurrency: 100\n  rate: 20/s\n  tasks:\n    - command: a\n";
    let run = run(100, play, &fake).await;
    let times = connect_times(&fake);
    assert_eq!(times.len(), 100);
    for (i, t) in times.iter().enumerate() {
        let in_window = times[i..].iter().take_while(|u| **u < t + 1000).count();
        assert!(
            in_window <= 20,
            "{in_window} connections in the second after {t} ms"
        );
    }
    // N hosts at rate R: (N - 1) / R after the first, exactly.
    assert_eq!(*times.last().unwrap(), 4950);
    assert!(run.finished_at() >= 4950);
}

#[tokio::test(start_paused = true)]
async fn the_rate_is_fleet_wide_across_batches() {
    let fake = FakeTransport::default();
    let play = "- hosts: all\n  batch_size: 5\n  rate: 10/s\n  tasks:\n    - command: a\n";
    run(20, play, &fake).await;
    let times = connect_times(&fake);
    let expected: Vec<u64> = (0..20).map(|i| i * 100).collect();
    assert_eq!(times, expected, "a new batch does not get a fresh bucket");
}

#[tokio::test(start_paused = true)]
async fn burst_lets_that_many_through_at_once() {
    let fake = FakeTransport::default();
    let play = "- hosts: all\n  batch_size: 0\n  concurrency: 50\n  rate: 10/s\n  burst: 5\n  tasks:\n    - command: a\n";
    run(8, play, &fake).await;
    assert_eq!(connect_times(&fake), [0, 0, 0, 0, 0, 100, 200, 300]);
}

#[tokio::test(start_paused = true)]
async fn gateway_rate_paces_hosts_behind_one_gateway() {
    let fake = FakeTransport::default();
    let mut inv = String::from("groups:\n  bastion_a: { vars: { gateway: a }, hosts: [a1, a2, a3] }\n  bastion_b: { vars: { gateway: b }, hosts: [b1, b2, b3] }\n");
    inv.push_str("hosts: { a1: {}, a2: {}, a3: {}, b1: {}, b2: {}, b3: {} }\n");
    let inv = inventory::from_yaml(Path::new("inv.yml"), &inv).unwrap();
    let play = "- hosts: all\n  batch_size: 0\n  concurrency: 10\n  rate: 1000/s\n  gateway_rate: 1/s\n  tasks:\n    - command: a\n";
    let book = Playbook::parse(Path::new("p.yml"), play).unwrap();
    let transports = fake.clone();
    let plan = Plan::build(&book, &inv, &PlanOptions::default(), &transports).unwrap();
    let (events, _rx) = EventSink::new();
    let (_t, shutdown) = Shutdown::new();
    engine::run(Arc::new(plan), RunEnv::new(transports), events, shutdown).await;
    let log = fake.connects();
    let start = log[0].1;
    let at = |h: &str| {
        log.iter()
            .find(|(n, _)| n == h)
            .map(|(_, t)| (*t - start).as_millis() as u64)
            .unwrap()
    };
    assert_eq!([at("a1"), at("a2"), at("a3")], [0, 1000, 2000]);
    assert!(
        at("b1") < 10 && at("b2") >= 1000 && at("b2") < 1010,
        "each gateway has its own bucket"
    );
}

fn dead(hosts: &[&str]) -> FakeTransport {
    let mut fake = FakeTransport::default();
    fake.unreachable = Arc::new(hosts.iter().map(|h| h.to_string()).collect());
    fake
}

const ONE_TRY: &str = "- hosts: all\n  retries: 0\n  rate: 1000/s\n  circuit_breaker: { threshold: 3, cooldown: 180s }\n  tasks:\n    - command: a\n";

#[tokio::test(start_paused = true)]
async fn breaker_opens_at_threshold_stays_open_for_cooldown_then_probes() {
    let store = Arc::new(BreakerStore::in_memory());
    let fake = dead(&["h001"]);
    let t0 = 1_000_000u64;
    for i in 1..=2 {
        let run = run_with(1, ONE_TRY, &fake, store.clone(), t0).await;
        assert_eq!(
            run.outcome("h001").breaker,
            Some(BreakerState::Closed { failures: i })
        );
    }
    let run = run_with(1, ONE_TRY, &fake, store.clone(), t0).await;
    assert_eq!(
        run.outcome("h001").breaker,
        Some(BreakerState::Open {
            until_ms: t0 + 180_000
        })
    );
    assert_eq!(fake.connects().len(), 3);
    // Within the cool-down: skipped, no connection attempt, no token.
    let run = run_with(1, ONE_TRY, &fake, store.clone(), t0 + 179_999).await;
    let o = run.outcome("h001");
    assert_eq!(o.status.as_str(), "skipped");
    assert_eq!(
        o.error.as_ref().map(|e| e.kind),
        Some(ErrorKind::BreakerOpen)
    );
    assert_eq!(o.attempts, 0);
    assert_eq!(fake.connects().len(), 3, "an open breaker makes no attempt");
    // After it: one probe; it fails, the breaker reopens for a full cool-down.
    let run = run_with(1, ONE_TRY, &fake, store.clone(), t0 + 180_000).await;
    let o = run.outcome("h001");
    assert!(o.connect_attempts[0].probe);
    assert_eq!(
        o.breaker,
        Some(BreakerState::Open {
            until_ms: t0 + 360_000
        })
    );
    assert_eq!(fake.connects().len(), 4);
    // The host comes back: the next probe closes the breaker.
    let healthy = FakeTransport::default();
    let run = run_with(1, ONE_TRY, &healthy, store.clone(), t0 + 360_000).await;
    let o = run.outcome("h001");
    assert_eq!(o.status.as_str(), "ok");
    assert_eq!(o.breaker, Some(BreakerState::Closed { failures: 0 }));
}

#[tokio::test(start_paused = true)]
async fn breaker_state_persists_across_runs_in_the_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let inv = vec![dir.path().join("inv.yml")];
    let fake = dead(&["h002"]);
    let play = ONE_TRY.replace("threshold: 3", "threshold: 1");
    let store = Arc::new(BreakerStore::open(dir.path(), &inv, false).unwrap());
    let first = run_with(3, &play, &fake, store.clone(), 5_000_000).await;
    assert_eq!(first.outcome("h002").status.as_str(), "unreachable");
    store.save(&inv).unwrap();
    // A second process, a minute later.
    let store = Arc::new(BreakerStore::open(dir.path(), &inv, false).unwrap());
    let second = run_with(3, &play, &fake, store, 5_060_000).await;
    assert_eq!(second.outcome("h002").status.as_str(), "skipped");
    assert_eq!(second.outcome("h001").status.as_str(), "ok");
    assert_eq!(
        fake.connects().iter().filter(|(h, _)| h == "h002").count(),
        1
    );
    // --reset-breakers forgets it.
    let store = Arc::new(BreakerStore::open(dir.path(), &inv, true).unwrap());
    let third = run_with(3, &play, &fake, store, 5_061_000).await;
    assert_eq!(third.outcome("h002").status.as_str(), "unreachable");
}

#[tokio::test(start_paused = true)]
async fn only_transport_failures_feed_the_breaker() {
    let store = Arc::new(BreakerStore::in_memory());
    let fake = FakeTransport::new(|_, _| drover::transport::Output {
        exit_code: Some(1),
        ..Default::default()
    });
    for _ in 0..5 {
        let run = run_with(1, ONE_TRY, &fake, store.clone(), 1_000).await;
        let o = run.outcome("h001");
        assert_eq!(o.status.as_str(), "failed");
        assert_eq!(o.breaker, Some(BreakerState::Closed { failures: 0 }));
    }
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_with_full_jitter_backoff() {
    let mut fake = FakeTransport::default();
    fake.fail_first = Arc::new(HashMap::from([(
        "h001".to_string(),
        (2, ErrorKind::Unreachable),
    )]));
    let play = "- hosts: all\n  retries: 2\n  backoff: 2s\n  backoff_cap: 60s\n  rate: 1000/ms\n  tasks:\n    - command: a\n";
    let run = run(1, play, &fake).await;
    let o = run.outcome("h001");
    assert_eq!(o.status.as_str(), "ok");
    assert_eq!(o.attempts, 3);
    let a = &o.connect_attempts;
    assert!(
        a[0].backoff_ms <= 2000,
        "attempt 1 backoff within [0, 2 s]: {}",
        a[0].backoff_ms
    );
    assert!(
        a[1].backoff_ms <= 4000,
        "attempt 2 backoff within [0, 4 s]: {}",
        a[1].backoff_ms
    );
    assert_eq!(
        a[0].error.as_ref().map(|e| e.kind),
        Some(ErrorKind::Unreachable)
    );
    assert!(a[2].error.is_none());
    // The waits between attempts are exactly the recorded backoffs.
    let times = connect_times(&fake);
    assert_eq!(times[1] - times[0], a[0].backoff_ms);
    assert_eq!(times[2] - times[1], a[1].backoff_ms);
    let retries = run
        .events
        .iter()
        .filter(|e| matches!(e.event, Event::ConnectFailed { .. }))
        .count();
    assert_eq!(retries, 2);
}

#[tokio::test(start_paused = true)]
async fn retries_stop_at_the_limit() {
    let fake = dead(&["h001"]);
    let play = "- hosts: all\n  retries: 2\n  backoff: 1s\n  rate: 1000/ms\n  circuit_breaker: { threshold: 0 }\n  tasks:\n    - command: a\n";
    let run = run(1, play, &fake).await;
    let o = run.outcome("h001");
    assert_eq!(o.status.as_str(), "unreachable");
    assert_eq!(o.attempts, 3);
    assert_eq!(
        o.connect_attempts[2].backoff_ms, 0,
        "no backoff after the last attempt"
    );
    assert_eq!(o.breaker, None, "threshold 0 turns breakers off");
}

#[tokio::test(start_paused = true)]
async fn non_transient_errors_are_not_retried() {
    for kind in [
        ErrorKind::AuthFailed,
        ErrorKind::HostKeyMismatch,
        ErrorKind::HostKeyUnknown,
    ] {
        let mut fake = FakeTransport::default();
        fake.fail_first = Arc::new(HashMap::from([("h001".to_string(), (5, kind))]));
        let play = "- hosts: all\n  retries: 4\n  rate: 1000/ms\n  tasks:\n    - command: a\n";
        let run = run(1, play, &fake).await;
        let o = run.outcome("h001");
        assert_eq!(o.attempts, 1, "{kind:?}");
        assert_eq!(o.error.map(|e| e.kind), Some(kind));
        assert_eq!(
            o.breaker,
            Some(BreakerState::Closed { failures: 0 }),
            "{kind:?} does not feed the breaker"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn max_fail_percentage_stops_exactly_when_crossed() {
    // One at a time: h003 fails. After it, 1 of 3 finished hosts failed (33.3%).
    let fake = dead(&["h003"]);
    let base = "- hosts: all\n  batch_size: 0\n  concurrency: 1\n  retries: 0\n  rate: 1000/ms\n";
    let run = run(
        10,
        &format!("{base}  max_fail_percentage: 30\n  tasks:\n    - command: a\n"),
        &fake,
    )
    .await;
    let statuses: Vec<&str> = run
        .outcomes()
        .iter()
        .map(|(_, o)| o.status.as_str())
        .collect();
    assert_eq!(
        statuses,
        [
            "ok",
            "ok",
            "unreachable",
            "cancelled",
            "cancelled",
            "cancelled",
            "cancelled",
            "cancelled",
            "cancelled",
            "cancelled"
        ]
    );
    assert!(
        run.end
            .aborted
            .as_deref()
            .unwrap_or("")
            .contains("1 of 3 finished hosts failed"),
        "{:?}",
        run.end.aborted
    );
    // 34%: 1 of 3 does not cross it, and every later share is smaller.
    let run = self::run(
        10,
        &format!("{base}  max_fail_percentage: 34\n  tasks:\n    - command: a\n"),
        &dead(&["h003"]),
    )
    .await;
    assert_eq!(run.end.aborted, None);
    assert_eq!(
        run.outcomes()
            .iter()
            .filter(|(_, o)| o.status.as_str() == "ok")
            .count(),
        9
    );
    // min_hosts_done holds the verdict back until that many hosts finished.
    let fake = dead(&["h001"]);
    let run = self::run(
        10,
        &format!(
            "{base}  max_fail_percentage: 10\n  min_hosts_done: 4\n  tasks:\n    - command: a\n"
        ),
        &fake,
    )
    .await;
    let done: Vec<&str> = run
        .outcomes()
        .iter()
        .map(|(_, o)| o.status.as_str())
        .collect();
    assert_eq!(&done[..5], ["unreachable", "ok", "ok", "ok", "cancelled"]);
}

#[tokio::test(start_paused = true)]
async fn any_errors_fatal_stops_at_the_first_failed_host() {
    let fake = dead(&["h002"]);
    let play = "- hosts: all\n  batch_size: 2\n  concurrency: 1\n  retries: 0\n  rate: 1000/ms\n  any_errors_fatal: true\n  tasks:\n    - command: a\n";
    let run = run(6, play, &fake).await;
    let statuses: Vec<&str> = run
        .outcomes()
        .iter()
        .map(|(_, o)| o.status.as_str())
        .collect();
    assert_eq!(
        statuses,
        [
            "ok",
            "unreachable",
            "cancelled",
            "cancelled",
            "cancelled",
            "cancelled"
        ]
    );
    assert!(run.end.aborted.is_some());
}

#[test]
fn abort_exits_3_with_a_complete_report() {
    let playbook = "
- hosts: all
  batch_size: 0
  concurrency: 1
  max_fail_percentage: 0
  tasks:
    - command: \"{% if inventory_hostname == 'lab-r2' %}exit 1{% else %}true{% endif %}\"
";
    let out = run_play(LAB, playbook)
        .code(3)
        .stderr_has("run aborted: max_fail_percentage 0% exceeded: 1 of 2 finished hosts failed");
    let report = out.report();
    assert_eq!(report["run"]["exit_code"], 3);
    assert_eq!(host(&report, "lab-r2")["status"], "failed");
    assert_eq!(host(&report, "lab-r3")["status"], "cancelled");
    assert_eq!(report["hosts"].as_array().map(Vec::len), Some(6));
}

#[test]
fn task_retries_until_a_condition_holds() {
    let playbook = "
- hosts: lab-r1
  tasks:
    - name: count to three
      command: n=$(( $(cat n 2>/dev/null || echo 0) + 1 )); echo $n > n; echo $n
      register: counter
      until: counter.stdout | trim == '3'
      retries: 5
      delay: 0s
    - name: never
      command: echo no
      register: never
      until: never.stdout | trim == 'yes'
      retries: 2
      delay: 0s
";
    let out = run_play(LAB, playbook).code(2);
    let report = out.report();
    let tasks = &host(&report, "lab-r1")["tasks"];
    assert_eq!(tasks[0]["status"], "ok");
    assert_eq!(tasks[0]["attempts"], 3);
    assert_eq!(tasks[0]["stdout"], "3\n");
    assert_eq!(tasks[1]["status"], "failed");
    assert_eq!(tasks[1]["attempts"], 3);
    assert_eq!(
        tasks[1]["error"]["message"],
        "`until: never.stdout | trim == 'yes'` still false after 3 run(s)"
    );
}

#[test]
fn until_without_register_is_rejected() {
    Test::new()
        .file("inv.yml", LAB)
        .file(
            "p.yml",
            "- hosts: all\n  tasks:\n    - command: 'true'\n      until: x == 1\n",
        )
        .args(&["check", "p.yml", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("`until` reads the task's registered result: add `register:`");
}

#[test]
fn bad_rate_and_percentage_are_input_errors() {
    Test::new()
        .file("inv.yml", LAB)
        .file(
            "p.yml",
            "- hosts: all\n  rate: 20/x\n  tasks:\n    - command: 'true'\n",
        )
        .args(&["check", "p.yml", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("`20/x` is not a rate")
        .stderr_has("p.yml:2:9");
    Test::new()
        .file("inv.yml", LAB)
        .args(&[
            "exec",
            "-i",
            "inv.yml",
            "all",
            "--max-fail-percentage",
            "150",
            "--",
            "true",
        ])
        .run()
        .code(1)
        .stderr_has("not a percentage from 0 to 100");
}
