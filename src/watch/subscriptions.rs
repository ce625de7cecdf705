//! Which MQTT topics the watch keeps subscribed: only what watched hosts need, never more
//! than the broker allows per connection, the most urgent hosts first.
//!
//! Pure bookkeeping: given each host's topics, connection and level, it says which
//! SUBSCRIBE and UNSUBSCRIBE packets bring the broker from what is subscribed to what should
//! be. Rules (the field note's, made exact):
//! - A host's topics are subscribed all together or not at all: half a node's topics serve
//!   no check.
//! - Per connection, hosts are served in priority order until the next one does not fit:
//!   level first (CRITICAL before HIGH before … MINIMAL), then hosts already subscribed
//!   (so two hosts at one level never swap places back and forth), then inventory order.
//! - When a host escalates and the connection is full, the lowest-priority hosts are
//!   unsubscribed (evicted) to make room; a host that calms keeps its topics until a more
//!   urgent one needs the room.
//! - A packet carries at most the profile's filters per SUBSCRIBE (AWS IoT Core: 8).

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use super::level::Level;

/// The default cap per connection (`max_subscriptions`).
pub const DEFAULT_MAX: usize = 300;

/// Known brokers' limits, picked by `broker_profile`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrokerProfile {
    /// No limit of its own (`max_subscriptions` still applies).
    #[default]
    Mosquitto,
    /// AWS IoT Core: 50 subscriptions per connection, 8 topic filters per SUBSCRIBE.
    AwsIot,
}

impl BrokerProfile {
    pub fn limits(self) -> Limits {
        match self {
            BrokerProfile::Mosquitto => Limits {
                per_connection: usize::MAX,
                per_packet: usize::MAX,
            },
            BrokerProfile::AwsIot => Limits {
                per_connection: 50,
                per_packet: 8,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Subscriptions one connection may hold.
    pub per_connection: usize,
    /// Topic filters in one SUBSCRIBE (and UNSUBSCRIBE) packet.
    pub per_packet: usize,
}

/// One SUBSCRIBE or UNSUBSCRIBE packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Packet {
    /// The connection it goes on (a broker in shared mode, the node in per-node mode).
    pub connection: String,
    pub filters: Vec<String>,
}

/// What to send to bring the broker to the wanted subscriptions, unsubscribes first (they
/// make the room).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delta {
    pub unsubscribe: Vec<Packet>,
    pub subscribe: Vec<Packet>,
    /// Hosts that lost their topics, most urgent first.
    pub evicted: Vec<usize>,
    /// Hosts that got theirs.
    pub added: Vec<usize>,
}

impl Delta {
    pub fn is_empty(&self) -> bool {
        self.subscribe.is_empty() && self.unsubscribe.is_empty()
    }
}

#[derive(Debug)]
struct Entry {
    connection: usize,
    topics: Vec<String>,
    level: Level,
    subscribed: bool,
}

/// The subscriptions of one watch.
#[derive(Debug)]
pub struct Subscriptions {
    limits: Limits,
    connections: Vec<String>,
    /// By host index (inventory order); hosts without topics are not here.
    hosts: BTreeMap<usize, Entry>,
}

impl Subscriptions {
    pub fn new(limits: Limits) -> Subscriptions {
        Subscriptions {
            limits,
            connections: Vec::new(),
            hosts: BTreeMap::new(),
        }
    }

    /// Adds host `index` (its inventory position) with the topics it needs on `connection`.
    pub fn add(&mut self, index: usize, connection: &str, topics: Vec<String>, level: Level) {
        if topics.is_empty() {
            return;
        }
        let connection = match self.connections.iter().position(|c| c == connection) {
            Some(i) => i,
            None => {
                self.connections.push(connection.to_string());
                self.connections.len() - 1
            }
        };
        self.hosts.insert(
            index,
            Entry {
                connection,
                topics,
                level,
                subscribed: false,
            },
        );
    }

    /// A host's level changed: what to send now (often nothing).
    pub fn set_level(&mut self, index: usize, level: Level) -> Delta {
        match self.hosts.get_mut(&index) {
            Some(e) if e.level != level => e.level = level,
            _ => return Delta::default(),
        }
        self.rebalance()
    }

    /// Each connection, with the first host on it (whose endpoint opens the connection's
    /// link).
    pub fn connections(&self) -> Vec<(String, usize)> {
        self.connections
            .iter()
            .enumerate()
            .filter_map(|(c, name)| {
                let first = self.hosts.iter().find(|(_, e)| e.connection == c)?;
                Some((name.clone(), *first.0))
            })
            .collect()
    }

    /// Forgets the hosts on `connection`, which cannot hold topics (nothing was sent yet).
    pub fn drop_connection(&mut self, connection: &str) {
        if let Some(c) = self.connections.iter().position(|n| n == connection) {
            self.hosts.retain(|_, e| e.connection != c);
        }
    }

    /// Whether host `index` has its topics.
    pub fn is_subscribed(&self, index: usize) -> bool {
        self.hosts.get(&index).is_some_and(|e| e.subscribed)
    }

    /// Subscriptions held on each connection.
    pub fn counts(&self) -> Vec<(String, usize)> {
        let mut counts = vec![None; self.connections.len()];
        for e in self.hosts.values() {
            let n = counts[e.connection].get_or_insert(0);
            if e.subscribed {
                *n += e.topics.len();
            }
        }
        self.connections
            .iter()
            .zip(counts)
            .filter_map(|(c, n)| Some((c.clone(), n?)))
            .collect()
    }

    /// Hosts that want topics and have none.
    pub fn unserved(&self) -> usize {
        self.hosts.values().filter(|e| !e.subscribed).count()
    }

    /// Recomputes who is served and returns the packets that get there.
    pub fn rebalance(&mut self) -> Delta {
        let mut order: Vec<(&usize, &Entry)> = self.hosts.iter().collect();
        order.sort_by_key(|(i, e)| (e.level, !e.subscribed, **i));
        let mut used = vec![0usize; self.connections.len()];
        let mut full = vec![false; self.connections.len()];
        let mut wanted = HashSet::new();
        for (i, e) in order {
            let c = e.connection;
            if full[c] {
                continue;
            }
            if used[c] + e.topics.len() > self.limits.per_connection {
                full[c] = true;
                continue;
            }
            used[c] += e.topics.len();
            wanted.insert(*i);
        }
        let mut delta = Delta::default();
        let mut subscribe: Vec<Vec<String>> = vec![Vec::new(); self.connections.len()];
        let mut unsubscribe: Vec<Vec<String>> = vec![Vec::new(); self.connections.len()];
        let mut evicted = Vec::new();
        for (i, e) in self.hosts.iter_mut() {
            let want = wanted.contains(i);
            if want && !e.subscribed {
                subscribe[e.connection].extend(e.topics.iter().cloned());
                delta.added.push(*i);
            } else if !want && e.subscribed {
                unsubscribe[e.connection].extend(e.topics.iter().cloned());
                evicted.push((e.level, *i));
            }
            e.subscribed = want;
        }
        evicted.sort();
        delta.evicted = evicted.into_iter().map(|(_, i)| i).collect();
        delta.unsubscribe = self.packets(unsubscribe);
        delta.subscribe = self.packets(subscribe);
        delta
    }

    fn packets(&self, filters: Vec<Vec<String>>) -> Vec<Packet> {
        let per = self.limits.per_packet.max(1);
        let mut out = Vec::new();
        for (c, filters) in filters.into_iter().enumerate() {
            for chunk in filters.chunks(per) {
                out.push(Packet {
                    connection: self.connections[c].clone(),
                    filters: chunk.to_vec(),
                });
            }
        }
        out
    }
}
