//! The commands, wired together: load, plan, run the engine, feed its events to the printer
//! and the report, write the report, print the summary, pick the exit code.

use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::{
    parse_extra_vars, ExecArgs, InventoryArgs, OutputArgs, RunArgs, SettingsArgs, TargetArgs,
};
use crate::engine::{self, Plan, PlanOptions, Shutdown};
use crate::error::{Error, Result};
use crate::inventory::{self, Inventory};
use crate::playbook::{Play, Playbook, Task};
use crate::report::{write_atomic, ReportBuilder, RunInfo};
use crate::transport::Transports;
use crate::ui::{self, PlainPrinter, Verbosity};

/// What to run, fully resolved.
pub struct Job {
    pub command: &'static str,
    pub playbook: Playbook,
    pub inventory: Inventory,
    pub target: TargetArgs,
    pub settings: SettingsArgs,
    pub output: OutputArgs,
    pub group_outputs: bool,
}

impl Job {
    pub fn from_run(args: RunArgs) -> Result<Job> {
        let inventory = inventory::load(&args.target.inventories)?;
        let playbook = Playbook::load(&args.playbook)?;
        Ok(Job {
            command: "run",
            playbook,
            inventory,
            target: args.target,
            settings: args.settings,
            output: args.output,
            group_outputs: false,
        })
    }

    pub fn from_exec(args: ExecArgs) -> Result<Job> {
        let inventory = inventory::load(&args.target.inventories)?;
        let line = args.command.join(" ");
        crate::template::check_syntax(&line).map_err(|e| {
            Error::Usage(format!("the command does not compile as a template: {e}"))
        })?;
        let play = Play::adhoc(&args.pattern, vec![Task::command(&line)]);
        let playbook = Playbook {
            path: PathBuf::from("<exec>"),
            plays: vec![play],
        };
        Ok(Job {
            command: "exec",
            playbook,
            inventory,
            target: args.target,
            settings: args.settings,
            output: args.output,
            group_outputs: true,
        })
    }

    pub fn plan(&self, transports: &Transports) -> Result<Plan> {
        let options = PlanOptions {
            limit: self.target.limit.clone(),
            extra_vars: parse_extra_vars(&self.target.extra_vars)?,
            overrides: self.settings.overrides(),
        };
        Plan::build(&self.playbook, &self.inventory, &options, transports)
    }

    /// Runs the job to its end and returns the exit code. Input errors come back before
    /// anything connects.
    pub async fn execute(self, mut transports: Transports) -> Result<i32> {
        let plan = Arc::new(self.plan(&transports)?);
        if let Some(t) = plan.plays.iter().map(|p| p.settings.connect_timeout).max() {
            transports.ssh.set_connect_timeout(t);
        }
        // Every command that can be rendered before the run is, so a typo stops everything.
        crate::check::check(&plan)?;
        let (trigger, shutdown) = Shutdown::new();
        tokio::spawn(async move {
            let mut count = 0;
            while wait_for_signal().await {
                count += 1;
                if count == 1 {
                    eprintln!(
                        "interrupt: starting no new hosts; interrupt again to cancel running ones"
                    );
                } else {
                    eprintln!("interrupt: cancelling running hosts");
                }
                trigger.fire();
            }
        });
        let verbosity = match (self.output.quiet, self.output.verbose) {
            (true, _) => Verbosity::Quiet,
            (_, true) => Verbosity::Verbose,
            _ => Verbosity::Normal,
        };
        let mut printer = PlainPrinter::new(std::io::stderr(), verbosity);
        let width = plan
            .plays
            .iter()
            .flat_map(|p| p.hosts.iter())
            .map(|h| h.name.len())
            .max();
        printer.set_host_width(width.unwrap_or(8));
        let (events, mut rx) = crate::event::EventSink::new();
        let started_at = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
        let engine = tokio::spawn(engine::run(plan.clone(), transports, events, shutdown));
        let mut builder = ReportBuilder::default();
        while let Some(event) = rx.recv().await {
            printer.print(&event);
            builder.apply(event);
        }
        let end = engine
            .await
            .map_err(|e| Error::Usage(format!("internal error: {e}")))?;
        let info = RunInfo {
            command: self.command.to_string(),
            playbook: (self.command == "run").then(|| self.playbook.path.display().to_string()),
            inventories: self
                .target
                .inventories
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            limit: self.target.limit.clone(),
            started_at,
            finished_at: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
            interrupted: end.interrupted,
            ..RunInfo::default()
        };
        let mut report = builder.build(info);
        report.run.exit_code = report.exit_code();
        if let Some(path) = &self.output.report {
            write_atomic(path, |out| {
                serde_json::to_writer_pretty(&mut *out, &report)?;
                out.write_all(b"\n")
            })?;
        }
        print!("{}", ui::summary(&report, self.group_outputs));
        Ok(report.run.exit_code)
    }
}

/// Waits for SIGINT or SIGTERM; false when signals cannot be watched.
async fn wait_for_signal() -> bool {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return tokio::signal::ctrl_c().await.is_ok(),
    };
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.is_ok(),
        _ = term.recv() => true,
    }
}

/// `drover inventory`.
pub fn inventory(args: InventoryArgs) -> Result<i32> {
    let inv = inventory::load(&args.inventories)?;
    if args.graph {
        print!("{}", inventory::graph(&inv));
    } else if let Some(host) = &args.host {
        if !inv.hosts.contains_key(host) {
            return Err(inventory::select(&inv, host)
                .err()
                .unwrap_or(Error::NoHosts {
                    pattern: host.clone(),
                }));
        }
        let resolved = inv.resolve_with_sources(host);
        let width = resolved.keys().map(|k| k.len()).max().unwrap_or(0);
        for (key, (value, source)) in &resolved {
            let shown = if crate::engine::plan::is_secret_name(key) {
                "\"********\"".to_string()
            } else {
                value.to_string()
            };
            println!("{key:<width$}  {shown}  # from {source}");
        }
    } else {
        let json = inventory::to_ansible_json(&inv);
        println!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        );
    }
    Ok(0)
}
