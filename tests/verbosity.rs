//! `-v`, `-vv`, `-vvv` on stderr, and defaults from `DROVER_*` environment variables.

use crate::support::{host, Test, LAB};

const SECRET: &str = "defaults:\n  transport: local\n  db_password: hunter2\nhosts:\n  r1: {}\n";
const LOGIN: &str =
    "- hosts: all\n  tasks:\n    - name: login\n      command: echo {{ db_password }} ok\n";

fn run(verbose: &str) -> crate::support::Outcome {
    let mut args = vec!["run", "p.yml", "-i", "inv.yml"];
    if !verbose.is_empty() {
        args.push(verbose);
    }
    Test::new()
        .file("inv.yml", SECRET)
        .file("p.yml", LOGIN)
        .args(&args)
        .run()
        .code(0)
}

#[test]
fn each_v_adds_a_level_on_stderr() {
    let normal = run("");
    let v = run("-v");
    let vv = run("-vv");
    let vvv = run("-vvv");
    assert!(
        !normal.stderr.contains("task `login` ok"),
        "{}",
        normal.stderr
    );
    assert!(v.stderr.contains("task `login` ok"), "{}", v.stderr);
    assert!(!v.stderr.contains("connect attempt"), "{}", v.stderr);
    // -vv: the connector's decisions.
    for needle in [
        "settings: {\"batch_size\":10",
        "r1   connect attempt 1: waited 0 ms for a rate token, took ",
        "r1   breaker: {\"state\":\"closed\",\"failures\":0}",
    ] {
        assert!(
            vv.stderr.contains(needle),
            "-vv lacks {needle:?}:\n{}",
            vv.stderr
        );
    }
    assert!(!vv.stderr.contains("sent:"), "{}", vv.stderr);
    // -vvv: the command line as sent, its secret masked, and what came back.
    assert!(
        vvv.stderr
            .contains("r1   task `login` sent: echo ******** ok"),
        "{}",
        vvv.stderr
    );
    assert!(vvv
        .stderr
        .contains("exit code 0, 12 bytes of stdout, 0 of stderr"));
    for out in [&normal, &v, &vv, &vvv] {
        assert!(!out.stderr.contains("hunter2") && !out.stdout.contains("hunter2"));
    }
    // Every line is still one timestamped line.
    let stamp = regex_lite::Regex::new(r"^\d\d:\d\d\.\d{3} ").unwrap();
    assert!(
        vvv.stderr.lines().all(|l| stamp.is_match(l)),
        "{}",
        vvv.stderr
    );
}

#[test]
fn drover_variables_stand_in_for_their_flags() {
    let test = || {
        Test::new()
            .file("inv.yml", LAB)
            .file("p.yml", "- hosts: all\n  tasks:\n    - command: 'true'\n")
            .env("DROVER_INVENTORY", "inv.yml")
            .env("DROVER_CONCURRENCY", "2")
            .env("DROVER_RATE", "300/m")
            .env("DROVER_STATE_DIR", "state")
    };
    let out = test()
        .args(&["run", "p.yml", "--report", "report.json"])
        .run()
        .code(0);
    let report = out.report();
    let settings = &report["plays"][0]["settings"];
    assert_eq!(settings["concurrency"], 2, "{settings}");
    assert_eq!(settings["rate"], "300/m", "{settings}");
    let state = report["run"]["state_file"].as_str().unwrap_or_default();
    assert!(std::path::Path::new(state).starts_with("state"), "{state}");
    assert_eq!(host(&report, "lab-r1")["status"], "ok");
    // A flag beats its variable.
    let out = test()
        .args(&["run", "p.yml", "--report", "report.json", "-f", "3"])
        .run()
        .code(0);
    assert_eq!(out.report()["plays"][0]["settings"]["concurrency"], 3);
    test()
        .args(&["inventory", "--host", "lab-r1"])
        .run()
        .code(0)
        .stdout_has("loopback");
}

/// `drover.toml` works as `drover.yml` does; both in one directory is an error, and so is
/// a key the file cannot have, at its line and column.
#[test]
fn drover_toml_gives_defaults_and_its_mistakes_are_positioned() {
    let shown = Test::new()
        .file("inv.yml", LAB)
        .file(
            "drover.toml",
            "# project defaults\ninventory = \"inv.yml\"\nconcurrency = 3\n",
        )
        .args(&["config"])
        .run()
        .code(0);
    assert!(
        shown.stdout.contains("concurrency  3  # from drover.toml"),
        "{}",
        shown.stdout
    );
    assert!(shown
        .stdout
        .contains("inventory    inv.yml  # from drover.toml"));
    Test::new()
        .file("drover.toml", "concurrency = 3\nconcurency = 4\n")
        .args(&["config"])
        .run()
        .code(1)
        .stderr_has("drover.toml:2:1")
        .stderr_has("did you mean `concurrency`?");
    Test::new()
        .file("drover.toml", "concurrency = 3\n")
        .file("drover.yml", "concurrency: 3\n")
        .args(&["config"])
        .run()
        .code(1)
        .stderr_has("keep one of them");
}

/// `drover.yml` in the XDG config dir, then in the project dir, then `DROVER_*`, then the
/// flag; `drover config` says where each value came from.
#[test]
fn config_files_give_defaults_and_drover_config_names_their_source() {
    let test = || {
        Test::new()
            .file("inv.yml", LAB)
            .file("p.yml", "- hosts: all\n  tasks:\n    - command: 'true'\n")
            // The test builder points XDG_CONFIG_HOME at the test directory.
            .file("drover/drover.yml", "concurrency: 4\nrate: 120/m\n")
            .file("drover.yml", "inventory: inv.yml\nconcurrency: 3\n")
    };
    let shown = test().args(&["config"]).run().code(0);
    let line = |key: &str| {
        shown
            .stdout
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("no {key}:\n{}", shown.stdout))
            .to_string()
    };
    assert_eq!(line("inventory"), "inventory    inv.yml  # from drover.yml");
    assert_eq!(line("concurrency"), "concurrency  3  # from drover.yml");
    assert!(
        line("rate").starts_with("rate         120/m  # from "),
        "{}",
        line("rate")
    );
    assert!(
        line("rate").ends_with("drover/drover.yml"),
        "{}",
        line("rate")
    );
    assert!(line("state_dir").ends_with("# built in"));
    let shown = test()
        .env("DROVER_CONCURRENCY", "7")
        .args(&["config"])
        .run()
        .code(0);
    assert!(
        shown
            .stdout
            .contains("concurrency  7  # from DROVER_CONCURRENCY"),
        "{}",
        shown.stdout
    );

    let settings = |out: crate::support::Outcome| out.report()["plays"][0]["settings"].clone();
    let s = settings(
        test()
            .args(&["run", "p.yml", "--report", "report.json"])
            .run()
            .code(0),
    );
    assert_eq!(
        (s["concurrency"].as_u64(), s["rate"].as_str()),
        (Some(3), Some("120/m"))
    );
    let s = settings(
        test()
            .env("DROVER_CONCURRENCY", "7")
            .args(&["run", "p.yml", "--report", "report.json"])
            .run()
            .code(0),
    );
    assert_eq!(s["concurrency"], 7);
    let s = settings(
        test()
            .env("DROVER_CONCURRENCY", "7")
            .args(&["run", "p.yml", "--report", "report.json", "-f", "2"])
            .run()
            .code(0),
    );
    assert_eq!(s["concurrency"], 2);
    // A typo in the file: an error at its position, nothing runs.
    Test::new()
        .file("drover.yml", "concurency: 3\n")
        .args(&["config"])
        .run()
        .code(1)
        .stderr_has("drover.yml:1:1")
        .stderr_has("did you mean the key `concurrency`?");
}
