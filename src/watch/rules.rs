//! When a host changes level: pure logic over check results, no clock and no I/O, so every
//! escalation and de-escalation sequence is tested exactly.
//!
//! - A failure escalates: the first failure in a row makes the host at least `HIGH`
//!   (`high_after`, default 1), the second at least `CRITICAL` (`critical_after`, default 2),
//!   as in the field note's timeline (NORMAL fails → HIGH, fails again → CRITICAL).
//!   Escalation never calms a host: a `CRITICAL` host that fails stays `CRITICAL`.
//! - A success streak de-escalates one level at a time: `calm_after` consecutive successes
//!   at a level move the host to the next calmer one, and the streak starts again there.
//!   Defaults: CRITICAL 3, HIGH 10, NORMAL 20, LOW 0 (0: never calmer than this level), so a
//!   healthy host settles at LOW and MINIMAL is only reached when asked for.
//! - A check skipped because the host's breaker is open changes nothing here: the breaker
//!   already counted the failures that opened it.
//! - No activity for more than `idle_after` (default 300 s, the field note's "no activity
//!   for > 300 seconds → HIGH") raises a host to at least HIGH, judged at the end of each of
//!   its checks once the check's own result has counted, as the note's loop updates the
//!   activity timestamp before it adjusts the level. Activity is hearing from the host: a
//!   check that passed by running its tasks, or any message on its subscribed topics. So a
//!   host whose checks pass is never idle; one that stays silent (a heartbeat that stopped
//!   while `stale_after` is still generous, a breaker open for minutes, failures below
//!   `high_after`) is looked at more often. The success streak starts again at HIGH.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::level::{Level, PerLevel};

/// The watch's rules, resolved from the play's `watch:` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub intervals: PerLevel<Duration>,
    /// Where a host without saved state starts.
    pub start: Level,
    /// Failures in a row that make a host at least HIGH (0: never).
    pub high_after: u32,
    /// Failures in a row that make a host CRITICAL (0: never).
    pub critical_after: u32,
    /// Successes in a row at a level that move a host one level calmer (0: never).
    pub calm_after: PerLevel<u32>,
    /// No activity for longer than this: at least HIGH (`None`: never).
    pub idle_after: Option<Duration>,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            intervals: PerLevel(Level::ALL.map(Level::default_interval)),
            start: Level::Normal,
            high_after: 1,
            critical_after: 2,
            calm_after: PerLevel([3, 10, 20, 0, 0]),
            idle_after: Some(Duration::from_secs(300)),
        }
    }
}

impl Rules {
    pub fn interval(&self, level: Level) -> Duration {
        self.intervals.get(level)
    }
}

/// A host's level and its current streak: what a restarted watch resumes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Track {
    pub level: Level,
    /// Failures in a row (0 after a success).
    pub failures: u32,
    /// Successes in a row at this level (0 after a failure or a level change).
    pub successes: u32,
}

/// A level change and why it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub from: Level,
    pub to: Level,
    /// The streak that caused it: failures when escalating, successes when calming.
    pub streak: u32,
}

impl Track {
    pub fn new(level: Level) -> Track {
        Track {
            level,
            failures: 0,
            successes: 0,
        }
    }

    /// Applies one check result; says whether the level changed.
    pub fn record(&mut self, rules: &Rules, ok: bool) -> Option<Change> {
        let from = self.level;
        if ok {
            self.failures = 0;
            self.successes += 1;
            let need = rules.calm_after.get(from);
            if need == 0 || self.successes < need || from == Level::Minimal {
                return None;
            }
            let streak = self.successes;
            self.level = from.calmer();
            self.successes = 0;
            return Some(Change {
                from,
                to: self.level,
                streak,
            });
        }
        self.successes = 0;
        self.failures += 1;
        let reached = |n: u32| n > 0 && self.failures >= n;
        let target = if reached(rules.critical_after) {
            Level::Critical
        } else if reached(rules.high_after) {
            Level::High
        } else {
            from
        };
        if target >= from {
            return None;
        }
        self.level = target;
        Some(Change {
            from,
            to: target,
            streak: self.failures,
        })
    }

    /// The host was idle for `idle_for`: at least HIGH when that passes `idle_after`.
    pub fn idle(&mut self, rules: &Rules, idle_for: Duration) -> Option<Change> {
        let limit = rules.idle_after?;
        if idle_for <= limit || self.level <= Level::High {
            return None;
        }
        let from = self.level;
        self.level = Level::High;
        self.successes = 0;
        Some(Change {
            from,
            to: Level::High,
            streak: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a sequence of results (`.` ok, `x` failed) and returns the level after each.
    fn levels(rules: &Rules, start: Level, results: &str) -> Vec<Level> {
        let mut track = Track::new(start);
        results
            .chars()
            .map(|c| {
                track.record(rules, c == '.');
                track.level
            })
            .collect()
    }

    #[test]
    fn the_field_note_timeline() {
        // NORMAL: ok, fail → HIGH, fail → CRITICAL, three oks → HIGH.
        let rules = Rules::default();
        let got = levels(&rules, Level::Normal, ".xx...");
        use Level::*;
        assert_eq!(got, [Normal, High, Critical, Critical, Critical, High]);
    }

    #[test]
    fn calming_goes_one_level_at_a_time_and_stops_at_low() {
        let rules = Rules::default();
        let mut track = Track::new(Level::Critical);
        let mut changes = Vec::new();
        for i in 1..=200 {
            if let Some(c) = track.record(&rules, true) {
                changes.push((i, c.from, c.to));
            }
        }
        use Level::*;
        assert_eq!(
            changes,
            [(3, Critical, High), (13, High, Normal), (33, Normal, Low)]
        );
        assert_eq!(track.level, Low);
    }

    #[test]
    fn a_failure_resets_the_success_streak() {
        let rules = Rules::default();
        // Two oks at CRITICAL, a failure, then three oks are needed again.
        let got = levels(&rules, Level::Critical, "..x..");
        assert!(got.iter().all(|l| *l == Level::Critical), "{got:?}");
        let got = levels(&rules, Level::Critical, "..x...");
        assert_eq!(got.last(), Some(&Level::High));
    }

    #[test]
    fn escalation_never_calms_and_thresholds_are_configurable() {
        let rules = Rules {
            high_after: 2,
            critical_after: 4,
            ..Rules::default()
        };
        use Level::*;
        assert_eq!(
            levels(&rules, Normal, "xxxxx"),
            [Normal, High, High, Critical, Critical]
        );
        // A LOW host that fails once under the defaults is HIGH at once.
        assert_eq!(levels(&Rules::default(), Low, "x"), [High]);
        // 0 turns escalation off.
        let off = Rules {
            high_after: 0,
            critical_after: 0,
            ..Rules::default()
        };
        assert_eq!(levels(&off, Normal, "xxx"), [Normal, Normal, Normal]);
    }

    #[test]
    fn more_than_idle_after_without_activity_raises_to_high_only() {
        let rules = Rules::default();
        let mut track = Track::new(Level::Minimal);
        track.successes = 4;
        // 300 s is not more than 300 s.
        assert_eq!(track.idle(&rules, Duration::from_secs(300)), None);
        let c = track.idle(&rules, Duration::from_millis(300_001)).unwrap();
        assert_eq!((c.from, c.to), (Level::Minimal, Level::High));
        assert_eq!((track.level, track.successes), (Level::High, 0));
        // HIGH and CRITICAL stay where they are.
        assert_eq!(track.idle(&rules, Duration::from_secs(900)), None);
        let mut critical = Track::new(Level::Critical);
        assert_eq!(critical.idle(&rules, Duration::from_secs(900)), None);
        assert_eq!(critical.level, Level::Critical);
        // Off.
        let off = Rules {
            idle_after: None,
            ..Rules::default()
        };
        assert_eq!(Track::new(Level::Low).idle(&off, Duration::MAX), None);
    }

    #[test]
    fn minimal_is_reached_only_when_low_calms() {
        let rules = Rules {
            calm_after: PerLevel([3, 10, 20, 2, 5]),
            ..Rules::default()
        };
        assert_eq!(
            levels(&rules, Level::Low, ".."),
            [Level::Low, Level::Minimal]
        );
        assert_eq!(levels(&rules, Level::Minimal, "......")[5], Level::Minimal);
    }
}
