//! The one place that knows the MQTT client crate: builds a client for MQTT 5 or 3.1.1,
//! turns its events into drover's few (`Connected`, `Message`), its errors into classified
//! `TaskError`s, and its acknowledgement notices into futures. Swapping the crate means
//! rewriting this file only.

use std::time::Duration;

use bytes::Bytes;
use rumqttc_v4 as v4;
use rumqttc_v5 as v5;

use super::options::{BrokerOptions, Mode, TlsFiles, Version};
use crate::outcome::{ErrorKind, TaskError};

/// Requests the client buffers before `publish` waits.
const REQUEST_CAPACITY: usize = 1024;

/// Publishes awaiting their acknowledgement, at most. The crate sizes its state tables by
/// this, and MQTT 5 otherwise takes the broker's receive maximum (up to 65,535: ~10 MB per
/// client). A node's own connection carries one request at a time.
fn inflight(options: &BrokerOptions) -> u16 {
    match options.mode {
        Mode::Shared => 1024,
        Mode::PerNode => 8,
    }
}

/// A message received from the broker.
#[derive(Debug, Clone)]
pub struct Message {
    pub topic: String,
    pub payload: Bytes,
    pub retain: bool,
    /// MQTT 5 correlation data.
    pub correlation: Option<Bytes>,
}

/// What the event loop produced that drover cares about.
#[derive(Debug)]
pub enum Incoming {
    Connected { session_present: bool },
    Message(Message),
    Other,
}

/// A publish, as the broker client sends it.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub topic: String,
    pub payload: Bytes,
    pub qos: u8,
    pub retain: bool,
    /// MQTT 5 response topic and correlation data.
    pub response: Option<(String, Bytes)>,
}

#[derive(Clone, Debug)]
pub enum Client {
    V5(v5::AsyncClient),
    V4(v4::AsyncClient),
}

pub enum EventLoop {
    V5(Box<v5::EventLoop>),
    V4(Box<v4::EventLoop>),
}

/// Resolves when the broker acknowledged a publish (at once for QoS 0).
pub enum PublishAck {
    V5(v5::PublishNotice),
    V4(v4::PublishNotice),
}

pub enum SubscribeAck {
    V5(v5::SubscribeNotice),
    V4(v4::SubscribeNotice),
}

pub enum UnsubscribeAck {
    V5(v5::UnsubscribeNotice),
    V4(v4::UnsubscribeNotice),
}

pub fn build(
    options: &BrokerOptions,
    client_id: &str,
    tls: Option<TlsFiles>,
    password: Option<String>,
) -> (Client, EventLoop) {
    match options.version {
        Version::V5 => {
            let mut o = v5::MqttOptions::new(
                client_id,
                v5::Broker::tcp(options.host.clone(), options.port),
            );
            o.set_keep_alive(options.keep_alive_s)
                .set_max_packet_size(Some(options.max_packet_size))
                .set_outgoing_inflight_upper_limit(inflight(options))
                .set_request_channel_capacity(REQUEST_CAPACITY)
                .set_connect_timeout(Duration::from_secs(10));
            if let Some(user) = &options.username {
                o.set_credentials(user.clone(), password.unwrap_or_default());
            }
            if let Some(tls) = tls {
                o.set_transport(v5::Transport::Tls(v5::TlsConfiguration::Simple {
                    ca: tls.ca,
                    alpn: None,
                    client_auth: tls.identity,
                }));
            }
            let (c, e) = v5::AsyncClient::builder(o).build();
            (Client::V5(c), EventLoop::V5(Box::new(e)))
        }
        Version::V311 => {
            let mut o = v4::MqttOptions::new(
                client_id,
                v4::Broker::tcp(options.host.clone(), options.port),
            );
            let size = options.max_packet_size as usize;
            o.set_keep_alive(options.keep_alive_s)
                .set_max_packet_size(size, size)
                .set_inflight(inflight(options))
                .set_request_channel_capacity(REQUEST_CAPACITY);
            if let Some(user) = &options.username {
                o.set_credentials(user.clone(), password.unwrap_or_default());
            }
            if let Some(tls) = tls {
                o.set_transport(v4::Transport::Tls(v4::TlsConfiguration::Simple {
                    ca: tls.ca,
                    alpn: None,
                    client_auth: tls.identity,
                }));
            }
            let (c, e) = v4::AsyncClient::builder(o).build();
            (Client::V4(c), EventLoop::V4(Box::new(e)))
        }
    }
}

fn protocol(m: impl std::fmt::Display) -> TaskError {
    TaskError::new(ErrorKind::Protocol, m.to_string())
}

impl Client {
    pub async fn publish(&self, out: Outgoing) -> Result<PublishAck, TaskError> {
        // A full or closed request channel: nothing was sent, a retry may pass. A request the
        // crate finds invalid will be invalid again.
        let no_ack = |e: String| {
            let kind = if e.contains("Invalid") {
                ErrorKind::Protocol
            } else {
                ErrorKind::NoAck
            };
            TaskError::new(kind, format!("not sent: {e}"))
        };
        match self {
            Client::V5(c) => {
                let mut o = v5::PublishOptions::new(qos5(out.qos)).retain(out.retain);
                if let Some((topic, data)) = out.response {
                    o = o.properties(v5::PublishProperties {
                        response_topic: Some(topic),
                        correlation_data: Some(data),
                        ..Default::default()
                    });
                }
                c.publish_tracked(out.topic, out.payload, o)
                    .await
                    .map(PublishAck::V5)
                    .map_err(|e| no_ack(e.to_string()))
            }
            Client::V4(c) => {
                let o = v4::PublishOptions::new(qos4(out.qos)).retain(out.retain);
                c.publish_tracked(out.topic, out.payload, o)
                    .await
                    .map(PublishAck::V4)
                    .map_err(|e| no_ack(e.to_string()))
            }
        }
    }

    /// Queues a subscription without waiting (the broker task must never block).
    pub fn try_subscribe(&self, filter: &str) -> Result<SubscribeAck, TaskError> {
        match self {
            Client::V5(c) => c
                .try_subscribe_tracked(filter.to_string(), v5::QoS::AtLeastOnce)
                .map(SubscribeAck::V5)
                .map_err(protocol),
            Client::V4(c) => c
                .try_subscribe_tracked(filter.to_string(), v4::QoS::AtLeastOnce)
                .map(SubscribeAck::V4)
                .map_err(protocol),
        }
    }

    /// Queues one SUBSCRIBE carrying every filter of `filters`, without waiting.
    pub fn try_subscribe_many(&self, filters: &[String]) -> Result<SubscribeAck, TaskError> {
        match self {
            Client::V5(c) => c
                .try_subscribe_many_tracked(
                    filters
                        .iter()
                        .map(|f| v5::SubscribeFilterInput::new(f.clone(), v5::QoS::AtLeastOnce)),
                )
                .map(SubscribeAck::V5)
                .map_err(protocol),
            Client::V4(c) => c
                .try_subscribe_many_tracked(
                    filters
                        .iter()
                        .map(|f| v4::SubscribeFilterInput::new(f.clone(), v4::QoS::AtLeastOnce)),
                )
                .map(SubscribeAck::V4)
                .map_err(protocol),
        }
    }

    /// Queues one UNSUBSCRIBE carrying every filter of `filters`, without waiting.
    pub fn try_unsubscribe_many(&self, filters: &[String]) -> Result<UnsubscribeAck, TaskError> {
        match self {
            Client::V5(c) => c
                .try_unsubscribe_many_tracked(filters.iter().cloned())
                .map(UnsubscribeAck::V5)
                .map_err(protocol),
            Client::V4(c) => c
                .try_unsubscribe_many_tracked(filters.iter().cloned())
                .map(UnsubscribeAck::V4)
                .map_err(protocol),
        }
    }

    pub fn try_disconnect(&self) {
        let _ = match self {
            Client::V5(c) => c.try_disconnect().is_ok(),
            Client::V4(c) => c.try_disconnect().is_ok(),
        };
    }
}

impl PublishAck {
    pub async fn wait(self) -> Result<(), String> {
        match self {
            PublishAck::V5(n) => n.wait_completion_async().await.map_err(|e| e.to_string()),
            PublishAck::V4(n) => n.wait_completion_async().await.map_err(|e| e.to_string()),
        }
    }
}

impl SubscribeAck {
    pub async fn wait(self) -> Result<(), String> {
        match self {
            SubscribeAck::V5(n) => n.wait_completion_async().await.map_err(|e| e.to_string()),
            SubscribeAck::V4(n) => n.wait_completion_async().await.map_err(|e| e.to_string()),
        }
    }
}

impl SubscribeAck {
    /// For a watch's packet of `filters`: the ones the SUBACK refused, with the reason
    /// code; an error when the packet was lost with the connection (`connection_lost`: the
    /// broker task sends it again after the reconnect).
    pub async fn settled(self, filters: &[String]) -> Result<Vec<(String, String)>, TaskError> {
        let lost = |e: String| TaskError::new(ErrorKind::ConnectionLost, e);
        let codes: Vec<Option<String>> = match self {
            SubscribeAck::V5(n) => n
                .wait_async()
                .await
                .map_err(|e| lost(e.to_string()))?
                .return_codes
                .into_iter()
                .map(|c| match c {
                    v5::SubscribeReasonCode::Success(_) => None,
                    other => Some(format!("{other:?}")),
                })
                .collect(),
            SubscribeAck::V4(n) => n
                .wait_async()
                .await
                .map_err(|e| lost(e.to_string()))?
                .return_codes
                .into_iter()
                .map(|c| match c {
                    v4::SubscribeReasonCode::Success(_) => None,
                    v4::SubscribeReasonCode::Failure => Some("Failure".to_string()),
                })
                .collect(),
        };
        Ok(filters
            .iter()
            .zip(codes)
            .filter_map(|(f, code)| Some((f.clone(), code?)))
            .collect())
    }
}

impl UnsubscribeAck {
    pub async fn settled(self) -> Result<(), TaskError> {
        let result = match self {
            UnsubscribeAck::V5(n) => n.wait_completion_async().await.map_err(|e| e.to_string()),
            UnsubscribeAck::V4(n) => n.wait_completion_async().await.map_err(|e| e.to_string()),
        };
        result.map_err(protocol)
    }
}

fn qos5(q: u8) -> v5::QoS {
    match q {
        0 => v5::QoS::AtMostOnce,
        2 => v5::QoS::ExactlyOnce,
        _ => v5::QoS::AtLeastOnce,
    }
}

fn qos4(q: u8) -> v4::QoS {
    match q {
        0 => v4::QoS::AtMostOnce,
        2 => v4::QoS::ExactlyOnce,
        _ => v4::QoS::AtLeastOnce,
    }
}

impl EventLoop {
    /// The next event; an error is classified. Polling again after an error reconnects.
    pub async fn poll(&mut self) -> Result<Incoming, TaskError> {
        match self {
            EventLoop::V5(e) => match e.poll().await {
                Ok(v5::Event::Incoming(v5::Packet::ConnAck(a))) => Ok(Incoming::Connected {
                    session_present: a.session_present,
                }),
                Ok(v5::Event::Incoming(v5::Packet::Publish(p))) => Ok(Incoming::Message(Message {
                    topic: String::from_utf8_lossy(&p.topic).into_owned(),
                    retain: p.retain,
                    correlation: p.properties.and_then(|pr| pr.correlation_data),
                    payload: p.payload,
                })),
                Ok(_) => Ok(Incoming::Other),
                Err(e) => Err(classify5(e)),
            },
            EventLoop::V4(e) => match e.poll().await {
                Ok(v4::Event::Incoming(v4::Packet::ConnAck(a))) => Ok(Incoming::Connected {
                    session_present: a.session_present,
                }),
                Ok(v4::Event::Incoming(v4::Packet::Publish(p))) => Ok(Incoming::Message(Message {
                    topic: String::from_utf8_lossy(&p.topic).into_owned(),
                    retain: p.retain,
                    correlation: None,
                    payload: p.payload,
                })),
                Ok(_) => Ok(Incoming::Other),
                Err(e) => Err(classify4(e)),
            },
        }
    }
}

fn classify5(e: v5::ConnectionError) -> TaskError {
    use v5::ConnectReturnCode as C;
    match e {
        v5::ConnectionError::Io(io) => classify_io(&io),
        v5::ConnectionError::Tls(t) => tls_error(&t.to_string()),
        v5::ConnectionError::Timeout(_) => TaskError::new(
            ErrorKind::ConnectTimeout,
            "the broker did not answer in time",
        ),
        v5::ConnectionError::ConnectionRefused(code) => {
            let kind = match code {
                C::BadUserNamePassword
                | C::NotAuthorized
                | C::Banned
                | C::BadAuthenticationMethod
                | C::ClientIdentifierNotValid => ErrorKind::AuthFailed,
                C::ServerUnavailable | C::ServerBusy | C::ConnectionRateExceeded => {
                    ErrorKind::Unreachable
                }
                _ => ErrorKind::Protocol,
            };
            TaskError::new(kind, format!("the broker refused the connection: {code:?}"))
        }
        other => classify_text(other.to_string()),
    }
}

fn classify4(e: v4::ConnectionError) -> TaskError {
    use v4::ConnectReturnCode as C;
    match e {
        v4::ConnectionError::Io(io) => classify_io(&io),
        v4::ConnectionError::Tls(t) => tls_error(&t.to_string()),
        v4::ConnectionError::ConnectionRefused(code) => {
            let kind = match code {
                C::BadUserNamePassword | C::NotAuthorized | C::BadClientId => ErrorKind::AuthFailed,
                C::ServiceUnavailable => ErrorKind::Unreachable,
                _ => ErrorKind::Protocol,
            };
            TaskError::new(kind, format!("the broker refused the connection: {code:?}"))
        }
        other => classify_text(other.to_string()),
    }
}

/// Errors the crate wraps in its own (a TLS alert inside a decoding error): by their text.
fn classify_text(text: String) -> TaskError {
    let lower = text.to_ascii_lowercase();
    if lower.contains("alert") || lower.contains("certificate") {
        tls_error(&text)
    } else if [
        "connection reset",
        "closed by peer",
        "connection refused",
        "broken pipe",
    ]
    .iter()
    .any(|s| lower.contains(s))
    {
        // The crate wraps a lost socket in its state error: the broker went away.
        TaskError::new(ErrorKind::Unreachable, text)
    } else if lower.contains("timeout") || lower.contains("timed out") {
        TaskError::new(ErrorKind::ConnectTimeout, text)
    } else {
        protocol(text)
    }
}

/// A rejected certificate shows up as an I/O error carrying a TLS alert.
fn classify_io(io: &std::io::Error) -> TaskError {
    use std::io::ErrorKind as K;
    let text = io.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("alert") || lower.contains("certificate") || lower.contains("tls") {
        return tls_error(&text);
    }
    // Refused, reset, no route, DNS: the broker cannot be reached, whatever the detail.
    let kind = match io.kind() {
        K::TimedOut => ErrorKind::ConnectTimeout,
        _ => ErrorKind::Unreachable,
    };
    TaskError::new(kind, text)
}

fn tls_error(text: &str) -> TaskError {
    TaskError::new(ErrorKind::AuthFailed, format!("TLS: {text}"))
}
