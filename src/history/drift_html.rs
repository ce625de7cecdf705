//! The drift as a section of the HTML report: the hosts that changed the same way grouped
//! (folded list, every name behind a disclosure), then their changes per task, with stdout
//! diffs coloured by line. Every string is escaped with the page's own escaping.

use std::fmt::Write;

use serde_json::Value;

use super::diff::{opt, Change, Drift, Side};
use crate::report::fold;
use crate::report::html::{esc, push_esc};

impl Drift {
    /// The drift view's `<section>` for [`crate::report::html::page`].
    pub fn html(&self) -> String {
        let mut out =
            String::from("<section aria-labelledby=\"s-drift\">\n<h2 id=\"s-drift\">Drift</h2>\n");
        let _ = writeln!(
            out,
            "<p>From {} to {}: {} of {} host{} changed.</p>",
            side(&self.from),
            side(&self.to),
            self.changed_hosts,
            self.hosts,
            if self.hosts == 1 { "" } else { "s" }
        );
        for g in &self.groups {
            let _ = writeln!(
                out,
                "<div class=\"drift\"><h3>{} <span class=\"muted\">({} host{})</span></h3>",
                esc(&fold(g.hosts.iter().map(String::as_str))),
                g.hosts.len(),
                if g.hosts.len() == 1 { "" } else { "s" }
            );
            if g.hosts.len() > 1 {
                let _ = writeln!(
                    out,
                    "<details class=\"more\"><summary>every host</summary><p>{}</p></details>",
                    esc(&g.hosts.join(", "))
                );
            }
            out.push_str("<ul>\n");
            for c in &g.changes {
                change(c, &mut out);
            }
            out.push_str("</ul></div>\n");
        }
        out.push_str("</section>\n");
        out
    }
}

fn side(s: &Side) -> String {
    let name = if s.run_id.is_empty() {
        &s.file
    } else {
        &s.run_id
    };
    let mut text = format!("<code>{}</code>", esc(name));
    if !s.started_at.is_empty() {
        let _ = write!(text, " ({})", esc(&s.started_at));
    }
    text
}

fn change(c: &Change, out: &mut String) {
    let _ = match c {
        Change::Appeared { status } => writeln!(out, "<li>appeared ({})</li>", status.as_str()),
        Change::Vanished { status } => {
            writeln!(out, "<li>vanished (was {})</li>", status.as_str())
        }
        Change::Status { from, to, error } => writeln!(
            out,
            "<li>status <span class=\"st st-{0}\">{0}</span> → <span class=\"st st-{1}\">{1}</span>{2}</li>",
            from.as_str(),
            to.as_str(),
            error.map(|e| format!(" ({})", e.as_str())).unwrap_or_default()
        ),
        Change::TaskStatus { task, from, to } => writeln!(
            out,
            "<li>task <b>{}</b>: {} → {}</li>",
            esc(task),
            opt(from),
            opt(to)
        ),
        Change::ExitCode { task, from, to } => writeln!(
            out,
            "<li>task <b>{}</b>: exit code {} → {}</li>",
            esc(task),
            opt(from),
            opt(to)
        ),
        Change::Stdout { task, diff } => {
            let _ = write!(
                out,
                "<li>task <b>{}</b>: stdout changed<pre class=\"diff\">",
                esc(task)
            );
            for line in diff.lines() {
                let class = match line.as_bytes().first() {
                    Some(b'+') => "add",
                    Some(b'-') => "del",
                    _ => "",
                };
                if class.is_empty() {
                    push_esc(out, line);
                } else {
                    let _ = write!(out, "<span class=\"{class}\">");
                    push_esc(out, line);
                    out.push_str("</span>");
                }
                out.push('\n');
            }
            writeln!(out, "</pre></li>")
        }
        Change::Parsed {
            task,
            field,
            from,
            to,
        } => {
            let show = |v: &Option<Value>| v.as_ref().map_or("absent".into(), Value::to_string);
            writeln!(
                out,
                "<li>task <b>{}</b>: parsed <code>{}</code>: <span class=\"del\">{}</span> → \
                 <span class=\"add\">{}</span></li>",
                esc(task),
                esc(field),
                esc(&show(from)),
                esc(&show(to))
            )
        }
    };
}
