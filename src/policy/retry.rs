//! The one retry loop. Connection attempts, task retries (`retries`/`delay`/`until`) and MQTT
//! publishes all run through [`retry`], each with its own [`RetryPolicy`] (which errors are
//! worth another go, and the backoff between goes), and every attempt is recorded as one
//! [`Attempt`], the record type the report uses everywhere.
//!
//! Mechanism and policy are apart, as in tower's `retry`: the loop calls, records, asks the
//! policy, sleeps; the policy only answers. Waits use tokio's clock, so tests run them on a
//! paused clock, exactly. Cancel-safe: dropping the loop drops the attempt or the sleep in
//! progress.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::backoff::{fresh_seed, jitter_source, Backoff};
use crate::outcome::{Attempt, TaskError};

/// When another attempt follows a failed one, and after how long.
pub struct RetryPolicy<F> {
    pub backoff: Backoff,
    /// Whether this error (of a probe, if the flag says so) is worth another attempt.
    pub retryable: F,
    uniform: Box<dyn FnMut() -> f64 + Send>,
}

impl<F: Fn(&TaskError, bool) -> bool> RetryPolicy<F> {
    /// Jitter from a fresh seed.
    pub fn new(backoff: Backoff, retryable: F) -> RetryPolicy<F> {
        RetryPolicy::with_jitter(backoff, retryable, jitter_source(fresh_seed()))
    }

    /// Jitter from `uniform`, a source of numbers in `[0, 1)`: for tests.
    pub fn with_jitter(
        backoff: Backoff,
        retryable: F,
        uniform: impl FnMut() -> f64 + Send + 'static,
    ) -> RetryPolicy<F> {
        RetryPolicy {
            backoff,
            retryable,
            uniform: Box::new(uniform),
        }
    }

    /// The wait before attempt `n + 1` after attempt `n` (0 = the first) failed, or `None`
    /// when there is to be no other attempt.
    fn next(&mut self, n: u32, error: &TaskError, probe: bool) -> Option<Duration> {
        // Whole milliseconds, so what is recorded is what is slept.
        (n < self.backoff.retries && (self.retryable)(error, probe))
            .then(|| Duration::from_millis(millis(self.backoff.delay(n, &mut self.uniform))))
    }
}

/// What one call of the attempt function came to.
pub enum Step<T> {
    /// An attempt was made: its result, how long it waited for a rate token before it
    /// started, and whether it was a breaker's probe.
    Tried {
        result: Result<T, TaskError>,
        waited_ms: u64,
        probe: bool,
    },
    /// No attempt was made (an open breaker said no): the loop ends with this error, and
    /// nothing is recorded for it.
    Refused(TaskError),
}

impl<T> Step<T> {
    /// A plain attempt: no rate wait, not a probe.
    pub fn tried(result: Result<T, TaskError>) -> Step<T> {
        Step::Tried {
            result,
            waited_ms: 0,
            probe: false,
        }
    }
}

/// The result of the last attempt (or the refusal), and every attempt's record.
#[derive(Debug)]
pub struct Retried<T> {
    pub result: Result<T, TaskError>,
    pub attempts: Vec<Attempt>,
}

/// The loop's bookkeeping, for callers whose attempt cannot be a closure (it borrows the
/// caller's state mutably): `begin` before each attempt, `end` after it, which records it and
/// says whether to sleep and go again. [`retry`] is this, driven by a closure.
pub struct Retrier<'p, P, C> {
    policy: &'p mut RetryPolicy<P>,
    now_ms: C,
    attempts: Vec<Attempt>,
    n: u32,
    started: (u64, Instant),
}

/// What [`Retrier::end`] says.
pub enum Next<T> {
    /// Sleep this long, then `begin` the next attempt.
    Again(Duration),
    Done(Retried<T>),
}

impl<'p, P: Fn(&TaskError, bool) -> bool, C: Fn() -> u64> Retrier<'p, P, C> {
    /// `now_ms` stamps each record (the run's clock).
    pub fn new(policy: &'p mut RetryPolicy<P>, now_ms: C) -> Self {
        let started = (now_ms(), Instant::now());
        Retrier {
            policy,
            now_ms,
            attempts: Vec::new(),
            n: 0,
            started,
        }
    }

    /// Marks the start of an attempt and returns its number (0 = the first).
    pub fn begin(&mut self) -> u32 {
        self.started = ((self.now_ms)(), Instant::now());
        self.n
    }

    /// Records how the attempt went. `on_failed` sees a failed attempt's record and the wait
    /// before the next, if one follows.
    pub fn end<T>(
        &mut self,
        step: Step<T>,
        on_failed: impl FnOnce(&Attempt, Option<u64>),
    ) -> Next<T> {
        let (result, waited_ms, probe) = match step {
            Step::Refused(error) => return self.done(Err(error)),
            Step::Tried {
                result,
                waited_ms,
                probe,
            } => (result, waited_ms, probe),
        };
        let (started_ms, started) = self.started;
        let mut record = Attempt {
            attempt: self.n + 1,
            // The attempt proper starts after its rate-limit wait.
            started_ms: started_ms + waited_ms,
            waited_ms,
            duration_ms: millis(started.elapsed()).saturating_sub(waited_ms),
            backoff_ms: 0,
            probe,
            error: None,
            via: None,
        };
        let error = match result {
            Ok(value) => {
                self.attempts.push(record);
                return self.done(Ok(value));
            }
            Err(error) => error,
        };
        let wait = self.policy.next(self.n, &error, probe);
        record.backoff_ms = wait.map_or(0, millis);
        record.error = Some(error.clone());
        on_failed(&record, wait.map(millis));
        self.attempts.push(record);
        match wait {
            Some(wait) => {
                self.n += 1;
                Next::Again(wait)
            }
            None => self.done(Err(error)),
        }
    }

    fn done<T>(&mut self, result: Result<T, TaskError>) -> Next<T> {
        Next::Done(Retried {
            result,
            attempts: std::mem::take(&mut self.attempts),
        })
    }
}

/// Calls `attempt(0)`, `attempt(1)`, … until one succeeds, one is refused, or the policy says
/// no more; between attempts it sleeps the policy's wait. `now_ms` stamps each record (the
/// run's clock); `on_failed` sees each failed attempt's record and the wait before the next,
/// if one follows (the engine turns it into an event).
pub async fn retry<T, F, Fut, P>(
    policy: &mut RetryPolicy<P>,
    now_ms: impl Fn() -> u64,
    mut on_failed: impl FnMut(&Attempt, Option<u64>),
    mut attempt: F,
) -> Retried<T>
where
    P: Fn(&TaskError, bool) -> bool,
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Step<T>>,
{
    let mut retrier = Retrier::new(policy, now_ms);
    loop {
        let n = retrier.begin();
        let step = attempt(n).await;
        match retrier.end(step, &mut on_failed) {
            Next::Again(wait) => tokio::time::sleep(wait).await,
            Next::Done(retried) => return retried,
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::ErrorKind;

    fn transient(n: u32) -> TaskError {
        TaskError::new(ErrorKind::Unreachable, format!("down {n}"))
    }

    fn fatal(n: u32) -> TaskError {
        TaskError::new(ErrorKind::AuthFailed, format!("denied {n}"))
    }

    fn policy(retries: u32, draw: f64) -> RetryPolicy<impl Fn(&TaskError, bool) -> bool> {
        RetryPolicy::with_jitter(
            Backoff {
                retries,
                ..Backoff::default()
            },
            |e: &TaskError, probe| e.kind.is_transient() && !probe,
            move || draw,
        )
    }

    /// An attempt that takes 100 ms and then fails or succeeds as `outcome(n)` says.
    fn attempt_with(
        outcome: impl Fn(u32) -> Result<&'static str, TaskError>,
    ) -> impl FnMut(u32) -> std::pin::Pin<Box<dyn Future<Output = Step<&'static str>>>> {
        move |n| {
            let result = outcome(n);
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Step::tried(result)
            })
        }
    }

    /// (attempt, started_ms, backoff_ms, failed)
    fn shape(attempts: &[Attempt]) -> Vec<(u32, u64, u64, bool)> {
        attempts
            .iter()
            .map(|a| (a.attempt, a.started_ms, a.backoff_ms, a.error.is_some()))
            .collect()
    }

    fn clock() -> impl Fn() -> u64 {
        let start = Instant::now();
        move || millis(start.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_with_backoff_until_the_retries_are_spent() {
        let t0 = Instant::now();
        let mut seen = Vec::new();
        let out = retry(
            &mut policy(2, 0.5),
            clock(),
            |a, next| seen.push((a.attempt, next)),
            attempt_with(|n| Err(transient(n))),
        )
        .await;
        assert_eq!(out.result.unwrap_err().message, "down 2");
        // Waits of half the ceiling: 1 s after the first, 2 s after the second.
        assert_eq!(
            shape(&out.attempts),
            [
                (1, 0, 1_000, true),
                (2, 1_100, 2_000, true),
                (3, 3_200, 0, true)
            ]
        );
        assert_eq!(seen, [(1, Some(1_000)), (2, Some(2_000)), (3, None)]);
        assert_eq!(t0.elapsed(), Duration::from_millis(3_300));
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_the_policy_rejects_is_not_retried() {
        let out = retry(
            &mut policy(2, 0.5),
            clock(),
            |_, _| {},
            attempt_with(|n| {
                if n == 0 {
                    Err(transient(n))
                } else {
                    Err(fatal(n))
                }
            }),
        )
        .await;
        assert_eq!(out.result.unwrap_err().kind, ErrorKind::AuthFailed);
        assert_eq!(
            shape(&out.attempts),
            [(1, 0, 1_000, true), (2, 1_100, 0, true)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_after_a_transient_failure_ends_the_loop() {
        let out = retry(
            &mut policy(5, 0.25),
            clock(),
            |_, _| {},
            attempt_with(|n| if n == 0 { Err(transient(n)) } else { Ok("up") }),
        )
        .await;
        assert_eq!(out.result.unwrap(), "up");
        assert_eq!(
            shape(&out.attempts),
            [(1, 0, 500, true), (2, 600, 0, false)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn zero_retries_means_one_attempt() {
        let out = retry(
            &mut policy(0, 0.5),
            clock(),
            |_, _| {},
            attempt_with(|n| Err(transient(n))),
        )
        .await;
        assert_eq!(shape(&out.attempts), [(1, 0, 0, true)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_ends_the_loop_without_a_record() {
        let out: Retried<()> = retry(
            &mut policy(5, 0.5),
            clock(),
            |_, _| {},
            |n| async move {
                if n == 0 {
                    Step::tried(Err(transient(0)))
                } else {
                    Step::Refused(TaskError::new(ErrorKind::BreakerOpen, "open"))
                }
            },
        )
        .await;
        assert_eq!(out.result.unwrap_err().kind, ErrorKind::BreakerOpen);
        assert_eq!(out.attempts.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_is_not_retried_and_the_rate_wait_is_recorded_apart() {
        let out: Retried<()> = retry(
            &mut policy(5, 0.5),
            clock(),
            |_, _| {},
            |_| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                Step::Tried {
                    result: Err(transient(0)),
                    waited_ms: 200,
                    probe: true,
                }
            },
        )
        .await;
        let a = &out.attempts[..];
        assert_eq!(a.len(), 1);
        assert_eq!(
            (a[0].started_ms, a[0].waited_ms, a[0].duration_ms),
            (200, 200, 100)
        );
        assert!(a[0].probe);
    }
}
