//! Retention: which recorded runs go when a new one is added.

use std::time::{Duration, SystemTime};

use super::store::Entry;

/// What the history keeps: the newest `runs`, and of those only the ones younger than
/// `max_age` when it is set. The newest run is always kept.
#[derive(Debug, Clone, Copy)]
pub struct Keep {
    pub runs: usize,
    pub max_age: Option<Duration>,
}

/// Indexes into `entries` (oldest first) of the runs to delete, in ascending order.
pub fn victims(entries: &[Entry], keep: &Keep, now: SystemTime) -> Vec<usize> {
    let n = entries.len();
    let keep_from = n.saturating_sub(keep.runs.max(1));
    (0..n.saturating_sub(1))
        .filter(|&i| {
            i < keep_from
                || keep.max_age.is_some_and(|age| {
                    humantime::parse_rfc3339_weak(&entries[i].started_at)
                        .map(|t| now.duration_since(t).unwrap_or_default() > age)
                        .unwrap_or(false)
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, started_at: &str) -> Entry {
        Entry {
            id: id.into(),
            started_at: started_at.into(),
            command: "run".into(),
            playbook: None,
            key: String::new(),
            hosts: 0,
            counts: Default::default(),
            duration_ms: 0,
            exit_code: 0,
            shard: None,
            error: None,
        }
    }

    #[test]
    fn oldest_beyond_the_count_and_the_age_go() {
        let entries = vec![
            entry("a", "2026-01-01T00:00:00Z"),
            entry("b", "2026-01-05T00:00:00Z"),
            entry("c", "2026-01-09T00:00:00Z"),
            entry("d", "2026-01-10T00:00:00Z"),
        ];
        let now = humantime::parse_rfc3339("2026-01-10T00:00:00Z").unwrap();
        let by_count = Keep {
            runs: 3,
            max_age: None,
        };
        assert_eq!(victims(&entries, &by_count, now), vec![0]);
        let by_age = Keep {
            runs: 200,
            max_age: Some(Duration::from_secs(2 * 86_400)),
        };
        assert_eq!(victims(&entries, &by_age, now), vec![0, 1]);
        // The newest run stays even when it is older than the age.
        let tiny = Keep {
            runs: 200,
            max_age: Some(Duration::from_secs(1)),
        };
        assert_eq!(
            victims(&entries, &tiny, now + Duration::from_secs(86_400)),
            vec![0, 1, 2]
        );
    }
}
