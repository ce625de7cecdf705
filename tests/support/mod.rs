//! The `Test` builder: writes files into a fresh directory, runs the real `drover` binary
//! there, and returns what it printed, its exit code and its JSON report.

pub mod fake;
pub mod mosquitto;
pub mod net;
pub mod relay;
pub mod router;
pub mod sshd;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const LAB: &str = include_str!("../../inventory/lab.yml");

/// `drover run p.yml -i inv.yml --report report.json` in a fresh directory holding these
/// two files.
pub fn run_play(inventory: &str, playbook: &str) -> Outcome {
    Test::new()
        .file("inv.yml", inventory)
        .file("p.yml", playbook)
        .args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"])
        .run()
}

pub struct Test {
    dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub dir: PathBuf,
    _keep: tempfile::TempDir,
}

impl Test {
    pub fn new() -> Test {
        Test {
            dir: tempfile::tempdir().expect("temp dir"),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` to `name` inside the test directory.
    pub fn file(self, name: &str, contents: &str) -> Test {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, contents).expect("write test file");
        self
    }

    /// Writes an executable script (a dynamic inventory).
    pub fn script(self, name: &str, contents: &str) -> Test {
        use std::os::unix::fs::PermissionsExt;
        let test = self.file(name, contents);
        let path = test.dir.path().join(name);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        test
    }

    pub fn args(mut self, args: &[&str]) -> Test {
        self.args.extend(args.iter().map(|s| s.to_string()));
        self
    }

    /// Sets an environment variable for drover (`SSH_AUTH_SOCK`, `HOME`...).
    pub fn env(mut self, key: &str, value: &str) -> Test {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_drover"));
        cmd.args(&self.args)
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1");
        // A developer's own defaults must not change what a test sees.
        for name in [
            "DROVER_INVENTORY",
            "DROVER_CONCURRENCY",
            "DROVER_RATE",
            "DROVER_STATE_DIR",
        ] {
            cmd.env_remove(name);
        }
        // Nor their ~/.config/drover/drover.yml: the XDG config dir is the test's own.
        cmd.env("XDG_CONFIG_HOME", self.dir.path());
        // The run history and breaker state stay in the test's directory.
        cmd.env("XDG_STATE_HOME", self.dir.path().join(".state"));
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    pub fn run(self) -> Outcome {
        let output = self
            .command()
            .stdin(Stdio::null())
            .output()
            .expect("run drover");
        Outcome {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            dir: self.dir.path().to_path_buf(),
            _keep: self.dir,
        }
    }
}

impl Outcome {
    #[track_caller]
    pub fn code(self, expected: i32) -> Outcome {
        assert_eq!(
            self.code, expected,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Outcome {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_has(self, needle: &str) -> Outcome {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout
        );
        self
    }

    /// The JSON report written to `report.json` in the test directory.
    pub fn report(&self) -> serde_json::Value {
        let text =
            std::fs::read_to_string(self.dir.join("report.json")).expect("report.json written");
        serde_json::from_str(&text).expect("report is JSON")
    }
}

/// The report's entry for `host` in play 0.
pub fn host<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["hosts"]
        .as_array()
        .and_then(|hosts| hosts.iter().find(|h| h["name"] == name))
        .unwrap_or_else(|| panic!("no host {name} in report"))
}

/// The report that these NDJSON events fold into, with the run block of `written` (which
/// the command layer, not the event stream, fills in) and the exit code they make.
pub fn replay(
    events: Vec<drover::event::Stamped>,
    written: &drover::report::RunReport,
) -> drover::report::RunReport {
    let mut builder = drover::report::ReportBuilder::default();
    for event in events {
        builder.apply(event);
    }
    let mut replayed = builder.build(drover::report::RunInfo {
        exit_code: 0,
        ..written.run.clone()
    });
    replayed.run.exit_code = replayed.exit_code();
    replayed
}

/// The events of an NDJSON file, one per line.
pub fn events_of(path: &Path) -> Vec<drover::event::Stamped> {
    let text = std::fs::read_to_string(path).expect("events file written");
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}
