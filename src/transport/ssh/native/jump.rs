//! The connection chain: TCP to the first hop, then for each further hop a `direct-tcpip`
//! channel through the one before, each with its own handshake, host-key check and login.
//! An error says which hop it came from, in that hop's own words.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use russh::client::{Config, Handle};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::handler::{Client, Seen};
use super::target::{Hop, NativeTarget};
use super::{auth, classify, known_hosts};
use crate::outcome::{ErrorKind, TaskError};

/// An authenticated connection to the target, and the jump connections it runs through
/// (kept open as long as it is).
pub struct Chain {
    pub handle: Handle<Client>,
    pub seen: Arc<Seen>,
    pub label: String,
    pub jumps: Vec<Handle<Client>>,
}

/// Where a connect attempt is, so a timeout can say what it was waiting for.
#[derive(Debug, Default)]
pub struct Progress(Mutex<(String, Phase, Arc<AtomicU64>)>);

#[derive(Debug, Default, Clone, Copy)]
enum Phase {
    #[default]
    Tcp,
    Handshake,
    Login,
}

impl Progress {
    fn set(&self, label: &str, phase: Phase, read: &Arc<AtomicU64>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) =
            (label.to_string(), phase, read.clone());
    }

    /// `waiting for the banner of 192.0.2.1:22`, and so on.
    pub fn describe(&self) -> String {
        let guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (label, phase, read) = &*guard;
        match phase {
            Phase::Tcp => format!("connecting to {label}"),
            Phase::Handshake if read.load(Ordering::Relaxed) == 0 => {
                format!("waiting for the banner of {label}")
            }
            Phase::Handshake => format!("in the key exchange with {label}"),
            Phase::Login => format!("logging in to {label}"),
        }
    }
}

fn config(target: &NativeTarget) -> Result<Config, TaskError> {
    let preferred = target
        .algorithms
        .preferred()
        .map_err(|m| TaskError::new(ErrorKind::Protocol, m))?;
    Ok(Config {
        preferred,
        nodelay: true,
        // As the openssh backend's ServerAliveInterval 15 / ServerAliveCountMax 3.
        keepalive_interval: Some(Duration::from_secs(15)),
        keepalive_max: 3,
        ..Config::default()
    })
}

pub async fn connect(target: &NativeTarget, progress: &Progress) -> Result<Chain, TaskError> {
    let config = Arc::new(config(target)?);
    let hops: Vec<&Hop> = target.jumps.iter().chain([&target.host]).collect();
    let mut jumps: Vec<Handle<Client>> = Vec::new();
    for (i, hop) in hops.iter().enumerate() {
        let last = i + 1 == hops.len();
        match open(config.clone(), target, hop, jumps.last(), progress).await {
            Ok((handle, seen)) if last => {
                return Ok(Chain {
                    handle,
                    seen,
                    label: hop.label(),
                    jumps,
                })
            }
            Ok((handle, _)) => jumps.push(handle),
            Err(mut e) => {
                if !last {
                    e.message = format!("jump host {}: {}", hop.label(), e.message);
                } else if !jumps.is_empty() {
                    let via: Vec<String> = target.jumps.iter().map(Hop::label).collect();
                    e.message = format!("{} (through {})", e.message, via.join(", "));
                }
                return Err(e);
            }
        }
    }
    Err(TaskError::new(ErrorKind::Protocol, "no host to connect to"))
}

/// One hop: a stream (TCP, or a channel through `via`), the handshake, the login.
async fn open(
    config: Arc<Config>,
    target: &NativeTarget,
    hop: &Hop,
    via: Option<&Handle<Client>>,
    progress: &Progress,
) -> Result<(Handle<Client>, Arc<Seen>), TaskError> {
    let label = hop.label();
    let read = Arc::new(AtomicU64::new(0));
    progress.set(&label, Phase::Tcp, &read);
    let stream: Box<dyn Stream> = match via {
        None => {
            let tcp = tokio::net::TcpStream::connect((hop.address.as_str(), hop.port))
                .await
                .map_err(|e| classify::tcp_error(&label, &e))?;
            let _ = tcp.set_nodelay(true);
            Box::new(tcp)
        }
        Some(via) => {
            let channel = via
                .channel_open_direct_tcpip(hop.address.clone(), u32::from(hop.port), "127.0.0.1", 0)
                .await
                .map_err(|e| {
                    TaskError::new(
                        ErrorKind::Unreachable,
                        format!("the jump host could not open a channel to {label}: {e}"),
                    )
                })?;
            Box::new(channel.into_stream())
        }
    };
    progress.set(&label, Phase::Handshake, &read);
    let seen = Arc::new(Seen::default());
    let client = Client {
        host_name: known_hosts::host_name(&hop.address, hop.port),
        address: hop.address.clone(),
        port: hop.port,
        policy: target.host_keys,
        known_hosts: target.known_hosts.clone(),
        seen: seen.clone(),
    };
    let head: Arc<Mutex<Vec<u8>>> = Arc::default();
    let counted = Counted {
        inner: stream,
        read: read.clone(),
        head: head.clone(),
    };
    let mut handle = russh::client::connect_stream(config, counted, client)
        .await
        .map_err(|e| {
            let head = head.lock().unwrap_or_else(|e| e.into_inner()).clone();
            classify::handshake_error(e, &label, &seen, &head)
        })?;
    progress.set(&label, Phase::Login, &read);
    auth::authenticate(&mut handle, hop, &seen).await?;
    Ok((handle, seen))
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A stream that counts what it has read and keeps the first bytes: a server that hangs up
/// before its banner may have said why in plain text (sshd: "Exceeded MaxStartups").
struct Counted {
    inner: Box<dyn Stream>,
    read: Arc<AtomicU64>,
    head: Arc<Mutex<Vec<u8>>>,
}

/// How much of the start of a connection is kept for messages.
const HEAD: usize = 256;

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        if n > 0 {
            self.read.fetch_add(n as u64, Ordering::Relaxed);
            let mut head = self.head.lock().unwrap_or_else(|e| e.into_inner());
            if head.len() < HEAD {
                let take = n.min(HEAD - head.len());
                head.extend_from_slice(&buf.filled()[before..before + take]);
            }
        }
        polled
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
