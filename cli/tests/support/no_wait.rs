//! `lro start --no-wait`: the resume token it prints.

use super::run::{Run, lro_json};

/// The token of a `start --no-wait --json` run, after checking its line.
pub fn started_token(run: &Run, protocol: &str) -> String {
    assert_eq!(run.code, 0, "{}", run.everything());
    let last = run.last();
    assert_eq!(last["event"], "started", "{}", run.stdout);
    assert_eq!(last["protocol"], protocol);
    let token = last["token"].as_str().expect("a token").to_owned();
    assert!(token.starts_with("lro1."), "{token}");
    token
}

/// `lro start URL --no-wait --json` (plus `extra`): the token.
pub fn start_no_wait(url: &str, protocol: &str, extra: &[&str]) -> String {
    let mut args = vec!["start", url, "--no-wait"];
    args.extend_from_slice(extra);
    started_token(&lro_json(&args), protocol)
}
