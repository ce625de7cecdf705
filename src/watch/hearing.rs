//! What the watch has heard from each host: the messages on its subscribed topics, its
//! heartbeat, its last activity. Pure bookkeeping on tokio's clock (the scheduler feeds it),
//! so staleness is tested exactly.
//!
//! - A message counts when it is news: a retained message is the broker's copy of an old
//!   one and says nothing about the node now.
//! - A heartbeat host holding its topics is judged by its heartbeat alone: fresh when the
//!   last one is at most `stale_after` old (the host's level's interval unless set). Right
//!   after its topics are subscribed it is not judged before one such span has passed, so a
//!   node is neither "ok" nor "silent" before it had the chance to speak.
//! - With a `status_field`, the last heartbeat must also say ok in that field of its JSON;
//!   one that says otherwise (or is not JSON) fails the check with what it said.
//! - Activity (for `idle_after`) is any message on the host's topics, or a check that passed
//!   by running its tasks; the watch's start counts as the first.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::outcome::{ErrorKind, TaskError};
use crate::playbook::mqtt::JsonPath;
use crate::transport::mqtt::is_ok_status;
use crate::transport::topics::{filter_matches, TopicMessage};

/// One host.
#[derive(Debug, Clone)]
struct Host {
    heartbeat: Option<String>,
    last_beat: Option<Instant>,
    last_activity: Instant,
    /// Since when the host holds its topics; `None` while it holds none.
    subscribed_at: Option<Instant>,
    /// Why the broker refused its topics, if it did.
    refused: Option<String>,
    /// What the last heartbeat's status field said when it was not ok.
    bad_status: Option<String>,
}

/// A heartbeat host's check, as its heartbeat says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Fresh,
    /// Stale, refused, or a heartbeat that said the node is not ok.
    Failed(TaskError),
    /// Too early to say: subscribed less than one span ago and not heard yet; judge then.
    NotBefore(Instant),
}

/// Every host of the watch, by its index in the play.
#[derive(Debug)]
pub struct Hearing {
    hosts: Vec<Host>,
    /// Exact topic → the hosts that subscribed it.
    exact: HashMap<String, Vec<usize>>,
    /// Filters with wildcards, and whose they are.
    wild: Vec<(String, usize)>,
    status_field: Option<JsonPath>,
}

impl Hearing {
    /// `hosts` hosts, none with topics yet; `start` counts as everyone's first activity.
    pub fn new(hosts: usize, start: Instant) -> Hearing {
        Hearing {
            hosts: vec![
                Host {
                    heartbeat: None,
                    last_beat: None,
                    last_activity: start,
                    subscribed_at: None,
                    refused: None,
                    bad_status: None,
                };
                hosts
            ],
            exact: HashMap::new(),
            wild: Vec::new(),
            status_field: None,
        }
    }

    /// Heartbeats must say ok in this field of their JSON.
    pub fn status_field(&mut self, field: Option<JsonPath>) {
        self.status_field = field;
    }

    /// Host `i`'s topics (what it subscribes), and which of them is its heartbeat.
    pub fn topics(&mut self, i: usize, topics: &[String], heartbeat: Option<String>) {
        for t in topics {
            if t.contains(['+', '#']) {
                self.wild.push((t.clone(), i));
            } else {
                self.exact.entry(t.clone()).or_default().push(i);
            }
        }
        self.hosts[i].heartbeat = heartbeat;
    }

    /// The re-based start: every host's activity counts from `start` (the watch's start on
    /// the scheduler's clock).
    pub fn start(&mut self, start: Instant) {
        for h in &mut self.hosts {
            h.last_activity = start;
        }
    }

    pub fn has_heartbeat(&self, i: usize) -> bool {
        self.hosts[i].heartbeat.is_some()
    }

    /// A message arrived on a subscribed topic.
    pub fn message(&mut self, msg: &TopicMessage, now: Instant) {
        if msg.retain {
            return;
        }
        let mut heard: Vec<usize> = self.exact.get(&msg.topic).cloned().unwrap_or_default();
        heard.extend(
            self.wild
                .iter()
                .filter(|(f, _)| filter_matches(f, &msg.topic))
                .map(|(_, i)| *i),
        );
        for i in heard {
            let h = &mut self.hosts[i];
            h.last_activity = now;
            if h.heartbeat.as_deref() == Some(msg.topic.as_str()) {
                h.last_beat = Some(now);
                h.bad_status = self
                    .status_field
                    .as_ref()
                    .and_then(|f| bad_status(f, &msg.payload));
            }
        }
    }

    /// Host `i` got its topics (`true`) or lost them.
    pub fn subscribed(&mut self, i: usize, held: bool, now: Instant) {
        let h = &mut self.hosts[i];
        h.subscribed_at = held.then_some(now);
        h.refused = None;
    }

    /// The broker refused the SUBSCRIBE carrying `topic`.
    pub fn refused(&mut self, topic: &str, why: &str) {
        for i in self.exact.get(topic).cloned().unwrap_or_default() {
            self.hosts[i].refused = Some(format!("subscribing to {topic} failed: {why}"));
        }
    }

    /// A check of host `i` passed by running its tasks.
    pub fn answered(&mut self, i: usize, now: Instant) {
        self.hosts[i].last_activity = now;
    }

    pub fn idle_for(&self, i: usize, now: Instant) -> Duration {
        now.saturating_duration_since(self.hosts[i].last_activity)
    }

    /// Host `i`'s check by its heartbeat: `None` when it has no heartbeat or does not hold
    /// its topics now (its tasks check it then).
    pub fn verdict(&self, i: usize, now: Instant, stale_after: Duration) -> Option<Verdict> {
        let h = &self.hosts[i];
        let topic = h.heartbeat.as_deref()?;
        let since = h.subscribed_at?;
        if let Some(why) = &h.refused {
            return Some(Verdict::Failed(TaskError::new(
                ErrorKind::Protocol,
                why.clone(),
            )));
        }
        let age = h.last_beat.map(|t| now.saturating_duration_since(t));
        if age.is_some_and(|a| a <= stale_after) {
            return Some(match &h.bad_status {
                Some(why) => Verdict::Failed(TaskError::new(ErrorKind::Failed, why.clone())),
                None => Verdict::Fresh,
            });
        }
        let subscribed_for = now.saturating_duration_since(since);
        if subscribed_for < stale_after {
            let judge = since + stale_after;
            // A beat before the subscription (an earlier hold) may still be in its span.
            return Some(Verdict::NotBefore(judge));
        }
        let human =
            |d: Duration| humantime::format_duration(Duration::from_millis(d.as_millis() as u64));
        let message = match age {
            Some(a) => format!(
                "no heartbeat on {topic} for {} (stale after {})",
                human(a),
                human(stale_after)
            ),
            None => format!(
                "no heartbeat on {topic} in the {} since it was subscribed (stale after {})",
                human(subscribed_for),
                human(stale_after)
            ),
        };
        Some(Verdict::Failed(TaskError::new(ErrorKind::NoReply, message)))
    }
}

/// Why a heartbeat's payload does not say ok in `field`; `None` when it does.
fn bad_status(field: &JsonPath, payload: &[u8]) -> Option<String> {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(payload) else {
        return Some(format!(
            "the heartbeat is not JSON: {}",
            String::from_utf8_lossy(&payload[..payload.len().min(80)])
        ));
    };
    match field.get(&json) {
        Some(v) if is_ok_status(v) => None,
        Some(v) => Some(format!("the node reported {field} = {v}")),
        None => Some(format!("the heartbeat has no `{field}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(topic: &str, retain: bool) -> TopicMessage {
        TopicMessage {
            topic: topic.into(),
            payload: bytes::Bytes::from_static(b"{}"),
            retain,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_heartbeat_is_fresh_within_its_span_and_stale_after_it() {
        let t0 = Instant::now();
        let mut h = Hearing::new(2, t0);
        let topics = ["node/a/status".to_string(), "node/a/otaurl".to_string()];
        h.topics(0, &topics, Some(topics[0].clone()));
        let span = Duration::from_secs(60);
        // Holding no topics: its tasks check it.
        assert_eq!(h.verdict(0, t0, span), None);
        assert_eq!(h.verdict(1, t0, span), None);
        h.subscribed(0, true, t0);
        // Not heard yet, subscribed just now: judged one span later.
        assert_eq!(h.verdict(0, t0, span), Some(Verdict::NotBefore(t0 + span)));
        let at = |s: u64| t0 + Duration::from_secs(s);
        // A retained message is old news; a message on another of its topics is activity,
        // not a heartbeat.
        h.message(&msg("node/a/status", true), at(10));
        h.message(&msg("node/a/otaurl", false), at(20));
        assert_eq!(h.idle_for(0, at(30)), Duration::from_secs(10));
        match h.verdict(0, at(60), span) {
            Some(Verdict::Failed(e)) => {
                assert_eq!(e.kind, ErrorKind::NoReply);
                assert_eq!(
                    e.message,
                    "no heartbeat on node/a/status in the 1m since it was subscribed (stale after 1m)"
                );
            }
            other => panic!("{other:?}"),
        }
        h.message(&msg("node/a/status", false), at(70));
        assert_eq!(h.verdict(0, at(130), span), Some(Verdict::Fresh));
        match h.verdict(0, at(131), span) {
            Some(Verdict::Failed(e)) => assert_eq!(
                e.message,
                "no heartbeat on node/a/status for 1m 1s (stale after 1m)"
            ),
            other => panic!("{other:?}"),
        }
        // Evicted: its tasks check it again.
        h.subscribed(0, false, at(140));
        assert_eq!(h.verdict(0, at(140), span), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_heartbeat_that_says_error_fails_the_check() {
        let t0 = Instant::now();
        let mut h = Hearing::new(1, t0);
        h.status_field(Some(JsonPath(vec!["state".into(), "health".into()])));
        let topic = "node/c/status".to_string();
        h.topics(0, std::slice::from_ref(&topic), Some(topic.clone()));
        h.subscribed(0, true, t0);
        let beat = |body: &'static [u8]| TopicMessage {
            topic: topic.clone(),
            payload: bytes::Bytes::from_static(body),
            retain: false,
        };
        let span = Duration::from_secs(60);
        let verdict = |h: &Hearing| match h.verdict(0, t0, span) {
            Some(Verdict::Failed(e)) => Some((e.kind, e.message)),
            Some(Verdict::Fresh) => None,
            other => panic!("{other:?}"),
        };
        h.message(&beat(br#"{"state":{"health":"ok"}}"#), t0);
        assert_eq!(verdict(&h), None);
        h.message(&beat(br#"{"state":{"health":"degraded"}}"#), t0);
        assert_eq!(
            verdict(&h),
            Some((
                ErrorKind::Failed,
                "the node reported state.health = \"degraded\"".into()
            ))
        );
        h.message(&beat(b"alive"), t0);
        assert_eq!(
            verdict(&h),
            Some((ErrorKind::Failed, "the heartbeat is not JSON: alive".into()))
        );
        h.message(&beat(br#"{"up":1}"#), t0);
        assert_eq!(
            verdict(&h),
            Some((
                ErrorKind::Failed,
                "the heartbeat has no `state.health`".into()
            ))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn wildcard_topics_count_as_activity_and_a_refusal_is_the_verdict() {
        let t0 = Instant::now();
        let mut h = Hearing::new(1, t0);
        let topics = ["node/b/status".to_string(), "node/b/log/#".to_string()];
        h.topics(0, &topics, Some(topics[0].clone()));
        h.message(
            &msg("node/b/log/kernel", false),
            t0 + Duration::from_secs(5),
        );
        assert_eq!(h.idle_for(0, t0 + Duration::from_secs(5)), Duration::ZERO);
        h.subscribed(0, true, t0);
        h.refused("node/b/status", "not authorised");
        match h.verdict(0, t0, Duration::from_secs(5)) {
            Some(Verdict::Failed(e)) => assert_eq!(
                e.message,
                "subscribing to node/b/status failed: not authorised"
            ),
            other => panic!("{other:?}"),
        }
    }
}
