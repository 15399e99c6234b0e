//! Usage errors exit 64 (as JSON lines with `--json`); `--help` and `--version`
//! exit 0.

mod support;

use support::run::lro;

#[test]
fn usage_errors_exit_64() {
    let cases: &[&[&str]] = &[
        &[],
        &["start"],
        &["watch"],
        &["frobnicate", "http://127.0.0.1:9/x"],
        &["start", "--bogus", "http://127.0.0.1:9/x"],
        &["start", "--protocol", "soap", "http://127.0.0.1:9/x"],
        &["start", "-H", "no colon here", "http://127.0.0.1:9/x"],
        &["start", "-H", "Bad Name: v", "http://127.0.0.1:9/x"],
        &["start", "--interval", "-1", "http://127.0.0.1:9/x"],
        &["start", "--timeout", "soon", "http://127.0.0.1:9/x"],
        &[
            "start",
            "--final-state-via",
            "carrier-pigeon",
            "http://127.0.0.1:9/x",
        ],
        &["start", "-X", "B@D", "http://127.0.0.1:9/x"],
        &["start", "not a url"],
        &["start", "ftp://127.0.0.1/x"],
        &["watch", "/relative/monitor"],
        &[
            "start",
            "-d",
            "@/nonexistent/body.json",
            "http://127.0.0.1:9/x",
        ],
        &["watch", "-X", "PUT", "http://127.0.0.1:9/x"],
    ];
    for args in cases {
        let run = lro(args);
        assert_eq!(run.code, 64, "{args:?}: {}", run.everything());
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert!(!run.stderr.trim().is_empty(), "{args:?}");
    }
}

#[test]
fn usage_errors_are_json_lines_with_json() {
    for args in [
        &["start", "--json", "-H", "nope", "http://127.0.0.1:9/x"][..],
        &[
            "start",
            "--json",
            "--protocol",
            "soap",
            "http://127.0.0.1:9/x",
        ][..],
    ] {
        let run = lro(args);
        assert_eq!(run.code, 64, "{}", run.everything());
        let last = run.last();
        assert_eq!(last["event"], "error");
        assert_eq!(last["kind"], "usage");
    }
}

#[test]
fn help_and_version_exit_0() {
    let help = lro(&["--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("start") && help.stdout.contains("watch"));
    assert!(help.stdout.contains("resume") && help.stdout.contains("cancel"));
    let start_help = lro(&["start", "--help"]);
    assert_eq!(start_help.code, 0);
    for option in [
        "--method",
        "--header",
        "--data",
        "--final-state-via",
        "--ignore-retry-after",
        "--no-wait",
    ] {
        assert!(start_help.stdout.contains(option), "{option}");
    }
    let version = lro(&["--version"]);
    assert_eq!(version.code, 0);
    assert!(version.stdout.contains(env!("CARGO_PKG_VERSION")));
}
