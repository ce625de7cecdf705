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
use crate::platform::Platforms;
use crate::playbook::{Play, Playbook, Task};
use crate::report::{write_atomic, EventLog, ReportBuilder, RunInfo, RunReport};
use crate::transport::{Transport, Transports};
use crate::ui::{self, Verbosity};

/// The platforms of a run: the shipped ones, the inventories' and `--platforms`.
fn platforms_of(inventory: &Inventory, target: &TargetArgs) -> Result<Arc<Platforms>> {
    let sources = inventory
        .platform_sources
        .iter()
        .map(|(path, source)| (path.as_path(), source.as_str()));
    Platforms::for_run(sources, target.platforms.as_deref()).map(Arc::new)
}

/// What to run, fully resolved.
pub struct Job {
    pub command: &'static str,
    pub playbook: Playbook,
    pub inventory: Inventory,
    /// The shipped device platforms and the user's (inventories' `platforms:`, then
    /// `--platforms`).
    pub platforms: Arc<Platforms>,
    pub target: TargetArgs,
    pub settings: SettingsArgs,
    pub state: StateArgs,
    pub output: OutputArgs,
    pub group_outputs: bool,
    /// `exec --output json`: the report goes to stdout, the summary to stderr.
    pub report_on_stdout: bool,
    /// Run id and metadata, the history, `--shard` and `--retry-failed`.
    pub history: crate::history::Session,
}

impl Job {
    pub fn from_run(args: RunArgs, history: crate::history::Session) -> Result<Job> {
        args.output.one_on_stdout()?;
        let mut inventory = inventory::load(&args.target.inventories)?;
        let platforms = platforms_of(&inventory, &args.target)?;
        let playbook = Playbook::load(&args.playbook)?;
        inventory::add_playbook_vars(&mut inventory, &args.playbook)?;
        Ok(Job {
            command: "run",
            playbook,
            inventory,
            platforms,
            target: args.target,
            settings: args.settings,
            state: args.state,
            output: args.output,
            group_outputs: false,
            report_on_stdout: false,
            history,
        })
    }

    pub fn from_exec(args: ExecArgs, history: crate::history::Session) -> Result<Job> {
        if args.format == crate::cli::OutputFormat::Json && args.output.stdout_taken() {
            return Err(Error::Usage(
                "--output json and `-` (stdout) for --events, --report or --junit both want stdout; give the file a name".into(),
            ));
        }
        args.output.one_on_stdout()?;
        let inventory = inventory::load(&args.target.inventories)?;
        let platforms = platforms_of(&inventory, &args.target)?;
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
            platforms,
            target: args.target,
            settings: args.settings,
            report_on_stdout: args.format == crate::cli::OutputFormat::Json,
            state: args.state,
            output: args.output,
            group_outputs: true,
            history,
        })
    }

    pub fn plan(&self, transports: &dyn Transport) -> Result<Plan> {
        let options = PlanOptions {
            limit: crate::history::resolve_limit(self.target.limit.as_deref())?,
            extra_vars: parse_extra_vars(&self.target.extra_vars)?,
            overrides: self.settings.overrides(),
            tags: crate::playbook::TagFilter {
                only: self.target.tags.clone(),
                skip: self.target.skip_tags.clone(),
            },
            select: self.history.selection(),
            platforms: Some(self.platforms.clone()),
        };
        Plan::build(&self.playbook, &self.inventory, &options, transports)
    }

    /// Runs the job to its end and returns the exit code: SIGINT or SIGTERM once drains the
    /// run, twice cancels it. Input errors come back before anything connects.
    pub async fn execute(self, transports: Transports) -> Result<i32> {
        let (trigger, shutdown) = Shutdown::new();
        tokio::spawn(async move {
            while wait_for_signal().await {
                trigger.fire();
            }
        });
        self.execute_until(transports, shutdown).await
    }

    /// Runs the job until it ends or `shutdown` says so (the first trigger drains, the second
    /// cancels), whoever fires it: a signal, or a test.
    pub async fn execute_until(
        mut self,
        mut transports: Transports,
        shutdown: Shutdown,
    ) -> Result<i32> {
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
        let hosts = plan.plays.iter().flat_map(|p| p.hosts.iter());
        let mut live = ui::Live::new(hosts.map(|h| &*h.name), verbosity, self.output.color);
        announce_shutdown(live.notices(), shutdown.clone());
        let started_at = now_rfc3339();
        let (events, mut rx) = crate::event::EventSink::new();
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
        let info = self.run_info(started_at, end, breakers.path());
        // Breaker state is saved even when the report cannot be written.
        let saved = breakers.save(&self.target.inventories);
        let mut report = builder.build(info);
        report.run.exit_code = report.exit_code();
        self.history.record(&report);
        // The hosts ran: an output that cannot be written is said on stderr and keeps the
        // run's exit code, at least 2 (never 1, which means nothing ran).
        let mut failures = self.write_outputs(&report, &plan);
        if let Some(log) = events_log {
            failures.extend(log.finish().err());
        }
        failures.extend(saved.err());
        let stdout = self.stdout_use();
        let printed = ui::print_end(&report, stdout, self.group_outputs, verbosity);
        self.history
            .print_end(&report, stdout != ui::Stdout::Summary);
        for e in &failures {
            ui::out::eprintln(&format!("error: {e}"));
        }
        printed?;
        Ok(output_exit_code(report.run.exit_code, failures.is_empty()))
    }

    fn run_info(
        &self,
        started_at: String,
        end: engine::RunEnd,
        state_file: Option<&std::path::Path>,
    ) -> RunInfo {
        RunInfo {
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
            finished_at: now_rfc3339(),
            interrupted: end.interrupted,
            aborted: end.aborted,
            state_file: state_file.map(|p| p.display().to_string()),
            ..self.history.info()
        }
    }

    /// `--report`, `--junit` and `--html`; each is tried, whatever became of the others.
    fn write_outputs(&self, report: &RunReport, plan: &Plan) -> Vec<Error> {
        let mut failures = Vec::new();
        if let Some(path) = &self.output.report {
            failures.extend(
                write_atomic(path, |out| {
                    serde_json::to_writer_pretty(&mut *out, report)?;
                    out.write_all(b"\n")
                })
                .err(),
            );
        }
        if let Some(path) = &self.output.junit {
            let tasks: Vec<Vec<String>> = plan
                .plays
                .iter()
                .map(|p| p.tasks.iter().map(|t| t.name.clone()).collect())
                .collect();
            let xml = crate::report::junit(report, &tasks);
            failures.extend(write_atomic(path, |out| out.write_all(xml.as_bytes())).err());
        }
        if let Some(path) = &self.output.html {
            let drift = self.history.drift(report).map(|d| d.html());
            let page = crate::report::html::page(report, drift.as_deref());
            failures.extend(write_atomic(path, |out| out.write_all(page.as_bytes())).err());
        }
        failures
    }

    /// What stdout carries at the end.
    fn stdout_use(&self) -> ui::Stdout {
        if self.report_on_stdout {
            ui::Stdout::Report
        } else if self.output.stdout_taken() {
            // `--events -`, `--report -` or `--junit -`: the summary goes to stderr.
            ui::Stdout::Events
        } else {
            ui::Stdout::Summary
        }
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
            None => {
                ui::out::eprintln(crate::state_dir::NO_STATE_DIR);
                Ok(engine::BreakerStore::in_memory())
            }
        }
    }
}

/// The exit code of a run whose outputs were (`written`) or were not all written.
pub fn output_exit_code(run_code: i32, written: bool) -> i32 {
    if written {
        run_code
    } else {
        run_code.max(2)
    }
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// Says on the live view what the first and the second shutdown trigger do.
fn announce_shutdown(notices: ui::Notices, shutdown: Shutdown) {
    tokio::spawn(async move {
        let mut drained = shutdown.clone();
        let mut cancelled = shutdown;
        drained.drained().await;
        notices.say("interrupt: starting no new hosts; interrupt again to cancel running ones");
        cancelled.cancelled().await;
        notices.say("interrupt: cancelling running hosts");
    });
}

/// Waits for SIGINT or SIGTERM; false when signals cannot be watched.
pub async fn wait_for_signal() -> bool {
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

/// A variable as `inventory --host` shows it: secret-named values, also inside maps and
/// lists (a jump host's `password`), as stars.
fn masked(key: &str, value: &serde_json::Value) -> serde_json::Value {
    crate::secrets::mask_json(key, value, false)
}

/// `drover inventory`.
pub fn inventory(args: InventoryArgs) -> Result<i32> {
    let mut inv = inventory::load(&args.inventories)?;
    if let Some(dir) = &args.playbook_dir {
        inventory::add_playbook_vars(&mut inv, &dir.join("playbook.yml"))?;
    }
    if args.names {
        let mut text = String::new();
        for name in inv.groups.keys().chain(inv.hosts.keys()) {
            text.push_str(name);
            text.push('\n');
        }
        ui::out::print(&text)?;
    } else if let Some(pattern) = &args.list_hosts {
        let mut text = String::new();
        for host in inventory::select(&inv, pattern)? {
            text.push_str(&format!("{host}\n"));
        }
        ui::out::print(&text)?;
    } else if args.graph {
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
            let shown = masked(key, value).to_string();
            text.push_str(&format!("{key:<width$}  {shown}  # from {source}\n"));
        }
        let vars: inventory::Vars = inv.resolve(host);
        if let Ok(conn) = inventory::Connection::from_vars(host, vars) {
            if conn.transport == inventory::TransportKind::Ssh {
                match crate::transport::ssh::backend_of(&conn.vars) {
                    Ok((backend, why)) => {
                        text.push_str(&format!("# ssh backend: {} ({why})\n", backend.as_str()))
                    }
                    Err(message) => text.push_str(&format!("# ssh backend: none ({message})\n")),
                }
            }
        }
        ui::out::print(&text)?;
    } else {
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        ui::out::quiet_pipe(
            inventory::write_ansible_json(&inv, &mut stdout)
                .and_then(|()| std::io::Write::flush(&mut stdout)),
        )
        .map_err(|e| Error::io("stdout", "write to", e))?;
    }
    Ok(0)
}
