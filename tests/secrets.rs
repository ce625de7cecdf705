//! Secrets never reach any output: planted in every input channel (inventory vars by name,
//! nested and numeric, a play's `secret:` list, `-e` and `-e @file`, `lookup('env'|'file'|
//! 'pipe')` in inventory vars and in commands), they are grepped for in every output channel
//! (stdout and stderr at every verbosity, the report, events, JUnit, `check`, the inventory
//! listings and a parse error's diagnostic), also as templates transformed them (`replace`, a
//! slice, `reverse`).

use crate::support::Test;

/// Every planted secret, as it is and as the commands transform it.
const SECRETS: [&str; 17] = [
    "Inv3ntoryPw",
    "INV3NTORYPW",
    "En4bleSecret",
    "Ap1Tok3n",
    "AP1TOK3N",
    "SnmpAuthPw",
    "987654",
    "Pl4yListed",
    "ExtraPw1",
    "FileTok3n",
    "EnvL00kup",
    "P1peL00kup",
    "T4skListed",
    // What templates made of them.
    "InvEntoryPw",
    "1Tok3n",
    "puk00LvnE",
    "Envl00kup",
];

const INV: &str = "\
defaults:
  transport: local
  ansible_password: Inv3ntoryPw
  enable_secret: En4bleSecret
  api_token: Ap1Tok3n
  snmp: {auth_password: SnmpAuthPw, level: authPriv}
  pin_secret: 987654
  plain_x: Pl4yListed
  task_listed: T4skListed
  token_ttl: \"3600\"
  router_pw: \"{{ lookup('env', 'DROVER_TEST_ROUTER_PW') }}\"
  pipe_pw: \"{{ lookup('pipe', 'cat pipe.txt') }}\"
hosts:
  10.0.0.1: {}
";

const PLAY: &str = "\
- hosts: all
  secret: [plain_x]
  tasks:
    - name: say them
      command: >-
        echo {{ ansible_password }} {{ ansible_password | upper }} {{ enable_secret }}
        {{ api_token | upper }} {{ snmp.auth_password }} {{ pin_secret }} {{ plain_x }}
        {{ extra_password }} {{ file_token }} {{ router_pw }} {{ pipe_pw }}
        {{ ansible_password | replace('3', 'E') }} {{ api_token[2:] }} {{ router_pw | reverse }}
        {{ lookup('env', 'DROVER_TEST_ROUTER_PW') | replace('L', 'l') }} ttl {{ token_ttl }}
    - name: fail with them
      secret: [task_listed]
      command: \"echo {{ api_token }} {{ router_pw }} {{ task_listed }} >&2; exit 3\"
";

fn test() -> Test {
    Test::new()
        .file("inv.yml", INV)
        .file("p.yml", PLAY)
        .file("extra.yml", "file_token: FileTok3n\n")
        .file("pipe.txt", "P1peL00kup\n")
        .env("DROVER_TEST_ROUTER_PW", "EnvL00kup")
}

#[track_caller]
fn assert_clean(channel: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{channel} shows {secret}:\n{text}");
    }
}

#[test]
fn secrets_planted_in_every_input_reach_no_output_channel() {
    for verbosity in ["-q", "-v", "-vv", "-vvv", "--color=never"] {
        let out = test()
            .args(&[
                "run",
                "p.yml",
                "-i",
                "inv.yml",
                verbosity,
                "-e",
                "extra_password=ExtraPw1",
                "-e",
                "@extra.yml",
                "--report",
                "report.json",
                "--events",
                "events.ndjson",
                "--junit",
                "junit.xml",
            ])
            .run()
            .code(2);
        assert_clean(&format!("stdout {verbosity}"), &out.stdout);
        assert_clean(&format!("stderr {verbosity}"), &out.stderr);
        for file in ["report.json", "events.ndjson", "junit.xml"] {
            let text = std::fs::read_to_string(out.dir.join(file)).unwrap();
            assert_clean(file, &text);
        }
        // The commands did run with the real values, and a non-secret equal value shows.
        let report = out.report();
        let task = &report["hosts"][0]["tasks"][0];
        assert_eq!(task["status"], "ok", "{task}");
        let stdout = task["stdout"].as_str().unwrap();
        assert!(stdout.contains("********"), "{stdout}");
        assert!(stdout.trim_end().ends_with("ttl 3600"), "{stdout}");
        let history = out.dir.join(".state/drover/runs");
        assert!(history.is_dir());
    }
}

#[test]
fn check_and_the_inventory_listings_mask_every_secret() {
    let out = test()
        .args(&[
            "check",
            "p.yml",
            "-i",
            "inv.yml",
            "-e",
            "extra_password=ExtraPw1",
            "-e",
            "@extra.yml",
        ])
        .run()
        .code(0);
    assert_clean("check", &out.stdout);
    assert_clean("check stderr", &out.stderr);
    assert!(out.stdout.contains("ttl 3600"), "{}", out.stdout);
    for args in [
        &["inventory", "-i", "inv.yml", "--list"][..],
        &["inventory", "-i", "inv.yml", "--host", "10.0.0.1"][..],
    ] {
        let out = test().args(args).run().code(0);
        // The listing shows the lookups unrendered; the vars with a value are masked.
        for secret in &SECRETS[..7] {
            assert!(
                !out.stdout.contains(secret),
                "{args:?} shows {secret}:\n{}",
                out.stdout
            );
        }
        assert!(out.stdout.contains("3600"), "{}", out.stdout);
        assert!(out.stdout.contains("authPriv"), "{}", out.stdout);
    }
}

#[test]
fn a_parse_error_does_not_quote_a_secret_on_its_line() {
    let inv = "{\"all\": {\"vars\": {\"ansible_password\": \"Inv3ntoryPw\", \"api_token\": \"Ap1Tok3n\", \"port\": [}}}";
    let out = Test::new()
        .file("inv.json", inv)
        .args(&["inventory", "-i", "inv.json", "--list"])
        .run()
        .code(1)
        .stderr_has("--> inv.json:1:");
    assert_clean("diagnostic", &out.stderr);
}

#[test]
fn a_lookup_that_fails_names_the_host_and_variable_and_nothing_runs() {
    Test::new()
        .file(
            "inv.yml",
            "hosts:\n  10.0.0.1:\n    transport: local\n    vars: {pw: \"{{ lookup('env', 'DROVER_TEST_UNSET_VAR') }}\"}\n",
        )
        .file("p.yml", "- hosts: all\n  tasks:\n    - command: echo {{ pw }}\n")
        .args(&["run", "p.yml", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("host 10.0.0.1, variable `pw`")
        .stderr_has("DROVER_TEST_UNSET_VAR");
}

#[test]
fn no_log_hides_a_tasks_command_and_output_but_its_result_still_counts() {
    let play = "\
- hosts: all
  tasks:
    - name: quiet
      no_log: true
      command: echo Pl41nW0rd; echo N0tSh0wn >&2; exit 4
      ignore_errors: true
      register: q
    - name: after
      command: echo rc={{ q.rc }}
- hosts: all
  no_log: true
  tasks:
    - command: echo Pl4yW1de
";
    let out = Test::new()
        .file("inv.yml", "hosts:\n  10.0.0.1: {transport: local}\n")
        .file("p.yml", play)
        .args(&[
            "run",
            "p.yml",
            "-i",
            "inv.yml",
            "-vvv",
            "--report",
            "report.json",
        ])
        .run()
        .code(0);
    for secret in ["Pl41nW0rd", "N0tSh0wn", "Pl4yW1de"] {
        assert!(!out.stderr.contains(secret), "{}", out.stderr);
        assert!(!out.stdout.contains(secret), "{}", out.stdout);
    }
    let report = std::fs::read_to_string(out.dir.join("report.json")).unwrap();
    for secret in ["Pl41nW0rd", "N0tSh0wn", "Pl4yW1de"] {
        assert!(!report.contains(secret), "{report}");
    }
    let report = out.report();
    let quiet = &report["hosts"][0]["tasks"][0];
    assert_eq!(quiet["status"], "ignored");
    assert_eq!(quiet["exit_code"], 4);
    assert_eq!(quiet["stdout"], "(hidden: no_log)");
    assert_eq!(report["hosts"][0]["tasks"][1]["stdout"], "rc=4\n");
    let check = Test::new()
        .file("inv.yml", "hosts:\n  10.0.0.1: {transport: local}\n")
        .file("p.yml", play)
        .args(&["check", "p.yml", "-i", "inv.yml"])
        .run()
        .code(0);
    assert!(
        check.stdout.contains("1. quiet: (hidden: no_log)"),
        "{}",
        check.stdout
    );
}

#[test]
fn a_shadow_render_never_runs_a_lookup_the_real_render_did_not() {
    // The lookup's argument holds a secret: the shadow renders (which shift the secret to
    // find what a template made of it) would ask for another command. Only the real one runs.
    let out = Test::new()
        .file(
            "inv.yml",
            "defaults:\n  transport: local\n  db_password: Sh4dowPw\nhosts:\n  10.0.0.1: {}\n",
        )
        .file(
            "p.yml",
            "- hosts: all\n  tasks:\n    - command: \"echo {{ lookup('pipe', 'echo ' ~ db_password ~ ' >> calls.txt; echo T0k3nOut') }}\"\n",
        )
        .args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"])
        .run()
        .code(0);
    let calls = std::fs::read_to_string(out.dir.join("calls.txt")).unwrap();
    assert_eq!(calls, "Sh4dowPw\n");
    let report = out.report();
    let stdout = report["hosts"][0]["tasks"][0]["stdout"].as_str().unwrap();
    assert_eq!(stdout.trim_end(), "********");
}
