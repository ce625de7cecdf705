//! `drover watch`'s raw arguments.

use std::path::PathBuf;

use clap::Args;

use super::{LoginArgs, SettingsArgs, StateArgs, TargetArgs};

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The playbook whose (single) play's tasks are the health checks
    #[arg(value_name = "PLAYBOOK")]
    pub playbook: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub login: LoginArgs,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub options: WatchOptions,
}

/// What only a watch has.
#[derive(Debug, Args, Clone, Default)]
pub struct WatchOptions {
    /// Start every host afresh at the start level, ignoring the watch state saved by an earlier watch
    #[arg(long)]
    pub fresh: bool,
    /// Stop after this long (e.g. 10m, 1h), as if interrupted; without it, watch until SIGINT or SIGTERM
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<crate::settings::DurationValue>,
    /// Stream every check, level change and subscription change as one JSON line to FILE, or to stdout with `-`
    #[arg(long, value_name = "FILE|-")]
    pub events: Option<PathBuf>,
    /// Write the report of the watch period here as JSON (atomically) when the watch ends
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Keep a Prometheus textfile here (node_exporter's textfile collector): per host up, level and check time; rewritten atomically
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
}
