//! `drover watch` on the fake transport and tokio's paused clock: each level's interval,
//! escalation and calming sequences, the concurrency cap, open breakers, resuming saved
//! state, and MQTT subscriptions under the broker's caps on a 1000-host watch — exactly.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::fake::{FakeTransport, SentPacket};
use crate::support::Test;
use drover::engine::{BreakerStore, Clock, Plan, PlanOptions, RunEnv, Shutdown};
use drover::inventory;
use drover::playbook::Playbook;
use drover::transport::Output;
use drover::watch::command::prepare;
use drover::watch::ledger::{self, Saved};
use drover::watch::{watch, CheckStatus, Level, Stamped, WatchEvent, WatchKeys, WatchSink};

/// Unix ms the tests' clock starts at.
const EPOCH: u64 = 1_700_000_000_000;

fn fleet(n: usize, vars: &str) -> String {
    let mut inv = format!("defaults:\n{vars}hosts:\n");
    for i in 1..=n {
        inv.push_str(&format!("  h{i:04}: {{}}\n"));
    }
    inv
}

fn plan_of(inv: &str, play: &str) -> (Plan, WatchKeys) {
    let inv = inventory::from_yaml(Path::new("inv.yml"), inv).unwrap();
    let book = Playbook::parse(Path::new("p.yml"), play).unwrap();
    let keys = book.plays[0].watch.clone().unwrap_or_default();
    let plan = Plan::build(
        &book,
        &inv,
        &PlanOptions::default(),
        &FakeTransport::default(),
    )
    .unwrap();
    (plan, keys)
}

/// Watches for `secs` seconds of paused time and returns every event.
async fn watch_for(
    plan: Plan,
    keys: &WatchKeys,
    saved: BTreeMap<String, Saved>,
    fake: FakeTransport,
    secs: f64,
) -> Vec<Stamped> {
    let clock = Clock::new(EPOCH);
    let (setup, _) = prepare(&plan, keys, saved, clock.now_ms()).unwrap();
    let env = RunEnv {
        transports: Arc::new(fake),
        breakers: Arc::new(BreakerStore::in_memory()),
        clock,
    };
    let (sink, mut rx) = WatchSink::new();
    let (trigger, shutdown) = Shutdown::new();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
        trigger.fire();
    });
    watch(Arc::new(plan), setup, env, sink, shutdown).await;
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}

/// When each host's checks ended, in ms.
/// Starts `drover watch p.yml -i inv.yml --events -` and `extra` on `inv` and `play`, its
/// events on a pipe; the returned `Test` (its directory) lives as long as the test keeps it.
fn spawn_watch(inv: &str, play: &str, extra: &[&str]) -> (Test, std::process::Child) {
    let mut args = vec!["watch", "p.yml", "-i", "inv.yml", "--events", "-"];
    args.extend(extra);
    let test = Test::new()
        .file("inv.yml", inv)
        .file("p.yml", play)
        .args(&args);
    let child = test
        .command()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start drover watch");
    (test, child)
}

fn check_times(events: &[Stamped]) -> HashMap<String, Vec<u64>> {
    let mut out: HashMap<String, Vec<u64>> = HashMap::new();
    for e in events {
        if let WatchEvent::Check { host, .. } = &e.event {
            out.entry(host.to_string()).or_default().push(e.at_ms);
        }
    }
    out
}

fn level_changes(events: &[Stamped], of: &str) -> Vec<(u64, Level, Level)> {
    events
        .iter()
        .filter_map(|e| match &e.event {
            WatchEvent::LevelChanged { host, from, to, .. } if &**host == of => {
                Some((e.at_ms, *from, *to))
            }
            _ => None,
        })
        .collect()
}

fn saved_at(level: Level, last_check_ms: u64) -> Saved {
    Saved {
        level,
        failures: 0,
        successes: 0,
        last_check_ms,
        last_change_ms: None,
        status: Some(CheckStatus::Ok),
    }
}

/// A fake whose command fails (exit 1) for `host` while `failing` says so.
fn scripted(failing: Arc<Mutex<HashSet<String>>>) -> FakeTransport {
    FakeTransport::new(move |host, _| {
        let bad = failing.lock().unwrap().contains(host);
        Output {
            exit_code: Some(i32::from(bad)),
            stdout: String::new(),
            stderr: if bad { "down\n".into() } else { String::new() },
            lines: Vec::new(),
        }
    })
}

const STEADY: &str = "- hosts: all\n  rate: 1000/s\n  burst: 1000\n  watch:\n    calm_after: { critical: 0, high: 0, normal: 0, low: 0 }\n  tasks:\n    - command: check\n";

#[tokio::test(start_paused = true)]
async fn each_level_is_checked_on_its_interval() {
    let (plan, keys) = plan_of(&fleet(5, "  transport: local\n"), STEADY);
    // Saved state puts one host at each level, each due now.
    let saved: BTreeMap<String, Saved> = Level::ALL
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let due_now = EPOCH - l.default_interval().as_millis() as u64;
            (format!("h{:04}", i + 1), saved_at(*l, due_now))
        })
        .collect();
    let events = watch_for(plan, &keys, saved, FakeTransport::default(), 1199.5).await;
    let times = check_times(&events);
    for (i, level) in Level::ALL.iter().enumerate() {
        let every = level.default_interval().as_millis() as u64;
        let expected: Vec<u64> = (0..1_200_000 / every).map(|k| k * every).collect();
        assert_eq!(times[&format!("h{:04}", i + 1)], expected, "{level}");
    }
    assert_eq!(times["h0001"].len(), 240, "CRITICAL: every 5 s");
    assert_eq!(times["h0002"].len(), 80, "HIGH: every 15 s");
    assert_eq!(times["h0003"].len(), 20, "NORMAL: every 60 s");
    assert_eq!(times["h0004"].len(), 4, "LOW: every 300 s");
    assert_eq!(times["h0005"].len(), 2, "MINIMAL: every 600 s");
}

#[tokio::test(start_paused = true)]
async fn failures_escalate_and_successes_calm_one_level_at_a_time() {
    let play = "- hosts: all\n  rate: 1000/s\n  burst: 1000\n  tasks:\n    - command: check\n";
    let (plan, keys) = plan_of(&fleet(2, "  transport: local\n"), play);
    let failing: Arc<Mutex<HashSet<String>>> = Arc::default();
    let fake = scripted(failing.clone());
    // h0001 fails from 30 s until 97 s.
    let f = failing.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        f.lock().unwrap().insert("h0001".into());
        tokio::time::sleep(Duration::from_secs(67)).await;
        f.lock().unwrap().clear();
    });
    let events = watch_for(plan, &keys, BTreeMap::new(), fake, 1500.5).await;
    use Level::*;
    assert_eq!(
        level_changes(&events, "h0001"),
        [
            // NORMAL at 0 ok; 60 fails → HIGH (next 75); 75 fails → CRITICAL (every 5 s).
            (60_000, Normal, High),
            (75_000, High, Critical),
            // 80..95 fail; 100, 105, 110 ok → HIGH; ten oks at HIGH (125..260) → NORMAL.
            (110_000, Critical, High),
            (260_000, High, Normal),
            // Twenty oks at NORMAL (320..1460) → LOW.
            (1_460_000, Normal, Low),
        ]
    );
    let times = &check_times(&events)["h0001"];
    assert_eq!(
        &times[..12],
        [
            0, 60_000, 75_000, 80_000, 85_000, 90_000, 95_000, 100_000, 105_000, 110_000, 125_000,
            140_000
        ]
    );
    // The healthy host only calms: NORMAL → LOW after 20 oks, checked at 0..1140 s.
    assert_eq!(level_changes(&events, "h0002"), [(1_140_000, Normal, Low)]);
    // Every failed check says why, with the level after it.
    let failed: Vec<(u64, Level)> = events
        .iter()
        .filter_map(|e| match &e.event {
            WatchEvent::Check {
                status: CheckStatus::Failed,
                level,
                error,
                ..
            } => {
                assert_eq!(error.as_ref().unwrap().kind.as_str(), "nonzero_exit");
                Some((e.at_ms, *level))
            }
            _ => None,
        })
        .collect();
    assert_eq!(failed.len(), 6);
    assert_eq!(failed[0], (60_000, High));
    assert!(failed[1..].iter().all(|(_, l)| *l == Critical));
}

#[tokio::test(start_paused = true)]
async fn the_concurrency_cap_is_never_exceeded() {
    let play = "- hosts: all\n  concurrency: 7\n  rate: 1000/s\n  burst: 1000\n  tasks:\n    - command: check\n";
    let (plan, keys) = plan_of(&fleet(100, "  transport: local\n"), play);
    let mut fake = FakeTransport::default();
    fake.command_delay = Duration::from_secs(2);
    let events = watch_for(plan, &keys, BTreeMap::new(), fake.clone(), 180.5).await;
    let most = events
        .iter()
        .filter_map(|e| match &e.event {
            WatchEvent::Check { in_flight, .. } => Some(*in_flight),
            _ => None,
        })
        .max();
    assert_eq!(most, Some(7));
    assert_eq!(fake.peak_sessions(), 7);
    let Some(WatchEvent::WatchFinished { peak_in_flight, .. }) = events.last().map(|e| &e.event)
    else {
        panic!("no watch_finished");
    };
    assert_eq!(*peak_in_flight, 7);
    // 100 hosts, 7 at a time, 2 s each: the first round ends at 15 × 2 s = 30 s.
    let times = check_times(&events);
    let first_round_end = times.values().map(|t| t[0]).max().unwrap();
    assert_eq!(first_round_end, 30_000);
    // A host that waited for a slot is still checked every 60 s after its first check began.
    let last = &times["h0100"];
    assert_eq!(last[..3], [30_000, 90_000, 150_000]);
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_defers_the_host_to_its_cooldown_end() {
    let play = "- hosts: all\n  rate: 1000/s\n  burst: 1000\n  retries: 0\n  circuit_breaker: { threshold: 1, cooldown: 180s }\n  tasks:\n    - command: check\n";
    let (plan, keys) = plan_of(&fleet(2, "  transport: local\n"), play);
    let mut fake = FakeTransport::default();
    fake.unreachable = Arc::new(["h0001".to_string()].into());
    let events = watch_for(plan, &keys, BTreeMap::new(), fake.clone(), 400.0).await;
    let connects: Vec<u64> = fake
        .connects()
        .iter()
        .filter(|(h, _)| h == "h0001")
        .map(|(_, at)| at.elapsed().as_millis() as u64)
        .collect();
    // Tried at 0, 180 and 360 s (ages seen from 400 s): never at CRITICAL's 5 s.
    assert_eq!(connects, [400_000, 220_000, 40_000]);
    let checks: Vec<(CheckStatus, u64, bool)> = events
        .iter()
        .filter_map(|e| match &e.event {
            WatchEvent::Check {
                host,
                status,
                next_in_ms,
                breaker_open,
                ..
            } if &**host == "h0001" => Some((*status, *next_in_ms, *breaker_open)),
            _ => None,
        })
        .collect();
    assert_eq!(checks, [(CheckStatus::Unreachable, 180_000, true); 3]);
    // The healthy host is untouched by its neighbour's breaker.
    assert_eq!(check_times(&events)["h0002"].len(), 7);
}

#[tokio::test(start_paused = true)]
async fn a_restarted_watch_resumes_each_host_at_its_level() {
    let play = "- hosts: all\n  rate: 1000/s\n  burst: 1000\n  tasks:\n    - command: check\n";
    let inv = fleet(3, "  transport: local\n");
    let (plan, keys) = plan_of(&inv, play);
    let failing: Arc<Mutex<HashSet<String>>> = Arc::new(Mutex::new(["h0002".into()].into()));
    let events = watch_for(plan, &keys, BTreeMap::new(), scripted(failing.clone()), 8.0).await;
    // h0002 failed at 0 (→ HIGH); nothing else was due within 8 s.
    assert_eq!(
        level_changes(&events, "h0002"),
        [(0, Level::Normal, Level::High)]
    );
    // Save what the ledger saw, as the command does at the end, and read it back.
    let (plan, keys) = plan_of(&inv, play);
    let (_, mut ledger) = prepare(&plan, &keys, BTreeMap::new(), EPOCH).unwrap();
    for e in &events {
        ledger.apply(e);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = ledger::state_path(dir.path(), &[dir.path().join("inv.yml")]);
    ledger.save(&path).unwrap();
    let saved = ledger::load(&path).unwrap();
    assert_eq!(saved["h0002"].level, Level::High);
    assert_eq!(saved["h0002"].failures, 1);
    assert_eq!(saved["h0001"].level, Level::Normal);
    // Restarted 20 s after the first watch began: h0002 (HIGH, checked at 0) is due at 15 s,
    // so at once, and fails again → CRITICAL; h0001 (NORMAL) is due 40 s in; h0003 too.
    let (plan, keys) = plan_of(&inv, play);
    let clock_later = EPOCH + 20_000;
    let (setup, _) = prepare(&plan, &keys, saved.clone(), clock_later).unwrap();
    assert_eq!(setup.resumed, 3);
    assert_eq!(setup.starts[1].track.level, Level::High);
    assert_eq!(setup.starts[1].first_in, Duration::ZERO);
    assert_eq!(setup.starts[0].first_in, Duration::from_secs(40));
    let env = RunEnv {
        transports: Arc::new(scripted(failing)),
        breakers: Arc::new(BreakerStore::in_memory()),
        clock: Clock::new(clock_later),
    };
    let (sink, mut rx) = WatchSink::new();
    let (trigger, shutdown) = Shutdown::new();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(45)).await;
        trigger.fire();
    });
    watch(Arc::new(plan), setup, env, sink, shutdown).await;
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    assert_eq!(
        level_changes(&events, "h0002"),
        [(0, Level::High, Level::Critical)]
    );
    assert_eq!(check_times(&events)["h0001"], [40_000]);
    let Some(WatchEvent::WatchStarted { resumed, .. }) = events.first().map(|e| &e.event) else {
        panic!("no watch_started");
    };
    assert_eq!(*resumed, 3);
}

/// 1000 MQTT nodes in shared mode with three topics each, 20 of them failing from 30 s on.
async fn subscription_watch(
    watch_keys: &str,
) -> (Vec<Stamped>, Vec<Vec<(String, usize)>>, Vec<SentPacket>) {
    let vars = "  transport: mqtt\n  mqtt_url: mqtt://127.0.0.1:1883\n";
    let play = format!(
        "- hosts: all\n  concurrency: 100\n  rate: 1000/s\n  burst: 1000\n  watch:\n{watch_keys}    subscribe: [\"node/{{{{ inventory_hostname }}}}/params/remote\", \"node/{{{{ inventory_hostname }}}}/otaurl\", \"node/{{{{ inventory_hostname }}}}/to-node\"]\n  tasks:\n    - command: check\n"
    );
    let (plan, keys) = plan_of(&fleet(1000, vars), &play);
    let failing: Arc<Mutex<HashSet<String>>> = Arc::default();
    let f = failing.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        // The last 20 nodes: the ones furthest from a subscription.
        f.lock()
            .unwrap()
            .extend((981..=1000).map(|i| format!("h{i:04}")));
    });
    let fake = scripted(failing);
    let events = watch_for(plan, &keys, BTreeMap::new(), fake.clone(), 70.0).await;
    let held = events
        .iter()
        .filter_map(|e| match &e.event {
            WatchEvent::Subscriptions { held, .. } => Some(held.clone()),
            _ => None,
        })
        .collect();
    (events, held, fake.packets())
}

fn subscription_events(events: &[Stamped]) -> Vec<&WatchEvent> {
    events
        .iter()
        .map(|e| &e.event)
        .filter(|e| matches!(e, WatchEvent::Subscriptions { .. }))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_1000_host_watch_holds_300_subscriptions_and_evicts_the_lowest_priority() {
    let (events, held, _) = subscription_watch("").await;
    let broker = "mqtt://127.0.0.1:1883".to_string();
    // Never above the cap, on the one shared connection.
    assert!(
        held.iter().all(|h| h == &[(broker.clone(), 300)]),
        "{held:?}"
    );
    let subs = subscription_events(&events);
    // At the start: the first 100 nodes in inventory order, 3 topics each, one packet.
    let WatchEvent::Subscriptions {
        subscribe, added, ..
    } = subs[0]
    else {
        unreachable!()
    };
    assert_eq!(added.len(), 100);
    assert_eq!(&*added[0], "h0001");
    assert_eq!(&*added[99], "h0100");
    assert_eq!(subscribe.len(), 1);
    assert_eq!(subscribe[0].filters.len(), 300);
    assert_eq!(subscribe[0].filters[0], "node/h0001/params/remote");
    // At 60 s the 20 failing nodes escalate to HIGH, one by one: each evicts the lowest
    // priority subscribed node, the last NORMAL one in inventory order.
    let evicted: Vec<String> = subs[1..]
        .iter()
        .flat_map(|e| match e {
            WatchEvent::Subscriptions { evicted, .. } => evicted.iter().map(|h| h.to_string()),
            _ => unreachable!(),
        })
        .collect();
    let added: Vec<String> = subs[1..]
        .iter()
        .flat_map(|e| match e {
            WatchEvent::Subscriptions { added, .. } => added.iter().map(|h| h.to_string()),
            _ => unreachable!(),
        })
        .collect();
    let expected_evicted: Vec<String> = (81..=100).rev().map(|i| format!("h{i:04}")).collect();
    assert_eq!(evicted, expected_evicted);
    let mut added_sorted = added.clone();
    added_sorted.sort();
    let expected_added: Vec<String> = (981..=1000).map(|i| format!("h{i:04}")).collect();
    assert_eq!(added_sorted, expected_added);
    // Each eviction is one UNSUBSCRIBE of that node's three topics and one SUBSCRIBE.
    for e in &subs[1..] {
        let WatchEvent::Subscriptions {
            unsubscribe,
            subscribe,
            ..
        } = e
        else {
            unreachable!()
        };
        assert_eq!(unsubscribe.len(), 1);
        assert_eq!(unsubscribe[0].filters.len(), 3);
        assert_eq!(subscribe[0].filters.len(), 3);
    }
    // Only the start and the 20 escalations to HIGH at 60 s (CRITICAL would be at 75 s).
    assert_eq!(subs.len(), 21);
}

#[tokio::test(start_paused = true)]
async fn the_aws_iot_profile_holds_50_per_connection_in_packets_of_8() {
    let (events, held, sent) = subscription_watch("    broker_profile: aws_iot\n").await;
    let broker = "mqtt://127.0.0.1:1883".to_string();
    // 16 nodes × 3 topics = 48: the 17th node's three would pass 50.
    assert!(
        held.iter().all(|h| h == &[(broker.clone(), 48)]),
        "{held:?}"
    );
    let subs = subscription_events(&events);
    let WatchEvent::Subscriptions {
        subscribe, added, ..
    } = subs[0]
    else {
        unreachable!()
    };
    assert_eq!(added.len(), 16);
    let sizes: Vec<usize> = subscribe.iter().map(|p| p.filters.len()).collect();
    assert_eq!(sizes, [8, 8, 8, 8, 8, 8]);
    // The escalating nodes evict h0016, h0015, … in turn.
    let first_evictions: Vec<String> = subs[1..4]
        .iter()
        .flat_map(|e| match e {
            WatchEvent::Subscriptions { evicted, .. } => evicted.iter().map(|h| h.to_string()),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(first_evictions, ["h0016", "h0015", "h0014"]);
    // What reached the connection's link: six SUBSCRIBEs of 8 filters at the start, on the
    // first host's link (the broker's one client), then per escalation one UNSUBSCRIBE of
    // the evicted node's three topics before the SUBSCRIBE of the escalated one's, until
    // the 16 places are HIGH.
    let at_start: Vec<(u64, bool, usize)> = sent[..6]
        .iter()
        .map(|(at, _, sub, f)| (at.elapsed().as_millis() as u64, *sub, f.len()))
        .collect();
    assert_eq!(at_start, [(70_000, true, 8); 6]);
    assert!(sent.iter().all(|(_, host, ..)| host == "h0001"));
    assert_eq!(sent.len(), 6 + 16 * 2);
    for (k, pair) in sent[6..].chunks(2).enumerate() {
        let evicted = format!("node/h{:04}/params/remote", 16 - k);
        assert_eq!((pair[0].2, &pair[0].3[0]), (false, &evicted), "{k}");
        assert_eq!(pair[0].3.len(), 3);
        assert!(pair[1].2 && pair[1].3.len() == 3, "{k}");
        assert!(pair[1].3[0].starts_with("node/h09") || pair[1].3[0].starts_with("node/h1000"));
        // Sent at 60 s (10 s before the end).
        assert_eq!(pair[1].0.elapsed(), Duration::from_secs(10));
    }
    // `max_subscriptions` lowers a profile's cap further, never raises it.
    let keys: WatchKeys =
        serde_yaml::from_str("broker_profile: aws_iot\nmax_subscriptions: 500\n").unwrap();
    assert_eq!(keys.limits().per_connection, 50);
    let keys: WatchKeys = serde_yaml::from_str("max_subscriptions: 30\n").unwrap();
    assert_eq!(keys.limits().per_connection, 30);
    assert_eq!(WatchKeys::default().limits().per_connection, 300);
}

/// Each host's checks: (ms, status, heartbeat, level after, error).
fn checks_of(events: &[Stamped], of: &str) -> Vec<(u64, CheckStatus, bool, Level, Option<String>)> {
    events
        .iter()
        .filter_map(|e| match &e.event {
            WatchEvent::Check {
                host,
                status,
                heartbeat,
                level,
                error,
                ..
            } if &**host == of => Some((
                e.at_ms,
                *status,
                *heartbeat,
                *level,
                error.as_ref().map(|e| e.message.clone()),
            )),
            _ => None,
        })
        .collect()
}

/// Publishes `node/<host>/status` for `hosts` every 10 s from `from` s until `until` s.
fn heartbeats(fake: &FakeTransport, hosts: Vec<String>, from: u64, until: u64) {
    let fake = fake.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(from)).await;
        let mut at = from;
        while at <= until {
            for h in &hosts {
                fake.publish(&format!("node/{h}/status"), false);
            }
            tokio::time::sleep(Duration::from_secs(10)).await;
            at += 10;
        }
    });
}

/// 20 MQTT nodes watched by their heartbeat topic with room for 10: the 10 that hold it are
/// judged by it (no connection, no tasks), the others by their tasks. h0002 holds its topic
/// and never beats; h0015 fails its tasks at once, which gives it h0010's place, and beats
/// neither.
#[tokio::test(start_paused = true)]
async fn heartbeat_hosts_are_judged_by_their_topic_and_the_rest_by_their_tasks() {
    let vars = "  transport: mqtt\n  mqtt_url: mqtt://127.0.0.1:1883\n";
    let play = "- hosts: all\n  rate: 1000/s\n  burst: 1000\n  watch:\n    max_subscriptions: 10\n    heartbeat: { topic: \"node/{{ inventory_hostname }}/status\" }\n  tasks:\n    - command: check\n";
    let (plan, keys) = plan_of(&fleet(20, vars), play);
    let failing: Arc<Mutex<HashSet<String>>> = Arc::new(Mutex::new(["h0015".into()].into()));
    let fake = scripted(failing);
    let beating: Vec<String> = (1..=20)
        .filter(|i| *i != 2 && *i != 15)
        .map(|i| format!("h{i:04}"))
        .collect();
    heartbeats(&fake, beating, 5, 1000);
    // An old, retained status of the silent node is no heartbeat.
    let f = fake.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        f.publish("node/h0002/status", true);
    });
    let events = watch_for(plan, &keys, BTreeMap::new(), fake.clone(), 130.5).await;
    use CheckStatus::*;
    use Level::*;
    // Subscribed at 0 and judged one span (NORMAL's 60 s) later, by its heartbeat.
    assert_eq!(
        checks_of(&events, "h0001"),
        [
            (60_000, Ok, true, Normal, None),
            (120_000, Ok, true, Normal, None)
        ]
    );
    for i in (3..=9).chain(11..=14).chain(16..=20) {
        let checks = checks_of(&events, &format!("h{i:04}"));
        assert!(
            checks.iter().all(|c| c.1 == Ok && c.3 == Normal),
            "{i}: {checks:?}"
        );
        // The ones without a place are checked by their tasks, from the start.
        assert_eq!(checks[0].2, i <= 9, "{i}");
    }
    let h2 = checks_of(&events, "h0002");
    assert_eq!(
        h2[0],
        (
            60_000,
            Failed,
            true,
            High,
            Some("no heartbeat on node/h0002/status in the 1m since it was subscribed (stale after 1m)".into())
        )
    );
    assert_eq!((h2[1].0, h2[1].3), (75_000, Critical));
    assert_eq!(
        level_changes(&events, "h0002"),
        [(60_000, Normal, High), (75_000, High, Critical)]
    );
    // h0015: its tasks fail at 0 (HIGH, subscribed in h0010's place), then its silence
    // fails it at 15 s, judged on HIGH's span.
    let h15 = checks_of(&events, "h0015");
    assert_eq!((h15[0].0, h15[0].1, h15[0].2), (0, Failed, false));
    assert_eq!(
        h15[1],
        (
            15_000,
            Failed,
            true,
            Critical,
            Some("no heartbeat on node/h0015/status in the 15s since it was subscribed (stale after 15s)".into())
        )
    );
    // h0010 lost its place before its first judgment: its tasks check it.
    assert_eq!(
        checks_of(&events, "h0010"),
        [
            (60_000, Ok, false, Normal, None),
            (120_000, Ok, false, Normal, None)
        ]
    );
    // Ten hosts without a place from the start, checked by their tasks.
    let waiting: Vec<usize> = subscription_events(&events)
        .iter()
        .map(|e| match e {
            WatchEvent::Subscriptions { waiting, .. } => *waiting,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(waiting, [10, 10]);
    // What the link carried: the first ten, then h0010 out and h0015 in; nothing when
    // h0002 escalated (the ten places were the right ones already).
    let sent: Vec<(u64, bool, Vec<String>)> = fake
        .packets()
        .into_iter()
        .map(|(at, _, sub, f)| (130_500 - at.elapsed().as_millis() as u64, sub, f))
        .collect();
    let first: Vec<String> = (1..=10).map(|i| format!("node/h{i:04}/status")).collect();
    assert_eq!(
        sent,
        [
            (0, true, first),
            (0, false, vec!["node/h0010/status".to_string()]),
            (0, true, vec!["node/h0015/status".to_string()]),
        ]
    );
}

/// `heartbeat.topic` is rendered per host: one rendering empty has no heartbeat (and so no
/// topic to hold), one with a wildcard is an error that names the host.
#[tokio::test(start_paused = true)]
async fn heartbeat_topics_render_per_host_and_must_name_one_topic() {
    let inv = "defaults:\n  transport: mqtt\n  mqtt_url: mqtt://127.0.0.1:1883\nhosts:\n  a: { vars: { status_topic: site/a/alive } }\n  b: {}\n";
    let play = |topic: &str| {
        format!("- hosts: all\n  watch:\n    heartbeat: {{ topic: \"{topic}\" }}\n  tasks: []\n")
    };
    let (plan, keys) = plan_of(inv, &play("{{ status_topic | default('') }}"));
    let (mut setup, _) = prepare(&plan, &keys, BTreeMap::new(), EPOCH).unwrap();
    assert!(setup.hearing.has_heartbeat(0));
    assert!(!setup.hearing.has_heartbeat(1));
    let delta = setup.subscriptions.rebalance();
    assert_eq!(delta.subscribe.len(), 1);
    assert_eq!(delta.subscribe[0].filters, ["site/a/alive"]);
    let (plan, keys) = plan_of(inv, &play("node/+/status"));
    let err = prepare(&plan, &keys, BTreeMap::new(), EPOCH)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`watch.heartbeat.topic: node/+/status` is `node/+/status` for a: a heartbeat is one node's topic"),
        "{err}"
    );
}

/// A SUBSCRIBE the broker refuses fails its heartbeat hosts' checks with the broker's reason
/// at their first judgment, rather than waiting for beats that cannot come.
#[tokio::test(start_paused = true)]
async fn a_refused_heartbeat_subscription_fails_the_checks_with_the_reason() {
    let vars = "  transport: mqtt\n  mqtt_url: mqtt://127.0.0.1:1883\n";
    let play = "- hosts: all\n  rate: 1000/s\n  burst: 1000\n  watch:\n    heartbeat: { topic: \"node/{{ inventory_hostname }}/status\" }\n  tasks: []\n";
    let (plan, keys) = plan_of(&fleet(2, vars), play);
    let mut fake = FakeTransport::default();
    fake.refuse = Arc::new(["node/h0002/status".to_string()].into());
    heartbeats(&fake, vec!["h0001".into(), "h0002".into()], 5, 1000);
    let events = watch_for(plan, &keys, BTreeMap::new(), fake, 60.5).await;
    assert_eq!(
        checks_of(&events, "h0001"),
        [(60_000, CheckStatus::Ok, true, Level::Normal, None)]
    );
    assert_eq!(
        checks_of(&events, "h0002"),
        [(
            60_000,
            CheckStatus::Failed,
            true,
            Level::High,
            Some(
                "subscribing to node/h0002/status failed: the broker refused it: NotAuthorized"
                    .into()
            )
        )]
    );
}

/// Nodes in per-node mode have their own connection for one check only: they hold no
/// topics (nothing is sent, no event claims otherwise) and their tasks check them, while the
/// shared-mode nodes of the same watch hold theirs.
#[tokio::test(start_paused = true)]
async fn per_node_hosts_hold_no_topics_and_are_checked_by_their_tasks() {
    let inv = "defaults:\n  transport: mqtt\n  mqtt_url: mqtt://127.0.0.1:1883\nhosts:\n  a: {}\n  b: { vars: { mqtt_mode: per_node } }\n";
    let play = "- hosts: all\n  rate: 1000/s\n  burst: 1000\n  watch:\n    heartbeat: { topic: \"node/{{ inventory_hostname }}/status\" }\n  tasks:\n    - command: check\n";
    let (plan, keys) = plan_of(inv, play);
    let fake = FakeTransport::default();
    heartbeats(&fake, vec!["a".into(), "b".into()], 5, 1000);
    let events = watch_for(plan, &keys, BTreeMap::new(), fake.clone(), 60.5).await;
    let sent: Vec<(String, Vec<String>)> = fake
        .packets()
        .into_iter()
        .map(|(_, host, _, f)| (host, f))
        .collect();
    assert_eq!(sent, [("a".to_string(), vec!["node/a/status".to_string()])]);
    let subs = subscription_events(&events);
    assert_eq!(subs.len(), 1);
    let WatchEvent::Subscriptions { held, added, .. } = subs[0] else {
        unreachable!()
    };
    assert_eq!(held, &[("mqtt://127.0.0.1:1883".to_string(), 1)]);
    assert_eq!(added.len(), 1);
    assert!(checks_of(&events, "a")[0].2, "a is judged by its heartbeat");
    let b = checks_of(&events, "b");
    assert_eq!(b.len(), 2);
    assert!(b.iter().all(|c| c.1 == CheckStatus::Ok && !c.2), "{b:?}");
}

/// The field note's rule: no activity for more than 300 s makes a host HIGH. With failures
/// escalating nothing, a host failing from the start is raised at its first check after
/// 300 s (360 s: at 300 s it was exactly 300 s); `idle_after: 0s` turns the rule off.
#[tokio::test(start_paused = true)]
async fn a_host_not_heard_from_for_more_than_300_s_goes_high() {
    for (extra, expected) in [
        ("", vec![(360_000, Level::Normal, Level::High)]),
        ("    idle_after: 0s\n", vec![]),
    ] {
        let play = format!("- hosts: all\n  rate: 1000/s\n  burst: 1000\n  watch:\n    high_after: 0\n    critical_after: 0\n{extra}  tasks:\n    - command: check\n");
        let (plan, keys) = plan_of(&fleet(2, "  transport: local\n"), &play);
        let failing: Arc<Mutex<HashSet<String>>> = Arc::new(Mutex::new(["h0001".into()].into()));
        let events = watch_for(plan, &keys, BTreeMap::new(), scripted(failing), 400.5).await;
        assert_eq!(level_changes(&events, "h0001"), expected, "{extra:?}");
        // The healthy host is heard at every check.
        assert_eq!(level_changes(&events, "h0002"), [], "{extra:?}");
        if expected.is_empty() {
            continue;
        }
        let idle: Vec<Option<u64>> = events
            .iter()
            .filter_map(|e| match &e.event {
                WatchEvent::LevelChanged { idle_ms, .. } => Some(*idle_ms),
                _ => None,
            })
            .collect();
        assert_eq!(idle, [Some(360_000)]);
        // Then on HIGH's interval.
        assert_eq!(
            check_times(&events)["h0001"][6..],
            [360_000, 375_000, 390_000]
        );
    }
}

/// A heartbeat that stopped while `stale_after` is still generous: the checks pass, and
/// once more than 300 s passed since the last beat the host is raised to HIGH anyway.
#[tokio::test(start_paused = true)]
async fn a_quiet_heartbeat_host_goes_high_before_it_goes_stale() {
    let vars = "  transport: mqtt\n  mqtt_url: mqtt://127.0.0.1:1883\n";
    let play = "- hosts: all\n  rate: 1000/s\n  burst: 1000\n  watch:\n    start: low\n    heartbeat: { topic: \"node/{{ inventory_hostname }}/status\", stale_after: 900s }\n  tasks: []\n";
    let (plan, keys) = plan_of(&fleet(1, vars), play);
    let fake = FakeTransport::default();
    heartbeats(&fake, vec!["h0001".into()], 5, 95);
    let events = watch_for(plan, &keys, BTreeMap::new(), fake, 640.5).await;
    use CheckStatus::*;
    use Level::*;
    let checks = checks_of(&events, "h0001");
    // Not judged at 0 (not heard yet): at LOW's next check, 300 s.
    assert_eq!(checks[0], (300_000, Ok, true, Low, None));
    assert_eq!(checks[1], (600_000, Ok, true, High, None));
    assert_eq!(
        checks[2..],
        [
            (615_000, Ok, true, High, None),
            (630_000, Ok, true, High, None)
        ]
    );
    assert_eq!(level_changes(&events, "h0001"), [(600_000, Low, High)]);
    let idle = events.iter().find_map(|e| match &e.event {
        WatchEvent::LevelChanged { idle_ms, .. } => *idle_ms,
        _ => None,
    });
    // The last beat was at 95 s.
    assert_eq!(idle, Some(505_000));
}

/// 200 MQTT nodes through real mosquitto and the node simulator, checked by request and
/// reply. Once every node has answered, 10 go silent: they escalate to CRITICAL while the
/// other 190 stay at NORMAL; then SIGTERM ends the watch and its report is written.
#[test]
fn mosquitto_200_nodes_10_go_silent_escalate_and_sigterm_writes_the_report() {
    use crate::support::mosquitto::{Behaviour, Mosquitto, Simulator};
    use std::io::BufRead;
    use std::sync::atomic::{AtomicBool, Ordering};

    let broker = Mosquitto::start();
    let silenced = Arc::new(AtomicBool::new(false));
    let quiet: HashSet<String> = (1..=10).map(|i| format!("n{}", i * 20)).collect();
    let (s, q) = (silenced.clone(), quiet.clone());
    let sim = Simulator::start(
        broker.port,
        Arc::new(move |node: &str| {
            if s.load(Ordering::SeqCst) && q.contains(node) {
                Behaviour::Silent
            } else {
                Behaviour::Ok
            }
        }),
    );
    let mut inv = format!(
        "defaults:\n  transport: mqtt\n  mqtt_url: {}\nhosts:\n",
        broker.url()
    );
    for i in 1..=200 {
        inv.push_str(&format!("  n{i}: {{}}\n"));
    }
    let play = r#"
- hosts: all
  concurrency: 50
  rate: 1000/s
  burst: 1000
  watch:
    intervals: { critical: 300ms, high: 600ms, normal: 1s }
    calm_after: { normal: 0 }
  tasks:
    - name: ping
      mqtt:
        topic: "node/{{ node_id }}/to-node"
        payload: { cmd: "ping {{ node_id }}" }
        reply:
          topic: "node/{{ node_id }}/from-node"
          status_field: status
          timeout: 500ms
"#;
    let (test, mut child) = spawn_watch(&inv, play, &["--report", "report.json"]);
    let stdout = child.stdout.take().unwrap();
    let mut answered: HashSet<String> = HashSet::new();
    let mut critical: HashSet<String> = HashSet::new();
    let mut checks_since: HashMap<String, u32> = HashMap::new();
    let mut events = Vec::new();
    let mut termed = false;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let e: serde_json::Value = serde_json::from_str(&line).unwrap();
        let host = e["host"].as_str().unwrap_or("").to_string();
        match e["event"].as_str() {
            Some("check") if !silenced.load(Ordering::SeqCst) => {
                assert_eq!(e["status"], "ok", "{line}");
                answered.insert(host);
                if answered.len() == 200 {
                    silenced.store(true, Ordering::SeqCst);
                }
            }
            Some("check") => *checks_since.entry(host).or_default() += 1,
            Some("level_changed") if e["to"] == "critical" => {
                critical.insert(host);
            }
            _ => {}
        }
        events.push(e);
        let settled = checks_since
            .iter()
            .filter(|(h, n)| !quiet.contains(*h) && **n >= 3)
            .count();
        if !termed && critical.len() == 10 && settled == 190 {
            // SAFETY: a signal to the child this test started.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            termed = true;
        }
    }
    let status = child.wait().unwrap();
    assert!(termed, "the silent nodes never all reached CRITICAL");
    assert_eq!(critical, quiet);
    // Some host's last check failed: exit 2.
    assert_eq!(status.code(), Some(2));
    assert_eq!(events.last().unwrap()["event"], "watch_finished");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(test.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["levels"]["critical"], 10);
    assert_eq!(report["levels"]["normal"], 190);
    for h in report["hosts"].as_array().unwrap() {
        let name = h["host"].as_str().unwrap();
        if quiet.contains(name) {
            assert_eq!(h["level"], "critical", "{h}");
            assert_eq!(h["status"], "failed", "{h}");
            assert!(h["error"].as_str().unwrap().starts_with("no_reply"), "{h}");
        } else {
            assert_eq!(h["level"], "normal", "{h}");
            assert_eq!(h["failed_checks"], 0, "{h}");
            assert_eq!(h["level_changes"], 0, "{h}");
        }
    }
    // Every silent node was asked again after it went quiet.
    for n in &quiet {
        assert!(sim.seen(n) >= 3, "{n}: {}", sim.seen(n));
    }
    // The next watch resumes them at CRITICAL.
    let state_dir = test.path().join(".state/drover");
    let saved = std::fs::read_dir(&state_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("watch-") && name.ends_with(".json")
        })
        .expect("a watch state file");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(saved.path()).unwrap()).unwrap();
    assert_eq!(saved["hosts"]["n20"]["level"], "critical");
    assert_eq!(saved["hosts"]["n1"]["level"], "normal");
}

const LOCAL_INV: &str = "defaults:\n  transport: local\nhosts:\n  a: {}\n";

#[test]
fn bad_watch_keys_are_reported_with_their_position_and_nothing_runs() {
    let cases = [
        (
            "- hosts: all\n  watch:\n    intervls: { normal: 2s }\n  tasks:\n    - command: touch ran\n",
            "p.yml:3:5",
            "did you mean the key `intervals`?",
        ),
        (
            "- hosts: all\n  watch:\n    intervals: { normal: 0s }\n  tasks:\n    - command: touch ran\n",
            "p.yml:3:16",
            "a level's interval must be above zero",
        ),
        (
            "- hosts: all\n  watch:\n    heartbeat: { topc: \"n/{{ node_id }}/s\" }\n  tasks:\n    - command: touch ran\n",
            "p.yml:3:18",
            "did you mean the key `topic`?",
        ),
        (
            "- hosts: all\n  watch:\n    heartbeat: { topic: x, stale_after: 0s }\n  tasks:\n    - command: touch ran\n",
            "p.yml:3:16",
            "`stale_after` must be above zero",
        ),
        (
            "- hosts: all\n  watch:\n    idle_after: soon\n  tasks:\n    - command: touch ran\n",
            "p.yml:3:17",
            "`soon` is not a duration",
        ),
        (
            "- hosts: all\n  watch:\n    start: urgent\n  tasks:\n    - command: touch ran\n",
            "p.yml:3:12",
            "expected one of `critical`, `high`, `normal`, `low`, `minimal`",
        ),
        (
            "- hosts: all\n  watch:\n    subscribe: [\"{{ id }/x\"]\n  tasks:\n    - command: touch ran\n",
            "p.yml:3:16",
            "does not compile as a template",
        ),
        (
            "- hosts: all\n  tasks:\n    - command: touch ran\n- hosts: all\n  tasks:\n    - command: touch ran\n",
            "p.yml",
            "a watch runs one play, and this playbook has 2",
        ),
    ];
    for (play, at, message) in cases {
        let out = Test::new()
            .file("inv.yml", LOCAL_INV)
            .file("p.yml", play)
            .args(&["watch", "p.yml", "-i", "inv.yml"])
            .run()
            .code(1)
            .stderr_has(at)
            .stderr_has(message);
        assert!(!out.dir.join("ran").exists(), "{play}");
    }
}

#[test]
fn run_ignores_the_watch_section() {
    let play = "- hosts: all\n  watch:\n    start: high\n  tasks:\n    - command: \"true\"\n";
    let out = crate::support::run_play(LOCAL_INV, play).code(0);
    assert_eq!(out.report()["counts"]["ok"], 1);
}

/// 200 MQTT nodes watched by their heartbeat through real mosquitto, under the AWS IoT
/// profile (8 filters per SUBSCRIBE) with room for 49 topics (one place is the reply
/// filter's): n1..n49 hold theirs at the start, the rest are checked by request and reply.
/// Ten nodes are silent from the start, five with a place and five without; the broker's
/// own log says what was subscribed, packet by packet.
#[test]
fn mosquitto_200_heartbeat_nodes_under_a_49_topic_cap() {
    use crate::support::mosquitto::{Behaviour, Mosquitto, Simulator};
    use std::io::BufRead;

    let broker = Mosquitto::start_logging();
    let silent: HashSet<String> = [4, 14, 24, 34, 44, 105, 125, 145, 165, 185]
        .iter()
        .map(|i| format!("n{i}"))
        .collect();
    let q = silent.clone();
    let behave = Arc::new(move |node: &str| {
        if q.contains(node) {
            Behaviour::Silent
        } else {
            Behaviour::Ok
        }
    });
    let sim = Simulator::start(broker.port, behave.clone());
    let nodes: Vec<String> = (1..=200).map(|i| format!("n{i}")).collect();
    sim.beat(nodes.clone(), Duration::from_millis(200), behave);
    let mut inv = format!(
        "defaults:\n  transport: mqtt\n  mqtt_url: {}\nhosts:\n",
        broker.url()
    );
    for n in &nodes {
        inv.push_str(&format!("  {n}: {{}}\n"));
    }
    let play = r#"
- hosts: all
  concurrency: 50
  rate: 1000/s
  burst: 1000
  watch:
    intervals: { critical: 300ms, high: 600ms, normal: 1s }
    calm_after: { normal: 0 }
    broker_profile: aws_iot
    max_subscriptions: 49
    # Generous on a loaded test machine: beats come every 200 ms.
    heartbeat: { topic: "node/{{ node_id }}/status", stale_after: 2s }
  tasks:
    - name: ping
      mqtt:
        topic: "node/{{ node_id }}/to-node"
        payload: { cmd: "ping {{ node_id }}" }
        reply:
          topic: "node/{{ node_id }}/from-node"
          status_field: status
          timeout: 500ms
"#;
    let (test, mut child) = spawn_watch(&inv, play, &["--report", "report.json"]);
    let stdout = child.stdout.take().unwrap();
    // Per host: its checks as (status, judged by heartbeat).
    let mut checks: HashMap<String, Vec<(String, bool)>> = HashMap::new();
    let mut critical: HashSet<String> = HashSet::new();
    let mut termed = false;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let e: serde_json::Value = serde_json::from_str(&line).unwrap();
        let host = e["host"].as_str().unwrap_or("").to_string();
        match e["event"].as_str() {
            Some("check") => checks.entry(host).or_default().push((
                e["status"].as_str().unwrap().to_string(),
                e["heartbeat"] == true,
            )),
            Some("level_changed") if e["to"] == "critical" => {
                critical.insert(host);
            }
            _ => {}
        }
        let settled = nodes
            .iter()
            .filter(|n| !silent.contains(*n) && checks.get(*n).is_some_and(|c| c.len() >= 3))
            .count();
        if !termed && critical.len() == 10 && settled == 190 {
            // SAFETY: a signal to the child this test started.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            termed = true;
        }
    }
    let status = child.wait().unwrap();
    let log = || std::fs::read_to_string(broker.dir.path().join("mosquitto.log")).unwrap();
    assert!(
        termed,
        "the silent nodes never all reached CRITICAL: {critical:?}"
    );
    assert_eq!(critical, silent);
    assert_eq!(status.code(), Some(2));
    // The ones that beat settle: ok at NORMAL, judged by their heartbeat while they hold
    // their topic (n1) and by their tasks while they do not (n100).
    assert!(
        checks["n1"].iter().all(|c| c == &("ok".to_string(), true)),
        "{:?}",
        checks["n1"]
    );
    assert!(
        checks["n100"]
            .iter()
            .all(|c| c == &("ok".to_string(), false)),
        "{:?}",
        checks["n100"]
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(test.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["levels"]["critical"], 10);
    assert_eq!(report["levels"]["normal"], 190);
    for h in report["hosts"].as_array().unwrap() {
        let name = h["host"].as_str().unwrap();
        if silent.contains(name) {
            assert_eq!(h["status"], "failed", "{h}");
            assert!(
                h["error"]
                    .as_str()
                    .unwrap()
                    .contains("no heartbeat on node/"),
                "{h}"
            );
        } else {
            assert_eq!(h["failed_checks"], 0, "{h}");
            assert_eq!(h["level"], "normal", "{h}");
        }
    }
    // The broker's side. The reply filter: one SUBSCRIBE of its own.
    let sent = broker.packets("drover-");
    assert!(
        sent.iter().all(|p| p.filters.len() <= 8),
        "{sent:?}\n{}",
        log()
    );
    let replies: Vec<_> = sent
        .iter()
        .filter(|p| p.filters == ["node/+/from-node"])
        .collect();
    assert_eq!(replies.len(), 1, "{sent:?}");
    let watch: Vec<_> = sent
        .iter()
        .filter(|p| p.filters != ["node/+/from-node"])
        .collect();
    // At the start: n1..n49's heartbeats in packets of 8, 8, 8, 8, 8, 8 and 1.
    let first: Vec<String> = watch[..7].iter().flat_map(|p| p.filters.clone()).collect();
    let expected: Vec<String> = (1..=49).map(|i| format!("node/n{i}/status")).collect();
    assert_eq!(first, expected, "{}", log());
    let sizes: Vec<usize> = watch[..7].iter().map(|p| p.filters.len()).collect();
    assert_eq!(sizes, [8, 8, 8, 8, 8, 8, 1]);
    // Then each silent node without a place fails its request, escalates and takes the place
    // of the calmest node with one (n49, n48, … n45): UNSUBSCRIBE before SUBSCRIBE.
    let rest = &watch[7..];
    assert_eq!(rest.len(), 10, "{rest:?}");
    let mut evicted = Vec::new();
    let mut taken = Vec::new();
    for pair in rest.chunks(2) {
        assert!(!pair[0].subscribe && pair[1].subscribe, "{pair:?}");
        evicted.extend(pair[0].filters.clone());
        taken.extend(pair[1].filters.clone());
    }
    let expected_evicted: Vec<String> = (45..=49)
        .rev()
        .map(|i| format!("node/n{i}/status"))
        .collect();
    assert_eq!(evicted, expected_evicted);
    taken.sort();
    let expected_taken: Vec<String> = [105, 125, 145, 165, 185]
        .iter()
        .map(|i| format!("node/n{i}/status"))
        .collect();
    assert_eq!(taken, expected_taken);
    // What the broker holds for the watch at the end: 49 topics, the ten silent nodes among
    // them; never more than 49 on the way.
    let mut held: HashSet<String> = HashSet::new();
    for p in &watch {
        for f in &p.filters {
            if p.subscribe {
                held.insert(f.clone());
            } else {
                held.remove(f);
            }
        }
        assert!(held.len() <= 49);
    }
    assert_eq!(held.len(), 49);
    for n in &silent {
        assert!(held.contains(&format!("node/{n}/status")), "{n}");
    }
    // The silent nodes with a place were never asked (judged by their topic); those without
    // were asked once, which failed.
    for i in [4, 14, 24, 34, 44] {
        assert_eq!(sim.seen(&format!("n{i}")), 0, "n{i}");
    }
    for i in [105, 125, 145, 165, 185] {
        assert_eq!(sim.seen(&format!("n{i}")), 1, "n{i}");
    }
}

/// The broker restarts with no memory of its clients: the watch's connection comes back and
/// sends its heartbeat SUBSCRIBE again, and the nodes are judged ok by their heartbeats again.
#[test]
fn after_a_broker_restart_the_watch_subscribes_its_topics_again() {
    use crate::support::mosquitto::{Behaviour, Mosquitto, Simulator};
    use std::io::BufRead;

    let mut broker = Mosquitto::start_logging();
    let behave = Arc::new(|_: &str| Behaviour::Ok);
    let sim = Simulator::start(broker.port, behave.clone());
    let nodes: Vec<String> = (1..=5).map(|i| format!("n{i}")).collect();
    sim.beat(nodes.clone(), Duration::from_millis(200), behave);
    let mut inv = format!(
        "defaults:\n  transport: mqtt\n  mqtt_url: {}\nhosts:\n",
        broker.url()
    );
    for n in &nodes {
        inv.push_str(&format!("  {n}: {{}}\n"));
    }
    let play = "- hosts: all\n  watch:\n    intervals: { critical: 300ms, high: 600ms, normal: 1s }\n    heartbeat: { topic: \"node/{{ node_id }}/status\", stale_after: 3s }\n  tasks: []\n";
    let (_test, mut child) = spawn_watch(&inv, play, &[]);
    let stdout = child.stdout.take().unwrap();
    let mut oks: HashMap<String, u32> = HashMap::new();
    let mut restarted = false;
    let mut termed = false;
    for line in std::io::BufReader::new(stdout).lines() {
        let e: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        if e["event"] != "check" {
            continue;
        }
        let host = e["host"].as_str().unwrap().to_string();
        if e["status"] == "ok" && e["heartbeat"] == true {
            *oks.entry(host).or_default() += 1;
        }
        let all = |n: u32| nodes.iter().all(|h| oks.get(h).is_some_and(|k| *k >= n));
        if !restarted && all(2) {
            broker.restart();
            restarted = true;
            oks.clear();
        } else if restarted && !termed && all(5) {
            // Five checks a second apart: the last ones need beats newer than the restart
            // (stale after 3 s).
            // SAFETY: a signal to the child this test started.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            termed = true;
        }
    }
    child.wait().unwrap();
    assert!(
        termed,
        "the heartbeats were not judged ok again after the restart"
    );
    let filters: Vec<String> = nodes.iter().map(|n| format!("node/{n}/status")).collect();
    let sent: Vec<(bool, Vec<String>)> = broker
        .packets("drover-")
        .into_iter()
        .map(|p| (p.subscribe, p.filters))
        .collect();
    assert_eq!(sent, [(true, filters.clone()), (true, filters)]);
}
