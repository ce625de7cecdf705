//! A play's `watch:` section: the levels' intervals, the escalation rules and the MQTT
//! subscription limits. Every key is optional; what is left out keeps the default.
//!
//! ```yaml
//! watch:
//!   start: normal
//!   intervals: { critical: 5s, high: 15s, normal: 60s, low: 300s, minimal: 600s }
//!   high_after: 1
//!   critical_after: 2
//!   calm_after: { critical: 3, high: 10, normal: 20, low: 0 }
//!   broker_profile: aws_iot
//!   max_subscriptions: 50
//!   subscribe: ["node/{{ node_id }}/params/remote"]
//!   heartbeat: { topic: "node/{{ node_id }}/status", stale_after: 90s }
//!   idle_after: 300s
//! ```

use serde::Deserialize;

use super::level::{Level, PerLevel};

use super::rules::Rules;
use super::subscriptions::{BrokerProfile, Limits};
use crate::settings::DurationValue;

/// The `watch:` keys of a play, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchKeys {
    #[serde(default)]
    pub start: Option<Level>,
    #[serde(default)]
    pub intervals: Option<LevelKeys<Interval>>,
    #[serde(default)]
    pub high_after: Option<u32>,
    #[serde(default)]
    pub critical_after: Option<u32>,
    #[serde(default)]
    pub calm_after: Option<LevelKeys<u32>>,
    #[serde(default)]
    pub broker_profile: Option<BrokerProfile>,
    #[serde(default)]
    pub max_subscriptions: Option<usize>,
    /// Topics each MQTT host needs while it is watched (templates, rendered per host).
    #[serde(default)]
    pub subscribe: Vec<Topic>,
    /// A status topic each MQTT host publishes on by itself: its checks read it instead of
    /// running the tasks while the host holds its topics.
    #[serde(default)]
    pub heartbeat: Option<HeartbeatKeys>,
    /// No activity from a host for longer than this raises it to at least HIGH; `0s`: never.
    #[serde(default)]
    pub idle_after: Option<DurationValue>,
}

/// `heartbeat: { topic: …, stale_after: … }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatKeys {
    /// A template rendered per host; a host for which it renders empty has no heartbeat.
    pub topic: Topic,
    /// The oldest heartbeat a check accepts; without it, the host's level's interval.
    #[serde(default)]
    pub stale_after: Option<StaleAfter>,
    /// A field of the heartbeat's JSON that must say ok (`ok`, `true`, `0`, …), as a reply's.
    #[serde(default)]
    pub status_field: Option<crate::playbook::mqtt::JsonPath>,
}

/// A level's interval: a duration above zero (zero would check a host in a busy loop).
#[derive(Debug, Clone, Copy)]
pub struct Interval(pub std::time::Duration);

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Interval, D::Error> {
        let d = DurationValue::deserialize(d)?.0;
        if d.is_zero() {
            return Err(serde::de::Error::custom(
                "a level's interval must be above zero",
            ));
        }
        Ok(Interval(d))
    }
}

/// `heartbeat.stale_after`: above zero (zero would fail every heartbeat).
#[derive(Debug, Clone, Copy)]
pub struct StaleAfter(pub std::time::Duration);

impl<'de> Deserialize<'de> for StaleAfter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<StaleAfter, D::Error> {
        let d = DurationValue::deserialize(d)?.0;
        if d.is_zero() {
            return Err(serde::de::Error::custom(
                "`stale_after` must be above zero: a heartbeat is always some age",
            ));
        }
        Ok(StaleAfter(d))
    }
}

/// A topic template of `subscribe`, checked to compile while the playbook is read.
#[derive(Debug, Clone)]
pub struct Topic(pub String);

impl<'de> Deserialize<'de> for Topic {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Topic, D::Error> {
        let text = String::deserialize(d)?;
        crate::template::check_syntax(&text).map_err(|e| {
            serde::de::Error::custom(format!("`{text}` does not compile as a template: {e}"))
        })?;
        Ok(Topic(text))
    }
}

/// `{critical: …, high: …, normal: …, low: …, minimal: …}`, each optional.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "T: Deserialize<'de>"))]
pub struct LevelKeys<T> {
    #[serde(default)]
    pub critical: Option<T>,
    #[serde(default)]
    pub high: Option<T>,
    #[serde(default)]
    pub normal: Option<T>,
    #[serde(default)]
    pub low: Option<T>,
    #[serde(default)]
    pub minimal: Option<T>,
}

impl<T: Copy> LevelKeys<T> {
    fn over<U: Copy>(&self, base: PerLevel<U>, map: impl Fn(T) -> U) -> PerLevel<U> {
        let given = [
            self.critical,
            self.high,
            self.normal,
            self.low,
            self.minimal,
        ];
        let mut out = base;
        for (slot, value) in out.0.iter_mut().zip(given) {
            if let Some(v) = value {
                *slot = map(v);
            }
        }
        out
    }
}

impl WatchKeys {
    /// The rules these keys describe, defaults filled in.
    pub fn rules(&self) -> Rules {
        let base = Rules::default();
        let intervals = match &self.intervals {
            Some(keys) => keys.over(base.intervals, |d| d.0),
            None => base.intervals,
        };
        Rules {
            intervals,
            start: self.start.unwrap_or(base.start),
            high_after: self.high_after.unwrap_or(base.high_after),
            critical_after: self.critical_after.unwrap_or(base.critical_after),
            calm_after: match &self.calm_after {
                Some(keys) => keys.over(base.calm_after, |n| n),
                None => base.calm_after,
            },
            idle_after: match &self.idle_after {
                Some(d) if d.0.is_zero() => None,
                Some(d) => Some(d.0),
                None => base.idle_after,
            },
        }
    }

    /// The subscription limits: the broker profile's, with `max_subscriptions` lowering
    /// (never raising) its per-connection cap.
    pub fn limits(&self) -> Limits {
        let profile = self.broker_profile.unwrap_or_default();
        let mut limits = profile.limits();
        let cap = self
            .max_subscriptions
            .unwrap_or(super::subscriptions::DEFAULT_MAX);
        limits.per_connection = limits.per_connection.min(cap);
        limits
    }
}
