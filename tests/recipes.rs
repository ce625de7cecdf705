//! The README's audit recipes, run as written from the repository root, so they stay true:
//! each finds the one or two hosts the stored outputs make non-compliant, and no other.

use std::process::Command;

fn recipe(name: &str) -> (i32, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_drover"))
        .args(["run", &format!("playbooks/{name}.yml")])
        .args(["-i", "playbooks/audit/inventory.yml", "--report"])
        .arg(&report)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&report).unwrap_or_else(|_| {
        panic!(
            "no report; stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_str(&text).unwrap(),
    )
}

fn statuses(report: &serde_json::Value) -> Vec<(String, String)> {
    report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let message = h["error"]["message"].as_str().unwrap_or("").to_string();
            (h["name"].as_str().unwrap().to_string(), message)
        })
        .collect()
}

#[test]
fn recipe_software_version_compliance() {
    let (code, report) = recipe("audit-software-version");
    assert_eq!(code, 2);
    let hosts = statuses(&report);
    assert_eq!(hosts[0], ("core-1".into(), String::new()));
    assert_eq!(hosts[1], ("core-2".into(), String::new()));
    assert_eq!(hosts[2].0, "edge-1");
    assert!(
        hosts[2].1.starts_with("edge-1 runs 16.12.5, below 17.3"),
        "{}",
        hosts[2].1
    );
    assert_eq!(
        report["hosts"][0]["tasks"][1]["stdout"],
        "core-1 runs 17.3.4a"
    );
}

#[test]
fn recipe_bgp_neighbours_all_established() {
    let (code, report) = recipe("audit-bgp-established");
    assert_eq!(code, 2);
    let hosts = statuses(&report);
    assert_eq!(hosts[0], ("core-1".into(), String::new()));
    assert!(
        hosts[1]
            .1
            .starts_with("item 198.51.100.7: 198.51.100.7 (AS 64700) is Idle"),
        "{}",
        hosts[1].1
    );
    assert!(
        hosts[2]
            .1
            .starts_with("item 198.51.100.7: 198.51.100.7 (AS 64700) is Active"),
        "{}",
        hosts[2].1
    );
    let items = report["hosts"][0]["tasks"][1]["items"].as_array().unwrap();
    let labels: Vec<&str> = items.iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(
        labels,
        ["10.0.0.1", "10.0.0.2", "192.0.2.10", "198.51.100.7"]
    );
}

#[test]
fn recipe_ntp_synchronised() {
    let (code, report) = recipe("audit-ntp-synchronised");
    assert_eq!(code, 2);
    let hosts = statuses(&report);
    assert_eq!(hosts[0], ("core-1".into(), String::new()));
    assert_eq!(hosts[1], ("core-2".into(), String::new()));
    assert!(
        hosts[2]
            .1
            .starts_with("edge-1: clock unsynchronized, stratum 16"),
        "{}",
        hosts[2].1
    );
    assert_eq!(
        report["hosts"][1]["tasks"][1]["stdout"],
        "core-2: synchronised to 10.0.0.124, stratum 4"
    );
}
