//! Differential test against the reference: the Ansible inventories under tests/ansible/ are
//! read by ansible-core (`ansible-inventory --list`/`--host`, `ansible PATTERN --list-hosts`)
//! and by drover (`drover inventory --list`/`--host`/`--list-hosts`), and must give the same
//! hosts, groups, variables and selections. These inventories are only listed, never
//! connected to; their hosts are IP addresses.
//!
//! ansible-core is found through `DROVER_ANSIBLE_BIN` (the directory holding
//! `ansible-inventory`) or in `target/ansible-venv/bin`, where `.ci/run` installs it. Without
//! it the tests say loudly that they were skipped, except under CI (`CI` or
//! `DROVER_REQUIRE_ANSIBLE` set, as `.ci/run` does), where they fail.
//!
//! Documented differences the comparison allows:
//! - drover masks secret-named values (`*pass*`, `*secret*`, ...) in every listing, so
//!   Ansible's values of such keys are masked before comparing;
//! - Ansible runs with `ANSIBLE_HOST_PATTERN_MISMATCH=error`: a term that names nothing is an
//!   error in drover always, and in Ansible only with that setting (by default it warns and
//!   carries on);
//! - a pattern that selects no host: Ansible's ad-hoc command prints `hosts (0)` and does
//!   nothing, drover refuses it (exit 1); both count as refused;
//! - `--graph` leaves out an empty `ungrouped`, which Ansible draws always;
//! - `localhost`, when the inventory has no such host, is Ansible's implicit localhost;
//!   drover has none and says the term names nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Map, Value};

const CASES: [&str; 6] = ["ini", "yaml", "dir", "multi", "playbook_dir", "hostlist"];

/// Patterns whose difference is documented above.
const ALLOWED: [&str; 1] = ["localhost"];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ansible")
}

struct Ansible {
    bin: PathBuf,
    home: tempfile::TempDir,
}

impl Ansible {
    /// ansible-core, or `None` (with a loud message) when it is not installed here.
    fn find() -> Option<Ansible> {
        let bin = std::env::var_os("DROVER_ANSIBLE_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ansible-venv/bin")
            });
        if !bin.join("ansible-inventory").is_file() {
            let message = format!(
                "ansible-core not found in {} (set DROVER_ANSIBLE_BIN or run: python3 -m venv \
                 target/ansible-venv && target/ansible-venv/bin/pip install ansible-core)",
                bin.display()
            );
            if std::env::var_os("CI").is_some()
                || std::env::var_os("DROVER_REQUIRE_ANSIBLE").is_some()
            {
                panic!("{message}");
            }
            eprintln!("\n*** SKIPPED the differential test against ansible-core: {message} ***\n");
            return None;
        }
        let home = tempfile::tempdir().expect("temp dir");
        std::fs::write(home.path().join("ansible.cfg"), "").expect("write ansible.cfg");
        Some(Ansible { bin, home })
    }

    /// A command of ansible-core that touches nothing outside its own temp dir.
    fn command(&self, program: &str, case: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(program));
        let home = self.home.path();
        cmd.current_dir(corpus().join(case))
            .env("HOME", home)
            .env("ANSIBLE_HOME", home)
            .env("ANSIBLE_CONFIG", home.join("ansible.cfg"))
            .env("ANSIBLE_LOCAL_TEMP", home.join("tmp"))
            .env("ANSIBLE_REMOTE_TEMP", home.join("remote_tmp"))
            .env("ANSIBLE_COLLECTIONS_PATH", home.join("collections"))
            .env("ANSIBLE_HOST_PATTERN_MISMATCH", "error")
            .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
            .env("ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED", "true")
            .env("ANSIBLE_DEPRECATION_WARNINGS", "false")
            .env("ANSIBLE_LOCALHOST_WARNING", "false")
            .env("ANSIBLE_NOCOLOR", "1")
            .env("PYTHONHASHSEED", "0")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }
}

/// The case's inventory sources, one `-i` each.
fn source_paths(case: &str) -> Vec<String> {
    read(&corpus().join(case).join("sources"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// The arguments that name the case's inventory (and playbook directory).
fn sources(case: &str) -> Vec<String> {
    let mut args = Vec::new();
    let dir = corpus().join(case);
    for source in source_paths(case) {
        args.push("-i".to_string());
        args.push(source);
    }
    if dir.join("playbook_dir").is_file() {
        args.push("--playbook-dir".into());
        args.push(read(&dir.join("playbook_dir")).trim().to_string());
    }
    args
}

fn patterns(case: &str) -> Vec<String> {
    read(&corpus().join(case).join("patterns"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn drover(case: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_drover"))
        .current_dir(corpus().join(case))
        .args(["inventory"])
        .args(sources(case))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run drover")
}

fn wait(child: std::process::Child, what: &str) -> Output {
    let out = child.wait_with_output().expect("wait for ansible");
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json(out: &[u8], what: &str) -> Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", String::from_utf8_lossy(out)))
}

fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "pass",
        "secret",
        "token",
        "private_key",
        "api_key",
        "credential",
    ]
    .iter()
    .any(|s| n.contains(s))
}

fn mask(vars: &Map<String, Value>) -> Map<String, Value> {
    vars.iter()
        .map(|(k, v)| {
            let v = if is_secret_name(k) && !v.is_null() {
                Value::String("********".into())
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect()
}

/// What both `--list` outputs must agree on.
#[derive(Debug, PartialEq)]
struct Listing {
    /// group → (direct hosts in order, child groups).
    groups: BTreeMap<String, (Vec<String>, BTreeSet<String>)>,
    hostvars: BTreeMap<String, Map<String, Value>>,
}

fn listing(list: &Value) -> Listing {
    let top = list.as_object().expect("--list is an object");
    let names = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut groups = BTreeMap::new();
    for (name, group) in top.iter().filter(|(k, _)| *k != "_meta") {
        let hosts = names(group.get("hosts"));
        let children: BTreeSet<String> = names(group.get("children")).into_iter().collect();
        if !hosts.is_empty() || !children.is_empty() {
            groups.insert(name.clone(), (hosts, children));
        }
    }
    // Ansible names `ungrouped` under `all` even when it is empty.
    if !groups.contains_key("ungrouped") {
        if let Some((_, children)) = groups.get_mut("all") {
            children.remove("ungrouped");
        }
    }
    let hostvars = top
        .get("_meta")
        .and_then(|m| m.get("hostvars"))
        .and_then(Value::as_object)
        .map(|hv| {
            hv.iter()
                .filter_map(|(h, v)| v.as_object().map(|v| (h.clone(), mask(v))))
                .filter(|(_, v)| !v.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Listing { groups, hostvars }
}

#[test]
fn ansible_inventory_list_and_graph_match_drover() {
    let Some(ansible) = Ansible::find() else {
        return;
    };
    let children: Vec<_> = CASES
        .iter()
        .map(|case| {
            let child = ansible
                .command("ansible-inventory", case)
                .args(sources(case))
                .arg("--list")
                .spawn()
                .expect("run ansible-inventory");
            let graph = ansible
                .command("ansible-inventory", case)
                .args(sources(case))
                .arg("--graph")
                .spawn()
                .expect("run ansible-inventory");
            (case, child, graph)
        })
        .collect();
    for (case, child, graph) in children {
        let theirs = String::from_utf8_lossy(&wait(graph, case).stdout).into_owned();
        let lines: Vec<&str> = theirs.lines().collect();
        let theirs: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(i, l)| {
                **l != "  |--@ungrouped:"
                    || lines.get(i + 1).is_some_and(|n| n.starts_with("  |  |--"))
            })
            .map(|(_, l)| *l)
            .collect();
        let theirs = theirs.join("\n");
        let out = drover(case, &["--graph"]);
        assert!(
            out.status.success(),
            "{case}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ours = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(
            theirs.trim_end(),
            ours.trim_end(),
            "{case}: --graph differs (ansible left, drover right)"
        );
        let theirs = json(&wait(child, case).stdout, case);
        let out = drover(case, &["--list"]);
        assert!(
            out.status.success(),
            "{case}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ours = json(&out.stdout, case);
        let (theirs, ours) = (listing(&theirs), listing(&ours));
        assert!(
            !theirs.hostvars.is_empty(),
            "{case}: the corpus case has no vars"
        );
        assert_eq!(
            theirs.groups, ours.groups,
            "{case}: groups differ (ansible left, drover right)"
        );
        for (host, vars) in &theirs.hostvars {
            assert_eq!(
                Some(vars),
                ours.hostvars.get(host),
                "{case}: vars of {host} differ (ansible left, drover right)"
            );
        }
        assert_eq!(
            theirs.hostvars.len(),
            ours.hostvars.len(),
            "{case}: hosts with vars differ"
        );
    }
}

/// drover's `--host` output (`key  value  # from source`) as a map.
fn drover_host(case: &str, host: &str) -> Map<String, Value> {
    let out = drover(case, &["--host", host]);
    assert!(
        out.status.success(),
        "{case} {host}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        // drover's own notes (which ssh backend the host gets) are comment lines.
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let (kv, _) = line.rsplit_once("  # from ").expect("a source comment");
            let (k, v) = kv.split_once(' ').expect("key and value");
            (
                k.to_string(),
                serde_json::from_str(v.trim()).expect("a JSON value"),
            )
        })
        .collect()
}

#[test]
fn ansible_inventory_host_matches_drover() {
    let Some(ansible) = Ansible::find() else {
        return;
    };
    let picks = [
        ("ini", "10.0.1.1"),
        ("ini", "10.0.2.10"),
        ("yaml", "172.16.0.1"),
        ("yaml", "172.16.9.1"),
        ("playbook_dir", "10.3.0.2"),
    ];
    let children: Vec<_> = picks
        .iter()
        .map(|(case, host)| {
            let child = ansible
                .command("ansible-inventory", case)
                .args(sources(case))
                .args(["--host", host])
                .spawn()
                .expect("run ansible-inventory");
            (case, host, child)
        })
        .collect();
    for (case, host, child) in children {
        let theirs = json(&wait(child, case).stdout, case);
        let theirs = mask(theirs.as_object().expect("--host is an object"));
        assert_eq!(
            theirs,
            drover_host(case, host),
            "{case} --host {host} (ansible left, drover right)"
        );
    }
}

/// What a selection gave: the hosts in order, or that it was refused.
#[derive(Debug, PartialEq)]
enum Selection {
    Hosts(Vec<String>),
    Refused,
}

fn drover_selects(case: &str, pattern: &str) -> Selection {
    let out = drover(case, &["--list-hosts", pattern]);
    match out.status.code() {
        Some(0) => Selection::Hosts(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_string)
                .collect(),
        ),
        Some(1) => Selection::Refused,
        other => panic!(
            "{case} `{pattern}`: exit {other:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

#[test]
fn patterns_select_what_ansible_selects() {
    let Some(ansible) = Ansible::find() else {
        return;
    };
    let script = corpus().join("ansible_select.py");
    let mut children = Vec::new();
    for case in CASES
        .iter()
        .filter(|c| corpus().join(c).join("patterns").is_file())
    {
        let mut child = ansible
            .command("python", case)
            .arg(&script)
            .args(source_paths(case))
            .spawn()
            .expect("run python");
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(patterns(case).join("\n").as_bytes())
            .expect("write patterns");
        drop(stdin);
        // The real `ansible PATTERN --list-hosts` for a sample, to check the script by.
        let sample: Vec<_> = patterns(case)
            .into_iter()
            .step_by(20)
            .map(|p| {
                let c = ansible
                    .command("ansible", case)
                    .arg(&p)
                    .arg("--list-hosts")
                    .args(sources(case))
                    .spawn()
                    .expect("run ansible");
                (p, c)
            })
            .collect();
        children.push((case, child, sample));
    }
    let mut compared = 0;
    let mut failures = Vec::new();
    for (case, child, sample) in children {
        let results = json(&wait(child, case).stdout, case);
        let mut reference = BTreeMap::new();
        for r in results.as_array().expect("a list") {
            let pattern = r["pattern"].as_str().expect("pattern").to_string();
            let selection = match r.get("hosts").and_then(Value::as_array) {
                Some(hosts) => Selection::Hosts(
                    hosts
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                ),
                None => Selection::Refused,
            };
            reference.insert(pattern, selection);
        }
        for (pattern, child) in sample {
            let out = child.wait_with_output().expect("wait for ansible");
            // The ad-hoc CLI turns a refused pattern into "No hosts matched" and no list.
            let text = String::from_utf8_lossy(&out.stdout);
            let hosts: Vec<String> = text.lines().skip(1).map(|l| l.trim().to_string()).collect();
            let cli = if out.status.success() && !hosts.is_empty() {
                Selection::Hosts(hosts)
            } else {
                Selection::Refused
            };
            assert_eq!(
                Some(&cli),
                reference.get(&pattern),
                "{case} `{pattern}`: ansible_select.py disagrees with `ansible --list-hosts`"
            );
        }
        for (pattern, theirs) in &reference {
            compared += 1;
            if ALLOWED.contains(&pattern.as_str()) {
                assert_eq!(
                    drover_selects(case, pattern),
                    Selection::Refused,
                    "{case} `{pattern}`"
                );
                continue;
            }
            let ours = drover_selects(case, pattern);
            if &ours != theirs {
                failures.push(format!(
                    "{case} `{pattern}`: ansible {theirs:?}, drover {ours:?}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "selections differ:\n{}",
        failures.join("\n")
    );
    assert!(compared >= 100, "only {compared} patterns compared");
}

// drover's own side of reading Ansible inventories: errors and connection variables.

use crate::support::Test;

fn inventory_fails(name: &str, text: &str) -> crate::support::Outcome {
    Test::new()
        .file(name, text)
        .args(&["inventory", "-i", name, "--list"])
        .run()
        .code(1)
}

#[test]
fn unsupported_ini_constructs_name_file_line_and_construct() {
    inventory_fails("hosts", "[web:hosts2]\n10.0.0.1\n")
        .stderr_has("section `[web:hosts2]` has the unknown type `hosts2`")
        .stderr_has("--> hosts:1:1");
    inventory_fails("hosts", "[web]\n10.0.0.1 foo\n")
        .stderr_has("`foo` is not a `key=value` host variable")
        .stderr_has("--> hosts:2:10");
    inventory_fails("hosts", "[web]\n10.0.0.[1:]\n")
        .stderr_has("host range `[1:]` in `10.0.0.[1:]` has no end value")
        .stderr_has("--> hosts:2:1");
    inventory_fails("hosts", "[core:children]\nedge\n")
        .stderr_has("section [core:children] names the group `edge`, which is not defined")
        .stderr_has("--> hosts:2:1");
    inventory_fails("hosts", "[web]\n10.0.0.1 ansible_connection=netconf\n")
        .stderr_has("`ansible_connection: netconf` is not supported")
        .stderr_has("netconf, httpapi and winrm are not supported")
        .stderr_has("--> hosts:2:10");
    inventory_fails(
        "hosts",
        "[all:vars]\nansible_ssh_common_args=-C -o Compression=yes\n",
    )
    .stderr_has("`ansible_ssh_common_args`: `-C` is not supported")
    .stderr_has("--> hosts:2:1");
    inventory_fails("hosts", "[web]\nops@10.0.0.1 x=1\n")
        .stderr_has("pssh-style `user@host` entry")
        .stderr_has("write `10.0.0.1 ansible_user=ops`");
}

#[test]
fn unsupported_yaml_constructs_name_file_line_and_construct() {
    inventory_fails(
        "hosts.yml",
        "all:\n  children:\n    routers:\n      vars:\n        ansible_connection: ansible.netcommon.httpapi\n",
    )
    .stderr_has("`ansible_connection: ansible.netcommon.httpapi` is not supported")
    .stderr_has("--> hosts.yml:5:9");
    inventory_fails(
        "aws.yml",
        "plugin: amazon.aws.aws_ec2\nregions: [eu-central-1]\n",
    )
    .stderr_has("inventory plugin configuration (`plugin:`) is not supported")
    .stderr_has("--> aws.yml:1:1");
    inventory_fails("hosts.yml", "all:\n  hosts:\n    10.0.0.[3:1:x]:\n")
        .stderr_has("the step must be a positive number")
        .stderr_has("--> hosts.yml:3:5");
    inventory_fails("hosts.yml", "web:\n  hostz:\n    10.0.0.1:\n")
        .stderr_has("unknown key `hostz` in group `web` (expected `hosts`, `children` or `vars`)")
        .stderr_has("--> hosts.yml:2:3");
    Test::new()
        .file("hosts", "[web]\n10.0.0.1\n")
        .file("group_vars/web.yml", "ok: 1\nansible_connection: winrm\n")
        .args(&["inventory", "-i", "hosts"])
        .run()
        .code(1)
        .stderr_has("`ansible_connection: winrm` is not supported")
        .stderr_has("--> group_vars/web.yml:2:1");
}

#[test]
fn a_vault_value_is_listed_and_refused_by_name_when_used() {
    let vault = "all:\n  hosts:\n    10.0.0.1:\n      ansible_connection: local\n      api_key: !vault |\n        $ANSIBLE_VAULT;1.1;AES256\n        3131\n    10.0.0.2:\n      ansible_connection: local\n";
    // The rest of the inventory stays readable.
    Test::new()
        .file("hosts.yml", vault)
        .args(&["inventory", "-i", "hosts.yml", "--list-hosts", "all"])
        .run()
        .code(0)
        .stdout_has("10.0.0.1\n10.0.0.2\n");
    let playbook = "- hosts: all\n  tasks:\n    - command: 'true'\n";
    Test::new()
        .file("hosts.yml", vault)
        .file("p.yml", playbook)
        .args(&["check", "p.yml", "-i", "hosts.yml", "--limit", "10.0.0.2"])
        .run()
        .code(0);
    Test::new()
        .file("hosts.yml", vault)
        .file("p.yml", playbook)
        .args(&["check", "p.yml", "-i", "hosts.yml"])
        .run()
        .code(1)
        .stderr_has("host 10.0.0.1: variable `api_key` is encrypted with ansible-vault (`!vault`)");
}

#[test]
fn ansible_connection_variables_become_drovers() {
    let hosts = "[routers]\n10.0.0.1 ansible_network_os=cisco.ios.ios ansible_become_password=en4ble-me ansible_ssh_pass=p4ssword \
                 ansible_ssh_common_args='-J ops@10.0.0.9:2222 -o ServerAliveInterval=5' ansible_private_key_file=keys/r1\n\
                 [routers:vars]\nansible_connection=ansible.netcommon.network_cli\n";
    let playbook = "- hosts: routers\n  tasks:\n    - command: \"echo {{ platform }} {{ enable_secret }} {{ password }} {{ jump[0] }} {{ ssh_options.ServerAliveInterval }} {{ ssh_identity_file }}\"\n";
    Test::new()
        .file("hosts", hosts)
        .file("keys/r1", "not a real key\n")
        .file("p.yml", playbook)
        .args(&["check", "p.yml", "-i", "hosts"])
        .run()
        .code(0)
        .stdout_has("10.0.0.1 (ssh 10.0.0.1, platform cisco_ios)")
        .stdout_has("echo cisco_ios ******** ******** ops@10.0.0.9:2222 5 ********");
}

#[test]
fn an_ansible_name_set_closer_to_the_host_beats_drovers_name() {
    let playbook = "- hosts: all\n  tasks:\n    - command: 'echo {{ user }} {{ port }}'\n";
    Test::new()
        .file("hosts", "[web]\n10.0.0.1 ansible_user=ops ansible_ssh_port=2201\n10.0.0.2\n[web:vars]\nansible_connection=local\n")
        .file("group_vars/web.yml", "user: admin\nport: 22\n")
        .file("p.yml", playbook)
        .args(&["check", "p.yml", "-i", "hosts"])
        .run()
        .code(0)
        .stdout_has("echo ops 2201")
        .stdout_has("echo admin 22");
}

#[test]
fn host_lists_and_pssh_files_are_read_as_ungrouped_hosts() {
    Test::new()
        .args(&[
            "inventory",
            "-i",
            "10.0.0.1,10.0.0.2:2202,",
            "--list-hosts",
            "ungrouped",
        ])
        .run()
        .code(0)
        .stdout_has("10.0.0.1\n10.0.0.2\n");
    let out = Test::new()
        .file(
            "pssh_hosts",
            "# pssh -h pssh_hosts\nops@10.0.0.1:2222\n10.0.0.2\n",
        )
        .args(&["inventory", "-i", "pssh_hosts", "--list"])
        .run()
        .code(0);
    let list: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(
        list["_meta"]["hostvars"]["10.0.0.1"],
        serde_json::json!({ "ansible_user": "ops", "ansible_port": 2222 })
    );
    assert_eq!(
        list["ungrouped"]["hosts"],
        serde_json::json!(["10.0.0.1", "10.0.0.2"])
    );
}

#[test]
fn group_vars_beside_the_playbook_apply_above_the_inventorys() {
    Test::new()
        .file("inv/hosts", "[web]\n10.0.0.1 ansible_connection=local\n")
        .file("inv/group_vars/web", "level: inventory\nonly_inv: yes\n")
        .file("play/group_vars/web.yml", "level: playbook\n")
        .file(
            "play/site.yml",
            "- hosts: web\n  tasks:\n    - command: 'echo {{ level }} {{ only_inv }}'\n",
        )
        .args(&["check", "play/site.yml", "-i", "inv/hosts"])
        .run()
        .code(0)
        .stdout_has("echo playbook True");
}
