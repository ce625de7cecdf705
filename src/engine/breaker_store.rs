//! Breaker state between runs: one JSON file per inventory in the state directory, so a cron
//! audit every five minutes does not hammer a dead router it gave up on five minutes ago.
//!
//! Several drover processes may share a file (two cron jobs, a person and a cron job). Each
//! reads it at the start; at the end each takes an exclusive `flock` on a lock file beside it,
//! reads it again, writes back only the hosts this run touched (other hosts keep what the
//! other process wrote), and replaces it atomically. A host's task takes its breaker out of
//! the store while it runs and puts it back when done: the breaker is the task's alone.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use super::breaker::{Breaker, BreakerPolicy, BreakerState};
use crate::error::{Error, Result};

#[derive(Debug, Default)]
pub struct BreakerStore {
    /// `None`: in memory only (no state directory, or tests).
    path: Option<PathBuf>,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    states: HashMap<String, BreakerState>,
    touched: HashSet<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    version: u32,
    inventories: Vec<String>,
    hosts: BTreeMap<String, BreakerState>,
}

impl BreakerStore {
    /// A store that forgets everything when the run ends.
    pub fn in_memory() -> BreakerStore {
        BreakerStore::default()
    }

    /// The store for these inventories in `dir`; `reset` forgets every breaker first.
    pub fn open(dir: &Path, inventories: &[PathBuf], reset: bool) -> Result<BreakerStore> {
        let path = dir.join(file_name(inventories));
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create state directory", e))?;
        let names: Vec<String> = inventories.iter().map(|p| canonical(p)).collect();
        let mut states = HashMap::new();
        if reset {
            with_lock(&path, || {
                let file = File {
                    version: 1,
                    inventories: names.clone(),
                    hosts: BTreeMap::new(),
                };
                write(&path, &file)
            })?;
        } else {
            states = read(&path)?.hosts.into_iter().collect();
        }
        Ok(BreakerStore {
            path: Some(path),
            inner: Mutex::new(Inner {
                states,
                touched: HashSet::new(),
            }),
        })
    }

    /// The state file, when there is one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Takes `host`'s breaker for the duration of its turn.
    pub fn take(&self, host: &str, policy: BreakerPolicy) -> Breaker {
        let inner = self.lock();
        match inner.states.get(host) {
            Some(state) => Breaker::restore(policy, *state),
            None => Breaker::new(policy),
        }
    }

    /// Puts `host`'s breaker back when its turn is over.
    pub fn put(&self, host: &str, breaker: &Breaker) {
        let mut inner = self.lock();
        inner.states.insert(host.to_string(), breaker.state());
        inner.touched.insert(host.to_string());
    }

    /// The state a host's breaker was left in, if it was touched.
    pub fn state(&self, host: &str) -> Option<BreakerState> {
        self.lock().states.get(host).copied()
    }

    /// Writes the hosts this run touched back to the file, merged with what other processes
    /// wrote meanwhile. Closed breakers with no failures are left out: they are the default.
    pub fn save(&self, inventories: &[PathBuf]) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let inner = self.lock();
        if inner.touched.is_empty() {
            return Ok(());
        }
        with_lock(path, || {
            let mut file = read(path)?;
            for host in &inner.touched {
                match inner.states.get(host) {
                    Some(BreakerState::Closed { failures: 0 }) | None => {
                        file.hosts.remove(host);
                    }
                    Some(state) => {
                        file.hosts.insert(host.clone(), *state);
                    }
                }
            }
            if file.hosts.is_empty() && !path.exists() {
                return Ok(());
            }
            file.version = 1;
            file.inventories = inventories.iter().map(|p| canonical(p)).collect();
            write(path, &file)
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub use crate::state_dir::default_dir;
use crate::state_dir::with_lock;

/// `breakers-<first inventory's name>-<hash of all inventory paths>.json`.
fn file_name(inventories: &[PathBuf]) -> String {
    let joined: Vec<String> = inventories.iter().map(|p| canonical(p)).collect();
    let stem = inventories
        .first()
        .and_then(|p| p.file_stem())
        .map(|s| {
            s.to_string_lossy()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect()
        })
        .unwrap_or_else(|| "inventory".to_string());
    format!(
        "breakers-{stem}-{:016x}.json",
        fnv1a(joined.join("\n").as_bytes())
    )
}

fn canonical(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// A hash that stays the same across builds, unlike std's hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn read(path: &Path) -> Result<File> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| Error::Invalid {
            what: format!("breaker state file {}", path.display()),
            message: format!("{e} (delete it or run with --reset-breakers)"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(File::default()),
        Err(e) => Err(Error::io(path, "read breaker state", e)),
    }
}

fn write(path: &Path, file: &File) -> Result<()> {
    crate::atomic_write::write_atomic(path, |out| {
        serde_json::to_writer_pretty(&mut *out, file)?;
        out.write_all(b"\n")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BreakerPolicy {
        BreakerPolicy::default()
    }

    #[test]
    fn state_survives_a_second_store_and_merges_with_others() {
        let dir = tempfile::tempdir().unwrap();
        let inv = vec![dir.path().join("inv.yml")];
        let a = BreakerStore::open(dir.path(), &inv, false).unwrap();
        let mut b1 = a.take("r1", policy());
        for _ in 0..3 {
            b1.on_failure(1_000);
        }
        a.put("r1", &b1);
        // Another process saves r2 meanwhile.
        let other = BreakerStore::open(dir.path(), &inv, false).unwrap();
        let mut b2 = other.take("r2", policy());
        b2.on_failure(1_000);
        other.put("r2", &b2);
        other.save(&inv).unwrap();
        a.save(&inv).unwrap();
        let next = BreakerStore::open(dir.path(), &inv, false).unwrap();
        assert_eq!(
            next.state("r1"),
            Some(BreakerState::Open { until_ms: 181_000 })
        );
        assert_eq!(next.state("r2"), Some(BreakerState::Closed { failures: 1 }));
        let reset = BreakerStore::open(dir.path(), &inv, true).unwrap();
        assert_eq!(reset.state("r1"), None);
    }

    #[test]
    fn a_run_with_only_healthy_hosts_writes_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let inv = vec![dir.path().join("inv.yml")];
        let store = BreakerStore::open(dir.path(), &inv, false).unwrap();
        let b = store.take("ok", policy());
        store.put("ok", &b);
        store.save(&inv).unwrap();
        assert!(!dir.path().join(file_name(&inv)).exists());
    }

    #[test]
    fn a_corrupt_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let inv = vec![dir.path().join("inv.yml")];
        std::fs::write(dir.path().join(file_name(&inv)), "{not json").unwrap();
        let err = BreakerStore::open(dir.path(), &inv, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--reset-breakers"), "{err}");
    }
}
