//! Bounds on the YAML (and JSON) files drover reads, checked before the parser builds
//! anything, so a hostile or broken file is a clear error in milliseconds, not gigabytes:
//! - size: a file over [`MAX_BYTES`];
//! - nesting: flow collections (`[[[…`, `{{{…`) deeper than [`MAX_DEPTH`] (the YAML scanner
//!   costs depth × tokens, so deep nesting alone is quadratic);
//! - aliases: a document whose aliases expand to more than [`max_nodes`] nodes (a "billion
//!   laughs" bomb). A document without a `*` has no alias and is not walked twice.
//!
//! Each error names the file, line and column where the limit was crossed.

use std::fmt;
use std::path::Path;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::diagnostic::SourceError;

/// The largest file drover parses.
pub const MAX_BYTES: usize = 16 * 1024 * 1024;

/// The deepest flow nesting (`[`/`{`) accepted.
pub const MAX_DEPTH: usize = 64;

/// Nodes a document may expand to, aliases included: far more than a file without aliases
/// can hold, far less than a bomb wants.
pub fn max_nodes(len: usize) -> usize {
    50_000 + 2 * len
}

/// Reads a file of at most [`MAX_BYTES`] (a bigger one is not read whole).
pub fn read(path: &Path, action: &'static str) -> crate::error::Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| crate::error::Error::io(path, action, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| crate::error::Error::io(path, action, e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let e = std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error());
        crate::error::Error::io(path, action, e)
    })?;
    check_size(path, &text)?;
    Ok(text)
}

/// Checks one YAML source against every limit.
pub fn check(path: &Path, source: &str) -> Result<(), SourceError> {
    check_size(path, source)?;
    check_depth(path, source)?;
    check_aliases(path, source)
}

/// The size limit alone (for INI inventories and other text).
pub fn check_size(path: &Path, source: &str) -> Result<(), SourceError> {
    if source.len() > MAX_BYTES {
        return Err(SourceError::at_offset(
            path,
            source,
            MAX_BYTES,
            format!("the file is over {MAX_BYTES} bytes (16 MiB), the most drover reads"),
        ));
    }
    Ok(())
}

/// Flow nesting depth, by a linear scan that skips comments and quoted scalars.
fn check_depth(path: &Path, source: &str) -> Result<(), SourceError> {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    // Whether the previous byte lets a quote or a comment start here.
    let mut at_start = true;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'#' if at_start => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' if at_start => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'\'' if at_start => {
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == b'\'' {
                        if bytes.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(SourceError::at_offset(
                        path,
                        source,
                        i,
                        format!("nesting deeper than {MAX_DEPTH} levels"),
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        at_start = matches!(
            bytes.get(i),
            Some(b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b',' | b':' | b'-' | b'?')
        );
        i += 1;
    }
    Ok(())
}

/// Walks the document once, counting nodes as aliases expand, without building anything.
fn check_aliases(path: &Path, source: &str) -> Result<(), SourceError> {
    if !source.contains('*') {
        return Ok(());
    }
    let budget = max_nodes(source.len());
    let mut count = Count { left: budget };
    for document in serde_yaml::Deserializer::from_str(source) {
        match (&mut count).deserialize(document) {
            Ok(()) => {}
            // The parser's own guard (jumps over 100 × events) is the same bomb, seen first.
            Err(e) if count.left == 0 || e.to_string().contains("repetition limit") => {
                let offset = e
                    .location()
                    .map(|l| l.index())
                    .or_else(|| first_alias(source))
                    .unwrap_or(0);
                return Err(SourceError::at_offset(
                    path,
                    source,
                    offset,
                    format!("the aliases in this file expand to more than {budget} values (an alias bomb?)"),
                ));
            }
            // Any other error is the real parser's to report, with its own words.
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

/// Where the first `*alias` is.
fn first_alias(source: &str) -> Option<usize> {
    let bytes = source.as_bytes();
    (1..bytes.len()).find(|&i| {
        bytes[i] == b'*'
            && matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'[' | b'{' | b',')
            && bytes
                .get(i + 1)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    })
}

struct Count {
    left: usize,
}

impl Count {
    fn spend<E: serde::de::Error>(&mut self) -> Result<(), E> {
        match self.left.checked_sub(1) {
            Some(left) if left > 0 => {
                self.left = left;
                Ok(())
            }
            _ => {
                self.left = 0;
                Err(E::custom("alias expansion limit"))
            }
        }
    }
}

impl<'de> DeserializeSeed<'de> for &mut Count {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

macro_rules! count_scalar {
    ($($name:ident: $t:ty),*) => {$(
        fn $name<E: serde::de::Error>(self, _: $t) -> Result<(), E> {
            self.spend()
        }
    )*};
}

impl<'de> Visitor<'de> for &mut Count {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    count_scalar!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_i128: i128,
        visit_u128: u128, visit_f64: f64, visit_str: &str, visit_bytes: &[u8]);
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.spend()
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.spend()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.spend()?;
        while seq.next_element_seed(&mut *self)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.spend()?;
        while map.next_key_seed(&mut *self)?.is_some() {
            map.next_value_seed(&mut *self)?;
        }
        Ok(())
    }
    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        use serde::de::VariantAccess;
        let ((), variant) = data.variant_seed(&mut *self)?;
        variant.newtype_variant_seed(&mut *self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_str(source: &str) -> Result<(), SourceError> {
        check(Path::new("f.yml"), source)
    }

    /// Nine levels of nine references: 9^9 values from about a kilobyte.
    fn bomb() -> String {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 9].join(", ");
            s.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        s
    }

    #[test]
    fn an_alias_bomb_is_refused_with_a_position() {
        let e = check_str(&bomb()).unwrap_err();
        assert!(e.message.contains("alias bomb"), "{e}");
        assert!(e.line > 0 && e.column > 0, "{e}");
    }

    /// Few aliases, each of a big list: under the parser's jump guard, over the node budget.
    #[test]
    fn a_wide_alias_bomb_is_refused_by_the_node_budget() {
        let xs = vec!["x"; 2000].join(",");
        let refs = vec!["*a"; 2000].join(",");
        let src = format!("a: &a [{xs}]\nb: [{refs}]\n");
        let e = check_str(&src).unwrap_err();
        assert!(e.message.contains("alias bomb"), "{e}");
        assert!(e.line > 0, "{e}");
    }

    #[test]
    fn ordinary_aliases_and_merges_pass() {
        let src = "base: &b {user: ops, port: 22}\nh1: {<<: *b, address: 10.0.0.1}\nh2: *b\n";
        check_str(src).unwrap();
    }

    #[test]
    fn deep_flow_nesting_is_refused_at_the_bracket_that_crosses_the_limit() {
        let src = format!("a: {}", "[".repeat(100_000));
        let e = check_str(&src).unwrap_err();
        assert_eq!((e.line, e.column), (1, 4 + MAX_DEPTH), "{e}");
        assert!(e.message.contains("nesting deeper than 64"), "{e}");
    }

    #[test]
    fn brackets_in_quotes_and_comments_do_not_count() {
        let deep = "[".repeat(100);
        let src = format!("a: \"{deep}\"\nb: '{deep}'\n# {deep}\nc: [[1], {{d: [2]}}]\n");
        check_str(&src).unwrap();
    }

    #[test]
    fn a_huge_file_is_refused() {
        let src = "# a comment line\n".repeat(MAX_BYTES / 17 + 1);
        let e = check_str(&src).unwrap_err();
        assert!(e.message.contains("the most drover reads"), "{e}");
        assert!(e.line > 900_000, "{e}");
    }
}
