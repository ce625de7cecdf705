//! Which algorithms a connection offers. The default is russh's safe set without the SHA-1
//! `ssh-rsa` host key signature; an old router gets the legacy ones only when its host asks
//! (`ssh_legacy_algorithms: true`), or exactly the lists it names (`ssh_kex`, `ssh_ciphers`,
//! `ssh_macs`, `ssh_host_key_algorithms`), each checked against what the crate implements.

use std::borrow::Cow;

use russh::keys::Algorithm;
use russh::{cipher, kex, mac, Preferred};
use serde_json::Value;

use crate::inventory::Vars;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Algorithms {
    pub legacy: bool,
    pub kex: Option<Vec<String>>,
    pub ciphers: Option<Vec<String>>,
    pub macs: Option<Vec<String>>,
    pub host_keys: Option<Vec<String>>,
}

/// Offered after the safe ones with `ssh_legacy_algorithms: true`.
const LEGACY_KEX: [kex::Name; 3] = [kex::DH_G14_SHA1, kex::DH_GEX_SHA1, kex::DH_G1_SHA1];
const LEGACY_CIPHERS: [cipher::Name; 4] = [
    cipher::AES_256_CBC,
    cipher::AES_192_CBC,
    cipher::AES_128_CBC,
    cipher::TRIPLE_DES_CBC,
];
const LEGACY_MACS: [mac::Name; 2] = [mac::HMAC_SHA1, mac::HMAC_SHA1_ETM];

/// The kex pseudo-algorithms that signal extensions (ext-info, strict kex): always offered.
const KEX_EXTENSIONS: [kex::Name; 2] = [
    kex::EXTENSION_SUPPORT_AS_CLIENT,
    kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
];

impl Algorithms {
    pub fn from_vars(vars: &Vars) -> Result<Algorithms, String> {
        let legacy = match vars.get("ssh_legacy_algorithms") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(format!(
                    "`ssh_legacy_algorithms` must be true or false, not {other}"
                ))
            }
        };
        let algorithms = Algorithms {
            legacy,
            kex: names(vars, "ssh_kex")?,
            ciphers: names(vars, "ssh_ciphers")?,
            macs: names(vars, "ssh_macs")?,
            host_keys: names(vars, "ssh_host_key_algorithms")?,
        };
        algorithms.preferred()?;
        Ok(algorithms)
    }

    /// What russh is told to offer; an unknown name is an error naming the variable.
    pub fn preferred(&self) -> Result<Preferred, String> {
        let base = Preferred::DEFAULT;
        let mut kex: Vec<kex::Name> = match &self.kex {
            Some(list) => parse(list, "ssh_kex", |s| kex::Name::try_from(s).ok())?,
            None => {
                let mut v: Vec<kex::Name> = base
                    .kex
                    .iter()
                    .filter(|k| !is_extension(k))
                    .copied()
                    .collect();
                if self.legacy {
                    v.extend(LEGACY_KEX);
                }
                v
            }
        };
        kex.extend(KEX_EXTENSIONS);
        let cipher = match &self.ciphers {
            Some(list) => parse(list, "ssh_ciphers", |s| cipher::Name::try_from(s).ok())?,
            None => {
                let mut v = base.cipher.to_vec();
                if self.legacy {
                    v.extend(LEGACY_CIPHERS);
                }
                v
            }
        };
        let mac = match &self.macs {
            Some(list) => parse(list, "ssh_macs", |s| mac::Name::try_from(s).ok())?,
            None => {
                let mut v = base.mac.to_vec();
                if self.legacy {
                    v.extend(LEGACY_MACS);
                }
                v
            }
        };
        let key = match &self.host_keys {
            Some(list) => parse(list, "ssh_host_key_algorithms", |s| {
                Algorithm::new(s)
                    .ok()
                    .filter(|a| !matches!(a, Algorithm::Other(_)))
            })?,
            None => {
                let mut v: Vec<Algorithm> = base
                    .key
                    .iter()
                    .filter(|a| !is_sha1_rsa(a))
                    .cloned()
                    .collect();
                if self.legacy {
                    v.push(Algorithm::Rsa { hash: None });
                }
                v
            }
        };
        Ok(Preferred {
            kex: Cow::Owned(kex),
            key: Cow::Owned(key),
            host_key_certificates: Cow::Borrowed(&[]),
            cipher: Cow::Owned(cipher),
            mac: Cow::Owned(mac),
            compression: base.compression,
        })
    }
}

/// `ssh-rsa`: an RSA signature over SHA-1.
fn is_sha1_rsa(a: &Algorithm) -> bool {
    matches!(a, Algorithm::Rsa { hash: None })
}

/// The signalling names russh lists among its kex algorithms, for both sides.
fn is_extension(k: &kex::Name) -> bool {
    let name = k.as_ref();
    name.starts_with("ext-info-") || name.starts_with("kex-strict-")
}

/// A list of names, or one comma-separated string as OpenSSH writes them.
fn names(vars: &Vars, name: &str) -> Result<Option<Vec<String>>, String> {
    let list: Vec<String> = match vars.get(name) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.split(',').map(|s| s.trim().to_string()).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.trim().to_string()),
                other => Err(format!(
                    "`{name}` entries must be algorithm names, not {other}"
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(format!(
                "`{name}` must be a list of algorithm names, not {other}"
            ))
        }
    };
    if list.iter().any(String::is_empty) || list.is_empty() {
        return Err(format!(
            "`{name}` must name at least one algorithm, without empty entries"
        ));
    }
    Ok(Some(list))
}

fn parse<T>(list: &[String], var: &str, f: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, String> {
    list.iter()
        .map(|s| {
            f(s).ok_or_else(|| {
                format!("`{var}`: `{s}` is not an algorithm the native ssh backend implements")
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(yaml: &str) -> Vars {
        serde_yaml::from_str(yaml).expect("yaml")
    }

    fn offered(p: &Preferred) -> (Vec<&str>, Vec<&str>, Vec<String>) {
        (
            p.kex.iter().map(|k| k.as_ref()).collect(),
            p.cipher.iter().map(|c| c.as_ref()).collect(),
            p.key.iter().map(|k| k.to_string()).collect(),
        )
    }

    #[test]
    fn legacy_algorithms_are_offered_only_when_asked_for() {
        let plain = Algorithms::from_vars(&Vars::new())
            .unwrap()
            .preferred()
            .unwrap();
        let (kex, ciphers, keys) = offered(&plain);
        assert!(!kex.contains(&"diffie-hellman-group14-sha1"), "{kex:?}");
        assert!(!ciphers.contains(&"aes128-cbc"), "{ciphers:?}");
        assert!(!keys.iter().any(|k| k == "ssh-rsa"), "{keys:?}");
        assert!(kex.contains(&"kex-strict-c-v00@openssh.com"));
        let legacy = Algorithms::from_vars(&vars("ssh_legacy_algorithms: true"))
            .unwrap()
            .preferred()
            .unwrap();
        let (kex, ciphers, keys) = offered(&legacy);
        for k in ["diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1"] {
            assert!(kex.contains(&k), "{kex:?}");
        }
        for c in ["aes128-cbc", "3des-cbc"] {
            assert!(ciphers.contains(&c), "{ciphers:?}");
        }
        assert!(keys.iter().any(|k| k == "ssh-rsa"), "{keys:?}");
    }

    #[test]
    fn explicit_lists_replace_the_defaults_and_unknown_names_are_refused() {
        let a = Algorithms::from_vars(&vars(
            "ssh_kex: diffie-hellman-group14-sha1\nssh_ciphers: [aes128-cbc]",
        ))
        .unwrap()
        .preferred()
        .unwrap();
        let (kex, ciphers, _) = offered(&a);
        assert_eq!(kex[0], "diffie-hellman-group14-sha1");
        assert_eq!(ciphers, ["aes128-cbc"]);
        let err = Algorithms::from_vars(&vars("ssh_macs: [hmac-md5]")).unwrap_err();
        assert!(err.contains("`ssh_macs`: `hmac-md5` is not"), "{err}");
        let err = Algorithms::from_vars(&vars("ssh_legacy_algorithms: yes")).unwrap_err();
        assert!(err.contains("must be true or false"), "{err}");
    }
}
