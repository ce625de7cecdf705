//! Templates: strict undefined variables, `quote`, magic variables, registered results.

use crate::support::{host, run_play, Test, LAB};

#[test]
fn quote_filter_makes_values_shell_safe() {
    let out = run_play("defaults: { transport: local }\nhosts:\n  r1: { vars: { motd: \"it's $HOME; rm -rf /\" } }\n", "- hosts: all\n  tasks:\n    - command: printf '%s' {{ motd | quote }}\n")
        .code(0);
    let report = out.report();
    assert_eq!(
        host(&report, "r1")["tasks"][0]["stdout"],
        "it's $HOME; rm -rf /"
    );
}

#[test]
fn magic_variables_groups_and_group_names() {
    Test::new()
        .file("inv.yml", LAB)
        .file(
            "p.yml",
            "- hosts: lab-r3\n  tasks:\n    - command: echo {{ inventory_hostname }} {{ group_names | join(',') }} {{ groups['core'] | join(',') }}\n",
        )
        .args(&["check", "p.yml", "-i", "inv.yml"])
        .run()
        .code(0)
        .stdout_has("echo lab-r3 core,deu lab-r1,lab-r2,lab-r3");
}

#[test]
fn registered_results_feed_when_and_templates() {
    let playbook = "
- hosts: all
  tasks:
    - name: probe
      command: \"{% if 'core' in group_names %}echo core-box{% else %}exit 4{% endif %}\"
      register: probe
      ignore_errors: true
    - name: core only
      command: echo was {{ probe.stdout | trim }} rc={{ probe.rc }}
      when: probe.rc == 0
    - name: edge only
      command: echo edge rc={{ probe.rc }}
      when: probe.failed
";
    let out = run_play(LAB, playbook).code(0);
    let report = out.report();
    let r1 = &host(&report, "lab-r1")["tasks"];
    assert_eq!(r1[0]["status"], "ok");
    assert_eq!(r1[1]["stdout"], "was core-box rc=0\n");
    assert_eq!(r1[2]["status"], "skipped");
    let e1 = &host(&report, "lab-e1")["tasks"];
    assert_eq!(e1[0]["status"], "ignored");
    assert_eq!(e1[0]["error"]["kind"], "nonzero_exit");
    assert_eq!(e1[1]["status"], "skipped");
    assert_eq!(e1[2]["stdout"], "edge rc=4\n");
    assert_eq!(host(&report, "lab-e1")["status"], "ok");
}

#[test]
fn check_shows_placeholders_for_registered_results() {
    Test::new()
        .file("inv.yml", LAB)
        .file(
            "p.yml",
            "- hosts: lab-r1\n  tasks:\n    - command: uname -r\n      register: kernel\n    - command: echo {{ kernel.stdout }}\n      when: kernel.rc == 0\n",
        )
        .args(&["check", "p.yml", "-i", "inv.yml"])
        .run()
        .code(0)
        .stdout_has("echo <kernel.stdout>  [when: kernel.rc == 0 — decided at run time]");
}

#[test]
fn when_false_skips_rendering_that_would_fail() {
    // edge hosts have no `core_only` var, but the task never applies to them.
    Test::new()
        .file("inv.yml", LAB)
        .file(
            "p.yml",
            "- hosts: all\n  vars: {}\n  tasks:\n    - command: echo {{ core_only }}\n      when: role == 'core'\n",
        )
        .args(&["check", "p.yml", "-i", "inv.yml", "--limit", "edge"])
        .run()
        .code(0)
        .stdout_has("skipped (role == 'core' is false)");
}

#[test]
fn registered_results_carry_into_later_plays() {
    // Results are dropped after the last play that could read them, never before.
    let playbook = "
- hosts: lab-r1
  tasks:
    - command: echo from-play-1
      register: first
- hosts: lab-r1
  tasks:
    - command: echo second play saw {{ first.stdout | trim }}
";
    let out = run_play(LAB, playbook).code(0);
    let report = out.report();
    let second = report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["name"] == "lab-r1")
        .max_by_key(|h| h["play"].as_u64())
        .expect("lab-r1 in the report");
    assert_eq!(
        second["tasks"][0]["stdout"],
        "second play saw from-play-1\n"
    );
}
