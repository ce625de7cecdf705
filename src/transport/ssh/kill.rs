//! Stopping a remote command drover gave up on: its command timeout passed, or the host was
//! cut short (host timeout, a second Ctrl-C) while it ran. Closing an ssh channel does not
//! stop a command that has no terminal, so both backends run [`script`] on a second channel
//! of the same connection and report what it killed.
//!
//! What the command started is found two ways. POSIX: every command sshd starts for a
//! connection is a child of the same sshd process (the script's `$PPID`) and leads its own
//! process group, so the groups of the script's siblings are the command's (one command runs
//! per host at a time). Linux (`/proc`): a command whose shell has exited leaves its
//! background children (`sleep 600 &`, `nohup ... &`) reparented, out of reach of the
//! first way, and those are what keeps the channel open. They still carry the connection's
//! `SSH_CONNECTION` in their environment, and their session (the one sshd made for the
//! command, or one they made with `setsid`) began after the command did; a session that
//! began earlier belongs to an earlier task and is spared, and so is the script's own.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinSet;

/// How long past a command's timeout drover waits for the kill and the last of the output,
/// on one deadline shared by both: the kill is a channel round trip (open, run, answer),
/// which a slow link to a loaded host needs most of a second for, twice.
pub(super) const KILL_GRACE: Duration = Duration::from_secs(2);

/// How long the end of a run waits for the kills of hosts cut short mid-command: the kill's
/// own grace, and a moment to end the connection after it.
pub(super) const STOP_WAIT: Duration = Duration::from_secs(3);

/// How much earlier than drover's own clock says a session may have begun and still count
/// as the command's: drover's measure of how long the command has run, from just before it
/// asked for the command's channel, is compared with the host's clock of when the kill's
/// shell started, and the two requests did not take exactly the same time to arrive.
const EARLIER_SLACK_MS: u128 = 250;

/// The kill script. `d` is how long the command has run by drover's clock, `s` the slack.
/// No line starts with `killed ` or is the end marker: a device that echoes the line it
/// refused must not be read as having killed anything.
const SCRIPT: &str = r#"
if procs=$(ps -A -o pid= -o ppid= -o pgid= 2>/dev/null); then
  for g in $(echo "$procs" | awk -v pp="$PPID" -v me="$$" '$2 == pp && $1 != me { print $1 }'); do
    kill -9 -"$g" 2>/dev/null && echo "$procs" | awk -v g="$g" '$3 == g { print "killed", $1 }'
  done
fi
if [ -n "$SSH_CONNECTION" ] && read -r x 2>/dev/null </proc/$$/stat; then
  t=$(getconf CLK_TCK 2>/dev/null) || t=100
  set -- ${x##*") "}; me=$4; from=$((${20} - (d + s) * t / 1000)); n=0
  while [ $n -lt 3 ]; do
    n=$((n + 1)); k=0
    for p in $(for f in /proc/[0-9]*/stat; do
        read -r x 2>/dev/null <"$f" && set -- ${x##*") "} && echo "${f%/stat} $4 ${20}"
      done | awk -v me="$me" -v from="$from" '
        { pid[NR] = $1; sid[NR] = $2; if (!($2 in first) || $3 < first[$2]) first[$2] = $3 }
        END { for (i = 1; i <= NR; i++) if (sid[i] != me && sid[i] != 0 && first[sid[i]] >= from) print pid[i] }'); do
      if tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -qxF "SSH_CONNECTION=$SSH_CONNECTION" &&
        kill -9 "${p#/proc/}" 2>/dev/null; then echo "killed ${p#/proc/}"; k=1; fi
    done
    [ $k = 1 ] || break
  done
fi
echo "drover-kill-$((6 * 7))"
"#;

/// The script for a command that has run `running_for`.
pub(super) fn script(running_for: Duration) -> String {
    format!("d={} s={EARLIER_SLACK_MS}{SCRIPT}", running_for.as_millis())
}

/// The script's output: the processes it killed, or why it did not run (a device CLI
/// refuses the line, so there is no end marker). A POSIX shell without `ps` or `/proc`
/// ends normally, having found nothing.
pub(super) fn parse(stdout: &str) -> Result<Vec<u32>, String> {
    if !stdout.lines().any(|l| l == "drover-kill-42") {
        return Err("no POSIX shell at the other end".to_string());
    }
    let mut pids: Vec<u32> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("killed ")?.trim().parse().ok())
        .collect();
    pids.sort_unstable();
    pids.dedup();
    Ok(pids)
}

/// What a kill did, for the report.
#[derive(Debug)]
pub(super) struct Stopped {
    /// The processes killed, or why the far end could not kill.
    pub killed: Result<Vec<u32>, String>,
    /// The command's channel closed within the grace: nothing holds its output any more.
    pub ended: bool,
    /// The exit status of the command's shell, when it came before the timeout (what it
    /// left running kept the channel open).
    pub shell_exit: Option<i32>,
}

impl Stopped {
    /// Whether the connection must be closed: the far end could not kill, or the channel
    /// stayed open after the kill (something drover could not find still holds it).
    pub fn close_connection(&self) -> bool {
        self.killed.is_err() || !self.ended
    }

    /// The report's message for a command timeout.
    pub fn timeout_message(&self, timeout: Duration) -> String {
        let mut text = format!("timed out after {}", humantime::format_duration(timeout));
        if let Some(code) = self.shell_exit {
            text.push_str(&format!(
                " (its shell had exited with status {code}, but what it left running kept the output open)"
            ));
        }
        text.push_str("; ");
        text.push_str(&match (&self.killed, self.ended) {
            (Ok(pids), true) if pids.is_empty() => {
                "the remote command ended as drover went to kill it".to_string()
            }
            (Ok(pids), true) => format!("drover killed the remote command ({})", processes(pids)),
            (Ok(pids), false) if pids.is_empty() => {
                "drover found no remote process of the command to kill and its output stayed \
                 open, so the connection was closed; what holds it may still run"
                    .to_string()
            }
            (Ok(pids), false) => format!(
                "drover killed {}, but the output stayed open, so the connection was closed; \
                 what holds it may still run",
                processes(pids)
            ),
            (Err(why), _) => format!(
                "the connection was closed to end the command, which drover could not confirm \
                 (the far end could not kill it: {why})"
            ),
        });
        text
    }
}

/// `1 process: 4711` / `3 processes: 1, 2, 3` (at most ten pids named).
fn processes(pids: &[u32]) -> String {
    let mut named: Vec<String> = pids.iter().take(10).map(u32::to_string).collect();
    if pids.len() > 10 {
        named.push("…".to_string());
    }
    let noun = if pids.len() == 1 {
        "process"
    } else {
        "processes"
    };
    format!("{} {noun}: {}", pids.len(), named.join(", "))
}

/// Kills still under way for hosts that were cut short mid-command: a session dropped
/// with a command running starts its kill here, and the end of the run waits for them
/// (bounded), so the process does not exit before the kill was sent.
#[derive(Default)]
pub struct Stops(Mutex<JoinSet<()>>);

impl std::fmt::Debug for Stops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stops")
    }
}

impl Stops {
    /// Starts `stop` in the background; false (and `stop` dropped) outside a runtime.
    pub fn start<F>(&self, stop: F) -> bool
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // A long `drover watch` would otherwise keep every finished one.
        while set.try_join_next().is_some() {}
        set.spawn_on(stop, &runtime);
        true
    }

    /// Waits for the kills under way, at most `limit`; what is left then is abandoned.
    pub async fn wait(&self, limit: Duration) {
        let mut set = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        let _ =
            tokio::time::timeout(limit, async { while set.join_next().await.is_some() {} }).await;
    }
}

/// The transport's [`Stops`], shared with every session it opened.
pub type SharedStops = Arc<Stops>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kill_output_names_the_processes_and_a_refusal_is_no_kill() {
        assert_eq!(
            parse("killed 12\nkilled 7\nkilled 12\ndrover-kill-42\n"),
            Ok(vec![7, 12])
        );
        assert_eq!(parse("drover-kill-42\n"), Ok(vec![]));
        // A device that echoes what it refused.
        let echoed = format!("% Invalid input: {}", script(Duration::from_secs(1)));
        assert!(parse(&echoed).is_err());
        for line in script(Duration::from_secs(1)).lines() {
            assert!(
                !line.starts_with("killed") && line != "drover-kill-42",
                "{line}"
            );
        }
    }

    #[test]
    fn the_message_says_what_the_kill_did() {
        let t = Duration::from_secs(5);
        let stopped = |killed, ended, shell_exit| Stopped {
            killed,
            ended,
            shell_exit,
        };
        assert_eq!(
            stopped(Ok(vec![4, 5]), true, None).timeout_message(t),
            "timed out after 5s; drover killed the remote command (2 processes: 4, 5)"
        );
        let m = stopped(Ok(vec![9]), true, Some(0)).timeout_message(t);
        assert!(m.contains("shell had exited with status 0"), "{m}");
        assert!(m.contains("(1 process: 9)"), "{m}");
        let m = stopped(Ok(vec![]), false, None).timeout_message(t);
        assert!(
            m.contains("connection was closed") && m.contains("may still run"),
            "{m}"
        );
        assert!(stopped(Ok(vec![]), false, None).close_connection());
        assert!(!stopped(Ok(vec![1]), true, None).close_connection());
        let m = stopped(Err("no shell".into()), false, None).timeout_message(t);
        assert!(m.contains("could not confirm"), "{m}");
        assert!(!m.contains("gone"), "{m}");
    }
}
