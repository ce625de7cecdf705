//! `drover report merge`: the reports of the N shards of one run joined into the report that
//! one run over all hosts would have written, apart from timings. Shards that do not belong
//! together (another playbook, inventory, limit or shard count, a shard twice or missing) are
//! refused, naming the files.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::report::{counts, group_outputs, RunReport};
use crate::transport::mqtt::MqttSummary;

/// Merges the shards' reports (with the files they came from, for messages).
pub fn merge(mut shards: Vec<(PathBuf, RunReport)>) -> Result<RunReport> {
    let refuse = |message: String| Error::Invalid {
        what: "report merge".into(),
        message,
    };
    let Some((first_path, first)) = shards.first() else {
        return Err(refuse("no reports given".into()));
    };
    let Some(count) = first.run.shard.map(|s| s.count) else {
        return Err(refuse(format!(
            "{} is not the report of a --shard K/N run",
            first_path.display()
        )));
    };
    // The shards' MQTT counters add up: each shard opened its own connections.
    let mqtt = shards.iter().filter_map(|(_, r)| r.mqtt.as_ref()).fold(
        None,
        |sum: Option<MqttSummary>, m| {
            let mut sum = sum.unwrap_or_default();
            sum.connections += m.connections;
            sum.late_replies += m.late_replies;
            sum.unmatched_replies += m.unmatched_replies;
            sum.reconnects += m.reconnects;
            Some(sum)
        },
    );
    let mut seen = vec![None::<&PathBuf>; count as usize];
    for (path, r) in &shards {
        let Some(shard) = r.run.shard else {
            return Err(refuse(format!(
                "{} is not the report of a --shard K/N run",
                path.display()
            )));
        };
        let differs = |what: &str, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| {
            refuse(format!(
                "{} and {} are shards of different runs: {what} {a:?} vs {b:?}",
                first_path.display(),
                path.display()
            ))
        };
        if shard.count != count {
            return Err(differs("shard count", &count, &shard.count));
        }
        if r.run.command != first.run.command {
            return Err(differs("command", &first.run.command, &r.run.command));
        }
        if r.run.playbook_digest != first.run.playbook_digest {
            return Err(differs(
                "playbook",
                &(&first.run.playbook, &first.run.playbook_digest),
                &(&r.run.playbook, &r.run.playbook_digest),
            ));
        }
        if r.run.inventory_digest != first.run.inventory_digest {
            return Err(differs(
                "inventory",
                &first.run.inventory_digest,
                &r.run.inventory_digest,
            ));
        }
        if r.run.limit != first.run.limit {
            return Err(differs("limit", &first.run.limit, &r.run.limit));
        }
        let slot = &mut seen[shard.index as usize - 1];
        if let Some(other) = slot {
            return Err(refuse(format!(
                "{} and {} are both shard {}/{count}",
                other.display(),
                path.display(),
                shard.index
            )));
        }
        *slot = Some(path);
    }
    let missing: Vec<String> = (1..=count)
        .filter(|k| seen[*k as usize - 1].is_none())
        .map(|k| format!("{k}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(refuse(format!("shard(s) {} missing", missing.join(", "))));
    }

    shards.sort_by_key(|(_, r)| r.run.shard.map(|s| s.index));
    let mut iter = shards.into_iter().map(|(_, r)| r);
    let mut merged = iter.next().expect("at least one shard");
    merged.run.merged_from = vec![merged.run.run_id.clone()];
    for r in iter {
        merged.run.merged_from.push(r.run.run_id.clone());
        merged.run.started_at = merged.run.started_at.min(r.run.started_at.clone());
        merged.run.finished_at = merged.run.finished_at.max(r.run.finished_at.clone());
        merged.run.duration_ms = merged.run.duration_ms.max(r.run.duration_ms);
        merged.run.interrupted |= r.run.interrupted;
        merged.run.aborted = merged.run.aborted.or(r.run.aborted);
        let mut offsets = std::collections::HashMap::new();
        for play in r.plays {
            match merged.plays.iter_mut().find(|p| p.index == play.index) {
                Some(p) => {
                    // Each shard's batches follow the ones before, renumbered.
                    let offset = p.batches.len();
                    offsets.insert(play.index, offset);
                    p.batches.extend(play.batches.into_iter().map(|mut b| {
                        b.index += offset;
                        b
                    }));
                }
                None => merged.plays.push(play),
            }
        }
        let mut hosts = r.hosts;
        for h in &mut hosts {
            h.batch += offsets.get(&h.play).copied().unwrap_or(0);
        }
        merged.hosts.extend(hosts);
    }
    merged.plays.sort_by_key(|p| p.index);
    // One run lists hosts in inventory order; shards know only their own part of it, so the
    // merged report lists them by play and name.
    merged
        .hosts
        .sort_by_cached_key(|h| (h.play, natural(&h.name)));
    merged.run.shard = None;
    merged.run.run_id = String::new();
    merged.run.state_file = None;
    merged.counts = counts(&merged.hosts);
    merged.output_groups = group_outputs(&merged.hosts, 1);
    merged.mqtt = mqtt;
    merged.run.exit_code = merged.exit_code();
    Ok(merged)
}

/// `r2` before `r10`: digits compare as numbers.
fn natural(name: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut digits = String::new();
    for c in name.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            if !digits.is_empty() {
                out.push((
                    std::mem::take(&mut text),
                    digits.parse().unwrap_or(u64::MAX),
                ));
                digits.clear();
            }
            text.push(c);
        }
    }
    out.push((text, digits.parse().unwrap_or(0)));
    out
}
