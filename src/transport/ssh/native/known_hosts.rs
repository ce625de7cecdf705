//! OpenSSH's known_hosts format, read and appended to: plain host patterns (`host`,
//! `[host]:port`, wildcards, `!negation`), hashed entries (`|1|salt|hash`, HMAC-SHA1 of the
//! host name), `@revoked` keys, and `@cert-authority` lines (skipped: host certificates are
//! not asked for, so a host is trusted by its own key only).

use std::io::Write;
use std::path::Path;

use russh::keys::{HashAlg, PublicKey};

/// What known_hosts says about a host's key.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Known,
    /// No key of this type for the host; `others` lists the types it has.
    Unknown {
        others: Vec<String>,
    },
    /// Another key of the same type is recorded, on this line.
    Changed {
        line: usize,
        recorded: String,
    },
    Revoked {
        line: usize,
    },
}

/// The name OpenSSH looks a host up under: `addr` on port 22, `[addr]:port` otherwise.
pub fn host_name(address: &str, port: u16) -> String {
    if port == 22 {
        address.to_string()
    } else {
        format!("[{address}]:{port}")
    }
}

/// `ED25519 SHA256:…`, as OpenSSH names a key in its messages.
pub fn describe(key: &PublicKey) -> String {
    format!("{} {}", key_type(key), key.fingerprint(HashAlg::Sha256))
}

fn key_type(key: &PublicKey) -> String {
    let name = key.algorithm().to_string();
    let short = name
        .strip_prefix("ssh-")
        .unwrap_or(&name)
        .split('-')
        .next()
        .unwrap_or(&name)
        .to_ascii_uppercase();
    if short == "ECDSA" || name.starts_with("ecdsa") {
        "ECDSA".to_string()
    } else {
        short
    }
}

/// Looks `host` (a `host_name`) and its key up in the file's text. Keys are compared as
/// their encoded text, and only the lines of this host are looked at closely, so a fleet's
/// worth of connections against a fleet-sized file stays cheap.
pub fn check(text: &str, host: &str, key: &PublicKey) -> Verdict {
    let encoded = key.to_openssh().unwrap_or_default();
    let mut offered = encoded.split_whitespace();
    let (offered_type, offered_data) = (offered.next().unwrap_or(""), offered.next().unwrap_or(""));
    let mut others = Vec::new();
    let mut changed = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let mut fields = raw.split_whitespace();
        let Some(mut first) = fields.next() else {
            continue;
        };
        if first.starts_with('#') {
            continue;
        }
        let marker = first.strip_prefix('@');
        if marker.is_some() {
            let Some(next) = fields.next() else { continue };
            first = next;
        }
        let (Some(kind), Some(data)) = (fields.next(), fields.next()) else {
            continue;
        };
        let same = data == offered_data;
        match marker {
            Some("revoked") if same => return Verdict::Revoked { line },
            Some(_) => continue,
            None => {}
        }
        if !patterns_match(first, host) {
            continue;
        }
        if same {
            return Verdict::Known;
        }
        let recorded = PublicKey::from_openssh(&format!("{kind} {data}")).ok();
        if kind == offered_type {
            let described = recorded.as_ref().map_or_else(|| kind.to_string(), describe);
            changed.get_or_insert((line, described));
        } else {
            others.push(recorded.as_ref().map_or_else(|| kind.to_string(), key_type));
        }
    }
    match changed {
        Some((line, recorded)) => Verdict::Changed { line, recorded },
        None => Verdict::Unknown { others },
    }
}

/// Appends `host`'s key (`accept-new`), creating the file (and its directory) if needed.
/// One write of one line, in append mode, so hosts connecting at once do not interleave.
pub fn append(path: &Path, host: &str, key: &PublicKey) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot add the host key to {}: {e}", path.display());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let encoded = key
        .to_openssh()
        .map_err(|e| format!("cannot encode the host key: {e}"))?;
    let body: Vec<&str> = encoded.split_whitespace().take(2).collect();
    let line = format!("{host} {}\n", body.join(" "));
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .map_err(fail)
}

/// A comma-separated pattern list: some pattern matches and no negated one does; or a hashed
/// name.
fn patterns_match(list: &str, host: &str) -> bool {
    if let Some(hashed) = list.strip_prefix("|1|") {
        return hashed_match(hashed, host);
    }
    let mut matched = false;
    for pattern in list.split(',') {
        match pattern.strip_prefix('!') {
            Some(negated) if glob(negated, host) => return false,
            Some(_) => {}
            None => matched |= glob(pattern, host),
        }
    }
    matched
}

/// `salt|hash`, both base64: the HMAC-SHA1 of the host name keyed with the salt.
fn hashed_match(hashed: &str, host: &str) -> bool {
    let Some((salt, hash)) = hashed.split_once('|') else {
        return false;
    };
    let (Some(salt), Some(hash)) = (crate::base64::decode(salt), crate::base64::decode(hash))
    else {
        return false;
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &salt);
    ring::hmac::verify(&key, host.as_bytes(), &hash).is_ok()
}

/// `*` and `?` wildcards, case-insensitive, as OpenSSH matches host patterns.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let t: Vec<char> = text.to_ascii_lowercase().chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFm/Xyq7O2cU6X100EnYAzkHAVdoBEH+4OPtgAbJVJ1v";
    const KEY_B: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEtLCP0rJtorzwDSUk3MdMunngeIOCSxfRwcVC7ryXPf";

    fn key(s: &str) -> PublicKey {
        PublicKey::from_openssh(s).expect("key")
    }

    #[test]
    fn plain_bracketed_and_wildcard_entries_match() {
        let text = format!("# c\n[192.0.2.1]:2222 {KEY_A}\n192.0.2.*,!192.0.2.9 {KEY_A}\n");
        assert_eq!(
            check(&text, "[192.0.2.1]:2222", &key(KEY_A)),
            Verdict::Known
        );
        assert_eq!(check(&text, "192.0.2.5", &key(KEY_A)), Verdict::Known);
        assert_eq!(
            check(&text, "192.0.2.9", &key(KEY_A)),
            Verdict::Unknown { others: vec![] }
        );
        assert_eq!(
            check(&text, "[192.0.2.1]:2223", &key(KEY_A)),
            Verdict::Unknown { others: vec![] }
        );
    }

    #[test]
    fn a_changed_key_names_its_line_and_a_revoked_one_wins() {
        let text = format!("[192.0.2.1]:2222 {KEY_A}\n");
        match check(&text, "[192.0.2.1]:2222", &key(KEY_B)) {
            Verdict::Changed { line: 1, recorded } => {
                assert!(recorded.starts_with("ED25519 SHA256:"))
            }
            other => panic!("{other:?}"),
        }
        let text = format!("@revoked * {KEY_A}\n192.0.2.1 {KEY_A}\n");
        assert_eq!(
            check(&text, "192.0.2.1", &key(KEY_A)),
            Verdict::Revoked { line: 1 }
        );
    }

    #[test]
    fn hashed_entries_match_by_hmac_sha1() {
        // `ssh-keygen -H` of "192.0.2.1" with this salt.
        let salt = [7u8; 20];
        let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &salt);
        let tag = ring::hmac::sign(&k, b"192.0.2.1");
        let text = format!("|1|{}|{} {KEY_A}\n", b64(&salt), b64(tag.as_ref()));
        assert_eq!(check(&text, "192.0.2.1", &key(KEY_A)), Verdict::Known);
        assert!(matches!(
            check(&text, "192.0.2.2", &key(KEY_A)),
            Verdict::Unknown { .. }
        ));
    }

    fn b64(bytes: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    s.push('=');
                }
            }
        }
        s
    }

    #[test]
    fn accept_new_appends_a_line_that_is_then_known() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/known_hosts");
        append(&path, "[192.0.2.1]:2222", &key(KEY_A)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("[192.0.2.1]:2222 {KEY_A}\n"));
        assert_eq!(
            check(&text, "[192.0.2.1]:2222", &key(KEY_A)),
            Verdict::Known
        );
    }
}
