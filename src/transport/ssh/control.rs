//! The run's control directory: a short private directory under /tmp holding the masters'
//! sockets, their logs and the generated ssh configs. Short because a Unix socket path must
//! fit in 108 bytes and OpenSSH adds `/.ssh-connectionXXXXXX/master` and a 17-byte temporary
//! suffix to it; private (0700) because anyone who can reach a socket can use the connection.
//! Directories left by drover processes that died are cleaned up (their masters told to
//! exit) when the next run starts. Whether the owner died is told by a lock it holds on
//! `owner.lock` inside its directory for as long as it runs, not by its PID: a drover in
//! another PID namespace sharing `/tmp` (a container) has a PID that means nothing here.

use std::collections::HashMap;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const PREFIX: &str = "drover-";
const LOCK: &str = "owner.lock";

/// Owns the directory; dropping it removes everything inside.
#[derive(Debug)]
pub struct ControlDir {
    path: PathBuf,
    /// Locked (`flock`) while this process runs; the lock goes with the process.
    _owner: std::fs::File,
    /// Generated ssh configs by their text, so hosts with the same options share one file.
    configs: Mutex<HashMap<String, PathBuf>>,
}

impl ControlDir {
    pub fn create() -> Result<ControlDir, String> {
        clean_stale();
        let pid = std::process::id();
        let mut last = None;
        for _ in 0..8 {
            let tag = random() & 0xff_ffff;
            // Made and locked under a name the cleanup ignores, then renamed: a directory it
            // may judge always has its lock.
            let staging = PathBuf::from(format!("/tmp/.{PREFIX}{pid}-{tag:06x}"));
            let path = PathBuf::from(format!("/tmp/{PREFIX}{pid}-{tag:06x}"));
            let made = std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&staging)
                .and_then(|()| lock_owner(&staging))
                .and_then(|owner| std::fs::rename(&staging, &path).map(|()| owner));
            match made {
                Ok(owner) => {
                    return Ok(ControlDir {
                        path,
                        _owner: owner,
                        configs: Mutex::default(),
                    })
                }
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&staging);
                    last = Some(e);
                }
            }
        }
        Err(format!(
            "cannot create the ssh control directory under /tmp: {}",
            last.map_or_else(|| "unknown error".to_string(), |e| e.to_string())
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The config file holding `text`, written on first use.
    pub fn config(&self, text: String) -> Result<PathBuf, String> {
        let mut configs = self.configs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(path) = configs.get(&text) {
            return Ok(path.clone());
        }
        let path = self.path.join(format!("{}.conf", configs.len()));
        std::fs::write(&path, &text)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        configs.insert(text, path.clone());
        Ok(path)
    }
}

impl Drop for ControlDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

/// Removes control directories of drover processes that no longer run, after asking any
/// master still listening there to exit. Best effort: a failure here never stops a run.
fn clean_stale() {
    let Ok(entries) = std::fs::read_dir("/tmp") else {
        return;
    };
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<i32>().ok())
        else {
            continue;
        };
        let path = entry.path();
        let ours = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir() && m.uid() == me);
        if !ours || owner_alive(&path, pid) {
            continue;
        }
        for socket in sockets(&path) {
            // `-O exit` talks to the socket only; `-F /dev/null` keeps user configs out.
            let _ = std::process::Command::new("ssh")
                .args(["-F", "/dev/null", "-O", "exit", "-S"])
                .arg(&socket)
                .arg("stale")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(&path);
    }
}

/// Creates and locks the owner file of a new directory.
fn lock_owner(dir: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::io::AsRawFd;
    let file = std::fs::File::create(dir.join(LOCK))?;
    // SAFETY: flock on a file descriptor we own.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(file)
}

/// Whether the directory's owner still runs: its lock is held. A directory without a lock
/// file (made by an older drover) falls back to its PID.
fn owner_alive(dir: &Path, pid: i32) -> bool {
    use std::os::unix::io::AsRawFd;
    let Ok(file) = std::fs::File::open(dir.join(LOCK)) else {
        return alive(pid);
    };
    // SAFETY: flock on a file descriptor we own; the lock, if taken, goes with `file`.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    rc != 0
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

fn sockets(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path().join("master"))
        .filter(|p| p.exists())
        .collect()
}
