//! The polling interval: the floor under `--interval`, and
//! `--ignore-retry-after`.

mod support;

use support::run::{lro, lro_json};
use support::server::{Server, reply};

#[test]
fn ignore_retry_after_polls_at_the_interval() {
    // Honoured, a one-hour Retry-After would outlast the 30 s timeout.
    let server = Server::start(|seen| match (seen.path.as_str(), seen.hit) {
        ("/copy", _) => reply(202, "")
            .header("location", "/monitor/1")
            .header("retry-after", "3600"),
        (_, 0) => reply(202, r#"{"status":"inProgress"}"#).header("retry-after", "3600"),
        _ => reply(200, r#"{"status":"completed"}"#),
    });
    let run = lro_json(&["start", &server.url("/copy"), "--ignore-retry-after"]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(server.seen_at("/monitor/1").len(), 2);
}

#[test]
fn an_interval_under_the_floor_is_refused_before_any_request() {
    let server = Server::start(|_| reply(202, r#"{"status":"inProgress"}"#));
    for command in ["start", "watch"] {
        let run = lro(&[command, &server.url("/m"), "--interval", "0.2"]);
        assert_eq!(run.code, 64, "{}", run.everything());
        assert!(run.stderr.contains("--min-interval"), "{}", run.stderr);
    }
    assert!(server.seen().is_empty(), "nothing is sent");
}

#[test]
fn an_interval_at_the_floor_is_accepted() {
    let server = Server::start(|seen| match seen.hit {
        0 => reply(202, r#"{"status":"inProgress"}"#).header("retry-after", "0"),
        _ => reply(200, r#"{"status":"completed"}"#),
    });
    let url = server.url("/m");
    let args = ["watch", &url, "--interval", "0.3", "--min-interval", "0.3"];
    let run = lro(&args);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(server.seen_at("/m").len(), 2);
}
