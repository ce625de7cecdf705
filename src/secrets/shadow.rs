//! What a secret became. Masking by value sees a secret and its case changes, but not what a
//! template made of it (`pw | replace('a', 'b')`, `pw[2:]`, `pw | b64encode`). So a template
//! whose variables hold a secret is rendered twice more, each time with every secret
//! changed ("shadowed": each letter and digit moved on by one, then by two steps), and what
//! of the real result changes with them is taken as derived from a secret and masked too.
//! Two shadows, because one may leave a character as it was (`replace('a', 'b')` turns a
//! shadowed `a` and a real `b` into the same `b`).

use std::cell::Cell;
use std::collections::BTreeMap;
use std::ops::Range;

use minijinja::value::{Value, ValueKind};

/// Changed parts no longer than this are not split where they match by chance.
const MIN_MATCH: usize = 3;

/// The most cells the longest-common-substring search may visit per diff; past that, a
/// changed part is taken whole (more masked, never less).
const DIFF_BUDGET: usize = 4_000_000;

thread_local! {
    static SHADOW: Cell<u8> = const { Cell::new(0) };
}

/// The shadow the current render is in: 0 for the real render.
pub fn current() -> u8 {
    SHADOW.with(Cell::get)
}

/// Runs `f` as shadow `n`, so secret references (`lookup(…)`) answer with their shadow.
pub fn within<R>(n: u8, f: impl FnOnce() -> R) -> R {
    let before = SHADOW.with(|s| s.replace(n));
    let out = f();
    SHADOW.with(|s| s.set(before));
    out
}

/// `text` with each ASCII letter and digit moved on by `n` steps, in its own class, so it
/// keeps its length, case and shape.
pub fn perturb(text: &str, n: u8) -> String {
    let step = |c: char, base: u8, len: u8| (base + (c as u8 - base + n) % len) as char;
    text.chars()
        .map(|c| match c {
            'a'..='z' => step(c, b'a', 26),
            'A'..='Z' => step(c, b'A', 26),
            '0'..='9' => step(c, b'0', 10),
            other => other,
        })
        .collect()
}

/// `text` with every secret in it replaced by its shadow, the longest secret first.
fn shadow_str(text: &str, secrets: &[&str], n: u8) -> Option<String> {
    let mut out: Option<String> = None;
    for s in secrets {
        let current = out.as_deref().unwrap_or(text);
        if current.contains(s) {
            out = Some(current.replace(s, &perturb(s, n)));
        }
    }
    out
}

/// Whether `value` holds a secret anywhere (a string containing one, a number that is one).
pub fn holds(value: &Value, secrets: &[String]) -> bool {
    let list = sorted(secrets);
    walk(value, &list, 1).is_some()
}

/// `value` with every secret in it shadowed (`n` ≥ 1).
pub fn shadow(value: &Value, secrets: &[String], n: u8) -> Value {
    let list = sorted(secrets);
    walk(value, &list, n).unwrap_or_else(|| value.clone())
}

fn sorted(secrets: &[String]) -> Vec<&str> {
    let mut list: Vec<&str> = secrets.iter().map(String::as_str).collect();
    list.sort_by_key(|s| std::cmp::Reverse(s.len()));
    list
}

/// The shadowed value, or `None` when nothing in it is a secret.
fn walk(value: &Value, secrets: &[&str], n: u8) -> Option<Value> {
    match value.kind() {
        ValueKind::String => shadow_str(value.as_str()?, secrets, n).map(Value::from),
        ValueKind::Number if value.is_integer() => {
            let text = value.to_string();
            if !secrets.contains(&text.as_str()) {
                return None;
            }
            let shadowed = perturb(&text, n);
            Some(
                shadowed
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or(Value::from(shadowed)),
            )
        }
        ValueKind::Seq => {
            let items: Vec<Value> = value.try_iter().ok()?.collect();
            let walked: Vec<Option<Value>> = items.iter().map(|v| walk(v, secrets, n)).collect();
            if walked.iter().all(Option::is_none) {
                return None;
            }
            Some(Value::from(
                items
                    .into_iter()
                    .zip(walked)
                    .map(|(v, w)| w.unwrap_or(v))
                    .collect::<Vec<_>>(),
            ))
        }
        ValueKind::Map => {
            let mut changed = false;
            let mut map = BTreeMap::new();
            for key in value.try_iter().ok()? {
                let item = value.get_item(&key).unwrap_or_default();
                let walked = walk(&item, secrets, n);
                changed |= walked.is_some();
                map.insert(key, walked.unwrap_or(item));
            }
            changed.then(|| Value::from_object(map))
        }
        _ => None,
    }
}

/// The parts of `real` that differ from `shadow`, as byte ranges of `real`.
pub fn changed(real: &str, shadow: &str) -> Vec<Range<usize>> {
    let a: Vec<(usize, char)> = real.char_indices().collect();
    let b: Vec<char> = shadow.chars().collect();
    let mut spans = Vec::new();
    let mut budget = DIFF_BUDGET;
    diff_at(&a, 0, &b, &mut spans, &mut budget);
    spans
        .into_iter()
        .map(|r| {
            let start = a[r.start].0;
            let end = a.get(r.end).map_or(real.len(), |c| c.0);
            start..end
        })
        .collect()
}

/// Adds to `out` the index ranges of `a` (which starts at `offset`) not matched in `b`
/// (Ratcliff/Obershelp: match the longest common run, then each side of it).
fn diff_at(
    a: &[(usize, char)],
    offset: usize,
    b: &[char],
    out: &mut Vec<Range<usize>>,
    budget: &mut usize,
) {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x.1 == **y).count();
    let (a, b, offset) = (&a[prefix..], &b[prefix..], offset + prefix);
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x.1 == **y)
        .count();
    let (a, b) = (&a[..a.len() - suffix], &b[..b.len() - suffix]);
    if a.is_empty() {
        return;
    }
    let whole = offset..offset + a.len();
    if b.is_empty() || a.len().saturating_mul(b.len()) > *budget {
        out.push(whole);
        return;
    }
    *budget -= a.len() * b.len();
    match longest_common(a, b) {
        Some((i, j, len)) if len >= MIN_MATCH => {
            diff_at(&a[..i], offset, &b[..j], out, budget);
            diff_at(&a[i + len..], offset + i + len, &b[j + len..], out, budget);
        }
        _ => out.push(whole),
    }
}

/// The longest run common to `a` and `b`: its start in each and its length.
fn longest_common(a: &[(usize, char)], b: &[char]) -> Option<(usize, usize, usize)> {
    let mut row = vec![0usize; b.len() + 1];
    let mut best = (0, 0, 0);
    for (i, x) in a.iter().enumerate() {
        let mut diagonal = 0;
        for (j, y) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if x.1 == *y { diagonal + 1 } else { 0 };
            if row[j + 1] > best.2 {
                best = (i + 1 - row[j + 1], j + 1 - row[j + 1], row[j + 1]);
            }
            diagonal = above;
        }
    }
    (best.2 > 0).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(real: &str, shadow: &str) -> Vec<String> {
        changed(real, shadow)
            .into_iter()
            .map(|r| real[r].to_string())
            .collect()
    }

    #[test]
    fn a_shadow_keeps_length_case_and_shape() {
        assert_eq!(perturb("az-AZ_09!", 1), "ba-BA_10!");
        assert_eq!(perturb("hunter2", 2), "jwpvgt4");
    }

    #[test]
    fn the_changed_parts_are_what_the_secret_became() {
        assert_eq!(
            parts("login admin pw=HUNTEB2 now", "login admin pw=IVOUFC3 now"),
            vec!["HUNTEB2"]
        );
        // Two transformed uses with ordinary text between them stay two parts.
        assert_eq!(
            parts("a unter2 and the rest HUN", "a voufs3 and the rest IVO"),
            vec!["unter2", "HUN"]
        );
        assert!(parts("same", "same").is_empty());
        assert_eq!(parts("ü-xyz", "ü-abc"), vec!["xyz"]);
    }

    #[test]
    fn secrets_are_shadowed_inside_maps_lists_and_strings() {
        let secrets = vec!["hunter2".to_string(), "4242".to_string()];
        let ctx = minijinja::context! {
            snmp => minijinja::context! { auth => "hunter2" },
            pins => vec![4242, 7],
            url => "ssh://u:hunter2@h",
            plain => "nothing here",
        };
        assert!(holds(&ctx, &secrets));
        assert!(!holds(&Value::from("nothing here"), &secrets));
        let s = shadow(&ctx, &secrets, 1);
        let env = minijinja::Environment::new();
        let out = env
            .render_str("{{ snmp.auth }} {{ pins[0] }} {{ url }} {{ plain }}", s)
            .unwrap();
        assert_eq!(out, "ivoufs3 5353 ssh://u:ivoufs3@h nothing here");
    }
}
