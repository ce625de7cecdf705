//! Which of the selected hosts a run keeps: `--shard K/N` (a stable hash partition) and
//! `--retry-failed` (the hosts an earlier run did not finish well). Applied after the play's
//! pattern and `--limit`, so every shard and retry sees the same selection first.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::report::ShardInfo;

#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these host names (`--retry-failed`).
    pub names: Option<Arc<HashSet<String>>>,
    pub shard: Option<ShardInfo>,
}

impl Selection {
    pub fn keeps(&self, name: &str) -> bool {
        self.names.as_ref().is_none_or(|n| n.contains(name))
            && self
                .shard
                .is_none_or(|s| shard_of(name, s.count) == s.index)
    }

    /// A shard or a retry may be left with no host, and that is a run with nothing to do,
    /// not an input error: the orchestrator runs every shard whatever the fleet's size.
    pub fn may_be_empty(&self) -> bool {
        self.names.is_some() || self.shard.is_some()
    }
}

/// The shard (1 to `count`) a host belongs to: a function of its name alone, so inventory
/// order, other hosts and the machine never move a host to another shard.
pub fn shard_of(name: &str, count: u32) -> u32 {
    let count = u64::from(count.max(1));
    (super::meta::digest_bytes(name.as_bytes()) % count) as u32 + 1
}

/// `--limit @FILE`: the file's lines (host names or patterns; blank lines and `#` comments
/// skipped) as one union pattern. Any other limit is returned as it is.
pub fn resolve_limit(limit: Option<&str>) -> Result<Option<String>> {
    let Some(limit) = limit else {
        return Ok(None);
    };
    let Some(file) = limit.strip_prefix('@') else {
        return Ok(Some(limit.to_string()));
    };
    let path = Path::new(file);
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::io(path, "read the limit file", e))?;
    let terms: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    if terms.is_empty() {
        return Err(Error::Invalid {
            what: format!("limit file {}", path.display()),
            message: "names no hosts (expected one host name or pattern a line)".into(),
        });
    }
    Ok(Some(terms.join(":")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_evenly_and_ignore_order() {
        let names: Vec<String> = (1..=1000).map(|i| format!("r{i:04}")).collect();
        let mut sizes = [0usize; 4];
        for n in &names {
            sizes[shard_of(n, 4) as usize - 1] += 1;
        }
        assert!(sizes.iter().all(|s| (200..=300).contains(s)), "{sizes:?}");
        assert_eq!(shard_of("r0001", 4), shard_of("r0001", 4));
    }
}
