//! One broker connection, owned by one task (mini-redis style): the task polls the MQTT event
//! loop, owns the pending-reply table and the subscription set, and never blocks; hosts talk
//! to it through a channel and get their answers on oneshots. The crate's client handle is
//! itself a channel into the event loop, so hosts publish through it directly — after the
//! broker task has registered their waiter, so a fast reply cannot arrive before it.
//!
//! The crate's event loop is polled by a task of its own (`poll_task`), never inside the
//! broker task's `select!`: a connection attempt in progress is a future that must run to
//! its own deadline, and a housekeeping tick (the reply sweep) or a command would otherwise
//! cancel it and start it over, so a broker slower to accept than the tick was never
//! reached. The poller reports every event and every failed attempt to the broker task,
//! which records it (a host on a broker known to be down fails at once). After an error it
//! waits a jittered, growing backoff, and it reconnects only while some host still wants the
//! connection (a host waiting for it or a session on it): a broker whose hosts have all given
//! up is not dialled (nor its name looked up) again and again until the run ends; and each
//! new attempt waits for a slot of the run's `rate` first, as the engine's connects do.
//! After a reconnect without a session the broker task subscribes again to every reply
//! filter.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio::time::{Duration, Instant};

use super::options::BrokerOptions;
use super::pending::{Delivery, Match, Pending, Waiter};
use super::proto::{self, Client, EventLoop, Incoming, Message, Outgoing};
use super::watched::Watched;
use super::Secrets;
use crate::outcome::{ErrorKind, TaskError};
use crate::policy::{fresh_seed, jitter_source, Backoff};
use crate::transport::topics::{Refused, TopicSender};
use crate::transport::BoxFuture;

/// The pacer a client waits on before it dials its broker again (see `Transport::pace`);
/// clones share it, so a later play's limiter reaches the clients an earlier play opened.
#[derive(Clone, Default)]
pub struct Reconnects(Arc<std::sync::Mutex<Option<crate::transport::Pacer>>>);

impl Reconnects {
    pub fn set(&self, pacer: crate::transport::Pacer) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(pacer);
    }

    fn get(&self) -> Option<crate::transport::Pacer> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl std::fmt::Debug for Reconnects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reconnects")
    }
}

/// Counters over the whole run, for the report.
#[derive(Debug, Default)]
pub struct Stats {
    pub late_replies: AtomicU64,
    pub unmatched_replies: AtomicU64,
    pub reconnects: AtomicU64,
    pub connections: AtomicU64,
}

/// The connection as hosts see it.
#[derive(Debug, Clone, Default)]
struct ConnState {
    up: bool,
    /// Connection attempts that have ended, in success or failure.
    attempts: u64,
    /// Attempts up to this one are old news: the poller stopped retrying after them because
    /// no host wanted the connection, so a host that comes later waits for a new attempt
    /// rather than failing with an error from before it wanted the connection.
    stale_upto: u64,
    last_error: Option<TaskError>,
}

enum Command {
    Subscribe {
        filter: String,
        done: oneshot::Sender<Result<(), TaskError>>,
    },
    Wait {
        waiter: Waiter,
        registered: oneshot::Sender<Result<(), TaskError>>,
    },
    /// A watch's messages go here from now on.
    Tap(TopicSender),
    /// One SUBSCRIBE of a watch's filters; answered with the ones refused.
    WatchSubscribe {
        filters: Vec<String>,
        done: oneshot::Sender<Result<Vec<Refused>, TaskError>>,
    },
    /// One UNSUBSCRIBE of a watch's filters.
    WatchUnsubscribe {
        filters: Vec<String>,
        done: oneshot::Sender<Result<(), TaskError>>,
    },
}

/// A request with everything rendered.
#[derive(Debug, Clone)]
pub struct Request {
    pub topic: String,
    pub payload: Bytes,
    pub qos: u8,
    pub retain: bool,
    pub reply: Option<ReplyWait>,
}

#[derive(Debug, Clone)]
pub struct ReplyWait {
    pub id: String,
    pub topic: String,
    /// The wildcard filter subscribed once for every reply topic of this task.
    pub filter: String,
    pub matching: Match,
    pub timeout: Duration,
}

/// A handle on a broker connection; cheap to clone. The connection ends when the last
/// handle is dropped.
#[derive(Debug, Clone)]
pub struct BrokerClient {
    commands: mpsc::Sender<Command>,
    client: Client,
    state: watch::Receiver<ConnState>,
    url: String,
    interest: Arc<Interest>,
}

/// How many hosts want the connection now: waiting for it to come up, or holding a session
/// on it. At zero the poller does not reconnect after a failure.
#[derive(Debug, Default)]
struct Interest {
    users: AtomicUsize,
    wanted: Notify,
}

/// One host's interest in a connection, for as long as it is held.
#[derive(Debug)]
pub struct Use(Arc<Interest>);

impl Use {
    fn new(interest: &Arc<Interest>) -> Use {
        interest.users.fetch_add(1, Ordering::SeqCst);
        interest.wanted.notify_one();
        Use(interest.clone())
    }
}

impl Drop for Use {
    fn drop(&mut self) {
        self.0.users.fetch_sub(1, Ordering::SeqCst);
    }
}

impl BrokerClient {
    /// Starts the broker task; it connects in the background.
    pub fn spawn(
        options: &BrokerOptions,
        client_id: &str,
        secrets: &Secrets,
        stats: Arc<Stats>,
        pacer: Reconnects,
    ) -> Result<BrokerClient, TaskError> {
        let Secrets { tls, password } = secrets.clone();
        let (client, events) = proto::build(options, client_id, tls, password);
        let (commands, rx) = mpsc::channel(1024);
        let (state_tx, state) = watch::channel(ConnState::default());
        stats.connections.fetch_add(1, Ordering::Relaxed);
        let interest = Arc::new(Interest::default());
        let (events_tx, events_rx) = mpsc::channel::<Polled>(64);
        let poller = tokio::spawn(poll_task(
            events,
            client.clone(),
            events_tx,
            interest.clone(),
            pacer,
        ));
        tokio::spawn(broker_task(
            options.url(),
            events_rx,
            poller,
            client.clone(),
            rx,
            state_tx,
            stats,
        ));
        Ok(BrokerClient {
            commands,
            client,
            state,
            url: options.url(),
            interest,
        })
    }

    /// Marks a host's interest in this connection for as long as the result is held (a
    /// session keeps it).
    pub fn hold(&self) -> Use {
        Use::new(&self.interest)
    }

    /// Waits until the connection is up, or fails with the error of the last attempt. A
    /// connection that is known to be down (its last attempt failed; the task is backing off)
    /// fails at once, so a dead broker makes a thousand hosts unreachable in no time
    /// instead of each waiting out a backoff. The caller bounds the wait with its connect
    /// timeout.
    pub async fn ready(&self) -> Result<(), TaskError> {
        let _waiting = self.hold();
        let mut state = self.state.clone();
        loop {
            {
                let s = state.borrow_and_update();
                if s.up {
                    return Ok(());
                }
                if s.attempts > s.stale_upto {
                    return Err(s.last_error.clone().unwrap_or_else(|| {
                        TaskError::new(ErrorKind::Unreachable, "the broker connection failed")
                    }));
                }
            }
            if state.changed().await.is_err() {
                return Err(TaskError::new(
                    ErrorKind::Unreachable,
                    format!("the connection to {} has ended", self.url),
                ));
            }
        }
    }

    pub fn disconnect(&self) {
        self.client.try_disconnect();
    }

    /// Sends the messages on a watch's filters (`watch`) to `tx`.
    pub fn tap(&self, tx: TopicSender) {
        // At the link's creation: the command queue is far from full.
        let _ = self.commands.try_send(Command::Tap(tx));
    }

    /// Queues one SUBSCRIBE of `filters` now, behind the commands queued before it; the
    /// future resolves on the broker's acknowledgement with the filters it refused.
    pub fn watch_subscribe(
        &self,
        filters: Vec<String>,
    ) -> BoxFuture<'static, Result<Vec<Refused>, TaskError>> {
        let (done, rx) = oneshot::channel();
        let queued = self
            .commands
            .try_send(Command::WatchSubscribe { filters, done });
        self.answer(
            queued.map_err(|e| matches!(e, mpsc::error::TrySendError::Full(_))),
            rx,
        )
    }

    /// Queues one UNSUBSCRIBE of `filters` now; resolves on its acknowledgement.
    pub fn watch_unsubscribe(
        &self,
        filters: Vec<String>,
    ) -> BoxFuture<'static, Result<(), TaskError>> {
        let (done, rx) = oneshot::channel();
        let queued = self
            .commands
            .try_send(Command::WatchUnsubscribe { filters, done });
        self.answer(
            queued.map_err(|e| matches!(e, mpsc::error::TrySendError::Full(_))),
            rx,
        )
    }

    /// The answer to a command queued without waiting (`queued`: whether the queue was full
    /// when it was not).
    fn answer<T: Send + 'static>(
        &self,
        queued: Result<(), bool>,
        rx: oneshot::Receiver<Result<T, TaskError>>,
    ) -> BoxFuture<'static, Result<T, TaskError>> {
        let url = self.url.clone();
        Box::pin(async move {
            let gone = || {
                TaskError::new(
                    ErrorKind::Unreachable,
                    format!("the connection to {url} has ended"),
                )
            };
            match queued {
                Err(true) => {
                    return Err(TaskError::new(
                        ErrorKind::NoAck,
                        format!("the client of {url} has too many requests queued"),
                    ))
                }
                Err(false) => return Err(gone()),
                Ok(()) => {}
            }
            rx.await.map_err(|_| gone())?
        })
    }

    /// Drops this handle and, if it was the last, waits (briefly) for the broker task to
    /// send DISCONNECT and end, so the broker sees a clean goodbye rather than a dropped
    /// socket when drover exits.
    pub async fn close(self) {
        let mut state = self.state.clone();
        drop(self);
        let ended = async { while state.changed().await.is_ok() {} };
        let _ = tokio::time::timeout(Duration::from_secs(1), ended).await;
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, TaskError>>) -> Command,
    ) -> Result<T, TaskError> {
        let gone = || {
            TaskError::new(
                ErrorKind::Unreachable,
                format!("the connection to {} has ended", self.url),
            )
        };
        let (tx, rx) = oneshot::channel();
        self.commands.send(make(tx)).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Publishes `request` and, if it expects one, waits for the reply. `timeout` bounds
    /// the acknowledgement; the reply has its own.
    pub async fn request(
        &self,
        request: Request,
        timeout: Duration,
    ) -> Result<Option<Message>, TaskError> {
        let mut reply_rx = None;
        let mut response = None;
        if let Some(reply) = &request.reply {
            let filter = reply.filter.clone();
            let subscribed = self.ask(|done| Command::Subscribe { filter, done });
            tokio::time::timeout(timeout, subscribed)
                .await
                .map_err(|_| {
                    TaskError::new(
                        ErrorKind::NoAck,
                        format!("no SUBACK for {} within {}", reply.filter, human(timeout)),
                    )
                })??;
            let (tx, rx) = oneshot::channel();
            let waiter = Waiter {
                id: reply.id.clone(),
                topic: reply.topic.clone(),
                matching: reply.matching.clone(),
                deadline: Instant::now() + timeout + reply.timeout,
                tx,
            };
            self.ask(|registered| Command::Wait { waiter, registered })
                .await?;
            reply_rx = Some(rx);
            if reply.matching == Match::V5 {
                response = Some((reply.topic.clone(), Bytes::from(reply.id.clone())));
            }
        }
        let out = Outgoing {
            topic: request.topic.clone(),
            payload: request.payload,
            qos: request.qos,
            retain: request.retain,
            response,
        };
        let acked = async {
            let ack = self.client.publish(out).await?;
            ack.wait().await.map_err(|e| {
                TaskError::new(ErrorKind::NoAck, format!("publish not acknowledged: {e}"))
            })
        };
        match tokio::time::timeout(timeout, acked).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(TaskError::new(
                    ErrorKind::NoAck,
                    format!(
                        "the broker did not acknowledge the publish to {} within {}",
                        request.topic,
                        human(timeout)
                    ),
                ))
            }
        }
        let (Some(rx), Some(reply)) = (reply_rx, request.reply) else {
            return Ok(None);
        };
        match tokio::time::timeout(reply.timeout, rx).await {
            Ok(Ok(result)) => result.map(Some),
            Ok(Err(_)) => Err(TaskError::new(
                ErrorKind::NoReply,
                format!("the connection to {} ended before a reply", self.url),
            )),
            Err(_) => Err(TaskError::new(
                ErrorKind::NoReply,
                format!(
                    "acknowledged, but no reply on {} within {}",
                    reply.topic,
                    human(reply.timeout)
                ),
            )),
        }
    }
}

fn human(d: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(d)
}

enum Subscription {
    Waiting(Vec<oneshot::Sender<Result<(), TaskError>>>),
    Done,
}

/// What the poller tells the broker task.
enum Polled {
    Event(Result<Incoming, TaskError>),
    /// No host wants the connection: the poller waits for one before reconnecting.
    Idle,
}

/// The event loop's own task: polls it and hands every result to the broker task, so no
/// `select!` ever drops a poll (a connection attempt) half-way. After an error it waits a
/// backoff, then, if no host wants the connection any more, until one does. It ends when
/// the broker task is gone, after letting the crate send DISCONNECT.
async fn poll_task(
    mut events: EventLoop,
    client: Client,
    tx: mpsc::Sender<Polled>,
    interest: Arc<Interest>,
    pacer: Reconnects,
) {
    let backoff = Backoff {
        base: Duration::from_millis(100),
        cap: Duration::from_secs(5),
        retries: u32::MAX,
    };
    let mut jitter = jitter_source(fresh_seed());
    let mut failures: u32 = 0;
    let mut connected = false;
    loop {
        let event = tokio::select! {
            _ = tx.closed() => break,
            event = events.poll() => event,
        };
        let failed = event.is_err();
        match &event {
            Ok(Incoming::Connected { .. }) => (failures, connected) = (0, true),
            Ok(_) => {}
            Err(_) => (failures, connected) = (failures.saturating_add(1), false),
        }
        if tx.send(Polled::Event(event)).await.is_err() {
            break;
        }
        if !failed {
            continue;
        }
        let delay = backoff.delay(failures.saturating_sub(1).min(16), &mut jitter);
        let pause = async {
            tokio::time::sleep(delay).await;
            let mut told = false;
            while interest.users.load(Ordering::SeqCst) == 0 {
                let wanted = interest.wanted.notified();
                if interest.users.load(Ordering::SeqCst) > 0 {
                    break;
                }
                if !told {
                    told = true;
                    if tx.send(Polled::Idle).await.is_err() {
                        return;
                    }
                }
                wanted.await;
            }
        };
        tokio::select! {
            _ = tx.closed() => break,
            _ = pause => {}
        }
        // Dialling again is a new connection, paced like the engine's (the first one was
        // paced by the host that opened it).
        if let Some(pace) = pacer.get() {
            tokio::select! {
                _ = tx.closed() => break,
                _ = pace() => {}
            }
        }
    }
    if !connected {
        // Polling now would dial the broker again, only to say goodbye.
        return;
    }
    client.try_disconnect();
    // Let the event loop send the DISCONNECT; a broker that is gone ends this at once.
    let _ = tokio::time::timeout(Duration::from_millis(200), async {
        while events.poll().await.is_ok() {}
    })
    .await;
}

/// The broker task. Ends when every handle is gone, once the poller has said goodbye.
async fn broker_task(
    url: String,
    mut events: mpsc::Receiver<Polled>,
    poller: tokio::task::JoinHandle<()>,
    client: Client,
    mut commands: mpsc::Receiver<Command>,
    state: watch::Sender<ConnState>,
    stats: Arc<Stats>,
) {
    let mut pending = Pending::default();
    let mut subscriptions: HashMap<String, Subscription> = HashMap::new();
    let mut watched = Watched::default();
    let (suback_tx, mut subacks) = mpsc::unbounded_channel::<(String, Result<(), String>)>();
    let mut ever_connected = false;
    let mut sweep = tokio::time::interval(Duration::from_millis(500));
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let subscribe = |filter: &str| -> Result<(), TaskError> {
        let ack = client.try_subscribe(filter)?;
        let (tx, filter) = (suback_tx.clone(), filter.to_string());
        tokio::spawn(async move {
            let result = ack.wait().await;
            let _ = tx.send((filter, result));
        });
        Ok(())
    };
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                None => break,
                Some(Command::Subscribe { filter, done }) => match subscriptions.get_mut(&filter) {
                    Some(Subscription::Done) => { let _ = done.send(Ok(())); }
                    Some(Subscription::Waiting(list)) => list.push(done),
                    None => match subscribe(&filter) {
                        Ok(()) => { subscriptions.insert(filter, Subscription::Waiting(vec![done])); }
                        Err(e) => { let _ = done.send(Err(e)); }
                    },
                },
                Some(Command::Wait { waiter, registered }) => {
                    let _ = registered.send(pending.insert(waiter));
                }
                Some(Command::Tap(tx)) => watched.tap(tx),
                Some(Command::WatchSubscribe { filters, done }) => match client.try_subscribe_many(&filters) {
                    Err(e) => { let _ = done.send(Err(e)); }
                    Ok(ack) => {
                        let packet = filters.clone();
                        watched.add(filters);
                        tokio::spawn(async move {
                            let refused = ack.settled(&packet).await.map(|list| {
                                list.into_iter().map(|(filter, reason)| Refused { filter, reason }).collect()
                            });
                            let _ = done.send(refused);
                        });
                    }
                },
                Some(Command::WatchUnsubscribe { mut filters, done }) => {
                    watched.remove(&filters);
                    // A filter that also serves replies stays subscribed.
                    filters.retain(|f| !subscriptions.contains_key(f));
                    if filters.is_empty() {
                        let _ = done.send(Ok(()));
                        continue;
                    }
                    match client.try_unsubscribe_many(&filters) {
                        Err(e) => { let _ = done.send(Err(e)); }
                        Ok(ack) => { tokio::spawn(async move { let _ = done.send(ack.settled().await); }); }
                    }
                }
            },
            Some((filter, result)) = subacks.recv() => {
                let waiting = subscriptions.remove(&filter);
                match result {
                    Ok(()) => {
                        subscriptions.insert(filter, Subscription::Done);
                    }
                    Err(e) => {
                        let error = TaskError::new(ErrorKind::Protocol, format!("subscribing to {filter} failed: {e}"));
                        if let Some(Subscription::Waiting(list)) = waiting {
                            for done in list {
                                let _ = done.send(Err(error.clone()));
                            }
                        }
                        continue;
                    }
                }
                if let Some(Subscription::Waiting(list)) = waiting {
                    for done in list {
                        let _ = done.send(Ok(()));
                    }
                }
            },
            event = events.recv() => match event {
                None => break,
                Some(Polled::Event(Ok(Incoming::Connected { session_present }))) => {
                    if ever_connected && !session_present {
                        stats.reconnects.fetch_add(1, Ordering::Relaxed);
                        for (filter, sub) in subscriptions.iter() {
                            if matches!(sub, Subscription::Done) {
                                let _ = subscribe(filter);
                            }
                        }
                        for packet in watched.packets() {
                            let _ = client.try_subscribe_many(packet);
                        }
                    }
                    ever_connected = true;
                    state.send_modify(|s| { s.up = true; s.attempts += 1; s.last_error = None; });
                }
                Some(Polled::Event(Ok(Incoming::Message(msg)))) => {
                    // The watch's, and perhaps a reply too (a filter may serve both).
                    let for_watch = watched.offer(&msg);
                    match pending.deliver(msg, Instant::now()) {
                        Delivery::Matched => {}
                        _ if for_watch => {}
                        Delivery::Late => { stats.late_replies.fetch_add(1, Ordering::Relaxed); }
                        Delivery::Unmatched => { stats.unmatched_replies.fetch_add(1, Ordering::Relaxed); }
                    }
                }
                Some(Polled::Event(Ok(Incoming::Other))) => {}
                Some(Polled::Idle) => state.send_modify(|s| s.stale_upto = s.attempts),
                Some(Polled::Event(Err(mut error))) => {
                    // Named, so a host's error says which broker (of possibly many) failed.
                    error.message = format!("broker {url}: {}", error.message);
                    // Subscriptions in flight are lost with the connection; ask again later.
                    subscriptions.retain(|_, s| matches!(s, Subscription::Done));
                    state.send_modify(|s| { s.up = false; s.attempts += 1; s.last_error = Some(error); });
                }
            },
            _ = sweep.tick() => pending.sweep(Instant::now()),
        }
    }
    drop(events);
    let _ = poller.await;
}
