//! Results at three levels: one task's result, one host's outcome, and (in `report`) the
//! whole run. Errors are classified so retry and breaker logic can match on them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What went wrong, as a class the engine can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Unreachable,
    ConnectTimeout,
    AuthFailed,
    HostKeyMismatch,
    /// The host's key is not in known_hosts and the policy is `strict`: a first connection,
    /// not an attack; the message says how to trust the key.
    HostKeyUnknown,
    CommandTimeout,
    HostTimeout,
    NonzeroExit,
    ExpectationFailed,
    BreakerOpen,
    RenderError,
    Cancelled,
    Protocol,
    /// The server turned the connection away under load (sshd `MaxStartups`).
    Throttled,
    /// The node answered that it failed (MQTT: the reply's status field said so).
    Failed,
    /// A publish the broker did not acknowledge: nothing was delivered, safe to retry.
    NoAck,
    /// Acknowledged but unanswered: the node may have acted, so it is not retried unless the
    /// task is idempotent.
    NoReply,
    /// The output is not what `parse:` asked for (not JSON, a TextFSM `Error` rule).
    ParseError,
    /// An `assert` condition did not hold.
    AssertionFailed,
    /// The connection to the host ended while a command ran (the server died, the link
    /// dropped): the path failed, not the command, which may have run in part.
    ConnectionLost,
}

impl ErrorKind {
    /// Failures worth another connection attempt.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorKind::Unreachable
                | ErrorKind::ConnectTimeout
                | ErrorKind::Throttled
                | ErrorKind::NoAck
        )
    }

    /// Failures of the path to the host, which count against its circuit breaker. A command's
    /// exit code, a failed expectation or a bad credential say nothing about the path.
    pub fn feeds_breaker(self) -> bool {
        matches!(
            self,
            ErrorKind::Unreachable
                | ErrorKind::ConnectTimeout
                | ErrorKind::Throttled
                | ErrorKind::Protocol
                | ErrorKind::CommandTimeout
                | ErrorKind::HostTimeout
                | ErrorKind::ConnectionLost
        )
    }

    /// The host was lost rather than the task failing: `ignore_errors` does not make it
    /// `ignored` (as in Ansible, where it does not cover an unreachable host).
    pub fn lost_host(self) -> bool {
        matches!(self, ErrorKind::ConnectionLost | ErrorKind::Unreachable)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::ConnectTimeout => "connect_timeout",
            ErrorKind::AuthFailed => "auth_failed",
            ErrorKind::HostKeyMismatch => "host_key_mismatch",
            ErrorKind::HostKeyUnknown => "host_key_unknown",
            ErrorKind::CommandTimeout => "command_timeout",
            ErrorKind::HostTimeout => "host_timeout",
            ErrorKind::NonzeroExit => "nonzero_exit",
            ErrorKind::ExpectationFailed => "expectation_failed",
            ErrorKind::BreakerOpen => "breaker_open",
            ErrorKind::RenderError => "render_error",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Failed => "failed",
            ErrorKind::NoAck => "no_ack",
            ErrorKind::NoReply => "no_reply",
            ErrorKind::ParseError => "parse_error",
            ErrorKind::AssertionFailed => "assertion_failed",
            ErrorKind::ConnectionLost => "connection_lost",
        }
    }
}

/// A classified error with the transport's (or drover's) own message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskError {
    pub kind: ErrorKind,
    pub message: String,
}

impl TaskError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> TaskError {
        TaskError {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for TaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Ok,
    Failed,
    /// Failed, but the task said `ignore_errors: true`.
    Ignored,
    /// `when` was false.
    Skipped,
}

/// One task on one host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskResult {
    pub index: usize,
    pub name: String,
    pub kind: String,
    /// The rendered command, with secrets masked; empty when the task was skipped.
    pub command: String,
    pub status: TaskStatus,
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub started_ms: u64,
    pub duration_ms: u64,
    pub error: Option<TaskError>,
    /// Runs of the task (more than 1 with task `retries`/`until`).
    pub attempts: u32,
    /// Each run, when there was more than one: its timing and why it did not do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<Attempt>,
    /// What `parse:` made of the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parsed: Option<crate::parse::Parsed>,
    /// What `changed_when:` said; absent without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<bool>,
    /// A `loop` task's items, each a result of its own (`name` is the item's label).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<TaskResult>,
    /// An `assert` task's conditions and whether each held.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<Assertion>,
    /// A `config` task's lines, each with what the device answered, in the order sent
    /// (the commit and the save last, when there were any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<ConfigLine>,
}

/// One line a `config` task sent to a device, and the device's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConfigLine {
    pub line: String,
    pub response: String,
}

/// One condition of an `assert` task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Assertion {
    pub that: String,
    pub passed: bool,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum HostStatus {
    Ok,
    Failed,
    Unreachable,
    Skipped,
    Cancelled,
}

impl HostStatus {
    pub const ALL: [HostStatus; 5] = [
        HostStatus::Ok,
        HostStatus::Failed,
        HostStatus::Unreachable,
        HostStatus::Skipped,
        HostStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HostStatus::Ok => "ok",
            HostStatus::Failed => "failed",
            HostStatus::Unreachable => "unreachable",
            HostStatus::Skipped => "skipped",
            HostStatus::Cancelled => "cancelled",
        }
    }

    /// Whether this host makes the run exit 2.
    pub fn is_failure(self) -> bool {
        matches!(self, HostStatus::Failed | HostStatus::Unreachable)
    }
}

/// How one host's turn ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HostOutcome {
    pub status: HostStatus,
    pub error: Option<TaskError>,
    /// Time to connect, when it connected.
    pub connect_ms: Option<u64>,
    pub duration_ms: u64,
    /// Connection attempts made.
    pub attempts: u32,
    /// Each connection attempt, with its timing and error.
    pub connect_attempts: Vec<Attempt>,
    /// The host's circuit breaker when its turn ended (absent when breakers are off).
    pub breaker: Option<crate::policy::BreakerState>,
}

/// One attempt (to connect, to run a task, to publish), as the report records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub attempt: u32,
    /// When the attempt started, after its rate-limit wait, in ms since the run started.
    pub started_ms: u64,
    /// Time spent waiting for a rate-limit token.
    pub waited_ms: u64,
    pub duration_ms: u64,
    /// Backoff slept after this attempt, before the next.
    pub backoff_ms: u64,
    /// Whether this was a half-open breaker's probe.
    pub probe: bool,
    pub error: Option<TaskError>,
    /// How the connection was made (the attempt that succeeded), where the transport says:
    /// `native ssh to 10.0.0.1:22, host key ED25519 SHA256:…, login by password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}
