//! A TCP relay that stamps every connection it accepts, for tests that must know when
//! connections *arrived* at a server. sshd logs a connection only after it has forked and
//! re-executed itself for it, which on a busy machine moves its log lines by up to hundreds
//! of milliseconds; the relay's `accept()` time does not.

use std::io::copy;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use super::net;

pub struct Relay {
    /// The relay's port for each target port, in the order given.
    pub ports: Vec<u16>,
    accepted: Arc<Mutex<Vec<f64>>>,
}

impl Relay {
    /// Listens on a fresh loopback port in front of each of `targets`.
    pub fn start(targets: &[u16]) -> Relay {
        Relay::delayed(targets, std::time::Duration::ZERO)
    }

    /// As `start`, holding each connection `delay` before connecting on to the target: a
    /// server slow to accept (a WAN, a TLS offload), or one that fails slowly when the
    /// target is a closed port.
    pub fn delayed(targets: &[u16], delay: std::time::Duration) -> Relay {
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let mut ports = Vec::new();
        for &target in targets {
            let listener = TcpListener::bind((net::addr(), 0)).expect("relay bind");
            ports.push(listener.local_addr().expect("relay addr").port());
            let accepted = accepted.clone();
            // The threads end with the test process.
            std::thread::spawn(move || {
                for client in listener.incoming().flatten() {
                    let now = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .map_or(0.0, |d| d.as_secs_f64());
                    accepted.lock().expect("relay log").push(now);
                    std::thread::spawn(move || {
                        std::thread::sleep(delay);
                        pump(client, target)
                    });
                }
            });
        }
        Relay { ports, accepted }
    }

    /// When each connection was accepted, in seconds since the epoch, sorted.
    pub fn accepted(&self) -> Vec<f64> {
        let mut times = self.accepted.lock().expect("relay log").clone();
        times.sort_by(f64::total_cmp);
        times
    }
}

fn pump(client: TcpStream, target: u16) {
    let Ok(server) = TcpStream::connect((net::addr(), target)) else {
        return;
    };
    let (Ok(mut client_r), Ok(mut server_w)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let upstream = std::thread::spawn(move || {
        let _ = copy(&mut client_r, &mut server_w);
        let _ = server_w.shutdown(Shutdown::Write);
    });
    let (mut server_r, mut client_w) = (server, client);
    let _ = copy(&mut server_r, &mut client_w);
    let _ = client_w.shutdown(Shutdown::Write);
    let _ = upstream.join();
}

/// A server that accepts, sends `banner` and then reads without ever answering: a key
/// exchange (or an MQTT CONNECT) that stalls. It counts the connections still open.
pub struct Stall {
    pub port: u16,
    open: Arc<Mutex<(usize, usize)>>,
}

impl Stall {
    pub fn start(banner: &'static [u8]) -> Stall {
        let listener = TcpListener::bind((net::addr(), 0)).expect("stall bind");
        let port = listener.local_addr().expect("stall addr").port();
        let open = Arc::new(Mutex::new((0, 0)));
        let counts = open.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let counts = counts.clone();
                std::thread::spawn(move || {
                    use std::io::{Read, Write};
                    let mut client = client;
                    {
                        let mut c = counts.lock().expect("stall counts");
                        c.0 += 1;
                        c.1 += 1;
                    }
                    let _ = client.write_all(banner);
                    let mut buf = [0u8; 4096];
                    while matches!(client.read(&mut buf), Ok(n) if n > 0) {}
                    counts.lock().expect("stall counts").1 -= 1;
                });
            }
        });
        Stall { port, open }
    }

    /// (connections accepted, connections still open).
    pub fn counts(&self) -> (usize, usize) {
        *self.open.lock().expect("stall counts")
    }

    /// Waits (bounded) until no connection is open; the counts at the end.
    pub fn wait_all_closed(&self, within: std::time::Duration) -> (usize, usize) {
        let deadline = std::time::Instant::now() + within;
        while self.counts().1 > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        self.counts()
    }
}
