//! Identical outputs grouped across hosts, as ClusterShell's `clubak` does: 200 routers
//! printing the same thing become one group with a folded host list (`deu-r[1-40]`).

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::HostReport;
use crate::outcome::TaskStatus;

/// The hosts whose task printed exactly the same thing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OutputGroup {
    pub play: usize,
    /// The task's index in its play.
    pub task: usize,
    pub task_name: String,
    /// The folded host list, e.g. `deu-r[1-40],fra-core1`.
    pub folded: String,
    /// Every host in the group, in report order.
    pub hosts: Vec<String>,
    pub exit_code: Option<i32>,
    pub stdout: String,
}

/// Groups every task that ran by (play, task, exit code, stdout), keeping groups of at least
/// `min_hosts` hosts. Groups keep the order of their first host; the largest group of a task
/// comes first. Outputs are borrowed while grouping and copied only into the groups kept, so
/// a fleet whose every host prints something different costs no second copy of it.
pub fn group_outputs(hosts: &[HostReport], min_hosts: usize) -> Vec<OutputGroup> {
    type Key<'a> = (usize, usize, Option<i32>, &'a str);
    let mut index: HashMap<Key<'_>, usize> = HashMap::new();
    let mut found: Vec<(Key<'_>, &str, Vec<&str>)> = Vec::new();
    for h in hosts {
        for t in h.tasks.iter().filter(|t| t.status != TaskStatus::Skipped) {
            let key = (h.play, t.index, t.exit_code, t.stdout.as_str());
            let at = *index.entry(key).or_insert_with(|| {
                found.push((key, t.name.as_str(), Vec::new()));
                found.len() - 1
            });
            found[at].2.push(h.name.as_str());
        }
    }
    let mut groups: Vec<OutputGroup> = found
        .into_iter()
        .filter(|(_, _, names)| names.len() >= min_hosts.max(1))
        .map(
            |((play, task, exit_code, stdout), task_name, names)| OutputGroup {
                play,
                task,
                task_name: task_name.to_string(),
                folded: fold(names.iter().copied()),
                hosts: names.into_iter().map(str::to_string).collect(),
                exit_code,
                stdout: stdout.to_string(),
            },
        )
        .collect();
    // Stable: equal sizes keep first-seen order.
    groups.sort_by_key(|g| (g.play, g.task, std::cmp::Reverse(g.hosts.len())));
    groups
}

/// Folds host names that differ only in their last number into ranges:
/// `r1 r2 r3 r5 core` → `r[1-3,5],core`. Zero-padded numbers keep their width and fold only
/// with numbers of the same width (`r01..r09` and `r10` stay two terms).
pub fn fold<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    // (prefix, suffix, padded width or 0) → numbers, in first-seen order of the keys.
    let mut keys: Vec<(&str, &str, usize)> = Vec::new();
    let mut numbers: HashMap<(&str, &str, usize), Vec<u64>> = HashMap::new();
    let mut terms: Vec<Term> = Vec::new();
    for name in names {
        match split_number(name) {
            Some((prefix, digits, suffix)) => {
                let width = if digits.len() > 1 && digits.starts_with('0') {
                    digits.len()
                } else {
                    0
                };
                let Ok(n) = digits.parse::<u64>() else {
                    terms.push(Term::Plain(name));
                    continue;
                };
                let key = (prefix, suffix, width);
                if !numbers.contains_key(&key) {
                    keys.push(key);
                    terms.push(Term::Ranged(keys.len() - 1));
                }
                numbers.entry(key).or_default().push(n);
            }
            None => terms.push(Term::Plain(name)),
        }
    }
    let mut out: Vec<String> = Vec::new();
    for term in terms {
        match term {
            Term::Plain(name) => out.push(name.to_string()),
            Term::Ranged(i) => {
                let key = keys[i];
                let (prefix, suffix, width) = key;
                let mut ns = numbers.remove(&key).unwrap_or_default();
                ns.sort_unstable();
                ns.dedup();
                let num = |n: u64| format!("{n:0width$}");
                if let [only] = ns[..] {
                    out.push(format!("{prefix}{}{suffix}", num(only)));
                    continue;
                }
                let mut ranges: Vec<String> = Vec::new();
                let mut i = 0;
                while i < ns.len() {
                    let start = ns[i];
                    let mut end = start;
                    while i + 1 < ns.len() && ns[i + 1] == end + 1 {
                        i += 1;
                        end = ns[i];
                    }
                    ranges.push(if start == end {
                        num(start)
                    } else {
                        format!("{}-{}", num(start), num(end))
                    });
                    i += 1;
                }
                out.push(format!("{prefix}[{}]{suffix}", ranges.join(",")));
            }
        }
    }
    out.join(",")
}

enum Term<'a> {
    Plain(&'a str),
    Ranged(usize),
}

/// Splits a name around its last run of ASCII digits.
fn split_number(name: &str) -> Option<(&str, &str, &str)> {
    let bytes = name.as_bytes();
    let end = bytes.iter().rposition(u8::is_ascii_digit)? + 1;
    let start = bytes[..end]
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |i| i + 1);
    Some((&name[..start], &name[start..end], &name[end..]))
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folds_runs_of_numbers() {
        let names: Vec<String> = (1..=40).map(|i| format!("deu-r{i}")).collect();
        assert_eq!(fold(names.iter().map(String::as_str)), "deu-r[1-40]");
        assert_eq!(fold(["r3", "r1", "r2", "r5", "core"]), "r[1-3,5],core");
        assert_eq!(fold(["r1"]), "r1");
        assert_eq!(
            fold(["sw1.fra", "sw2.fra", "sw1.ber"]),
            "sw[1-2].fra,sw1.ber"
        );
        assert_eq!(fold(["r01", "r02", "r09", "r10"]), "r[01-02,09],r10");
        assert_eq!(fold(["a", "b"]), "a,b");
        assert_eq!(fold(["r1", "r1"]), "r1");
    }
}
