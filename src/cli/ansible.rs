//! Flags that Ansible users type by habit, each doing what it does there where drover can,
//! and saying plainly where it cannot (`--step`, `--start-at-task`).

use clap::Args;

use crate::error::{Error, Result};

/// On `run`: look before leaping.
#[derive(Debug, Args, Clone, Default)]
pub struct RunHabits {
    /// Render and plan every command, connect to nothing (what `drover check` does)
    #[arg(long, conflicts_with_all = ["syntax_check", "list_hosts"])]
    pub check: bool,
    /// Validate the playbook and render every command, connect to nothing (as `drover check`)
    #[arg(long, conflicts_with = "list_hosts")]
    pub syntax_check: bool,
    /// Print the hosts each play would run on, connect to nothing
    #[arg(long)]
    pub list_hosts: bool,
    /// Not supported: drover does not ask before each task
    #[arg(long, hide = true)]
    pub step: bool,
    /// Not supported: drover runs every task of a play
    #[arg(long, value_name = "TASK", hide = true)]
    pub start_at_task: Option<String>,
}

impl RunHabits {
    /// The habits drover has no equivalent for, as a usage error.
    pub fn unsupported(&self) -> Result<()> {
        if self.step {
            return Err(Error::Usage(
                "`--step` is not supported: drover does not stop before each task; \
                 use `drover check` to see every command first"
                    .into(),
            ));
        }
        if let Some(task) = &self.start_at_task {
            return Err(Error::Usage(format!(
                "`--start-at-task {task}` is not supported: drover runs every task of a \
                 play; skip tasks with `when:`, or rerun failed hosts with --limit"
            )));
        }
        Ok(())
    }
}

/// On `check`: Ansible's names for what it does.
#[derive(Debug, Args, Clone, Default)]
pub struct CheckHabits {
    /// Print only the hosts each play would run on
    #[arg(long)]
    pub list_hosts: bool,
    /// Accepted for Ansible habit: `check` validates and renders anyway
    #[arg(long)]
    pub syntax_check: bool,
}

/// How to log in, on `run`, `exec` and `check`.
#[derive(Debug, Args, Clone, Default)]
pub struct LoginArgs {
    /// Remote user for hosts whose inventory sets none (Ansible's -u: inventory `user` wins)
    #[arg(short = 'u', long = "user", value_name = "USER")]
    pub user: Option<String>,
    /// Ask for the ssh password on the terminal (not echoed, never stored) for hosts whose
    /// inventory sets none; those hosts then log in on the native backend
    #[arg(short = 'k', long)]
    pub ask_pass: bool,
}

impl LoginArgs {
    /// `-k`: the password, read from the terminal.
    pub fn password(&self) -> Result<Option<String>> {
        if !self.ask_pass {
            return Ok(None);
        }
        match crate::ui::read_secret("SSH password: ") {
            Some(Ok(password)) => Ok(Some(password)),
            Some(Err(e)) => Err(Error::Usage(format!(
                "`-k/--ask-pass`: cannot read the password: {e}"
            ))),
            None => Err(Error::Usage(
                "`-k/--ask-pass` reads the password from a terminal, and drover has none: \
                 give the hosts a `password` in the inventory or in a file passed with `-e @FILE`"
                    .into(),
            )),
        }
    }
}
