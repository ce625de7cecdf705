//! A lab of real OpenSSH `sshd` processes on the test's own loopback address
//! (`support::net`) for the ssh transport tests: good endpoints (an sshd each, or up to 16
//! per sshd), and misbehaving ones — a closed port, a blackhole that accepts and never
//! speaks, a host key that does not match known_hosts, a server that refuses the client's
//! key, and one throttled by `MaxStartups`. Keys, known_hosts, configs and logs are generated
//! in a temp dir; sshd's stderr is timestamped line by line as it arrives, so tests can see
//! what the server saw and when. Everything dies on Drop.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::net;

/// The kinds of endpoint a lab can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Good,
    Refused,
    Blackhole,
    WrongHostKey,
    WrongUserKey,
    Throttled,
    /// A toy router CLI (sshd `ForceCommand`): knows a few lines, refuses anything else.
    Device,
    /// Password login only (no public keys), as the lab's throwaway user (`Lab::user`).
    Password,
    /// Keyboard-interactive only (through PAM, which asks `Password:`), as the lab's user.
    KbdInteractive,
    /// Only SHA-1 key exchange, CBC ciphers, SHA-1 MACs and an `ssh-rsa` host key: an old
    /// router. Its RSA host key is in known_hosts too.
    Legacy,
}

#[derive(Debug, Clone)]
pub struct Endpoint {
    pub name: String,
    pub port: u16,
    pub kind: Kind,
}

/// One line of sshd output and when the fixture read it (seconds since the epoch).
#[derive(Debug, Clone)]
pub struct LogLine {
    pub at: f64,
    /// Which sshd process wrote it (in start order).
    pub server: usize,
    pub text: String,
}

type Log = Arc<Mutex<Vec<LogLine>>>;

/// The device endpoint's CLI: it sees the line exactly as the client sent it.
const TOY_CLI: &str = r#"#!/bin/sh
case "$SSH_ORIGINAL_COMMAND" in
  "show version") echo "ToyOS 1.0" ;;
  "show run"*) printf 'you typed: %s\n' "$SSH_ORIGINAL_COMMAND" ;;
  "monitor") while :; do echo tick; sleep 0.2; done ;;
  *) echo "% Invalid input: $SSH_ORIGINAL_COMMAND" >&2; exit 1 ;;
esac
"#;

pub struct Lab {
    pub dir: tempfile::TempDir,
    pub endpoints: Vec<Endpoint>,
    servers: Vec<Child>,
    log: Log,
    stop: Arc<AtomicBool>,
    /// Held open so the throttled sshd has its one unauthenticated slot taken.
    _held: Vec<TcpStream>,
    /// The throwaway local user password and keyboard-interactive endpoints log in as.
    pub login: Option<LocalUser>,
}

/// A local user with a known password, created with `useradd`/`chpasswd` (the tests run as
/// root) and removed on drop. The name is unique per process and lab, so parallel test
/// processes never share one; `/etc/passwd` is locked by the tools while they write, so a
/// busy lock is tried again (bounded).
pub struct LocalUser {
    pub name: String,
    pub password: String,
}

impl LocalUser {
    fn create(home: &Path) -> LocalUser {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("drvt{}x{n}", std::process::id());
        let password = format!("pw-{}-{n}-Secret", std::process::id());
        retry_locked(|| {
            Command::new("useradd")
                .args(["-M", "-s", "/bin/sh", "-d"])
                .arg(home)
                .arg(&name)
                .status()
        });
        retry_locked(|| {
            let mut child = Command::new("chpasswd").stdin(Stdio::piped()).spawn()?;
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("chpasswd stdin")
                .write_all(format!("{name}:{password}\n").as_bytes())?;
            child.wait()
        });
        LocalUser { name, password }
    }
}

/// Runs a user-database tool until it succeeds (another process may hold the lock).
fn retry_locked(mut run: impl FnMut() -> std::io::Result<std::process::ExitStatus>) {
    for _ in 0..50 {
        if run().is_ok_and(|s| s.success()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("a user-database tool kept failing (is the test running as root?)");
}

impl Drop for LocalUser {
    fn drop(&mut self) {
        retry_locked(|| {
            Command::new("userdel")
                .arg(&self.name)
                .stderr(Stdio::null())
                .status()
        });
    }
}

#[derive(Default)]
pub struct LabBuilder {
    good: usize,
    special: Vec<Kind>,
    /// sshd's `MaxStartups` for the good endpoints (default `100:30:200`).
    max_startups: Option<String>,
    /// Good endpoints per sshd process (0: the default, 1).
    ports_per_sshd: usize,
}

impl LabBuilder {
    /// `n` good endpoints named `h000`, `h001`, ...
    pub fn good(mut self, n: usize) -> LabBuilder {
        self.good = n;
        self
    }

    /// Lowers sshd's `MaxStartups` on the good endpoints: more unauthenticated connections
    /// than that at once are dropped before the banner.
    pub fn max_startups(mut self, value: &str) -> LabBuilder {
        self.max_startups = Some(value.to_string());
        self
    }

    /// Good endpoints served by one sshd process, at most 16 (sshd's limit); the default is
    /// one each. Sharing a process shares its `MaxStartups`, and costs `connections()` its
    /// certainty: sshd logs a session with the client's port only, and two clients of one
    /// process can use the same source port at once (towards two different server ports).
    pub fn ports_per_sshd(mut self, n: usize) -> LabBuilder {
        self.ports_per_sshd = n.clamp(1, 16);
        self
    }

    /// One endpoint of `kind`, named after it (`refused`, `blackhole`, ...).
    pub fn with(mut self, kind: Kind) -> LabBuilder {
        self.special.push(kind);
        self
    }

    pub fn start(self) -> Lab {
        Lab::start(self)
    }
}

fn name_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Good => "good",
        Kind::Refused => "refused",
        Kind::Blackhole => "blackhole",
        Kind::WrongHostKey => "badhostkey",
        Kind::WrongUserKey => "badkey",
        Kind::Throttled => "throttled",
        Kind::Device => "router",
        Kind::Password => "password",
        Kind::KbdInteractive => "kbdint",
        Kind::Legacy => "legacy",
    }
}

fn keygen(path: &Path) -> String {
    keygen_type(path, "ed25519")
}

fn keygen_type(path: &Path, kind: &str) -> String {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", kind, "-N", "", "-C", "drover-test", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("run ssh-keygen");
    assert!(status.success(), "ssh-keygen failed");
    let public = std::fs::read_to_string(path.with_extension("pub")).expect("public key");
    public
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn user() -> String {
    let out = Command::new("id").arg("-un").output().expect("id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Lab {
    pub fn builder() -> LabBuilder {
        LabBuilder::default()
    }

    fn start(spec: LabBuilder) -> Lab {
        // sshd insists on its privilege separation directory even when run by hand.
        let _ = std::fs::create_dir_all("/run/sshd");
        let dir = tempfile::Builder::new()
            .prefix("sshd-lab")
            .tempdir()
            .expect("temp dir");
        let d = dir.path().to_path_buf();
        let host_key = keygen(&d.join("host_key"));
        keygen(&d.join("other_host_key"));
        let client_key = keygen(&d.join("client_key"));
        keygen(&d.join("stranger_key"));
        let rsa_host_key = if spec.special.contains(&Kind::Legacy) {
            keygen_type(&d.join("rsa_host_key"), "rsa")
        } else {
            String::new()
        };
        std::fs::write(d.join("authorized_keys"), format!("{client_key}\n")).expect("keys");
        std::fs::write(d.join("no_keys"), "").expect("empty keys");
        std::fs::write(
            d.join("ssh_config"),
            format!(
                "Host *\n  User {}\n  UserKnownHostsFile {}\n  GlobalKnownHostsFile /dev/null\n  \
                 IdentityFile {}\n  IdentitiesOnly yes\n  LogLevel ERROR\n",
                user(),
                d.join("known_hosts").display(),
                d.join("client_key").display()
            ),
        )
        .expect("client config");

        let mut endpoints: Vec<Endpoint> = (0..spec.good)
            .map(|i| Endpoint {
                name: format!("h{i:03}"),
                port: net::free_port(),
                kind: Kind::Good,
            })
            .collect();
        for kind in &spec.special {
            endpoints.push(Endpoint {
                name: name_of(*kind).to_string(),
                port: net::free_port(),
                kind: *kind,
            });
        }
        let mut known = String::new();
        for e in &endpoints {
            // Every endpoint is "known" with the lab's host key, so the one served with
            // another key is a changed key, not an unknown one.
            known.push_str(&format!("[{}]:{} {host_key}\n", net::host(), e.port));
            if e.kind == Kind::Legacy {
                known.push_str(&format!("[{}]:{} {rsa_host_key}\n", net::host(), e.port));
            }
        }
        std::fs::write(d.join("known_hosts"), known).expect("known_hosts");

        let log: Log = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let mut lab = Lab {
            dir,
            endpoints: endpoints.clone(),
            servers: Vec::new(),
            log: log.clone(),
            stop: stop.clone(),
            _held: Vec::new(),
            login: None,
        };
        if spec
            .special
            .iter()
            .any(|k| matches!(k, Kind::Password | Kind::KbdInteractive))
        {
            lab.login = Some(LocalUser::create(&d));
        }
        let good: Vec<u16> = endpoints
            .iter()
            .filter(|e| e.kind == Kind::Good)
            .map(|e| e.port)
            .collect();
        let max_startups = spec.max_startups.as_deref().unwrap_or("100:30:200");
        for chunk in good.chunks(spec.ports_per_sshd.max(1)) {
            lab.sshd(chunk, "host_key", "authorized_keys", max_startups, "");
        }
        for e in &endpoints {
            match e.kind {
                Kind::Good => {}
                Kind::Refused => {}
                Kind::WrongHostKey => {
                    lab.sshd(&[e.port], "other_host_key", "authorized_keys", "100", "")
                }
                Kind::WrongUserKey => lab.sshd(&[e.port], "host_key", "no_keys", "100", ""),
                Kind::Throttled => lab.sshd(&[e.port], "host_key", "authorized_keys", "1", ""),
                Kind::Device => {
                    let cli = lab.path("toy-cli");
                    std::fs::write(&cli, TOY_CLI).expect("toy cli");
                    std::fs::set_permissions(&cli, std::fs::Permissions::from_mode(0o755))
                        .expect("chmod toy cli");
                    let extra = format!("ForceCommand {}\n", cli.display());
                    lab.sshd(&[e.port], "host_key", "authorized_keys", "100", &extra)
                }
                Kind::Password => {
                    let extra = "PasswordAuthentication yes\nPubkeyAuthentication no\n";
                    lab.sshd(&[e.port], "host_key", "no_keys", "100", extra)
                }
                Kind::KbdInteractive => {
                    let extra =
                        "UsePAM yes\nKbdInteractiveAuthentication yes\nPubkeyAuthentication no\n";
                    lab.sshd(&[e.port], "host_key", "no_keys", "100", extra)
                }
                Kind::Legacy => {
                    let extra = "KexAlgorithms diffie-hellman-group14-sha1\nCiphers aes128-cbc,3des-cbc\n\
                                 MACs hmac-sha1\nHostKeyAlgorithms ssh-rsa\nPubkeyAcceptedAlgorithms +ssh-rsa\n";
                    lab.sshd(&[e.port], "rsa_host_key", "authorized_keys", "100", extra)
                }
                Kind::Blackhole => {
                    let listener =
                        TcpListener::bind((net::addr(), e.port)).expect("blackhole bind");
                    listener.set_nonblocking(true).expect("nonblocking");
                    let stop = stop.clone();
                    std::thread::spawn(move || {
                        let mut held = Vec::new();
                        while !stop.load(Ordering::Relaxed) {
                            match listener.accept() {
                                Ok((s, _)) => held.push(s),
                                Err(_) => std::thread::sleep(Duration::from_millis(20)),
                            }
                        }
                    });
                }
            }
        }
        for e in &endpoints {
            if e.kind != Kind::Refused {
                wait_ready(e.port);
            }
        }
        if let Some(e) = endpoints.iter().find(|e| e.kind == Kind::Throttled) {
            lab._held.push(hold_startup_slot(e.port));
        }
        lab
    }

    fn sshd(&mut self, ports: &[u16], host_key: &str, keys: &str, max_startups: &str, extra: &str) {
        let d = self.dir.path();
        // sshd keeps the first value it reads for an option, so the endpoint's own come first.
        let mut conf = String::from(extra);
        for p in ports {
            conf.push_str(&format!("ListenAddress {}:{p}\n", net::host()));
        }
        conf.push_str(&format!(
            "HostKey {hk}\nPidFile none\nUsePAM no\nStrictModes no\nAuthorizedKeysFile {ak}\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
             PermitRootLogin yes\nLogLevel VERBOSE\nMaxStartups {max_startups}\nMaxSessions 100\n\
             AllowTcpForwarding yes\nPrintMotd no\nUseDNS no\nSetEnv HOME={home}\n",
            hk = d.join(host_key).display(),
            ak = d.join(keys).display(),
            // The remote shell starts in the lab, not in the test user's home: bash run by
            // sshd reads ~/.bashrc, and whatever that prints (a version manager's rehash
            // racing 24 sessions...) would land in every command's stderr.
            home = d.display(),
        ));
        let path = d.join(format!("sshd{}.conf", self.servers.len()));
        std::fs::write(&path, conf).expect("sshd config");
        let mut child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&path)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sshd");
        let stderr = child.stderr.take().expect("sshd stderr");
        let log = self.log.clone();
        let server = self.servers.len();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(text) = line else { break };
                let at = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64());
                log.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(LogLine { at, server, text });
            }
        });
        self.servers.push(child);
    }

    pub fn endpoint(&self, name: &str) -> &Endpoint {
        self.endpoints
            .iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("no endpoint {name}"))
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A native inventory with every endpoint as a host on the ssh transport, the lab's
    /// client config as `ssh_config`, plus `extra` appended under `defaults`.
    pub fn inventory(&self, extra_defaults: &str) -> String {
        self.inventory_with(extra_defaults, &[])
    }

    /// As `inventory`, with `vars` (a YAML flow map) for some hosts.
    pub fn inventory_with(&self, extra_defaults: &str, vars: &[(&str, &str)]) -> String {
        let mut text = format!(
            "defaults:\n  transport: ssh\n  ssh_config: {}\n",
            self.path("ssh_config").display()
        );
        for line in extra_defaults.lines() {
            text.push_str(&format!("  {line}\n"));
        }
        text.push_str("hosts:\n");
        for e in &self.endpoints {
            text.push_str(&format!(
                "  {}:\n    address: {}\n    port: {}\n",
                e.name,
                net::host(),
                e.port
            ));
            if let Some((_, v)) = vars.iter().find(|(n, _)| *n == e.name) {
                text.push_str(&format!("    vars: {v}\n"));
            }
        }
        text
    }

    /// The variables the native backend needs to reach the lab the way the lab's
    /// `ssh_config` tells OpenSSH (that file is OpenSSH's alone): its key and known_hosts.
    pub fn native_vars(&self) -> String {
        format!(
            "ssh_backend: native\nssh_identity_file: {}\nknown_hosts_file: {}\n",
            self.path("client_key").display(),
            self.path("known_hosts").display()
        )
    }

    /// As `inventory`, on the native backend.
    pub fn native_inventory(&self, extra_defaults: &str) -> String {
        self.inventory(&format!("{}{extra_defaults}", self.native_vars()))
    }

    pub fn log(&self) -> Vec<LogLine> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits (bounded) until sshd has logged `n` lines containing `needle`.
    pub fn wait_for(&self, needle: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self
                .log()
                .iter()
                .filter(|l| l.text.contains(needle))
                .count()
                >= n
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every connection in arrival order: the server port it reached (from "Connection from
    /// A port P on B port Q"), when it authenticated and when it was closed, and how many
    /// sessions ("Starting session: command for U from A port P") it carried. Later lines are
    /// matched to a connection by the sshd process that wrote them and the client's port; a
    /// client port seen again starts a new connection (the kernel reuses source ports).
    pub fn connections(&self) -> Vec<Conn> {
        let mut conns: Vec<Conn> = Vec::new();
        let mut latest: HashMap<(usize, u16), usize> = HashMap::new();
        for line in self.log() {
            let t = &line.text;
            if let Some(rest) = t.strip_prefix("Connection from ") {
                let words: Vec<&str> = rest.split_whitespace().collect();
                // A port P on B port Q ...
                if let (Some(p), Some(q)) = (
                    words.get(2).and_then(|w| w.parse().ok()),
                    words.get(6).and_then(|w| w.parse().ok()),
                ) {
                    latest.insert((line.server, p), conns.len());
                    conns.push(Conn {
                        server_port: q,
                        opened: line.at,
                        authenticated: None,
                        closed: None,
                        sessions: 0,
                    });
                }
                continue;
            }
            let conn = |prefix: &str| {
                client_port_after(t, prefix)
                    .and_then(|p| latest.get(&(line.server, p)))
                    .copied()
            };
            if let Some(i) = conn("Starting session: ") {
                conns[i].sessions += 1;
            } else if let Some(i) = conn("Accepted publickey for ")
                .or_else(|| conn("Accepted password for "))
                .or_else(|| conn("Accepted keyboard-interactive/pam for "))
            {
                conns[i].authenticated = Some(line.at);
            } else if let Some(i) = conn("Disconnected from ")
                .or_else(|| conn("Connection closed by "))
                .or_else(|| conn("Received disconnect from "))
            {
                conns[i].closed.get_or_insert(line.at);
            }
        }
        conns
    }
}

/// Finds "port N" after `prefix` in an sshd log line.
fn client_port_after(text: &str, prefix: &str) -> Option<u16> {
    let i = text.find(prefix)?;
    let rest = &text[i + prefix.len()..];
    let words: Vec<&str> = rest.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "port")?;
    words
        .get(at + 1)?
        .trim_end_matches([':', ','])
        .split(':')
        .next()?
        .parse()
        .ok()
}

#[derive(Debug, Clone)]
pub struct Conn {
    pub server_port: u16,
    pub opened: f64,
    pub authenticated: Option<f64>,
    pub closed: Option<f64>,
    /// Sessions (one per command) the connection carried.
    pub sessions: usize,
}

/// Takes the single pre-auth slot of a `MaxStartups 1` sshd: a connection that got the
/// banner and then says nothing. The readiness probe may still hold the slot for a moment
/// (then this connection is dropped without a banner), so it tries again, bounded.
fn hold_startup_slot(port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(s) = TcpStream::connect((net::addr(), port)) {
            s.set_read_timeout(Some(Duration::from_secs(5))).ok();
            let mut banner = [0u8; 4];
            if (&s).read_exact(&mut banner).is_ok() && &banner == b"SSH-" {
                return s;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("could not take the startup slot of {}:{port}", net::host());
}

fn wait_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(
            &std::net::SocketAddr::from((net::addr(), port)),
            Duration::from_millis(200),
        )
        .is_ok()
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing listens on {}:{port} after 10s", net::host());
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for child in &mut self.servers {
            // The whole group: the listener and its per-connection children.
            // SAFETY: kill only sends a signal to the group this fixture created.
            unsafe {
                kill(-(child.id() as i32), 9);
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}
