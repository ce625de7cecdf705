//! The circuit breaker's policy (when it opens, for how long) and its saved state. The
//! state machine that applies them is the engine's (`engine::breaker`); these live here so
//! settings, outcomes and the breaker store can name them without reaching into the engine.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// When a breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Consecutive failures that open the breaker (0 counts as 1).
    pub threshold: u32,
    /// How long an open breaker skips its host before letting a probe through.
    pub cooldown: Duration,
    /// How long one probe may be out before it is taken as lost (say, the run that sent it
    /// was killed and saved the breaker half open) and another is let through.
    pub probe_timeout: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> BreakerPolicy {
        BreakerPolicy {
            threshold: 3,
            cooldown: Duration::from_secs(180),
            probe_timeout: Duration::from_secs(10),
        }
    }
}

/// A breaker's state as saved in the state file, e.g. `{"state":"open","until_ms":…}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BreakerState {
    /// Connections go through; `failures` in a row so far.
    Closed { failures: u32 },
    /// The host is skipped until this Unix time.
    Open { until_ms: u64 },
    /// One probe has been out since this Unix time; nothing else goes through.
    HalfOpen { probe_since_ms: u64 },
}
