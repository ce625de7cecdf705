//! Standard base64 (with or without its `=` padding), decoded: what known_hosts entries and
//! PEM certificates carry. Two small readers needed it; a crate for it is not worth a build.

/// The bytes `text` encodes, or `None` if it is not standard base64.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn decodes_with_and_without_padding_and_refuses_the_rest() {
        assert_eq!(super::decode("TWFu").unwrap(), b"Man");
        assert_eq!(super::decode("TWE=").unwrap(), b"Ma");
        assert_eq!(super::decode("TWE").unwrap(), b"Ma");
        assert_eq!(super::decode("TW E"), None);
    }
}
