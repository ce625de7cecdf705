//! drover drives fleets of network devices: it reads a YAML inventory and playbooks,
//! renders each command per host, and runs the tasks in batches across the fleet.
//!
//! Data flow: inventory + playbook + flags → [`engine::Plan`] → [`engine::run`] → typed
//! [`event::Event`]s → the live view (bars or plain lines), the NDJSON stream, the report,
//! JUnit, the summary and the exit code.

pub mod app;
pub mod check;
pub mod cli;
pub mod diagnostic;
pub mod engine;
pub mod error;
pub mod event;
pub mod generate;
pub mod inventory;
pub mod man;
pub mod outcome;
pub mod playbook;
pub mod report;
pub mod settings;
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
                    ui::out::eprintln(&format!("error: {e}"));
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
            ui::out::eprintln(&format!("error: {e}"));
            1
        }
    }
}

fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Inventory(args) => app::inventory(args),
        Command::Check(args) => {
            let job = app::Job::from_run(cli::RunArgs {
                playbook: args.playbook,
                target: args.target,
                settings: cli::SettingsArgs::default(),
                state: cli::StateArgs::default(),
                output: cli::OutputArgs::default(),
            })?;
            let plan = job.plan(&transport::Transports::default())?;
            ui::out::print(&check::check(&plan)?)?;
            Ok(0)
        }
        Command::Run(args) => block_on(app::Job::from_run(args)?),
        Command::Exec(args) => block_on(app::Job::from_exec(args)?),
    }
}

fn block_on(job: app::Job) -> Result<i32> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| error::Error::Usage(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(job.execute(transport::Transports::default()))
}
