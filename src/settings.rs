//! Run settings: defaults from DESIGN.md, overridden by play keys, overridden by CLI flags.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use crate::engine::breaker::BreakerPolicy;
use crate::engine::retry::Backoff;

pub use crate::engine::rate_limit::Rate;

/// How hosts are scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// A batch connects, runs and disconnects before the next batch starts.
    Batched,
    /// A window of `concurrency` hosts; the next host starts as one ends.
    Rolling,
}

impl Strategy {
    /// The name a play key and a flag use.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Batched => "batched",
            Strategy::Rolling => "rolling",
        }
    }
}

/// The settings one play runs with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    /// Hosts per batch; 0 means one batch of every host.
    pub batch_size: usize,
    pub strategy: Strategy,
    /// Most hosts in flight at once.
    pub concurrency: usize,
    #[serde(with = "millis")]
    pub connect_timeout: Duration,
    #[serde(with = "millis")]
    pub command_timeout: Duration,
    #[serde(with = "opt_millis")]
    pub host_timeout: Option<Duration>,
    #[serde(with = "millis")]
    pub batch_pause: Duration,
    /// New connections per time, fleet-wide.
    pub rate: Rate,
    /// Connections that may start at once after an idle spell (1: evenly spaced).
    pub burst: u32,
    /// New connections per time through one gateway (jump host, broker, or `gateway` var).
    pub gateway_rate: Option<Rate>,
    /// Connection attempts after the first, for transient failures.
    pub retries: u32,
    /// Base of the exponential backoff between attempts (full jitter).
    #[serde(with = "millis")]
    pub backoff: Duration,
    /// Longest wait between attempts.
    #[serde(with = "millis")]
    pub backoff_cap: Duration,
    /// Consecutive failures that open a host's breaker; 0 turns breakers off.
    pub breaker_threshold: u32,
    /// How long an open breaker skips its host.
    #[serde(with = "millis")]
    pub breaker_cooldown: Duration,
    /// Stop starting hosts once more than this share of finished hosts failed.
    pub max_fail_percentage: Option<f64>,
    /// Finished hosts needed before `max_fail_percentage` is judged.
    pub min_hosts_done: usize,
    /// Stop starting hosts at the first failed host.
    pub any_errors_fatal: bool,
}

impl Default for RunSettings {
    fn default() -> RunSettings {
        RunSettings {
            batch_size: 10,
            strategy: Strategy::Batched,
            concurrency: 10,
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(8),
            host_timeout: None,
            batch_pause: Duration::ZERO,
            rate: Rate {
                count: 20,
                per: Duration::from_secs(1),
            },
            burst: 1,
            gateway_rate: None,
            retries: 2,
            backoff: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(60),
            breaker_threshold: 3,
            breaker_cooldown: Duration::from_secs(180),
            max_fail_percentage: None,
            min_hosts_done: 1,
            any_errors_fatal: false,
        }
    }
}

/// Settings given by a play or on the command line; `None` keeps what is below.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub batch_size: Option<usize>,
    pub strategy: Option<Strategy>,
    pub concurrency: Option<usize>,
    pub connect_timeout: Option<Duration>,
    pub command_timeout: Option<Duration>,
    pub host_timeout: Option<Duration>,
    pub batch_pause: Option<Duration>,
    pub rate: Option<Rate>,
    pub burst: Option<u32>,
    pub gateway_rate: Option<Rate>,
    pub retries: Option<u32>,
    pub backoff: Option<Duration>,
    pub backoff_cap: Option<Duration>,
    pub breaker_threshold: Option<u32>,
    pub breaker_cooldown: Option<Duration>,
    pub max_fail_percentage: Option<f64>,
    pub min_hosts_done: Option<usize>,
    pub any_errors_fatal: Option<bool>,
}

impl RunSettings {
    pub fn with(mut self, o: &Overrides) -> RunSettings {
        self.batch_size = o.batch_size.unwrap_or(self.batch_size);
        self.strategy = o.strategy.unwrap_or(self.strategy);
        self.concurrency = o.concurrency.unwrap_or(self.concurrency);
        self.connect_timeout = o.connect_timeout.unwrap_or(self.connect_timeout);
        self.command_timeout = o.command_timeout.unwrap_or(self.command_timeout);
        self.host_timeout = o.host_timeout.or(self.host_timeout);
        self.batch_pause = o.batch_pause.unwrap_or(self.batch_pause);
        self.rate = o.rate.unwrap_or(self.rate);
        self.burst = o.burst.unwrap_or(self.burst);
        self.gateway_rate = o.gateway_rate.or(self.gateway_rate);
        self.retries = o.retries.unwrap_or(self.retries);
        self.backoff = o.backoff.unwrap_or(self.backoff);
        self.backoff_cap = o.backoff_cap.unwrap_or(self.backoff_cap);
        self.breaker_threshold = o.breaker_threshold.unwrap_or(self.breaker_threshold);
        self.breaker_cooldown = o.breaker_cooldown.unwrap_or(self.breaker_cooldown);
        self.max_fail_percentage = o.max_fail_percentage.or(self.max_fail_percentage);
        self.min_hosts_done = o.min_hosts_done.unwrap_or(self.min_hosts_done);
        self.any_errors_fatal = o.any_errors_fatal.unwrap_or(self.any_errors_fatal);
        self
    }

    /// The connection backoff policy these settings describe.
    pub fn backoff_policy(&self) -> Backoff {
        Backoff {
            base: self.backoff,
            cap: self.backoff_cap,
            retries: self.retries,
        }
    }

    /// The breaker policy, or `None` when breakers are off.
    pub fn breaker_policy(&self) -> Option<BreakerPolicy> {
        (self.breaker_threshold > 0).then_some(BreakerPolicy {
            threshold: self.breaker_threshold,
            cooldown: self.breaker_cooldown,
            probe_timeout: self.connect_timeout,
        })
    }

    /// Hosts in flight at once for `hosts` hosts: never above the batch size in `batched`.
    pub fn effective_concurrency(&self, hosts: usize) -> usize {
        let cap = match (self.strategy, self.batch_size) {
            (Strategy::Batched, n) if n > 0 => self.concurrency.min(n),
            _ => self.concurrency,
        };
        cap.clamp(1, hosts.max(1))
    }
}

/// A duration as users write it: `10s`, `500ms`, `2m`, `1h`, `1h30m`, or a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationValue(pub Duration);

impl std::str::FromStr for DurationValue {
    type Err = String;
    fn from_str(s: &str) -> Result<DurationValue, String> {
        parse_duration(s).map(DurationValue)
    }
}

impl fmt::Display for DurationValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("`{text}` is not a duration (expected e.g. 500ms, 10s, 2m, 1h)");
    if let Ok(secs) = text.parse::<f64>() {
        return if secs.is_finite() && (0.0..1e9).contains(&secs) {
            Ok(Duration::from_secs_f64(secs))
        } else {
            Err(bad())
        };
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(bad)?;
        let number: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        let secs = number * scale;
        if !(0.0..1e9).contains(&secs) {
            return Err(bad());
        }
        total += Duration::from_secs_f64(secs);
    }
    Ok(total)
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged, expecting = "a duration such as 500ms, 10s, 2m or 1h")]
        enum Raw {
            Number(f64),
            Text(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Number(n) => n.to_string(),
            Raw::Text(t) => t,
        };
        parse_duration(&text)
            .map(DurationValue)
            .map_err(|e| serde::de::Error::custom(crate::diagnostic::with_needle(e, &text)))
    }
}

mod millis {
    use std::time::Duration;
    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        <u64 as serde::Deserialize>::deserialize(d).map(Duration::from_millis)
    }
}

mod opt_millis {
    use std::time::Duration;
    pub fn serialize<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_millis() as u64)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        <Option<u64> as serde::Deserialize>::deserialize(d).map(|ms| ms.map(Duration::from_millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-1").is_err());
    }

    #[test]
    fn batched_concurrency_never_exceeds_batch_size() {
        let s = RunSettings {
            batch_size: 4,
            concurrency: 10,
            ..RunSettings::default()
        };
        assert_eq!(s.effective_concurrency(100), 4);
        let s = RunSettings {
            strategy: Strategy::Rolling,
            ..s
        };
        assert_eq!(s.effective_concurrency(100), 10);
        assert_eq!(s.effective_concurrency(3), 3);
    }
}
