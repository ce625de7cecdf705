//! The commands, wired together: load, plan, run the engine, feed its events to the printer
//! and the report, write the report, print the summary, pick the exit code.

use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::{
    parse_extra_vars, ExecArgs, InventoryArgs, OutputArgs, RunArgs, SettingsArgs, StateArgs,
    TargetArgs,
};
use crate::engine::{self, Plan, PlanOptions, Shutdown};
use crate::error::{Error, Result};
use crate::inventory::{self, Inventory};
use crate::playbook::{Play, Playbook, Task};
use crate::report::{write_atomic, EventLog, ReportBuilder, RunInfo};
use crate::transport::Transports;
use crate::ui::{self, Verbosity};

/// What to run, fully resolved.
pub struct Job {
    pub command: &'static str,
    pub playbook: Playbook,
    pub inventory: Inventory,
    pub target: TargetArgs,
    pub settings: SettingsArgs,
    pub state: StateArgs,
    pub output: OutputArgs,
    pub group_outputs: bool,
    /// `exec --output json`: the report goes to stdout, the summary to stderr.
    pub report_on_stdout: bool,
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
            state: args.state,
            output: args.output,
            group_outputs: false,
            report_on_stdout: false,
        })
    }

    pub fn from_exec(args: ExecArgs) -> Result<Job> {
        if args.format == crate::cli::OutputFormat::Json
            && args.output.events.as_deref() == Some(std::path::Path::new("-"))
        {
            return Err(Error::Usage(
                "--output json and --events - both want stdout; give --events a file".into(),
            ));
        }
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
            report_on_stdout: args.format == crate::cli::OutputFormat::Json,
            state: args.state,
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
    pub async fn execute(mut self, mut transports: Transports) -> Result<i32> {
        let plan = Arc::new(self.plan(&transports)?);
        // The plan holds everything the run needs; the parsed inventory is dead weight now.
        drop(std::mem::take(&mut self.inventory));
        if let Some(t) = plan.plays.iter().map(|p| p.settings.connect_timeout).max() {
            transports.ssh.set_connect_timeout(t);
        }
        // Every command that can be rendered before the run is, so a typo stops everything.
        crate::check::check(&plan)?;
        let verbosity = Verbosity::from_flags(self.output.quiet, self.output.verbose);
        let breakers = Arc::new(self.breaker_store()?);
        let mut events_log = self
            .output
            .events
            .as_deref()
            .map(EventLog::open)
            .transpose()?;
        let mut live = ui::Live::new(&plan, verbosity, self.output.color);
        let (trigger, shutdown) = Shutdown::new();
        let notices = live.notices();
        tokio::spawn(async move {
            let mut count = 0;
            while wait_for_signal().await {
                count += 1;
                if count == 1 {
                    notices.say(
                        "interrupt: starting no new hosts; interrupt again to cancel running ones",
                    );
                } else {
                    notices.say("interrupt: cancelling running hosts");
                }
                trigger.fire();
            }
        });
        let (events, mut rx) = crate::event::EventSink::new();
        let started_at = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
        let mqtt = transports.mqtt.clone();
        let env = engine::RunEnv {
            transports: Arc::new(transports),
            breakers: breakers.clone(),
            clock: engine::Clock::system(),
        };
        let engine = tokio::spawn(engine::run(plan.clone(), env, events, shutdown));
        let mut builder = ReportBuilder::default();
        while let Some(event) = rx.recv().await {
            live.show(&event);
            if let Some(log) = &mut events_log {
                log.write(&event);
            }
            builder.apply(event);
        }
        live.finish();
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
            aborted: end.aborted,
            state_file: breakers.path().map(|p| p.display().to_string()),
            ..RunInfo::default()
        };
        // Breaker state is saved even when the report cannot be written.
        let saved = breakers.save(&self.target.inventories);
        let mut report = builder.build(info);
        report.mqtt = mqtt.summary();
        mqtt.close().await;
        report.run.exit_code = report.exit_code();
        if let Some(path) = &self.output.report {
            write_atomic(path, |out| {
                serde_json::to_writer_pretty(&mut *out, &report)?;
                out.write_all(b"\n")
            })?;
        }
        if let Some(path) = &self.output.junit {
            let tasks: Vec<Vec<String>> = plan
                .plays
                .iter()
                .map(|p| p.tasks.iter().map(|t| t.name.clone()).collect())
                .collect();
            let xml = crate::report::junit(&report, &tasks);
            write_atomic(path, |out| out.write_all(xml.as_bytes()))?;
        }
        let events_to_stdout = self.output.events.as_deref() == Some(std::path::Path::new("-"));
        if let Some(log) = events_log {
            log.finish()?;
        }
        let stdout = if self.report_on_stdout {
            ui::Stdout::Report
        } else if events_to_stdout {
            ui::Stdout::Events
        } else {
            ui::Stdout::Summary
        };
        let printed = ui::print_end(&report, stdout, self.group_outputs, verbosity);
        saved?;
        printed?;
        Ok(report.run.exit_code)
    }

    /// The breaker store of these inventories: in `--state-dir`, else the XDG state dir.
    fn breaker_store(&self) -> Result<engine::BreakerStore> {
        let dir = self
            .state
            .state_dir
            .clone()
            .or_else(engine::breaker_store::default_dir);
        match dir {
            Some(dir) => engine::BreakerStore::open(
                &dir,
                &self.target.inventories,
                self.state.reset_breakers,
            ),
            None => Ok(engine::BreakerStore::in_memory()),
        }
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
        ui::out::print(&inventory::graph(&inv))?;
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
        let mut text = String::new();
        for (key, (value, source)) in &resolved {
            let shown = if crate::engine::plan::is_secret_name(key) {
                "\"********\"".to_string()
            } else {
                value.to_string()
            };
            text.push_str(&format!("{key:<width$}  {shown}  # from {source}\n"));
        }
        ui::out::print(&text)?;
    } else {
        let json = inventory::to_ansible_json(&inv);
        let text = serde_json::to_string_pretty(&json).unwrap_or_default();
        ui::out::print(&format!("{text}\n"))?;
    }
    Ok(0)
}
