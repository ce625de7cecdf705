//! Pacing of new connections: the `rate` setting (`20/s`, `300/m`, `120/h`) as one limiter
//! shared by every host task of a run, so a thousand hosts do not hit the jump server, the AAA
//! server or the broker in the same second.
//!
//! It is a GCRA (generic cell rate algorithm): a single "theoretical arrival time" stands for
//! the bucket, so the state is one instant, not a token count refilled by a timer. It is our
//! own rather than the `governor` crate's because governor reads its own clock, which does not
//! follow tokio's paused test clock; this one reads only `tokio::time::Instant`, so its tests
//! are exact (`start_paused` + `advance`), never sleep-and-hope.
//!
//! The promise is about the instants starts are really let go, not about a schedule drawn up
//! in advance: waiters queue (first come, first served) and only the one at the head holds a
//! slot, which it books when it is let go. A slot booked ahead and slept on would be spent
//! late after a stall of the process (a loaded machine, a debugger, a VM pause), and every
//! start due during the stall would then go at once. Here a start that is let go later than
//! [`SLACK`] after its slot books the slot it really got, so what was not used on time is
//! gone, and after a stall at most `burst` starts go together, as after any idle spell.
//!
//! What it guarantees, with `T = per / count` (rounded up to the nanosecond, so the pace is
//! never faster than asked) and starts numbered in the order they were let go:
//!
//! * starts `i < j` are at least `(j - i - (burst - 1)) * T - SLACK` apart, hence
//! * any half-open window `[t, t + per - SLACK)` holds at most `count + burst - 1` starts
//!   (and this bound is reached: `burst` at once, then one every `T`); on tokio's paused clock,
//!   where timers fire exactly, the window is the whole `per`;
//! * with `burst = 1` the starts are evenly spaced: a start comes at its call or `T` after the
//!   previous start, whichever is later, so `N` back-to-back acquisitions take `(N - 1) * T`;
//! * credit saved while idle or stalled never exceeds `burst` starts.
//!
//! `SLACK` is the timer's resolution: tokio wakes a sleeper on the next millisecond tick, so a
//! start that is that little late keeps its slot and the pace does not drift by a tick per
//! start.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

pub use crate::policy::rate::Rate;

/// How late a start may be let go and still count as on its slot: tokio's timer resolution
/// (one millisecond) with room for the wake-up itself.
pub const SLACK: Duration = Duration::from_millis(2);

/// The fleet-wide connection pacer. Clones share one bucket: build it once per run (or play)
/// and hand a clone to every host task.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    /// tokio's `Mutex`, held across the head waiter's sleep: it queues waiters fairly, so they
    /// are let go in the order they called, and only the head books a slot.
    state: Arc<Mutex<State>>,
    /// `T`, the spacing between starts at the steady pace.
    interval: Duration,
    /// `(burst - 1) * T`, how far ahead of the steady pace a start may be.
    tolerance: Duration,
}

#[derive(Debug)]
struct State {
    /// Theoretical arrival time: when the next start would be due at the steady pace. `None`
    /// until first used, which reads as "now".
    tat: Option<Instant>,
}

/// No span the limiter adds to an instant is longer than this, so instant arithmetic cannot
/// overflow even for a hand-built `Rate` of one per `Duration::MAX`. A year is far beyond any
/// real pacing.
const MAX_SPAN: Duration = Duration::from_secs(365 * 24 * 3600);

impl RateLimiter {
    /// `burst` starts may go at once after an idle spell; `1` means strictly evenly spaced.
    /// A `burst` or `rate.count` of 0 (which the `Rate` parser rejects) counts as 1.
    pub fn new(rate: Rate, burst: u32) -> RateLimiter {
        let count = u128::from(rate.count.max(1));
        let interval = duration_from_nanos(rate.per.as_nanos().div_ceil(count)).min(MAX_SPAN);
        let tolerance = interval
            .checked_mul(burst.max(1) - 1)
            .unwrap_or(MAX_SPAN)
            .min(MAX_SPAN);
        RateLimiter {
            state: Arc::new(Mutex::new(State { tat: None })),
            interval,
            tolerance,
        }
    }

    /// Waits for this caller's turn and slot. Callers are let go in the order they called.
    /// Dropping the future while it waits gives up its place and books nothing.
    pub async fn acquire(&self) {
        let mut state = self.state.lock().await;
        let slot = self.earliest(&state, Instant::now());
        if slot > Instant::now() {
            tokio::time::sleep_until(slot).await;
        }
        // Booked at the instant it is let go: a start that woke late (a stalled process)
        // takes the slot it really got, not the one it slept for.
        let now = Instant::now();
        let arrival = if now.saturating_duration_since(slot) <= SLACK {
            slot
        } else {
            now
        };
        self.book(&mut state, arrival);
    }

    /// Takes a slot if one is free now and nobody is queued for one; otherwise books nothing
    /// and says how long until a slot is (with a queue, at least one interval).
    pub fn try_acquire(&self) -> Result<(), Duration> {
        let now = Instant::now();
        let Ok(mut state) = self.state.try_lock() else {
            return Err(self.interval);
        };
        let slot = self.earliest(&state, now);
        if slot > now {
            return Err(slot - now);
        }
        self.book(&mut state, now);
        Ok(())
    }

    /// The earliest a start arriving at `now` may go: the steady pace, less the burst's
    /// tolerance, never before `now`.
    fn earliest(&self, state: &State, now: Instant) -> Instant {
        let tat = state.tat.map_or(now, |tat| tat.max(now));
        tat.checked_sub(self.tolerance)
            .map_or(now, |earliest| earliest.max(now))
    }

    /// Books the start let go at `arrival`.
    fn book(&self, state: &mut State, arrival: Instant) {
        let tat = state.tat.map_or(arrival, |tat| tat.max(arrival));
        state.tat = Some(tat.checked_add(self.interval).unwrap_or(tat));
    }
}

fn duration_from_nanos(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    let secs = u64::try_from(nanos / NANOS_PER_SEC).unwrap_or(u64::MAX);
    Duration::new(secs, (nanos % NANOS_PER_SEC) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rate(text: &str) -> Rate {
        text.parse().expect("a valid rate")
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Asserts the window bound on sorted start offsets: no half-open window of length `per`
    /// holds more than `count + burst - 1` of them.
    fn assert_window_bound(starts: &[Duration], rate: Rate, burst: u32) {
        let most = (rate.count + burst - 1) as usize;
        for (i, pair) in starts.iter().zip(starts.iter().skip(most)).enumerate() {
            assert!(
                *pair.1 - *pair.0 >= rate.per,
                "starts {i} and {} are {:?} apart, within {:?}: {starts:?}",
                i + most,
                *pair.1 - *pair.0,
                rate.per
            );
        }
    }

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(
            rate("20/s"),
            Rate {
                count: 20,
                per: ms(1_000)
            }
        );
        assert_eq!(
            rate("300/m"),
            Rate {
                count: 300,
                per: ms(60_000)
            }
        );
        assert_eq!(
            rate("120/h"),
            Rate {
                count: 120,
                per: ms(3_600_000)
            }
        );
        assert_eq!(
            rate("5/10s"),
            Rate {
                count: 5,
                per: ms(10_000)
            }
        );
        assert_eq!(
            rate("1/250ms"),
            Rate {
                count: 1,
                per: ms(250)
            }
        );
        assert_eq!(
            rate("7/2h"),
            Rate {
                count: 7,
                per: ms(7_200_000)
            }
        );
    }

    #[test]
    fn rejects_junk_with_the_expected_forms_in_the_message() {
        for junk in [
            "20/x", "20", "20/", "/s", "x/s", "20/s/s", "-1/s", "+1/s", " 20/s", "20/ s",
            "20/1.5s", "20/s2", "",
        ] {
            assert_eq!(
                junk.parse::<Rate>(),
                Err(format!(
                    "`{junk}` is not a rate (expected e.g. 20/s, 300/m, 120/h)"
                )),
            );
        }
    }

    #[test]
    fn rejects_zero_count_and_zero_period() {
        for zero in ["0/s", "20/0s", "20/0ms", "0/0h"] {
            let err = zero.parse::<Rate>().expect_err(zero);
            assert!(err.contains("must both be above zero"), "{err}");
        }
    }

    #[test]
    fn rejects_overflow() {
        for big in [
            "4294967296/s",
            "99999999999999999999999/s",
            "1/5124095576031h",
        ] {
            let err = big.parse::<Rate>().expect_err(big);
            assert!(err.contains("too large"), "{big}: {err}");
        }
        // The largest period that fits is accepted.
        assert!("4294967295/5124095576030h".parse::<Rate>().is_ok());
    }

    #[test]
    fn displays_the_canonical_form() {
        for (text, shown) in [
            ("20/s", "20/s"),
            ("300/m", "300/m"),
            ("120/h", "120/h"),
            ("5/10s", "5/10s"),
            ("5/60s", "5/m"),
            ("5/1000ms", "5/s"),
            ("5/1500ms", "5/1500ms"),
            ("5/90m", "5/90m"),
        ] {
            assert_eq!(rate(text).to_string(), shown);
            assert_eq!(rate(shown), rate(text));
        }
        assert_eq!(
            Rate {
                count: 3,
                per: Duration::from_micros(1_500)
            }
            .to_string(),
            "3/1.5ms"
        );
    }

    #[test]
    fn serde_uses_the_text_form_and_its_error_message() {
        let parsed: Rate = serde_json::from_str("\"300/m\"").expect("deserializes");
        assert_eq!(parsed, rate("300/m"));
        assert_eq!(
            serde_json::to_string(&parsed).expect("serializes"),
            "\"300/m\""
        );
        let err = serde_json::from_str::<Rate>("\"20/x\"").expect_err("junk");
        assert!(
            err.to_string()
                .contains("`20/x` is not a rate (expected e.g. 20/s"),
            "{err}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn hundred_acquisitions_at_20_per_s_burst_1_take_exactly_4_95_s() {
        let limiter = RateLimiter::new(rate("20/s"), 1);
        let t0 = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..100 {
            limiter.acquire().await;
            starts.push(t0.elapsed());
        }
        assert_eq!(t0.elapsed(), ms(4_950));
        let expected: Vec<Duration> = (0..100).map(|i| ms(50 * i)).collect();
        assert_eq!(starts, expected);
        assert_window_bound(&starts, rate("20/s"), 1);
        // The bound is tight: [0, 1s) holds 20 starts, which is count + burst - 1.
        assert_eq!(starts.iter().filter(|s| **s < ms(1_000)).count(), 20);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_get_distinct_slots_in_call_order() {
        let limiter = RateLimiter::new(rate("10/s"), 1);
        let t0 = Instant::now();
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    limiter.acquire().await;
                    t0.elapsed()
                })
            })
            .collect();
        let mut starts = Vec::new();
        for task in tasks {
            starts.push(task.await.expect("task"));
        }
        let expected: Vec<Duration> = (0..10).map(|i| ms(100 * i)).collect();
        assert_eq!(starts, expected);
    }

    #[tokio::test(start_paused = true)]
    async fn burst_goes_at_once_then_paces_and_reaches_the_window_bound() {
        let r = rate("20/s");
        let limiter = RateLimiter::new(r, 5);
        let t0 = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..30 {
            limiter.acquire().await;
            starts.push(t0.elapsed());
        }
        assert_eq!(&starts[..5], &[Duration::ZERO; 5]);
        for (i, start) in starts.iter().enumerate().skip(5) {
            assert_eq!(*start, ms(50 * (i as u64 - 4)));
        }
        assert_window_bound(&starts, r, 5);
        // [0, 1s) holds exactly count + burst - 1 = 24 starts: the bound is reached.
        assert_eq!(starts.iter().filter(|s| **s < ms(1_000)).count(), 24);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_time_saves_at_most_burst_starts() {
        let limiter = RateLimiter::new(rate("10/s"), 3);
        for _ in 0..3 {
            assert_eq!(limiter.try_acquire(), Ok(()));
        }
        assert_eq!(limiter.try_acquire(), Err(ms(100)));
        tokio::time::advance(Duration::from_secs(3_600)).await;
        for _ in 0..3 {
            assert_eq!(limiter.try_acquire(), Ok(()));
        }
        assert_eq!(limiter.try_acquire(), Err(ms(100)));
    }

    #[tokio::test(start_paused = true)]
    async fn try_acquire_reports_the_exact_wait_and_reserves_nothing_when_refused() {
        let limiter = RateLimiter::new(rate("4/s"), 1);
        assert_eq!(limiter.try_acquire(), Ok(()));
        assert_eq!(limiter.try_acquire(), Err(ms(250)));
        tokio::time::advance(ms(100)).await;
        assert_eq!(limiter.try_acquire(), Err(ms(150)));
        tokio::time::advance(ms(150)).await;
        assert_eq!(limiter.try_acquire(), Ok(()));
        // An acquire() after a refused try starts at the next slot, not one further.
        let t0 = Instant::now();
        limiter.acquire().await;
        assert_eq!(t0.elapsed(), ms(250));
    }

    #[tokio::test(start_paused = true)]
    async fn an_uneven_interval_rounds_up_so_the_rate_is_never_exceeded() {
        // 1s / 3 = 333_333_333.3ns: rounded down, three intervals would fit in under a second
        // and a fourth start would land inside the first second.
        let limiter = RateLimiter::new(rate("3/s"), 1);
        let interval = Duration::from_nanos(333_333_334);
        assert_eq!(limiter.try_acquire(), Ok(()));
        tokio::time::advance(interval).await;
        assert_eq!(limiter.try_acquire(), Ok(()));
        tokio::time::advance(interval).await;
        assert_eq!(limiter.try_acquire(), Ok(()));
        tokio::time::advance(Duration::from_secs(1) - interval * 2).await;
        assert_eq!(limiter.try_acquire(), Err(Duration::from_nanos(2)));
    }

    #[tokio::test(start_paused = true)]
    async fn extreme_hand_built_rates_do_not_panic() {
        let slow = RateLimiter::new(
            Rate {
                count: 1,
                per: Duration::MAX,
            },
            u32::MAX,
        );
        let zero = RateLimiter::new(
            Rate {
                count: 0,
                per: Duration::ZERO,
            },
            0,
        );
        for _ in 0..3 {
            slow.acquire().await;
            zero.acquire().await;
        }
    }

    /// Runs `waiters` acquisitions, all called at once, with the process stalled (the clock
    /// jumps, nothing runs) for `stall` after `stall_at`; returns when each was let go.
    fn starts_with_a_stall(
        rate: Rate,
        burst: u32,
        waiters: usize,
        stall_at: Duration,
        stall: Duration,
    ) -> Vec<Duration> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let limiter = RateLimiter::new(rate, burst);
            let t0 = Instant::now();
            let tasks: Vec<_> = (0..waiters)
                .map(|_| {
                    let limiter = limiter.clone();
                    tokio::spawn(async move {
                        limiter.acquire().await;
                        t0.elapsed()
                    })
                })
                .collect();
            tokio::time::sleep(stall_at).await;
            tokio::time::advance(stall).await;
            let mut starts = Vec::new();
            for task in tasks {
                starts.push(task.await.expect("task"));
            }
            starts
        })
    }

    #[test]
    fn a_stall_does_not_release_the_starts_it_delayed_at_once() {
        // 50/s: starts every 20 ms; the process stalls 200 ms at 105 ms. The ten starts due
        // during the stall must not all go when it ends.
        let r = rate("50/s");
        let starts = starts_with_a_stall(r, 1, 120, ms(105), ms(200));
        assert_window_bound(&starts, r, 1);
        let after: Vec<Duration> = starts.iter().copied().filter(|s| *s >= ms(305)).collect();
        let expected: Vec<Duration> = (0..after.len() as u64).map(|i| ms(305 + 20 * i)).collect();
        assert_eq!(after, expected, "evenly paced from the end of the stall");
        // The window that opens at the end of the stall holds exactly the rate.
        let window = starts.iter().filter(|s| (ms(305)..ms(1_305)).contains(*s));
        assert_eq!(window.count(), 50);
    }

    #[test]
    fn after_a_stall_at_most_burst_starts_go_together() {
        let r = rate("20/s");
        let starts = starts_with_a_stall(r, 4, 60, ms(330), ms(700));
        assert_window_bound(&starts, r, 4);
        let together = starts.iter().filter(|s| **s == ms(1_030)).count();
        assert_eq!(together, 4, "{starts:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_dropped_while_queued_books_nothing() {
        let limiter = RateLimiter::new(rate("10/s"), 1);
        limiter.acquire().await;
        let t0 = Instant::now();
        let gave_up = tokio::time::timeout(ms(50), limiter.acquire()).await;
        assert!(gave_up.is_err());
        limiter.acquire().await;
        assert_eq!(
            t0.elapsed(),
            ms(100),
            "the next caller gets the slot given up"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn try_acquire_refuses_while_a_caller_is_queued() {
        let limiter = RateLimiter::new(rate("10/s"), 1);
        limiter.acquire().await;
        let queued = {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.acquire().await })
        };
        tokio::task::yield_now().await;
        tokio::time::advance(ms(100)).await;
        // The slot at 100 ms is the queued caller's, although it is now due.
        assert_eq!(limiter.try_acquire(), Err(ms(100)));
        queued.await.expect("task");
        assert_eq!(limiter.try_acquire(), Err(ms(100)));
    }

    /// One call in a random acquisition pattern.
    #[derive(Debug, Clone)]
    struct Call {
        /// Time since the previous call.
        gap_ms: u64,
        /// The gap is a stall of the process: the clock jumps and nothing runs meanwhile.
        stall: bool,
        /// `try_acquire` (kept only when granted) instead of `acquire`.
        try_only: bool,
    }

    fn calls(try_only: bool, stalls: bool) -> impl Strategy<Value = Vec<Call>> {
        let call = (0u64..300, any::<bool>(), any::<bool>()).prop_map(move |(gap_ms, t, s)| Call {
            gap_ms,
            stall: stalls && s,
            try_only: try_only && t,
        });
        prop::collection::vec(call, 1..60)
    }

    /// Runs `calls` against a fresh limiter on a paused clock; returns each call's start
    /// offset (`None` for a refused `try_acquire`), in call order.
    fn run(rate: Rate, burst: u32, calls: &[Call]) -> Vec<Option<Duration>> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let limiter = RateLimiter::new(rate, burst);
            let t0 = Instant::now();
            let mut pending = Vec::new();
            for call in calls {
                if call.stall {
                    tokio::time::advance(ms(call.gap_ms)).await;
                } else if call.gap_ms > 0 {
                    tokio::time::sleep(ms(call.gap_ms)).await;
                }
                if call.try_only {
                    let granted = limiter.try_acquire().is_ok().then(|| t0.elapsed());
                    pending.push(tokio::spawn(async move { granted }));
                } else {
                    let limiter = limiter.clone();
                    pending.push(tokio::spawn(async move {
                        limiter.acquire().await;
                        Some(t0.elapsed())
                    }));
                }
            }
            let mut starts = Vec::new();
            for task in pending {
                starts.push(task.await.expect("task"));
            }
            starts
        })
    }

    /// Rates whose interval is whole milliseconds, so tokio's millisecond timer wakes every
    /// waiter at exactly its slot.
    fn rates() -> impl Strategy<Value = Rate> {
        (1u32..20, 1u64..100).prop_map(|(count, interval_ms)| Rate {
            count,
            per: ms(interval_ms * u64::from(count)),
        })
    }

    proptest! {
        #[test]
        fn no_window_of_per_holds_more_than_count_plus_burst_minus_1(
            rate in rates(),
            burst in 1u32..6,
            calls in calls(true, true),
        ) {
            let mut starts: Vec<Duration> = run(rate, burst, &calls).into_iter().flatten().collect();
            starts.sort();
            assert_window_bound(&starts, rate, burst);
        }

        #[test]
        fn with_burst_1_each_start_is_its_call_or_one_interval_after_the_last(
            rate in rates(),
            calls in calls(false, false),
        ) {
            let interval = rate.per / rate.count;
            let starts = run(rate, 1, &calls);
            let mut called = Duration::ZERO;
            let mut previous: Option<Duration> = None;
            for (call, start) in calls.iter().zip(starts) {
                called += ms(call.gap_ms);
                let due = previous.map_or(called, |p| called.max(p + interval));
                prop_assert_eq!(start, Some(due));
                previous = Some(due);
            }
        }

        #[test]
        fn a_fresh_limiter_lets_burst_calls_through_at_once(rate in rates(), burst in 1u32..10) {
            let calls = vec![Call { gap_ms: 0, stall: false, try_only: false }; burst as usize + 1];
            let starts = run(rate, burst, &calls);
            let interval = rate.per / rate.count;
            prop_assert!(starts[..burst as usize].iter().all(|s| *s == Some(Duration::ZERO)));
            prop_assert_eq!(starts[burst as usize], Some(interval));
        }

        #[test]
        fn display_parses_back(count in 1u32.., per_ms in 1u64..1_000_000_000_000) {
            let r = Rate { count, per: ms(per_ms) };
            prop_assert_eq!(r.to_string().parse::<Rate>(), Ok(r));
        }
    }
}
