//! Inventory formats, variable precedence and host patterns, through `drover inventory`
//! and `drover check`.

use crate::support::{Test, LAB};

/// Precedence fixture: every value says where it comes from.
const PRECEDENCE: &str = "
defaults:
  transport: local
  site: from_defaults
  only_default: from_defaults
groups:
  world:
    vars: { site: from_group_world, region: from_group_world }
    children: [europe]
  europe:
    vars: { site: from_group_europe, region: from_group_europe }
    children: [deu]
  deu:
    vars: { site: from_group_deu }
    hosts: [r1, r2]
  core:
    vars: { site: from_group_core, tier: from_group_core }
    hosts: [r1]
hosts:
  r1:
    vars: { host_only: from_host_r1 }
  r2:
    vars: { site: from_host_r2 }
";

fn check(test: Test) -> crate::support::Outcome {
    test.run().code(0)
}

#[test]
fn precedence_defaults_groups_parents_first_then_host() {
    let out = check(Test::new().file("inv.yml", PRECEDENCE).args(&[
        "inventory",
        "-i",
        "inv.yml",
        "--host",
        "r1",
    ]));
    // r1 is in deu (declared first) and core: world → europe → deu → core → host.
    assert!(
        out.stdout
            .contains(r#"site          "from_group_core"  # from group core"#),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(r#"region        "from_group_europe"  # from group europe"#),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(r#"only_default  "from_defaults"  # from defaults"#),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(r#"host_only     "from_host_r1"  # from host"#),
        "{}",
        out.stdout
    );
    let out = check(Test::new().file("inv.yml", PRECEDENCE).args(&[
        "inventory",
        "-i",
        "inv.yml",
        "--host",
        "r2",
    ]));
    assert!(
        out.stdout.contains(r#""from_host_r2"  # from host"#),
        "{}",
        out.stdout
    );
}

#[test]
fn precedence_play_vars_then_extra_vars_win() {
    let playbook = "
- hosts: r1
  vars: { site: from_play, play_only: from_play }
  tasks:
    - command: echo {{ site }} {{ play_only }} {{ tier }} {{ cli }}
";
    Test::new()
        .file("inv.yml", PRECEDENCE)
        .file("p.yml", playbook)
        .args(&["check", "p.yml", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("undefined variable `cli`");
    Test::new()
        .file("inv.yml", PRECEDENCE)
        .file("p.yml", playbook)
        .file("extra.yml", "cli: from_extra_file\n")
        .args(&[
            "check",
            "p.yml",
            "-i",
            "inv.yml",
            "-e",
            "site=from_extra",
            "-e",
            "@extra.yml",
        ])
        .run()
        .code(0)
        .stdout_has("echo from_extra from_play from_group_core from_extra_file");
}

#[test]
fn later_inventories_win_and_memberships_add_up() {
    let second = "hosts:\n  r1:\n    vars: { site: from_second_inventory }\n    groups: [extra]\n";
    let out = Test::new()
        .file("inv.yml", PRECEDENCE)
        .file("two.yml", second)
        .args(&["inventory", "-i", "inv.yml", "-i", "two.yml", "--list"])
        .run()
        .code(0);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(
        json["_meta"]["hostvars"]["r1"]["site"],
        "from_second_inventory"
    );
    assert_eq!(json["extra"]["hosts"], serde_json::json!(["r1"]));
    assert_eq!(json["deu"]["hosts"], serde_json::json!(["r1", "r2"]));
}

#[test]
fn ansible_yaml_inventory_is_read_as_is() {
    let out = Test::new()
        .file(
            "hosts.yml",
            "
all:
  vars: { ansible_connection: local, site: from_all }
  hosts:
    solo: { ansible_host: 127.0.0.9, ansible_port: 2222, ansible_user: ops }
  children:
    core:
      vars: { site: from_group_core }
      hosts:
        r1:
        r2: { site: from_host_r2 }
      children:
        deu:
          hosts:
            r3:
",
        )
        .file("p.yml", "- hosts: all\n  tasks:\n    - command: echo {{ site }} {{ ansible_user | default('none') }}\n")
        .args(&["check", "p.yml", "-i", "hosts.yml"])
        .run()
        .code(0);
    assert!(
        out.stdout.contains("solo (local 127.0.0.9)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("1. echo {{ site }} {{ ansible_user | default('none') }}: echo from_all ops"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("echo from_host_r2 none"),
        "{}",
        out.stdout
    );
    // r3 is in deu, a child of core: it inherits core's vars.
    let graph = Test::new()
        .file("hosts.yml", "all:\n  children:\n    core:\n      hosts: { r1: }\n      children:\n        deu:\n          hosts: { r3: }\n")
        .args(&["inventory", "-i", "hosts.yml", "--graph"])
        .run()
        .code(0);
    assert_eq!(
        graph.stdout,
        "@all:\n  |--@core:\n  |  |--@deu:\n  |  |  |--r3\n  |  |--r1\n"
    );
}

#[test]
fn dynamic_inventory_script_is_run_with_list() {
    let script = r#"#!/bin/sh
[ "$1" = "--list" ] || { echo "expected --list, got $1" >&2; exit 9; }
cat <<'JSON'
{
  "routers": { "hosts": ["t1", "t2"], "vars": { "transport": "local", "via": "tunnel" } },
  "_meta": { "hostvars": { "t1": { "tunnel_port": 40001 }, "t2": { "tunnel_port": 40002 } } }
}
JSON
"#;
    Test::new()
        .script("ports", script)
        .file(
            "p.yml",
            "- hosts: routers\n  tasks:\n    - command: echo {{ via }}:{{ tunnel_port }}\n",
        )
        .args(&["check", "p.yml", "-i", "ports"])
        .run()
        .code(0)
        .stdout_has("echo tunnel:40001")
        .stdout_has("echo tunnel:40002");
}

#[test]
fn dynamic_inventory_failures_are_clear() {
    Test::new()
        .script("bad", "#!/bin/sh\necho 'cannot reach port manager' >&2\nexit 3\n")
        .args(&["inventory", "-i", "bad"])
        .run()
        .code(1)
        .stderr_has("dynamic inventory bad failed: it exited with exit status: 3: cannot reach port manager");
    Test::new()
        .script("notjson", "#!/bin/sh\necho 'hosts: [a]'\n")
        .args(&["inventory", "-i", "notjson"])
        .run()
        .code(1)
        .stderr_has("its output is not JSON");
}

/// A script that never stops printing is cut at the same 16 MiB as an inventory file, and
/// nothing runs; one that floods stderr while it fails still ends.
#[test]
fn dynamic_inventory_output_is_bounded() {
    Test::new()
        .script(
            "endless",
            "#!/bin/sh
exec yes '{\"all\": []}'\n",
        )
        .file(
            "p.yml",
            "- hosts: all\n  tasks:\n    - command: touch ran\n",
        )
        .args(&["run", "p.yml", "-i", "endless"])
        .run()
        .code(1)
        .stderr_has("its output is larger than 16 MiB, the most drover reads of an inventory");
    Test::new()
        .script(
            "noisy",
            "#!/bin/sh\nhead -c 1000000 /dev/zero | tr '\\0' e >&2\nexit 4\n",
        )
        .args(&["inventory", "-i", "noisy"])
        .run()
        .code(1)
        .stderr_has("it exited with exit status: 4: eeee");
}

fn selected(pattern: &str) -> Vec<String> {
    let out = Test::new()
        .file("inv.yml", LAB)
        .args(&["exec", "-i", "inv.yml", pattern, "--quiet", "--", "true"])
        .run();
    assert_eq!(out.code, 0, "{pattern}: {}", out.stderr);
    let out = Test::new()
        .file("inv.yml", LAB)
        .file(
            "p.yml",
            &format!("- hosts: '{pattern}'\n  tasks:\n    - command: 'true'\n"),
        )
        .args(&["check", "p.yml", "-i", "inv.yml"])
        .run()
        .code(0);
    out.stdout
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn patterns_as_ansible_users_know_them() {
    let all = ["lab-r1", "lab-r2", "lab-r3", "lab-e1", "lab-e2", "lab-e3"];
    assert_eq!(selected("all"), all);
    assert_eq!(selected("*"), all);
    assert_eq!(selected("core"), ["lab-r1", "lab-r2", "lab-r3"]);
    assert_eq!(selected("lab-e*"), ["lab-e1", "lab-e2", "lab-e3"]);
    assert_eq!(
        selected("deu:edge"),
        ["lab-r3", "lab-e1", "lab-e2", "lab-e3"]
    );
    assert_eq!(selected("deu,lab-e1"), ["lab-r3", "lab-e1"]);
    assert_eq!(selected("core:&deu"), ["lab-r3"]);
    assert_eq!(selected("all:!core"), ["lab-e1", "lab-e2", "lab-e3"]);
    assert_eq!(
        selected("lab-?[12]:!lab-e2"),
        ["lab-r1", "lab-r2", "lab-e1"]
    );
    assert_eq!(selected("~lab-r[23]"), ["lab-r2", "lab-r3"]);
}

#[test]
fn a_pattern_that_names_nothing_lists_the_closest_names() {
    Test::new()
        .file("inv.yml", LAB)
        .args(&["exec", "-i", "inv.yml", "cor", "--", "true"])
        .run()
        .code(1)
        .stderr_has("`cor` matches no host or group")
        .stderr_has("closest names: `core`");
    // A typo after `!` must not widen the run.
    Test::new()
        .file("inv.yml", LAB)
        .args(&["exec", "-i", "inv.yml", "all:!lab-r9", "--", "true"])
        .run()
        .code(1)
        .stderr_has("`lab-r9` matches no host or group");
    Test::new()
        .file("inv.yml", LAB)
        .args(&["exec", "-i", "inv.yml", "core:&edge", "--", "true"])
        .run()
        .code(1)
        .stderr_has("host pattern `core:&edge` selects no hosts");
}

#[test]
fn bad_inventories_name_file_line_and_column() {
    Test::new()
        .file("inv.yml", "hosts:\n  r1:\n    adress: 10.0.0.1\n")
        .args(&["inventory", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("unknown key `adress`")
        .stderr_has("--> inv.yml:3:5")
        .stderr_has("did you mean the key `address`?");
    Test::new()
        .file("inv.yml", "hosts:\n  r1:\n    port: seventy\n")
        .args(&["inventory", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("--> inv.yml:3:11");
    Test::new()
        .file(
            "inv.yml",
            "groups:\n  a: { children: [b] }\n  b: { children: [a] }\n",
        )
        .args(&["inventory", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("groups contain each other: a → b → a");
    Test::new()
        .args(&["inventory", "-i", "missing.yml"])
        .run()
        .code(1)
        .stderr_has("cannot read inventory missing.yml");
}

#[test]
fn secrets_are_masked_in_host_vars() {
    Test::new()
        .file(
            "inv.yml",
            "hosts:\n  r1:\n    vars: { enable_password: hunter22 }\n",
        )
        .args(&["inventory", "-i", "inv.yml", "--host", "r1"])
        .run()
        .code(0)
        .stdout_has("enable_password  \"********\"");
}

/// `defaults` takes its variables directly or, as groups and hosts do, under `vars:`; before,
/// `defaults: { vars: { site: x } }` defined one variable named `vars` and `site` was
/// undefined everywhere.
#[test]
fn defaults_take_vars_under_vars_too() {
    let inv = "defaults:\n  transport: local\n  vars:\n    site: fra1\nhosts:\n  r1: {}\n";
    let out = Test::new()
        .file("inv.yml", inv)
        .file(
            "p.yml",
            "- hosts: all\n  tasks:\n    - command: echo {{ site }}\n",
        )
        .args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"])
        .run()
        .code(0);
    assert_eq!(
        crate::support::host(&out.report(), "r1")["tasks"][0]["stdout"],
        "fra1\n"
    );
    let shown = Test::new()
        .file("inv.yml", inv)
        .args(&["inventory", "-i", "inv.yml", "--host", "r1"])
        .run()
        .code(0);
    assert!(
        shown
            .stdout
            .contains("site       \"fra1\"  # from defaults"),
        "{}",
        shown.stdout
    );
    assert!(!shown.stdout.contains("vars"), "{}", shown.stdout);
}

/// A variable literally named `vars` is a nesting typo: an error with its position, and
/// nothing runs.
#[test]
fn a_variable_named_vars_is_rejected_with_a_hint() {
    for (inv, line) in [
        ("hosts:\n  r1:\n    vars:\n      vars: { site: x }\n", 3),
        (
            "groups:\n  g:\n    hosts: [r1]\n    vars:\n      vars:\n        site: x\n",
            4,
        ),
        ("defaults:\n  vars:\n    vars: { site: x }\n", 2),
        ("defaults:\n  vars: 3\n", 2),
    ] {
        let out = Test::new()
            .file("inv.yml", inv)
            .args(&["inventory", "-i", "inv.yml"])
            .run()
            .code(1);
        assert!(out.stderr.contains("`vars`"), "{inv}\n{}", out.stderr);
        assert!(
            out.stderr.contains(&format!("--> inv.yml:{line}:")),
            "{inv}\n{}",
            out.stderr
        );
    }
    Test::new()
        .file("inv.yml", "defaults:\n  site: a\n  vars: { site: b }\n")
        .args(&["inventory", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("`site` is set both in `defaults` and in `defaults.vars`");
}
