//! A unified diff of two texts by lines, cut to a number of lines: enough to read what
//! changed in a device's output, not a general-purpose diff tool.

use std::fmt::Write;

/// Lines of context around each change.
const CONTEXT: usize = 2;
/// Above this many line pairs left after the common prefix and suffix, the middle is shown
/// as removed and added whole rather than aligned.
const MAX_CELLS: usize = 4_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same,
    Removed,
    Added,
}

/// `@@ -a,n +b,m @@` hunks with `-`, `+` and ` ` lines; at most `max_lines` lines, then a
/// line saying how many were left out. Empty when the texts are equal.
pub fn unified(old: &str, new: &str, max_lines: usize) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = align(&a, &b);
    let mut lines: Vec<String> = Vec::new();
    // Walk the ops, emitting hunks: runs of changes with up to CONTEXT same lines around.
    let changed: Vec<usize> = (0..ops.len()).filter(|i| ops[*i].0 != Op::Same).collect();
    if changed.is_empty() {
        // Only the trailing newline differs.
        lines.push("\\ the outputs differ only in their final newline".into());
    }
    let mut i = 0;
    while i < changed.len() {
        let start = changed[i].saturating_sub(CONTEXT);
        let mut end = changed[i];
        while i < changed.len() && changed[i] <= end + 2 * CONTEXT + 1 {
            end = changed[i];
            i += 1;
        }
        let end = (end + CONTEXT + 1).min(ops.len());
        let (mut ai, mut bi) = (ops[start].1, ops[start].2);
        let (mut an, mut bn) = (0, 0);
        let mut body = Vec::new();
        for (op, x, y) in &ops[start..end] {
            match op {
                Op::Same => {
                    an += 1;
                    bn += 1;
                    body.push(format!(" {}", a[*x]));
                }
                Op::Removed => {
                    an += 1;
                    body.push(format!("-{}", a[*x]));
                }
                Op::Added => {
                    bn += 1;
                    body.push(format!("+{}", b[*y]));
                }
            }
        }
        if an > 0 {
            ai += 1;
        }
        if bn > 0 {
            bi += 1;
        }
        lines.push(format!("@@ -{ai},{an} +{bi},{bn} @@"));
        lines.extend(body);
    }
    let mut out = String::new();
    let total = lines.len();
    for line in lines.iter().take(max_lines) {
        let _ = writeln!(out, "{line}");
    }
    if total > max_lines {
        let _ = writeln!(out, "… {} more lines", total - max_lines);
    }
    out
}

/// Each op with the line index in `a` and in `b` it stands at.
fn align(a: &[&str], b: &[&str]) -> Vec<(Op, usize, usize)> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut ops: Vec<(Op, usize, usize)> = (0..prefix).map(|i| (Op::Same, i, i)).collect();
    let middle = if ma.len().saturating_mul(mb.len()) <= MAX_CELLS {
        lcs(ma, mb)
    } else {
        let mut m = vec![Op::Removed; ma.len()];
        m.extend(vec![Op::Added; mb.len()]);
        m
    };
    let (mut x, mut y) = (prefix, prefix);
    for op in middle {
        ops.push((op, x, y));
        match op {
            Op::Same => {
                x += 1;
                y += 1;
            }
            Op::Removed => x += 1,
            Op::Added => y += 1,
        }
    }
    for k in 0..suffix {
        ops.push((Op::Same, x + k, y + k));
    }
    ops
}

/// The classic longest-common-subsequence table, walked forwards.
fn lcs(a: &[&str], b: &[&str]) -> Vec<Op> {
    let (n, m) = (a.len(), b.len());
    let mut t = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            t[at(i, j)] = if a[i] == b[j] {
                t[at(i + 1, j + 1)] + 1
            } else {
                t[at(i + 1, j)].max(t[at(i, j + 1)])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::with_capacity(n + m);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push(Op::Same);
            i += 1;
            j += 1;
        } else if i < n && (j == m || t[at(i + 1, j)] >= t[at(i, j + 1)]) {
            ops.push(Op::Removed);
            i += 1;
        } else {
            ops.push(Op::Added);
            j += 1;
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_changed_line_among_many() {
        let old = "a\nb\nc\nd\ne\nf\ng\n";
        let new = "a\nb\nc\nD\ne\nf\ng\n";
        assert_eq!(
            unified(old, new, 20),
            "@@ -2,5 +2,5 @@\n b\n c\n-d\n+D\n e\n f\n"
        );
    }

    #[test]
    fn long_diffs_are_cut() {
        let old: String = (0..100).map(|i| format!("{i}\n")).collect();
        let out = unified(&old, "", 5);
        assert!(out.ends_with("… 96 more lines\n"), "{out}");
        assert_eq!(out.lines().count(), 6);
    }

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified("x\n", "x\n", 5), "");
    }
}
