//! The per-host circuit breaker (`circuit_breaker` setting): after `threshold` consecutive
//! failed connections a host is skipped for `cooldown`, then one probe is let through (half
//! open); its success closes the breaker, its failure opens it for another cooldown. This keeps
//! a cron audit from hammering a dead router every five minutes.
//!
//! It is a pure state machine: no I/O and no clock. Every method that needs the time takes
//! `now_ms` (Unix milliseconds) from the caller, and the state holds only Unix milliseconds, so
//! it can be saved to the breaker state file at the end of a run and loaded by the next one.

use std::time::Duration;

pub use crate::policy::breaker::{BreakerPolicy, BreakerState};

/// What the breaker says to one connection attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Closed: connect.
    Go,
    /// Connect as the one probe; report the result with `on_success` or `on_failure`.
    Probe,
    /// Skip the host; the breaker may let a connection through after this long.
    Reject { retry_after_ms: u64 },
}

/// One host's breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breaker {
    state: BreakerState,
    policy: BreakerPolicy,
}

impl Breaker {
    /// A closed breaker with no failures.
    pub fn new(policy: BreakerPolicy) -> Breaker {
        Breaker::restore(policy, BreakerState::Closed { failures: 0 })
    }

    /// A breaker in a state loaded from the state file.
    pub fn restore(policy: BreakerPolicy, state: BreakerState) -> Breaker {
        Breaker { state, policy }
    }

    /// The state, for reports and for saving.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Asks to connect at `now_ms`. An open breaker whose cooldown has passed turns half open
    /// and admits this caller as its one probe.
    pub fn admit(&mut self, now_ms: u64) -> Admission {
        match self.state {
            BreakerState::Closed { .. } => Admission::Go,
            BreakerState::Open { until_ms } if now_ms < until_ms => Admission::Reject {
                retry_after_ms: until_ms - now_ms,
            },
            BreakerState::HalfOpen { probe_since_ms } => {
                let lost_at = probe_since_ms.saturating_add(millis(self.policy.probe_timeout));
                if now_ms < lost_at {
                    return Admission::Reject {
                        retry_after_ms: lost_at - now_ms,
                    };
                }
                self.state = BreakerState::HalfOpen {
                    probe_since_ms: now_ms,
                };
                Admission::Probe
            }
            BreakerState::Open { .. } => {
                self.state = BreakerState::HalfOpen {
                    probe_since_ms: now_ms,
                };
                Admission::Probe
            }
        }
    }

    /// A connection (or the probe) succeeded: close, forgetting past failures.
    pub fn on_success(&mut self) {
        self.state = BreakerState::Closed { failures: 0 };
    }

    /// A connection failed at `now_ms`. Closed: one more failure in a row, opening at the
    /// threshold. Half open: the probe failed, open for another cooldown. Already open (a late
    /// report): stay open, at least for a cooldown from now.
    pub fn on_failure(&mut self, now_ms: u64) {
        let reopen_until = now_ms.saturating_add(millis(self.policy.cooldown));
        self.state = match self.state {
            BreakerState::Closed { failures } => {
                let failures = failures.saturating_add(1);
                if failures >= self.policy.threshold.max(1) {
                    BreakerState::Open {
                        until_ms: reopen_until,
                    }
                } else {
                    BreakerState::Closed { failures }
                }
            }
            BreakerState::HalfOpen { .. } => BreakerState::Open {
                until_ms: reopen_until,
            },
            BreakerState::Open { until_ms } => BreakerState::Open {
                until_ms: until_ms.max(reopen_until),
            },
        };
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const COOLDOWN: u64 = 180_000;
    const PROBE_TIMEOUT: u64 = 10_000;
    const T0: u64 = 1_700_000_000_000;

    fn breaker() -> Breaker {
        Breaker::new(BreakerPolicy::default())
    }

    /// A breaker opened by `threshold` failures at `T0`.
    fn opened() -> Breaker {
        let mut b = breaker();
        for _ in 0..3 {
            assert_eq!(b.admit(T0), Admission::Go);
            b.on_failure(T0);
        }
        b
    }

    #[test]
    fn opens_at_exactly_the_threshold() {
        let mut b = breaker();
        b.on_failure(T0);
        b.on_failure(T0);
        assert_eq!(b.state(), BreakerState::Closed { failures: 2 });
        assert_eq!(b.admit(T0), Admission::Go);
        b.on_failure(T0);
        assert_eq!(
            b.state(),
            BreakerState::Open {
                until_ms: T0 + COOLDOWN
            }
        );
    }

    #[test]
    fn a_success_resets_the_run_of_failures() {
        let mut b = breaker();
        for _ in 0..5 {
            b.on_failure(T0);
            b.on_failure(T0);
            b.on_success();
        }
        assert_eq!(b.state(), BreakerState::Closed { failures: 0 });
        assert_eq!(b.admit(T0), Admission::Go);
    }

    #[test]
    fn stays_open_for_the_cooldown_then_lets_one_probe_through() {
        let mut b = opened();
        assert_eq!(
            b.admit(T0),
            Admission::Reject {
                retry_after_ms: COOLDOWN
            }
        );
        assert_eq!(
            b.admit(T0 + COOLDOWN - 1),
            Admission::Reject { retry_after_ms: 1 }
        );
        assert_eq!(
            b.state(),
            BreakerState::Open {
                until_ms: T0 + COOLDOWN
            }
        );
        assert_eq!(b.admit(T0 + COOLDOWN), Admission::Probe);
        assert_eq!(
            b.state(),
            BreakerState::HalfOpen {
                probe_since_ms: T0 + COOLDOWN
            }
        );
    }

    #[test]
    fn only_one_probe_at_a_time() {
        let mut b = opened();
        let t = T0 + COOLDOWN;
        assert_eq!(b.admit(t), Admission::Probe);
        assert_eq!(
            b.admit(t),
            Admission::Reject {
                retry_after_ms: PROBE_TIMEOUT
            }
        );
        assert_eq!(
            b.admit(t + 4_000),
            Admission::Reject {
                retry_after_ms: 6_000
            }
        );
        assert_eq!(b.state(), BreakerState::HalfOpen { probe_since_ms: t });
    }

    #[test]
    fn a_lost_probe_is_replaced_after_the_probe_timeout() {
        // E.g. the run that sent the probe was killed and saved the breaker half open.
        let mut b = Breaker::restore(
            BreakerPolicy::default(),
            BreakerState::HalfOpen { probe_since_ms: T0 },
        );
        assert_eq!(
            b.admit(T0 + PROBE_TIMEOUT - 1),
            Admission::Reject { retry_after_ms: 1 }
        );
        assert_eq!(b.admit(T0 + PROBE_TIMEOUT), Admission::Probe);
        assert_eq!(
            b.state(),
            BreakerState::HalfOpen {
                probe_since_ms: T0 + PROBE_TIMEOUT
            }
        );
    }

    #[test]
    fn a_successful_probe_closes() {
        let mut b = opened();
        assert_eq!(b.admit(T0 + COOLDOWN), Admission::Probe);
        b.on_success();
        assert_eq!(b.state(), BreakerState::Closed { failures: 0 });
        assert_eq!(b.admit(T0 + COOLDOWN), Admission::Go);
    }

    #[test]
    fn a_failed_probe_reopens_for_a_full_cooldown_from_the_failure() {
        let mut b = opened();
        let t = T0 + COOLDOWN;
        assert_eq!(b.admit(t), Admission::Probe);
        b.on_failure(t + 3_000);
        assert_eq!(
            b.state(),
            BreakerState::Open {
                until_ms: t + 3_000 + COOLDOWN
            }
        );
        assert_eq!(
            b.admit(t + 3_000 + COOLDOWN - 1),
            Admission::Reject { retry_after_ms: 1 }
        );
        assert_eq!(b.admit(t + 3_000 + COOLDOWN), Admission::Probe);
    }

    #[test]
    fn a_late_failure_while_open_never_shortens_the_cooldown() {
        let mut b = opened();
        b.on_failure(T0 - 50_000);
        assert_eq!(
            b.state(),
            BreakerState::Open {
                until_ms: T0 + COOLDOWN
            }
        );
        b.on_failure(T0 + 1_000);
        assert_eq!(
            b.state(),
            BreakerState::Open {
                until_ms: T0 + 1_000 + COOLDOWN
            }
        );
    }

    #[test]
    fn threshold_0_counts_as_1() {
        let policy = BreakerPolicy {
            threshold: 0,
            ..BreakerPolicy::default()
        };
        let mut b = Breaker::new(policy);
        b.on_failure(T0);
        assert_eq!(
            b.state(),
            BreakerState::Open {
                until_ms: T0 + COOLDOWN
            }
        );
    }

    #[test]
    fn times_near_the_end_of_u64_saturate() {
        let mut b = Breaker::new(BreakerPolicy {
            threshold: 1,
            ..BreakerPolicy::default()
        });
        b.on_failure(u64::MAX - 1);
        assert_eq!(b.state(), BreakerState::Open { until_ms: u64::MAX });
        assert_eq!(
            b.admit(u64::MAX - 1),
            Admission::Reject { retry_after_ms: 1 }
        );
        assert_eq!(b.admit(u64::MAX), Admission::Probe);
    }

    #[test]
    fn states_round_trip_through_the_state_file_form() {
        for (state, json) in [
            (
                BreakerState::Closed { failures: 2 },
                r#"{"state":"closed","failures":2}"#,
            ),
            (
                BreakerState::Open { until_ms: T0 },
                r#"{"state":"open","until_ms":1700000000000}"#,
            ),
            (
                BreakerState::HalfOpen { probe_since_ms: T0 },
                r#"{"state":"half_open","probe_since_ms":1700000000000}"#,
            ),
        ] {
            assert_eq!(serde_json::to_string(&state).expect("serializes"), json);
            let back: BreakerState = serde_json::from_str(json).expect("deserializes");
            assert_eq!(back, state);
        }
    }

    #[test]
    fn a_restored_open_breaker_keeps_rejecting_until_its_time() {
        let mut b = opened();
        let saved = serde_json::to_string(&b.state()).expect("serializes");
        let loaded: BreakerState = serde_json::from_str(&saved).expect("deserializes");
        let mut next_run = Breaker::restore(BreakerPolicy::default(), loaded);
        for now in [T0 + 1, T0 + COOLDOWN - 1] {
            assert_eq!(next_run.admit(now), b.admit(now));
        }
        assert_eq!(next_run.admit(T0 + COOLDOWN), Admission::Probe);
    }

    #[derive(Debug, Clone)]
    enum Step {
        Admit,
        Success,
        Failure,
    }

    fn steps() -> impl Strategy<Value = Vec<(u64, Step)>> {
        let step = prop_oneof![Just(Step::Admit), Just(Step::Success), Just(Step::Failure)];
        prop::collection::vec((0u64..100_000, step), 0..200)
    }

    proptest! {
        #[test]
        fn never_admits_while_open_before_the_cooldown(
            threshold in 1u32..5,
            cooldown_ms in 1u64..300_000,
            probe_ms in 1u64..30_000,
            steps in steps(),
        ) {
            let policy = BreakerPolicy {
                threshold,
                cooldown: Duration::from_millis(cooldown_ms),
                probe_timeout: Duration::from_millis(probe_ms),
            };
            let mut b = Breaker::new(policy);
            let mut now = T0;
            // When the breaker last opened, and until when it must reject.
            let mut open_until: Option<u64> = None;
            let mut probe_out_since: Option<u64> = None;
            for (gap, step) in steps {
                now += gap;
                let before = b.state();
                match step {
                    Step::Admit => {
                        let admission = b.admit(now);
                        match (before, admission) {
                            (BreakerState::Closed { .. }, a) => prop_assert_eq!(a, Admission::Go),
                            (_, Admission::Reject { retry_after_ms }) => {
                                prop_assert!(retry_after_ms > 0);
                                prop_assert_eq!(b.state(), before);
                            }
                            (_, Admission::Go) => prop_assert!(false, "Go while {:?}", before),
                            (_, Admission::Probe) => {
                                if let Some(until) = open_until {
                                    prop_assert!(now >= until, "probe at {} before {}", now, until);
                                }
                                if let Some(since) = probe_out_since {
                                    prop_assert!(now >= since + probe_ms);
                                }
                                probe_out_since = Some(now);
                            }
                        }
                    }
                    Step::Success => {
                        b.on_success();
                        open_until = None;
                        probe_out_since = None;
                    }
                    Step::Failure => {
                        b.on_failure(now);
                        probe_out_since = None;
                        if let BreakerState::Open { until_ms } = b.state() {
                            prop_assert!(until_ms >= now + cooldown_ms);
                            open_until = Some(until_ms);
                        }
                    }
                }
                if let BreakerState::Closed { failures } = b.state() {
                    prop_assert!(failures < threshold);
                }
            }
        }
    }
}
