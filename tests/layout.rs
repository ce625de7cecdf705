//! The module graph flows one way: cli → app → engine → transport →
//! inventory/playbook/outcome/settings/policy. A transport, the report and the UI never import
//! the engine, and the engine knows no transport's insides.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path.display().to_string(), text));
        }
    }
}

fn offenders(dir: &str, forbidden: &[&str]) -> Vec<String> {
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &mut files);
    assert!(!files.is_empty(), "no sources under {dir}");
    let mut found = Vec::new();
    for (path, text) in files {
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for f in forbidden {
                if code.contains(f) {
                    found.push(format!("{path}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    found
}

#[test]
fn transports_reports_the_ui_and_the_history_never_import_the_engine() {
    for dir in [
        "src/transport",
        "src/report",
        "src/ui",
        "src/policy",
        "src/history",
    ] {
        let found = offenders(dir, &["crate::engine", "super::engine"]);
        assert!(found.is_empty(), "{}", found.join("\n"));
    }
}

#[test]
fn the_engine_imports_no_transports_insides() {
    let found = offenders(
        "src/engine",
        &[
            "transport::ssh",
            "transport::mqtt",
            "transport::local",
            "transport::fake",
        ],
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn settings_outcomes_events_and_the_inventory_never_import_the_engine() {
    for file in [
        "src/settings.rs",
        "src/outcome.rs",
        "src/event.rs",
        "src/inventory",
    ] {
        let found = offenders_in(file);
        assert!(found.is_empty(), "{}", found.join("\n"));
    }
}

fn offenders_in(path: &str) -> Vec<String> {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if full.is_dir() {
        return offenders(path, &["crate::engine"]);
    }
    let text = std::fs::read_to_string(&full).unwrap();
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.split("//").next().unwrap_or("").contains("crate::engine"))
        .map(|(n, l)| format!("{path}:{}: {}", n + 1, l.trim()))
        .collect()
}
