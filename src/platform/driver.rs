//! A prompt-driven CLI session over any byte stream: an SSH channel's PTY shell (a russh
//! channel becomes one with `Channel::into_stream()`), or anything else that reads and
//! writes. The session sends a line, reads until the device's prompt comes back (answering
//! its pager on the way), and returns what a person would have read between the two, without
//! the echoed command, the prompt and the terminal's control sequences.
//!
//! Every wait has a deadline on tokio's clock. A command that outlives its timeout is
//! interrupted with Ctrl-C and the session waits for the prompt again, so the next task on
//! the host still has a usable shell; only a device that does not come back breaks the
//! session.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::terminal::Screen;
use super::{Mode, Pattern, Platform};
use crate::outcome::{ErrorKind, TaskError};
use crate::transport::{Output, RunError};

/// Bounds of one session.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// Output kept per command; the rest is counted and noted at the end.
    pub max_output: usize,
    /// How long to wait for the prompt after Ctrl-C before the session is given up.
    pub interrupt_wait: Duration,
    /// How long to wait for a prompt on open before nudging the device with a newline.
    pub open_quiet: Duration,
}

impl Default for SessionLimits {
    fn default() -> SessionLimits {
        SessionLimits {
            max_output: 4 << 20,
            interrupt_wait: Duration::from_secs(5),
            open_quiet: Duration::from_millis(500),
        }
    }
}

/// A command, an enable or a config step that failed, with what the device printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    pub kind: ErrorKind,
    pub message: String,
    /// The cleaned output up to the failure.
    pub output: String,
}

impl CliError {
    fn new(kind: ErrorKind, message: impl Into<String>, output: impl Into<String>) -> CliError {
        CliError {
            kind,
            message: message.into(),
            output: output.into(),
        }
    }

    pub fn task_error(&self) -> TaskError {
        TaskError::new(self.kind, self.message.clone())
    }

    /// The engine's form: a failure pattern is `nonzero_exit` without an exit code.
    pub fn into_run_error(self) -> RunError {
        RunError {
            error: TaskError::new(self.kind, self.message),
            partial: Output {
                exit_code: None,
                stdout: self.output,
                stderr: String::new(),
                lines: Vec::new(),
            },
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

/// One line sent in config mode and what the device answered to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineReply {
    pub line: String,
    pub response: String,
}

/// What a config session did, line by line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigReply {
    pub lines: Vec<LineReply>,
    pub commit: Option<LineReply>,
    pub save: Option<LineReply>,
}

impl ConfigReply {
    /// Each line and its answer, as a transcript for the task's stdout.
    pub fn transcript(&self) -> String {
        let steps = self.lines.iter().chain(&self.commit).chain(&self.save);
        let mut out = String::new();
        for step in steps {
            out.push_str(&step.line);
            out.push('\n');
            if !step.response.is_empty() {
                out.push_str(&step.response);
                out.push('\n');
            }
        }
        out
    }
}

/// A config session that stopped: what was done, and why it stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFailure {
    pub reply: ConfigReply,
    pub error: CliError,
}

#[derive(Debug, Clone, Copy)]
enum Stop {
    Prompt(Mode),
    /// One of the extra patterns a caller waits for (a password prompt).
    Extra,
}

enum ReadError {
    Timeout,
    Closed(String),
}

/// An open shell on one device.
pub struct CliSession<S> {
    stream: S,
    platform: Arc<Platform>,
    limits: SessionLimits,
    screen: Screen,
    mode: Mode,
    prompt: String,
    /// Why the session can no longer be used.
    broken: Option<String>,
    buf: Vec<u8>,
}

impl<S> std::fmt::Debug for CliSession<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CliSession")
            .field("platform", &self.platform.name)
            .field("mode", &self.mode)
            .field("prompt", &self.prompt)
            .finish()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> CliSession<S> {
    /// Waits for the device's first prompt (sending a newline if it shows none on its own),
    /// then runs the platform's on-open commands.
    pub async fn open(
        stream: S,
        platform: Arc<Platform>,
        limits: SessionLimits,
        timeout: Duration,
    ) -> Result<CliSession<S>, CliError> {
        let mut session = CliSession {
            stream,
            screen: Screen::new(limits.max_output),
            platform,
            limits,
            mode: Mode::User,
            prompt: String::new(),
            broken: None,
            buf: vec![0; 16 << 10],
        };
        let deadline = Instant::now() + timeout;
        let quiet = (Instant::now() + limits.open_quiet).min(deadline);
        let first = match session.read_until(None, quiet, None, false).await {
            Err(ReadError::Timeout) => {
                let newline = session.platform.newline.clone();
                session.send(&newline).await?;
                session.read_until(None, deadline, None, false).await
            }
            other => other,
        };
        match first {
            Ok(stop) => session.arrived(stop),
            Err(ReadError::Timeout) => {
                return Err(CliError::new(
                    ErrorKind::Protocol,
                    format!(
                        "no prompt of platform `{}` within {}; the device's last line was `{}`",
                        session.platform.name,
                        humantime::format_duration(timeout),
                        session.screen.current()
                    ),
                    "",
                ))
            }
            Err(ReadError::Closed(why)) => return Err(session.closed(why)),
        }
        session.screen.take();
        for command in session.platform.on_open.clone() {
            session.run(&command, timeout).await.map_err(|e| {
                // At connect time: a refused set-up command is the session's failure, not a
                // task's exit.
                let kind = match e.kind {
                    ErrorKind::NonzeroExit => ErrorKind::Protocol,
                    other => other,
                };
                CliError::new(
                    kind,
                    format!("on-open command `{command}`: {}", e.message),
                    e.output,
                )
            })?;
        }
        Ok(session)
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The last prompt the device showed.
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    /// Runs one command and returns its clean output; a line that matches a failure pattern
    /// fails it with that line.
    pub async fn run(&mut self, command: &str, timeout: Duration) -> Result<String, CliError> {
        self.step(command, timeout, false).await
    }

    /// Enters privileged mode, answering the password prompt with `secret`. Nothing to do
    /// when the session is already there.
    pub async fn enable(
        &mut self,
        secret: Option<&str>,
        timeout: Duration,
    ) -> Result<(), CliError> {
        self.usable()?;
        if self.mode != Mode::User {
            return Ok(());
        }
        let Some(enable) = self.platform.enable.clone() else {
            return Err(CliError::new(
                ErrorKind::Protocol,
                format!("platform `{}` has no enable command", self.platform.name),
                "",
            ));
        };
        let deadline = Instant::now() + timeout;
        self.screen.take();
        self.send_line(&enable.command).await?;
        let prompt = Some(&enable.password_prompt);
        let mut stop = self
            .wait(&enable.command, deadline, timeout, prompt)
            .await?;
        let mut asked = 0;
        while let Stop::Extra = stop {
            asked += 1;
            let answer = match (secret, asked) {
                (None, _) => {
                    self.screen.take();
                    let _ = self.wait_after_interrupt().await;
                    return Err(CliError::new(
                        ErrorKind::AuthFailed,
                        "the device asks for an enable secret and none is set (`enable_secret`)",
                        "",
                    ));
                }
                (Some(secret), 1) => secret,
                // Asked again: the secret was wrong. Empty answers end the device's retries.
                (Some(_), 2..=3) => "",
                (Some(_), _) => {
                    let _ = self.wait_after_interrupt().await;
                    return Err(CliError::new(
                        ErrorKind::AuthFailed,
                        "the device did not accept the enable secret",
                        "",
                    ));
                }
            };
            self.screen.commit_current();
            self.send_line(answer).await?;
            stop = self.wait("", deadline, timeout, prompt).await?;
        }
        // The loop above ends on a prompt.
        let mode = match stop {
            Stop::Prompt(mode) => mode,
            Stop::Extra => self.mode,
        };
        let (lines, _) = self.screen.take();
        let said = lines
            .iter()
            .rev()
            .map(|l| l.trim())
            .find(|l| !l.is_empty() && *l != enable.command && !enable.password_prompt.is_match(l))
            .unwrap_or("");
        let said = match secret {
            Some(s) if !s.is_empty() => said.replace(s, "********"),
            _ => said.to_string(),
        };
        if mode == Mode::User {
            let why = if said.is_empty() {
                format!("it stayed at `{}`", self.prompt)
            } else {
                format!("the device answered `{said}`")
            };
            let message = if asked > 0 {
                format!("the device did not accept the enable secret: {why}")
            } else {
                format!("`{}` was refused: {why}", enable.command)
            };
            return Err(CliError::new(ErrorKind::AuthFailed, message, ""));
        }
        Ok(())
    }

    /// Sends `lines` in config mode: enters it, stops at the first line the device refuses,
    /// commits (or drops the candidate after a failure) where the platform commits, leaves
    /// config mode, and saves when asked to and nothing failed.
    pub async fn configure(
        &mut self,
        lines: &[String],
        save: bool,
        timeout: Duration,
    ) -> Result<ConfigReply, ConfigFailure> {
        let mut reply = ConfigReply::default();
        let fail = |reply: ConfigReply, error: CliError| ConfigFailure { reply, error };
        let Some(config) = self.platform.config.clone() else {
            let message = format!("platform `{}` has no config mode", self.platform.name);
            return Err(fail(reply, CliError::new(ErrorKind::Protocol, message, "")));
        };
        if self.mode == Mode::User && self.platform.prompts.privileged.is_some() {
            let message = "config mode needs privileged mode first: set `enable: true` \
                           (and the host's `enable_secret`)";
            return Err(fail(reply, CliError::new(ErrorKind::Protocol, message, "")));
        }
        if let Some(enter) = &config.enter {
            if let Err(e) = self.step(enter, timeout, false).await {
                return Err(fail(reply, e));
            }
            if self.mode != Mode::Config {
                let message = format!(
                    "`{enter}` did not enter config mode: the device is at `{}`",
                    self.prompt
                );
                return Err(fail(reply, CliError::new(ErrorKind::Protocol, message, "")));
            }
        }
        let mut error = None;
        for (i, line) in lines.iter().enumerate() {
            match self.step(line, timeout, false).await {
                Ok(response) => reply.lines.push(LineReply {
                    line: line.clone(),
                    response,
                }),
                Err(e) => {
                    reply.lines.push(LineReply {
                        line: line.clone(),
                        response: e.output.clone(),
                    });
                    let message = format!("config line {} `{line}`: {}", i + 1, e.message);
                    error = Some(CliError::new(e.kind, message, reply.transcript()));
                    break;
                }
            }
        }
        if let (None, Some(commit)) = (&error, &config.commit) {
            match self.step(commit, timeout, true).await {
                Ok(response) => {
                    reply.commit = Some(LineReply {
                        line: commit.clone(),
                        response,
                    })
                }
                Err(e) => {
                    reply.commit = Some(LineReply {
                        line: commit.clone(),
                        response: e.output.clone(),
                    });
                    error = Some(CliError::new(
                        e.kind,
                        format!("`{commit}`: {}", e.message),
                        reply.transcript(),
                    ));
                }
            }
        }
        if let (Some(_), Some(abort)) = (&error, &config.abort) {
            if self.broken.is_none() && self.mode == Mode::Config {
                let _ = self.step(abort, timeout, true).await;
            }
        }
        if let Some(exit) = &config.exit {
            if self.broken.is_none() && self.mode == Mode::Config {
                if let Err(e) = self.step(exit, timeout, true).await {
                    error.get_or_insert(e);
                }
            }
        }
        if let (None, true, Some(command)) = (&error, save, &config.save) {
            match self.step(command, timeout, true).await {
                Ok(response) => {
                    reply.save = Some(LineReply {
                        line: command.clone(),
                        response,
                    })
                }
                Err(e) => {
                    let message = format!("`{command}`: {}", e.message);
                    error = Some(CliError::new(e.kind, message, e.output));
                }
            }
        }
        match error {
            None => Ok(reply),
            Some(error) => Err(fail(reply, error)),
        }
    }

    /// Shuts the stream down (the device sees the channel close).
    pub async fn close(mut self) {
        let _ = self.stream.shutdown().await;
    }

    /// One exchange: send `command`, read to the prompt, clean, check the failure patterns.
    async fn step(
        &mut self,
        command: &str,
        timeout: Duration,
        answers: bool,
    ) -> Result<String, CliError> {
        self.usable()?;
        let deadline = Instant::now() + timeout;
        self.screen.take();
        self.send_line(command).await?;
        let stop = match self
            .read_until(Some(command), deadline, None, answers)
            .await
        {
            Ok(stop) => stop,
            Err(ReadError::Timeout) => return Err(self.interrupt(command, timeout).await),
            Err(ReadError::Closed(why)) => return Err(self.closed(why)),
        };
        self.arrived(stop);
        let (lines, dropped) = self.screen.take();
        let output = clean(lines, command, dropped);
        if let Some(line) = output.lines().find(|l| self.platform.is_failure(l)) {
            let message = format!("the device answered `{}`", line.trim());
            return Err(CliError::new(ErrorKind::NonzeroExit, message, output));
        }
        Ok(output)
    }

    /// Reads to a prompt or an extra pattern; a timeout interrupts, as in `step`.
    async fn wait(
        &mut self,
        sent: &str,
        deadline: Instant,
        timeout: Duration,
        extra: Option<&Pattern>,
    ) -> Result<Stop, CliError> {
        let sent = (!sent.is_empty()).then_some(sent);
        match self.read_until(sent, deadline, extra, false).await {
            Ok(stop) => {
                self.arrived(stop);
                Ok(stop)
            }
            Err(ReadError::Timeout) => Err(self.interrupt(sent.unwrap_or("enable"), timeout).await),
            Err(ReadError::Closed(why)) => Err(self.closed(why)),
        }
    }

    fn arrived(&mut self, stop: Stop) {
        if let Stop::Prompt(mode) = stop {
            self.mode = mode;
            self.prompt = self.screen.current();
        }
    }

    /// After a timeout: Ctrl-C, then the prompt again, or the session is given up.
    async fn interrupt(&mut self, command: &str, timeout: Duration) -> CliError {
        let waited = humantime::format_duration(timeout);
        let came_back = self.wait_after_interrupt().await;
        let (lines, dropped) = self.screen.take();
        let output = clean(lines, command, dropped);
        let message = if came_back {
            format!(
                "`{command}` gave no prompt within {waited}; interrupted with Ctrl-C, the session \
                 is back at `{}`",
                self.prompt
            )
        } else {
            let why = format!(
                "`{command}` gave no prompt within {waited} and none came back after Ctrl-C"
            );
            self.broken = Some(why.clone());
            why
        };
        CliError::new(ErrorKind::CommandTimeout, message, output)
    }

    async fn wait_after_interrupt(&mut self) -> bool {
        if self.write(b"\x03").await.is_err() {
            return false;
        }
        let deadline = Instant::now() + self.limits.interrupt_wait;
        match self.read_until(None, deadline, None, false).await {
            Ok(stop) => {
                self.arrived(stop);
                true
            }
            Err(_) => false,
        }
    }

    fn closed(&mut self, why: String) -> CliError {
        let message = format!("the device closed the session: {why}");
        self.broken = Some(message.clone());
        let (lines, dropped) = self.screen.take();
        CliError::new(ErrorKind::Protocol, message, clean(lines, "", dropped))
    }

    fn usable(&self) -> Result<(), CliError> {
        match &self.broken {
            None => Ok(()),
            Some(why) => Err(CliError::new(
                ErrorKind::Protocol,
                format!("the CLI session is no longer usable ({why})"),
                "",
            )),
        }
    }

    /// Reads until the line being written is a prompt (or matches `extra`), answering the
    /// pager, and, with `answers`, the platform's questions on the way.
    async fn read_until(
        &mut self,
        sent: Option<&str>,
        deadline: Instant,
        extra: Option<&Pattern>,
        answers: bool,
    ) -> Result<Stop, ReadError> {
        // A prompt counts only after the device has echoed the command: one that comes before
        // is left over from earlier (the answer to the newline that nudged a slow device).
        let command = sent.map(str::trim).filter(|c| !c.is_empty());
        let mut echoed = command.is_none() || !self.platform.echo;
        let mut checked = 0;
        loop {
            if let (false, Some(command)) = (echoed, command) {
                let lines = self.screen.lines();
                echoed = lines[checked..]
                    .iter()
                    .any(|l| l.trim_end().ends_with(command));
                checked = lines.len();
            }
            let current = self.screen.current();
            if !current.is_empty() {
                if extra.is_some_and(|p| p.is_match(&current)) {
                    return Ok(Stop::Extra);
                }
                if let Some(mode) = self.platform.prompts.mode_of(&current).filter(|_| echoed) {
                    return Ok(Stop::Prompt(mode));
                }
                let pager = self.platform.pager.as_ref();
                if let Some(pager) =
                    pager.filter(|p| p.patterns.iter().any(|p| p.is_match(&current)))
                {
                    let key = pager.answer.clone();
                    self.screen.clear_current();
                    self.write(key.as_bytes())
                        .await
                        .map_err(ReadError::Closed)?;
                    continue;
                }
                if answers {
                    let found = self
                        .platform
                        .answers
                        .iter()
                        .find(|a| a.prompt.is_match(&current));
                    if let Some(answer) = found.map(|a| a.answer.clone()) {
                        self.screen.commit_current();
                        let line = format!("{answer}{}", self.platform.newline);
                        self.write(line.as_bytes())
                            .await
                            .map_err(ReadError::Closed)?;
                        continue;
                    }
                }
            }
            let read = tokio::time::timeout_at(deadline, self.stream.read(&mut self.buf)).await;
            match read {
                Err(_) => return Err(ReadError::Timeout),
                Ok(Ok(0)) => return Err(ReadError::Closed("end of stream".into())),
                Ok(Ok(n)) => self.screen.feed(&self.buf[..n]),
                Ok(Err(e)) => return Err(ReadError::Closed(e.to_string())),
            }
        }
    }

    async fn send_line(&mut self, line: &str) -> Result<(), CliError> {
        let text = format!("{line}{}", self.platform.newline);
        self.send(&text).await
    }

    async fn send(&mut self, text: &str) -> Result<(), CliError> {
        match self.write(text.as_bytes()).await {
            Ok(()) => Ok(()),
            Err(why) => Err(self.closed(why)),
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .await
            .map_err(|e| e.to_string())?;
        self.stream.flush().await.map_err(|e| e.to_string())
    }
}

/// A command's output: its lines after the echoed command (and whatever came before it),
/// without blank lines around them, and with a note when some were not kept.
fn clean(mut lines: Vec<String>, command: &str, dropped: usize) -> String {
    let command = command.trim();
    let echo = lines
        .iter()
        .position(|l| !command.is_empty() && l.trim_end().ends_with(command));
    if let Some(echo) = echo {
        lines.drain(..=echo);
    }
    let start = lines.iter().position(|l| !l.trim().is_empty());
    let end = lines.iter().rposition(|l| !l.trim().is_empty());
    let mut out = match (start, end) {
        (Some(s), Some(e)) => lines[s..=e].join("\n"),
        _ => String::new(),
    };
    if dropped > 0 {
        out.push_str(&format!("\n[drover: {dropped} more bytes not kept]"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Platforms;
    use tokio::io::{duplex, DuplexStream};

    fn ios() -> Arc<Platform> {
        Platforms::shipped().get("cisco_ios").unwrap()
    }

    /// A scripted device on the other end of an in-memory pipe: for each line it reads, it
    /// writes the chunks that the script gives, one write each.
    fn device(
        script: Vec<(&'static str, Vec<&'static [u8]>)>,
        greeting: Vec<&'static [u8]>,
    ) -> DuplexStream {
        scripted(script, greeting, true)
    }

    /// `device`, and whether it answers Ctrl-C with its prompt.
    fn scripted(
        script: Vec<(&'static str, Vec<&'static [u8]>)>,
        greeting: Vec<&'static [u8]>,
        ctrl_c: bool,
    ) -> DuplexStream {
        let (client, mut server) = duplex(1 << 16);
        tokio::spawn(async move {
            for chunk in greeting {
                server.write_all(chunk).await.unwrap();
                tokio::task::yield_now().await;
            }
            let mut pending = Vec::new();
            let mut script = script.into_iter();
            let mut buf = [0u8; 1024];
            loop {
                let Ok(n @ 1..) = server.read(&mut buf).await else {
                    return;
                };
                pending.extend_from_slice(&buf[..n]);
                if let Some(i) = pending.iter().position(|&b| b == 3) {
                    pending.drain(..=i);
                    if ctrl_c {
                        server.write_all(b"^C\r\nr1#").await.unwrap();
                    }
                }
                while let Some(i) = pending.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=i).collect();
                    let line = String::from_utf8_lossy(&line).trim_end().to_string();
                    let Some((expect, reply)) = script.next() else {
                        return;
                    };
                    assert_eq!(line, expect);
                    for chunk in reply {
                        server.write_all(chunk).await.unwrap();
                        tokio::task::yield_now().await;
                    }
                }
            }
        });
        client
    }

    fn limits() -> SessionLimits {
        SessionLimits::default()
    }

    #[tokio::test]
    async fn a_prompt_split_across_reads_with_colours_is_found_and_the_output_is_clean() {
        let stream = device(
            vec![
                (
                    "terminal length 0",
                    vec![b"terminal length 0\r\n", b"r1", b">"],
                ),
                ("terminal width 511", vec![b"terminal width 511\r\nr1>"]),
                (
                    "show clock",
                    vec![
                        b"show cl",
                        b"ock\r\n",
                        b"\x1b[1m12:00:01.123 UTC\x1b[0m Mon Dec 1 2026\r\n",
                        b"\r\nr",
                        b"1",
                        b">",
                    ],
                ),
            ],
            vec![b"\r\nWelcome\r\n\r\nr1", b">"],
        );
        let mut s = CliSession::open(stream, ios(), limits(), Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(s.mode(), Mode::User);
        let out = s.run("show clock", Duration::from_secs(5)).await.unwrap();
        assert_eq!(out, "12:00:01.123 UTC Mon Dec 1 2026");
        assert_eq!(s.prompt(), "r1>");
    }

    #[tokio::test]
    async fn a_silent_device_is_nudged_with_a_newline() {
        tokio::time::pause();
        let stream = device(
            vec![
                ("", vec![b"\r\nr1#"]),
                ("terminal length 0", vec![b"terminal length 0\r\nr1#"]),
                ("terminal width 511", vec![b"terminal width 511\r\nr1#"]),
            ],
            vec![],
        );
        let s = CliSession::open(stream, ios(), limits(), Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(s.mode(), Mode::Privileged);
    }

    #[tokio::test]
    async fn a_prompt_left_over_from_the_nudge_does_not_end_the_next_command() {
        tokio::time::pause();
        let stream = device(
            vec![
                ("", vec![b"r1#"]),
                (
                    "terminal length 0",
                    vec![b"\r\nr1#", b"terminal length 0\r\n", b"r1#"],
                ),
                ("terminal width 511", vec![b"terminal width 511\r\nr1#"]),
                ("show clock", vec![b"show clock\r\n12:00\r\nr1#"]),
            ],
            vec![],
        );
        let mut s = CliSession::open(stream, ios(), limits(), Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(
            s.run("show clock", Duration::from_secs(5)).await.unwrap(),
            "12:00"
        );
    }

    #[tokio::test]
    async fn a_failure_pattern_fails_with_the_devices_line() {
        let stream = device(
            vec![
                ("terminal length 0", vec![b"terminal length 0\r\nr1#"]),
                ("terminal width 511", vec![b"terminal width 511\r\nr1#"]),
                (
                    "show bogus",
                    vec![b"show bogus\r\n          ^\r\n% Invalid input detected at '^' marker.\r\n\r\nr1#"],
                ),
            ],
            vec![b"r1#"],
        );
        let mut s = CliSession::open(stream, ios(), limits(), Duration::from_secs(5))
            .await
            .unwrap();
        let err = s
            .run("show bogus", Duration::from_secs(5))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::NonzeroExit);
        assert_eq!(
            err.message,
            "the device answered `% Invalid input detected at '^' marker.`"
        );
        let run = err.into_run_error();
        assert!(run.partial.stdout.contains("% Invalid input"));
    }

    #[tokio::test]
    async fn a_device_that_ignores_ctrl_c_ends_the_session() {
        tokio::time::pause();
        let stream = scripted(
            vec![
                ("terminal length 0", vec![b"terminal length 0\r\nr1#"]),
                ("terminal width 511", vec![b"terminal width 511\r\nr1#"]),
                (
                    "ping hang",
                    vec![b"ping hang\r\nType escape sequence to abort.\r\n"],
                ),
            ],
            vec![b"r1#"],
            false,
        );
        // The scripted device ends after the script; a real one answers Ctrl-C: here nothing
        // answers, so the session must give up after `interrupt_wait`.
        let mut s = CliSession::open(stream, ios(), limits(), Duration::from_secs(5))
            .await
            .unwrap();
        let err = s
            .run("ping hang", Duration::from_secs(2))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::CommandTimeout);
        assert!(err.message.contains("none came back after Ctrl-C"), "{err}");
        assert_eq!(err.output, "Type escape sequence to abort.");
        let again = s
            .run("show clock", Duration::from_secs(2))
            .await
            .unwrap_err();
        assert!(again.message.contains("no longer usable"), "{again}");
    }

    #[tokio::test]
    async fn ctrl_c_brings_the_prompt_back_and_the_next_command_runs() {
        tokio::time::pause();
        let stream = device(
            vec![
                ("terminal length 0", vec![b"terminal length 0\r\nr1#"]),
                ("terminal width 511", vec![b"terminal width 511\r\nr1#"]),
                ("ping hang", vec![b"ping hang\r\n!!!!"]),
                ("show clock", vec![b"show clock\r\n12:00\r\nr1#"]),
            ],
            vec![b"r1#"],
        );
        let mut s = CliSession::open(stream, ios(), limits(), Duration::from_secs(5))
            .await
            .unwrap();
        let err = s
            .run("ping hang", Duration::from_secs(8))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::CommandTimeout);
        assert_eq!(
            err.message,
            "`ping hang` gave no prompt within 8s; interrupted with Ctrl-C, the session is back \
             at `r1#`"
        );
        assert_eq!(err.output, "!!!!^C");
        assert_eq!(
            s.run("show clock", Duration::from_secs(5)).await.unwrap(),
            "12:00"
        );
    }

    #[test]
    fn clean_drops_the_echo_and_blank_edges() {
        let lines = ["show ip", "", "a", "", "b", ""].map(String::from).to_vec();
        assert_eq!(clean(lines, "show ip", 0), "a\n\nb");
        // A prompt left over from a nudge, then the echo behind it.
        let lines = ["", "r1>show ip", "a"].map(String::from).to_vec();
        assert_eq!(clean(lines, "show ip", 0), "a");
        let lines = vec!["x".to_string()];
        assert_eq!(
            clean(lines, "show ip", 3),
            "x\n[drover: 3 more bytes not kept]"
        );
    }
}
