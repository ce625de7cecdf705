//! Host patterns as Ansible users write them: `all`, `*`, names, globs, groups, `a:b`
//! (union), `a:&b` (intersection), `a:!b` (exclusion), `~regex`; commas separate terms too.
//! As in Ansible, unions are taken first, then intersections, then exclusions.
//!
//! Unlike Ansible, a term that names nothing is an error, also after `!`: a typo in
//! `all:!prod-core1` must not quietly run against the production router.

use indexmap::IndexSet;

use super::precedence::AnsibleData;
use super::Inventory;
use crate::diagnostic::closest;
use crate::error::{Error, Result};

/// The hosts `pattern` selects: in an Ansible inventory exactly as Ansible selects them and
/// in its order, in drover's own format in inventory order.
pub fn select(inv: &Inventory, pattern: &str) -> Result<Vec<String>> {
    if let Some(data) = &inv.ansible {
        return select_ansible(inv, data, pattern);
    }
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

/// Ansible's `split_host_pattern`: commas separate terms; without a comma the whole
/// pattern is one term if it reads as an address (an IPv6 address, `host[1:3]`), and
/// otherwise colons and whitespace separate terms outside brackets.
pub fn split_ansible(pattern: &str) -> Vec<String> {
    let parts: Vec<String> = if pattern.contains(',') {
        pattern.split(',').map(str::to_string).collect()
    } else if super::address::is_address(pattern) {
        vec![pattern.to_string()]
    } else {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '[' => {
                    // A complete bracketed expression belongs to the term; a lone `[` ends it.
                    let rest: String = chars.clone().collect();
                    if let Some(end) = rest.find(']') {
                        cur.push('[');
                        cur.push_str(&rest[..=end]);
                        for _ in 0..rest[..=end].chars().count() {
                            chars.next();
                        }
                    } else if !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                    }
                }
                c if c == ':' || c == ']' || c.is_whitespace() => {
                    if !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                    }
                }
                c => cur.push(c),
            }
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        out
    };
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn select_ansible(inv: &Inventory, data: &AnsibleData, pattern: &str) -> Result<Vec<String>> {
    let terms = split_ansible(pattern);
    let mut regular: Vec<&str> = Vec::new();
    let mut rest: (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    for t in &terms {
        match t.chars().next() {
            Some('!') => rest.1.push(t),
            Some('&') => rest.0.push(t),
            _ => regular.push(t),
        }
    }
    if regular.is_empty() {
        regular.push("all");
    }
    let mut hosts: Vec<String> = Vec::new();
    for term in regular.into_iter().chain(rest.0).chain(rest.1) {
        if inv.hosts.contains_key(term) {
            hosts.push(term.to_string());
            continue;
        }
        let that = match_one_ansible(inv, data, pattern, term)?;
        if term.starts_with('!') {
            let that: IndexSet<&String> = that.iter().collect();
            hosts.retain(|h| !that.contains(h));
        } else if term.starts_with('&') {
            let that: IndexSet<&String> = that.iter().collect();
            hosts.retain(|h| that.contains(h));
        } else {
            hosts.extend(that);
        }
    }
    let selected: Vec<String> = hosts
        .into_iter()
        .collect::<IndexSet<_>>()
        .into_iter()
        .collect();
    if selected.is_empty() {
        return Err(Error::NoHosts {
            pattern: pattern.to_string(),
        });
    }
    Ok(selected)
}

/// `name[3]`, `name[-1]`, `name[1:]`, `name[0:2]` (also `name[0-2]`): Ansible's subscripts.
fn split_subscript(term: &str) -> (&str, Option<(i64, Option<i64>)>) {
    if term.starts_with('~') || !term.ends_with(']') {
        return (term, None);
    }
    let Some(open) = term.rfind('[') else {
        return (term, None);
    };
    if open == 0 {
        return (term, None);
    }
    let (expr, inner) = (&term[..open], &term[open + 1..term.len() - 1]);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let single = inner.strip_prefix('-').unwrap_or(inner);
    if digits(single) {
        return match inner.parse() {
            Ok(i) => (expr, Some((i, None))),
            Err(_) => (term, None),
        };
    }
    if let Some(sep) = inner.find([':', '-']) {
        let (start, end) = (&inner[..sep], &inner[sep + 1..]);
        if digits(start) && (end.is_empty() || digits(end)) {
            let (Ok(s), e) = (start.parse(), end.parse().unwrap_or(-1)) else {
                return (term, None);
            };
            return (expr, Some((s, Some(e))));
        }
    }
    (term, None)
}

fn match_one_ansible(
    inv: &Inventory,
    data: &AnsibleData,
    pattern: &str,
    term: &str,
) -> Result<Vec<String>> {
    let bare = term.strip_prefix(['!', '&']).unwrap_or(term);
    let (expr, subscript) = split_subscript(bare);
    if expr.is_empty() {
        return Err(Error::Invalid {
            what: format!("host pattern `{pattern}`"),
            message: format!("`{term}` names nothing"),
        });
    }
    let matcher: Box<dyn Fn(&str) -> bool> = if let Some(re) = expr.strip_prefix('~') {
        let re = regex_lite::Regex::new(&format!("^(?:{re})")).map_err(|e| Error::Invalid {
            what: format!("host pattern `{pattern}`"),
            message: format!("`{term}` is not a regular expression: {e}"),
        })?;
        Box::new(move |name: &str| re.is_match(name))
    } else {
        let expr = expr.to_string();
        Box::new(move |name: &str| glob(&expr, name))
    };
    let group_names = ["all", super::precedence::UNGROUPED]
        .into_iter()
        .chain(inv.groups.keys().map(String::as_str));
    let mut results = Vec::new();
    let mut any_group = false;
    for g in group_names.filter(|g| matcher(g)) {
        any_group = true;
        results.extend(inv.ansible_group_hosts(data, g));
    }
    let special = expr.starts_with('~') || expr.contains(['.', '?', '*', '[']);
    if !any_group || special {
        results.extend(inv.hosts.keys().filter(|h| matcher(h)).cloned());
    }
    if results.is_empty() && !any_group {
        let names = inv
            .hosts
            .keys()
            .chain(inv.groups.keys())
            .map(String::as_str);
        let suggestions = closest(expr.trim_start_matches('~'), names);
        return Err(Error::Pattern {
            pattern: pattern.to_string(),
            term: term.to_string(),
            suggestions: suggestions.into_iter().map(str::to_string).collect(),
        });
    }
    let Some((start, end)) = subscript else {
        return Ok(results);
    };
    if results.is_empty() {
        return Ok(results);
    }
    let len = results.len() as i64;
    let out_of_range = || Error::Invalid {
        what: format!("host pattern `{pattern}`"),
        message: format!(
            "`{term}`: the subscript is out of range ({len} host{} matched `{expr}`)",
            if len == 1 { "" } else { "s" }
        ),
    };
    match end {
        Some(end) if end != 0 => {
            let end = if end == -1 { len - 1 } else { end };
            let (from, to) = (start.min(len), (end + 1).clamp(0, len));
            Ok(if from < to {
                results[from as usize..to as usize].to_vec()
            } else {
                Vec::new()
            })
        }
        _ => {
            let i = if start < 0 { len + start } else { start };
            if i < 0 || i >= len {
                return Err(out_of_range());
            }
            Ok(vec![results[i as usize].clone()])
        }
    }
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
