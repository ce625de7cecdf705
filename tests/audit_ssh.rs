//! Audits over real OpenSSH `sshd` (`support::sshd`): the same parsing, version test,
//! `failed_when`, `assert`, `loop` and `serial` as on the local transport, with the outputs
//! coming back through SSH exec channels.

use crate::audit::FIXTURES;
use crate::support::sshd::Lab;
use crate::support::{host, Test};

#[test]
fn an_audit_over_ssh_parses_compares_versions_and_asserts() {
    let lab = Lab::builder().good(3).start();
    let old = format!("{{ show_version: {FIXTURES}/outputs/show_version_16.txt }}");
    let new = format!("{{ show_version: {FIXTURES}/outputs/show_version.txt }}");
    let names: Vec<String> = lab.endpoints.iter().map(|e| e.name.clone()).collect();
    let inventory = lab.inventory_with(
        "",
        &[(&names[0], &new), (&names[1], &old), (&names[2], &new)],
    );
    let playbook = format!(
        r#"
- hosts: all
  serial: [1, "50%"]
  gather_facts: false
  tasks:
    - name: version
      command: cat {{{{ show_version }}}}
      parse: {{ textfsm: {FIXTURES}/textfsm/cisco_ios_show_version.textfsm }}
      register: ver
    - name: interfaces
      command: cat {FIXTURES}/outputs/show_ip_interface_brief.txt
      parse: {{ textfsm: {FIXTURES}/textfsm/cisco_ios_show_ip_interface_brief.textfsm }}
      register: intf
    - name: uplinks by regex
      command: cat {FIXTURES}/outputs/show_ip_interface_brief.txt
      parse: {{ regex: '(?m)^(?P<name>Ten\S+)\s+(?P<ip>\S+)', all: true }}
      register: uplinks
    - name: structured answer
      shell: |
        printf '{{"peers": [{{"ip": "10.0.0.1", "state": "Established"}}]}}'
      parse: {{ json: true }}
      register: api
    - name: a nonzero exit that is fine
      command: grep -c NoSuchThing {FIXTURES}/outputs/show_version.txt
      register: count
      failed_when: count.rc > 1
    - name: each uplink answers
      command: echo checked {{{{ item.name }}}}
      loop: "{{{{ uplinks.parsed }}}}"
      loop_control: {{ label: "{{{{ item.name }}}} {{{{ item.ip }}}}" }}
    - name: compliance
      assert:
        that:
          - intf.parsed | selectattr('PROTO', 'equalto', 'up') | list | length >= 6
          - api.parsed.peers[0].state == 'Established'
          - ver.parsed[0].VERSION is version('17.3', '>=')
        fail_msg: "{{{{ inventory_hostname }}}} runs {{{{ ver.parsed[0].VERSION }}}}"
"#
    );
    let out = Test::new()
        .file("inv.yml", &inventory)
        .file("p.yml", &playbook)
        .args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"])
        .run()
        .code(2);
    let report = out.report();
    let sizes: Vec<usize> = report["plays"][0]["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["hosts"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [1, 1, 1], "50% of 3 hosts is 1");
    for (name, version, ok) in [
        (&names[0], "17.3.4a", true),
        (&names[1], "16.12.5", false),
        (&names[2], "17.3.4a", true),
    ] {
        let h = host(&report, name);
        let tasks = &h["tasks"];
        assert_eq!(h["transport"], "ssh");
        assert_eq!(tasks[0]["parsed"][0]["VERSION"], version, "{name}");
        assert_eq!(tasks[1]["parsed"].as_array().unwrap().len(), 9);
        assert_eq!(
            tasks[2]["parsed"],
            serde_json::json!([{"name": "TenGigabitEthernet1/1/1", "ip": "10.0.255.1"}])
        );
        assert_eq!(tasks[3]["parsed"]["peers"][0]["ip"], "10.0.0.1");
        assert_eq!(tasks[4]["status"], "ok");
        assert_eq!(tasks[4]["exit_code"], 1);
        assert_eq!(
            tasks[5]["items"][0]["name"],
            "TenGigabitEthernet1/1/1 10.0.255.1"
        );
        assert_eq!(
            tasks[5]["items"][0]["stdout"],
            "checked TenGigabitEthernet1/1/1\n"
        );
        let assertions: Vec<bool> = tasks[6]["assertions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["passed"].as_bool().unwrap())
            .collect();
        assert_eq!(assertions, [true, true, ok], "{name}");
        assert_eq!(h["status"], if ok { "ok" } else { "failed" }, "{name}");
    }
    let message = &host(&report, &names[1])["tasks"][6]["error"]["message"];
    assert!(message
        .as_str()
        .unwrap()
        .starts_with(&format!("{} runs 16.12.5", names[1])));
    // The assert touched no device: each host's connection carried the 6 commands only
    // (the loop's one item included).
    lab.wait_for("Disconnected from", 3);
    for e in &lab.endpoints {
        let carried: Vec<usize> = lab
            .connections()
            .iter()
            .filter(|c| c.server_port == e.port && c.sessions > 0)
            .map(|c| c.sessions)
            .collect();
        assert_eq!(carried, [6], "sessions per connection to {}", e.name);
    }
}
