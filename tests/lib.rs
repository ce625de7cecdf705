//! drover's integration tests: one binary, topic files, and a `Test` builder so each test
//! reads like a terminal transcript (files and arguments in; exit code, output, report out).

mod support;

mod audit;
mod audit_ssh;
mod cli;
mod connector;
mod docs;
mod engine;
mod faults;
mod files;
mod fuzz;
mod habits;
mod history;
mod html;
mod inventory;
mod inventory_ansible;
mod layout;
mod limits;
mod mqtt;
mod output;
mod pipes;
mod recipes;
mod router;
mod router_run;
mod run;
mod secrets;
mod ssh;
mod ssh_fleet;
mod ssh_native;
mod ssh_stop;
mod templates;
mod terminal;
mod validation;
mod verbosity;
mod watch;
