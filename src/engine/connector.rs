//! How a host gets its session: a stack, outermost first, retry → circuit breaker → rate
//! limit → timeout → transport. Retry is outermost so every attempt passes the breaker and
//! the limiter; the breaker sits outside the limiter so an open breaker spends no token; the
//! timeout is innermost so each attempt has its own deadline and a timeout is a failure like
//! any other. The policies (backoff, breaker, rate) live in their own modules; this is the
//! loop that applies them.
//!
//! Every timer reads tokio's clock, and breaker times are that clock anchored once to Unix
//! time (`Clock`), so paused-clock tests drive the whole stack exactly.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::breaker::{Admission, Breaker, BreakerPolicy};
use super::breaker_store::BreakerStore;
use super::plan::PlannedHost;
use super::rate_limit::RateLimiter;
use crate::event::{Event, EventSink};
use crate::outcome::{Attempt, ErrorKind, HostStatus, TaskError};
use crate::policy::{retry, Backoff, RetryPolicy, Step};
use crate::settings::RunSettings;
use crate::transport::{Session, Transport};

/// Unix milliseconds on tokio's clock: anchored to the wall clock once, then advanced by
/// `tokio::time::Instant`, so a paused test clock moves breaker time too.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    epoch_ms: u64,
    start: Instant,
}

impl Clock {
    pub fn new(epoch_ms: u64) -> Clock {
        Clock {
            epoch_ms,
            start: Instant::now(),
        }
    }

    /// Anchored to the wall clock now.
    pub fn system() -> Clock {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        Clock::new(now.map_or(0, |d| d.as_millis() as u64))
    }

    pub fn now_ms(&self) -> u64 {
        self.epoch_ms + self.start.elapsed().as_millis() as u64
    }
}

/// A connection that failed for good, with the status it gives the host.
#[derive(Debug)]
pub struct Failure {
    pub status: HostStatus,
    pub error: TaskError,
}

/// The fleet-wide parts of the stack for one play: built once, shared by its host tasks.
#[derive(Debug)]
pub struct Connector {
    transport: Arc<dyn Transport>,
    limiter: RateLimiter,
    gateways: HashMap<String, RateLimiter>,
    breakers: Arc<BreakerStore>,
    breaker_policy: Option<BreakerPolicy>,
    backoff: Backoff,
    connect_timeout: Duration,
    clock: Clock,
}

impl Connector {
    pub fn new(
        settings: &RunSettings,
        hosts: &[Arc<PlannedHost>],
        transport: Arc<dyn Transport>,
        breakers: Arc<BreakerStore>,
        clock: Clock,
    ) -> Connector {
        let mut gateways = HashMap::new();
        if let Some(rate) = settings.gateway_rate {
            for host in hosts {
                if let Some(g) = &host.endpoint.gateway {
                    gateways
                        .entry(g.clone())
                        .or_insert_with(|| RateLimiter::new(rate, settings.burst));
                }
            }
        }
        // Connections a transport opens again by itself (an MQTT client after a broker
        // restart) wait on the same limiter as the engine's connects.
        let limiter = RateLimiter::new(settings.rate, settings.burst);
        let pacer = limiter.clone();
        transport.pace(Arc::new(move || {
            let pacer = pacer.clone();
            Box::pin(async move { pacer.acquire().await })
        }));
        Connector {
            transport,
            limiter,
            gateways,
            breakers,
            breaker_policy: settings.breaker_policy(),
            backoff: settings.backoff_policy(),
            connect_timeout: settings.connect_timeout,
            clock,
        }
    }

    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Takes the host's breaker for its turn (`None` when breakers are off).
    pub fn take_breaker(&self, host: &str) -> Option<Breaker> {
        self.breaker_policy.map(|p| self.breakers.take(host, p))
    }

    pub fn put_breaker(&self, host: &str, breaker: &Breaker) {
        self.breakers.put(host, breaker);
    }

    /// Connects `host` through the stack, recording every attempt. Retries are the one retry
    /// loop's: transient failures only, never a breaker's probe.
    pub async fn connect(
        &self,
        host: &PlannedHost,
        breaker: Option<&mut Breaker>,
        events: &EventSink,
        play: usize,
        attempts: &mut Vec<Attempt>,
    ) -> Result<Box<dyn Session>, Failure> {
        let mut policy = RetryPolicy::new(self.backoff, |e: &TaskError, probe| {
            e.kind.is_transient() && !probe
        });
        let breaker = std::sync::Mutex::new(breaker);
        let retried = retry(
            &mut policy,
            || events.now_ms(),
            |record, retry_in_ms| {
                events.emit(Event::ConnectFailed {
                    play,
                    host: host.name.clone(),
                    attempt: record.clone(),
                    retry_in_ms,
                })
            },
            |_| self.attempt(host, &breaker),
        )
        .await;
        let last = retried.attempts.last().and_then(|a| a.error.clone());
        attempts.extend(retried.attempts);
        retried.result.map_err(|error| match (error.kind, last) {
            // It opened during this turn: the transport's error says more.
            (ErrorKind::BreakerOpen, Some(error)) => Failure {
                status: HostStatus::Unreachable,
                error,
            },
            (ErrorKind::BreakerOpen, None) => Failure {
                status: HostStatus::Skipped,
                error,
            },
            _ => Failure {
                status: HostStatus::Unreachable,
                error,
            },
        })
    }

    /// One attempt: breaker → rate limit → timeout → transport.
    async fn attempt(
        &self,
        host: &PlannedHost,
        breaker: &std::sync::Mutex<Option<&mut Breaker>>,
    ) -> Step<Box<dyn Session>> {
        // Breaker: an open one spends no token and makes no attempt. The lock is a formality
        // (one host task owns the breaker) and is never held across an await.
        let (probe, has_breaker) = {
            let mut guard = breaker.lock().unwrap_or_else(|e| e.into_inner());
            match guard.as_deref_mut().map(|b| b.admit(self.now_ms())) {
                None => (false, false),
                Some(Admission::Go) => (false, true),
                Some(Admission::Probe) => (true, true),
                Some(Admission::Reject { retry_after_ms }) => {
                    let next = Duration::from_secs(retry_after_ms.div_ceil(1000));
                    return Step::Refused(TaskError::new(
                        ErrorKind::BreakerOpen,
                        format!(
                            "circuit breaker open: skipped without connecting; next probe in {}",
                            humantime::format_duration(next)
                        ),
                    ));
                }
            }
        };
        // Rate limit: fleet-wide, then the host's gateway; only for new connections.
        let asked = Instant::now();
        let endpoint = &host.endpoint;
        // Held until the attempt ends: while it is, hosts sharing the connection wait for it.
        let claim = self.transport.opens_connection(&host.name, endpoint);
        if claim.is_some() {
            self.limiter.acquire().await;
            if let Some(g) = endpoint.gateway.as_ref().and_then(|g| self.gateways.get(g)) {
                g.acquire().await;
            }
        }
        let waited_ms = asked.elapsed().as_millis() as u64;
        // Timeout, innermost; a probe has its own limit.
        let limit = match (probe, has_breaker) {
            (true, true) => self.breaker_policy.map_or(self.connect_timeout, |p| {
                p.probe_timeout.min(self.connect_timeout)
            }),
            _ => self.connect_timeout,
        };
        let result =
            match tokio::time::timeout(limit, self.transport.connect(&host.name, endpoint)).await {
                Ok(r) => r,
                Err(_) => Err(TaskError::new(
                    ErrorKind::ConnectTimeout,
                    format!("no connection after {}", humantime::format_duration(limit)),
                )),
            };
        drop(claim);
        if let Some(b) = breaker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_deref_mut()
        {
            match &result {
                Ok(_) => b.on_success(),
                Err(e) if e.kind.feeds_breaker() => b.on_failure(self.now_ms()),
                Err(_) => {}
            }
        }
        Step::Tried {
            result,
            waited_ms,
            probe,
        }
    }
}
