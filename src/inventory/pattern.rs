//! Host patterns as Ansible users write them: `all`, `*`, names, globs, groups, `a:b`
//! (union), `a:&b` (intersection), `a:!b` (exclusion), `~regex`; commas separate terms too.
//! As in Ansible, unions are taken first, then intersections, then exclusions.
//!
//! Unlike Ansible, a term that names nothing is an error, also after `!`: a typo in
//! `all:!prod-core1` must not quietly run against the production router.

use indexmap::IndexSet;

use super::Inventory;
use crate::diagnostic::closest;
use crate::error::{Error, Result};

/// The hosts `pattern` selects, in inventory order.
pub fn select(inv: &Inventory, pattern: &str) -> Result<Vec<String>> {
    let mut union: IndexSet<&str> = IndexSet::new();
    let mut intersections = Vec::new();
    let mut exclusions = Vec::new();
    let terms = pattern
        .split([',', ':'])
        .map(str::trim)
        .filter(|t| !t.is_empty());
    for term in terms {
        if let Some(t) = term.strip_prefix('&') {
            intersections.push(matching(inv, pattern, t)?);
        } else if let Some(t) = term.strip_prefix('!') {
            exclusions.push(matching(inv, pattern, t)?);
        } else {
            union.extend(matching(inv, pattern, term)?);
        }
    }
    if union.is_empty() && !intersections.is_empty() {
        union = inv.hosts.keys().map(String::as_str).collect();
    }
    let selected: Vec<String> = inv
        .hosts
        .keys()
        .map(String::as_str)
        .filter(|h| union.contains(h))
        .filter(|h| intersections.iter().all(|set| set.contains(h)))
        .filter(|h| !exclusions.iter().any(|set| set.contains(h)))
        .map(str::to_string)
        .collect();
    if selected.is_empty() {
        return Err(Error::NoHosts {
            pattern: pattern.to_string(),
        });
    }
    Ok(selected)
}

fn matching<'a>(inv: &'a Inventory, pattern: &str, term: &str) -> Result<IndexSet<&'a str>> {
    if term == "all" || term == "*" {
        return Ok(inv.hosts.keys().map(String::as_str).collect());
    }
    if let Some((name, _)) = inv.hosts.get_key_value(term) {
        return Ok(IndexSet::from([name.as_str()]));
    }
    if inv.groups.contains_key(term) {
        return Ok(inv.group_members(term));
    }
    if term == "ungrouped" {
        return Ok(inv.ungrouped().collect());
    }
    let mut out = IndexSet::new();
    if let Some(re) = term.strip_prefix('~') {
        let re = regex_lite::Regex::new(re).map_err(|e| Error::Invalid {
            what: format!("host pattern `{pattern}`"),
            message: format!("`{term}` is not a regular expression: {e}"),
        })?;
        out.extend(
            inv.hosts
                .keys()
                .filter(|h| re.is_match(h))
                .map(String::as_str),
        );
    } else if term.contains(['*', '?', '[']) {
        out.extend(
            inv.hosts
                .keys()
                .filter(|h| glob(term, h))
                .map(String::as_str),
        );
        for g in inv.groups.keys().filter(|g| glob(term, g)) {
            out.extend(inv.group_members(g));
        }
    }
    if out.is_empty() {
        let names = inv
            .hosts
            .keys()
            .chain(inv.groups.keys())
            .map(String::as_str);
        let suggestions = closest(term.trim_start_matches('~'), names);
        return Err(Error::Pattern {
            pattern: pattern.to_string(),
            term: term.to_string(),
            suggestions: suggestions.into_iter().map(str::to_string).collect(),
        });
    }
    Ok(out)
}

/// Shell-style glob: `*`, `?` and `[abc]` / `[a-z]` / `[!a]`.
fn glob(pattern: &str, name: &str) -> bool {
    fn class(p: &[char], c: char) -> Option<(bool, usize)> {
        let mut i = 1;
        let negate = matches!(p.get(1), Some('!' | '^'));
        if negate {
            i += 1;
        }
        let mut hit = false;
        let start = i;
        while i < p.len() && (p[i] != ']' || i == start) {
            if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
                hit |= p[i] <= c && c <= p[i + 2];
                i += 3;
            } else {
                hit |= p[i] == c;
                i += 1;
            }
        }
        (i < p.len()).then_some((hit != negate, i + 1))
    }
    fn go(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|i| go(&p[1..], &n[i..])),
            Some('?') => !n.is_empty() && go(&p[1..], &n[1..]),
            Some('[') if !n.is_empty() => match class(p, n[0]) {
                Some((true, used)) => go(&p[used..], &n[1..]),
                Some((false, _)) => false,
                None => p[0] == n[0] && go(&p[1..], &n[1..]),
            },
            Some(c) => n.first() == Some(c) && go(&p[1..], &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        assert!(glob("deu-r*", "deu-r1"));
        assert!(glob("r?", "r1"));
        assert!(!glob("r?", "r10"));
        assert!(glob("r[0-3]", "r2"));
        assert!(!glob("r[!0-3]", "r2"));
        assert!(glob("*", ""));
    }
}
