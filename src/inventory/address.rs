//! Ansible's `parse_address`: a host name, IPv4 or IPv6 address (each possibly with `[x:y]`
//! ranges) with an optional port — `host:22`, `[v6]:22`. Patterns use it to tell an IPv6
//! address from a colon-separated list, inventories to split off a port.

use std::net::Ipv6Addr;

/// `(host, port)` when `text` reads as an address, `None` otherwise.
pub fn parse(text: &str) -> Option<(String, Option<u16>)> {
    let mut address = text;
    let mut port = None;
    if let Some(inner) = text.strip_prefix('[') {
        if let Some((host, p)) = inner.rsplit_once("]:") {
            if digits(p) {
                address = host;
                port = Some(p.parse().ok()?);
            }
        }
    }
    if let Some((host, p)) = split_hostport(address) {
        address = host;
        port = Some(p.parse().ok()?);
    }
    (is_hostname(address) || is_ipv6(address)).then(|| (address.to_string(), port))
}

/// Whether `text` as a whole reads as one address (ranges allowed).
pub fn is_address(text: &str) -> bool {
    parse(text).is_some()
}

/// How an inventory entry splits into host and port: an entry that is not an address is a
/// host name as written, as in Ansible.
pub fn split_port(entry: &str) -> (String, Option<u16>) {
    parse(entry).unwrap_or_else(|| (entry.to_string(), None))
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$`
fn split_hostport(text: &str) -> Option<(&str, &str)> {
    let (host, port) = text.rsplit_once(':')?;
    if !digits(port) {
        return None;
    }
    let mut in_bracket = false;
    for c in host.chars() {
        match (c, in_bracket) {
            ('[', false) => in_bracket = true,
            (']', true) => in_bracket = false,
            (':' | ']', false) => return None,
            _ => {}
        }
    }
    (!in_bracket).then_some((host, port))
}

/// A `[a:b]`, `[1:9]` or `[1:9:2]` range at the start of `s`: its length in bytes.
fn range_len(s: &str, hex: bool) -> Option<usize> {
    let inner = s.strip_prefix('[')?;
    let end = inner.find(']')?;
    let parts: Vec<&str> = inner[..end].split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let num = |p: &str| {
        !p.is_empty()
            && p.chars().all(|c| {
                if hex {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                }
            })
    };
    let alpha = |p: &str| p.len() == 1 && p.chars().all(|c| c.is_ascii_alphabetic());
    let bounds = (num(parts[0]) && num(parts[1])) || (!hex && alpha(parts[0]) && alpha(parts[1]));
    (bounds && parts.get(2).is_none_or(|s| digits(s))).then_some(end + 2)
}

fn is_hostname(text: &str) -> bool {
    !text.is_empty() && text.split('.').all(is_label)
}

fn is_label(label: &str) -> bool {
    let mut rest = label;
    let mut first = true;
    let mut last = None;
    while let Some(c) = rest.chars().next() {
        if c == '[' {
            let Some(n) = range_len(rest, false) else {
                return false;
            };
            rest = &rest[n..];
            last = Some(']');
        } else if c.is_alphanumeric() || c == '_' || (c == '-' && !first) {
            rest = &rest[c.len_utf8()..];
            last = Some(c);
        } else {
            return false;
        }
        first = false;
    }
    !matches!(last, None | Some('_' | '-'))
}

fn is_ipv6(text: &str) -> bool {
    let mut plain = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '[' {
            let Some(n) = range_len(rest, true) else {
                return false;
            };
            plain.push('0');
            rest = &rest[n..];
        } else {
            plain.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    plain.contains(':') && plain.parse::<Ipv6Addr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::{is_address, split_port};

    #[test]
    fn addresses_and_ports() {
        assert_eq!(split_port("h:22"), ("h".into(), Some(22)));
        assert_eq!(split_port("w[1:3]:22"), ("w[1:3]".into(), Some(22)));
        assert_eq!(split_port("w[01:03].x"), ("w[01:03].x".into(), None));
        assert_eq!(split_port("fe80::1"), ("fe80::1".into(), None));
        assert_eq!(split_port("[fe80::1]:2222"), ("fe80::1".into(), Some(2222)));
        assert_eq!(split_port("user@h:22"), ("user@h:22".into(), None));
        assert!(is_address("10.0.0.1"));
        assert!(is_address("2001:db8::1"));
        assert!(!is_address("all:!web"));
        assert!(!is_address("web:db"));
        assert!(!is_address("g[0]"));
    }
}
