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
