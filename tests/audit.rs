//! Audits that read the output, on the local transport: `parse` (regex, JSON, TextFSM over
//! captured `show version` / `show ip interface brief` outputs in tests/fixtures), the
//! `version` test, `failed_when`, `changed_when`, `assert`, `loop` with labels, `--tags` and
//! `--skip-tags`, `serial` lists, `vars_files`, and every unknown key reported at once.

use crate::support::{host, run_play, Test};

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

const LOCAL: &str = "defaults: { transport: local }\nhosts:\n  r1: {}\n  r2: {}\n";

fn fixtures(text: &str) -> String {
    text.replace("FIXTURES", FIXTURES)
}

#[test]
fn regex_json_and_textfsm_parse_into_the_report_and_register() {
    let playbook = fixtures(
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - name: version
      command: cat FIXTURES/outputs/show_version.txt
      parse: { textfsm: FIXTURES/textfsm/cisco_ios_show_version.textfsm }
      register: ver
    - name: interfaces
      command: cat FIXTURES/outputs/show_ip_interface_brief.txt
      parse: { textfsm: FIXTURES/textfsm/cisco_ios_show_ip_interface_brief.textfsm }
      register: intf
    - name: uptime
      command: cat FIXTURES/outputs/show_version.txt
      parse: { regex: '(?m)^(?P<host>\S+) uptime is (?P<uptime>.+)$' }
      register: up
    - name: addresses
      command: cat FIXTURES/outputs/show_ip_interface_brief.txt
      parse: { regex: '(?m)^(?P<name>\S+)\s+(?P<ip>\d+\.\d+\.\d+\.\d+)', all: true }
      register: ips
    - name: api
      shell: |
        echo '{"bgp": {"peers": 4, "asn": 65001}}'
      parse: { json: true }
      register: api
    - name: later templates read the parsed fields
      command: >-
        echo {{ ver.parsed[0].HOSTNAME }} {{ up.parsed.host }} {{ ips.parsed | length }}
        {{ api.parsed.bgp.asn }} {{ ver.parsed[0].VERSION is version('17.3', '>=') }}
        {{ ver.parsed[0].VERSION is version('17.10', '<') }}
        {{ intf.parsed | selectattr('STATUS', 'equalto', 'up') | list | length }}
      when: ver.parsed[0].VERSION is version('17.3.4', '>=')
"#,
    );
    let out = run_play(LOCAL, &playbook).code(0);
    let report = out.report();
    let tasks = &host(&report, "r1")["tasks"];
    let version = &tasks[0]["parsed"][0];
    assert_eq!(version["VERSION"], "17.3.4a");
    assert_eq!(version["HOSTNAME"], "core-sw1");
    assert_eq!(version["HARDWARE"], "C9300-48P");
    assert_eq!(version["SERIAL"], serde_json::json!(["FCW2212L0XY"]));
    assert_eq!(version["RUNNING_IMAGE"], "packages.conf");
    let interfaces = tasks[1]["parsed"].as_array().unwrap();
    assert_eq!(interfaces.len(), 9);
    assert_eq!(
        interfaces[0],
        serde_json::json!({"INTERFACE": "Vlan1", "IP_ADDRESS": "unassigned",
                           "STATUS": "administratively down", "PROTO": "down"})
    );
    assert_eq!(interfaces[7]["INTERFACE"], "TenGigabitEthernet1/1/1");
    assert_eq!(
        tasks[2]["parsed"]["uptime"],
        "12 weeks, 3 days, 4 hours, 17 minutes"
    );
    assert_eq!(tasks[3]["parsed"].as_array().unwrap().len(), 5);
    assert_eq!(
        tasks[3]["parsed"][0],
        serde_json::json!({"name": "Vlan100", "ip": "10.10.100.2"})
    );
    assert_eq!(tasks[4]["parsed"]["bgp"]["peers"], 4);
    assert_eq!(tasks[5]["status"], "ok");
    assert_eq!(
        tasks[5]["stdout"],
        "core-sw1 core-sw1 5 65001 True True 6\n"
    );
}

#[test]
fn output_that_is_not_what_parse_asked_for_fails_the_task() {
    let playbook = fixtures(
        "
- hosts: r1
  tasks:
    - name: not json
      command: echo hello
      parse: { json: true }
    - name: a textfsm Error rule
      command: echo hello
      parse: { textfsm: FIXTURES/textfsm/cisco_ios_show_ip_interface_brief.textfsm }
      ignore_errors: true
",
    );
    let out = run_play(LOCAL, &playbook).code(2);
    let report = out.report();
    let task = &host(&report, "r1")["tasks"][0];
    assert_eq!(task["status"], "failed");
    assert_eq!(task["error"]["kind"], "parse_error");
    assert!(task["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not JSON"));
}

#[test]
fn a_textfsm_template_that_does_not_compile_is_reported_at_its_line() {
    Test::new()
        .file("inv.yml", LOCAL)
        .file("t.textfsm", "Value A (\\d+)\n\nStart\n  ^${B} -> Record\n")
        .file(
            "p.yml",
            "- hosts: all\n  tasks:\n    - command: echo\n      parse: { textfsm: t.textfsm }\n",
        )
        .args(&["run", "p.yml", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("TextFSM template does not compile: `${B}` names no declared Value")
        .stderr_has("t.textfsm:4:1");
}

#[test]
fn failed_when_replaces_the_exit_code_rule_and_changed_when_is_recorded() {
    let playbook = "
- hosts: all
  tasks:
    - name: grep finds nothing, which is fine
      command: sh -c 'echo no match; exit 1'
      register: g
      failed_when: g.rc > 1
      changed_when: false
    - name: fails on its output
      command: \"echo '{{ inventory_hostname }} error: disk full'\"
      register: d
      failed_when:
        - \"'disk full' in d.stdout\"
        - inventory_hostname == 'r2'
      changed_when: \"'changed' in d.stdout or true\"
";
    let out = run_play(LOCAL, playbook).code(2);
    let report = out.report();
    let r1 = host(&report, "r1");
    assert_eq!(r1["status"], "ok");
    assert_eq!(r1["tasks"][0]["status"], "ok");
    assert_eq!(r1["tasks"][0]["exit_code"], 1);
    assert_eq!(r1["tasks"][0]["changed"], false);
    assert_eq!(r1["tasks"][1]["changed"], true);
    let r2 = host(&report, "r2");
    assert_eq!(r2["status"], "failed");
    assert_eq!(r2["tasks"][1]["status"], "failed");
    assert_eq!(r2["tasks"][1]["error"]["kind"], "expectation_failed");
    assert!(r2["tasks"][1]["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("failed_when: ('disk full' in d.stdout) and"));
}

#[test]
fn assert_runs_on_the_controller_and_names_each_failed_condition() {
    let playbook = fixtures(
        r#"
- hosts: all
  vars: { minimum: "17.3" }
  tasks:
    - name: version
      command: cat FIXTURES/outputs/show_version.txt
      parse: { regex: 'Version (?P<version>[\d.]+[a-z]?), RELEASE' }
      register: ver
    - name: compliant
      assert:
        that:
          - ver.parsed.version is version(minimum, '>=')
          - ver.parsed.version is version('17.9', '>=') or inventory_hostname == 'r1'
        fail_msg: "{{ inventory_hostname }} runs {{ ver.parsed.version }}"
        success_msg: "{{ inventory_hostname }} is compliant"
"#,
    );
    let out = Test::new()
        .file("inv.yml", LOCAL)
        .file("p.yml", &playbook)
        .args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json", "--junit", "junit.xml"])
        .run()
        .code(2)
        .stderr_has("r2 runs 17.3.4a (failed: `ver.parsed.version is version('17.9', '>=') or inventory_hostname == 'r1'`)");
    let report = out.report();
    let ok = &host(&report, "r1")["tasks"][1];
    assert_eq!(ok["kind"], "assert");
    assert_eq!(ok["status"], "ok");
    assert_eq!(ok["stdout"], "r1 is compliant");
    assert_eq!(ok["command"], "", "an assert sends nothing to the device");
    assert_eq!(ok["assertions"].as_array().unwrap().len(), 2);
    assert!(ok["assertions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["passed"] == true));
    let bad = &host(&report, "r2")["tasks"][1];
    assert_eq!(bad["status"], "failed");
    assert_eq!(bad["error"]["kind"], "assertion_failed");
    assert_eq!(bad["assertions"][0]["passed"], true);
    assert_eq!(bad["assertions"][1]["passed"], false);
    let junit = std::fs::read_to_string(out.dir.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&junit).unwrap();
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("one failure");
    assert_eq!(failure.attribute("type"), Some("assertion_failed"));
    assert!(failure
        .attribute("message")
        .unwrap()
        .starts_with("r2 runs 17.3.4a"));
    assert!(failure
        .text()
        .unwrap()
        .contains("assertion failed: ver.parsed.version is version('17.9', '>=')"));
}

#[test]
fn loop_runs_each_item_with_its_label_as_a_sub_result() {
    let playbook = "
- hosts: r1
  vars:
    interfaces:
      - { name: Gi0/1, vlan: 10 }
      - { name: Gi0/2, vlan: 20 }
      - { name: Gi0/3, vlan: 30 }
  tasks:
    - name: per interface
      command: echo interface {{ port.name }} vlan {{ port.vlan }}
      loop: \"{{ interfaces }}\"
      loop_control: { label: \"{{ port.name }}\", loop_var: port }
      register: shown
      failed_when: \"'vlan 20' in shown.stdout\"
    - name: a written-out list
      command: echo {{ item }}
      loop: [a, b]
      register: letters
    - name: the registered results
      command: echo {{ letters.results | map(attribute='stdout') | map('trim') | join(',') }}
";
    let out = run_play(LOCAL, playbook).code(2);
    let report = out.report();
    let tasks = &host(&report, "r1")["tasks"];
    let items = tasks[0]["items"].as_array().unwrap();
    let labels: Vec<&str> = items.iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(labels, ["Gi0/1", "Gi0/2", "Gi0/3"]);
    let statuses: Vec<&str> = items
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["ok", "failed", "ok"], "every item runs");
    assert_eq!(items[2]["stdout"], "interface Gi0/3 vlan 30\n");
    assert_eq!(tasks[0]["status"], "failed");
    assert!(tasks[0]["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("item Gi0/2: failed_when"));
    // The host stopped at the failed loop task, as at any failed task.
    assert_eq!(tasks.as_array().unwrap().len(), 1);

    let playbook = playbook.replace("      failed_when: \"'vlan 20' in shown.stdout\"\n", "");
    let out = run_play(LOCAL, &playbook).code(0);
    let tasks = &host(&out.report(), "r1")["tasks"].clone();
    assert_eq!(tasks[1]["items"][1]["name"], "b");
    assert_eq!(tasks[2]["stdout"], "a,b\n");
}

#[test]
fn tags_and_skip_tags_select_tasks_as_in_ansible() {
    let playbook = "
- hosts: r1
  tags: [audit]
  tasks:
    - { name: version, command: echo v, tags: [version] }
    - { name: bgp, command: echo b, tags: [bgp, routing] }
    - { name: always, command: echo a, tags: [always] }
    - { name: debug, command: echo d, tags: [never, debug] }
    - { name: plain, command: echo p }
";
    let ran = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["run", "p.yml", "-i", "inv.yml", "--report", "report.json"];
        all.extend_from_slice(args);
        let out = Test::new()
            .file("inv.yml", LOCAL)
            .file("p.yml", playbook)
            .args(&all)
            .run()
            .code(0);
        let report = out.report();
        host(&report, "r1")["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ran(&[]), ["version", "bgp", "always", "plain"]);
    assert_eq!(ran(&["--tags", "bgp"]), ["bgp", "always"]);
    assert_eq!(
        ran(&["--tags", "version,debug"]),
        ["version", "always", "debug"]
    );
    assert_eq!(
        ran(&["--skip-tags", "routing"]),
        ["version", "always", "plain"]
    );
    assert_eq!(
        ran(&["--tags", "audit", "--skip-tags", "always,debug"]),
        ["version", "bgp", "plain"]
    );
}

#[test]
fn serial_list_gives_a_canary_then_growing_batches() {
    let inventory = "defaults: { transport: local }\nhosts:\n  h1: {}\n  h2: {}\n  h3: {}\n  h4: {}\n  h5: {}\n";
    let playbook = "
- hosts: all
  serial: [1, \"50%\"]
  tasks:
    - command: echo {{ inventory_hostname }}
";
    let out = run_play(inventory, playbook).code(0);
    let report = out.report();
    let batches: Vec<Vec<&str>> = report["plays"][0]["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            b["hosts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h.as_str().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(batches, [vec!["h1"], vec!["h2", "h3"], vec!["h4", "h5"]]);
    assert_eq!(host(&report, "h5")["batch"], 3);

    let playbook = playbook.replace("[1, \"50%\"]", "\"40%\"");
    let report = run_play(inventory, &playbook).code(0).report();
    let sizes: Vec<usize> = report["plays"][0]["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["hosts"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [2, 2, 1]);
}

#[test]
fn vars_files_are_read_relative_to_the_playbook_and_override_vars() {
    let out = Test::new()
        .file("inv.yml", LOCAL)
        .file("vars/site.yml", "ntp_server: 10.0.0.123\nsite: deu\n")
        .file(
            "plays/p.yml",
            "- hosts: r1\n  vars: { site: overridden, keep: 1 }\n  vars_files: [../vars/site.yml]\n  tasks:\n    - command: echo {{ ntp_server }} {{ site }} {{ keep }}\n",
        )
        .args(&["run", "plays/p.yml", "-i", "inv.yml", "--report", "report.json"])
        .run()
        .code(0);
    let report = out.report();
    assert_eq!(
        host(&report, "r1")["tasks"][0]["stdout"],
        "10.0.0.123 deu 1\n"
    );

    Test::new()
        .file("inv.yml", LOCAL)
        .file(
            "p.yml",
            "- hosts: r1\n  vars_files: [missing.yml]\n  tasks:\n    - command: echo\n",
        )
        .args(&["run", "p.yml", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("cannot read vars file")
        .stderr_has("p.yml:2:16");
}

#[test]
fn every_unknown_key_is_listed_at_once_with_what_drover_calls_it() {
    let playbook = "\
- hosts: all
  become: true
  forks: 20
  gather_facts: false
  tasks:
    - name: version
      ios_command:
        commands: show version
      notify: restart
    - name: per item
      command: echo {{ item }}
      with_items: [a, b]
      retires: 2
";
    let out = Test::new()
        .file("inv.yml", LOCAL)
        .file("p.yml", playbook)
        .args(&["run", "p.yml", "-i", "inv.yml"])
        .run()
        .code(1);
    let expected = [
        (
            "`become` is not supported in drover",
            "p.yml:2:3",
            Some("drover calls this `enable: true` (a network device's privileged mode, with the host's `enable_secret`)"),
        ),
        (
            "`forks` is not supported in drover",
            "p.yml:3:3",
            Some("drover calls this `concurrency`"),
        ),
        (
            "`ios_command` is not supported in drover",
            "p.yml:7:7",
            Some("drover calls this `command`"),
        ),
        ("`notify` is not supported in drover", "p.yml:9:7", None),
        (
            "`with_items` is not supported in drover",
            "p.yml:12:7",
            Some("drover calls this `loop`"),
        ),
        (
            "unknown key `retires`",
            "p.yml:13:7",
            Some("did you mean the key `retries`?"),
        ),
    ];
    let mut rest = out.stderr.as_str();
    for (message, position, hint) in expected {
        let at = rest
            .find(message)
            .unwrap_or_else(|| panic!("{message} missing or out of order:\n{}", out.stderr));
        rest = &rest[at..];
        let next = rest[1..].find("error: ").map_or(rest.len(), |i| i + 1);
        let block = &rest[..next];
        assert!(
            block.contains(position),
            "{message} at {position}:\n{block}"
        );
        if let Some(hint) = hint {
            assert!(block.contains(hint), "{message}: hint {hint}:\n{block}");
        }
    }
    assert!(
        out.stderr.contains("6 problems in this file; nothing ran"),
        "{}",
        out.stderr
    );

    Test::new()
        .file("inv.yml", LOCAL)
        .file(
            "p.yml",
            "- hosts: all\n  gather_facts: true\n  tasks: [{command: echo}]\n",
        )
        .args(&["run", "p.yml", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("`gather_facts: true` is not supported in drover")
        .stderr_has("p.yml:2:3");
}

#[test]
fn run_once_runs_on_the_first_host_only() {
    let playbook = "
- hosts: all
  tasks:
    - { name: once, command: echo once, run_once: true }
    - { name: each, command: echo each }
";
    let report = run_play(LOCAL, playbook).code(0).report();
    assert_eq!(host(&report, "r1")["tasks"][0]["status"], "ok");
    assert_eq!(host(&report, "r2")["tasks"][0]["status"], "skipped");
    assert_eq!(host(&report, "r2")["tasks"][1]["status"], "ok");
}

#[test]
fn reports_with_parsed_fields_loops_and_assertions_validate_against_the_schema() {
    let playbook = fixtures(
        "
- hosts: all
  tasks:
    - command: cat FIXTURES/outputs/show_ip_interface_brief.txt
      parse: { textfsm: FIXTURES/textfsm/cisco_ios_show_ip_interface_brief.textfsm }
      register: intf
      changed_when: false
    - command: echo {{ item.INTERFACE }}
      loop: \"{{ intf.parsed[:2] }}\"
      loop_control: { label: \"{{ item.INTERFACE }}\" }
    - assert:
        that: intf.parsed | length == 9
",
    );
    let report = run_play(LOCAL, &playbook).code(0).report();
    let tasks = &host(&report, "r2")["tasks"];
    assert_eq!(tasks[0]["changed"], false);
    assert_eq!(tasks[1]["items"][1]["name"], "Vlan100");
    assert_eq!(tasks[2]["assertions"][0]["passed"], true);
    let (schemas, index) = crate::output::schema_validator();
    if let Err(e) = schemas.validate(&report, index) {
        panic!("{e:#}");
    }
}
