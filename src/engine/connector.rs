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
use super::retry::{fresh_seed, jitter_source, Backoff};
use crate::event::{Event, EventSink};
use crate::inventory::Connection;
use crate::outcome::{ConnectAttempt, ErrorKind, HostStatus, TaskError};
use crate::settings::RunSettings;
use crate::transport::{Session, Transports};

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
    transports: Arc<Transports>,
    limiter: RateLimiter,
    gateways: HashMap<String, RateLimiter>,
    breakers: Arc<BreakerStore>,
    breaker_policy: Option<BreakerPolicy>,
    backoff: Backoff,
    connect_timeout: Duration,
    clock: Clock,
}

/// The gateway a host is reached through, whose connections share `gateway_rate`: the
/// `gateway` var, else the first jump host, else the MQTT broker.
pub fn gateway_of(conn: &Connection) -> Option<String> {
    let text = |key: &str| match conn.vars.get(key)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(a) => a.first().and_then(|v| v.as_str()).map(str::to_string),
        _ => None,
    };
    text("gateway")
        .or_else(|| text("jump"))
        .or_else(|| text("mqtt_url"))
}

impl Connector {
    pub fn new(
        settings: &RunSettings,
        hosts: &[Arc<PlannedHost>],
        transports: Arc<Transports>,
        breakers: Arc<BreakerStore>,
        clock: Clock,
    ) -> Connector {
        let mut gateways = HashMap::new();
        if let Some(rate) = settings.gateway_rate {
            for host in hosts {
                if let Some(g) = gateway_of(&host.connection) {
                    gateways
                        .entry(g)
                        .or_insert_with(|| RateLimiter::new(rate, settings.burst));
                }
            }
        }
        Connector {
            transports,
            limiter: RateLimiter::new(settings.rate, settings.burst),
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

    /// Connects `host` through the stack, recording every attempt.
    pub async fn connect(
        &self,
        host: &PlannedHost,
        mut breaker: Option<&mut Breaker>,
        events: &EventSink,
        play: usize,
        attempts: &mut Vec<ConnectAttempt>,
    ) -> Result<Session, Failure> {
        let mut uniform = jitter_source(fresh_seed());
        let mut last: Option<TaskError> = None;
        for n in 0..=self.backoff.retries {
            // Breaker: an open one spends no token and makes no attempt.
            let mut probe = false;
            if let Some(b) = breaker.as_deref_mut() {
                match b.admit(self.now_ms()) {
                    Admission::Go => {}
                    Admission::Probe => probe = true,
                    Admission::Reject { retry_after_ms } => {
                        return Err(match last {
                            // It opened during this turn: the transport's error says more.
                            Some(error) => Failure { status: HostStatus::Unreachable, error },
                            None => Failure {
                                status: HostStatus::Skipped,
                                error: TaskError::new(
                                    ErrorKind::BreakerOpen,
                                    format!(
                                        "circuit breaker open: skipped without connecting; next probe in {}",
                                        humantime::format_duration(Duration::from_secs(retry_after_ms.div_ceil(1000)))
                                    ),
                                ),
                            },
                        });
                    }
                }
            }
            // Rate limit: fleet-wide, then the host's gateway; only for new connections.
            let asked = Instant::now();
            if self
                .transports
                .opens_connection(&host.name, &host.connection)
            {
                self.limiter.acquire().await;
                if let Some(g) = gateway_of(&host.connection).and_then(|g| self.gateways.get(&g)) {
                    g.acquire().await;
                }
            }
            let waited_ms = asked.elapsed().as_millis() as u64;
            // Timeout, innermost; a probe has its own limit.
            let limit = match (probe, breaker.as_deref()) {
                (true, Some(_)) => self.breaker_policy.map_or(self.connect_timeout, |p| {
                    p.probe_timeout.min(self.connect_timeout)
                }),
                _ => self.connect_timeout,
            };
            let started = Instant::now();
            let started_ms = events.now_ms();
            let result = match tokio::time::timeout(
                limit,
                self.transports.connect(&host.name, &host.connection),
            )
            .await
            {
                Ok(r) => r,
                Err(_) => Err(TaskError::new(
                    ErrorKind::ConnectTimeout,
                    format!("no connection after {}", humantime::format_duration(limit)),
                )),
            };
            let mut record = ConnectAttempt {
                attempt: n + 1,
                started_ms,
                waited_ms,
                duration_ms: started.elapsed().as_millis() as u64,
                backoff_ms: 0,
                probe,
                error: None,
            };
            match result {
                Ok(session) => {
                    if let Some(b) = breaker.as_deref_mut() {
                        b.on_success();
                    }
                    attempts.push(record);
                    return Ok(session);
                }
                Err(error) => {
                    if error.kind.feeds_breaker() {
                        if let Some(b) = breaker.as_deref_mut() {
                            b.on_failure(self.now_ms());
                        }
                    }
                    let again = error.kind.is_transient() && n < self.backoff.retries && !probe;
                    if again {
                        record.backoff_ms = self.backoff.delay(n, &mut uniform).as_millis() as u64;
                    }
                    record.error = Some(error.clone());
                    events.emit(Event::ConnectFailed {
                        play,
                        host: host.name.clone(),
                        attempt: record.clone(),
                        retry_in_ms: again.then_some(record.backoff_ms),
                    });
                    let backoff = record.backoff_ms;
                    attempts.push(record);
                    last = Some(error);
                    if !again {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(backoff)).await;
                }
            }
        }
        let error = last.unwrap_or_else(|| {
            TaskError::new(ErrorKind::Protocol, "no connection attempt was made")
        });
        Err(Failure {
            status: HostStatus::Unreachable,
            error,
        })
    }
}
