//! drover drives fleets of network devices: it reads a YAML inventory and playbooks,
//! renders each command per host, and runs the tasks in batches across the fleet.
//!
//! Data flow: inventory + playbook + flags → [`engine::Plan`] → [`engine::run`] → typed
//! [`event::Event`]s → the live view (bars or plain lines), the NDJSON stream, the report,
//! JUnit, the summary and the exit code.

pub mod app;
pub mod atomic_write;
pub mod check;
pub mod cli;
pub mod diagnostic;
pub mod engine;
pub mod error;
pub mod event;
pub mod generate;
pub mod history;
pub mod inventory;
pub mod outcome;
pub mod parse;
pub mod platform;
pub mod playbook;
pub mod policy;
pub mod report;
pub mod settings;
pub mod shell;
pub mod template;
pub mod transport;
pub mod ui;

use std::ffi::OsString;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::Result;

/// Runs drover with these arguments and returns the process exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_some_and(|a| a == "generate") {
        return match cli::GenerateArgs::try_parse_from(&args[1..]) {
            Ok(g) => match generate::generate(&g.dir) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("error: {e}");
                    1
                }
            },
            Err(e) => {
                let _ = e.print();
                i32::from(e.use_stderr())
            }
        };
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Inventory(args) => app::inventory(args),
        Command::Check(args) => {
            let job = app::Job::from_run(
                cli::RunArgs {
                    playbook: args.playbook,
                    target: args.target,
                    settings: cli::SettingsArgs::default(),
                    state: cli::StateArgs::default(),
                    history: cli::HistoryArgs::default(),
                    output: cli::OutputArgs::default(),
                },
                history::Session::none(),
            )?;
            let plan = job.plan(&transport::Transports::default())?;
            print!("{}", check::check(&plan)?);
            Ok(0)
        }
        Command::Run(args) => {
            let session = history::Session::new(history::Invocation {
                command: "run",
                playbook: Some(&args.playbook),
                exec: None,
                target: &args.target,
                state: &args.state,
                history: &args.history,
                report: args.output.report.as_deref(),
            });
            recorded(session, |s| app::Job::from_run(args, s))
        }
        Command::Exec(args) => {
            let session = history::Session::new(history::Invocation {
                command: "exec",
                playbook: None,
                exec: Some(format!("{} -- {}", args.pattern, args.command.join(" "))),
                target: &args.target,
                state: &args.state,
                history: &args.history,
                report: args.output.report.as_deref(),
            });
            recorded(session, |s| app::Job::from_exec(args, s))
        }
        Command::History(args) => history::history(args),
        Command::Report(args) => history::report(args),
    }
}

/// Runs a job whose every ending, input errors included, leaves a report.
fn recorded(
    mut session: history::Session,
    job: impl FnOnce(history::Session) -> Result<app::Job>,
) -> Result<i32> {
    let result = session
        .prepare()
        .and_then(|()| job(session.clone()))
        .and_then(block_on);
    result.map_err(|e| session.failed(e))
}

fn block_on(job: app::Job) -> Result<i32> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| error::Error::Usage(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(job.execute(transport::Transports::default()))
}
