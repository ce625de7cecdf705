//! Backoff between attempts: exponential with full jitter, capped. This is policy only (how
//! many retries, how long to wait); the loop that applies it is [`super::retry`].
//!
//! Full jitter (a wait drawn uniformly from zero to the exponential ceiling) spreads the
//! retries of hosts that failed together, e.g. behind one flapping uplink, instead of sending
//! them back in lockstep. The random source is a parameter so tests are deterministic; for real
//! runs [`jitter_source`] is a tiny PRNG, which is all jitter needs (no `rand` dependency).

use std::hash::BuildHasher;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
