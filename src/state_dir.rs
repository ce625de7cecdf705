//! Where drover keeps state between runs (breaker state, the run history) and the lock that
//! lets several drover processes share it. Below the engine and the history, which both use it.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// `$XDG_STATE_HOME/drover`, else `~/.local/state/drover`; `None` without a home. A relative
/// `XDG_STATE_HOME` is ignored, as the XDG spec says.
pub fn default_dir() -> Option<PathBuf> {
    dir_from(
        std::env::var_os("XDG_STATE_HOME").as_deref(),
        std::env::var_os("HOME").as_deref(),
    )
}

fn dir_from(xdg: Option<&std::ffi::OsStr>, home: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    let absolute = |v: &std::ffi::OsStr| Path::new(v).is_absolute();
    match xdg.filter(|v| absolute(v)) {
        Some(dir) => Some(PathBuf::from(dir).join("drover")),
        None => home
            .filter(|h| absolute(h))
            .map(|h| PathBuf::from(h).join(".local/state/drover")),
    }
}

/// What stderr says when there is no state directory at all.
pub const NO_STATE_DIR: &str = "warning: no state directory (HOME is unset and XDG_STATE_HOME is not an absolute path): breaker state and run history are not saved; set --state-dir";

/// Runs `f` holding an exclusive lock on `<path>.lock`, and removes the lock file when done.
///
/// Removing a lock file races with a process that opened it and waits for the lock: it then
/// holds a lock on a file no longer in the directory while a third process creates and locks a
/// new one. So a locker checks, once it has the lock, that the path still names the file it
/// locked, and starts over if not; and the file is removed while still locked.
pub fn with_lock<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    let lock_path = path.with_extension("lock");
    let lock = loop {
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
        let held = lock
            .metadata()
            .map_err(|e| Error::io(&lock_path, "lock", e))?;
        match std::fs::metadata(&lock_path) {
            Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => break lock,
            _ => continue,
        }
    };
    let result = f();
    let _ = std::fs::remove_file(&lock_path);
    drop(lock);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn a_relative_xdg_state_home_is_ignored() {
        assert_eq!(
            dir_from(Some(OsStr::new("state")), Some(OsStr::new("/home/u"))),
            Some(PathBuf::from("/home/u/.local/state/drover"))
        );
        assert_eq!(dir_from(Some(OsStr::new("state")), None), None);
        assert_eq!(
            dir_from(Some(OsStr::new("/s")), None),
            Some(PathBuf::from("/s/drover"))
        );
        assert_eq!(dir_from(Some(OsStr::new("")), None), None);
    }

    #[test]
    fn the_lock_file_is_removed_when_done() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("breakers.json");
        let n = with_lock(&state, || {
            assert!(dir.path().join("breakers.lock").exists());
            Ok(7)
        })
        .unwrap();
        assert_eq!(n, 7);
        assert!(!dir.path().join("breakers.lock").exists());
    }

    #[test]
    fn lockers_that_remove_the_lock_still_exclude_each_other() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("index.json");
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (state, inside, most) = (state.clone(), inside.clone(), most.clone());
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        with_lock(&state, || {
                            let n = inside.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(n, Ordering::SeqCst);
                            std::thread::yield_now();
                            inside.fetch_sub(1, Ordering::SeqCst);
                            Ok(())
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
    }
}
