//! The run's report, built from the event stream alone: run metadata and settings, batches
//! with timings, per host status and per task results. Written as versioned JSON, atomically.

mod events;
mod groups;
pub mod html;
mod junit;

use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::event::{Event, Stamped};
use crate::outcome::{HostOutcome, HostStatus, TaskResult};
use crate::settings::RunSettings;
use crate::transport::{MqttSummary, Summary};

pub use crate::atomic_write::write_atomic;
pub use events::EventLog;
pub use groups::{fold, group_outputs, OutputGroup};
pub use junit::junit;

/// The JSON Schema of [`RunReport`], as shipped in `schema/report.schema.json`.
pub fn schema() -> String {
    let schema = schemars::schema_for!(RunReport);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// Bumped when a field changes meaning or goes away; new fields do not bump it.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunReport {
    pub schema_version: u32,
    pub drover_version: String,
    pub run: RunInfo,
    pub counts: BTreeMap<HostStatus, usize>,
    pub plays: Vec<PlayReport>,
    pub hosts: Vec<HostReport>,
    /// Identical outputs grouped across hosts, per task (what `clubak` does).
    #[serde(default)]
    pub output_groups: Vec<OutputGroup>,
    /// Broker connections, late and unmatched replies, when the run used MQTT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mqtt: Option<MqttSummary>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct RunInfo {
    /// `run`, `exec`.
    pub command: String,
    pub playbook: Option<String>,
    pub inventories: Vec<String>,
    pub limit: Option<String>,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: u64,
    pub interrupted: bool,
    /// Why `max_fail_percentage` or `any_errors_fatal` stopped the run, if they did.
    pub aborted: Option<String>,
    /// The breaker state file this run read and updated, if any.
    pub state_file: Option<String>,
    pub exit_code: i32,
    /// Time-sortable id of the run in the history (`drover history`, `drover report diff`).
    #[serde(default)]
    pub run_id: String,
    /// Who ran it, on which machine, with which command line (secret-looking values masked).
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub hostname: String,
    #[serde(default)]
    pub argv: Vec<String>,
    /// Digests of the inventory files and the playbook (or `exec`'s pattern and command):
    /// `report merge` refuses shards whose digests differ.
    #[serde(default)]
    pub inventory_digest: String,
    #[serde(default)]
    pub playbook_digest: String,
    /// `--shard K/N`: this run covered one stable part of the selected hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
    /// `--retry-failed`: the run whose failed hosts this run retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<String>,
    /// `report merge`: the run ids of the shards this report joins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
    /// Why nothing ran, when the run stopped on its input (exit code 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One part of `--shard K/N`: `index` from 1 to `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ShardInfo {
    pub index: u32,
    pub count: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PlayReport {
    pub index: usize,
    pub name: String,
    pub pattern: String,
    pub settings: serde_json::Value,
    pub batches: Vec<BatchReport>,
    /// The play's task names, in order (JUnit lists every task, also those no host ran).
    #[serde(default)]
    pub tasks: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BatchReport {
    pub index: usize,
    pub hosts: Vec<String>,
    pub started_ms: u64,
    pub finished_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HostReport {
    pub name: String,
    pub play: usize,
    pub batch: usize,
    pub address: String,
    pub transport: String,
    /// The inventory groups the host is in (its `group_names`), for the HTML report's filter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    pub started_ms: Option<u64>,
    pub finished_ms: u64,
    #[serde(flatten)]
    pub outcome: HostOutcome,
    pub tasks: Vec<TaskResult>,
}

/// A running host: when it started, and the tasks it finished so far.
type Pending = (Option<u64>, Vec<TaskResult>);

/// Folds events into a report.
#[derive(Debug, Default)]
pub struct ReportBuilder {
    plays: Vec<PlayReport>,
    hosts: Vec<HostReport>,
    /// Task results and start times of hosts that have not finished yet.
    pending: BTreeMap<(usize, Arc<str>), Pending>,
    last_ms: u64,
    mqtt: Option<MqttSummary>,
    /// Task output bytes kept so far, against [`RUN_OUTPUT_BUDGET`].
    output_kept: usize,
}

/// The most task output (stdout and stderr, every host and task) one run keeps: past it, an
/// output is cut and says so, so memory stays bounded whatever the fleet size. Each stream of
/// a running task holds at most `transport::capture::OUTPUT_LIMIT` (4 MiB) besides.
pub const RUN_OUTPUT_BUDGET: usize = 64 << 20;

impl ReportBuilder {
    /// Takes the event by value: task results move into the report instead of being copied.
    pub fn apply(&mut self, stamped: Stamped) {
        self.last_ms = stamped.at_ms;
        match stamped.event {
            Event::PlayStarted {
                play,
                name,
                pattern,
                settings,
                tasks,
                ..
            } => {
                self.plays.push(PlayReport {
                    index: play,
                    name,
                    pattern,
                    settings: settings_json(&settings),
                    batches: Vec::new(),
                    tasks,
                });
            }
            Event::BatchStarted { play, batch, hosts } => {
                if let Some(p) = self.plays.iter_mut().find(|p| p.index == play) {
                    p.batches.push(BatchReport {
                        index: batch,
                        hosts: hosts.iter().map(|h| h.to_string()).collect(),
                        started_ms: stamped.at_ms,
                        finished_ms: None,
                    });
                }
            }
            Event::BatchFinished { play, batch } => {
                let p = self.plays.iter_mut().find(|p| p.index == play);
                if let Some(b) = p.and_then(|p| p.batches.iter_mut().find(|b| b.index == batch)) {
                    b.finished_ms = Some(stamped.at_ms);
                }
            }
            Event::HostState { play, host, .. } => {
                let entry = self.pending.entry((play, host)).or_default();
                entry.0.get_or_insert(stamped.at_ms);
            }
            Event::TaskFinished {
                play,
                host,
                mut result,
            } => {
                self.charge(&mut result);
                let entry = self.pending.entry((play, host)).or_default();
                entry.1.push(result);
            }
            Event::HostFinished {
                play,
                batch,
                host,
                address,
                transport,
                groups,
                outcome,
            } => {
                let (started_ms, tasks) = self
                    .pending
                    .remove(&(play, host.clone()))
                    .unwrap_or_default();
                self.hosts.push(HostReport {
                    name: host.to_string(),
                    play,
                    batch,
                    address,
                    transport: transport.to_string(),
                    groups,
                    started_ms,
                    finished_ms: stamped.at_ms,
                    outcome,
                    tasks,
                });
            }
            Event::TransportSummary {
                summary: Summary::Mqtt(summary),
            } => self.mqtt = Some(summary),
            Event::RunStarted { .. }
            | Event::PlayFinished { .. }
            | Event::RunFinished { .. }
            | Event::ConnectFailed { .. } => {}
        }
    }

    /// Keeps what fits of a task's output in what is left of the run's budget.
    fn charge(&mut self, result: &mut TaskResult) {
        for text in [&mut result.stdout, &mut result.stderr] {
            let room = RUN_OUTPUT_BUDGET.saturating_sub(self.output_kept);
            if text.len() > room {
                let mut cut = room;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                let dropped = text.len() - cut;
                text.truncate(cut);
                text.push_str(&format!(
                    "\n[drover: {dropped} more bytes not kept: the run's output budget of {} MiB is spent]",
                    RUN_OUTPUT_BUDGET >> 20
                ));
            }
            self.output_kept += text.len().min(room);
        }
        for item in &mut result.items {
            self.charge(item);
        }
    }

    /// The report so far. Hosts still running (an interrupted run) are kept as cancelled with
    /// the tasks they finished, so no result is lost.
    pub fn build(self, mut run: RunInfo) -> RunReport {
        let mut hosts = self.hosts;
        for ((play, host), (started_ms, tasks)) in self.pending {
            hosts.push(HostReport {
                name: host.to_string(),
                play,
                batch: 0,
                address: String::new(),
                transport: String::new(),
                groups: Vec::new(),
                started_ms,
                finished_ms: self.last_ms,
                outcome: HostOutcome {
                    status: HostStatus::Cancelled,
                    error: None,
                    connect_ms: None,
                    duration_ms: 0,
                    attempts: 0,
                    connect_attempts: Vec::new(),
                    breaker: None,
                },
                tasks,
            });
        }
        // Inventory order within each play, whatever order the hosts finished in.
        let mut position = std::collections::HashMap::new();
        for p in &self.plays {
            for (i, name) in p.batches.iter().flat_map(|b| b.hosts.iter()).enumerate() {
                position.insert((p.index, name.as_str()), i);
            }
        }
        let key = |h: &HostReport| {
            position
                .get(&(h.play, h.name.as_str()))
                .copied()
                .unwrap_or(usize::MAX)
        };
        hosts.sort_by_cached_key(|h| (h.play, h.batch, key(h)));
        let counts = counts(&hosts);
        // A group of one host would repeat that host's own result: the report keeps groups of
        // two or more.
        let output_groups = group_outputs(&hosts, 1);
        run.duration_ms = self.last_ms;
        RunReport {
            schema_version: SCHEMA_VERSION,
            drover_version: env!("CARGO_PKG_VERSION").to_string(),
            run,
            counts,
            plays: self.plays,
            hosts,
            output_groups,
            mqtt: self.mqtt,
        }
    }
}

/// Hosts per final status. A host in several plays counts once, with its worst status.
pub fn counts(hosts: &[HostReport]) -> BTreeMap<HostStatus, usize> {
    let mut worst: BTreeMap<&str, HostStatus> = BTreeMap::new();
    for h in hosts {
        let e = worst.entry(h.name.as_str()).or_insert(h.outcome.status);
        if rank(h.outcome.status) > rank(*e) {
            *e = h.outcome.status;
        }
    }
    let mut out: BTreeMap<HostStatus, usize> = HostStatus::ALL.iter().map(|s| (*s, 0)).collect();
    for s in worst.values() {
        *out.entry(*s).or_default() += 1;
    }
    out
}

fn rank(s: HostStatus) -> u8 {
    match s {
        HostStatus::Ok => 0,
        HostStatus::Skipped => 1,
        HostStatus::Cancelled => 2,
        HostStatus::Failed => 3,
        HostStatus::Unreachable => 4,
    }
}

fn settings_json(settings: &RunSettings) -> serde_json::Value {
    serde_json::to_value(settings).unwrap_or(serde_json::Value::Null)
}

impl RunReport {
    /// 0 all ok; 2 some host failed or was unreachable; 3 aborted; 130 interrupted.
    /// A host skipped because its breaker is open was not reached either: a cron audit must
    /// not read that as success.
    pub fn exit_code(&self) -> i32 {
        if self.run.error.is_some() {
            1
        } else if self.run.interrupted {
            130
        } else if self.run.aborted.is_some() {
            3
        } else if self
            .hosts
            .iter()
            .any(|h| h.outcome.status.is_failure() || breaker_skipped(h))
        {
            2
        } else {
            0
        }
    }
}

fn breaker_skipped(host: &HostReport) -> bool {
    host.outcome.status == HostStatus::Skipped
        && host
            .outcome
            .error
            .as_ref()
            .is_some_and(|e| e.kind == crate::outcome::ErrorKind::BreakerOpen)
}
