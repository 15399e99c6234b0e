//! A resume token that is not one is a usage error for `resume` and `cancel`,
//! and is never echoed.

mod support;

use support::run::{assert_no_secret, lro, lro_with_stdin};

#[test]
fn bad_tokens_exit_64_and_are_not_echoed() {
    let dir = std::env::temp_dir().join(format!("lro-cli-bad-token-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.token");
    std::fs::write(&file, "lro1.SECRETinafile").unwrap();
    let from_file = format!("@{}", file.display());
    let newer = "lro9.SECRETfromthefuture";
    let mut cases: Vec<Vec<&str>> = Vec::new();
    for command in ["resume", "cancel"] {
        for token in [
            "SECRET-garbage",
            newer,
            "",
            "lro1.SECRET!!",
            "lro1.U0VDUkVU",
            from_file.as_str(),
        ] {
            cases.push(vec![command, token]);
        }
        // A token where clap does not expect one.
        cases.push(vec![command, "lro1.AAAA", "lro1.SECRETextra"]);
    }
    for args in &cases {
        let run = lro(args);
        assert_eq!(run.code, 64, "{args:?}: {}", run.everything());
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert!(!run.stderr.trim().is_empty(), "{args:?}");
        assert_no_secret(&run);
    }
    let run = lro(&["resume", newer]);
    assert!(run.stderr.contains("newer version"), "{}", run.stderr);
    // From stdin, and with --json.
    let run = lro_with_stdin(&["resume", "-", "--json"], "lro1.SECRET\n");
    assert_eq!(run.code, 64, "{}", run.everything());
    assert_eq!(run.last()["kind"], "usage");
    assert_no_secret(&run);
    let run = lro_with_stdin(&["cancel", "-"], "");
    assert_eq!(run.code, 64, "{}", run.everything());
    std::fs::remove_dir_all(&dir).ok();
}
