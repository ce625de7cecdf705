//! The typed event stream the scheduler emits. Progress output, the report and tests are all
//! consumers of the same events; the scheduler knows nothing of terminals or files.

use std::borrow::Cow;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::outcome::{Attempt, HostOutcome, TaskResult};
use crate::settings::RunSettings;
use crate::transport::Summary;

/// A host's progress, before it has an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostState {
    Connecting,
    Connected,
    Running,
    Disconnecting,
}

/// One thing that happened in a run. Serializes to the NDJSON lines of `--events` and reads
/// back from them, so a saved stream replays into the same report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        plays: usize,
        hosts: usize,
    },
    PlayStarted {
        play: usize,
        name: String,
        pattern: String,
        hosts: usize,
        batches: usize,
        settings: RunSettings,
        /// The play's task names, in order.
        #[serde(default)]
        tasks: Vec<String>,
    },
    BatchStarted {
        play: usize,
        batch: usize,
        hosts: Vec<Arc<str>>,
    },
    BatchFinished {
        play: usize,
        batch: usize,
    },
    HostState {
        play: usize,
        batch: usize,
        host: Arc<str>,
        state: HostState,
        task: Option<String>,
    },
    TaskFinished {
        play: usize,
        host: Arc<str>,
        result: TaskResult,
    },
    /// A connection attempt failed; `retry_in_ms` says when the next one comes, if any.
    ConnectFailed {
        play: usize,
        host: Arc<str>,
        attempt: Attempt,
        retry_in_ms: Option<u64>,
    },
    HostFinished {
        play: usize,
        batch: usize,
        host: Arc<str>,
        address: String,
        transport: Cow<'static, str>,
        /// The host's inventory groups (its `group_names`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        groups: Vec<String>,
        outcome: HostOutcome,
    },
    PlayFinished {
        play: usize,
    },
    /// What a transport saw beyond the hosts' own results (MQTT: connections, late replies).
    TransportSummary {
        summary: Summary,
    },
    RunFinished {
        interrupted: bool,
        aborted: Option<String>,
    },
}

/// An event with the time it happened, in milliseconds since the run started.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stamped {
    pub at_ms: u64,
    #[serde(flatten)]
    pub event: Event,
}

/// Where the scheduler sends events. Cheap to clone: one per host task.
#[derive(Debug, Clone)]
pub struct EventSink {
    tx: mpsc::UnboundedSender<Stamped>,
    start: Instant,
}

impl EventSink {
    pub fn new() -> (EventSink, mpsc::UnboundedReceiver<Stamped>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            EventSink {
                tx,
                start: Instant::now(),
            },
            rx,
        )
    }

    /// Milliseconds since the run started, on tokio's clock (so paused-clock tests are exact).
    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    pub fn emit(&self, event: Event) {
        // A closed receiver means nobody listens any more; the run still finishes.
        let _ = self.tx.send(Stamped {
            at_ms: self.now_ms(),
            event,
        });
    }
}
