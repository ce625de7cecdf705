//! The HTML report (`drover report html`, `--html FILE`): one self-contained page per run.
//! Each page is checked as a parser sees it (well-formed markup, and libxml2's HTML parser
//! finding nothing but HTML5 tag names it does not know), for any address that would make
//! it fetch something, and for device output that could act; then a real headless Chromium
//! loads one from `file://`, clicks a filter and takes a screenshot.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::support::net;

const HOSTILE: &str =
    "<script>alert(1)</script></pre><b>bold\u{1b}[31mred\u{1b}[0m\u{1b}]0;title\u{7} \u{fffd}\n";

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn drover(dir: &Path, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_drover"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("XDG_STATE_HOME", dir.join(".state"))
        .stdin(Stdio::null())
        .output()
        .expect("run drover");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[track_caller]
fn ok(out: Out, code: i32) -> Out {
    assert_eq!(
        out.code, code,
        "exit code\n--- stdout\n{}\n--- stderr\n{}",
        out.stdout, out.stderr
    );
    out
}

fn attempt(n: u32, started: u64, took: u64, backoff: u64, error: Option<(&str, &str)>) -> Value {
    json!({"attempt": n, "started_ms": started, "waited_ms": 5, "duration_ms": took,
        "backoff_ms": backoff, "probe": false,
        "error": error.map(|(k, m)| json!({"kind": k, "message": m}))})
}

fn task(index: usize, name: &str, status: &str, stdout: &str, started: u64) -> Value {
    json!({"index": index, "name": name, "kind": "command", "command": format!("show {name}"),
        "status": status, "exit_code": if status == "failed" { 1 } else { 0 },
        "stdout": stdout, "stderr": "", "started_ms": started, "duration_ms": 40,
        "error": if status == "failed" { json!({"kind": "nonzero_exit", "message": "exit code 1"}) } else { Value::Null },
        "attempts": 1})
}

#[allow(clippy::too_many_arguments)]
fn host(
    name: &str,
    batch: usize,
    status: &str,
    groups: &[&str],
    started: Option<u64>,
    error: Option<(&str, &str)>,
    connects: Vec<Value>,
    tasks: Vec<Value>,
) -> Value {
    json!({"name": name, "play": 0, "batch": batch, "address": "127.0.0.1",
        "transport": "ssh", "groups": groups, "started_ms": started,
        "finished_ms": started.map_or(900, |s| s + 300), "status": status,
        "error": error.map(|(k, m)| json!({"kind": k, "message": m})),
        "connect_ms": if status == "ok" || status == "failed" { json!(20) } else { Value::Null },
        "duration_ms": 300, "attempts": connects.len(), "connect_attempts": connects,
        "breaker": null, "tasks": tasks})
}

/// A report by hand with one host of each status, a retried connection, a retried task,
/// a parsed field and a hostile output; `version` is what r1's parsed field says.
fn report(run_id: &str, version: u64, r2_status: &str) -> Value {
    let mut retried = task(1, "interfaces", "ok", "up\n", 150);
    retried["attempts"] = json!(2);
    retried["runs"] = json!([
        attempt(1, 150, 30, 20, Some(("nonzero_exit", "exit code 1"))),
        attempt(2, 200, 30, 0, None)
    ]);
    let mut version_task = task(0, "version", "ok", HOSTILE, 60);
    version_task["parsed"] = json!({"version": {"major": version, "minor": 2}});
    let hosts = vec![
        host(
            "r1",
            1,
            "ok",
            &["core", "deu"],
            Some(10),
            None,
            vec![
                attempt(1, 10, 20, 10, Some(("connect_timeout", "timed out"))),
                attempt(2, 40, 20, 0, None),
            ],
            vec![version_task, retried],
        ),
        host(
            "r2",
            1,
            r2_status,
            &["core"],
            Some(15),
            (r2_status == "failed").then_some(("nonzero_exit", "exit code 1")),
            vec![attempt(1, 15, 20, 0, None)],
            vec![
                task(0, "version", r2_status, "same\nsame\nsame\nsame\n", 40),
                task(1, "interfaces", "skipped", "", 0),
            ],
        ),
        host(
            "r3",
            2,
            "unreachable",
            &["edge"],
            Some(400),
            Some(("unreachable", "connection refused")),
            vec![attempt(
                1,
                400,
                1,
                0,
                Some(("unreachable", "connection refused")),
            )],
            vec![],
        ),
        host(
            "r4",
            2,
            "skipped",
            &["edge"],
            None,
            Some(("breaker_open", "breaker open until later")),
            vec![],
            vec![],
        ),
        host(
            "r5",
            3,
            "cancelled",
            &["edge"],
            None,
            Some(("cancelled", "the run was aborted")),
            vec![],
            vec![],
        ),
    ];
    let failed = usize::from(r2_status == "failed");
    json!({
        "schema_version": 1, "drover_version": "0.1.0",
        "run": {"command": "run", "playbook": "site.yml", "inventories": ["inv.yml"],
            "limit": null, "started_at": "2026-12-01T10:00:00Z",
            "finished_at": "2026-12-01T10:00:01Z", "duration_ms": 1000, "interrupted": false,
            "aborted": "max_fail_percentage 30% exceeded", "state_file": null, "exit_code": 3,
            "run_id": run_id, "user": "ops", "hostname": "jump1",
            "argv": ["drover", "run", "site.yml", "-e", "api_token=********"]},
        "counts": {"ok": 2 - failed, "failed": failed, "unreachable": 1, "skipped": 1, "cancelled": 1},
        "plays": [{"index": 0, "name": "site", "pattern": "all",
            "settings": {"batch_size": 2, "retries": 1},
            "batches": [
                {"index": 1, "hosts": ["r1", "r2"], "started_ms": 0, "finished_ms": 400},
                {"index": 2, "hosts": ["r3", "r4"], "started_ms": 400, "finished_ms": 800},
                {"index": 3, "hosts": ["r5"], "started_ms": 800, "finished_ms": 900}],
            "tasks": ["version", "interfaces"]}],
        "hosts": hosts,
    })
}

/// The page of the hand-made run `b`, with its drift from run `a`, in `dir`.
fn status_page(dir: &Path) -> PathBuf {
    let write = |name: &str, v: Value| {
        std::fs::write(dir.join(name), serde_json::to_string_pretty(&v).unwrap()).unwrap()
    };
    write("a.json", report("20261130T100000.000Z-aaaa", 15, "ok"));
    write("b.json", report("20261201T100000.000Z-bbbb", 17, "failed"));
    ok(
        drover(
            dir,
            &[
                "report",
                "html",
                "b.json",
                "--diff-against",
                "a.json",
                "-o",
                "page.html",
            ],
        ),
        0,
    );
    dir.join("page.html")
}

/// Checks what every page must be, and returns its elements' names with their classes.
fn check_page(html: &str) -> Vec<(String, String)> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(html, options)
        .unwrap_or_else(|e| panic!("the page is not well-formed: {e}"));
    let mut elements = Vec::new();
    for node in doc.descendants().filter(|n| n.is_element()) {
        let name = node.tag_name().name().to_string();
        for a in node.attributes() {
            let attr = a.name().to_ascii_lowercase();
            assert!(
                !attr.starts_with("on"),
                "an event handler attribute on <{name}>: {attr}"
            );
            assert!(
                ![
                    "src",
                    "action",
                    "formaction",
                    "poster",
                    "data",
                    "srcset",
                    "background"
                ]
                .contains(&attr.as_str()),
                "<{name} {attr}> would load something"
            );
            if attr == "href" {
                assert!(a.value().starts_with('#'), "<{name} href={}>", a.value());
            }
        }
        assert!(
            ![
                "iframe",
                "object",
                "embed",
                "img",
                "link",
                "base",
                "image",
                "use",
                "foreignObject"
            ]
            .contains(&name.as_str()),
            "<{name}> in the page"
        );
        elements.push((name, node.attribute("class").unwrap_or("").to_string()));
    }
    let scripts = elements.iter().filter(|(n, _)| n == "script").count();
    assert_eq!(scripts, 1, "exactly the page's own script");
    let lower = html.to_ascii_lowercase();
    for needle in [
        "http:", "https:", "ftp:", "ws:", "wss:", "url(", "@import", "//www",
    ] {
        assert!(!lower.contains(needle), "`{needle}` in the page");
    }
    assert!(!html.contains('\u{1b}'), "a terminal escape in the page");
    assert!(
        html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"),
        "the page forbids loading anything"
    );
    html5_parse_errors(html);
    elements
}

/// libxml2's HTML parser (HTML 4) on the page: it does not know HTML5's and SVG's tag names,
/// and anything else it reports (a bad entity, a stray end tag) is a real error. Needs
/// xmllint, which CI installs; without it this check is left to the XML parse above.
fn html5_parse_errors(html: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("page.html");
    std::fs::write(&path, html).unwrap();
    let Ok(out) = Command::new("xmllint")
        .args(["--html", "--noout", "--huge"])
        .arg(&path)
        .output()
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "xmllint is missing (libxml2-utils)"
        );
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("parser error") && !l.contains("invalid"))
        .collect();
    assert!(errors.is_empty(), "HTML parse errors:\n{stderr}");
    // "Tag x invalid" is all it may say, and only of names HTML5 and SVG have.
    let known = regex_lite::Regex::new(
        r"Tag (header|footer|section|details|summary|output|svg|title|line|rect|circle|text|a|g) invalid",
    )
    .unwrap();
    for l in stderr.lines().filter(|l| l.contains("parser error")) {
        assert!(known.is_match(l), "{l}");
    }
}

#[test]
fn html_page_shows_every_status_a_parsed_field_retries_and_the_drift() {
    let dir = tempfile::tempdir().unwrap();
    let page = std::fs::read_to_string(status_page(dir.path())).unwrap();
    let elements = check_page(&page);

    // Five hosts, each one row group with its status, groups and error class to filter by.
    let statuses: BTreeSet<&str> = page
        .split("<tbody class=\"host\"")
        .skip(1)
        .filter_map(|s| s.split("data-status=\"").nth(1)?.split('"').next())
        .collect();
    assert_eq!(
        statuses,
        BTreeSet::from(["ok", "failed", "unreachable", "skipped", "cancelled"])
    );
    assert!(
        page.contains("data-groups=\"core deu\""),
        "groups to filter by"
    );
    for option in [
        "<option>deu</option>",
        "<option>edge</option>",
        "<option>breaker_open</option>",
        "<option>unreachable</option>",
        "<option>nonzero_exit</option>",
    ] {
        assert!(page.contains(option), "filter option {option}");
    }
    // The counts are buttons that filter.
    assert!(page.contains("data-status=\"failed\" class=\"st-failed\" aria-controls=\"hosts\" title=\"show only failed hosts\"><b>1</b>failed</button>"));
    // The run header.
    for text in [
        "site.yml",
        "20261201T100000.000Z-bbbb",
        "max_fail_percentage 30% exceeded",
        "ops",
        "jump1",
        "api_token=********",
    ] {
        assert!(page.contains(text), "header shows {text}");
    }
    // The parsed field, by path, and the task's runs.
    assert!(
        page.contains("<td class=\"mono\">version.major</td><td class=\"mono\">17</td>"),
        "parsed field"
    );
    assert!(page.contains("<caption>runs of this task</caption>"));
    // The timeline: a failed connection before a good one, a task run twice, never-started
    // hosts as dots, batches as bands.
    // SVG shapes only, not the legend's swatches.
    let count = |class: &str| {
        elements
            .iter()
            .filter(|(n, c)| n != "i" && c == class)
            .count()
    };
    assert_eq!(
        count("conn-fail"),
        2,
        "r1's first attempt and r3's only one"
    );
    assert_eq!(count("backoff"), 1);
    assert_eq!(count("m-skipped") + count("m-cancelled"), 2);
    assert_eq!(count("band") + count("band2"), 3);
    assert!(count("t-failed") >= 2, "the failed run of the retried task");
    // Errors grouped by class and message.
    assert!(page.contains("<h3 class=\"err\">breaker_open <span class=\"muted\">(1)</span></h3>"));
    // The drift: r2's status, r1's parsed field and its output.
    let drift = page
        .split("id=\"s-drift\"")
        .nth(1)
        .expect("a drift section");
    assert!(drift.contains("20261130T100000.000Z-aaaa"), "{drift}");
    assert!(drift.contains("2 of 5 hosts changed"), "{drift}");
    assert!(
        drift.contains("parsed <code>version.major</code>: <span class=\"del\">15</span> → <span class=\"add\">17</span>"),
        "{drift}"
    );
    assert!(drift.contains("status <span class=\"st st-ok\">ok</span> → <span class=\"st st-failed\">failed</span>"), "{drift}");
    // The hostile output is text: escaped, its escape sequences gone.
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;/pre&gt;&lt;b&gt;boldred \u{fffd}")
    );
}

#[test]
fn html_page_of_a_real_run_masks_secrets_and_keeps_device_output_inert() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let inventory = format!(
        "defaults: {{ transport: local }}\ngroups:\n  core: {{ hosts: [r1, r2] }}\n  \
         edge: {{ hosts: [u1] }}\nhosts:\n  r1: {{}}\n  r2: {{ vars: {{ api_password: Hunter2Secret }} }}\n  \
         u1: {{ transport: ssh, address: {}, port: {} }}\n",
        net::host(),
        net::free_port()
    );
    std::fs::write(d.join("inv.yml"), inventory).unwrap();
    let playbook = "- hosts: all\n  tasks:\n    - name: hostile\n      command: |-\n        \
         printf '<script>alert(1)</script></pre>\\033[31mred\\033[0m \\377\\376 {{ version | default(1) }}\\n'\n    \
         - name: login\n      command: \"{% if api_password is defined %}echo {{ api_password }} >&2; exit 3{% else %}echo fine{% endif %}\"\n";
    std::fs::write(d.join("p.yml"), playbook).unwrap();
    ok(
        drover(
            d,
            &[
                "run",
                "p.yml",
                "-i",
                "inv.yml",
                "--retries",
                "0",
                "--html",
                "one.html",
            ],
        ),
        2,
    );
    ok(
        drover(
            d,
            &[
                "run",
                "p.yml",
                "-i",
                "inv.yml",
                "--retries",
                "0",
                "-e",
                "version=2",
                "--diff-against",
                "last",
                "--html",
                "two.html",
            ],
        ),
        2,
    );
    let one = std::fs::read_to_string(d.join("one.html")).unwrap();
    check_page(&one);
    assert!(
        !one.contains("Hunter2Secret"),
        "the secret reached the page"
    );
    assert!(
        one.contains("echo ******** &gt;&amp;2; exit 3"),
        "masked command"
    );
    assert!(
        one.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;/pre&gt;red \u{fffd}\u{fffd} 1\n"),
        "the output is escaped, its colours dropped, its bad bytes replaced"
    );
    assert!(
        one.contains("data-status=\"unreachable\" data-groups=\"edge\" data-error=\"unreachable\"")
    );
    assert!(one.contains("data-groups=\"core\" data-error=\"nonzero_exit\""));

    // The run's own page with its drift, and the same from the history afterwards.
    let two = std::fs::read_to_string(d.join("two.html")).unwrap();
    check_page(&two);
    assert!(two.contains("id=\"s-drift\""), "drift in the run's page");
    let from_history = ok(
        drover(d, &["report", "html", "last", "--diff-against", "last~1"]),
        0,
    )
    .stdout;
    check_page(&from_history);
    assert!(!from_history.contains("Hunter2Secret"));
    let drift = from_history.split("id=\"s-drift\"").nth(1).expect("drift");
    assert!(drift.contains("2 of 3 hosts changed"), "{drift}");
    assert!(
        drift.contains("<span class=\"add\">+&lt;script&gt;"),
        "{drift}"
    );
    assert!(
        drift.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;/pre&gt;red \u{fffd}\u{fffd} 2"),
        "{drift}"
    );
    // `report diff --html` writes the later run's page with the drift.
    ok(
        drover(
            d,
            &["report", "diff", "last~1", "last", "--html", "diff.html"],
        ),
        2,
    );
    let diff = std::fs::read_to_string(d.join("diff.html")).unwrap();
    check_page(&diff);
    assert!(diff.contains("2 of 3 hosts changed"));

    let missing = ok(drover(d, &["report", "html", "nope.json"]), 1);
    assert!(missing.stderr.contains("nope.json"), "{}", missing.stderr);
}

/// The browser: `DROVER_BROWSER`, else Debian's headless shell or full Chromium on PATH.
fn browser() -> Option<PathBuf> {
    if let Some(b) = std::env::var_os("DROVER_BROWSER") {
        return Some(PathBuf::from(b));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium-headless-shell", "chromium", "chromium-browser"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

fn chromium(browser: &Path, profile: &Path, args: &[&str]) -> std::process::Output {
    Command::new(browser)
        .args([
            "--headless",
            // Tests run as root in CI containers, where Chromium's sandbox cannot start.
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("start the browser")
}

#[test]
fn html_page_works_in_a_real_browser() {
    let Some(browser) = browser() else {
        assert!(
            std::env::var_os("DROVER_REQUIRE_BROWSER").is_none(),
            "DROVER_REQUIRE_BROWSER is set but no chromium-headless-shell or chromium is on PATH"
        );
        eprintln!(
            "skipped: no chromium-headless-shell or chromium on PATH (set DROVER_BROWSER, \
             or DROVER_REQUIRE_BROWSER=1 to make this a failure)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = status_page(dir.path());
    let url = format!("file://{}", page.display());
    let profile = dir.path().join("profile");

    // `#selftest`: the page's script clicks the "failed" count and writes what it saw.
    let out = chromium(
        &browser,
        &profile,
        &["--dump-dom", &format!("{url}#selftest")],
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the browser failed:\n{stderr}");
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(
        console.is_empty(),
        "console messages:\n{}",
        console.join("\n")
    );
    let report = dom
        .split("<output id=\"selftest\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or_else(|| panic!("the page's script did not run:\n{dom}"));
    assert_eq!(
        report.trim(),
        "rows=1 total=5 scripts=1 errors=0",
        "after clicking the failed filter"
    );
    assert!(
        dom.contains("1 of 5 hosts shown"),
        "the row count the reader sees"
    );

    // Screenshots, light and dark, kept under target/ for a person (and CI) to look at.
    let target = Path::new(env!("CARGO_BIN_EXE_drover"))
        .ancestors()
        .nth(2)
        .expect("the target directory")
        .to_path_buf();
    for (name, extra) in [
        ("html-screenshot.png", None),
        (
            "html-screenshot-dark.png",
            Some("--blink-settings=preferredColorScheme=0"),
        ),
    ] {
        let shot = target.join(name);
        let _ = std::fs::remove_file(&shot);
        let mut args = vec![
            "--hide-scrollbars".to_string(),
            "--window-size=1280,1800".to_string(),
            format!("--screenshot={}", shot.display()),
        ];
        args.extend(extra.map(str::to_string));
        args.push(url.clone());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = chromium(&browser, &profile, &args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let png = std::fs::read(&shot).expect("a screenshot");
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{name}");
    }
}
