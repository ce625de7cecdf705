//! drover on a real terminal (tmux) at 80×24 and 120×40: the bars never wrap (every line
//! under the overall bar is one of the shapes drover draws, none a wrapped tail), the summary
//! fits the width (its lines joined back with `capture-pane -J`, so a wrapped one shows as a
//! long line), a failed task is named with its host, class and first output lines, the
//! failures are grouped, and the progress words are right (`ETA …` before the first host is
//! done, `1 host`, `Rolling` instead of `Batch 1/1`).

use crate::support::Test;

/// 31 hosts with long names, on the local transport (nothing is resolved or connected).
fn fleet() -> String {
    let mut inv = String::from("defaults:\n  transport: local\nhosts:\n");
    for i in 1..=31 {
        inv.push_str(&format!(
            "  distribution-switch-frankfurt-rack-{i:02}: {{}}\n"
        ));
    }
    inv
}

/// Every third host fails the same way, with a long stderr line.
const PLAY: &str = "
- name: audit
  hosts: all
  rate: 1000/s
  tasks:
    - name: nap and report
      command: \"sleep 1; {% if inventory_hostname[-2:] | int is divisibleby(3) %}echo 'slot 7: parity error' >&2; echo 'broken: the line card in slot 7 reports a parity error on every lane since the last reload, please open a case with the vendor' >&2; exit 3{% else %}echo fine{% endif %}\"
";

struct Screen {
    /// Frames captured while drover ran.
    frames: Vec<String>,
    /// The whole pane after drover ended, scrollback included.
    end: String,
}

fn tmux_available() -> bool {
    crate::support::tmux::available()
}

/// Runs drover with `args` in a `cols`×`rows` tmux pane and captures it until it exits.
fn on_terminal(test: &Test, cols: u16, rows: u16, args: &str) -> Screen {
    let script = format!(
        "cd '{}' && unset NO_COLOR && '{}' {args}; echo EXIT=$?; sleep 60",
        test.path().display(),
        env!("CARGO_BIN_EXE_drover")
    );
    let pane = crate::support::tmux::Pane::start(cols, rows, &script);
    // Wide enough history for the whole summary.
    let _ = pane.tmux(&["set-option", "-t", "t", "history-limit", "5000"]);
    // Frames as the screen shows them; the end with wrapped lines joined, history included.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut frames = Vec::new();
    while std::time::Instant::now() < deadline {
        let frame = pane.capture(false);
        if frame.contains("EXIT=") {
            break;
        }
        frames.push(frame);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let end = pane.capture(true);
    drop(pane);
    assert!(end.contains("EXIT="), "drover did not end:\n{end}");
    Screen { frames, end }
}

#[track_caller]
fn assert_fits(text: &str, cols: usize) {
    for line in text.lines() {
        let n = line.trim_end().chars().count();
        assert!(
            n <= cols,
            "a line of {n} columns on a {cols}-column terminal:\n{line}\n---\n{text}"
        );
    }
}

/// The bars: the overall line whole (its end on the same line), then only batch, host and
/// "more" lines, none longer than the terminal.
#[track_caller]
fn assert_bars_fit(frame: &str, cols: usize) {
    let lines: Vec<&str> = frame.lines().map(str::trim_end).collect();
    let Some(top) = lines.iter().position(|l| l.starts_with("drover ")) else {
        return;
    };
    let overall = lines[top];
    assert!(
        overall.ends_with("ETA …") || overall.contains(" · ETA ") || overall.ends_with("done"),
        "the overall line is cut or wrapped:\n{frame}"
    );
    let shape = regex_lite::Regex::new(
        r"^(Batch \d+/\d+ · \d+ hosts?|Rolling · window of \d+ · \d+ hosts?|  \S+( +(connecting|connected|running `.*|disconnecting|attempt \d+ failed.*))?|  … and \d+ more in flight|  \d+ hosts in flight|)$",
    )
    .unwrap();
    // A frame caught as the run ends holds the last overall line, `done`, and the summary
    // printed under it: no bars follow.
    let bars = if overall.ends_with("done") {
        &lines[top + 1..top + 1]
    } else {
        &lines[top + 1..]
    };
    for line in bars {
        assert!(
            shape.is_match(line),
            "not a bar line (wrapped?): {line:?}\n{frame}"
        );
    }
    assert_fits(frame, cols);
}

fn a_run_fits(cols: u16, rows: u16) {
    if !tmux_available() {
        eprintln!("SKIPPED: tmux is not installed; the terminal check needs it (CI has it)");
        return;
    }
    let test = Test::new().file("inv.yml", &fleet()).file("p.yml", PLAY);
    let screen = on_terminal(
        &test,
        cols,
        rows,
        "run p.yml -i inv.yml --report report.json",
    );
    let width = usize::from(cols);
    for frame in &screen.frames {
        assert_bars_fit(frame, width);
        assert!(
            !frame.contains("0/31 hosts · 0 ok · 0 failed · 00:00:00 · ETA 0s"),
            "{frame}"
        );
    }
    let bars: Vec<&String> = screen
        .frames
        .iter()
        .filter(|f| f.contains("drover "))
        .collect();
    assert!(!bars.is_empty(), "no frame with bars");
    let overall = regex_lite::Regex::new(r"drover (\[[=> ]+\] )?\d+/31 hosts · \d+ ok · \d+ failed · \d\d:\d\d:\d\d · (ETA \S+|done)").unwrap();
    assert!(
        bars.iter().any(|f| overall.is_match(f)),
        "no overall line:\n{}",
        bars[0]
    );
    assert!(
        bars.iter()
            .any(|f| f.contains("/31 hosts · 0 ok · 0 failed") && f.contains("ETA …")),
        "no `ETA …` before the first host is done:\n{}",
        bars[0]
    );
    assert!(
        bars.iter().any(|f| f.contains("Batch 1/4 · 10 hosts")),
        "{}",
        bars[0]
    );
    // A failed task is named above the bars: host, task, class, the first line it printed.
    let failed = regex_lite::Regex::new(
        r"(?m)^\d\d:\d\d\.\d{3} distribution-switch\S* +task `nap and report` failed \(\d+ ms\): nonzero_exit: exit code 3: broken: the line card",
    )
    .unwrap();
    assert!(failed.is_match(&screen.end), "{}", screen.end);
    assert!(
        screen.end.contains("    │ broken: the line card"),
        "{}",
        screen.end
    );
    // The end: the summary fits, and the ten identical failures are one row.
    let summary = &screen.end[screen.end.rfind("| status").expect("summary")..];
    assert_fits(summary, width);
    assert!(summary.contains("(10)"), "{summary}");
    assert!(summary.contains("nonzero_exit"), "{summary}");
    assert_eq!(summary.matches("nonzero_exit").count(), 1, "{summary}");
    assert!(summary.contains("| failed   10"), "{summary}");
    assert!(screen.end.contains("EXIT=2"), "{}", screen.end);
    // The report keeps what the screen cut.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(test.path().join("report.json")).unwrap()).unwrap();
    assert!(report["hosts"][2]["error"]["message"]
        .as_str()
        .unwrap()
        .ends_with("open a case with the vendor"));
}

#[test]
fn a_run_fits_an_80_by_24_terminal() {
    a_run_fits(80, 24);
}

#[test]
fn a_run_fits_a_120_by_40_terminal() {
    a_run_fits(120, 40);
}

#[test]
fn rolling_shows_its_window_and_one_host_is_one_host() {
    if !tmux_available() {
        eprintln!("SKIPPED: tmux is not installed; the terminal check needs it (CI has it)");
        return;
    }
    let test = Test::new().file("inv.yml", &fleet()).file("p.yml", PLAY);
    let screen = on_terminal(
        &test,
        80,
        24,
        "run p.yml -i inv.yml --strategy rolling --concurrency 8",
    );
    assert!(
        screen
            .frames
            .iter()
            .any(|f| f.contains("Rolling · window of 8 · 31 hosts")),
        "{:?}",
        screen.frames.last()
    );
    assert!(!screen.frames.iter().any(|f| f.contains("Batch 1/1")));
    let one = on_terminal(
        &test,
        80,
        24,
        "run p.yml -i inv.yml --limit distribution-switch-frankfurt-rack-01",
    );
    assert!(one.end.contains("1/1 host · 1 ok"), "{}", one.end);
    assert!(!one.end.contains("1 hosts"), "{}", one.end);
}
