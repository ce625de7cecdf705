//! The command line itself: help text, usage errors.

use crate::support::Test;

#[test]
fn help_documents_exit_codes_and_examples() {
    let out = Test::new().args(&["--help"]).run().code(0);
    assert!(out.stdout.contains("130  interrupted"), "{}", out.stdout);
    for sub in ["run", "exec", "check", "inventory"] {
        let out = Test::new().args(&[sub, "--help"]).run().code(0);
        assert!(out.stdout.contains("Examples:"), "{sub}: {}", out.stdout);
    }
}

#[test]
fn usage_errors_exit_1() {
    Test::new()
        .args(&["run"])
        .run()
        .code(1)
        .stderr_has("required");
    Test::new()
        .args(&["exec", "-i", "x.yml", "all"])
        .run()
        .code(1);
    Test::new()
        .args(&["run", "p.yml", "-i", "inv.yml", "--command-timeout", "soon"])
        .run()
        .code(1)
        .stderr_has("`soon` is not a duration");
    Test::new()
        .args(&[
            "exec", "-i", "inv.yml", "all", "-e", "novalue", "--", "true",
        ])
        .run()
        .code(1);
}
