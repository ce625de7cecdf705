//! Ansible's host patterns in inventories: `www[01:50].example.com` (leading zeros kept, begin
//! and end of the same width), `db-[a:f]`, steps `[1:10:2]`, several ranges in one name, and
//! expanded to hosts.

/// More hosts than this from one entry is a typo, not a fleet.
const MAX_HOSTS: usize = 100_000;

const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Expands every `[begin:end[:step]]` in `name`, left to right, as Ansible does.
pub fn expand(name: &str) -> Result<Vec<String>, String> {
    let Some(open) = name.find('[') else {
        return Ok(vec![name.to_string()]);
    };
    let Some(close) = name[open..].find(']').map(|i| open + i) else {
        return Err(format!(
            "host range `{name}` has no closing `]` (expected `name[begin:end]`)"
        ));
    };
    let (head, range, tail) = (&name[..open], &name[open + 1..close], &name[close + 1..]);
    let bounds: Vec<&str> = range.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return Err(format!(
            "host range `[{range}]` in `{name}` must be begin:end or begin:end:step"
        ));
    }
    let begin = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    if end.is_empty() {
        return Err(format!(
            "host range `[{range}]` in `{name}` has no end value"
        ));
    }
    let step: usize = match bounds.get(2) {
        None => 1,
        Some(s) => match s.parse() {
            Ok(n) if n > 0 => n,
            _ => {
                return Err(format!(
                    "host range `[{range}]` in `{name}`: the step must be a positive number"
                ))
            }
        },
    };
    let width = (begin.len() > 1 && begin.starts_with('0')).then_some(begin.len());
    if width.is_some_and(|w| w != end.len()) {
        return Err(format!(
            "host range `[{range}]` in `{name}` must have begin and end of the same width"
        ));
    }
    let mut items = Vec::new();
    let letter = |s: &str| (s.len() == 1).then(|| LETTERS.find(s)).flatten();
    if let (Some(b), Some(e)) = (letter(begin), letter(end)) {
        if b > e {
            return Err(format!(
                "host range `[{range}]` in `{name}` must have begin <= end"
            ));
        }
        items.extend(LETTERS[b..=e].chars().step_by(step).map(String::from));
    } else {
        let (Ok(b), Ok(e)) = (begin.parse::<u64>(), end.parse::<u64>()) else {
            return Err(format!(
                "host range `[{range}]` in `{name}` must be numbers or single letters"
            ));
        };
        if e.saturating_sub(b) > MAX_HOSTS as u64 {
            return Err(format!("host range `[{range}]` in `{name}` is too large"));
        }
        for n in (b..=e).step_by(step) {
            items.push(match width {
                Some(w) => format!("{n:0w$}"),
                None => n.to_string(),
            });
        }
    }
    let mut out = Vec::new();
    for item in items {
        out.extend(expand(&format!("{head}{item}{tail}"))?);
        if out.len() > MAX_HOSTS {
            return Err(format!(
                "host range `{name}` expands to more than {MAX_HOSTS} hosts"
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::expand;

    #[test]
    fn ranges() {
        assert_eq!(expand("w[01:03].x").unwrap(), ["w01.x", "w02.x", "w03.x"]);
        assert_eq!(expand("db-[a:c]").unwrap(), ["db-a", "db-b", "db-c"]);
        assert_eq!(expand("n[1:10:4]").unwrap(), ["n1", "n5", "n9"]);
        assert_eq!(
            expand("r[1:2]s[a:b]").unwrap(),
            ["r1sa", "r1sb", "r2sa", "r2sb"]
        );
        assert_eq!(expand("n[:1]").unwrap(), ["n0", "n1"]);
        assert!(expand("n[01:100]").is_err());
        assert!(expand("n[1]").is_err());
        assert!(expand("n[1:").is_err());
        assert!(expand("n[1:99999]m[1:99999]").is_err());
    }
}
