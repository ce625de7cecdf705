//! Raw command-line arguments, as close to the CLI as possible. `resolve` turns them into
//! the settings the rest of drover uses.

mod ansible;
mod config;
mod config_toml;
mod extra_vars;
mod history;
mod watch;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use crate::settings::SettingsArgs;

pub use ansible::{CheckHabits, LoginArgs, RunHabits};
pub use config::Config;
pub use extra_vars::parse_extra_vars;
pub use history::{
    parse_shard, DiffArgs, HistoryArgs, HistoryListArgs, HtmlArgs, MergeArgs, ReportArgs,
    ReportCommand, ShowArgs,
};
pub use watch::{WatchArgs, WatchOptions};

/// The exit codes of a run (`run`, `exec`), as `--help` and the man pages list them. A macro,
/// so `concat!` can put it under each command's examples.
macro_rules! run_exit_codes {
    () => {
        "Exit codes:
  0    every host ok
  1    usage or input error (bad inventory, playbook, pattern or flag); nothing ran
  2    some hosts failed, were unreachable, or were skipped by an open breaker; or the
       report, JUnit, events or breaker state could not be written (said on stderr)
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
    /// Watch the fleet: the play's tasks as health checks, each host on its level's interval
    #[command(
        long_about = "Watch the fleet: run the play's tasks as health checks, per host, on the \
interval of the host's monitoring level (CRITICAL 5s, HIGH 15s, NORMAL 60s, LOW 300s, MINIMAL \
600s). A failure escalates a host (one: HIGH, two in a row: CRITICAL), a run of successes calms \
it one level at a time, and a host not heard from for more than 300s (`idle_after`) is raised to \
HIGH; the play's `watch:` section changes the intervals and rules. Checks go through the \
connector (rate limit, breakers, retries), at most `concurrency` at once. MQTT hosts may be \
checked by a heartbeat topic instead (`watch.heartbeat`); their topics are subscribed on the \
broker's connection under its cap (`max_subscriptions`, `broker_profile`), the most urgent \
hosts first. On a \
terminal a live table, elsewhere one line per change; at the end (SIGINT, SIGTERM, --duration) \
the report of the watch period. Each host's level is saved in the state dir, and the next \
watch resumes it.",
        after_help = "Examples:
  drover watch playbooks/health.yml -i inventory/lab.yml
  drover watch health.yml -i inv.yml --concurrency 50 --events watch.ndjson --metrics /var/lib/node_exporter/drover.prom
  drover watch health.yml -i inv.yml --duration 1h --report watch.json

Exit codes:
  0    the watch ended and every host's last check was ok
  1    usage or input error (bad inventory, playbook, `watch:` key or flag); nothing ran
  2    the watch ended with some host's last check failed, unreachable or breaker-open"
    )]
    Watch(WatchArgs),
    /// Show the inventory: hosts, groups and resolved variables
    #[command(after_help = "Examples:
  drover inventory -i inventory/lab.yml --graph
  drover inventory -i inventory/lab.yml --host lab-r1
  drover inventory -i inventory/lab.yml -i inventory/extra.yml --list
  drover inventory -i hosts --list-hosts 'routers[0:4]:!10.0.0.1'   # an Ansible INI inventory
  drover inventory -i inventories/prod/ --playbook-dir playbooks --host 10.0.0.1
  drover inventory -i '10.0.0.1,10.0.0.2:2222,' --list-hosts all

Reads drover's YAML, Ansible's YAML and INI inventories (ranges, group_vars/, host_vars/),
directories of them, host lists and dynamic inventory scripts; an Ansible inventory
resolves variables and selects hosts as ansible-core does.

Exit codes:
  0    printed
  1    the inventory cannot be read, or --host names no host")]
    Inventory(InventoryArgs),
    /// List the recorded runs: id, start, playbook, hosts per status, duration, exit code
    #[command(after_help = "Examples:
  drover history
  drover history --playbook site-audit.yml --since 24h
  drover history --json | jq -r '.[-1].id'

Exit codes:
  0    listed
  1    the state dir or a filter cannot be read")]
    History(HistoryListArgs),
    /// Past runs' reports: show one, diff two (drift), merge shards, write an HTML page
    #[command(after_help = "Examples:
  drover report show last
  drover report diff last~1 last
  drover report html last -o run.html --diff-against last~1
  drover report merge shard-*.json --report merged.json --junit junit.xml

Exit codes:
  0    shown; no drift; merged and every host ok; page written
  1    a run or report cannot be found or read, or shards do not belong together
  2    drift (diff); some hosts failed (merge)
  3    the merged run was aborted (merge)")]
    Report(ReportArgs),
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
    /// Only hosts that also match this pattern (names, globs, groups, a:b, a:&b, a:!b), or @FILE: one a line
    #[arg(short = 'l', long, value_name = "PATTERN")]
    pub limit: Option<String>,
    /// Extra variables, highest precedence: key=value, JSON/YAML mapping, or @file.yml (repeatable)
    #[arg(short = 'e', long = "extra-vars", value_name = "VARS")]
    pub extra_vars: Vec<String>,
    /// Router and switch platform profiles to add or override: YAML with a top-level `platforms:` key
    #[arg(long, value_name = "FILE")]
    pub platforms: Option<PathBuf>,
    /// Only tasks with one of these tags (comma-separated; also all, tagged, untagged); `always` tasks run too
    #[arg(long, value_name = "TAGS", value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Leave out tasks with one of these tags (comma-separated); `never` tasks run only when asked for by tag
    #[arg(long, value_name = "TAGS", value_delimiter = ',')]
    pub skip_tags: Vec<String>,
}

/// Where breaker state lives between runs.
#[derive(Debug, Args, Clone, Default)]
pub struct StateArgs {
    /// Directory of the breaker state files and the run history [default: $XDG_STATE_HOME/drover or ~/.local/state/drover]
    #[arg(long, value_name = "DIR", env = "DROVER_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Forget every breaker of this inventory before the run
    #[arg(long)]
    pub reset_breakers: bool,
}

/// What a run writes and prints.
#[derive(Debug, Args, Clone, Default)]
pub struct OutputArgs {
    /// Write the JSON report here, atomically, also when interrupted (`-`: stdout)
    #[arg(long, value_name = "FILE|-")]
    pub report: Option<PathBuf>,
    /// Print every task (-v), the connector's decisions (-vv), each command line as sent, secrets masked (-vvv); to stderr
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print only the summary (on a terminal: only the overall bar while running)
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Write JUnit XML here, one test case per host × task (`-`: stdout)
    #[arg(long, value_name = "FILE|-")]
    pub junit: Option<PathBuf>,
    /// Write a self-contained HTML page of the run here (atomically): timeline, host table, outputs, errors, drift with --diff-against
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Stream every event as one JSON line to FILE, or to stdout with `-`
    #[arg(long, value_name = "FILE|-")]
    pub events: Option<PathBuf>,
    /// Colours on stderr; `auto` is on for a terminal unless NO_COLOR is set
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

impl OutputArgs {
    fn on_stdout(&self) -> usize {
        [&self.report, &self.junit, &self.events]
            .iter()
            .filter(|p| p.as_deref() == Some(std::path::Path::new("-")))
            .count()
    }

    /// Whether `--report`, `--junit` or `--events` is `-`.
    pub fn stdout_taken(&self) -> bool {
        self.on_stdout() > 0
    }

    /// At most one of them may be `-`.
    pub fn one_on_stdout(&self) -> crate::error::Result<()> {
        if self.on_stdout() > 1 {
            return Err(crate::error::Error::Usage(
                "only one of --report, --junit and --events can be `-` (stdout)".into(),
            ));
        }
        Ok(())
    }
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
    pub history: HistoryArgs,
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
    pub history: HistoryArgs,
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
    /// Print the whole inventory as Ansible-style JSON (the default); secret-named values
    /// are masked
    #[arg(long, conflicts_with_all = ["host", "graph", "list_hosts"])]
    pub list: bool,
    /// Print one host's resolved variables and where each came from
    #[arg(long, value_name = "NAME", conflicts_with_all = ["graph", "list_hosts"])]
    pub host: Option<String>,
    /// Draw the group tree
    #[arg(long, conflicts_with = "list_hosts")]
    pub graph: bool,
    /// Print the hosts PATTERN selects, one per line, in the order a run takes them (what
    /// `ansible PATTERN --list-hosts` prints)
    #[arg(long, value_name = "PATTERN")]
    pub list_hosts: Option<String>,
    /// Print every group and host name, one per line (what shell completion offers for
    /// `--limit` and `--host`)
    #[arg(long, conflicts_with_all = ["list", "host", "graph", "list_hosts"])]
    pub names: bool,
    /// Also read `group_vars/` and `host_vars/` in DIR, as for a playbook there (Ansible's
    /// `--playbook-dir`)
    #[arg(long, value_name = "DIR")]
    pub playbook_dir: Option<PathBuf>,
}
