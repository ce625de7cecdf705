//! Request/response matching: the table of requests waiting for a reply, keyed by
//! correlation id (MQTT 5 correlation data, or an id inside the reply's JSON) or, for
//! `correlation: none`, by reply topic. Owned by the broker task alone, so it needs no lock.
//!
//! A waiter whose caller gave up (its deadline passed) is moved to a list of expired ids, so a
//! reply that arrives after all is counted as late rather than unmatched.

use std::collections::HashMap;

use tokio::sync::oneshot;
use tokio::time::{Duration, Instant};

use super::proto::Message;
use crate::outcome::{ErrorKind, TaskError};
use crate::playbook::mqtt::JsonPath;

/// How long an expired id is remembered, to tell a late reply from a stray one.
const REMEMBER_EXPIRED: Duration = Duration::from_secs(600);

pub type ReplyTx = oneshot::Sender<Result<Message, TaskError>>;

/// How one request expects its reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// MQTT 5 correlation data equal to the id.
    V5,
    /// The id found at this path in the reply's JSON.
    Payload(JsonPath),
    /// The first non-retained message on the reply topic.
    FirstOnTopic,
}

#[derive(Debug)]
pub struct Waiter {
    pub id: String,
    pub topic: String,
    pub matching: Match,
    pub deadline: Instant,
    pub tx: ReplyTx,
}

/// What became of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Matched,
    /// For a request whose waiter had already given up.
    Late,
    /// For no request drover knows of.
    Unmatched,
}

#[derive(Debug, Default)]
pub struct Pending {
    by_id: HashMap<String, Waiter>,
    /// Reply topic → id of the request waiting there (correlation `v5` and `payload`), to
    /// answer a reply that carries no usable id with a protocol error instead of silence.
    by_topic: HashMap<String, String>,
    /// Reply topic → waiter, for `correlation: none`.
    first_on_topic: HashMap<String, Waiter>,
    /// JSON paths of correlation ids in use, with how many waiters use each.
    fields: HashMap<JsonPath, usize>,
    expired: HashMap<String, Instant>,
}

impl Pending {
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.by_id.len() + self.first_on_topic.len()
    }

    pub fn insert(&mut self, waiter: Waiter) -> Result<(), TaskError> {
        match &waiter.matching {
            Match::FirstOnTopic => {
                // A waiter whose caller gave up (timed out, to be retried) is released now,
                // not at the next sweep: the retry on the same topic must find it free.
                let now = Instant::now();
                let live = self
                    .first_on_topic
                    .get(&waiter.topic)
                    .is_some_and(|w| now <= w.deadline && !w.tx.is_closed());
                if live {
                    return Err(TaskError::new(
                        ErrorKind::Protocol,
                        format!(
                            "another request already waits for the first message on {}",
                            waiter.topic
                        ),
                    ));
                }
                self.first_on_topic.insert(waiter.topic.clone(), waiter);
            }
            other => {
                if let Match::Payload(path) = other {
                    *self.fields.entry(path.clone()).or_default() += 1;
                }
                self.by_topic
                    .insert(waiter.topic.clone(), waiter.id.clone());
                self.by_id.insert(waiter.id.clone(), waiter);
            }
        }
        Ok(())
    }

    fn take(&mut self, id: &str) -> Option<Waiter> {
        let waiter = self.by_id.remove(id)?;
        if self.by_topic.get(&waiter.topic).is_some_and(|i| i == id) {
            self.by_topic.remove(&waiter.topic);
        }
        if let Match::Payload(path) = &waiter.matching {
            if let Some(n) = self.fields.get_mut(path) {
                *n -= 1;
                if *n == 0 {
                    self.fields.remove(path);
                }
            }
        }
        Some(waiter)
    }

    fn hand_over(
        &mut self,
        waiter: Waiter,
        reply: Result<Message, TaskError>,
        now: Instant,
    ) -> Delivery {
        let id = waiter.id.clone();
        if now > waiter.deadline || waiter.tx.send(reply).is_err() {
            self.expired.insert(id, now);
            Delivery::Late
        } else {
            Delivery::Matched
        }
    }

    /// Routes one message to the request it answers.
    pub fn deliver(&mut self, msg: Message, now: Instant) -> Delivery {
        if let Some(data) = &msg.correlation {
            let id = String::from_utf8_lossy(data).into_owned();
            let waiting = self.by_id.get(&id).is_some_and(|w| w.matching == Match::V5);
            if waiting {
                if let Some(w) = self.take(&id) {
                    return self.hand_over(w, Ok(msg), now);
                }
            }
            return self.stray(&id);
        }
        if !self.fields.is_empty() {
            if let Ok(json) = serde_json::from_slice::<serde_json::Value>(&msg.payload) {
                let ids: Vec<String> = self
                    .fields
                    .keys()
                    .filter_map(|path| path.get(&json))
                    .map(|v| match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                for id in ids {
                    let matches = self
                        .by_id
                        .get(&id)
                        .is_some_and(|w| matches!(w.matching, Match::Payload(_)));
                    if matches {
                        if let Some(w) = self.take(&id) {
                            return self.hand_over(w, Ok(msg), now);
                        }
                    }
                    if self.expired.contains_key(&id) {
                        return Delivery::Late;
                    }
                }
            }
        }
        if !msg.retain {
            if let Some(w) = self.first_on_topic.remove(&msg.topic) {
                return self.hand_over(w, Ok(msg), now);
            }
        }
        if let Some(id) = self.by_topic.get(&msg.topic).cloned() {
            if let Some(w) = self.take(&id) {
                let how = match &w.matching {
                    Match::Payload(path) => format!("no correlation id at `{path}`"),
                    _ => "no MQTT 5 correlation data".to_string(),
                };
                let message = format!(
                    "the reply on {} carries {how}: {}",
                    msg.topic,
                    preview(&msg.payload)
                );
                let error = TaskError::new(ErrorKind::Protocol, message);
                return self.hand_over(w, Err(error), now);
            }
        }
        Delivery::Unmatched
    }

    fn stray(&self, id: &str) -> Delivery {
        if self.expired.contains_key(id) {
            Delivery::Late
        } else {
            Delivery::Unmatched
        }
    }

    /// Drops waiters whose deadline passed or whose caller is gone, remembering their ids.
    pub fn sweep(&mut self, now: Instant) {
        let gone: Vec<String> = self
            .by_id
            .values()
            .filter(|w| now > w.deadline || w.tx.is_closed())
            .map(|w| w.id.clone())
            .collect();
        for id in gone {
            self.take(&id);
            self.expired.insert(id, now);
        }
        self.first_on_topic
            .retain(|_, w| now <= w.deadline && !w.tx.is_closed());
        self.expired
            .retain(|_, at| now.duration_since(*at) < REMEMBER_EXPIRED);
    }
}

/// The start of a payload, for messages.
pub fn preview(payload: &[u8]) -> String {
    let text = String::from_utf8_lossy(payload);
    let mut out: String = text.chars().take(80).collect();
    if text.chars().count() > 80 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn msg(topic: &str, payload: &str, correlation: Option<&str>) -> Message {
        Message {
            topic: topic.into(),
            payload: Bytes::from(payload.to_string()),
            retain: false,
            correlation: correlation.map(|c| Bytes::from(c.to_string())),
        }
    }

    fn waiter(
        id: &str,
        topic: &str,
        matching: Match,
        now: Instant,
    ) -> (Waiter, oneshot::Receiver<Result<Message, TaskError>>) {
        let (tx, rx) = oneshot::channel();
        let w = Waiter {
            id: id.into(),
            topic: topic.into(),
            matching,
            deadline: now + Duration::from_secs(5),
            tx,
        };
        (w, rx)
    }

    #[test]
    fn payload_id_matches_and_a_second_copy_is_unmatched() {
        let now = Instant::now();
        let mut p = Pending::default();
        let path = JsonPath(vec!["cid".into()]);
        let (w, mut rx) = waiter("a1", "n/1/out", Match::Payload(path), now);
        p.insert(w).unwrap();
        let m = msg("n/1/out", r#"{"cid":"a1","ok":true}"#, None);
        assert_eq!(p.deliver(m.clone(), now), Delivery::Matched);
        assert!(rx.try_recv().unwrap().is_ok());
        assert_eq!(p.deliver(m, now), Delivery::Unmatched);
    }

    #[test]
    fn reply_after_the_caller_gave_up_is_late() {
        let now = Instant::now();
        let mut p = Pending::default();
        let (w, rx) = waiter("x", "n/2/out", Match::V5, now);
        p.insert(w).unwrap();
        drop(rx);
        p.sweep(now);
        assert_eq!(p.len(), 0);
        assert_eq!(
            p.deliver(msg("n/2/out", "{}", Some("x")), now),
            Delivery::Late
        );
    }

    #[test]
    fn a_first_on_topic_waiter_whose_caller_gave_up_is_released_for_the_next() {
        let now = Instant::now();
        let mut p = Pending::default();
        let (w, rx) = waiter("a", "n/4/out", Match::FirstOnTopic, now);
        p.insert(w).unwrap();
        let (w, _rx2) = waiter("b", "n/4/out", Match::FirstOnTopic, now);
        let busy = p.insert(w).unwrap_err();
        assert!(busy.message.contains("already waits"), "{busy:?}");
        // The first caller timed out: its retry, before any sweep, takes the topic.
        drop(rx);
        let (w, mut rx3) = waiter("c", "n/4/out", Match::FirstOnTopic, now);
        p.insert(w).unwrap();
        assert_eq!(
            p.deliver(msg("n/4/out", "{}", None), now),
            Delivery::Matched
        );
        assert!(rx3.try_recv().unwrap().is_ok());
    }

    #[test]
    fn malformed_reply_on_the_waiting_topic_is_a_protocol_error() {
        let now = Instant::now();
        let mut p = Pending::default();
        let path = JsonPath(vec!["cid".into()]);
        let (w, mut rx) = waiter("a1", "n/3/out", Match::Payload(path), now);
        p.insert(w).unwrap();
        assert_eq!(
            p.deliver(msg("n/3/out", "not json", None), now),
            Delivery::Matched
        );
        let err = rx.try_recv().unwrap().unwrap_err();
        assert_eq!(err.kind, ErrorKind::Protocol);
    }
}
