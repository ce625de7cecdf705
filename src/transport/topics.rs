//! Topics a long-running watch holds on a connection, and the messages that arrive on them:
//! the one thing a transport offers besides sessions. Only MQTT has topics; for every other
//! transport [`Transport::topics`](super::Transport::topics) says `None`.
//!
//! A [`TopicLink`] is a connection's subscriptions as the watch drives them, one SUBSCRIBE or
//! UNSUBSCRIBE packet per call, in call order (so an UNSUBSCRIBE that makes room goes out
//! before the SUBSCRIBE that takes it). The connection stays wanted (reconnected after a
//! loss, its subscriptions sent again) for as long as the link lives.

use std::fmt;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::BoxFuture;
use crate::outcome::TaskError;

/// A message that arrived on a subscribed topic.
#[derive(Debug, Clone)]
pub struct TopicMessage {
    pub topic: String,
    pub payload: Bytes,
    /// A retained message: the broker's copy of an old one, not news from the node.
    pub retain: bool,
}

/// Where a link delivers its messages. Unbounded: the broker's task must never wait for the
/// watch, which drains it at once.
pub type TopicSender = mpsc::UnboundedSender<TopicMessage>;

/// A filter the broker refused in its SUBACK, and its reason code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub filter: String,
    pub reason: String,
}

pub trait TopicLink: Send + Sync + fmt::Debug {
    /// Queues one SUBSCRIBE carrying `filters` now, in order with the link's other packets;
    /// the future resolves on its acknowledgement with the filters the broker refused. An
    /// error is a packet not acknowledged: `connection_lost` when the connection went first
    /// (the link sends it again once reconnected), another kind when it could not be sent.
    fn subscribe(
        &self,
        filters: Vec<String>,
    ) -> BoxFuture<'static, Result<Vec<Refused>, TaskError>>;

    /// Queues one UNSUBSCRIBE carrying `filters` now; resolves on its acknowledgement.
    fn unsubscribe(&self, filters: Vec<String>) -> BoxFuture<'static, Result<(), TaskError>>;
}

/// Whether an MQTT topic filter (`+` one level, `#` the rest) matches a topic name. Topics
/// starting with `$` match only filters that name them (MQTT 3.1.1 §4.7.2).
pub fn filter_matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && !filter.starts_with('$') {
        return false;
    }
    let mut levels = topic.split('/');
    for f in filter.split('/') {
        match (f, levels.next()) {
            ("#", _) => return true,
            ("+", Some(_)) => {}
            (f, Some(t)) if f == t => {}
            _ => return false,
        }
    }
    levels.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::filter_matches;

    #[test]
    fn filters_match_as_mqtt_says() {
        assert!(filter_matches("node/a/status", "node/a/status"));
        assert!(!filter_matches("node/a/status", "node/b/status"));
        assert!(filter_matches("node/+/status", "node/b/status"));
        assert!(!filter_matches("node/+/status", "node/b/c/status"));
        assert!(filter_matches("node/#", "node/b/c/status"));
        assert!(filter_matches("node/#", "node"));
        assert!(!filter_matches("node/a", "node/a/b"));
        assert!(!filter_matches("node/a/b", "node/a"));
        assert!(!filter_matches("#", "$SYS/broker/uptime"));
        assert!(filter_matches("$SYS/#", "$SYS/broker/uptime"));
    }
}
