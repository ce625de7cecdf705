//! drover's integration tests: one binary, topic files, and a `Test` builder so each test
//! reads like a terminal transcript (files and arguments in; exit code, output, report out).

mod support;

mod cli;
mod connector;
mod docs;
mod engine;
mod habits;
mod inventory;
mod mqtt;
mod output;
mod pipes;
mod run;
mod ssh;
mod ssh_fleet;
mod templates;
mod terminal;
mod validation;
mod verbosity;
