//! The `mqtt` transport and task kind against a real mosquitto and a node simulator:
//! shared and per-node mode, MQTT 5 and payload correlation, every outcome class, TLS
//! identities, a dead broker, and a run that mixes MQTT nodes with local hosts.

use std::sync::Arc;
use std::time::Duration;

use crate::support::mosquitto::{closed_port, Behaviour, Mosquitto, Simulator, PASSWORD};
use crate::support::{host, net, run_play, Test};

fn nodes(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}{i}")).collect()
}

/// A native inventory: `defaults` (YAML lines, already indented) and MQTT hosts.
fn inventory(defaults: &str, hosts: &[String]) -> String {
    let mut out = format!("defaults:\n  transport: mqtt\n{defaults}hosts:\n");
    for h in hosts {
        out.push_str(&format!("  {h}: {{}}\n"));
    }
    out
}

fn all_ok(sim: Behaviour) -> Arc<dyn Fn(&str) -> Behaviour + Send + Sync> {
    Arc::new(move |_| sim.clone())
}

const REQUEST_V5: &str = r#"
- hosts: all
  concurrency: 50
  batch_size: 0
  tasks:
    - name: ask
      mqtt:
        topic: "node/{{ node_id }}/to-node"
        payload: { cmd: "uptime {{ node_id }}" }
        reply:
          topic: "node/{{ node_id }}/from-node"
          status_field: status
          timeout: 5s
      register: r
      expect:
        stdout_contains: "{{ node_id }}"
    - name: use the reply
      mqtt:
        topic: "node/{{ node_id }}/to-node"
        payload: "{\"cmd\": \"again {{ r.json.node }}\", \"oneway\": true}"
        qos: 0
"#;

#[test]
fn shared_mode_request_response_on_250_nodes() {
    let broker = Mosquitto::start();
    let sim = Simulator::start(broker.port, all_ok(Behaviour::Ok));
    let hosts = nodes("n", 250);
    let defaults = format!("  mqtt_url: {}\n", broker.url());
    let out = run_play(&inventory(&defaults, &hosts), REQUEST_V5).code(0);
    let report = out.report();
    assert_eq!(report["counts"]["ok"], 250);
    assert_eq!(report["mqtt"]["connections"], 1, "one shared client");
    let n7 = host(&report, "n7");
    assert_eq!(n7["transport"], "mqtt");
    let task = &n7["tasks"][0];
    assert_eq!(task["kind"], "mqtt");
    assert!(task["command"]
        .as_str()
        .unwrap()
        .starts_with("publish node/n7/to-node {\"cmd\":\"uptime n7\"}"));
    let reply: serde_json::Value = serde_json::from_str(task["stdout"].as_str().unwrap()).unwrap();
    assert_eq!(reply["node"], "n7");
    assert_eq!(reply["echo"], "uptime n7");
    // The second task rendered the first one's registered JSON and published at QoS 0.
    assert_eq!(
        n7["tasks"][1]["command"],
        "publish node/n7/to-node {\"cmd\": \"again n7\", \"oneway\": true}"
    );
    // Each node got both requests.
    for h in &hosts {
        assert_eq!(sim.seen(h), 2, "{h}");
    }
    assert_eq!(report["mqtt"]["unmatched_replies"], 0);
}

const REQUEST_PAYLOAD: &str = r#"
- hosts: all
  tasks:
    - name: ask
      mqtt:
        topic: "node/{{ node_id }}/to-node"
        payload: { cmd: status, correlation_id: "{{ correlation_id }}" }
        reply:
          topic: "node/{{ node_id }}/from-node"
          correlation: payload
          field: correlation_id
          timeout: 5s
"#;

#[test]
fn payload_correlation_over_mqtt_3_1_1() {
    let broker = Mosquitto::start();
    let sim = Simulator::start(broker.port, all_ok(Behaviour::Ok));
    let hosts = nodes("old", 30);
    let defaults = format!("  mqtt_url: {}\n  mqtt_version: \"3.1.1\"\n", broker.url());
    let out = run_play(&inventory(&defaults, &hosts), REQUEST_PAYLOAD).code(0);
    let report = out.report();
    assert_eq!(report["counts"]["ok"], 30);
    let task = &host(&report, "old3")["tasks"][0];
    let sent = task["command"].as_str().unwrap();
    let reply: serde_json::Value = serde_json::from_str(task["stdout"].as_str().unwrap()).unwrap();
    assert_eq!(reply["node"], "old3");
    // The id the node echoed is the one drover generated and put in the request.
    let id = reply["correlation_id"].as_str().unwrap();
    assert!(sent.contains(id), "{sent} lacks {id}");
    assert_eq!(sim.total(), 30);
}

#[test]
fn v5_correlation_on_a_3_1_1_host_is_rejected_before_the_run() {
    let defaults = "  mqtt_url: mqtt://127.0.0.1:1\n  mqtt_version: 3\n";
    Test::new()
        .file("inv.yml", &inventory(defaults, &nodes("x", 1)))
        .file("p.yml", REQUEST_V5)
        .args(&["run", "p.yml", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("host x1: task `ask` uses `correlation: v5`, which needs MQTT 5");
}

#[test]
fn task_kinds_must_fit_the_host_transport() {
    let inv = "hosts:\n  r1: { transport: local }\n  n1: { transport: mqtt }\n";
    Test::new()
        .file("inv.yml", inv)
        .file(
            "p.yml",
            REQUEST_PAYLOAD.replace("hosts: all", "hosts: r1").as_str(),
        )
        .args(&["run", "p.yml", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("host r1: task `ask` is an `mqtt` task, and this host's transport is local");
    Test::new()
        .file("inv.yml", inv)
        .file("p.yml", "- hosts: n1\n  tasks:\n    - command: uptime\n")
        .args(&["run", "p.yml", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("an MQTT node runs `mqtt` tasks only");
}

const OUTCOMES: &str = r#"
- hosts: all
  batch_size: 0
  concurrency: 20
  tasks:
    - name: ask
      mqtt:
        topic: "node/{{ node_id }}/to-node"
        payload: { cmd: reboot }
        reply:
          topic: "node/{{ node_id }}/from-node"
          status_field: status
          timeout: 1s
- hosts: all
  tasks:
    - name: forbidden topic
      mqtt:
        topic: "forbidden/{{ node_id }}"
        payload: hello
- hosts: local
  tasks:
    - name: outlive the late reply
      command: sleep 1
"#;

#[test]
fn each_outcome_class_is_classified() {
    let broker = Mosquitto::start();
    let sim = Simulator::start(
        broker.port,
        Arc::new(|node: &str| match node {
            "fails" => Behaviour::Fail,
            "silent" | "silent-idem" => Behaviour::Silent,
            "garbled" => Behaviour::Malformed,
            "late" => Behaviour::Delay(Duration::from_millis(1500)),
            _ => Behaviour::Ok,
        }),
    );
    let names: Vec<String> = ["fine", "fails", "silent", "garbled", "late", "denied"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut inv = inventory(&format!("  mqtt_url: {}\n", broker.url()), &names);
    inv.push_str("  local:\n    transport: local\n");
    // The `denied` node only takes part in the second play.
    let playbook = OUTCOMES
        .replacen(
            "- hosts: all\n  batch_size",
            "- hosts: all:!denied:!local\n  batch_size",
            1,
        )
        .replacen(
            "- hosts: all\n  tasks:\n    - name: forbidden",
            "- hosts: denied\n  tasks:\n    - name: forbidden",
            1,
        );
    let out = run_play(&inv, &playbook).code(2);
    let report = out.report();
    let kind = |h: &str| {
        host(&report, h)["error"]["kind"]
            .as_str()
            .map(str::to_string)
    };
    assert_eq!(host(&report, "fine")["status"], "ok");
    assert_eq!(kind("fine"), None);
    assert_eq!(kind("fails").as_deref(), Some("failed"));
    assert_eq!(kind("silent").as_deref(), Some("no_reply"));
    assert_eq!(kind("garbled").as_deref(), Some("protocol"));
    assert_eq!(kind("late").as_deref(), Some("no_reply"));
    assert_eq!(kind("denied").as_deref(), Some("no_ack"));
    // The node's own words are kept: the failed reply is the task's stdout.
    let failed = &host(&report, "fails")["tasks"][0];
    assert!(failed["stdout"]
        .as_str()
        .unwrap()
        .contains("\"status\":\"error\""));
    assert_eq!(failed["status"], "failed");
    // A no_reply on a task that is not idempotent is never sent twice.
    assert_eq!(sim.seen("silent"), 1);
    // The late reply arrived while the local host was still running: counted, not lost.
    assert_eq!(report["mqtt"]["late_replies"], 1);
    assert_eq!(host(&report, "local")["status"], "ok");
}

const IDEMPOTENT: &str = r#"
- hosts: all
  tasks:
    - name: read-only query
      idempotent: true
      mqtt:
        topic: "node/{{ node_id }}/to-node"
        payload: { cmd: read }
        reply:
          topic: "node/{{ node_id }}/from-node"
          timeout: 300ms
"#;

#[test]
fn no_reply_is_retried_only_when_idempotent() {
    let broker = Mosquitto::start();
    let sim = Simulator::start(broker.port, all_ok(Behaviour::Silent));
    let defaults = format!("  mqtt_url: {}\n", broker.url());
    let out = run_play(&inventory(&defaults, &nodes("q", 2)), IDEMPOTENT).code(2);
    let report = out.report();
    let error = &host(&report, "q1")["error"];
    assert_eq!(error["kind"], "no_reply");
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("after 3 attempts"));
    assert_eq!(sim.seen("q1"), 3);
    assert_eq!(sim.seen("q2"), 3);
}

#[test]
fn broker_down_is_unreachable() {
    let defaults = format!("  mqtt_url: mqtt://{}:{}\n", net::host(), closed_port());
    let out = run_play(&inventory(&defaults, &nodes("d", 5)), REQUEST_V5).code(2);
    let report = out.report();
    assert_eq!(report["counts"]["unreachable"], 5);
    assert_eq!(host(&report, "d3")["error"]["kind"], "unreachable");
}

const PER_NODE: &str = r#"
- hosts: all
  concurrency: 8
  tasks:
    - name: ask
      mqtt:
        topic: "node/{{ node_id }}/to-node"
        payload: { cmd: "id" }
        reply:
          topic: "node/{{ node_id }}/from-node"
          status_field: status
          timeout: 5s
"#;

#[test]
fn per_node_tls_identities_for_24_nodes() {
    let broker = Mosquitto::start();
    let sim = Simulator::start(broker.port, all_ok(Behaviour::Ok));
    let hosts = nodes("dev", 24);
    let certs = broker.client_certs(&hosts);
    let defaults = format!(
        "  mqtt_url: {}\n  mqtt_mode: per_node\n  mqtt_ca: {}\n  mqtt_cert_dir: {}\n",
        broker.tls_url(),
        broker.ca().display(),
        certs.display()
    );
    let out = run_play(&inventory(&defaults, &hosts), PER_NODE).code(0);
    let report = out.report();
    assert_eq!(report["counts"]["ok"], 24);
    // One connection per node; the broker lets each identity use only its own topics, so
    // every node answered means every node connected as itself.
    assert_eq!(report["mqtt"]["connections"], 24);
    for h in &hosts {
        assert_eq!(sim.seen(h), 1, "{h}");
    }
}

#[test]
fn per_node_identity_cannot_publish_for_another_node() {
    let broker = Mosquitto::start();
    let sim = Simulator::start(broker.port, all_ok(Behaviour::Ok));
    let certs = broker.client_certs(&["dev1".to_string()]);
    // dev2 borrows dev1's certificate: the broker knows it as dev1.
    let defaults = format!(
        "  mqtt_url: {}\n  mqtt_mode: per_node\n  mqtt_ca: {}\n  mqtt_cert: {}\n  mqtt_key: {}\n",
        broker.tls_url(),
        broker.ca().display(),
        certs.join("dev1/cert.pem").display(),
        certs.join("dev1/key.pem").display(),
    );
    let playbook = PER_NODE.replace("          status_field: status\n", "");
    let out = run_play(&inventory(&defaults, &["dev2".to_string()]), &playbook).code(2);
    let kind = host(&out.report(), "dev2")["error"]["kind"].clone();
    assert!(kind == "protocol" || kind == "no_ack", "{kind}");
    assert_eq!(sim.total(), 0);
}

/// Runs node dev1 per node with the identity `cert`/`key`; the connection must be refused as
/// `auth_failed`. Gives the error's message.
fn refused_identity(broker: &Mosquitto, cert: &std::path::Path, key: &std::path::Path) -> String {
    let defaults = format!(
        "  mqtt_url: {}\n  mqtt_mode: per_node\n  mqtt_ca: {}\n  mqtt_cert: {}\n  mqtt_key: {}\n",
        broker.tls_url(),
        broker.ca().display(),
        cert.display(),
        key.display()
    );
    let out = run_play(&inventory(&defaults, &["dev1".to_string()]), PER_NODE).code(2);
    let report = out.report();
    let h = host(&report, "dev1");
    assert_eq!(h["status"], "unreachable");
    assert_eq!(h["error"]["kind"], "auth_failed");
    h["error"]["message"].as_str().unwrap().to_string()
}

#[test]
fn wrong_client_certificate_is_a_tls_auth_error() {
    let broker = Mosquitto::start();
    let (cert, key) = broker.foreign_cert("dev1");
    let message = refused_identity(&broker, &cert, &key);
    assert!(message.contains("TLS"), "{message}");
}

#[test]
fn a_version_1_client_certificate_is_named_as_the_reason() {
    let broker = Mosquitto::start();
    let (cert, key) = broker.v1_cert("dev1");
    let message = refused_identity(&broker, &cert, &key);
    assert!(message.contains("X.509 version 1"), "{message}");
    assert!(message.contains(&cert.display().to_string()), "{message}");
    assert!(!message.contains("peer"), "{message}");
}

const MIXED: &str = r#"
- name: nodes
  hosts: iot
  tasks:
    - name: ask
      mqtt:
        topic: "node/{{ node_id }}/to-node"
        payload: { cmd: ping }
        reply: { topic: "node/{{ node_id }}/from-node", timeout: 5s }
- name: routers
  hosts: lab
  tasks:
    - command: echo "{{ inventory_hostname }} up"
"#;

#[test]
fn mqtt_nodes_and_local_hosts_in_one_run() {
    // SSH is being built separately; `local` hosts stand in for the other transport.
    let broker = Mosquitto::start();
    let _sim = Simulator::start(broker.port, all_ok(Behaviour::Ok));
    let inv = format!(
        "groups:\n  iot:\n    vars: {{ transport: mqtt, mqtt_url: \"{}\" }}\n    hosts: [s1, s2, s3]\n  lab:\n    vars: {{ transport: local }}\n    hosts: [r1, r2]\n",
        broker.url()
    );
    let out = run_play(&inv, MIXED).code(0);
    let report = out.report();
    assert_eq!(report["counts"]["ok"], 5);
    assert_eq!(host(&report, "s2")["transport"], "mqtt");
    assert_eq!(host(&report, "r1")["transport"], "local");
    assert_eq!(host(&report, "r1")["tasks"][0]["stdout"], "r1 up\n");
}

#[test]
fn bad_qos_is_reported_with_its_position() {
    let playbook = "- hosts: all\n  tasks:\n    - mqtt:\n        topic: a/b\n        qos: 3\n";
    Test::new()
        .file("inv.yml", &inventory("", &nodes("n", 1)))
        .file("p.yml", playbook)
        .args(&["run", "p.yml", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("qos must be 0, 1 or 2, not 3")
        .stderr_has("p.yml:5:");
}

#[test]
fn unknown_correlation_is_reported_with_its_position() {
    let playbook = "- hosts: all\n  tasks:\n    - mqtt:\n        topic: a/b\n        reply:\n          topic: c/d\n          correlation: header\n";
    Test::new()
        .file("inv.yml", &inventory("", &nodes("n", 1)))
        .file("p.yml", playbook)
        .args(&["run", "p.yml", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("header")
        .stderr_has("p.yml:7:");
}

#[test]
fn missing_certificate_stops_the_run_before_it_starts() {
    let defaults = "  mqtt_url: mqtts://127.0.0.1:8883\n  mqtt_ca: /nonexistent/ca.pem\n";
    Test::new()
        .file("inv.yml", &inventory(defaults, &nodes("n", 1)))
        .file("p.yml", PER_NODE)
        .args(&["run", "p.yml", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("`mqtt_ca`: no file at /nonexistent/ca.pem");
}

#[test]
fn inline_password_is_refused() {
    let defaults = "  mqtt_url: mqtt://127.0.0.1:1\n  mqtt_password: hunter22\n";
    let out = Test::new()
        .file("inv.yml", &inventory(defaults, &nodes("n", 1)))
        .file("p.yml", PER_NODE)
        .args(&["run", "p.yml", "-i", "inv.yml"])
        .run()
        .code(1)
        .stderr_has("mqtt_password_env");
    assert!(!out.stderr.contains("hunter22"));
}

const ACROSS_A_RESTART: &str = r#"
- name: before
  hosts: iot
  tasks:
    - mqtt:
        topic: "node/{{ node_id }}/to-node"
        payload: { cmd: one }
        reply: { topic: "node/{{ node_id }}/from-node", timeout: 5s }
- name: meanwhile the broker restarts
  hosts: lab
  tasks:
    - shell: touch restart-now && while [ ! -e restarted ]; do sleep 0.05; done
      timeout: 30s
- name: after
  hosts: iot
  tasks:
    - mqtt:
        topic: "node/{{ node_id }}/to-node"
        payload: { cmd: two }
        reply: { topic: "node/{{ node_id }}/from-node", timeout: 5s }
"#;

#[test]
fn reconnects_and_resubscribes_after_the_broker_restarts() {
    let mut broker = Mosquitto::start();
    let sim = Simulator::start(broker.port, all_ok(Behaviour::Ok));
    let inv = format!(
        "groups:\n  iot:\n    vars: {{ transport: mqtt, mqtt_url: \"{}\" }}\n    hosts: [s1, s2]\n  lab:\n    vars: {{ transport: local }}\n    hosts: [r1]\n",
        broker.url()
    );
    let test = Test::new()
        .file("inv.yml", &inv)
        .file("p.yml", ACROSS_A_RESTART);
    let dir = test.path().to_path_buf();
    let test = test.args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"]);
    let mut child = test
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run drover");
    // The local play signals when the first play is done; restart the broker then.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !dir.join("restart-now").exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    broker.restart();
    // Give drover's client time to see the drop and reconnect (backoff from 100 ms) before
    // the next play starts: a host that finds the connection down fails at once.
    std::thread::sleep(Duration::from_millis(1500));
    std::fs::write(dir.join("restarted"), "").expect("signal");
    let status = child.wait().expect("drover exits");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(status.code(), Some(0), "{report}");
    assert_eq!(report["mqtt"]["reconnects"], 1);
    assert_eq!(report["mqtt"]["connections"], 1);
    assert_eq!(sim.seen("s1"), 2);
}

#[test]
fn reconnects_after_a_broker_restart_are_paced_by_the_rate() {
    // 30 shared connections (one client id each), then the broker restarts while a local
    // play runs; the third play wants them all again at once.
    let mut broker = Mosquitto::start_logging();
    let _sim = Simulator::start(broker.port, all_ok(Behaviour::Ok));
    let hosts = nodes("p", 30);
    let mut inv = format!(
        "groups:\n  iot:\n    vars: {{ transport: mqtt, mqtt_url: \"{}\" }}\n    hosts: [{}]\n",
        broker.url(),
        hosts.join(", ")
    );
    inv.push_str("  lab:\n    vars: { transport: local }\n    hosts: [r1]\nhosts:\n");
    for h in &hosts {
        inv.push_str(&format!(
            "  {h}: {{ vars: {{ mqtt_client_id: pace-{h} }} }}\n"
        ));
    }
    let playbook = ACROSS_A_RESTART.replace(
        "  hosts: iot\n",
        "  hosts: iot\n  rate: 10/s\n  concurrency: 30\n",
    );
    let test = Test::new().file("inv.yml", &inv).file("p.yml", &playbook);
    let dir = test.path().to_path_buf();
    let test = test.args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"]);
    let mut child = test
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run drover");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !dir.join("restart-now").exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let mark = broker.log_mark();
    broker.restart();
    // As above: the simulator's own client and drover's see the drop before the third play
    // wants the connections again (nobody wants them meanwhile, so none is dialled yet).
    std::thread::sleep(Duration::from_millis(1500));
    std::fs::write(dir.join("restarted"), "").expect("signal");
    let status = child.wait().expect("drover exits");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let failed: Vec<&serde_json::Value> = report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["status"] != "ok")
        .collect();
    assert_eq!(status.code(), Some(0), "{failed:?}");
    assert_eq!(report["mqtt"]["connections"], 30);
    assert_eq!(report["mqtt"]["reconnects"], 30);
    // From the broker's side: the 30 came back at 10 a second, never more in one second.
    let stamps = broker.connects_since(mark, "pace-");
    assert_eq!(stamps.len(), 30, "{stamps:?}");
    let mut per_second = std::collections::BTreeMap::new();
    for s in &stamps {
        *per_second.entry(*s).or_insert(0) += 1;
    }
    assert!(
        per_second.values().all(|n| *n <= 10),
        "connections per second after the restart: {per_second:?}"
    );
    assert!(per_second.len() >= 3, "{per_second:?}");
}

#[test]
fn credentials_by_reference_and_a_wrong_password() {
    let broker = Mosquitto::start();
    let _sim = Simulator::start(broker.port, all_ok(Behaviour::Ok));
    let inv = format!(
        "defaults:\n  transport: mqtt\n  mqtt_url: mqtt://{}:{}\n  mqtt_username: drover\nhosts:\n  good: {{ vars: {{ mqtt_password_file: good.pw }} }}\n  bad: {{ vars: {{ mqtt_password_file: bad.pw }} }}\n",
        net::host(),
        broker.auth_port
    );
    let out = Test::new()
        .file("inv.yml", &inv)
        .file("good.pw", &format!("{PASSWORD}\n"))
        .file("bad.pw", "not-the-password\n")
        .file("p.yml", PER_NODE)
        .args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"])
        .run()
        .code(2);
    let report = out.report();
    assert_eq!(host(&report, "good")["status"], "ok");
    assert_eq!(host(&report, "bad")["error"]["kind"], "auth_failed");
    let text = report.to_string();
    assert!(!text.contains(PASSWORD) && !text.contains("not-the-password"));
}

#[test]
fn large_messages_pass_the_raised_packet_limit() {
    // rumqttc's own default is 10 KiB; drover raises it to 128 KiB.
    let broker = Mosquitto::start();
    let _sim = Simulator::start(broker.port, all_ok(Behaviour::Ok));
    let big = "x".repeat(60_000);
    let defaults = format!("  mqtt_url: {}\n  big: {big}\n", broker.url());
    let playbook = REQUEST_V5.replace("uptime {{ node_id }}", "{{ big }}");
    let out = Test::new()
        .file("inv.yml", &inventory(&defaults, &nodes("n", 2)))
        .file(
            "p.yml",
            &playbook.replace(
                "stdout_contains: \"{{ node_id }}\"",
                "stdout_contains: \"{{ big }}\"",
            ),
        )
        .args(&["run", "p.yml", "-i", "inv.yml", "--report", "report.json"])
        .run()
        .code(0);
    let report = out.report();
    assert!(
        host(&report, "n1")["tasks"][0]["stdout"]
            .as_str()
            .unwrap()
            .len()
            > 60_000
    );
}

/// The connection rate limit paces connections, not hosts: per-node mode opens one per node
/// and waits for a token each time; shared mode joins one client and spends none.
#[test]
fn per_node_connections_are_paced_by_the_rate_and_shared_nodes_are_not() {
    let broker = Mosquitto::start();
    let _sim = Simulator::start(broker.port, all_ok(Behaviour::Ok));
    let hosts = nodes("p", 12);
    let playbook = r#"
- hosts: all
  batch_size: 0
  concurrency: 12
  rate: 10/s
  tasks:
    - mqtt:
        topic: "node/{{ node_id }}/to-node"
        payload: { cmd: ping }
        reply: { topic: "node/{{ node_id }}/from-node", timeout: 5s }
"#;
    let starts = |mode: &str| {
        let defaults = format!("  mqtt_url: {}\n  mqtt_mode: {mode}\n", broker.url());
        let out = run_play(&inventory(&defaults, &hosts), playbook).code(0);
        let report = out.report();
        let mut attempts: Vec<(u64, u64)> = report["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                let a = &h["connect_attempts"][0];
                (
                    a["started_ms"].as_u64().unwrap(),
                    a["waited_ms"].as_u64().unwrap(),
                )
            })
            .collect();
        attempts.sort();
        attempts
    };
    let per_node = starts("per_node");
    // At 10/s, connection i never starts before i × 100 ms (1 ms of rounding allowed); a
    // late timer on one does not push the schedule of the next.
    for (i, (start, _)) in per_node.iter().enumerate() {
        assert!(
            *start + 1 >= i as u64 * 100,
            "connection {i} at {start} ms: {per_node:?}"
        );
    }
    // It asked with the others, at about 0 ms on a quiet machine; on a loaded one it may
    // ask later, so only that it waited is certain (the start times above are the pace).
    assert!(
        per_node.last().unwrap().1 > 0,
        "the last node waited for its token: {per_node:?}"
    );
    let shared = starts("shared");
    assert!(
        shared.iter().all(|(_, waited)| *waited == 0),
        "shared mode spends no token: {shared:?}"
    );
}

/// One inventory, one run, one report: routers over SSH (real sshd) and IoT nodes over
/// MQTT (real mosquitto).
#[test]
fn mqtt_nodes_and_ssh_hosts_in_one_run() {
    let lab = crate::support::sshd::Lab::builder().good(2).start();
    let broker = Mosquitto::start();
    let sim = Simulator::start(broker.port, all_ok(Behaviour::Ok));
    // The lab's inventory ends with its `hosts:` section: the nodes join it, then the groups.
    let mut inv = lab.inventory("");
    for node in ["s1", "s2", "s3"] {
        inv.push_str(&format!("  {node}: {{}}\n"));
    }
    inv.push_str(&format!(
        "groups:\n  lab:\n    hosts: [h000, h001]\n  iot:\n    vars: {{ transport: mqtt, mqtt_url: \"{}\" }}\n    hosts: [s1, s2, s3]\n",
        broker.url()
    ));
    let out = run_play(&inv, MIXED).code(0);
    let report = out.report();
    assert_eq!(report["counts"]["ok"], 5);
    assert_eq!(host(&report, "s2")["transport"], "mqtt");
    assert_eq!(host(&report, "h001")["transport"], "ssh");
    assert_eq!(host(&report, "h001")["tasks"][0]["stdout"], "h001 up\n");
    // What the servers saw: both routers logged in over SSH, every node got its request.
    let logins = lab
        .connections()
        .iter()
        .filter(|c| c.authenticated.is_some())
        .count();
    assert_eq!(logins, 2);
    for node in ["s1", "s2", "s3"] {
        assert_eq!(sim.seen(node), 1, "{node}");
    }
}

/// The MQTT summary travels as an event like everything else: the NDJSON log of a run over
/// a real broker replays into exactly the report the run wrote, summary included.
#[test]
fn an_event_log_replays_into_the_same_report_mqtt_summary_included() {
    use drover::report::RunReport;
    let broker = Mosquitto::start();
    let _sim = Simulator::start(broker.port, all_ok(Behaviour::Ok));
    let hosts = nodes("e", 5);
    let defaults = format!("  mqtt_url: {}\n", broker.url());
    let out = Test::new()
        .file("inv.yml", &inventory(&defaults, &hosts))
        .file("p.yml", REQUEST_V5)
        .args(&[
            "run",
            "p.yml",
            "-i",
            "inv.yml",
            "--events",
            "events.ndjson",
            "--report",
            "report.json",
        ])
        .run()
        .code(0);
    let written: RunReport = serde_json::from_value(out.report()).unwrap();
    assert_eq!(written.mqtt.as_ref().map(|m| m.connections), Some(1));
    let events = crate::support::events_of(&out.dir.join("events.ndjson"));
    let replayed = crate::support::replay(events, &written);
    assert_eq!(
        serde_json::to_value(&replayed).unwrap(),
        serde_json::to_value(&written).unwrap()
    );
}
