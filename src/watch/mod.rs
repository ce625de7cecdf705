//! `drover watch`: a play's tasks become health checks that run per host on the host's
//! monitoring level's interval, for as long as the watch runs.
//!
//! - `level`: the five levels and their default intervals.
//! - `rules`: escalation and de-escalation, pure logic.
//! - `config`: the play's `watch:` section.
//! - `subscriptions`: which MQTT topics stay subscribed under the broker's caps.
//! - `hearing`: what the watch heard on them: heartbeats, activity.
//! - `scheduler`: the loop, on tokio's clock, through the engine's connector.
//! - `event`: what the loop says; everything below is built from it.
//! - `ledger`: each host's last known state, saved in the state dir and resumed from.
//! - `output`: the live table, plain lines and the final report.
//! - `metrics`: the Prometheus textfile.
//! - `command`: `drover watch` wired together: load, plan, watch, show, save.

pub mod command;
pub mod config;
pub mod event;
pub mod hearing;
pub mod ledger;
pub mod level;
pub mod metrics;
pub mod output;
pub mod rules;
pub mod scheduler;
pub mod subscriptions;

pub use config::WatchKeys;
pub use event::{CheckStatus, Stamped, WatchEvent, WatchSink};
pub use level::Level;
pub use rules::{Rules, Track};
pub use scheduler::{watch, Setup, Start};
