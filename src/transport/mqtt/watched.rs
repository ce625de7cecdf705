//! The topics a watch holds on one broker connection (`TopicLink`), as its broker task keeps
//! them: the packets as they were sent, so a reconnect without a session sends the same
//! packets again (each within the broker's filters-per-SUBSCRIBE limit), and a quick test of
//! whether a message is for the watch.

use std::collections::HashSet;

use super::proto::Message;
use crate::transport::topics::{filter_matches, TopicMessage, TopicSender};

#[derive(Debug, Default)]
pub struct Watched {
    tap: Option<TopicSender>,
    packets: Vec<Vec<String>>,
    exact: HashSet<String>,
    wild: Vec<String>,
}

impl Watched {
    pub fn tap(&mut self, tx: TopicSender) {
        self.tap = Some(tx);
    }

    /// A SUBSCRIBE was queued with these filters.
    pub fn add(&mut self, packet: Vec<String>) {
        for f in &packet {
            if f.contains(['+', '#']) {
                if !self.wild.contains(f) {
                    self.wild.push(f.clone());
                }
            } else {
                self.exact.insert(f.clone());
            }
        }
        self.packets.push(packet);
    }

    /// An UNSUBSCRIBE is about to be queued for these filters.
    pub fn remove(&mut self, filters: &[String]) {
        let gone: HashSet<&String> = filters.iter().collect();
        for p in &mut self.packets {
            p.retain(|f| !gone.contains(f));
        }
        self.packets.retain(|p| !p.is_empty());
        self.wild.retain(|f| !gone.contains(f));
        for f in filters {
            self.exact.remove(f);
        }
    }

    pub fn packets(&self) -> &[Vec<String>] {
        &self.packets
    }

    /// Hands a copy of `msg` to the watch if one of its filters matches; says whether it did.
    pub fn offer(&self, msg: &Message) -> bool {
        let Some(tap) = &self.tap else { return false };
        let wanted = self.exact.contains(&msg.topic)
            || self.wild.iter().any(|f| filter_matches(f, &msg.topic));
        if wanted {
            let _ = tap.send(TopicMessage {
                topic: msg.topic.clone(),
                payload: msg.payload.clone(),
                retain: msg.retain,
            });
        }
        wanted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(topic: &str) -> Message {
        Message {
            topic: topic.into(),
            payload: bytes::Bytes::from_static(b"x"),
            retain: false,
            correlation: None,
        }
    }

    #[test]
    fn packets_keep_their_shape_and_only_watched_topics_are_offered() {
        let mut w = Watched::default();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        // No tap yet: nothing is the watch's.
        assert!(!w.offer(&msg("node/a/status")));
        w.tap(tx);
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        w.add(v(&["node/a/status", "node/b/status"]));
        w.add(v(&["node/c/log/#"]));
        assert!(w.offer(&msg("node/a/status")));
        assert!(w.offer(&msg("node/c/log/kernel")));
        assert!(!w.offer(&msg("node/d/status")));
        assert_eq!(rx.try_recv().unwrap().topic, "node/a/status");
        assert_eq!(rx.try_recv().unwrap().topic, "node/c/log/kernel");
        assert!(rx.try_recv().is_err());
        // An UNSUBSCRIBE takes its filters out of the packets a reconnect sends again.
        w.remove(&v(&["node/a/status", "node/c/log/#"]));
        assert_eq!(w.packets(), [v(&["node/b/status"])]);
        assert!(!w.offer(&msg("node/a/status")));
        assert!(!w.offer(&msg("node/c/log/kernel")));
    }
}
