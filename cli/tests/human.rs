//! Human mode: statuses on stderr, the outcome as the last line of stdout.

mod support;

use support::graph_copy::graph_copy;
use support::run::lro;
use support::server::{Server, reply};

#[test]
fn human_mode_ends_with_the_outcome_and_resource_id() {
    let server = graph_copy("");
    let run = lro(&[
        "start",
        &server.url("/copy"),
        "--interval",
        "0.05",
        "--min-interval",
        "0",
    ]);
    assert_eq!(run.code, 0, "{}", run.everything());
    let last = run.stdout.lines().last().unwrap_or_default();
    assert!(last.contains("succeeded"), "{}", run.stdout);
    assert!(
        last.contains("01MOWKALTXPSWA4NCTOJE3R7KMMEZ3SZO6"),
        "{}",
        run.stdout
    );
    // Status updates go to stderr, never as JSON.
    assert!(run.stderr.contains("inProgress"), "{}", run.stderr);
    assert!(run.stderr.contains("27.8"), "{}", run.stderr);
    assert!(!run.stdout.contains('{'));
}

#[test]
fn human_mode_shows_a_failure_and_exits_1() {
    let server = Server::start(|_| {
        reply(
            200,
            r#"{"status":"failed","error":{"code":"generalException","message":"boom"}}"#,
        )
    });
    let run = lro(&["watch", &server.url("/monitor/1")]);
    assert_eq!(run.code, 1, "{}", run.everything());
    let last = run.stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with("failed"), "{}", run.stdout);
    assert!(last.contains("generalException: boom"), "{}", run.stdout);
}
