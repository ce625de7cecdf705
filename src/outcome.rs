//! Results at three levels: one task's result, one host's outcome, and (in `report`) the
//! whole run. Errors are classified so retry and breaker logic can match on them.

use serde::{Deserialize, Serialize};

/// What went wrong, as a class the engine can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Unreachable,
    ConnectTimeout,
    AuthFailed,
    HostKeyMismatch,
    CommandTimeout,
    HostTimeout,
    NonzeroExit,
    ExpectationFailed,
    BreakerOpen,
    RenderError,
    Cancelled,
    Protocol,
    /// The server turned the connection away before its banner (sshd's `MaxStartups`).
    Throttled,
    /// Reserved for transports that are not available in this build.
    Unsupported,
}

impl ErrorKind {
    /// Failures worth another connection attempt.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorKind::Unreachable | ErrorKind::ConnectTimeout | ErrorKind::Throttled
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::ConnectTimeout => "connect_timeout",
            ErrorKind::AuthFailed => "auth_failed",
            ErrorKind::HostKeyMismatch => "host_key_mismatch",
            ErrorKind::CommandTimeout => "command_timeout",
            ErrorKind::HostTimeout => "host_timeout",
            ErrorKind::NonzeroExit => "nonzero_exit",
            ErrorKind::ExpectationFailed => "expectation_failed",
            ErrorKind::BreakerOpen => "breaker_open",
            ErrorKind::RenderError => "render_error",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Unsupported => "unsupported",
        }
    }
}

/// A classified error with the transport's (or drover's) own message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostOutcome {
    pub status: HostStatus,
    pub error: Option<TaskError>,
    /// Time to connect, when it connected.
    pub connect_ms: Option<u64>,
    pub duration_ms: u64,
    /// Connection attempts made.
    pub attempts: u32,
}
