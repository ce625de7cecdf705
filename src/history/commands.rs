//! `drover history` and `drover report show|diff|merge`.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use comfy_table::{presets, Table};

use super::{drift, merge, resolve, Store, View};
use crate::cli::{
    DiffArgs, HistoryListArgs, HtmlArgs, MergeArgs, ReportArgs, ReportCommand, ShowArgs,
};
use crate::error::{Error, Result};
use crate::outcome::HostStatus;
use crate::report::{write_atomic, RunReport};

fn store(dir: &Option<PathBuf>) -> Option<Store> {
    dir.clone()
        .or_else(crate::state_dir::default_dir)
        .map(|d| Store::new(&d))
}

/// `drover history`.
pub fn history(args: HistoryListArgs) -> Result<i32> {
    let Some(store) = store(&args.state_dir) else {
        return Err(Error::Usage(
            "no state directory: set --state-dir, XDG_STATE_HOME or HOME".into(),
        ));
    };
    let now = SystemTime::now();
    let since = args.since.as_deref().map(|w| when(w, now)).transpose()?;
    let until = args.until.as_deref().map(|w| when(w, now)).transpose()?;
    let entries: Vec<_> = store
        .entries()?
        .into_iter()
        .filter(|e| {
            args.playbook.as_deref().is_none_or(|p| {
                e.playbook.as_deref().is_some_and(|have| {
                    have == p || Path::new(have).file_name() == Some(std::ffi::OsStr::new(p))
                })
            })
        })
        .filter(|e| {
            let started = humantime::parse_rfc3339_weak(&e.started_at).ok();
            since.is_none_or(|s| started.is_some_and(|t| t >= s))
                && until.is_none_or(|u| started.is_some_and(|t| t < u))
        })
        .collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&entries).unwrap_or_default()
        );
        return Ok(0);
    }
    if entries.is_empty() {
        println!("no runs recorded in {}", store.dir().display());
        return Ok(0);
    }
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "id", "started", "playbook", "ok", "failed", "unreach.", "duration", "exit",
    ]);
    for e in &entries {
        let n = |s: HostStatus| e.counts.get(&s).copied().unwrap_or(0).to_string();
        let mut what = match (&e.playbook, e.command.as_str()) {
            (Some(p), _) => p.clone(),
            (None, c) => c.to_string(),
        };
        if let Some(s) = e.shard {
            what.push_str(&format!(" [{}/{}]", s.index, s.count));
        }
        t.add_row(vec![
            e.id.clone(),
            e.started_at.clone(),
            what,
            n(HostStatus::Ok),
            n(HostStatus::Failed),
            n(HostStatus::Unreachable),
            format!("{:.1}s", e.duration_ms as f64 / 1000.0),
            e.exit_code.to_string(),
        ]);
    }
    println!("{t}");
    Ok(0)
}

/// An RFC 3339 time, or an age (`2h`) before `now`.
fn when(text: &str, now: SystemTime) -> Result<SystemTime> {
    if let Ok(t) = humantime::parse_rfc3339_weak(text) {
        return Ok(t);
    }
    match crate::settings::parse_duration(text) {
        Ok(age) => Ok(now - age),
        Err(_) => Err(Error::Invalid {
            what: format!("time `{text}`"),
            message: "expected an RFC 3339 time (2026-12-01T10:00:00Z) or an age (30m, 2h, 7d)"
                .into(),
        }),
    }
}

/// `drover report …`.
pub fn report(args: ReportArgs) -> Result<i32> {
    match args.command {
        ReportCommand::Show(a) => show(a),
        ReportCommand::Diff(a) => diff(a),
        ReportCommand::Merge(a) => merge_cmd(a),
        ReportCommand::Html(a) => html(a),
    }
}

fn load(path: &Path) -> Result<RunReport> {
    let text = super::store::read_report(path)?;
    serde_json::from_str(&text).map_err(|e| Error::Invalid {
        what: format!("report {}:{}:{}", path.display(), e.line(), e.column()),
        message: format!("not a drover report: {e}"),
    })
}

fn show(args: ShowArgs) -> Result<i32> {
    let path = resolve(store(&args.state_dir).as_ref(), &args.reference, None)?;
    let report = load(&path)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
        return Ok(0);
    }
    if let Some(error) = &report.run.error {
        println!("nothing ran: {error}");
    } else {
        print!(
            "{}",
            crate::ui::summary(&report, report.run.command == "exec")
        );
    }
    Ok(0)
}

fn diff(args: DiffArgs) -> Result<i32> {
    let store = store(&args.state_dir);
    let a = resolve(store.as_ref(), &args.a, None)?;
    let b = resolve(store.as_ref(), &args.b, None)?;
    let (va, vb) = (View::load(&a)?, View::load(&b)?);
    let d = drift((&a, &va), (&b, &vb), args.max_lines);
    if let Some(path) = &args.html {
        write_page(path, &load(&b)?, Some(&d.html()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&d).unwrap_or_default());
    } else {
        print!("{}", d.render());
    }
    Ok(if d.drift { 2 } else { 0 })
}

/// `drover report html`: the page on stdout or in a file.
fn html(args: HtmlArgs) -> Result<i32> {
    let store = store(&args.state_dir);
    let path = resolve(store.as_ref(), &args.reference, None)?;
    let report = load(&path)?;
    let drift = match &args.diff_against {
        Some(reference) => {
            let base = resolve(store.as_ref(), reference, None)?;
            let d = drift(
                (&base, &View::load(&base)?),
                (&path, &View::load(&path)?),
                20,
            );
            Some(d.html())
        }
        None => None,
    };
    match &args.output {
        Some(out) => write_page(out, &report, drift.as_deref())?,
        None => crate::ui::out::print(&crate::report::html::page(&report, drift.as_deref()))?,
    }
    Ok(0)
}

fn write_page(path: &Path, report: &RunReport, drift: Option<&str>) -> Result<()> {
    let page = crate::report::html::page(report, drift);
    write_atomic(path, |out| out.write_all(page.as_bytes()))
}

fn merge_cmd(args: MergeArgs) -> Result<i32> {
    let store = store(&args.state_dir);
    let mut shards = Vec::new();
    for r in &args.reports {
        let path = resolve(store.as_ref(), r, None)?;
        let report = load(&path)?;
        shards.push((path, report));
    }
    let report = merge(shards)?;
    if let Some(path) = &args.report {
        write_atomic(path, |out| {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            out.write_all(b"\n")
        })?;
    }
    if let Some(path) = &args.junit {
        let tasks: Vec<Vec<String>> = {
            let n = report.plays.iter().map(|p| p.index + 1).max().unwrap_or(0);
            let mut t = vec![Vec::new(); n];
            for p in &report.plays {
                t[p.index] = p.tasks.clone();
            }
            t
        };
        let xml = crate::report::junit(&report, &tasks);
        write_atomic(path, |out| out.write_all(xml.as_bytes()))?;
    }
    print!(
        "{}",
        crate::ui::summary(&report, report.run.command == "exec")
    );
    Ok(report.run.exit_code)
}
