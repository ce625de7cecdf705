//! What the README promises, checked: every `jq` recipe in it (and in `--help`) runs against
//! a real run and prints something, and `rust-version` is the oldest Rust the locked
//! dependencies build with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::{Test, LAB};

const README: &str = include_str!("../README.md");

/// A play where lab-r2 fails, so recipes that pick failures find one.
const SITE: &str = "
- name: site
  hosts: all
  tasks:
    - name: version
      command: \"{% if inventory_hostname == 'lab-r2' %}echo broken >&2; exit 4{% else %}echo 17.3{% endif %}\"
";

/// Shell lines with `| jq` in the README: from code blocks, and from inline code spans (whose
/// line breaks are joined).
fn readme_recipes() -> Vec<String> {
    let mut recipes = Vec::new();
    let mut prose = String::new();
    let mut fenced = false;
    for line in README.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            if line.contains("| jq") {
                recipes.push(line.trim().to_string());
            }
        } else {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    let span = regex_lite::Regex::new(r"`([^`]+)`").unwrap();
    let joined = regex_lite::Regex::new(r"\s*\n\s*").unwrap();
    for c in span.captures_iter(&prose) {
        let code = joined.replace_all(&c[1], " ").to_string();
        if code.contains("| jq") {
            recipes.push(code);
        }
    }
    recipes
}

/// `drover … | jq …` lines in every subcommand's `--help`.
fn help_recipes() -> Vec<String> {
    let mut recipes = Vec::new();
    for sub in ["run", "exec", "check", "inventory", "history", "report"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_drover"))
            .args([sub, "--help"])
            .output()
            .expect("drover --help");
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if line.contains("| jq") {
                recipes.push(line.trim().to_string());
            }
        }
    }
    recipes
}

fn jq_available() -> bool {
    let found = std::process::Command::new("jq")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "jq is missing; .ci/run installs it"
        );
        eprintln!("SKIPPED: jq is not installed; the README recipes need it (CI has it)");
    }
    found
}

#[test]
fn every_jq_recipe_in_the_readme_and_help_prints_something() {
    if !jq_available() {
        return;
    }
    let recipes: Vec<String> = readme_recipes().into_iter().chain(help_recipes()).collect();
    assert!(recipes.len() >= 5, "recipes found: {recipes:#?}");
    let bin = Path::new(env!("CARGO_BIN_EXE_drover")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for recipe in &recipes {
        assert!(recipe.starts_with("drover "), "{recipe}");
        let test = Test::new().file("inv.yml", LAB).file("site.yml", SITE);
        // The recipe's state dir is the test's own, holding one earlier run, so the history
        // recipes have something to show and nothing reaches the developer's own state.
        let state = test.path().join(".state");
        for _ in 0..2 {
            let earlier = std::process::Command::new(env!("CARGO_BIN_EXE_drover"))
                .args(["run", "site.yml", "-i", "inv.yml", "-q"])
                .current_dir(test.path())
                .env("XDG_STATE_HOME", &state)
                .env("NO_COLOR", "1")
                .output()
                .expect("drover run");
            assert!(earlier.status.code().is_some(), "the earlier run ended");
        }
        let out = std::process::Command::new("sh")
            .args(["-c", recipe])
            .current_dir(test.path())
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .env("XDG_STATE_HOME", &state)
            .output()
            .expect("sh");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{recipe}\n{stderr}");
        assert!(
            !stdout.trim().is_empty() && stdout.trim() != "null",
            "the recipe prints nothing:\n{recipe}\n--- stderr\n{stderr}"
        );
        assert!(!stderr.contains("jq: error"), "{recipe}\n{stderr}");
    }
}

/// The README's run-settings table says each play key has a flag: `--batch-pause` too.
#[test]
fn batch_pause_has_its_flag() {
    let out = Test::new()
        .file("inv.yml", LAB)
        .file(
            "p.yml",
            "- hosts: all\n  batch_size: 3\n  tasks:\n    - command: 'true'\n",
        )
        .args(&[
            "run",
            "p.yml",
            "-i",
            "inv.yml",
            "--report",
            "report.json",
            "--batch-pause",
            "10ms",
        ])
        .run()
        .code(0);
    let report = out.report();
    assert_eq!(
        report["plays"][0]["settings"]["batch_pause"], 10,
        "{}",
        report["plays"][0]
    );
    let table_row = README
        .lines()
        .find(|l| l.starts_with("| `batch_pause`"))
        .expect("batch_pause row");
    assert!(table_row.contains("`--batch-pause`"), "{table_row}");
}

/// `rust-version` in Cargo.toml is the highest `rust-version` among the locked packages that
/// build on this platform (read from cargo's registry sources): a newer dependency raises
/// drover's MSRV, and the README says which it is.
#[test]
fn rust_version_is_the_oldest_the_locked_dependencies_allow() {
    let ours = env!("CARGO_PKG_RUST_VERSION");
    let words = README.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(&format!("Rust {ours} or newer")),
        "the README states another MSRV than {ours}"
    );
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    let Ok(indexes) = std::fs::read_dir(home.join("registry/src")) else {
        eprintln!("SKIPPED: no registry sources under {}", home.display());
        return;
    };
    let indexes: Vec<PathBuf> = indexes.flatten().map(|e| e.path()).collect();
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock"))
        .expect("Cargo.lock");
    let mut versions: BTreeMap<(u32, u32), Vec<String>> = BTreeMap::new();
    let mut read = 0;
    for block in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            block.lines().find_map(|l| {
                l.strip_prefix(key)
                    .and_then(|r| r.trim().strip_prefix("= "))
                    .map(|v| v.trim_matches('"').to_string())
            })
        };
        let (Some(name), Some(version), Some(_registry)) =
            (field("name "), field("version "), field("source "))
        else {
            continue;
        };
        let dir = format!("{name}-{version}");
        // Packages for other platforms (windows-sys, wasm-bindgen) are not downloaded.
        let Some(manifest) = indexes
            .iter()
            .map(|i| i.join(&dir).join("Cargo.toml"))
            .find(|p| p.exists())
        else {
            continue;
        };
        read += 1;
        let text = std::fs::read_to_string(&manifest).unwrap();
        let rv = text.lines().find_map(|l| {
            l.strip_prefix("rust-version = ")
                .map(|v| v.trim_matches('"').to_string())
        });
        if let Some(rv) = rv {
            let mut parts = rv.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
            let key = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
            versions.entry(key).or_default().push(dir);
        }
    }
    assert!(
        read > 50,
        "only {read} locked packages found in the registry"
    );
    let (&(major, minor), needs) = versions.iter().next_back().expect("some rust-version");
    assert_eq!(
        ours,
        format!("{major}.{minor}"),
        "the locked dependencies need Rust {major}.{minor} ({needs:?}); Cargo.toml says {ours}"
    );
}

/// The man pages: EXAMPLES and EXIT STATUS sections of their own, nothing for
/// `mandoc -T lint` to say (it checks style too), and exit code 3 where a run can end so.
#[test]
fn man_pages_are_lint_clean_with_examples_and_exit_status() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/man"));
    let mandoc = std::process::Command::new("mandoc")
        .arg("-V")
        .output()
        .is_ok();
    if !mandoc {
        assert!(
            std::env::var_os("CI").is_none(),
            "mandoc is missing; .ci/run installs it"
        );
        eprintln!("SKIPPED: mandoc is not installed; the man page lint needs it (CI has it)");
    }
    let mut pages = 0;
    for entry in std::fs::read_dir(dir).expect("man/") {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        pages += 1;
        assert!(text.contains("\n.SH EXAMPLES\n"), "{name}");
        assert!(text.contains("\n.SH EXIT STATUS\n"), "{name}");
        assert!(!text.contains(".SH EXTRA"), "{name}");
        if name == "drover-run.1" || name == "drover-exec.1" || name == "drover.1" {
            assert!(
                text.contains(".B 3\naborted by max_fail_percentage"),
                "{name}"
            );
        }
        if mandoc {
            let out = std::process::Command::new("mandoc")
                .args(["-T", "lint", "-W", "style"])
                .arg(&path)
                .output()
                .expect("mandoc");
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                said.trim().is_empty() && out.status.success(),
                "{name}:\n{said}"
            );
        }
    }
    assert_eq!(pages, 9, "drover.1 and one page per command");
    // `run --help` lists every exit code a run can end with.
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_drover"))
        .args(["run", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for code in ["  0 ", "  1 ", "  2 ", "  3 ", "  130 "] {
        assert!(
            help.contains(code),
            "run --help lacks exit code {code}:\n{help}"
        );
    }
}
