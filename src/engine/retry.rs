//! Connection retries (`retries` / `backoff` settings): exponential backoff with full jitter,
//! capped. The policy ([`Backoff`]: how many retries, how long to wait) is kept apart from the
//! mechanism ([`retry`]: the loop that calls, classifies, sleeps and records), so each is
//! tested alone.
//!
//! Full jitter (a wait drawn uniformly from zero to the exponential ceiling) spreads the
//! retries of hosts that failed together, e.g. behind one flapping uplink, instead of sending
//! them back in lockstep. The random source is a parameter so tests are deterministic; for real
//! runs [`jitter_source`] is a tiny PRNG, which is all jitter needs (no `rand` dependency).
//! Waits use tokio's clock, so tests run them on a paused clock, exactly.

use std::future::Future;
use std::hash::BuildHasher;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::time::Instant;

/// How often to retry and how long to wait in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first wait; each later one doubles it.
    pub base: Duration,
    /// No wait is longer than this.
    pub cap: Duration,
    /// Attempts after the first.
    pub retries: u32,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(60),
            retries: 2,
        }
    }
}

impl Backoff {
    /// The longest wait after attempt `attempt` (0 = the first) failed:
    /// `min(cap, base * 2^attempt)`, saturating instead of overflowing.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        if self.base.is_zero() {
            return Duration::ZERO;
        }
        let grown = 2u32
            .checked_pow(attempt)
            .and_then(|factor| self.base.checked_mul(factor));
        grown.map_or(self.cap, |grown| grown.min(self.cap))
    }

    /// The wait after attempt `attempt` failed: `ceiling(attempt)` scaled by one draw of
    /// `uniform`, a source of numbers in `[0, 1)`. A draw outside `[0, 1]` is clamped (NaN
    /// reads as 0), so the result is always within `[0, ceiling(attempt)]`.
    pub fn delay(&self, attempt: u32, uniform: &mut impl FnMut() -> f64) -> Duration {
        let ceiling = self.ceiling(attempt);
        let x = uniform();
        let x = if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) };
        Duration::try_from_secs_f64(ceiling.as_secs_f64() * x)
            .map_or(ceiling, |delay| delay.min(ceiling))
    }
}

/// A uniform `[0, 1)` source for [`Backoff::delay`]: SplitMix64, seeded by the caller so a
/// run can be replayed. Not for anything that needs to be unpredictable.
pub fn jitter_source(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // The top 53 bits, as many as an f64 holds exactly: a multiple of 2^-53 below 1.
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A seed that differs between calls and between runs: the time, hashed with std's
/// `RandomState`, whose keys are random per thread and bumped for every instance.
pub fn fresh_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::collections::hash_map::RandomState::new().hash_one(nanos)
}

/// One attempt, for the host's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttemptRecord<E> {
    /// 0 for the first attempt.
    pub attempt: u32,
    /// `None` if it succeeded.
    pub error: Option<E>,
    /// When it started, from the start of the first attempt.
    pub started_ms: u64,
    pub duration_ms: u64,
    /// The wait after it before the next attempt (0 if there was none).
    pub slept_ms: u64,
}

/// The result of the last attempt, and every attempt's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retried<T, E> {
    pub result: Result<T, E>,
    pub attempts: Vec<AttemptRecord<E>>,
}

/// Calls `attempt(0)`, `attempt(1)`, … until one succeeds, one fails with an error that
/// `is_transient` rejects, or `backoff.retries` retries are spent; between attempts it sleeps
/// `backoff.delay(n, uniform)`. Cancel-safe: dropping it drops the attempt or the sleep in
/// progress.
pub async fn retry<T, E, F, Fut>(
    backoff: &Backoff,
    mut is_transient: impl FnMut(&E) -> bool,
    uniform: &mut impl FnMut() -> f64,
    mut attempt: F,
) -> Retried<T, E>
where
    E: Clone,
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let first = Instant::now();
    let mut attempts = Vec::new();
    let mut n = 0;
    loop {
        let started = Instant::now();
        let result = attempt(n).await;
        let mut record = AttemptRecord {
            attempt: n,
            error: None,
            started_ms: millis(started - first),
            duration_ms: millis(started.elapsed()),
            slept_ms: 0,
        };
        let error = match result {
            Ok(value) => {
                attempts.push(record);
                return Retried {
                    result: Ok(value),
                    attempts,
                };
            }
            Err(error) => error,
        };
        let again = n < backoff.retries && is_transient(&error);
        let delay = if again {
            backoff.delay(n, uniform)
        } else {
            Duration::ZERO
        };
        record.error = Some(error.clone());
        record.slept_ms = millis(delay);
        attempts.push(record);
        if !again {
            return Retried {
                result: Err(error),
                attempts,
            };
        }
        tokio::time::sleep(delay).await;
        n += 1;
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn the_ceiling_doubles_then_caps() {
        let b = Backoff::default();
        let ceilings: Vec<u64> = (0..8).map(|n| b.ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, [2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn the_ceiling_saturates_instead_of_overflowing() {
        let b = Backoff::default();
        for attempt in [31, 32, 64, 1_000, u32::MAX] {
            assert_eq!(b.ceiling(attempt), secs(60), "attempt {attempt}");
        }
        let huge = Backoff {
            base: secs(1 << 62),
            cap: Duration::MAX,
            retries: 1,
        };
        assert_eq!(huge.ceiling(1), secs(1 << 63));
        assert_eq!(huge.ceiling(2), Duration::MAX);
        assert_eq!(huge.ceiling(1_000), Duration::MAX);
        let zero = Backoff {
            base: Duration::ZERO,
            ..Backoff::default()
        };
        assert_eq!(zero.ceiling(1_000), Duration::ZERO);
    }

    #[test]
    fn the_delay_scales_the_ceiling_by_the_draw() {
        let b = Backoff::default();
        assert_eq!(b.delay(2, &mut || 0.0), Duration::ZERO);
        assert_eq!(b.delay(2, &mut || 0.25), secs(2));
        assert_eq!(b.delay(2, &mut || 0.5), secs(4));
        assert!(b.delay(2, &mut || 0.999_999) < secs(8));
        assert_eq!(b.delay(1_000, &mut || 0.5), secs(30));
    }

    #[test]
    fn a_draw_out_of_range_is_clamped() {
        let b = Backoff::default();
        assert_eq!(b.delay(0, &mut || 7.0), secs(2));
        assert_eq!(b.delay(0, &mut || f64::INFINITY), secs(2));
        assert_eq!(b.delay(0, &mut || -1.0), Duration::ZERO);
        assert_eq!(b.delay(0, &mut || f64::NAN), Duration::ZERO);
        let huge = Backoff {
            base: Duration::MAX,
            cap: Duration::MAX,
            retries: 1,
        };
        assert_eq!(huge.delay(0, &mut || 1.0), Duration::MAX);
    }

    #[test]
    fn jitter_source_is_splitmix64() {
        // The first outputs of SplitMix64 seeded with 0, from its reference implementation.
        let mut reference = [0xE220_A839_7B1D_CDAF_u64, 0x6E78_9E6A_A1B9_65F4];
        for r in &mut reference {
            *r >>= 11;
        }
        let mut next = jitter_source(0);
        for r in reference {
            assert_eq!(next(), r as f64 / (1u64 << 53) as f64);
        }
    }

    #[test]
    fn jitter_source_is_repeatable_and_spread_over_0_1() {
        let draws: Vec<f64> = std::iter::repeat_with(jitter_source(42))
            .take(10_000)
            .collect();
        let again: Vec<f64> = std::iter::repeat_with(jitter_source(42))
            .take(10_000)
            .collect();
        assert_eq!(draws, again);
        assert!(draws.iter().all(|x| (0.0..1.0).contains(x)));
        // Each tenth of [0, 1) gets roughly its share (expected 1000, sd 30).
        for decile in 0..10 {
            let n = draws
                .iter()
                .filter(|x| (**x * 10.0) as usize == decile)
                .count();
            assert!((850..1150).contains(&n), "decile {decile}: {n}");
        }
        let mut other = jitter_source(43);
        assert_ne!(other(), draws[0]);
    }

    #[test]
    fn fresh_seeds_differ() {
        assert_ne!(fresh_seed(), fresh_seed());
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Fail {
        Transient(u32),
        Fatal(u32),
    }

    fn is_transient(e: &Fail) -> bool {
        matches!(e, Fail::Transient(_))
    }

    /// An attempt that takes 100 ms and then fails or succeeds as `outcome(n)` says.
    fn attempt_with(
        outcome: impl Fn(u32) -> Result<&'static str, Fail>,
    ) -> impl FnMut(u32) -> std::pin::Pin<Box<dyn Future<Output = Result<&'static str, Fail>>>>
    {
        move |n| {
            let result = outcome(n);
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                result
            })
        }
    }

    fn record(
        attempt: u32,
        error: Option<Fail>,
        started_ms: u64,
        slept_ms: u64,
    ) -> AttemptRecord<Fail> {
        AttemptRecord {
            attempt,
            error,
            started_ms,
            duration_ms: 100,
            slept_ms,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn stops_after_the_retry_limit_with_exact_waits_and_records() {
        let t0 = Instant::now();
        let out = retry(
            &Backoff::default(),
            is_transient,
            &mut || 0.5,
            attempt_with(|n| Err(Fail::Transient(n))),
        )
        .await;
        assert_eq!(out.result, Err(Fail::Transient(2)));
        assert_eq!(
            out.attempts,
            [
                record(0, Some(Fail::Transient(0)), 0, 1_000),
                record(1, Some(Fail::Transient(1)), 1_100, 2_000),
                record(2, Some(Fail::Transient(2)), 3_200, 0),
            ]
        );
        assert_eq!(t0.elapsed(), Duration::from_millis(3_300));
    }

    #[tokio::test(start_paused = true)]
    async fn a_non_transient_error_is_not_retried() {
        let out = retry(
            &Backoff::default(),
            is_transient,
            &mut || 0.5,
            attempt_with(|n| {
                if n == 0 {
                    Err(Fail::Transient(n))
                } else {
                    Err(Fail::Fatal(n))
                }
            }),
        )
        .await;
        assert_eq!(out.result, Err(Fail::Fatal(1)));
        assert_eq!(
            out.attempts,
            [
                record(0, Some(Fail::Transient(0)), 0, 1_000),
                record(1, Some(Fail::Fatal(1)), 1_100, 0)
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_after_a_transient_failure_ends_the_loop() {
        let out = retry(
            &Backoff {
                retries: 5,
                ..Backoff::default()
            },
            is_transient,
            &mut || 0.25,
            attempt_with(|n| {
                if n == 0 {
                    Err(Fail::Transient(n))
                } else {
                    Ok("up")
                }
            }),
        )
        .await;
        assert_eq!(out.result, Ok("up"));
        assert_eq!(
            out.attempts,
            [
                record(0, Some(Fail::Transient(0)), 0, 500),
                record(1, None, 600, 0)
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn zero_retries_means_one_attempt() {
        let mut draws = 0;
        let out = retry(
            &Backoff {
                retries: 0,
                ..Backoff::default()
            },
            is_transient,
            &mut || {
                draws += 1;
                0.5
            },
            attempt_with(|n| Err(Fail::Transient(n))),
        )
        .await;
        assert_eq!(out.result, Err(Fail::Transient(0)));
        assert_eq!(out.attempts, [record(0, Some(Fail::Transient(0)), 0, 0)]);
        assert_eq!(draws, 0, "no wait is drawn when no retry follows");
    }

    proptest! {
        #[test]
        fn a_delay_is_within_0_and_its_ceiling(
            base_ms in 0u64..100_000,
            cap_ms in 0u64..10_000_000,
            attempt in any::<u32>(),
            x in any::<f64>(),
        ) {
            let b = Backoff {
                base: Duration::from_millis(base_ms),
                cap: Duration::from_millis(cap_ms),
                retries: 2,
            };
            let ceiling = b.ceiling(attempt);
            prop_assert!(ceiling <= b.cap);
            prop_assert!(b.delay(attempt, &mut || x) <= ceiling);
        }

        #[test]
        fn the_ceiling_never_shrinks_and_at_most_doubles(
            base_ms in 1u64..100_000,
            cap_ms in 0u64..10_000_000,
            attempt in 0u32..200,
        ) {
            let b = Backoff {
                base: Duration::from_millis(base_ms),
                cap: Duration::from_millis(cap_ms),
                retries: 2,
            };
            let (now, next) = (b.ceiling(attempt), b.ceiling(attempt + 1));
            prop_assert!(now <= next);
            prop_assert!(next <= now * 2);
        }

        #[test]
        fn jittered_delays_stay_within_the_ceiling(seed in any::<u64>(), attempt in 0u32..40) {
            let b = Backoff::default();
            let mut uniform = jitter_source(seed);
            for _ in 0..100 {
                prop_assert!(b.delay(attempt, &mut uniform) <= b.ceiling(attempt));
            }
        }
    }
}
