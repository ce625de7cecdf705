//! A real `mosquitto` for the MQTT tests, and a node simulator that answers on node topics.
//!
//! `Mosquitto::start()` writes its own config into a temp dir and listens on free ports of
//! the test's own loopback address (`support::net`): plain (anonymous, everything but `forbidden/#` allowed) and TLS (client
//! certificate required, the certificate's CN is the username, and each identity may use only
//! `node/<CN>/#`), and a third with password authentication (user `drover`). The CA, the broker's certificate and client certificates are generated
//! with the `openssl` CLI into the temp dir; nothing is committed. The broker is killed on
//! Drop, also when a test panics.
//!
//! `Simulator::start()` connects to the plain listener (MQTT 5), subscribes to
//! `node/+/to-node` and answers each request as the node's `Behaviour` says: after a delay,
//! with an `ok` or `error` status, malformed, or not at all. A request carrying an MQTT 5
//! response topic is answered there with its correlation data; otherwise on
//! `node/<id>/from-node` with the request's `correlation_id` echoed in the JSON.

use std::collections::HashMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rumqttc_v5 as v5;

use super::net;

pub const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// The password of user `drover` on the password listener.
pub const PASSWORD: &str = "s3cret-for-tests";

pub struct Mosquitto {
    child: Child,
    pub port: u16,
    pub tls_port: u16,
    /// Password authentication: user `drover`, password `PASSWORD`.
    pub auth_port: u16,
    pub dir: tempfile::TempDir,
}

/// A port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    net::free_port()
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA: `<name>.pem` and `<name>.key` in `dir`.
fn make_ca(dir: &Path, name: &str) {
    let (pem, key, subj) = (
        format!("{name}.pem"),
        format!("{name}.key"),
        format!("/CN={name}"),
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &pem,
            "-days",
            "2",
            "-subj",
            &subj,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// A leaf certificate signed by CA `ca`, written to `cert` and `key` (paths relative to `dir`).
fn make_leaf(dir: &Path, ca: &str, cn: &str, cert: &str, key: &str, server: bool) {
    let (ca_pem, ca_key, subj) = (
        format!("{ca}.pem"),
        format!("{ca}.key"),
        format!("/CN={cn}"),
    );
    let (eku, san) = if server {
        (
            "extendedKeyUsage=serverAuth",
            format!("subjectAltName=IP:{},DNS:localhost", net::host()),
        )
    } else {
        (
            "extendedKeyUsage=clientAuth",
            "subjectAltName=DNS:client.invalid".to_string(),
        )
    };
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            key,
            "-out",
            cert,
            "-days",
            "2",
            "-subj",
            &subj,
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            eku,
            "-addext",
            &san,
        ],
    );
}

/// A packet the broker received, as its debug log tells: from which client, SUBSCRIBE
/// (`true`) or UNSUBSCRIBE, with its filters in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedPacket {
    pub client: String,
    pub subscribe: bool,
    pub filters: Vec<String>,
}

impl Mosquitto {
    pub fn start() -> Mosquitto {
        Mosquitto::start_with("")
    }

    /// A broker that also logs every packet it receives (`log_type debug`) and every client
    /// that connects (`notice`), so a test can read back with `packets` what a client
    /// subscribed and unsubscribed, and with `connects_since` when clients connected.
    pub fn start_logging() -> Mosquitto {
        Mosquitto::start_with("log_type debug\nlog_type notice\n")
    }

    /// Every SUBSCRIBE and UNSUBSCRIBE the broker received from clients whose id starts with
    /// `client`, from its debug log (`start_logging`), in order.
    pub fn packets(&self, client: &str) -> Vec<LoggedPacket> {
        let log =
            std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default();
        let mut out: Vec<LoggedPacket> = Vec::new();
        let mut open = false;
        for line in log.lines() {
            // `1733070000: Received SUBSCRIBE from drover-1-0`, then `1733070000: \tfilter`.
            let text = line.split_once(": ").map_or(line, |(_, t)| t);
            if let Some(filter) = text.strip_prefix('\t') {
                if open {
                    let filter = filter.rsplit_once(" (QoS").map_or(filter, |(f, _)| f);
                    if let Some(p) = out.last_mut() {
                        p.filters.push(filter.to_string());
                    }
                }
                continue;
            }
            open = false;
            for (kind, subscribe) in [("SUBSCRIBE", true), ("UNSUBSCRIBE", false)] {
                if let Some(who) = text.strip_prefix(&format!("Received {kind} from ")) {
                    if who.starts_with(client) {
                        open = true;
                        out.push(LoggedPacket {
                            client: who.to_string(),
                            subscribe,
                            filters: Vec::new(),
                        });
                    }
                }
            }
        }
        out
    }

    /// The broker's log so far, in bytes: a test takes it as a mark before an event, and
    /// reads only what the broker logged after it.
    pub fn log_mark(&self) -> usize {
        std::fs::metadata(self.dir.path().join("mosquitto.log")).map_or(0, |m| m.len() as usize)
    }

    /// When (the log's whole seconds) each client whose id starts with `client` connected,
    /// after the log `mark`, from the debug log (`start_logging`).
    pub fn connects_since(&self, mark: usize, client: &str) -> Vec<u64> {
        let log = std::fs::read(self.dir.path().join("mosquitto.log")).unwrap_or_default();
        let log = String::from_utf8_lossy(log.get(mark..).unwrap_or_default());
        log.lines()
            .filter_map(|line| {
                // `1733070000: New client connected from 127.0.0.1:40000 as pace-n1 (p2, c1, k60).`
                let (stamp, text) = line.split_once(": ")?;
                let rest = text.strip_prefix("New client connected from ")?;
                let (_, id) = rest.split_once(" as ")?;
                id.starts_with(client).then(|| stamp.parse().ok())?
            })
            .collect()
    }

    fn start_with(extra: &str) -> Mosquitto {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        make_ca(d, "ca");
        make_leaf(d, "ca", &net::host(), "server.pem", "server.key", true);
        std::fs::write(
            d.join("plain.acl"),
            "topic readwrite node/#\ntopic readwrite bench/#\ntopic read $SYS/#\n",
        )
        .expect("acl");
        std::fs::write(d.join("tls.acl"), "pattern readwrite node/%u/#\n").expect("acl");
        std::fs::write(d.join("auth.acl"), "user drover\ntopic readwrite node/#\n").expect("acl");
        let passwd = d.join("passwd");
        let made = Command::new("mosquitto_passwd")
            .args(["-b", "-c"])
            .arg(&passwd)
            .args(["drover", PASSWORD])
            .output()
            .expect("run mosquitto_passwd");
        assert!(made.status.success(), "mosquitto_passwd failed");
        let port = net::free_port();
        let tls_port = net::free_port();
        let auth_port = net::free_port();
        // Run as whoever runs the tests: mosquitto started as root would otherwise switch to
        // the `mosquitto` user, who cannot read the temp dir.
        let user = Command::new("id")
            .arg("-un")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let conf = format!(
            "user {user}\n\
             per_listener_settings true\n\
             persistence false\n\
             log_dest stderr\n\
             log_type error\n\
             {extra}\
             max_queued_messages 100000\n\
             listener {port} {host}\n\
             allow_anonymous true\n\
             acl_file {plain_acl}\n\
             listener {tls_port} {host}\n\
             cafile {ca}\n\
             certfile {cert}\n\
             keyfile {key}\n\
             require_certificate true\n\
             use_identity_as_username true\n\
             acl_file {tls_acl}\n\
             listener {auth_port} {host}\n\
             allow_anonymous false\n\
             password_file {passwd}\n\
             acl_file {auth_acl}\n",
            host = net::host(),
            passwd = passwd.display(),
            auth_acl = d.join("auth.acl").display(),
            plain_acl = d.join("plain.acl").display(),
            tls_acl = d.join("tls.acl").display(),
            ca = d.join("ca.pem").display(),
            cert = d.join("server.pem").display(),
            key = d.join("server.key").display(),
        );
        let conf_path = d.join("mosquitto.conf");
        std::fs::write(&conf_path, conf).expect("config");
        let child = spawn(d);
        let broker = Mosquitto {
            child,
            port,
            tls_port,
            auth_port,
            dir,
        };
        broker.wait_listening(port);
        broker.wait_listening(tls_port);
        broker.wait_listening(auth_port);
        broker
    }

    /// Kills the broker and starts it again on the same ports, with no memory of the
    /// clients it had.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(self.dir.path());
        self.wait_listening(self.port);
        self.wait_listening(self.tls_port);
        self.wait_listening(self.auth_port);
    }

    fn wait_listening(&self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if TcpStream::connect((net::addr(), port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let log =
            std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default();
        panic!("mosquitto did not listen on {port}:\n{log}");
    }

    pub fn url(&self) -> String {
        format!("mqtt://{}:{}", net::host(), self.port)
    }

    pub fn tls_url(&self) -> String {
        format!("mqtts://{}:{}", net::host(), self.tls_port)
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Client certificates for `nodes`, in `<dir>/<node>/{cert,key}.pem`; returns `<dir>`.
    pub fn client_certs(&self, nodes: &[String]) -> PathBuf {
        let dir = self.dir.path().join("nodes");
        for node in nodes {
            let nd = dir.join(node);
            std::fs::create_dir_all(&nd).expect("mkdir");
            let cert = nd.join("cert.pem");
            let key = nd.join("key.pem");
            make_leaf(
                self.dir.path(),
                "ca",
                node,
                cert.to_str().expect("utf-8 path"),
                key.to_str().expect("utf-8 path"),
                false,
            );
        }
        dir
    }

    /// A client certificate for `node` from a CA the broker does not trust.
    pub fn foreign_cert(&self, node: &str) -> (PathBuf, PathBuf) {
        let d = self.dir.path();
        make_ca(d, "rogue");
        let cert = d.join("rogue-cert.pem");
        let key = d.join("rogue-key.pem");
        make_leaf(
            d,
            "rogue",
            node,
            cert.to_str().expect("utf-8 path"),
            key.to_str().expect("utf-8 path"),
            false,
        );
        (cert, key)
    }

    /// An X.509 version 1 client certificate for `node` (no extensions), signed by the
    /// broker's CA, as `openssl x509 -req` makes one by default.
    pub fn v1_cert(&self, node: &str) -> (PathBuf, PathBuf) {
        let d = self.dir.path();
        let subj = format!("/CN={node}");
        openssl(
            d,
            &[
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "v1-key.pem",
                "-out",
                "v1.csr",
                "-subj",
                &subj,
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "v1.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-out",
                "v1-cert.pem",
                "-days",
                "2",
            ],
        );
        (d.join("v1-cert.pem"), d.join("v1-key.pem"))
    }
}

fn spawn(dir: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("mosquitto.log"))
        .expect("log");
    Command::new(MOSQUITTO)
        .arg("-c")
        .arg(dir.join("mosquitto.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start mosquitto (apt-get install mosquitto)")
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a simulated node answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Behaviour {
    Ok,
    /// Answers with `"status": "error"`.
    Fail,
    Silent,
    /// Answers with something that is not JSON.
    Malformed,
    /// Answers after this delay.
    Delay(Duration),
}

pub type Behave = Arc<dyn Fn(&str) -> Behaviour + Send + Sync>;

/// The simulator; stops when dropped.
pub struct Simulator {
    /// Requests seen per node.
    pub seen: Arc<Mutex<HashMap<String, u32>>>,
    port: u16,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Simulator {
    pub fn start(port: u16, behave: Behave) -> Simulator {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let seen: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let seen2 = seen.clone();
        runtime.spawn(async move {
            let id = format!("sim-{}", std::process::id());
            let mut o = v5::MqttOptions::new(id, v5::Broker::tcp(net::host(), port));
            o.set_keep_alive(30)
                .set_request_channel_capacity(10_000)
                .set_max_packet_size(Some(1 << 20));
            let (client, mut events) = v5::AsyncClient::builder(o).build();
            let mut ready = Some(ready_tx);
            loop {
                let event = match events.poll().await {
                    Ok(e) => e,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                // A clean session each time: subscribe after every (re)connect.
                if let v5::Event::Incoming(v5::Packet::ConnAck(_)) = &event {
                    let _ = client.try_subscribe("node/+/to-node", v5::QoS::AtLeastOnce);
                }
                if let v5::Event::Incoming(v5::Packet::SubAck(_)) = &event {
                    if let Some(tx) = ready.take() {
                        let _ = tx.send(());
                    }
                }
                let v5::Event::Incoming(v5::Packet::Publish(p)) = event else {
                    continue;
                };
                let topic = String::from_utf8_lossy(&p.topic).into_owned();
                let node = topic.split('/').nth(1).unwrap_or("").to_string();
                *seen2.lock().unwrap().entry(node.clone()).or_default() += 1;
                let behaviour = behave(&node);
                let request: serde_json::Value =
                    serde_json::from_slice(&p.payload).unwrap_or(serde_json::Value::Null);
                let props = p.properties.clone().unwrap_or_default();
                let client = client.clone();
                tokio::spawn(async move {
                    // A one-way message (no reply expected) gets none.
                    if request.get("oneway") == Some(&serde_json::Value::Bool(true)) {
                        return;
                    }
                    let (delay, status) = match &behaviour {
                        Behaviour::Silent => return,
                        Behaviour::Delay(d) => (*d, "ok"),
                        Behaviour::Fail => (Duration::ZERO, "error"),
                        _ => (Duration::ZERO, "ok"),
                    };
                    tokio::time::sleep(delay).await;
                    let body = if behaviour == Behaviour::Malformed {
                        "{ this is not json".to_string()
                    } else {
                        serde_json::json!({
                            "correlation_id": request.get("correlation_id"),
                            "node": node,
                            "status": status,
                            "echo": request.get("cmd"),
                        })
                        .to_string()
                    };
                    let (reply_topic, options) = match props.response_topic {
                        Some(t) => {
                            let pr = v5::PublishProperties {
                                correlation_data: props.correlation_data,
                                ..Default::default()
                            };
                            (t, v5::PublishOptions::at_least_once().properties(pr))
                        }
                        None => (
                            format!("node/{node}/from-node"),
                            v5::PublishOptions::at_least_once(),
                        ),
                    };
                    let _ = client.publish(reply_topic, body, options).await;
                });
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("simulator subscribed");
        Simulator {
            seen,
            port,
            runtime: Some(runtime),
        }
    }

    /// Heartbeats: on a connection of its own, publishes `{"status":"ok"}` on
    /// `node/<id>/status` (QoS 0) for each of `nodes` every `every`, skipping a node while
    /// `behave` says it is `Silent`.
    pub fn beat(&self, nodes: Vec<String>, every: Duration, behave: Behave) {
        let Some(rt) = &self.runtime else { return };
        let port = self.port;
        rt.spawn(async move {
            let id = format!("sim-beat-{}", std::process::id());
            let mut o = v5::MqttOptions::new(id, v5::Broker::tcp(net::host(), port));
            o.set_keep_alive(30).set_request_channel_capacity(10_000);
            let (client, mut events) = v5::AsyncClient::builder(o).build();
            tokio::spawn(async move {
                loop {
                    if events.poll().await.is_err() {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            });
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                for node in &nodes {
                    if behave(node) == Behaviour::Silent {
                        continue;
                    }
                    let _ = client.try_publish(
                        format!("node/{node}/status"),
                        r#"{"status":"ok"}"#,
                        v5::PublishOptions::new(v5::QoS::AtMostOnce),
                    );
                }
            }
        });
    }

    pub fn seen(&self, node: &str) -> u32 {
        self.seen.lock().unwrap().get(node).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u32 {
        self.seen.lock().unwrap().values().sum()
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
