//! A matcher for the shape nearly every TextFSM rule has: `^`, then literals, repeated
//! character classes (`\S+`, `\s*`, `\d{1,3}`, `[^,]+`), alternations of literals
//! (`up|down`) and capture groups of those, then an optional `$`. It runs such a rule in one
//! pass over the line, each class taking every byte it can, without backtracking.
//!
//! That equals what `regex::bytes` finds (leftmost-first, greedy; compiled as TextFSM rules
//! are, bytes with ASCII classes) only when no choice could have gone another way, which
//! [`LineMatch::new`] checks and otherwise refuses the pattern (the caller keeps `regex`):
//! every repeated class is greedy and no byte it takes can start what follows it (looking
//! through the parts of what follows that may match nothing); no alternative of an
//! alternation is a prefix of another, so at most one can match at a place. Then a class
//! must end exactly where its run of bytes ends (a byte of the run left over could start
//! nothing that follows, and `$` cannot hold before it), there is at most one match, and the
//! greedy engine's choice is that one.

use regex_syntax::hir::{Class, Hir, HirKind, Look};
use regex_syntax::ParserBuilder;

/// One step of a compiled rule.
#[derive(Debug, Clone)]
enum Op {
    /// These bytes, in order.
    Literal(Box<[u8]>),
    /// Between `min` and `max` bytes of the class, as many as there are.
    Class {
        set: Box<[bool; 256]>,
        min: u32,
        max: u32,
    },
    /// One of these (non-empty, none a prefix of another).
    Alternation(Box<[Box<[u8]>]>),
    /// The offset here is slot `n` (group `n / 2`, its start when even).
    Save(usize),
    /// The end of the line.
    End,
}

/// A rule's pattern compiled for the one-pass possessive match.
#[derive(Debug, Clone)]
pub(super) struct LineMatch {
    ops: Vec<Op>,
    slots: usize,
}

impl LineMatch {
    /// `pattern` compiled, when it has the shape and the match cannot differ from
    /// `regex::bytes::RegexBuilder::new(pattern).unicode(false)`'s.
    pub(super) fn new(pattern: &str) -> Option<LineMatch> {
        let hir = ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(pattern)
            .ok()?;
        let HirKind::Concat(parts) = hir.kind() else {
            return None;
        };
        let (first, rest) = parts.split_first()?;
        if !matches!(first.kind(), HirKind::Look(Look::Start)) {
            return None;
        }
        let mut ops = Vec::new();
        let mut slots = 2;
        ops.push(Op::Save(0));
        for (i, part) in rest.iter().enumerate() {
            if let HirKind::Look(Look::End) = part.kind() {
                // Only last: nothing can follow the end of the line.
                if i + 1 != rest.len() {
                    return None;
                }
                ops.push(Op::End);
            } else {
                compile(part, &mut ops, &mut slots)?;
            }
        }
        ops.push(Op::Save(1));
        // Every class must stop where its run stops: nothing that can follow it starts with
        // one of its bytes.
        for (i, op) in ops.iter().enumerate() {
            if let Op::Class { set, .. } = op {
                if first_set(&ops[i + 1..])
                    .iter()
                    .zip(set.iter())
                    .any(|(a, b)| *a && *b)
                {
                    return None;
                }
            }
        }
        Some(LineMatch { ops, slots })
    }

    /// How many slots [`LineMatch::find`] fills: two per group, group 0 the whole match.
    pub(super) fn slot_len(&self) -> usize {
        self.slots
    }

    /// Whether the pattern matches `line`; when it does, `slots` holds where each group
    /// started and ended (`None` for a group that took no part).
    pub(super) fn find(&self, line: &[u8], slots: &mut [Option<usize>]) -> bool {
        slots.iter_mut().for_each(|s| *s = None);
        let mut at = 0;
        for op in &self.ops {
            match op {
                Op::Literal(bytes) => {
                    if !line[at..].starts_with(bytes) {
                        return false;
                    }
                    at += bytes.len();
                }
                Op::Class { set, min, max } => {
                    let room = (line.len() - at).min(*max as usize);
                    let run = line[at..at + room]
                        .iter()
                        .position(|&b| !set[b as usize])
                        .unwrap_or(room);
                    if run < *min as usize {
                        return false;
                    }
                    at += run;
                }
                Op::Alternation(alternatives) => {
                    let Some(found) = alternatives.iter().find(|a| line[at..].starts_with(a))
                    else {
                        return false;
                    };
                    at += found.len();
                }
                Op::Save(n) => {
                    if let Some(slot) = slots.get_mut(*n) {
                        *slot = Some(at);
                    }
                }
                Op::End => {
                    if at != line.len() {
                        return false;
                    }
                }
            }
        }
        true
    }
}

/// Appends the ops for `hir`, or `None` when it has not the shape.
fn compile(hir: &Hir, ops: &mut Vec<Op>, slots: &mut usize) -> Option<()> {
    match hir.kind() {
        HirKind::Empty => {}
        HirKind::Literal(literal) => ops.push(Op::Literal(literal.0.clone())),
        HirKind::Class(class) => ops.push(Op::Class {
            set: byte_set(class)?,
            min: 1,
            max: 1,
        }),
        HirKind::Repetition(rep) => {
            let set = match rep.sub.kind() {
                HirKind::Class(class) => byte_set(class)?,
                // `x?`: a class of one byte.
                HirKind::Literal(literal) if literal.0.len() == 1 => {
                    let mut set = Box::new([false; 256]);
                    set[literal.0[0] as usize] = true;
                    set
                }
                _ => return None,
            };
            if !rep.greedy {
                return None;
            }
            ops.push(Op::Class {
                set,
                min: rep.min,
                max: rep.max.unwrap_or(u32::MAX),
            });
        }
        HirKind::Alternation(subs) => {
            let alternatives = subs
                .iter()
                .map(|sub| match sub.kind() {
                    HirKind::Literal(literal) => Some(literal.0.clone()),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            let prefix = |a: &[u8], b: &[u8]| b.starts_with(a);
            for (i, a) in alternatives.iter().enumerate() {
                for (j, b) in alternatives.iter().enumerate() {
                    if i != j && prefix(a, b) {
                        return None;
                    }
                }
            }
            if alternatives.iter().any(|a| a.is_empty()) {
                return None;
            }
            ops.push(Op::Alternation(alternatives.into()));
        }
        HirKind::Capture(capture) => {
            let group = capture.index as usize;
            *slots = (*slots).max(group * 2 + 2);
            ops.push(Op::Save(group * 2));
            match capture.sub.kind() {
                HirKind::Concat(parts) => {
                    for part in parts {
                        compile(part, ops, slots)?;
                    }
                }
                _ => compile(&capture.sub, ops, slots)?,
            }
            ops.push(Op::Save(group * 2 + 1));
        }
        HirKind::Concat(parts) => {
            for part in parts {
                compile(part, ops, slots)?;
            }
        }
        HirKind::Look(_) => return None,
    }
    Some(())
}

/// The bytes of `class`, when it is a set of bytes (a Unicode class only when all ASCII).
fn byte_set(class: &Class) -> Option<Box<[bool; 256]>> {
    let mut set = Box::new([false; 256]);
    match class {
        Class::Bytes(bytes) => {
            for range in bytes.iter() {
                for b in range.start()..=range.end() {
                    set[b as usize] = true;
                }
            }
        }
        Class::Unicode(chars) => {
            for range in chars.iter() {
                if !range.end().is_ascii() {
                    return None;
                }
                for b in range.start() as u8..=range.end() as u8 {
                    set[b as usize] = true;
                }
            }
        }
    }
    Some(set)
}

/// The bytes a match of `ops` can start with, looking through what may match nothing; the
/// end of the line (and of the match) adds none.
fn first_set(ops: &[Op]) -> [bool; 256] {
    let mut first = [false; 256];
    for op in ops {
        match op {
            Op::Literal(bytes) => {
                if let Some(&b) = bytes.first() {
                    first[b as usize] = true;
                    break;
                }
            }
            Op::Class { set, min, .. } => {
                for (f, s) in first.iter_mut().zip(set.iter()) {
                    *f |= *s;
                }
                if *min > 0 {
                    break;
                }
            }
            Op::Alternation(alternatives) => {
                for a in alternatives.iter() {
                    first[a[0] as usize] = true;
                }
                break;
            }
            Op::Save(_) => {}
            Op::End => break,
        }
    }
    first
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use regex::bytes::RegexBuilder;

    /// A small seeded generator (xorshift), so that failures repeat.
    pub(in crate::parse) struct Rng(u64);

    impl Rng {
        pub(in crate::parse) fn new(seed: u64) -> Rng {
            Rng(seed | 1)
        }
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    /// Bytes odd for a line: spaces, CR, bytes that are not UTF-8, punctuation.
    const ODD: &[u8] = b" \t\r\x0b\x0c\xff\xc3\x80aZ09_-.,:/()\"$";

    /// A line the ops would match, then perhaps spoiled a little.
    fn line_for(ops: &[Op], rng: &mut Rng) -> Vec<u8> {
        let mut line = Vec::new();
        for op in ops {
            match op {
                Op::Literal(bytes) => line.extend_from_slice(bytes),
                Op::Class { set, min, max } => {
                    let members: Vec<u8> = (0..=255u8).filter(|&b| set[b as usize]).collect();
                    let extra = (*max - *min).min(4) as usize;
                    let n = *min as usize + rng.below(extra + 1);
                    for _ in 0..n {
                        line.push(members[rng.below(members.len())]);
                    }
                }
                Op::Alternation(alternatives) => {
                    line.extend_from_slice(&alternatives[rng.below(alternatives.len())])
                }
                Op::Save(_) | Op::End => {}
            }
        }
        line
    }

    fn spoil(line: &mut Vec<u8>, rng: &mut Rng) {
        for _ in 0..rng.below(3) {
            let odd = ODD[rng.below(ODD.len())];
            let at = rng.below(line.len() + 1);
            match rng.below(5) {
                0 if at < line.len() => {
                    line.remove(at);
                }
                1 if at < line.len() => line[at] = odd,
                2 => line.push(odd),
                3 => line.extend_from_slice(b"\r"),
                _ => line.insert(at, odd),
            }
        }
    }

    /// Random lines from the pattern's own bytes and odd ones.
    fn noise(pattern: &str, rng: &mut Rng) -> Vec<u8> {
        let alphabet: Vec<u8> = pattern.bytes().chain(ODD.iter().copied()).collect();
        (0..rng.below(24))
            .map(|_| alphabet[rng.below(alphabet.len())])
            .collect()
    }

    /// The fast matcher and `regex::bytes` agree on every line given and on many generated
    /// ones; returns whether the pattern took the fast path.
    pub(in crate::parse) fn agree(pattern: &str, lines: &[&[u8]], rng: &mut Rng) -> bool {
        let regex = RegexBuilder::new(pattern).unicode(false).build().unwrap();
        let Some(fast) = LineMatch::new(pattern) else {
            return false;
        };
        let mut locations = regex.capture_locations();
        assert_eq!(fast.slot_len(), locations.len() * 2, "{pattern}");
        let mut slots = vec![None; fast.slot_len()];
        let mut generated: Vec<Vec<u8>> = Vec::new();
        for _ in 0..400 {
            let mut line = line_for(&fast.ops, rng);
            if rng.below(2) == 0 {
                spoil(&mut line, rng);
            }
            generated.push(line);
            generated.push(noise(pattern, rng));
        }
        let mut matched = 0;
        for line in lines
            .iter()
            .copied()
            .chain(generated.iter().map(|l| &l[..]))
        {
            let expected = regex.captures_read(&mut locations, line).is_some();
            assert_eq!(
                fast.find(line, &mut slots),
                expected,
                "{pattern} on {line:?}"
            );
            if expected {
                matched += 1;
                for g in 0..locations.len() {
                    let ours = slots[g * 2].zip(slots[g * 2 + 1]);
                    assert_eq!(ours, locations.get(g), "{pattern} group {g} on {line:?}");
                }
            }
        }
        assert!(matched > 0, "{pattern}: no line matched");
        true
    }

    #[test]
    fn hand_written_patterns_agree_with_regex() {
        let mut rng = Rng::new(0x5eed);
        for pattern in [
            r"^(?P<A>\S+)\s+(?P<B>\d+)$",
            r"^\s*$",
            r"^(?P<A>\w+)\s*",
            r"^Interface\s+(?P<IF>\S+)\s+is\s+(?P<S>up|down|administratively down)",
            r"^(?P<A>[^,]+),(?P<B>[^,]*),(?P<C>.*)$",
            r"^(?P<A>\d+)x?\s+(?P<B>-?\d+)$",
            r"^(?P<A>\d{1,3})\.(?P<B>\d{1,3})\.\d{1,3}\.\d{1,3}",
            r"^(?i)mtu\s+(?P<M>\d+)\s+bytes",
            r"^x\d?y\s?$",
            r"^(?P<A>(?P<B>\d+)/(?P<C>\d+))\s+\S*$",
            r"^a(?:b|cd|e)f",
            r"^(?P<E>)\s+x",
            r"^[Ss]ystem\s+(?P<X>\S+)\s*$",
            r"^\d{2}:\d{2}$",
            r"^[\x00-\x7f]+\xff?$",
        ] {
            assert!(agree(pattern, &[b"", b"\r"], &mut rng), "{pattern} refused");
        }
    }

    /// Random patterns of the pieces rules are made of: each one the matcher takes agrees
    /// with `regex`, and enough are taken (and refused) for that to mean something.
    #[test]
    fn random_patterns_agree_with_regex() {
        const ATOMS: &[&str] = &[
            "a",
            "ab",
            " ",
            ":",
            "x",
            "\\s",
            "\\S",
            "\\d",
            "\\w",
            "[^,]",
            ".",
            "[a-c]",
            "[Xx]",
            "\\.",
            "\\xff",
            "(?:ab|c)",
            "(?:up|down|administratively down)",
        ];
        const REPEATS: &[&str] = &["", "", "+", "*", "?", "{1,2}", "{2}", "{0,3}"];
        let mut rng = Rng::new(0xa11ce);
        let (mut taken, mut refused) = (0, 0);
        for _ in 0..1500 {
            let mut pattern = String::from("^");
            let mut group = 0;
            for _ in 0..1 + rng.below(6) {
                let atom = ATOMS[rng.below(ATOMS.len())];
                let repeat = if atom.starts_with("(?:") {
                    ""
                } else {
                    REPEATS[rng.below(REPEATS.len())]
                };
                if rng.below(3) == 0 {
                    group += 1;
                    pattern.push_str(&format!("(?P<G{group}>{atom}{repeat})"));
                } else {
                    pattern.push_str(atom);
                    pattern.push_str(repeat);
                }
            }
            if rng.below(2) == 0 {
                pattern.push('$');
            }
            if agree(&pattern, &[b"", b"ab", b"\r"], &mut rng) {
                taken += 1;
            } else {
                refused += 1;
            }
        }
        assert!(
            taken > 300 && refused > 300,
            "{taken} taken, {refused} refused"
        );
    }

    #[test]
    fn patterns_whose_match_depends_on_backtracking_are_refused() {
        for pattern in [
            r"^\S+\S",
            r"^a*a",
            r"^\d+1",
            r"^\w+\d",
            r"^\s*\s+x",
            r"^.*x",
            r"^\S+\s*\S",
            r"^(?P<A>\d+)?x",
            r"^[^,]+,?.*",
            r"^a|b",
            r"^(a|ab)c",
            r"^(a|b\d)",
            r"^(?:ab)+",
            r"^\S+?x",
            r"^x$y",
            r"\d+",
            r"^(?m)x$",
            r"^\bx",
            r"^(down|downtown)",
            r"^(?:x|)y",
            r"^\d+(?:x?)\d",
        ] {
            assert!(LineMatch::new(pattern).is_none(), "{pattern} accepted");
        }
    }
}
