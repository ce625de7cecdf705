//! What a watch says as it goes: a check's result, a level change, a change of MQTT
//! subscriptions. The scheduler emits these and knows nothing of terminals or files; the
//! live table, the plain lines, the NDJSON stream (`--events`), the saved state and the
//! final report are all built from them.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::level::Level;
use super::subscriptions::Packet;
use crate::outcome::TaskError;

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ok,
    /// Connected, and a task failed (exit code, expectation, no reply).
    Failed,
    /// No connection (after the connector's retries).
    Unreachable,
    /// Not checked: the host's breaker is open.
    BreakerOpen,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Failed => "failed",
            CheckStatus::Unreachable => "unreachable",
            CheckStatus::BreakerOpen => "breaker_open",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum WatchEvent {
    WatchStarted {
        hosts: usize,
        /// Hosts that resumed from saved state.
        resumed: usize,
        /// Unix milliseconds at the start, which `at_ms` counts from.
        start_unix_ms: u64,
        concurrency: usize,
    },
    /// A host's check ended; its level and streak are the ones after this result.
    Check {
        host: Arc<str>,
        status: CheckStatus,
        level: Level,
        failures: u32,
        successes: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<TaskError>,
        duration_ms: u64,
        /// When the next check is due, from now.
        next_in_ms: u64,
        /// Checks running at once when this one ended, this one included.
        in_flight: usize,
        /// The host's breaker is open: `next_in_ms` is its cool-down's end.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        breaker_open: bool,
        /// Judged by its heartbeat topic, without running the tasks.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        heartbeat: bool,
    },
    LevelChanged {
        host: Arc<str>,
        from: Level,
        to: Level,
        /// The failures (escalating) or successes (calming) in a row that caused it.
        streak: u32,
        /// Raised by `idle_after`: how long the host had not been heard from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        idle_ms: Option<u64>,
    },
    /// MQTT subscriptions changed: packets sent, hosts evicted and added.
    Subscriptions {
        unsubscribe: Vec<Packet>,
        subscribe: Vec<Packet>,
        evicted: Vec<Arc<str>>,
        added: Vec<Arc<str>>,
        /// Subscriptions held per connection after the change.
        held: Vec<(String, usize)>,
        /// Hosts that want topics and have no place for them (checked by their tasks).
        #[serde(default)]
        waiting: usize,
    },
    WatchFinished {
        checks: u64,
        /// Most checks that ran at once.
        peak_in_flight: usize,
    },
}

/// An event with the time it happened, in milliseconds since the watch started.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stamped {
    pub at_ms: u64,
    #[serde(flatten)]
    pub event: WatchEvent,
}

/// Where the scheduler sends events.
#[derive(Debug, Clone)]
pub struct WatchSink {
    tx: mpsc::UnboundedSender<Stamped>,
    start: Instant,
}

impl WatchSink {
    pub fn new() -> (WatchSink, mpsc::UnboundedReceiver<Stamped>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let start = Instant::now();
        (WatchSink { tx, start }, rx)
    }

    /// Milliseconds since the watch started, on tokio's clock.
    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    pub fn emit(&self, event: WatchEvent) {
        let _ = self.tx.send(Stamped {
            at_ms: self.now_ms(),
            event,
        });
    }
}
