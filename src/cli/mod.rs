//! Raw command-line arguments, as close to the CLI as possible. `resolve` turns them into
//! the settings the rest of drover uses.

mod ansible;
mod config;
mod extra_vars;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::settings::{DurationValue, Overrides, Rate, Strategy};

pub use ansible::{CheckHabits, LoginArgs, RunHabits};
pub use config::Config;
pub use extra_vars::parse_extra_vars;

/// The exit codes of a run (`run`, `exec`), as `--help` and the man pages list them. A macro,
/// so `concat!` can put it under each command's examples.
macro_rules! run_exit_codes {
    () => {
        "Exit codes:
  0    every host ok
  1    usage or input error (bad inventory, playbook, pattern or flag); nothing ran
  2    some hosts failed, were unreachable, or were skipped by an open breaker
  3    aborted by max_fail_percentage or any_errors_fatal; hosts not started are cancelled
  130  interrupted (Ctrl-C or SIGTERM); the report holds what was done"
    };
}

#[derive(Debug, Parser)]
#[command(
    name = "drover",
    version,
    about = "Drive fleets of network devices from a YAML inventory and playbooks",
    long_about = "drover reads a YAML inventory and declarative YAML playbooks, renders each \
command per host with minijinja, and runs the tasks in batches across the fleet.",
    after_help = concat!("Examples:
  drover run playbooks/site-audit.yml -i inventory/lab.yml --report target/report.json
  drover exec -i inventory/lab.yml all -- uname -a
  drover check playbooks/site-audit.yml -i inventory/lab.yml
  drover inventory -i inventory/lab.yml --graph

", run_exit_codes!()),
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a playbook against the inventory
    #[command(after_help = concat!("Examples:
  drover run playbooks/site-audit.yml -i inventory/lab.yml
  drover run site.yml -i inv.yml --limit 'core:&deu' -e version=17.3 --report report.json
  drover run site.yml -i inv.yml --batch-size 20 --concurrency 5 --strategy rolling
  drover run site.yml -i inv.yml --junit junit.xml --events - | jq -c 'select(.event==\"host_finished\")'

", run_exit_codes!()))]
    Run(RunArgs),
    /// Run one command on the hosts a pattern selects, no playbook needed
    #[command(
        long_about = "Run one command on the hosts a pattern selects, no playbook needed. \
Identical outputs are grouped across hosts in the summary.",
        after_help = concat!("Examples:
  drover exec -i inventory/lab.yml all -- uname -a
  drover exec -i inv.yml 'core:&deu' -- show version
  drover exec -i inv.yml all --output json -- uptime | jq '.output_groups'

", run_exit_codes!())
    )]
    Exec(ExecArgs),
    /// Validate a playbook and print every host's rendered commands; connects to nothing
    #[command(after_help = "Examples:
  drover check playbooks/site-audit.yml -i inventory/lab.yml
  drover check site.yml -i inv.yml --limit deu -e version=17.3

Exit codes:
  0    the playbook is valid and every command renders
  1    it is not (the errors are printed)")]
    Check(CheckArgs),
    /// Show the inventory: hosts, groups and resolved variables
    #[command(after_help = "Examples:
  drover inventory -i inventory/lab.yml --graph
  drover inventory -i inventory/lab.yml --host lab-r1
  drover inventory -i inventory/lab.yml -i inventory/extra.yml --list

Exit codes:
  0    printed
  1    the inventory cannot be read, or --host names no host")]
    Inventory(InventoryArgs),
    /// Show the defaults drover takes from DROVER_* variables and drover.yml, and where from
    #[command(
        after_help = "Files, last wins: $XDG_CONFIG_HOME/drover/drover.yml (else \
~/.config/drover/drover.yml), then ./drover.yml; then DROVER_INVENTORY, DROVER_CONCURRENCY, \
DROVER_RATE, DROVER_STATE_DIR; then the flags. Keys: inventory, concurrency, rate, state_dir.

Examples:
  drover config

Exit codes:
  0    shown
  1    a config file cannot be read"
    )]
    Config,
}

/// Where the fleet comes from and which part of it to use.
#[derive(Debug, Args, Clone)]
pub struct TargetArgs {
    /// Inventory file: native YAML, Ansible YAML, or an executable printing Ansible JSON (repeatable; later ones win)
    #[arg(
        short = 'i',
        long = "inventory",
        value_name = "INVENTORY",
        required = true,
        env = "DROVER_INVENTORY"
    )]
    pub inventories: Vec<PathBuf>,
    /// Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b)
    #[arg(short = 'l', long, value_name = "PATTERN")]
    pub limit: Option<String>,
    /// Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)
    #[arg(short = 'e', long = "extra-vars", value_name = "VARS")]
    pub extra_vars: Vec<String>,
}

/// Run settings given on the command line; they override the play's.
#[derive(Debug, Args, Clone, Default)]
pub struct SettingsArgs {
    /// Hosts per batch; 0 = one batch of all hosts [play default: 10]
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// Most hosts in flight at once [play default: 10]
    #[arg(short = 'f', long, visible_alias = "forks", value_name = "N", env = "DROVER_CONCURRENCY", value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: Option<u32>,
    /// batched: a batch finishes before the next starts; rolling: a window of hosts
    #[arg(long, value_enum)]
    pub strategy: Option<Strategy>,
    /// Per connection attempt, e.g. 10s [default: 10s]
    #[arg(long, value_name = "DURATION")]
    pub connect_timeout: Option<DurationValue>,
    /// Per command, e.g. 8s, 2m [default: 8s]
    #[arg(long, value_name = "DURATION")]
    pub command_timeout: Option<DurationValue>,
    /// Whole-host deadline, e.g. 5m [default: none]
    #[arg(long, value_name = "DURATION")]
    pub host_timeout: Option<DurationValue>,
    /// Wait between batches, e.g. 30s [default: 0s]
    #[arg(long, value_name = "DURATION")]
    pub batch_pause: Option<DurationValue>,
    /// New connections per time, fleet-wide: 20/s, 300/m, 120/h [default: 20/s]
    #[arg(long, value_name = "RATE", env = "DROVER_RATE")]
    pub rate: Option<Rate>,
    /// Connections that may start at once after an idle spell [default: 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub burst: Option<u32>,
    /// New connections per time through one gateway (jump host, broker, `gateway` var)
    #[arg(long, value_name = "RATE")]
    pub gateway_rate: Option<Rate>,
    /// Connection attempts after the first, for transient failures [default: 2]
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// Backoff base between connection attempts (full jitter) [default: 2s]
    #[arg(long, value_name = "DURATION")]
    pub backoff: Option<DurationValue>,
    /// Longest wait between connection attempts [default: 60s]
    #[arg(long, value_name = "DURATION")]
    pub backoff_cap: Option<DurationValue>,
    /// Consecutive connection failures that open a host's breaker; 0 = off [default: 3]
    #[arg(long, value_name = "N")]
    pub breaker_threshold: Option<u32>,
    /// How long an open breaker skips its host [default: 180s]
    #[arg(long, value_name = "DURATION")]
    pub breaker_cooldown: Option<DurationValue>,
    /// Stop starting hosts once more than this percentage of finished hosts failed (exit 3)
    #[arg(long, value_name = "PERCENT", value_parser = percentage)]
    pub max_fail_percentage: Option<f64>,
    /// Finished hosts needed before --max-fail-percentage is judged [default: 1]
    #[arg(long, value_name = "N")]
    pub min_hosts_done: Option<usize>,
    /// Stop starting hosts at the first failed host (exit 3)
    #[arg(long)]
    pub any_errors_fatal: bool,
}

fn percentage(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("`{text}` is not a percentage from 0 to 100")),
    }
}

/// Where breaker state lives between runs.
#[derive(Debug, Args, Clone, Default)]
pub struct StateArgs {
    /// Directory of the breaker state files [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]
    #[arg(long, value_name = "DIR", env = "DROVER_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Forget every breaker of this inventory before the run
    #[arg(long)]
    pub reset_breakers: bool,
}

impl SettingsArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            batch_size: self.batch_size,
            strategy: self.strategy,
            concurrency: self.concurrency.map(|c| c as usize),
            connect_timeout: self.connect_timeout.map(|d| d.0),
            command_timeout: self.command_timeout.map(|d| d.0),
            host_timeout: self.host_timeout.map(|d| d.0),
            batch_pause: self.batch_pause.map(|d| d.0),
            rate: self.rate,
            burst: self.burst,
            gateway_rate: self.gateway_rate,
            retries: self.retries,
            backoff: self.backoff.map(|d| d.0),
            backoff_cap: self.backoff_cap.map(|d| d.0),
            breaker_threshold: self.breaker_threshold,
            breaker_cooldown: self.breaker_cooldown.map(|d| d.0),
            max_fail_percentage: self.max_fail_percentage,
            min_hosts_done: self.min_hosts_done,
            any_errors_fatal: self.any_errors_fatal.then_some(true),
        }
    }
}

/// What a run writes and prints.
#[derive(Debug, Args, Clone, Default)]
pub struct OutputArgs {
    /// Write the JSON report here (atomically, also when interrupted)
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Print every task (-v), the connector's decisions (-vv), each command line as sent, secrets masked (-vvv); to stderr
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print only the summary (on a terminal: only the overall bar while running)
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Write JUnit XML here, one test case per host × task (atomically)
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Stream every event as one JSON line to FILE, or to stdout with `-`
    #[arg(long, value_name = "FILE|-")]
    pub events: Option<PathBuf>,
    /// Colours on stderr; `auto` is on for a terminal unless NO_COLOR is set
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// `--color`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// `--output` on `exec`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Progress on stderr, the summary on stdout
    #[default]
    Text,
    /// The JSON report on stdout and nothing else there
    Json,
}

/// `drover generate`: parsed apart from [`Cli`] so completions and man pages never list it.
#[derive(Debug, Parser)]
#[command(
    name = "drover generate",
    bin_name = "drover generate",
    about = "Regenerate completions/, man/ and schema/ (for drover's own repository)"
)]
pub struct GenerateArgs {
    /// The repository root to write completions/, man/ and schema/ into
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The playbook to run
    #[arg(value_name = "PLAYBOOK")]
    pub playbook: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub login: LoginArgs,
    #[command(flatten)]
    pub habits: RunHabits,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Which hosts: names, globs, groups, a:b, a:&b, a:!b
    #[arg(value_name = "PATTERN")]
    pub pattern: String,
    /// The command line, after `--`
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
    #[command(flatten)]
    pub login: LoginArgs,
    /// `json`: print the report on stdout, for scripts (the summary goes to stderr)
    #[arg(long = "output", value_enum, value_name = "FORMAT", default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The playbook to check
    #[arg(value_name = "PLAYBOOK")]
    pub playbook: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub login: LoginArgs,
    #[command(flatten)]
    pub habits: CheckHabits,
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Inventory file (repeatable; later ones win)
    #[arg(
        short = 'i',
        long = "inventory",
        value_name = "INVENTORY",
        required = true,
        env = "DROVER_INVENTORY"
    )]
    pub inventories: Vec<PathBuf>,
    /// Print the whole inventory as Ansible-style JSON (the default)
    #[arg(long, conflicts_with_all = ["host", "graph"])]
    pub list: bool,
    /// Print one host's resolved variables and where each came from
    #[arg(long, value_name = "NAME", conflicts_with = "graph")]
    pub host: Option<String>,
    /// Draw the group tree
    #[arg(long)]
    pub graph: bool,
}
