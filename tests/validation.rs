//! Every kind of bad playbook is reported before anything runs, with file:line:column, the
//! line, a caret, and a hint where one helps; exit code 1.

use crate::support::{run_play, Test, LAB};

/// Runs `playbook` and asserts it is rejected with these fragments in stderr, and that no
/// command ran (the tasks would create `ran`).
#[track_caller]
fn rejected(playbook: &str, fragments: &[&str]) {
    let out = run_play(LAB, playbook).code(1);
    for f in fragments {
        assert!(
            out.stderr.contains(f),
            "stderr lacks {f:?}:\n{}",
            out.stderr
        );
    }
    assert!(!out.dir.join("ran").exists(), "a command ran");
    // The report says why nothing ran instead of being left out (or left over).
    let report = out.report();
    assert_eq!(report["run"]["exit_code"], 1);
    assert!(report["run"]["error"].is_string(), "{report:#}");
    assert_eq!(report["hosts"].as_array().map(Vec::len), Some(0));
}

#[test]
fn unknown_play_key_with_hint() {
    rejected(
        "- hosts: all\n  batch_sise: 3\n  tasks:\n    - command: touch ran\n",
        &[
            "error: unknown key `batch_sise`",
            "--> p.yml:2:3",
            "2 |   batch_sise: 3",
            "  |   ^^^^^^^^^^",
            "did you mean the key `batch_size`?",
        ],
    );
}

#[test]
fn unknown_task_key_with_hint() {
    rejected(
        "- hosts: all\n  tasks:\n    - name: t\n      comand: touch ran\n",
        &[
            "unknown key `comand`",
            "--> p.yml:4:7",
            "did you mean the key `command`?",
        ],
    );
}

#[test]
fn wrong_type() {
    rejected(
        "- hosts: all\n  concurrency: many\n  tasks:\n    - command: touch ran\n",
        &[
            "invalid type: string \"many\", expected usize",
            "--> p.yml:2:16",
        ],
    );
}

#[test]
fn bad_enum_value_with_hint() {
    rejected(
        "- hosts: all\n  strategy: rollin\n  tasks:\n    - command: touch ran\n",
        &[
            "unknown variant `rollin`",
            "--> p.yml:2:13",
            "did you mean the value `rolling`?",
        ],
    );
}

#[test]
fn bad_duration() {
    rejected(
        "- hosts: all\n  command_timeout: 10x\n  tasks:\n    - command: touch ran\n",
        &["`10x` is not a duration", "p.yml:2:20"],
    );
}

#[test]
fn template_that_does_not_compile_points_at_it() {
    rejected(
        "- hosts: all\n  tasks:\n    - command: touch ran\n    - name: broken\n      command: echo {{ inventory_hostname\n",
        &["template does not compile", "--> p.yml:5:16", "5 |       command: echo {{ inventory_hostname"],
    );
}

#[test]
fn when_that_does_not_compile() {
    rejected(
        "- hosts: all\n  tasks:\n    - command: touch ran\n      when: role ==\n",
        &["the condition does not compile", "p.yml:4:13"],
    );
}

#[test]
fn bad_regex_in_expect() {
    rejected(
        "- hosts: all\n  tasks:\n    - command: touch ran\n      expect:\n        stdout_matches: \"([a-z\"\n",
        &["not a valid regular expression", "p.yml:5:26"],
    );
}

#[test]
fn task_without_or_with_two_actions() {
    rejected(
        "- hosts: all\n  tasks:\n    - name: nothing\n",
        &[
            "a task needs an action: `command`, `shell`, `config`, `mqtt` or `assert`",
            "p.yml:3:5",
        ],
    );
    rejected(
        "- hosts: all\n  tasks:\n    - command: touch ran\n      shell: touch ran\n",
        &["not several"],
    );
}

#[test]
fn bad_register_name() {
    rejected(
        "- hosts: all\n  tasks:\n    - command: touch ran\n      register: my-result\n",
        &["`register: my-result` must be a variable name"],
    );
}

#[test]
fn yaml_syntax_error() {
    rejected("- hosts: all\n  tasks: [\n", &["p.yml:3:1"]);
}

#[test]
fn undefined_variable_is_caught_before_anything_runs() {
    rejected(
        "- hosts: all\n  tasks:\n    - command: touch ran\n    - name: uses\n      command: echo {{ nosuchvar }}\n",
        &["p.yml:5:16: task `uses` (play `all`): undefined variable `nosuchvar`, for 6 hosts: lab-r[1-3],lab-e[1-3]\n  template: echo {{ nosuchvar }}\n"],
    );
}

/// One error per task and cause, with the template once and the hosts it failed for, not
/// one line per host.
#[test]
fn a_template_error_is_reported_once_with_its_hosts() {
    let out = Test::new()
        .file("inv.yml", crate::support::LAB)
        .file(
            "p.yml",
            "- hosts: all\n  tasks:\n    - name: uses\n      command: echo {{ country }}\n",
        )
        .args(&["check", "p.yml", "-i", "inv.yml"])
        .run()
        .code(1);
    assert_eq!(out.stderr.matches("error: ").count(), 1, "{}", out.stderr);
    // Only lab-r3 (group deu) has `country`.
    assert!(
        out.stderr
            .contains("undefined variable `country`, for 5 hosts: lab-r[1-2],lab-e[1-3]\n"),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr.matches("template: echo {{ country }}").count(),
        1
    );
}

#[test]
fn unknown_filter_is_caught_before_anything_runs() {
    rejected(
        "- hosts: all\n  tasks:\n    - command: touch ran\n    - name: uses\n      command: echo {{ inventory_hostname | shout }}\n",
        &["task `uses`", "unknown filter"],
    );
}

#[test]
fn empty_playbook() {
    rejected("", &["the playbook has no plays"]);
}

#[test]
fn unknown_transport_for_a_host() {
    Test::new()
        .file("inv.yml", "hosts:\n  r1: { transport: telnet }\n")
        .args(&["inventory", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("unknown variant `telnet`")
        .stderr_has("inv.yml:2:20");
}

#[test]
fn config_task_shapes() {
    rejected(
        "- hosts: all\n  tasks:\n    - config: []\n",
        &["`config` needs at least one line", "p.yml:3:7"],
    );
    rejected(
        "- hosts: all\n  tasks:\n    - config: {lines: [a], save: maybe}\n",
        &["`config` takes a list of lines, or `{ lines: [...], save: true }`"],
    );
    rejected(
        "- hosts: all\n  tasks:\n    - config: {lines: [a], svae: true}\n",
        &["`config` takes a list of lines"],
    );
}
