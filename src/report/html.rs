//! `drover report html` and `--html FILE`: one self-contained page per run, for the people
//! who act on it (an on-call engineer opening a cron mail, a change board, a CI artifact).
//!
//! The page is made from the report alone, which is masked when it is built, so no secret
//! can reach it that the JSON report does not already hide. It fetches nothing: the styles
//! and the few lines of script are inline, the timeline is SVG drawn here, and a
//! Content-Security-Policy allows exactly that style and that script (by hash) and nothing
//! else, so even markup that got past the escaping could neither run nor load anything.
//! Every string that came from a device or a report goes through [`esc`].
//!
//! The markup is also well-formed XML (every element closed, attributes quoted), which lets
//! the tests check its structure with an XML parser.

mod timeline;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use serde_json::Value;

use super::{fold, group_outputs, HostReport, OutputGroup, RunReport};
use crate::outcome::{HostStatus, TaskResult, TaskStatus};

const CSS: &str = include_str!("html/page.css");
const JS: &str = include_str!("html/page.js");

/// Lines of an output shown before "show all".
const PREVIEW_LINES: usize = 12;
/// Characters of an output shown before "show all".
const PREVIEW_CHARS: usize = 2_000;
/// Lines of an output shown in a host's detail when the same output is in a group.
const GROUPED_PREVIEW_LINES: usize = 3;

/// The whole page. `drift` is the drift view's fragment (made of escaped text by the
/// history's drift), placed after the run's own sections.
pub fn page(report: &RunReport, drift: Option<&str>) -> String {
    let mut body = String::with_capacity(4096 + report.hosts.len() * 2048);
    header(report, &mut body);
    counts(report, &mut body);
    timeline::timeline(report, &mut body);
    let groups = group_outputs(&report.hosts, 2);
    hosts(report, &groups, &mut body);
    errors(report, &mut body);
    output_groups(&groups, &mut body);
    if let Some(d) = drift {
        body.push_str(d);
    }
    let _ = writeln!(
        body,
        "<footer><p>Written by drover {} from the run's report; secrets are masked as in \
         every other output.</p></footer>",
        esc(&report.drover_version)
    );
    let script = format!("//<![CDATA[\n{JS}//]]>\n");
    let mut out = String::with_capacity(body.len() + CSS.len() + script.len() + 1024);
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src '{}'; script-src '{}'; img-src 'none'; base-uri 'none'; form-action 'none'\"/>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <meta name=\"color-scheme\" content=\"light dark\"/>\n<title>{}</title>\n\
         <style>{CSS}</style>\n</head>\n<body>\n{body}<script>{script}</script>\n</body>\n</html>",
        sha256(CSS),
        sha256(&script),
        esc(&title(report)),
    );
    out
}

/// `sha256-…` of a text, as a Content-Security-Policy source.
fn sha256(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    format!("sha256-{}", base64(digest.as_ref()))
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Text as HTML, for element content and attribute values alike: markup characters become
/// references, terminal escape sequences (colours, cursor moves, titles) are dropped, other
/// control characters show as their Unicode pictures (`␀`), and characters HTML forbids
/// become `�`. A device's output displays; it never acts.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    push_esc(&mut out, text);
    out
}

/// [`esc`], appending to `out`.
pub fn push_esc(out: &mut String, text: &str) {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\u{1b}' => skip_escape(&mut chars),
            '\u{9b}' => skip_csi(&mut chars),
            c if (c as u32) < 0x20 => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('?')),
            '\u{7f}' => out.push('\u{2421}'),
            c if ('\u{80}'..='\u{9f}').contains(&c) || is_noncharacter(c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

/// After an ESC: a CSI sequence (`ESC [ … final`), an OSC or other string sequence (up to BEL
/// or `ESC \`), or a two-character escape.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']' | 'P' | '_' | '^' | 'X') => {
            while let Some(c) = chars.next() {
                if c == '\u{7}' || (c == '\u{1b}' && chars.peek() == Some(&'\\')) {
                    if c == '\u{1b}' {
                        chars.next();
                    }
                    break;
                }
            }
        }
        _ => {}
    }
}

fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
    }
}

fn is_noncharacter(c: char) -> bool {
    let n = c as u32;
    (0xfdd0..=0xfdef).contains(&n) || n & 0xfffe == 0xfffe
}

fn title(report: &RunReport) -> String {
    let what = match &report.run.playbook {
        Some(p) => p.clone(),
        None => report.run.command.clone(),
    };
    let id = &report.run.run_id;
    if id.is_empty() {
        format!("drover {what}")
    } else {
        format!("drover {what} · {id}")
    }
}

/// Milliseconds as a person reads them: `850 ms`, `12.4 s`, `3 m 20 s`.
pub fn duration(ms: u64) -> String {
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        let s = ms / 1000;
        if s < 3600 {
            format!("{} m {} s", s / 60, s % 60)
        } else {
            format!("{} h {} m", s / 3600, s % 3600 / 60)
        }
    }
}

fn exit_meaning(code: i32) -> &'static str {
    match code {
        0 => "every host ok",
        1 => "usage or input error; nothing ran",
        2 => "some hosts failed, were unreachable, or were skipped by an open breaker",
        3 => "aborted by max_fail_percentage or any_errors_fatal",
        130 => "interrupted",
        _ => "",
    }
}

fn header(report: &RunReport, out: &mut String) {
    let run = &report.run;
    let _ = writeln!(out, "<header>\n<h1>{}</h1>", esc(&title(report)));
    out.push_str("<dl class=\"meta\">\n");
    let mut row = |k: &str, v: &str| {
        if !v.is_empty() {
            let _ = writeln!(out, "<dt>{k}</dt><dd>{}</dd>", esc(v));
        }
    };
    row("command", &run.command);
    row("playbook", run.playbook.as_deref().unwrap_or(""));
    row("inventories", &run.inventories.join(", "));
    row("limit", run.limit.as_deref().unwrap_or(""));
    row("run id", &run.run_id);
    row(
        "exit code",
        &format!("{} ({})", run.exit_code, exit_meaning(run.exit_code)),
    );
    row("started", &run.started_at);
    row("finished", &run.finished_at);
    row("duration", &duration(run.duration_ms));
    row("who", &run.user);
    row("where", &run.hostname);
    row("command line", &run.argv.join(" "));
    if run.interrupted {
        row("interrupted", "yes: the report holds what was done");
    }
    row("aborted", run.aborted.as_deref().unwrap_or(""));
    row("nothing ran", run.error.as_deref().unwrap_or(""));
    if let Some(s) = run.shard {
        row("shard", &format!("{}/{}", s.index, s.count));
    }
    row("retry of", run.retry_of.as_deref().unwrap_or(""));
    row("merged from", &run.merged_from.join(", "));
    row("breaker state", run.state_file.as_deref().unwrap_or(""));
    row("drover", &report.drover_version);
    out.push_str("</dl>\n");
    for play in &report.plays {
        let _ = writeln!(
            out,
            "<details class=\"settings\"><summary>play {}: {} (hosts: <code>{}</code>, {} \
             batch{}) settings</summary>\n<table><caption>settings of play {}</caption>\
             <thead><tr><th scope=\"col\">setting</th><th scope=\"col\">value</th></tr></thead><tbody>",
            play.index + 1,
            esc(&play.name),
            esc(&play.pattern),
            play.batches.len(),
            if play.batches.len() == 1 { "" } else { "es" },
            play.index + 1,
        );
        if let Value::Object(map) = &play.settings {
            for (k, v) in map {
                let _ = writeln!(
                    out,
                    "<tr><th scope=\"row\">{}</th><td class=\"mono\">{}</td></tr>",
                    esc(k),
                    esc(&scalar(v))
                );
            }
        }
        out.push_str("</tbody></table></details>\n");
    }
    out.push_str("</header>\n");
}

/// A JSON value as one line: strings without quotes, the rest as JSON.
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "none".into(),
        v => v.to_string(),
    }
}

fn counts(report: &RunReport, out: &mut String) {
    out.push_str(
        "<section aria-labelledby=\"s-counts\">\n<h2 id=\"s-counts\">Hosts per status</h2>\n\
         <div class=\"counts\">\n",
    );
    let total: usize = report.counts.values().sum();
    let _ = writeln!(
        out,
        "<button type=\"button\" data-status=\"\" aria-controls=\"hosts\" title=\"show every host\"><b>{total}</b>all</button>"
    );
    for s in HostStatus::ALL {
        let n = report.counts.get(&s).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "<button type=\"button\" data-status=\"{0}\" class=\"st-{0}\" \
             aria-controls=\"hosts\" title=\"show only {0} hosts\"><b>{n}</b>{0}</button>",
            s.as_str()
        );
    }
    out.push_str("</div>\n</section>\n");
}

/// The class of what went wrong on a host: its own error, else its first failed task's.
fn host_error(h: &HostReport) -> Option<&crate::outcome::TaskError> {
    h.outcome.error.as_ref().or_else(|| {
        h.tasks
            .iter()
            .find(|t| t.status == TaskStatus::Failed)
            .and_then(|t| t.error.as_ref())
    })
}

fn hosts(report: &RunReport, groups: &[OutputGroup], out: &mut String) {
    let mut all_groups: Vec<&str> = report
        .hosts
        .iter()
        .flat_map(|h| h.groups.iter().map(String::as_str))
        .collect();
    all_groups.sort_unstable();
    all_groups.dedup();
    let mut classes: Vec<&str> = report
        .hosts
        .iter()
        .filter_map(|h| host_error(h).map(|e| e.kind.as_str()))
        .collect();
    classes.sort_unstable();
    classes.dedup();
    // Where each task's output is also shown as a group: (play, task, exit code, stdout).
    let grouped: HashMap<(usize, usize, Option<i32>, &str), usize> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| ((g.play, g.task, g.exit_code, g.stdout.as_str()), i))
        .collect();
    let plays = report.plays.len() > 1;

    out.push_str(
        "<section aria-labelledby=\"s-hosts\">\n<h2 id=\"s-hosts\">Hosts</h2>\n\
         <div class=\"filters\" role=\"search\">\n<label for=\"f-status\">status\
         <select id=\"f-status\"><option value=\"\">any</option>",
    );
    for s in HostStatus::ALL {
        let _ = write!(out, "<option>{}</option>", s.as_str());
    }
    out.push_str(
        "</select></label>\n<label for=\"f-group\">group<select id=\"f-group\">\
         <option value=\"\">any</option>",
    );
    for g in &all_groups {
        let _ = write!(out, "<option>{}</option>", esc(g));
    }
    out.push_str(
        "</select></label>\n<label for=\"f-error\">error class<select id=\"f-error\">\
         <option value=\"\">any</option>",
    );
    for c in &classes {
        let _ = write!(out, "<option>{c}</option>");
    }
    let _ = writeln!(
        out,
        "</select></label>\n<label for=\"f-text\">text (host, error, command, output)\
         <input id=\"f-text\" type=\"search\"/></label>\n\
         <output id=\"shown\" aria-live=\"polite\" data-rows=\"{0}\">{0} of {0} hosts shown</output>\n</div>",
        report.hosts.len()
    );
    out.push_str(
        "<table id=\"hosts\"><caption>Every host of the run; a column heading sorts, \
         a row's details hold its tasks</caption>\n<thead><tr>\
         <th scope=\"col\"><button type=\"button\">host</button></th>\
         <th scope=\"col\"><button type=\"button\">status</button></th>\
         <th scope=\"col\" class=\"num\"><button type=\"button\">batch</button></th>\
         <th scope=\"col\"><button type=\"button\">groups</button></th>\
         <th scope=\"col\"><button type=\"button\">error class</button></th>\
         <th scope=\"col\">error</th>\
         <th scope=\"col\" class=\"num\"><button type=\"button\">connect</button></th>\
         <th scope=\"col\" class=\"num\"><button type=\"button\">duration</button></th>\
         <th scope=\"col\" class=\"num\"><button type=\"button\">tasks ok</button></th>\
         </tr></thead>\n",
    );
    for (i, h) in report.hosts.iter().enumerate() {
        host_rows(i, h, plays, &grouped, out);
    }
    out.push_str("</table>\n</section>\n");
}

fn host_rows(
    i: usize,
    h: &HostReport,
    plays: bool,
    grouped: &HashMap<(usize, usize, Option<i32>, &str), usize>,
    out: &mut String,
) {
    let status = h.outcome.status.as_str();
    let error = host_error(h);
    let groups = esc(&h.groups.join(" "));
    let _ = write!(
        out,
        "<tbody class=\"host\" id=\"host-{i}\" data-status=\"{status}\" data-groups=\"{groups}\" \
         data-error=\"{}\">\n<tr><th scope=\"row\">{}",
        error.map_or("", |e| e.kind.as_str()),
        esc(&h.name),
    );
    if plays {
        let _ = write!(out, " <span class=\"muted\">(play {})</span>", h.play + 1);
    }
    let ran = h.tasks.iter().filter(|t| t.status != TaskStatus::Skipped);
    let ok = ran
        .clone()
        .filter(|t| matches!(t.status, TaskStatus::Ok | TaskStatus::Ignored))
        .count();
    let _ = writeln!(
        out,
        "</th><td class=\"st st-{status}\" data-v=\"{}\">{status}</td><td class=\"num\" data-v=\"{b}\">{b}</td>\
         <td>{groups}</td><td>{}</td><td>{}</td>\
         <td class=\"num\" data-v=\"{}\">{}</td><td class=\"num\" data-v=\"{}\">{}</td>\
         <td class=\"num\" data-v=\"{ok}\">{ok}/{}</td></tr>",
        status_rank(h.outcome.status),
        error.map_or("", |e| e.kind.as_str()),
        error.map(|e| esc(&e.message)).unwrap_or_default(),
        h.outcome.connect_ms.map_or(-1, |ms| ms as i64),
        h.outcome.connect_ms.map(duration).unwrap_or_default(),
        h.outcome.duration_ms,
        duration(h.outcome.duration_ms),
        ran.count(),
        b = h.batch,
    );
    let _ = writeln!(
        out,
        "<tr class=\"detail\"><td colspan=\"9\"><details><summary>{} task{}, {} connection \
         attempt{}</summary>",
        h.tasks.len(),
        plural(h.tasks.len()),
        h.outcome.attempts,
        plural(h.outcome.attempts as usize),
    );
    out.push_str("<dl class=\"meta\">");
    let _ = write!(
        out,
        "<dt>address</dt><dd>{}</dd><dt>transport</dt><dd>{}</dd>",
        esc(&h.address),
        esc(&h.transport)
    );
    if let Some(e) = &h.outcome.error {
        let _ = write!(
            out,
            "<dt>error</dt><dd class=\"err\">{}: {}</dd>",
            e.kind.as_str(),
            esc(&e.message)
        );
    }
    // A closed breaker with no failures says nothing; anything else is worth a line.
    let breaker = h
        .outcome
        .breaker
        .as_ref()
        .map(|b| serde_json::to_string(b).unwrap_or_default());
    if let Some(text) = breaker.filter(|t| t != r#"{"state":"closed","failures":0}"#) {
        let _ = write!(
            out,
            "<dt>breaker</dt><dd class=\"mono\">{}</dd>",
            esc(&text)
        );
    }
    out.push_str("</dl>\n");
    // One clean attempt is the connect column already.
    let attempts_worth_a_table = h.outcome.connect_attempts.len() > 1
        || h.outcome
            .connect_attempts
            .iter()
            .any(|a| a.error.is_some() || a.probe);
    if attempts_worth_a_table {
        attempts("connection attempts", &h.outcome.connect_attempts, out);
    }
    for t in &h.tasks {
        task(h, t, grouped, out);
    }
    out.push_str("</details></td></tr>\n</tbody>\n");
}

fn status_rank(s: HostStatus) -> u8 {
    match s {
        HostStatus::Unreachable => 0,
        HostStatus::Failed => 1,
        HostStatus::Cancelled => 2,
        HostStatus::Skipped => 3,
        HostStatus::Ok => 4,
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn attempts(caption: &str, list: &[crate::outcome::Attempt], out: &mut String) {
    let _ = writeln!(
        out,
        "<table><caption>{caption}</caption><thead><tr><th scope=\"col\" class=\"num\">#</th>\
         <th scope=\"col\" class=\"num\">started</th><th scope=\"col\" class=\"num\">waited</th>\
         <th scope=\"col\" class=\"num\">took</th><th scope=\"col\" class=\"num\">backoff</th>\
         <th scope=\"col\">error</th></tr></thead><tbody>"
    );
    for a in list {
        let _ = writeln!(
            out,
            "<tr><td class=\"num\">{}{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            a.attempt,
            if a.probe { " (probe)" } else { "" },
            duration(a.started_ms),
            duration(a.waited_ms),
            duration(a.duration_ms),
            duration(a.backoff_ms),
            a.error
                .as_ref()
                .map(|e| format!("{}: {}", e.kind.as_str(), esc(&e.message)))
                .unwrap_or_default(),
        );
    }
    out.push_str("</tbody></table>\n");
}

fn task_class(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Ok => "ok",
        TaskStatus::Failed => "failed",
        TaskStatus::Ignored => "ignored",
        TaskStatus::Skipped => "skipped",
    }
}

fn task(
    h: &HostReport,
    t: &TaskResult,
    grouped: &HashMap<(usize, usize, Option<i32>, &str), usize>,
    out: &mut String,
) {
    let class = task_class(t.status);
    let _ = write!(
        out,
        "<div class=\"task t-{class}\"><h3>{}. {} <span class=\"st st-{class}\">{class}</span> \
         <span class=\"muted\">{} · {}",
        t.index + 1,
        esc(&t.name),
        esc(&t.kind),
        duration(t.duration_ms),
    );
    if let Some(code) = t.exit_code {
        let _ = write!(out, " · exit {code}");
    }
    if t.attempts > 1 {
        let _ = write!(out, " · {} attempts", t.attempts);
    }
    if let Some(c) = t.changed {
        out.push_str(if c { " · changed" } else { " · unchanged" });
    }
    out.push_str("</span></h3>\n");
    if !t.command.is_empty() {
        let _ = writeln!(
            out,
            "<pre class=\"cmd\" aria-label=\"command\">$ {}</pre>",
            esc(&t.command)
        );
    }
    if let Some(e) = &t.error {
        let _ = writeln!(
            out,
            "<p class=\"err\">{}: {}</p>",
            e.kind.as_str(),
            esc(&e.message)
        );
    }
    for a in &t.assertions {
        let _ = writeln!(
            out,
            "<p class=\"{}\">{} <code>{}</code></p>",
            if a.passed { "st-ok" } else { "err" },
            if a.passed { "held:" } else { "failed:" },
            esc(&a.that)
        );
    }
    let group = grouped.get(&(h.play, t.index, t.exit_code, t.stdout.as_str()));
    match group {
        Some(g) if t.stdout.lines().count() > GROUPED_PREVIEW_LINES => {
            output("stdout", &t.stdout, GROUPED_PREVIEW_LINES, false, out);
            let _ = writeln!(
                out,
                "<p class=\"muted\">The same output on other hosts: see \
                 <a href=\"#og-{g}\">its group</a> for all of it.</p>"
            );
        }
        _ => output("stdout", &t.stdout, PREVIEW_LINES, true, out),
    }
    output("stderr", &t.stderr, PREVIEW_LINES, true, out);
    if let Some(p) = &t.parsed {
        parsed(&p.to_json(), out);
    }
    if !t.runs.is_empty() {
        attempts("runs of this task", &t.runs, out);
    }
    for item in &t.items {
        task(h, item, &HashMap::new(), out);
    }
    out.push_str("</div>\n");
}

/// An output, its first lines shown and the rest behind "show all" (or, with `rest` false,
/// left out).
fn output(label: &str, text: &str, lines: usize, rest: bool, out: &mut String) {
    if text.is_empty() {
        return;
    }
    let cut = cut_at(text, lines, PREVIEW_CHARS);
    let (head, tail) = text.split_at(cut);
    let _ = write!(out, "<pre class=\"{label}\" aria-label=\"{label}\">");
    push_esc(out, head);
    out.push_str("</pre>\n");
    if tail.is_empty() || !rest {
        return;
    }
    let _ = write!(
        out,
        "<details class=\"more\"><summary>show all of {label}: {} more line{} ({} bytes in all)\
         </summary><pre class=\"{label}\">",
        tail.lines().count(),
        plural(tail.lines().count()),
        text.len()
    );
    push_esc(out, tail);
    out.push_str("</pre></details>\n");
}

/// Where the preview of `text` ends: after `lines` lines or about `chars` bytes, at a
/// character boundary.
fn cut_at(text: &str, lines: usize, chars: usize) -> usize {
    let by_lines = text
        .match_indices('\n')
        .nth(lines.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i + 1);
    let mut cut = by_lines.min(chars).min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    // Nothing left but a line break: show it all.
    if text[cut..].trim().is_empty() {
        text.len()
    } else {
        cut
    }
}

fn parsed(v: &Value, out: &mut String) {
    let mut fields = BTreeMap::new();
    leaves(v, String::new(), &mut fields);
    out.push_str(
        "<table class=\"parsed\"><caption>parsed fields</caption><thead><tr>\
         <th scope=\"col\">field</th><th scope=\"col\">value</th></tr></thead><tbody>\n",
    );
    for (field, value) in fields {
        let _ = writeln!(
            out,
            "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td></tr>",
            esc(&field),
            esc(&value.to_string())
        );
    }
    out.push_str("</tbody></table>\n");
}

/// A JSON value's scalar leaves by path (`interfaces[0].state`), as the drift names them.
fn leaves<'a>(v: &'a Value, path: String, out: &mut BTreeMap<String, &'a Value>) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                leaves(v, p, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                leaves(v, format!("{path}[{i}]"), out);
            }
        }
        _ => {
            out.insert(if path.is_empty() { ".".into() } else { path }, v);
        }
    }
}

/// Errors grouped by class, then by message, each with its folded host list.
fn errors(report: &RunReport, out: &mut String) {
    // class → message → hosts (with the task it happened in, if any).
    let mut by_class: BTreeMap<&str, BTreeMap<(&str, &str), Vec<&str>>> = BTreeMap::new();
    for h in &report.hosts {
        // A host's error that repeats its failed task's is counted once, with the task.
        let repeated =
            |e: &crate::outcome::TaskError| h.tasks.iter().any(|t| t.error.as_ref() == Some(e));
        if let Some(e) = h.outcome.error.as_ref().filter(|e| !repeated(e)) {
            by_class
                .entry(e.kind.as_str())
                .or_default()
                .entry(("", e.message.as_str()))
                .or_default()
                .push(&h.name);
        }
        for t in &h.tasks {
            if let Some(e) = &t.error {
                by_class
                    .entry(e.kind.as_str())
                    .or_default()
                    .entry((t.name.as_str(), e.message.as_str()))
                    .or_default()
                    .push(&h.name);
            }
        }
    }
    out.push_str("<section aria-labelledby=\"s-errors\">\n<h2 id=\"s-errors\">Errors</h2>\n");
    if by_class.is_empty() {
        out.push_str("<p>No errors.</p>\n</section>\n");
        return;
    }
    for (class, messages) in &by_class {
        let n: usize = messages.values().map(Vec::len).sum();
        let mut rows: Vec<_> = messages.iter().collect();
        rows.sort_by_key(|(_, hosts)| std::cmp::Reverse(hosts.len()));
        let _ = writeln!(
            out,
            "<h3 class=\"err\">{class} <span class=\"muted\">({n})</span></h3>\n<table>\
             <caption>{class}: hosts by task and message</caption><thead><tr>\
             <th scope=\"col\" class=\"num\">hosts</th><th scope=\"col\">task</th>\
             <th scope=\"col\">message</th><th scope=\"col\">which</th></tr></thead><tbody>"
        );
        for ((task, message), hosts) in rows {
            let _ = writeln!(
                out,
                "<tr><td class=\"num\">{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
                hosts.len(),
                esc(task),
                esc(message),
                esc(&fold(hosts.iter().copied()))
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n");
}

fn output_groups(groups: &[OutputGroup], out: &mut String) {
    out.push_str(
        "<section aria-labelledby=\"s-groups\">\n<h2 id=\"s-groups\">Identical outputs</h2>\n",
    );
    if groups.is_empty() {
        out.push_str("<p>No two hosts printed the same thing.</p>\n</section>\n");
        return;
    }
    for (i, g) in groups.iter().enumerate() {
        let _ = write!(
            out,
            "<div class=\"group\" id=\"og-{i}\"><h3>{}. {} <span class=\"muted\">· {} host{}",
            g.task + 1,
            esc(&g.task_name),
            g.hosts.len(),
            plural(g.hosts.len())
        );
        if let Some(code) = g.exit_code {
            let _ = write!(out, " · exit {code}");
        }
        let _ = writeln!(out, "</span></h3>\n<p>{}</p>", esc(&g.folded));
        if g.stdout.is_empty() {
            out.push_str("<p class=\"muted\">(no output)</p>\n");
        } else {
            output("stdout", &g.stdout, PREVIEW_LINES, true, out);
        }
        out.push_str("</div>\n");
    }
    out.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_text_is_inert() {
        assert_eq!(
            esc("<script>\"x\"&'y'</pre>"),
            "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/pre&gt;"
        );
        assert_eq!(esc("\u{1b}[31mred\u{1b}[0m ok"), "red ok");
        assert_eq!(esc("\u{1b}]0;title\u{7}x"), "x");
        assert_eq!(
            esc("a\u{0}b\u{7f}\u{85}\u{fffe}"),
            "a\u{2400}b\u{2421}\u{fffd}\u{fffd}"
        );
        assert_eq!(esc("a\r\nb\tc"), "a\nb\tc");
    }

    #[test]
    fn base64_matches_the_rfc_examples() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn previews_cut_at_lines() {
        let text = "1\n2\n3\n4\n";
        assert_eq!(cut_at(text, 2, 100), 4);
        assert_eq!(cut_at(text, 4, 100), text.len());
        assert_eq!(cut_at("ééé", 1, 3), 2);
    }
}
