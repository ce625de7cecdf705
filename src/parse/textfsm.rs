//! A TextFSM interpreter: the template language of Google's TextFSM, which the
//! ntc-templates collection is written in. A template declares `Value`s (a name, options and
//! a regular expression) and states of rules; each line of the output is tried against the
//! current state's rules in order, a matching rule assigns the values its `${Name}`s captured
//! and may record a row, clear values or change state.
//!
//! Supported, with TextFSM's meaning: the value options `Filldown`, `Fillup`, `Required`,
//! `List` and `Key`; the `Start`, `End` and `EOF` states (an implicit `Record` at the end of
//! the input unless the template defines `EOF`); the line actions `Next` and `Continue`; the
//! record actions `NoRecord`, `Record`, `Clear` and `Clearall`; `Error` with its message;
//! `$$` for a literal `$`. Regular expressions are Rust's `regex` dialect, which reads the
//! Python syntax templates use (`(?P<name>…)`, `\d`, `\S+`) but not look-around; a template
//! that needs it fails to compile with its line named, before anything runs.
//!
//! The rules are matched as bytes with ASCII character classes (`\w`, `\s`, `\d` as in
//! Python's `re.ASCII`): device output is ASCII, and Unicode classes keep the regex engine
//! off its fast one-pass path, which made parsing several times slower (bench/README.md).

use std::fmt;
use std::sync::Arc;

use regex::bytes::{CaptureLocations, Regex, RegexBuilder};
use regex_automata::dfa::onepass;
use regex_automata::nfa::thompson;
use regex_automata::util::primitives::NonMaxUsize;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input};

use super::linematch::LineMatch;
use super::records::{Columns, Records, Span};

/// A compiled template.
#[derive(Debug)]
pub struct Template {
    values: Vec<ValueDef>,
    /// The values' names, shared by every output's records.
    columns: Arc<Columns>,
    /// States by index; `Start` is index 0.
    states: Vec<State>,
    has_eof_state: bool,
    /// The `Required` values' indexes.
    required: Vec<usize>,
    /// Whether any value is `Filldown`: else a recorded row leaves every slot unset.
    any_filldown: bool,
}

#[derive(Debug)]
struct ValueDef {
    name: String,
    filldown: bool,
    fillup: bool,
    required: bool,
    list: bool,
}

#[derive(Debug)]
struct State {
    rules: Vec<Rule>,
}

#[derive(Debug)]
struct Rule {
    regex: Regex,
    /// The same pattern as a one-pass DFA, when it is one and anchored at the start (every
    /// usual rule is: `^` and no ambiguity): the capture engine `regex` itself would pick
    /// for it, called directly, without the meta engine's dispatch and cache pool per line
    /// (bench/README.md). Else `regex`'s own capture search.
    onepass: Option<onepass::DFA>,
    /// The same pattern for the one-pass line matcher, when it has the shape and no choice
    /// a backtracking engine could make otherwise (src/parse/linematch.rs): before both.
    fast: Option<LineMatch>,
    /// The capture groups of `regex` that assign a value, and the value each assigns.
    assigns: Vec<(usize, usize)>,
    line: LineOp,
    record: RecordOp,
    next: Next,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum LineOp {
    Next,
    Continue,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum RecordOp {
    NoRecord,
    Record,
    Clear,
    Clearall,
}

#[derive(Debug, Clone, PartialEq)]
enum Next {
    Stay,
    State(usize),
    End,
    Eof,
    /// `Error "message"`.
    Error(String),
}

/// A template that does not compile: the 1-based line of the template and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The output hit a rule whose action is `Error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line of the output.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "output line {}: {}", self.line, self.message)
    }
}

fn err(line: usize, message: impl Into<String>) -> TemplateError {
    TemplateError {
        line,
        message: message.into(),
    }
}

impl Template {
    /// Compiles a template's source text.
    pub fn compile(source: &str) -> Result<Template, TemplateError> {
        let lines: Vec<&str> = source.lines().collect();
        let mut values: Vec<ValueDef> = Vec::new();
        let mut value_patterns: Vec<String> = Vec::new();
        let mut i = 0;
        // The Value section: up to the first blank line after at least one line.
        while i < lines.len() {
            let line = lines[i].trim_end();
            let number = i + 1;
            i += 1;
            if is_comment(line) {
                continue;
            }
            if line.is_empty() {
                if values.is_empty() {
                    continue;
                }
                break;
            }
            let Some(rest) = line.strip_prefix("Value ") else {
                return Err(err(
                    number,
                    "expected `Value [Options] Name (regex)`, or a blank line before the states",
                ));
            };
            let (def, pattern) = parse_value(rest.trim_start(), number)?;
            if values.iter().any(|v| v.name == def.name) {
                return Err(err(
                    number,
                    format!("value `{}` is declared twice", def.name),
                ));
            }
            compile_regex(&pattern)
                .map_err(|e| err(number, format!("bad regular expression: {}", one_line(&e))))?;
            values.push(def);
            value_patterns.push(pattern);
        }
        if values.is_empty() {
            return Err(err(lines.len().max(1), "the template declares no `Value`"));
        }
        // The states: a name in column 1, then its rules, indented.
        let mut names: Vec<(String, usize)> = Vec::new();
        let mut raw: Vec<Vec<(usize, &str)>> = Vec::new();
        for (offset, line) in lines[i..].iter().enumerate() {
            let number = i + offset + 1;
            let line = line.trim_end();
            if line.is_empty() || is_comment(line) {
                continue;
            }
            if line.starts_with(char::is_whitespace) {
                let Some(rules) = raw.last_mut() else {
                    return Err(err(number, "a rule before any state name"));
                };
                rules.push((number, line.trim_start()));
            } else {
                let valid = line.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !valid || line.len() > 48 {
                    return Err(err(number, format!("`{line}` is not a state name")));
                }
                if names.iter().any(|(n, _)| n == line) {
                    return Err(err(number, format!("state `{line}` is declared twice")));
                }
                if line == "End" {
                    return Err(err(number, "`End` is reserved and takes no rules"));
                }
                names.push((line.to_string(), number));
                raw.push(Vec::new());
            }
        }
        let Some(start) = names.iter().position(|(n, _)| n == "Start") else {
            return Err(err(lines.len().max(1), "the template has no `Start` state"));
        };
        // Start first, so the machine starts at index 0.
        names.swap(0, start);
        raw.swap(0, start);
        let has_eof_state = names.iter().any(|(n, _)| n == "EOF");
        let mut states = Vec::with_capacity(raw.len());
        for rules in &raw {
            let mut compiled = Vec::with_capacity(rules.len());
            for &(number, text) in rules {
                compiled.push(compile_rule(
                    text,
                    number,
                    &values,
                    &value_patterns,
                    &names,
                )?);
            }
            states.push(State { rules: compiled });
        }
        let columns = Arc::new(Columns::new(
            values.iter().map(|v| (v.name.clone(), v.list)).collect(),
        ));
        let required = (0..values.len()).filter(|&i| values[i].required).collect();
        let any_filldown = values.iter().any(|v| v.filldown);
        Ok(Template {
            values,
            columns,
            states,
            has_eof_state,
            required,
            any_filldown,
        })
    }

    /// The declared value names, in order: the columns of every record.
    pub fn header(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|v| v.name.as_str())
    }

    /// Runs the template over `text`: one record per `Record`, columns in `Value` order; a
    /// `List` value is a list of strings, any other a string (empty when unset).
    pub fn parse(&self, text: &str) -> Result<Records, ParseError> {
        let mut run = Run::new(self, text);
        let mut scratch: Vec<Vec<Scratch>> = self
            .states
            .iter()
            .map(|s| s.rules.iter().map(Scratch::new).collect())
            .collect();
        let mut state = 0;
        let mut finished = false;
        'lines: for (n, (offset, bytes)) in Lines::new(text).enumerate() {
            let rules = &self.states[state].rules;
            for (ri, rule) in rules.iter().enumerate() {
                if rule.assigns.is_empty() {
                    // Nothing to capture: the cheaper yes/no search.
                    let found = match &rule.fast {
                        Some(fast) => fast.find(bytes, &mut scratch[state][ri].fast),
                        None => rule.regex.is_match(bytes),
                    };
                    if !found {
                        continue;
                    }
                } else {
                    let scratch = &mut scratch[state][ri];
                    if !scratch.captures(rule, bytes) {
                        continue;
                    }
                    for &(group, value) in &rule.assigns {
                        let cut = scratch.get(group).map(|(a, b)| Cut {
                            start: offset + a,
                            end: offset + b,
                        });
                        run.assign(value, cut);
                    }
                }
                if let Next::Error(message) = &rule.next {
                    return Err(ParseError {
                        line: n + 1,
                        message: message.clone(),
                    });
                }
                if rule.line == LineOp::Error {
                    // Lines end at ASCII bytes of `text`: character boundaries.
                    let line = text.get(offset..offset + bytes.len()).unwrap_or_default();
                    return Err(ParseError {
                        line: n + 1,
                        message: format!("the template's Error rule matched `{line}`"),
                    });
                }
                match rule.record {
                    RecordOp::NoRecord => {}
                    RecordOp::Record => run.record(),
                    RecordOp::Clear => run.clear(false),
                    RecordOp::Clearall => run.clear(true),
                }
                if run.too_big {
                    return Err(too_big(n + 1));
                }
                if rule.line == LineOp::Continue {
                    continue;
                }
                match rule.next {
                    Next::Stay | Next::Error(_) => {}
                    Next::State(s) => state = s,
                    Next::End => {
                        finished = true;
                        break 'lines;
                    }
                    Next::Eof => break 'lines,
                }
                continue 'lines;
            }
        }
        if !finished && !self.has_eof_state {
            run.record();
            if run.too_big {
                return Err(too_big(text.lines().count()));
            }
        }
        let mut out = run.out;
        // Kept until the report is written: not with up to twice the room they need.
        out.text.shrink_to_fit();
        out.fields.shrink_to_fit();
        Ok(out)
    }
}

/// A rule's capture buffers, made once per output.
struct Scratch {
    locations: CaptureLocations,
    /// For [`Rule::onepass`]: its cache and slots (two per group).
    onepass: Option<(onepass::Cache, Vec<Option<NonMaxUsize>>)>,
    /// For [`Rule::fast`]: its slots.
    fast: Vec<Option<usize>>,
    /// The engine of the last search.
    by: Engine,
}

#[derive(Clone, Copy, PartialEq)]
enum Engine {
    Fast,
    OnePass,
    Regex,
}

impl Scratch {
    fn new(rule: &Rule) -> Scratch {
        Scratch {
            locations: rule.regex.capture_locations(),
            onepass: rule.onepass.as_ref().map(|dfa| {
                let slots = vec![None; dfa.get_nfa().group_info().slot_len()];
                (dfa.create_cache(), slots)
            }),
            fast: vec![None; rule.fast.as_ref().map_or(0, LineMatch::slot_len)],
            by: Engine::Regex,
        }
    }

    /// Whether `rule` matches `line`, keeping where its groups matched.
    fn captures(&mut self, rule: &Rule, line: &[u8]) -> bool {
        if let Some(fast) = &rule.fast {
            self.by = Engine::Fast;
            return fast.find(line, &mut self.fast);
        }
        if let (Some(dfa), Some((cache, slots))) = (&rule.onepass, &mut self.onepass) {
            let input = Input::new(line).anchored(Anchored::Yes);
            // A one-pass DFA's anchored search has no reason to fail; should it, `regex`
            // answers.
            if let Ok(found) = dfa.try_search_slots(cache, &input, slots) {
                self.by = Engine::OnePass;
                return found.is_some();
            }
        }
        self.by = Engine::Regex;
        rule.regex
            .captures_read(&mut self.locations, line)
            .is_some()
    }

    /// Where group `group` matched in the last line that matched.
    fn get(&self, group: usize) -> Option<(usize, usize)> {
        match &self.onepass {
            _ if self.by == Engine::Fast => {
                let start = self.fast.get(group * 2).copied().flatten()?;
                let end = self.fast.get(group * 2 + 1).copied().flatten()?;
                Some((start, end))
            }
            Some((_, slots)) if self.by == Engine::OnePass => {
                let start = slots.get(group * 2).copied().flatten()?;
                let end = slots.get(group * 2 + 1).copied().flatten()?;
                Some((start.get(), end.get()))
            }
            _ => self.locations.get(group),
        }
    }
}

/// The lines of an output as `str::lines` cuts them (at `\n`, dropping a `\r` before it),
/// each with the offset where it starts in the output; found with `memchr`.
struct Lines<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        Lines {
            text: text.as_bytes(),
            at: 0,
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<(usize, &'a [u8])> {
        let start = self.at;
        let rest = self.text.get(start..).filter(|r| !r.is_empty())?;
        let line = match memchr::memchr(b'\n', rest) {
            Some(i) => {
                self.at = start + i + 1;
                let line = &rest[..i];
                line.strip_suffix(b"\r").unwrap_or(line)
            }
            None => {
                self.at = self.text.len();
                rest
            }
        };
        Some((start, line))
    }
}

fn too_big(line: usize) -> ParseError {
    ParseError {
        line,
        message: "the records hold over 4 GiB of text".into(),
    }
}

/// A byte range of the output being parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cut {
    start: usize,
    end: usize,
}

/// One pass of the machine over an output: the row being filled, as ranges of the output
/// (copied only when the row is recorded), and the records so far.
struct Run<'t, 'i> {
    template: &'t Template,
    input: &'i str,
    current: Vec<Slot>,
    /// What a `Filldown` value carries into the next row.
    kept: Vec<Slot>,
    out: Records,
    /// Per column, the range of the output last copied into `out` and where it went, so a
    /// `Filldown` value repeated row after row is stored once.
    copied: Vec<Option<(Cut, Span)>>,
    /// The records outgrew the 32-bit offsets of [`Records`].
    too_big: bool,
}

#[derive(Debug, Clone, Default)]
enum Slot {
    #[default]
    Unset,
    One(Cut),
    Many(Vec<Cut>),
}

impl Slot {
    fn is_empty(&self) -> bool {
        match self {
            Slot::Unset => true,
            Slot::One(_) => false,
            Slot::Many(v) => v.is_empty(),
        }
    }
}

impl<'t, 'i> Run<'t, 'i> {
    fn new(template: &'t Template, input: &'i str) -> Run<'t, 'i> {
        let n = template.values.len();
        Run {
            template,
            input,
            current: vec![Slot::Unset; n],
            kept: vec![Slot::Unset; n],
            out: Records::new(template.columns.clone()),
            copied: vec![None; n],
            too_big: false,
        }
    }

    fn assign(&mut self, index: usize, cut: Option<Cut>) {
        let def = &self.template.values[index];
        let slot = &mut self.current[index];
        if def.list {
            if let Some(c) = cut {
                match slot {
                    Slot::Many(items) => items.push(c),
                    _ => *slot = Slot::Many(vec![c]),
                }
            }
        } else {
            *slot = cut.map_or(Slot::Unset, Slot::One);
        }
        if def.filldown {
            self.kept[index] = slot.clone();
        }
        if def.fillup {
            if let Some(c) = cut {
                self.fill_up(index, c);
            }
        }
    }

    /// Fills the same column of earlier rows upwards, until one already has it.
    /// A `List` column's fields are never filled.
    fn fill_up(&mut self, column: usize, cut: Cut) {
        if self.template.values[column].list {
            return;
        }
        let width = self.template.values.len();
        let mut span = None;
        for row in (0..self.out.fields.len() / width).rev() {
            let at = row * width + column;
            if self.out.fields[at].start != self.out.fields[at].end {
                break;
            }
            let s = match span {
                Some(s) => s,
                None => *span.insert(self.copy(column, cut)),
            };
            self.out.fields[at] = s;
        }
    }

    /// Copies a range of the output into the records' text. Matching is on bytes with ASCII
    /// classes, which can cut a multi-byte character: then lossy, never a panic.
    fn copy(&mut self, column: usize, cut: Cut) -> Span {
        if let Some((c, span)) = self.copied[column] {
            if c == cut {
                return span;
            }
        }
        let text = &mut self.out.text;
        let start = text.len();
        match self.input.get(cut.start..cut.end) {
            Some(s) => text.push_str(s),
            None => text.push_str(&String::from_utf8_lossy(
                &self.input.as_bytes()[cut.start..cut.end],
            )),
        }
        let (Ok(start), Ok(end)) = (u32::try_from(start), u32::try_from(text.len())) else {
            self.too_big = true;
            return Span::EMPTY;
        };
        let span = Span { start, end };
        self.copied[column] = Some((cut, span));
        span
    }

    fn record(&mut self) {
        if self.current.iter().all(Slot::is_empty) {
            return;
        }
        let template = self.template;
        if template
            .required
            .iter()
            .any(|&i| self.current[i].is_empty())
        {
            self.clear(false);
            return;
        }
        // Taken, not cloned: every slot is left unset, and `clear` below refills the
        // Filldown ones from `kept`.
        for column in 0..template.values.len() {
            let field = match std::mem::take(&mut self.current[column]) {
                Slot::Unset => Span::EMPTY,
                Slot::One(cut) => self.copy(column, cut),
                Slot::Many(cuts) => {
                    let first = self.out.items.len();
                    for cut in cuts {
                        let span = self.copy(column, cut);
                        self.out.items.push(span);
                    }
                    match (u32::try_from(first), u32::try_from(self.out.items.len())) {
                        (Ok(start), Ok(end)) => Span { start, end },
                        _ => {
                            self.too_big = true;
                            Span::EMPTY
                        }
                    }
                }
            };
            self.out.fields.push(field);
        }
        if template.any_filldown {
            self.clear(false);
        }
    }

    /// `Clear` keeps `Filldown` values; `Clearall` (and `all`) drops them too.
    fn clear(&mut self, all: bool) {
        for (i, def) in self.template.values.iter().enumerate() {
            if all {
                self.kept[i] = Slot::Unset;
            }
            self.current[i] = if def.filldown && !all {
                self.kept[i].clone()
            } else {
                Slot::Unset
            };
        }
    }
}

fn compile_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).unicode(false).build()
}

/// `pattern` as a one-pass DFA, compiled as `compile_regex` compiles it (bytes, ASCII
/// classes, leftmost-first; the configuration `regex::bytes` gives its engines), when it is
/// one and every match starts at the start of the line, so that an anchored search finds
/// what `regex` finds.
fn compile_onepass(pattern: &str) -> Option<onepass::DFA> {
    let nfa = thompson::Compiler::new()
        .syntax(syntax::Config::new().unicode(false).utf8(false))
        .configure(
            thompson::Config::new()
                .utf8(false)
                .shrink(false)
                .nfa_size_limit(Some(10 << 20)),
        )
        .build(pattern)
        .ok()?;
    if !nfa.is_always_start_anchored() {
        return None;
    }
    onepass::Builder::new().build_from_nfa(nfa).ok()
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

fn one_line(e: &regex::Error) -> String {
    e.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `[Options] Name (regex)` after `Value `.
fn parse_value(rest: &str, number: usize) -> Result<(ValueDef, String), TemplateError> {
    let mut def = ValueDef {
        name: String::new(),
        filldown: false,
        fillup: false,
        required: false,
        list: false,
    };
    let (first, after) = split_word(rest);
    // Options are there when a second word, the name, comes before the `(`.
    let second = split_word(after.trim_start());
    let has_options = !after.trim_start().starts_with('(')
        && !second.0.is_empty()
        && second.1.trim_start().starts_with('(');
    let (name, pattern) = if !has_options {
        (first, after.trim_start())
    } else {
        for option in first.split(',') {
            match option {
                "Filldown" => def.filldown = true,
                "Fillup" => def.fillup = true,
                "Required" => def.required = true,
                "List" => def.list = true,
                "Key" => {}
                other => {
                    return Err(err(
                        number,
                        format!(
                            "unknown value option `{other}` (expected Filldown, Fillup, Key, List or Required)"
                        ),
                    ))
                }
            }
        }
        let (name, pattern) = split_word(after.trim_start());
        (name, pattern.trim_start())
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(err(number, format!("`{name}` is not a value name")));
    }
    if !(pattern.starts_with('(') && pattern.ends_with(')')) {
        return Err(err(
            number,
            format!("the regular expression of `{name}` must be in parentheses: `({pattern})`"),
        ));
    }
    def.name = name.to_string();
    Ok((def, pattern.to_string()))
}

fn split_word(text: &str) -> (&str, &str) {
    match text.find(char::is_whitespace) {
        Some(i) => (&text[..i], &text[i..]),
        None => (text, ""),
    }
}

/// A rule line, `^regex` with an optional ` -> Action`.
fn compile_rule(
    text: &str,
    number: usize,
    values: &[ValueDef],
    patterns: &[String],
    states: &[(String, usize)],
) -> Result<Rule, TemplateError> {
    if !text.starts_with('^') {
        return Err(err(number, "a rule starts with `^`"));
    }
    // TextFSM splits at the last ` -> `.
    let (pattern, action) = match text.rfind(" -> ") {
        Some(i) => (&text[..i], text[i + 4..].trim()),
        None => (text, ""),
    };
    let (line, record, next) = parse_action(action, number, states)?;
    let mut expanded = String::with_capacity(pattern.len() * 2);
    let mut order: Vec<usize> = Vec::new();
    let mut rest = pattern;
    while let Some(i) = rest.find('$') {
        expanded.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            expanded.push('$');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('{') {
            let Some(end) = tail.find('}') else {
                return Err(err(number, "`${` without its closing `}`"));
            };
            let name = &tail[..end];
            let Some(v) = values.iter().position(|d| d.name == name) else {
                return Err(err(
                    number,
                    format!("`${{{name}}}` names no declared Value"),
                ));
            };
            let inner = &patterns[v][1..patterns[v].len() - 1];
            expanded.push_str(&format!("(?P<{name}>{inner})"));
            order.push(v);
            rest = &tail[end + 1..];
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            let name = &after[..len];
            match values.iter().position(|d| d.name == name) {
                Some(v) if !name.is_empty() => {
                    let inner = &patterns[v][1..patterns[v].len() - 1];
                    expanded.push_str(&format!("(?P<{name}>{inner})"));
                    order.push(v);
                }
                // A bare `$` is the end-of-line anchor.
                _ => {
                    expanded.push('$');
                    expanded.push_str(name);
                }
            }
            rest = &after[len..];
        }
    }
    expanded.push_str(rest);
    let regex = compile_regex(&expanded)
        .map_err(|e| err(number, format!("bad regular expression: {}", one_line(&e))))?;
    let assigns = regex
        .capture_names()
        .enumerate()
        .filter_map(|(group, n)| {
            Some((
                group,
                values.iter().position(|d| Some(d.name.as_str()) == n)?,
            ))
        })
        .collect::<Vec<_>>();
    // For the rules that capture (else the yes/no search), and only with the same groups as
    // `regex` (it has them: the same parser numbers them).
    let onepass = (!assigns.is_empty())
        .then(|| compile_onepass(&expanded))
        .flatten()
        .filter(|dfa| {
            dfa.get_nfa()
                .group_info()
                .pattern_names(regex_automata::PatternID::ZERO)
                .eq(regex.capture_names())
        });
    let fast = LineMatch::new(&expanded);
    Ok(Rule {
        regex,
        onepass,
        fast,
        assigns,
        line,
        record,
        next,
    })
}

fn parse_action(
    action: &str,
    number: usize,
    states: &[(String, usize)],
) -> Result<(LineOp, RecordOp, Next), TemplateError> {
    let mut line = LineOp::Next;
    let mut record = RecordOp::NoRecord;
    if action.is_empty() {
        return Ok((line, record, Next::Stay));
    }
    let (ops, target) = split_word(action);
    let target = target.trim();
    let mut parse_op = |op: &str| -> Result<bool, TemplateError> {
        match op {
            "Next" => line = LineOp::Next,
            "Continue" => line = LineOp::Continue,
            "Error" => line = LineOp::Error,
            "NoRecord" => record = RecordOp::NoRecord,
            "Record" => record = RecordOp::Record,
            "Clear" => record = RecordOp::Clear,
            "Clearall" => record = RecordOp::Clearall,
            _ => return Ok(false),
        }
        Ok(true)
    };
    let known = match ops.split_once('.') {
        Some((a, b)) => {
            let line_op = matches!(a, "Next" | "Continue" | "Error");
            if !line_op {
                return Err(err(
                    number,
                    format!("`{a}.{b}`: the first part is Next, Continue or Error"),
                ));
            }
            parse_op(a)? && parse_op(b)?
        }
        None => parse_op(ops)?,
    };
    let state_name = if known {
        target
    } else if target.is_empty() {
        // `-> StateName` alone.
        ops
    } else {
        return Err(err(number, format!("`{ops}` is not an action")));
    };
    if line == LineOp::Error {
        let message = state_name.trim_matches('"');
        let message = if message.is_empty() {
            "the template's Error rule matched".to_string()
        } else {
            message.to_string()
        };
        return Ok((line, record, Next::Error(message)));
    }
    let next = match state_name {
        "" => Next::Stay,
        "End" => Next::End,
        "EOF" if !states.iter().any(|(n, _)| n == "EOF") => Next::Eof,
        name => match states.iter().position(|(n, _)| n == name) {
            Some(i) => Next::State(i),
            None => return Err(err(number, format!("state `{name}` is not declared"))),
        },
    };
    if line == LineOp::Continue && next != Next::Stay {
        return Err(err(
            number,
            "`Continue` stays in its state: it cannot name a new state",
        ));
    }
    Ok((line, record, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value as Json};

    fn rows(template: &str, text: &str) -> Json {
        let t = Template::compile(template).unwrap();
        t.parse(text).unwrap().to_json()
    }

    #[test]
    fn records_rows_with_filldown_and_required() {
        let template = "\
Value Filldown Chassis (\\S+)
Value Required Slot (\\d+)
Value Model (\\S+)

Start
  ^Chassis ${Chassis}
  ^Slot ${Slot} ${Model} -> Record
";
        let text = "Chassis c1\nSlot 1 A\nSlot 2 B\nChassis c2\nSlot 3 C\n";
        assert_eq!(
            rows(template, text),
            json!([
                {"Chassis": "c1", "Slot": "1", "Model": "A"},
                {"Chassis": "c1", "Slot": "2", "Model": "B"},
                {"Chassis": "c2", "Slot": "3", "Model": "C"},
            ])
        );
    }

    #[test]
    fn required_empty_row_is_dropped_and_eof_records() {
        let template =
            "Value Required A (\\d+)\nValue B (\\w+)\n\nStart\n  ^b ${B} -> Record\n  ^a ${A}\n";
        // The first row lacks A and is dropped; the implicit EOF record keeps the last A.
        assert_eq!(rows(template, "b x\na 1\n"), json!([{"A": "1", "B": ""}]));
    }

    #[test]
    fn an_eof_state_suppresses_the_implicit_record() {
        let template = "Value A (\\d+)\n\nStart\n  ^a ${A}\n\nEOF\n";
        assert_eq!(rows(template, "a 1\n"), json!([]));
    }

    #[test]
    fn list_values_and_continue() {
        let template = "\
Value Name (\\S+)
Value List Members (\\S+)

Start
  ^group -> Continue.Record
  ^group ${Name}
  ^  member ${Members}
";
        let text = "group a\n  member x\n  member y\ngroup b\n  member z\n";
        assert_eq!(
            rows(template, text),
            json!([
                {"Name": "a", "Members": ["x", "y"]},
                {"Name": "b", "Members": ["z"]},
            ])
        );
    }

    #[test]
    fn states_and_end() {
        let template = "\
Value Peer (\\S+)
Value State (\\S+)

Start
  ^Neighbor -> Table

Table
  ^${Peer}\\s+${State}$$ -> Record
  ^-- -> End
";
        let text =
            "junk\nNeighbor State\n10.0.0.1 Established\n10.0.0.2 Idle\n--\n10.9.9.9 Active\n";
        assert_eq!(
            rows(template, text),
            json!([
                {"Peer": "10.0.0.1", "State": "Established"},
                {"Peer": "10.0.0.2", "State": "Idle"},
            ])
        );
    }

    #[test]
    fn fillup_fills_earlier_rows() {
        let template =
            "Value A (\\d)\nValue Fillup B (\\w)\n\nStart\n  ^a ${A} -> Record\n  ^b ${B}\n";
        assert_eq!(
            rows(template, "a 1\na 2\nb x\n"),
            // The last row is the implicit record at the end, holding B itself.
            json!([{"A": "1", "B": "x"}, {"A": "2", "B": "x"}, {"A": "", "B": "x"}])
        );
    }

    #[test]
    fn error_action_fails_the_parse() {
        let t = Template::compile(
            "Value A (\\d)\n\nStart\n  ^a ${A}\n  ^. -> Error \"unexpected line\"\n",
        )
        .unwrap();
        let e = t.parse("a 1\nzzz\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(e.message, "unexpected line");
    }

    #[test]
    fn clearall_drops_filldown() {
        let template = "Value Filldown A (\\d)\nValue B (\\w)\n\nStart\n  ^a ${A}\n  ^b ${B} -> Record\n  ^reset -> Clearall\n";
        assert_eq!(
            rows(template, "a 1\nb x\nreset\nb y\n"),
            json!([{"A": "1", "B": "x"}, {"A": "", "B": "y"}])
        );
    }

    #[test]
    fn compile_errors_name_the_line() {
        let cases = [
            ("Value A \\d+\n\nStart\n", 1, "parentheses"),
            (
                "Value Bogus A (x)\n\nStart\n",
                1,
                "unknown value option `Bogus`",
            ),
            (
                "Value A (x)\n\nStart\n  ^${B}\n",
                4,
                "names no declared Value",
            ),
            (
                "Value A (x)\n\nStart\n  ^x -> Nowhere\n",
                4,
                "state `Nowhere`",
            ),
            (
                "Value A (x)\n\nStart\n  ^x -> Continue.Record Other\n\nOther\n",
                4,
                "Continue",
            ),
            ("Value A (x)\n\nBegin\n  ^x\n", 4, "no `Start`"),
            ("Value A ((?<=a)x)\n\nStart\n", 1, "bad regular expression"),
            ("Value A (x)\n\nStart\n  x\n", 4, "starts with `^`"),
        ];
        for (template, line, needle) in cases {
            let e = Template::compile(template).unwrap_err();
            assert_eq!(e.line, line, "{template}: {e}");
            assert!(e.message.contains(needle), "{template}: {e}");
        }
    }

    #[test]
    fn non_ascii_output_is_read_lossily_without_panicking() {
        let template = "Value A (\\S+)\nValue B (.+)\n\nStart\n  ^${A} ${B} -> Record\n";
        assert_eq!(
            rows(template, "Gi0/1 Büro-Uplink\nÄ b\n"),
            json!([{"A": "Gi0/1", "B": "Büro-Uplink"}, {"A": "Ä", "B": "b"}])
        );
    }

    #[test]
    fn filldown_list_values_carry_until_clearall() {
        let template = "\
Value Filldown,List Tags (\\w+)
Value Name (\\w+)

Start
  ^tag ${Tags}
  ^name ${Name} -> Record
  ^reset -> Clearall
";
        let text = "tag a\ntag b\nname x\nname y\ntag c\nname z\nreset\nname w\n";
        assert_eq!(
            rows(template, text),
            json!([
                {"Tags": ["a", "b"], "Name": "x"},
                {"Tags": ["a", "b"], "Name": "y"},
                {"Tags": ["a", "b", "c"], "Name": "z"},
                {"Tags": [], "Name": "w"},
            ])
        );
    }

    #[test]
    fn fillup_stops_at_a_row_that_has_the_value() {
        let template =
            "Value A (\\d)\nValue Fillup B (\\w)\n\nStart\n  ^a ${A} -> Record\n  ^b ${B}\n";
        assert_eq!(
            rows(template, "a 1\nb x\na 2\na 3\nb y\n"),
            json!([
                {"A": "1", "B": "x"},
                {"A": "2", "B": "x"},
                {"A": "3", "B": "y"},
                {"A": "", "B": "y"},
            ])
        );
    }

    #[test]
    fn a_capture_that_cuts_a_character_is_read_lossily() {
        // `\S` without Unicode is one byte: here half of `Ä`.
        let template = "Value A (\\S)\nValue B (.*)\n\nStart\n  ^${A}${B} -> Record\n";
        assert_eq!(
            rows(template, "Äb\n"),
            json!([{"A": "\u{FFFD}", "B": "\u{FFFD}b"}])
        );
    }

    #[test]
    fn a_required_value_set_then_cleared_drops_only_its_row() {
        let template = "\
Value Required A (\\d)
Value B (\\w)

Start
  ^a ${A}
  ^b ${B} -> Record
  ^x -> Clear
";
        assert_eq!(
            rows(template, "a 1\nb p\nb q\na 2\nx\nb r\na 3\nb s\n"),
            json!([{"A": "1", "B": "p"}, {"A": "3", "B": "s"}])
        );
    }

    /// The fixture template's capturing rule is a one-pass DFA, and parsing without it
    /// gives the same records.
    #[test]
    fn one_pass_rules_parse_as_the_regex_engine_does() {
        let source =
            include_str!("../../tests/fixtures/textfsm/cisco_ios_show_ip_interface_brief.textfsm");
        let fast = Template::compile(source).unwrap();
        let rules = || fast.states.iter().flat_map(|s| &s.rules);
        assert_eq!(rules().filter(|r| r.onepass.is_some()).count(), 1);
        assert!(rules().all(|r| r.onepass.is_some() != r.assigns.is_empty()));
        let mut slow = Template::compile(source).unwrap();
        for rule in slow.states.iter_mut().flat_map(|s| &mut s.rules) {
            rule.onepass = None;
            rule.fast = None;
        }
        let text = "Interface              IP-Address      OK? Method Status                Protocol\n\
                    Gi0/1                  10.0.0.1        YES NVRAM  up                    up      \n\
                    Gi0/2                  unassigned      YES unset  administratively down down    \r\n\
                    Vlan1                  10.1.1.1        YES NVRAM  down                  down\n\
                    \n";
        let rows = fast.parse(text).unwrap().to_json();
        assert_eq!(rows, slow.parse(text).unwrap().to_json());
        assert_eq!(rows.as_array().unwrap().len(), 3);
        assert_eq!(rows[1]["STATUS"], "administratively down");
        let bad = format!("{text}Gi0/3 junk\n");
        assert_eq!(fast.parse(&bad).unwrap_err(), slow.parse(&bad).unwrap_err());
        // Unanchored alternatives, optional groups, bytes that are not UTF-8.
        let template = "\
Value A (\\d+)
Value B (x?)
Value C (.)

Start
  ^a ${A}|b ${B}
  ^c${C}(?:!)?$$ -> Record
";
        let mut slow = Template::compile(template).unwrap();
        let fast = Template::compile(template).unwrap();
        assert!(fast.states[0].rules[0].onepass.is_none(), "not anchored");
        for rule in slow.states.iter_mut().flat_map(|s| &mut s.rules) {
            rule.onepass = None;
            rule.fast = None;
        }
        let text = "a 1\nzb x\nb \ncä\ncz!\nc\n";
        assert_eq!(
            fast.parse(text).unwrap().to_json(),
            slow.parse(text).unwrap().to_json()
        );
    }

    /// Every rule of the fixture templates the line matcher takes matches as `regex` does,
    /// on the fixture outputs' lines and generated ones; the interface table's rules take it,
    /// and parsing with it gives what the one-pass DFA and `regex` alone give.
    #[test]
    fn line_matcher_rules_match_as_regex_does() {
        use super::super::linematch::tests::{agree, Rng};
        let brief =
            include_str!("../../tests/fixtures/textfsm/cisco_ios_show_ip_interface_brief.textfsm");
        let version = include_str!("../../tests/fixtures/textfsm/cisco_ios_show_version.textfsm");
        let text = "Interface              IP-Address      OK? Method Status                Protocol\n\
                    Gi0/1                  10.0.0.1        YES NVRAM  up                    up      \n\
                    Gi0/2                  unassigned      YES unset  administratively down down    \r\n\
                    Vlan1                  10.1.1.1        YES NVRAM  down                  down\n\
                    Vlan2 10.1.1.2 YES NVRAM down downx\n\
                    Vlan3 10.1.1.3 YES NVRAM up up\t\x0c\n\
                    \u{e4}\u{f6} \u{e4} YES NVRAM up up\n\
                    \n   \nGi0/3 junk\n";
        let mut lines: Vec<&[u8]> = text.split('\n').map(str::as_bytes).collect();
        lines.extend([
            &b"ROM: System Bootstrap, Version 15.0(1r)M15"[..],
            b"ROM:",
            b"Processor board ID FTX1234A5BC",
            b"processor  board ID\tX\r",
            b"Model number : WS-C2960X",
            b"Configuration register is 0x2102",
            b"Configuration register is ",
            b"\xff\xfe Interface",
        ]);
        let mut rng = Rng::new(0x7e47f5);
        let mut fast_rules = Vec::new();
        for source in [brief, version] {
            let template = Template::compile(source).unwrap();
            for rule in template.states.iter().flat_map(|s| &s.rules) {
                let pattern = rule.regex.as_str();
                let took = agree(pattern, &lines, &mut rng);
                assert_eq!(took, rule.fast.is_some(), "{pattern}");
                if took {
                    fast_rules.push(pattern.to_string());
                }
            }
        }
        assert_eq!(
            fast_rules,
            [
                "^Interface\\s+IP-Address",
                "^.",
                "^(?P<INTERFACE>\\S+)\\s+(?P<IP_ADDRESS>\\S+)\\s+\\w+\\s+\\w+\\s+\
                 (?P<STATUS>up|down|administratively down)\\s+(?P<PROTO>up|down)\\s*$",
                "^\\s*$",
                "^.",
                "^ROM:\\s+(?P<ROMMON>\\S+)",
                "^[Pp]rocessor\\s+board\\s+ID\\s+(?P<SERIAL>\\S+)",
                "^[Mm]odel\\s+[Nn]umber\\s+:\\s+(?P<HARDWARE>\\S+)",
                "^[Cc]onfiguration\\s+register\\s+is\\s+(?P<CONFIG_REGISTER>\\S+)",
                "^.*",
            ]
        );
        let fast = Template::compile(brief).unwrap();
        let mut one_pass = Template::compile(brief).unwrap();
        let mut slow = Template::compile(brief).unwrap();
        for rule in one_pass.states.iter_mut().flat_map(|s| &mut s.rules) {
            rule.fast = None;
        }
        for rule in slow.states.iter_mut().flat_map(|s| &mut s.rules) {
            rule.fast = None;
            rule.onepass = None;
        }
        let run = |t: &Template, text: &str| t.parse(text).map(|r| r.to_json());
        let all: Vec<&str> = text.split_inclusive('\n').collect();
        for n in 0..=all.len() {
            let text = all[..n].concat();
            let rows = run(&fast, &text);
            assert_eq!(rows, run(&one_pass, &text), "{text}");
            assert_eq!(rows, run(&slow, &text), "{text}");
        }
        let rows = run(&fast, &all[..4].concat()).unwrap();
        assert_eq!(rows.as_array().unwrap().len(), 3);
        assert_eq!(rows[1]["STATUS"], "administratively down");
        assert!(run(&fast, text).is_err());
    }

    #[test]
    fn lines_are_cut_as_str_lines_cuts_them() {
        for text in [
            "",
            "a",
            "a\n",
            "a\r\n",
            "a\r",
            "\n",
            "\n\n",
            "\r\n",
            "a\rb\nc",
            "a\n\r\nb\r\r\n",
            "ä\nö",
        ] {
            let ours: Vec<(usize, &[u8])> = Lines::new(text).collect();
            let std: Vec<(usize, &[u8])> = text
                .lines()
                .map(|l| (l.as_ptr() as usize - text.as_ptr() as usize, l.as_bytes()))
                .collect();
            assert_eq!(ours, std, "{text:?}");
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        for template in [
            "",
            "\n\n",
            "Value",
            "Value A (",
            "Value A (x)\n\nStart\n  ^${",
            "Value A (x)\n\nStart\n  ^$",
        ] {
            let _ = Template::compile(template);
        }
    }
}
