//! A router simulator on russh's server side: each device is an SSH server of its own on this
//! process's loopback address, in-process (tokio tasks, no child process), so a test can
//! start fifty. A device takes password and keyboard-interactive logins, refuses exec
//! requests as many routers do, and answers a PTY shell with a small CLI: user, privileged
//! and config prompts, `enable` with a secret, paging off by command and a pager otherwise,
//! `show version` and a running config that reflects the config lines entered, the
//! platform's "invalid input" answer for anything it does not know, a `hang` command that
//! runs until Ctrl-C, and, when asked, slow writes that split every line and prompt across
//! packets. A [`Shape`] per shipped platform gives each its prompts, pager and commands.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::PrivateKey;
use russh::server::{self, Auth, Msg, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::net;

/// How the pager erases itself once answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erase {
    /// `\b` over it, spaces, `\b` again (IOS, EOS, NX-OS, Dell).
    Backspaces,
    /// `\r`, then erase-line (`ESC[K`) (Junos, RouterOS).
    ClearLine,
    /// Cursor left by the pager's width (`ESC[nD`), spaces, left again (VRP).
    CursorLeft,
}

/// What a platform's CLI looks like. `{h}` in a prompt is the device's hostname.
#[derive(Debug, Clone)]
pub struct Shape {
    pub platform: &'static str,
    pub user_prompt: Option<&'static str>,
    pub privileged_prompt: Option<&'static str>,
    pub config_prompt: &'static str,
    /// Printed on its own line before each config prompt (Junos `[edit]`).
    pub config_header: Option<&'static str>,
    pub enable: Option<&'static str>,
    pub paging_off: Option<&'static str>,
    /// Other set-up commands the device takes silently (terminal width, …).
    pub quiet: &'static [&'static str],
    pub pager: &'static str,
    pub erase: Erase,
    pub enter: Option<&'static str>,
    pub exit: Option<&'static str>,
    pub commit: Option<&'static str>,
    /// Whether commit also leaves config mode (Junos `commit and-quit`).
    pub commit_exits: bool,
    pub abort: Option<&'static str>,
    pub abort_exits: bool,
    pub save: Option<&'static str>,
    /// A question `save` asks before it saves; any answer but `n` goes on.
    pub save_question: Option<&'static str>,
    pub save_reply: &'static str,
    /// The lines answering an unknown command (`{cmd}` is the command).
    pub invalid: &'static str,
    pub version_cmd: &'static str,
    pub running_cmd: &'static str,
    /// RouterOS: no config mode; a line starting with `/` is configuration.
    pub config_anywhere: bool,
}

const CISCO_INVALID: &str = "              ^\r\n% Invalid input detected at '^' marker.\r\n";

impl Shape {
    pub fn of(platform: &str) -> Shape {
        let ios = Shape {
            platform: "cisco_ios",
            user_prompt: Some("{h}>"),
            privileged_prompt: Some("{h}#"),
            config_prompt: "{h}(config)#",
            config_header: None,
            enable: Some("enable"),
            paging_off: Some("terminal length 0"),
            quiet: &["terminal width 511"],
            pager: " --More-- ",
            erase: Erase::Backspaces,
            enter: Some("configure terminal"),
            exit: Some("end"),
            commit: None,
            commit_exits: false,
            abort: None,
            abort_exits: false,
            save: Some("write memory"),
            save_question: None,
            save_reply: "Building configuration...\r\n[OK]",
            invalid: CISCO_INVALID,
            version_cmd: "show version",
            running_cmd: "show running-config",
            config_anywhere: false,
        };
        match platform {
            "cisco_ios" => ios,
            "cisco_iosxe" => Shape {
                platform: "cisco_iosxe",
                save: Some("copy running-config startup-config"),
                save_question: Some("Destination filename [startup-config]? "),
                ..ios
            },
            "cisco_nxos" => Shape {
                platform: "cisco_nxos",
                user_prompt: None,
                enable: None,
                quiet: &["terminal width 511"],
                save: Some("copy running-config startup-config"),
                save_reply: "[########################################] 100%\r\nCopy complete.",
                invalid: "                ^\r\n% Invalid command at '^' marker.\r\n",
                ..ios
            },
            "cisco_iosxr" => Shape {
                platform: "cisco_iosxr",
                user_prompt: None,
                privileged_prompt: Some("RP/0/RP0/CPU0:{h}#"),
                config_prompt: "RP/0/RP0/CPU0:{h}(config)#",
                enable: None,
                quiet: &["terminal width 512"],
                commit: Some("commit"),
                abort: Some("abort"),
                abort_exits: true,
                save: None,
                ..ios
            },
            "arista_eos" => Shape {
                platform: "arista_eos",
                quiet: &["terminal width 32767"],
                save: Some("copy running-config startup-config"),
                save_reply: "Copy completed successfully.",
                invalid: "% Invalid input\r\n",
                ..ios
            },
            "dell_os6" => Shape {
                platform: "dell_os6",
                quiet: &[],
                pager: "--More-- or (q)uit",
                enter: Some("configure"),
                save: Some("copy running-config startup-config"),
                save_question: Some(
                    "This operation may take a few minutes.\r\n\r\nAre you sure you want to save? (y/n) ",
                ),
                save_reply: "Configuration Saved!",
                ..ios
            },
            "juniper_junos" => Shape {
                platform: "juniper_junos",
                user_prompt: Some("admin@{h}>"),
                privileged_prompt: None,
                config_prompt: "admin@{h}#",
                config_header: Some("[edit]"),
                enable: None,
                paging_off: Some("set cli screen-length 0"),
                quiet: &["set cli screen-width 1024", "set cli complete-on-space off"],
                pager: "---(more)---",
                erase: Erase::ClearLine,
                enter: Some("configure"),
                exit: Some("exit configuration-mode"),
                commit: Some("commit and-quit"),
                commit_exits: true,
                abort: Some("rollback 0"),
                save: None,
                invalid: "                 ^\r\nunknown command.\r\n",
                running_cmd: "show configuration",
                ..ios
            },
            "mikrotik_routeros" => Shape {
                platform: "mikrotik_routeros",
                user_prompt: Some("[admin@{h}] >"),
                privileged_prompt: None,
                config_prompt: "[admin@{h}] >",
                enable: None,
                paging_off: None,
                quiet: &[],
                pager: "-- [Q quit|D dump|down]",
                erase: Erase::ClearLine,
                enter: None,
                exit: None,
                save: None,
                invalid: "bad command name {cmd} (line 1 column 1)\r\n",
                version_cmd: "/system resource print",
                running_cmd: "/export",
                config_anywhere: true,
                ..ios
            },
            "huawei_vrp" => Shape {
                platform: "huawei_vrp",
                user_prompt: Some("<{h}>"),
                privileged_prompt: None,
                config_prompt: "[{h}]",
                enable: None,
                paging_off: Some("screen-length 0 temporary"),
                quiet: &[],
                pager: "  ---- More ----",
                erase: Erase::CursorLeft,
                enter: Some("system-view"),
                exit: Some("return"),
                save: Some("save"),
                save_question: Some(
                    "The current configuration will be written to the device.\r\nAre you sure to continue?[Y/N]",
                ),
                save_reply: "Info: Save the configuration successfully.",
                invalid: "              ^\r\nError: Unrecognized command found at '^' position.\r\n",
                version_cmd: "display version",
                running_cmd: "display current-configuration",
                ..ios
            },
            "generic" => Shape {
                platform: "generic",
                user_prompt: Some("{h}$"),
                privileged_prompt: None,
                config_prompt: "{h}$",
                enable: None,
                paging_off: None,
                enter: None,
                exit: None,
                save: None,
                config_anywhere: true,
                ..ios
            },
            other => panic!("no router shape for platform {other}"),
        }
    }
}

/// What a device saw, for tests to assert on.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// The auth method of each login that succeeded (`password`, `keyboard-interactive`).
    pub logins: Vec<&'static str>,
    pub failed_logins: u32,
    pub exec_refused: u32,
    /// Every line the CLI executed (secrets excluded), in order.
    pub lines: Vec<String>,
    /// Configuration in effect (what `show running-config` lists after its fixed part).
    pub running: Vec<String>,
    pub saved: Vec<String>,
    pub interrupts: u32,
}

/// One device's settings.
#[derive(Debug, Clone)]
pub struct DeviceConfig {
    pub hostname: String,
    pub shape: Shape,
    pub user: String,
    pub password: String,
    pub secret: String,
    /// Split every write into small packets with a pause between them.
    pub slow: bool,
    /// Lines per page while paging is on.
    pub page: usize,
}

impl DeviceConfig {
    pub fn new(platform: &str, hostname: &str) -> DeviceConfig {
        DeviceConfig {
            hostname: hostname.to_string(),
            shape: Shape::of(platform),
            user: "admin".into(),
            password: "lab-pass".into(),
            secret: "en-secret".into(),
            slow: false,
            page: 20,
        }
    }

    pub fn slow(mut self) -> DeviceConfig {
        self.slow = true;
        self
    }
}

/// A running simulated device.
pub struct Device {
    pub addr: SocketAddr,
    pub config: DeviceConfig,
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl Device {
    /// Starts a device listening on this process's loopback address.
    pub async fn start(config: DeviceConfig) -> Device {
        let listener = TcpListener::bind((net::addr(), 0)).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Seen::default()));
        let server = Arc::new(server_config());
        let dev = Arc::new(DeviceShared {
            config: config.clone(),
            seen: seen.clone(),
        });
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let _ = socket.set_nodelay(true);
                let handler = Conn {
                    dev: dev.clone(),
                    input: None,
                    pty: false,
                };
                let server = server.clone();
                tokio::spawn(async move {
                    if let Ok(session) = server::run_stream(server, socket, handler).await {
                        let _ = session.await;
                    }
                });
            }
        });
        Device {
            addr,
            config,
            seen,
            task,
        }
    }

    pub fn seen(&self) -> Seen {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn server_config() -> server::Config {
    let mut seed = [0u8; 32];
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut seed))
        .expect("random seed for the host key");
    let key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    server::Config {
        keys: vec![key],
        methods: MethodSet::from(&[MethodKind::Password, MethodKind::KeyboardInteractive][..]),
        auth_rejection_time: Duration::from_millis(10),
        auth_rejection_time_initial: Some(Duration::ZERO),
        inactivity_timeout: Some(Duration::from_secs(120)),
        nodelay: true,
        ..server::Config::default()
    }
}

struct DeviceShared {
    config: DeviceConfig,
    seen: Arc<Mutex<Seen>>,
}

struct Conn {
    dev: Arc<DeviceShared>,
    input: Option<mpsc::UnboundedSender<Vec<u8>>>,
    pty: bool,
}

impl Conn {
    fn login(&self, user: &str, password: &str, method: &'static str) -> Auth {
        let cfg = &self.dev.config;
        let mut seen = self.dev.seen.lock().unwrap();
        if user == cfg.user && password == cfg.password {
            seen.logins.push(method);
            Auth::Accept
        } else {
            seen.failed_logins += 1;
            Auth::reject()
        }
    }
}

impl server::Handler for Conn {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        Ok(self.login(user, password, "password"))
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        response: Option<server::Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        let Some(mut response) = response else {
            return Ok(Auth::Partial {
                name: "".into(),
                instructions: "".into(),
                prompts: vec![("Password: ".into(), false)].into(),
            });
        };
        let answer = response
            .next()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        Ok(self.login(user, &answer, "keyboard-interactive"))
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        // The CLI reads through `data` and writes through the session's handle; a kept but
        // unread channel would fill up and stall the connection.
        drop(channel);
        reply.accept().await;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.pty = true;
        session.channel_success(channel)
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.dev.seen.lock().unwrap().exec_refused += 1;
        session.channel_failure(channel)
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if !self.pty || self.input.is_some() {
            return session.channel_failure(channel);
        }
        session.channel_success(channel)?;
        let (tx, rx) = mpsc::unbounded_channel();
        self.input = Some(tx);
        let out = Out {
            handle: session.handle(),
            channel,
            slow: self.dev.config.slow,
        };
        let cli = Cli::new(self.dev.config.clone(), self.dev.seen.clone());
        tokio::spawn(cli.run(rx, out));
        Ok(())
    }

    async fn data(
        &mut self,
        _channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(tx) = &self.input {
            let _ = tx.send(data.to_vec());
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        _channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.input = None;
        Ok(())
    }
}

struct Out {
    handle: server::Handle,
    channel: ChannelId,
    slow: bool,
}

impl Out {
    async fn send(&self, text: &str) -> bool {
        if text.is_empty() {
            return true;
        }
        if !self.slow {
            return self
                .handle
                .data(self.channel, text.as_bytes().to_vec())
                .await
                .is_ok();
        }
        for piece in text.as_bytes().chunks(8) {
            if self
                .handle
                .data(self.channel, piece.to_vec())
                .await
                .is_err()
            {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        true
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    User,
    Privileged,
    Config,
}

#[derive(Debug)]
enum Wait {
    /// Reading a command line.
    Line,
    /// Reading the enable secret (not echoed); tries so far.
    Secret(u32),
    /// Waiting for the answer to `save`'s question.
    SaveQuestion,
    /// A command that runs until Ctrl-C.
    Hung,
    /// The pager is showing; these lines are still to come.
    More(Vec<String>),
}

/// The device's CLI: input bytes in, output text out. Kept apart from the SSH plumbing so
/// the logic reads as the device's behaviour.
struct Cli {
    cfg: DeviceConfig,
    seen: Arc<Mutex<Seen>>,
    mode: Mode,
    wait: Wait,
    paging: bool,
    line: String,
    after_cr: bool,
    candidate: Vec<String>,
}

impl Cli {
    fn new(cfg: DeviceConfig, seen: Arc<Mutex<Seen>>) -> Cli {
        let mode = if cfg.shape.user_prompt.is_some() {
            Mode::User
        } else {
            Mode::Privileged
        };
        Cli {
            cfg,
            seen,
            mode,
            wait: Wait::Line,
            paging: true,
            line: String::new(),
            after_cr: false,
            candidate: Vec::new(),
        }
    }

    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Vec<u8>>, out: Out) {
        let banner = format!("\r\n{} simulated device\r\n\r\n", self.cfg.hostname);
        if !out.send(&banner).await || !self.send_prompt(&out).await {
            return;
        }
        while let Some(bytes) = rx.recv().await {
            for text in self.input(&bytes) {
                if text == PROMPT {
                    if !self.send_prompt(&out).await {
                        return;
                    }
                } else if !out.send(&text).await {
                    return;
                }
            }
        }
    }

    fn prompt(&self) -> String {
        let shape = &self.cfg.shape;
        let p = match self.mode {
            Mode::User => shape.user_prompt.unwrap_or(""),
            Mode::Privileged => shape.privileged_prompt.or(shape.user_prompt).unwrap_or(""),
            Mode::Config => shape.config_prompt,
        };
        p.replace("{h}", &self.cfg.hostname)
    }

    /// Sends the prompt; in slow mode in two packets, so the client sees half a prompt first.
    async fn send_prompt(&self, out: &Out) -> bool {
        let mut text = String::new();
        if let (Mode::Config, Some(header)) = (self.mode, self.cfg.shape.config_header) {
            text.push_str(header);
            text.push_str("\r\n");
        }
        text.push_str(&self.prompt());
        if out.slow {
            let cut = text.len() / 2;
            let cut = (0..=cut)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            out.send(&text[..cut]).await && out.send(&text[cut..]).await
        } else {
            out.send(&text).await
        }
    }

    fn input(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        for &b in bytes {
            self.byte(b, &mut out);
        }
        out
    }

    fn byte(&mut self, b: u8, out: &mut Vec<String>) {
        match &mut self.wait {
            Wait::Hung => {
                if b == 3 {
                    self.seen.lock().unwrap().interrupts += 1;
                    self.wait = Wait::Line;
                    out.push("^C\r\n".into());
                    out.push(PROMPT.into());
                }
                return;
            }
            Wait::More(rest) => {
                let rest = std::mem::take(rest);
                out.push(self.erase_pager());
                match b {
                    b' ' => self.page(rest, out),
                    b'\r' | b'\n' if rest.len() > 1 => {
                        let mut rest = rest;
                        let first = rest.remove(0);
                        out.push(format!("{first}\r\n"));
                        out.push(self.cfg.shape.pager.into());
                        self.wait = Wait::More(rest);
                    }
                    b'\r' | b'\n' => self.page(rest, out),
                    _ => {
                        self.wait = Wait::Line;
                        out.push(PROMPT.into());
                    }
                }
                return;
            }
            _ => {}
        }
        match b {
            b'\r' | b'\n' => {
                if b == b'\n' && self.after_cr {
                    self.after_cr = false;
                    return;
                }
                self.after_cr = b == b'\r';
                let line = std::mem::take(&mut self.line);
                if !matches!(self.wait, Wait::Secret(_)) {
                    out.push("\r\n".into());
                }
                self.execute(line, out);
            }
            3 => {
                self.line.clear();
                self.wait = Wait::Line;
                out.push("^C\r\n".into());
                out.push(PROMPT.into());
            }
            0x20..=0x7e => {
                self.after_cr = false;
                self.line.push(b as char);
                if !matches!(self.wait, Wait::Secret(_)) {
                    out.push((b as char).to_string());
                }
            }
            _ => {}
        }
    }

    fn erase_pager(&self) -> String {
        let n = self.cfg.shape.pager.len();
        match self.cfg.shape.erase {
            Erase::Backspaces => format!("{0}{1}{0}", "\u{8}".repeat(n), " ".repeat(n)),
            Erase::ClearLine => "\r\u{1b}[K".into(),
            Erase::CursorLeft => format!("\u{1b}[{n}D{}\u{1b}[{n}D", " ".repeat(n)),
        }
    }

    /// Shows `lines`, a page at a time while paging is on.
    fn page(&mut self, mut lines: Vec<String>, out: &mut Vec<String>) {
        if self.paging && lines.len() > self.cfg.page {
            let rest = lines.split_off(self.cfg.page);
            for l in lines {
                out.push(format!("{l}\r\n"));
            }
            out.push(self.cfg.shape.pager.into());
            self.wait = Wait::More(rest);
            return;
        }
        for l in lines {
            out.push(format!("{l}\r\n"));
        }
        self.wait = Wait::Line;
        out.push(PROMPT.into());
    }

    fn invalid(&self, cmd: &str) -> String {
        self.cfg.shape.invalid.replace("{cmd}", cmd)
    }

    fn execute(&mut self, line: String, out: &mut Vec<String>) {
        if let Wait::Secret(tries) = self.wait {
            if line == self.cfg.secret {
                self.mode = Mode::Privileged;
                self.wait = Wait::Line;
                out.push("\r\n".into());
                out.push(PROMPT.into());
            } else if tries < 2 {
                self.wait = Wait::Secret(tries + 1);
                out.push("\r\nPassword: ".into());
            } else {
                self.wait = Wait::Line;
                out.push("\r\n% Bad secrets\r\n\r\n".into());
                out.push(PROMPT.into());
            }
            return;
        }
        if let Wait::SaveQuestion = self.wait {
            self.wait = Wait::Line;
            if !line.trim().eq_ignore_ascii_case("n") {
                self.save(out);
            }
            out.push(PROMPT.into());
            return;
        }
        let cmd = line.trim().to_string();
        if !cmd.is_empty() {
            self.seen.lock().unwrap().lines.push(cmd.clone());
        }
        let shape = self.cfg.shape.clone();
        let is = |c: Option<&str>| c.is_some_and(|c| c == cmd);
        if cmd.is_empty() {
        } else if cmd == "hang" {
            out.push("Type escape sequence to abort.\r\n".into());
            self.wait = Wait::Hung;
            return;
        } else if is(shape.paging_off) {
            self.paging = false;
            if shape.platform == "huawei_vrp" {
                out.push("Info: The configuration takes effect on the current user terminal interface only.\r\n".into());
            }
        } else if shape.quiet.contains(&cmd.as_str()) {
        } else if cmd == shape.version_cmd {
            out.push(format!(
                "{} simulated software, Version 1.0\r\n{} uptime is 1 day\r\n",
                shape.platform, self.cfg.hostname
            ));
        } else if cmd == shape.running_cmd {
            let lines = self.running();
            self.page(lines, out);
            return;
        } else if self.mode == Mode::User && is(shape.enable) {
            out.push("Password: ".into());
            self.wait = Wait::Secret(0);
            return;
        } else if self.mode != Mode::Config && is(shape.enter) {
            self.mode = Mode::Config;
            if shape.platform == "juniper_junos" {
                out.push("Entering configuration mode\r\n\r\n".into());
            } else if shape.platform == "huawei_vrp" {
                out.push("Enter system view, return user view with Ctrl+Z.\r\n".into());
            }
        } else if self.mode == Mode::Config && is(shape.commit) {
            let candidate = std::mem::take(&mut self.candidate);
            self.seen.lock().unwrap().running.extend(candidate);
            if shape.commit_exits {
                out.push("commit complete\r\nExiting configuration mode\r\n\r\n".into());
                self.mode = Mode::User;
            }
        } else if self.mode == Mode::Config && is(shape.abort) {
            self.candidate.clear();
            if shape.abort_exits {
                self.mode = Mode::Privileged;
            } else {
                out.push("load complete\r\n\r\n".into());
            }
        } else if self.mode == Mode::Config && is(shape.exit) {
            self.candidate.clear();
            self.mode = if shape.user_prompt.is_some() && shape.enable.is_none() {
                Mode::User
            } else {
                Mode::Privileged
            };
            if shape.platform == "juniper_junos" {
                out.push("Exiting configuration mode\r\n\r\n".into());
            }
        } else if self.mode != Mode::Config && is(shape.save) {
            if let Some(question) = shape.save_question {
                out.push(question.into());
                self.wait = Wait::SaveQuestion;
                return;
            }
            self.save(out);
        } else if self.mode == Mode::Config || (shape.config_anywhere && cmd.starts_with('/')) {
            let word = cmd
                .trim_start_matches('/')
                .split_whitespace()
                .next()
                .unwrap_or("");
            if ["frobnicate", "bogus"].contains(&word) {
                out.push(self.invalid(&cmd));
            } else if shape.commit.is_some() {
                self.candidate.push(cmd);
            } else {
                self.seen.lock().unwrap().running.push(cmd);
            }
        } else {
            out.push(self.invalid(&cmd));
        }
        out.push(PROMPT.into());
    }

    fn save(&mut self, out: &mut Vec<String>) {
        let mut seen = self.seen.lock().unwrap();
        seen.saved = seen.running.clone();
        out.push(format!("\r\n{}\r\n", self.cfg.shape.save_reply));
    }

    fn running(&self) -> Vec<String> {
        let mut lines = vec![
            "Building configuration...".to_string(),
            String::new(),
            "!".into(),
            format!("hostname {}", self.cfg.hostname),
            "!".into(),
        ];
        for i in 0..24 {
            lines.push(format!("interface Ethernet0/{i}"));
            lines.push(" shutdown".into());
        }
        lines.extend(self.seen.lock().unwrap().running.iter().cloned());
        lines.push("end".into());
        lines
    }
}

/// A marker in the CLI's output list: "send the prompt here".
const PROMPT: &str = "\u{0}prompt";
