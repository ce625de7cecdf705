//! Where drover keeps state between runs (breaker state, the run history) and the lock that
//! lets several drover processes share it. Below the engine and the history, which both use it.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// `$XDG_STATE_HOME/drover`, else `~/.local/state/drover`; `None` without a home.
pub fn default_dir() -> Option<PathBuf> {
    match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir).join("drover")),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state/drover")),
    }
}

/// Runs `f` holding an exclusive lock on `<path>.lock`.
pub fn with_lock<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    use std::os::fd::AsRawFd;
    let lock_path = path.with_extension("lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io(&lock_path, "open lock file", e))?;
    // SAFETY: flock on a file descriptor we own; released when `lock` is closed.
    if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(Error::io(
            &lock_path,
            "lock",
            std::io::Error::last_os_error(),
        ));
    }
    f()
}
