//! Secret references: `lookup('env', 'NAME')`, `lookup('file', 'path')` and
//! `lookup('pipe', 'command')`, so a password need not sit in an inventory. Every value a
//! lookup returns is secret by construction: it is kept here, and masked (with its simple
//! transforms) in everything drover prints or writes. Each distinct lookup runs once per run
//! (a `pipe` command such as a port manager's credential query is not run per host), and its
//! result, or its error, is cached.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use minijinja::{Error, ErrorKind};

/// The lookups of one run, shared by every render.
#[derive(Debug, Clone, Default)]
pub struct Lookups(Arc<Mutex<Inner>>);

#[derive(Debug, Default)]
struct Inner {
    /// Where a relative `file` path is read from (the playbook's directory).
    base: PathBuf,
    cache: HashMap<(String, String), Result<String, String>>,
}

impl Lookups {
    /// Lookups whose relative `file` paths are read from `base`.
    pub fn new(base: &Path) -> Lookups {
        let lookups = Lookups::default();
        lookups.inner().base = base.to_path_buf();
        lookups
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every value a lookup returned so far: all secret.
    pub fn values(&self) -> Vec<String> {
        self.inner()
            .cache
            .values()
            .filter_map(|r| r.as_ref().ok().cloned())
            .collect()
    }

    /// What an earlier `lookup(kind, arg)` returned, if it did return a value.
    pub fn cached(&self, kind: &str, arg: &str) -> Option<String> {
        let key = (kind.to_string(), arg.to_string());
        self.inner().cache.get(&key)?.as_ref().ok().cloned()
    }

    /// The template function.
    pub fn lookup(&self, kind: &str, arg: &str) -> Result<String, Error> {
        let key = (kind.to_string(), arg.to_string());
        if let Some(cached) = self.inner().cache.get(&key) {
            return cached
                .clone()
                .map_err(|m| Error::new(ErrorKind::InvalidOperation, m));
        }
        let base = self.inner().base.clone();
        let result = match kind {
            "env" => std::env::var(arg).map_err(|_| {
                format!("lookup('env', '{arg}'): the environment variable is not set")
            }),
            "file" => {
                let path = base.join(arg);
                std::fs::read_to_string(&path)
                    .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
                    .map_err(|e| {
                        format!(
                            "lookup('file', '{arg}'): cannot read {}: {e}",
                            path.display()
                        )
                    })
            }
            "pipe" => pipe(arg),
            other => Err(format!(
                "lookup('{other}', …) is not supported (expected env, file or pipe)"
            )),
        };
        self.inner().cache.insert(key, result.clone());
        result.map_err(|m| Error::new(ErrorKind::InvalidOperation, m))
    }
}

/// Runs `command` with `sh -c` and returns its stdout without the last newline.
fn pipe(command: &str) -> Result<String, String> {
    let out = std::process::Command::new("sh")
        .args(["-c", command])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("lookup('pipe', …): cannot run sh: {e}"))?;
    if !out.status.success() {
        // Its output may hold the secret it failed to print: only the status is said.
        return Err(format!(
            "lookup('pipe', '{command}') failed ({})",
            out.status
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .trim_end_matches(['\n', '\r'])
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_runs_once_per_distinct_command() {
        let dir = tempfile::tempdir().unwrap();
        let counter = dir.path().join("n");
        let lookups = Lookups::new(dir.path());
        let cmd = format!("echo x >> {}; echo s3cret", counter.display());
        for _ in 0..5 {
            assert_eq!(lookups.lookup("pipe", &cmd).unwrap(), "s3cret");
        }
        assert_eq!(std::fs::read_to_string(&counter).unwrap(), "x\n");
        assert_eq!(lookups.values(), vec!["s3cret".to_string()]);
    }

    #[test]
    fn a_file_is_read_from_the_base_and_unknown_kinds_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "filepw\n").unwrap();
        let lookups = Lookups::new(dir.path());
        assert_eq!(lookups.lookup("file", "pw").unwrap(), "filepw");
        assert!(lookups.lookup("vault", "x").is_err());
        assert!(lookups.lookup("env", "DROVER_SURELY_UNSET_VAR").is_err());
    }
}
