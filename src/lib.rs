//! drover drives fleets of network devices: it reads a YAML inventory and playbooks,
//! renders each command per host, and runs the tasks in batches across the fleet.
//!
//! Data flow: inventory + playbook + flags → [`engine::Plan`] → [`engine::run`] → typed
//! [`event::Event`]s → the live view (bars or plain lines), the NDJSON stream, the report,
//! JUnit, the summary and the exit code.

pub mod app;
pub mod atomic_write;
mod base64;
pub mod check;
pub mod cli;
pub mod diagnostic;
pub mod engine;
pub mod error;
pub mod event;
pub mod generate;
pub mod history;
pub mod inventory;
pub mod man;
pub mod outcome;
pub mod parse;
pub mod platform;
pub mod playbook;
pub mod policy;
pub mod report;
pub mod secrets;
pub mod settings;
pub mod shell;
pub mod state_dir;
pub mod template;
pub mod transport;
pub mod ui;
pub mod watch;
pub mod yaml_limits;

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
    let config = match cli::Config::load() {
        Ok(c) => c,
        Err(e) => {
            ui::out::eprintln(&format!("error: {e}"));
            return 1;
        }
    };
    let parsed = config
        .apply(<Cli as clap::CommandFactory>::command())
        .try_get_matches_from(args)
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    if matches!(cli.command, Command::Config) {
        return match ui::out::print(&config.show()) {
            Ok(()) => 0,
            Err(e) => {
                ui::out::eprintln(&format!("error: {e}"));
                1
            }
        };
    }
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
        Command::Config => Ok(0),
        Command::Check(args) => {
            let job = app::Job::from_run(
                cli::RunArgs {
                    playbook: args.playbook,
                    target: args.target,
                    login: args.login.clone(),
                    habits: cli::RunHabits::default(),
                    settings: cli::SettingsArgs::default(),
                    state: cli::StateArgs::default(),
                    history: cli::HistoryArgs::default(),
                    output: cli::OutputArgs::default(),
                },
                history::Session::none(),
            )?;
            check(with_login(job, &args.login)?, args.habits.list_hosts)
        }
        Command::Run(args) => {
            args.habits.unsupported()?;
            let (habits, login) = (args.habits.clone(), args.login.clone());
            if habits.list_hosts || habits.check || habits.syntax_check {
                let job = app::Job::from_run(args, history::Session::none())?;
                return check(with_login(job, &login)?, habits.list_hosts);
            }
            let session = history::Session::new(history::Invocation {
                command: "run",
                playbook: Some(&args.playbook),
                exec: None,
                target: &args.target,
                state: &args.state,
                history: &args.history,
                report: args.output.report.as_deref(),
            });
            recorded(session, |s| {
                with_login(app::Job::from_run(args, s)?, &login)
            })
        }
        Command::Exec(args) => {
            let login = args.login.clone();
            let session = history::Session::new(history::Invocation {
                command: "exec",
                playbook: None,
                exec: Some(format!("{} -- {}", args.pattern, args.command.join(" "))),
                target: &args.target,
                state: &args.state,
                history: &args.history,
                report: args.output.report.as_deref(),
            });
            recorded(session, |s| {
                with_login(app::Job::from_exec(args, s)?, &login)
            })
        }
        Command::Watch(args) => {
            let login = args.login.clone();
            let run = cli::RunArgs {
                playbook: args.playbook,
                target: args.target,
                login: args.login,
                habits: cli::RunHabits::default(),
                settings: args.settings,
                state: args.state,
                history: cli::HistoryArgs::default(),
                output: cli::OutputArgs::default(),
            };
            let job = with_login(app::Job::from_run(run, history::Session::none())?, &login)?;
            watch::command::run(job, args.options)
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

/// `drover check`, `run --check`: plan and render everything, print it, connect nothing.
/// With `list_hosts`, only the hosts each play selects.
fn check(job: app::Job, list_hosts: bool) -> Result<i32> {
    let plan = job.plan(&transport::Transports::default())?;
    if list_hosts {
        let mut out = String::new();
        for play in &plan.plays {
            let n = play.hosts.len();
            out.push_str(&format!(
                "play `{}` (hosts: {}): {n} host{}\n",
                play.name,
                play.pattern,
                if n == 1 { "" } else { "s" }
            ));
            for host in &play.hosts {
                out.push_str(&format!("  {}\n", host.name));
            }
        }
        ui::out::print(&out)?;
    } else {
        ui::out::print(&check::check(&plan)?)?;
    }
    Ok(0)
}

/// `-u USER`: the user of every host whose inventory sets none, as with Ansible's `-u`. It
/// goes into the inventory defaults (the lowest level) as `ansible_user`, the alias `user`
/// yields to, so a `user` or `ansible_user` anywhere in the inventory keeps its value.
fn with_login(mut job: app::Job, login: &cli::LoginArgs) -> Result<app::Job> {
    let defaults = &mut job.inventory.defaults;
    if let Some(user) = &login.user {
        if !defaults.contains_key("user") && !defaults.contains_key("ansible_user") {
            defaults.insert("ansible_user".into(), user.clone().into());
        }
    }
    // As Ansible's: the lowest precedence, so a host's own password wins.
    if let Some(password) = login.password()? {
        let set = ["password", "ansible_password", "ansible_ssh_pass"];
        if !set.iter().any(|k| defaults.contains_key(*k)) {
            defaults.insert("ansible_password".into(), password.into());
        }
    }
    Ok(job)
}

fn block_on(job: app::Job) -> Result<i32> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| error::Error::Usage(format!("cannot start the runtime: {e}")))?;
    let code = runtime.block_on(job.execute(transport::Transports::default()));
    // The report is written: exit now. Dropping the runtime would wait for every blocking
    // task still queued, such as the name lookups of brokers that never answered.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    code
}
