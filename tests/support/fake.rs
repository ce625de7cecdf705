//! An in-process transport for engine tests and benchmarks (not part of drover's build): it
//! answers every command after a configurable delay on tokio's clock, so paused-clock tests
//! are exact. Every host goes through it, whatever its `transport` variable says.
//!
//! Its topic links (`Transport::topics`, for a watch) record every SUBSCRIBE and UNSUBSCRIBE
//! with the time it was sent, keep what is subscribed, and deliver what a test `publish`es
//! only on subscribed topics, as a broker would.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use drover::inventory::Connection;
use drover::outcome::{ErrorKind, TaskError};
use drover::transport::topics::{filter_matches, Refused, TopicLink, TopicMessage, TopicSender};
use drover::transport::{
    Action, ActionKind, BoxFuture, Endpoint, Output, RunError, Session, Target, Transport,
};

/// One packet a watch sent: when, on which host's link, SUBSCRIBE (`true`) or not, filters.
pub type SentPacket = (Instant, String, bool, Vec<String>);

/// The fake's broker side.
#[derive(Default)]
struct Topics {
    sent: Vec<SentPacket>,
    subscribed: HashSet<String>,
    taps: Vec<TopicSender>,
}

type Responder = dyn Fn(&str, &str) -> Output + Send + Sync;

#[derive(Clone)]
pub struct FakeTransport {
    pub connect_delay: Duration,
    pub command_delay: Duration,
    /// Hosts whose connection is refused.
    pub unreachable: Arc<HashSet<String>>,
    /// Hosts whose first `n` connection attempts fail with this kind, then succeed.
    pub fail_first: Arc<HashMap<String, (u32, ErrorKind)>>,
    /// Filters whose SUBSCRIBE the fake broker refuses (`NotAuthorized`), as a broker's ACL.
    pub refuse: Arc<HashSet<String>>,
    /// Every connection attempt: host and when it reached the transport.
    connects: Arc<Mutex<Vec<(String, Instant)>>>,
    /// Connection attempts per host so far, for `fail_first`.
    tries: Arc<Mutex<HashMap<String, u32>>>,
    responder: Arc<Responder>,
    open: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    topics: Arc<Mutex<Topics>>,
}

impl std::fmt::Debug for FakeTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeTransport").finish_non_exhaustive()
    }
}

impl Default for FakeTransport {
    fn default() -> Self {
        FakeTransport::new(|_, cmd| Output {
            exit_code: Some(0),
            stdout: format!("{cmd}\n"),
            stderr: String::new(),
            lines: Vec::new(),
        })
    }
}

impl FakeTransport {
    /// A fake whose commands print what `responder(host, command)` says.
    pub fn new(responder: impl Fn(&str, &str) -> Output + Send + Sync + 'static) -> Self {
        FakeTransport {
            connect_delay: Duration::ZERO,
            command_delay: Duration::ZERO,
            unreachable: Arc::default(),
            fail_first: Arc::default(),
            refuse: Arc::default(),
            connects: Arc::default(),
            tries: Arc::default(),
            responder: Arc::new(responder),
            open: Arc::default(),
            peak: Arc::default(),
            topics: Arc::default(),
        }
    }

    /// Every SUBSCRIBE and UNSUBSCRIBE the watch sent, in order.
    pub fn packets(&self) -> Vec<SentPacket> {
        self.topics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .sent
            .clone()
    }

    /// Publishes on `topic`: delivered to the watch if a subscribed filter matches it.
    pub fn publish(&self, topic: &str, retain: bool) {
        let t = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        if !t.subscribed.iter().any(|f| filter_matches(f, topic)) {
            return;
        }
        for tap in &t.taps {
            let _ = tap.send(TopicMessage {
                topic: topic.to_string(),
                payload: bytes::Bytes::from_static(b"{}"),
                retain,
            });
        }
    }

    /// The most sessions that were open at once.
    pub fn peak_sessions(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Every connection attempt so far: host, and when it reached the transport.
    pub fn connects(&self) -> Vec<(String, Instant)> {
        self.connects
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    async fn open(&self, host: &str) -> Result<FakeSession, TaskError> {
        let earlier = {
            let mut tries = self.tries.lock().unwrap_or_else(PoisonError::into_inner);
            let n = tries.entry(host.to_string()).or_insert(0);
            *n += 1;
            *n - 1
        };
        self.connects
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((host.to_string(), Instant::now()));
        if !self.connect_delay.is_zero() {
            tokio::time::sleep(self.connect_delay).await;
        }
        if self.unreachable.contains(host) {
            return Err(TaskError::new(ErrorKind::Unreachable, "connection refused"));
        }
        if let Some((n, kind)) = self.fail_first.get(host) {
            if earlier < *n {
                return Err(TaskError::new(
                    *kind,
                    format!("scripted failure {}", earlier + 1),
                ));
            }
        }
        let now = self.open.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        Ok(FakeSession {
            host: host.to_string(),
            transport: self.clone(),
            closed: false,
        })
    }
}

impl Transport for FakeTransport {
    fn endpoint(&self, _host: &str, conn: &Connection) -> Result<Endpoint, String> {
        let gateway =
            ["gateway", "jump", "mqtt_url"]
                .iter()
                .find_map(|k| match conn.vars.get(*k)? {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Array(a) => a.first()?.as_str().map(str::to_string),
                    _ => None,
                });
        // As the MQTT transport: a node in shared mode joins its broker's client.
        let shared_mqtt = conn.transport == drover::inventory::TransportKind::Mqtt
            && conn.vars.get("mqtt_mode").and_then(|m| m.as_str()) != Some("per_node");
        Ok(Endpoint {
            platform: None,
            transport: conn.transport.as_str(),
            address: conn.address.clone(),
            opens_connection: !shared_mqtt,
            gateway,
            vars: Vec::new(),
            target: Target::Local,
        })
    }

    fn supports(&self, _endpoint: &Endpoint, _action: ActionKind) -> Result<(), String> {
        Ok(())
    }

    fn connect<'a>(
        &'a self,
        host: &'a str,
        _endpoint: &'a Endpoint,
    ) -> BoxFuture<'a, Result<Box<dyn Session>, TaskError>> {
        Box::pin(async move { Ok(Box::new(self.open(host).await?) as Box<dyn Session>) })
    }

    /// As the MQTT transport: only a connection that outlives a check (not a node's own,
    /// per-node mode) holds topics.
    fn topics(
        &self,
        host: &str,
        endpoint: &Endpoint,
        messages: TopicSender,
    ) -> Option<Box<dyn TopicLink>> {
        if endpoint.opens_connection {
            return None;
        }
        self.topics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .taps
            .push(messages);
        Some(Box::new(FakeLink {
            host: host.to_string(),
            topics: self.topics.clone(),
            refuse: self.refuse.clone(),
        }))
    }
}

struct FakeLink {
    host: String,
    topics: Arc<Mutex<Topics>>,
    refuse: Arc<HashSet<String>>,
}

impl std::fmt::Debug for FakeLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeLink")
            .field("host", &self.host)
            .finish()
    }
}

impl FakeLink {
    fn send(
        &self,
        subscribe: bool,
        filters: Vec<String>,
    ) -> BoxFuture<'static, Result<Vec<Refused>, TaskError>> {
        let mut t = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        let refused: Vec<Refused> = filters
            .iter()
            .filter(|f| subscribe && self.refuse.contains(*f))
            .map(|f| Refused {
                filter: f.clone(),
                reason: "NotAuthorized".into(),
            })
            .collect();
        for f in &filters {
            if !subscribe {
                t.subscribed.remove(f);
            } else if !self.refuse.contains(f) {
                t.subscribed.insert(f.clone());
            }
        }
        t.sent
            .push((Instant::now(), self.host.clone(), subscribe, filters));
        Box::pin(async move { Ok(refused) })
    }
}

impl TopicLink for FakeLink {
    fn subscribe(
        &self,
        filters: Vec<String>,
    ) -> BoxFuture<'static, Result<Vec<Refused>, TaskError>> {
        self.send(true, filters)
    }

    fn unsubscribe(&self, filters: Vec<String>) -> BoxFuture<'static, Result<(), TaskError>> {
        let sent = self.send(false, filters);
        Box::pin(async move { sent.await.map(|_| ()) })
    }
}

#[derive(Debug)]
pub struct FakeSession {
    host: String,
    transport: FakeTransport,
    closed: bool,
}

impl Session for FakeSession {
    fn run<'a>(
        &'a mut self,
        action: Action<'a>,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<Output, RunError>> {
        Box::pin(self.answer(action, timeout))
    }

    fn close(mut self: Box<Self>) -> BoxFuture<'static, ()> {
        self.release();
        Box::pin(async {})
    }
}

impl FakeSession {
    async fn answer(&mut self, action: Action<'_>, timeout: Duration) -> Result<Output, RunError> {
        let joined;
        let text = match action {
            Action::Command(t) | Action::Shell(t) => t,
            Action::Mqtt(r) => r.topic.as_str(),
            Action::Config(c) => {
                joined = c.lines.join("\n");
                &joined
            }
            Action::Enable => "enable",
        };
        let delay = self.transport.command_delay;
        if delay > timeout {
            tokio::time::sleep(timeout).await;
            return Err(RunError {
                error: TaskError::new(ErrorKind::CommandTimeout, "fake command timed out"),
                partial: Output::default(),
            });
        }
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Ok((self.transport.responder)(&self.host, text))
    }

    fn release(&mut self) {
        if !self.closed {
            self.closed = true;
            self.transport.open.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for FakeSession {
    fn drop(&mut self) {
        self.release();
    }
}
