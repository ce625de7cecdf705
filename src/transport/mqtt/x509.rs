//! Just enough of X.509 to name a certificate problem before TLS misnames it: the TLS
//! library refuses a version 1 client certificate while building its own configuration,
//! with an error that speaks of the "peer" certificate, so a user looks at the broker.

/// The X.509 version (1, 2 or 3) of the first certificate in a PEM file, if it has one
/// that parses.
pub fn pem_version(pem: &[u8]) -> Option<u8> {
    let text = std::str::from_utf8(pem).ok()?;
    let begin = "-----BEGIN CERTIFICATE-----";
    let start = text.find(begin)? + begin.len();
    let end = start + text[start..].find("-----END CERTIFICATE-----")?;
    let body: String = text[start..end].split_whitespace().collect();
    der_version(&crate::base64::decode(&body)?)
}

/// `Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] EXPLICIT Version DEFAULT v1, … } … }`
fn der_version(der: &[u8]) -> Option<u8> {
    let (tag, certificate) = element(der)?;
    let (tbs_tag, tbs) = element(certificate).filter(|_| tag == 0x30)?;
    if tbs_tag != 0x30 {
        return None;
    }
    match element(tbs)? {
        (0xa0, explicit) => match element(explicit)? {
            (0x02, [v]) if *v <= 2 => Some(v + 1),
            _ => None,
        },
        // No version field: the default, version 1.
        _ => Some(1),
    }
}

/// The tag and contents of the DER element `der` starts with.
fn element(der: &[u8]) -> Option<(u8, &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |a, b| a << 8 | *b as usize);
        (len, &rest[n..])
    };
    Some((tag, rest.get(..len)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_der() {
        // SEQUENCE { SEQUENCE { [0] { INTEGER 2 } … } }: version 3.
        let v3 = [0x30, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x02, 0x01, 0x02];
        assert_eq!(der_version(&v3), Some(3));
        // SEQUENCE { SEQUENCE { INTEGER serial … } }: no version field, version 1.
        let v1 = [0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x07];
        assert_eq!(der_version(&v1), Some(1));
        assert_eq!(der_version(&[0x30, 0x05]), None);
        assert_eq!(pem_version(b"not a certificate"), None);
    }
}
