//! The five monitoring levels of `drover watch`, most urgent first. A level sets how often a
//! host is checked and how early its MQTT subscriptions are served.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A host's monitoring level. The derived order is priority: `Critical < High < … <
/// Minimal`, so sorting puts the most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Critical,
    High,
    Normal,
    Low,
    Minimal,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::Critical,
        Level::High,
        Level::Normal,
        Level::Low,
        Level::Minimal,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The next calmer level (checked less often); `Minimal` stays.
    pub fn calmer(self) -> Level {
        Level::ALL[(self.index() + 1).min(4)]
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Critical => "critical",
            Level::High => "high",
            Level::Normal => "normal",
            Level::Low => "low",
            Level::Minimal => "minimal",
        }
    }

    /// The interval when the play does not set one.
    pub fn default_interval(self) -> Duration {
        Duration::from_secs(match self {
            Level::Critical => 5,
            Level::High => 15,
            Level::Normal => 60,
            Level::Low => 300,
            Level::Minimal => 600,
        })
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str().to_ascii_uppercase())
    }
}

/// One value per level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerLevel<T>(pub [T; 5]);

impl<T: Copy> PerLevel<T> {
    pub fn get(&self, level: Level) -> T {
        self.0[level.index()]
    }
}
