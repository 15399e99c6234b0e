//! `lro start --no-wait` then `lro resume`: another process reaches the same
//! outcome, under the original deadline.

mod support;

use serde_json::Value;

use support::graph_copy::graph_copy;
use support::no_wait::start_no_wait;
use support::run::{Run, assert_no_secret, lro, lro_json, lro_with_stdin};
use support::server::{Server, reply};

/// An outcome line with the server's address taken out of `location`.
fn outcome_line(run: &Run, server: &Server) -> Value {
    let mut last = run.last();
    assert_eq!(last["event"], "outcome", "{}", run.stdout);
    if let Some(location) = last["location"].as_str() {
        last["location"] = Value::String(location.replace(&server.url(""), ""));
    }
    last
}

#[test]
fn no_wait_then_resume_in_another_process_reaches_the_same_outcome() {
    let whole = graph_copy("");
    let uninterrupted = lro_json(&["start", &whole.url("/copy"), "-d", "{}"]);
    assert_eq!(uninterrupted.code, 0, "{}", uninterrupted.everything());

    let server = graph_copy("");
    let token = start_no_wait(&server.url("/copy"), "graph", &["-d", "{}"]);
    // The start was answered, and nothing else sent.
    assert_eq!(server.seen().len(), 1, "{:?}", server.seen());

    let resumed = lro_json(&["resume", &token]);
    assert_eq!(resumed.code, 0, "{}", resumed.everything());
    assert_eq!(resumed.statuses(), uninterrupted.statuses());
    assert_eq!(
        outcome_line(&resumed, &server),
        outcome_line(&uninterrupted, &whole)
    );
    assert_eq!(server.seen_at("/copy").len(), 1);
    assert_eq!(server.seen_at("/monitor/1").len(), 4);
}

#[test]
fn human_no_wait_prints_the_token_alone_and_resume_reads_it_from_stdin() {
    let server = graph_copy("?tempauth=SECRET");
    let started = lro(&["start", &server.url("/copy"), "--no-wait"]);
    assert_eq!(started.code, 0, "{}", started.everything());
    let lines: Vec<_> = started.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", started.stdout);
    assert!(lines[0].starts_with("lro1."), "{}", started.stdout);
    assert!(!started.stderr.contains("lro1."), "{}", started.stderr);

    let resumed = lro_with_stdin(
        &["resume", "-", "--interval", "0.05", "--min-interval", "0"],
        &started.stdout,
    );
    assert_eq!(resumed.code, 0, "{}", resumed.everything());
    let last = resumed.stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with("succeeded"), "{}", resumed.stdout);
    assert!(
        last.contains("01MOWKALTXPSWA4NCTOJE3R7KMMEZ3SZO6"),
        "{last}"
    );
    assert_no_secret(&resumed);
    assert_eq!(server.seen_at("/copy").len(), 1);
    assert_eq!(server.seen_at("/monitor/1").len(), 4);
}

#[test]
fn no_wait_on_a_synchronous_answer_reports_the_outcome() {
    let server = Server::start(|_| reply(201, r#"{"id":"item-1","name":"copy.txt"}"#));
    let json = lro_json(&["start", &server.url("/copy"), "--no-wait"]);
    assert_eq!(json.code, 0, "{}", json.everything());
    let last = json.last();
    assert_eq!(last["event"], "outcome");
    assert_eq!(last["outcome"], "succeeded");
    assert_eq!(last["resourceId"], "item-1");
    let human = lro(&["start", &server.url("/copy"), "--no-wait"]);
    assert_eq!(human.code, 0, "{}", human.everything());
    assert_eq!(human.stdout.trim(), "succeeded: resource id item-1");
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn a_deadline_counts_from_the_original_start_across_a_resume() {
    let server = Server::start(|seen| match seen.path.as_str() {
        "/copy" => reply(202, "").header("location", "/monitor/1"),
        _ => reply(202, r#"{"status":"inProgress"}"#),
    });
    let token = start_no_wait(&server.url("/copy"), "graph", &[]);
    // Longer than the --timeout given to the resume.
    std::thread::sleep(std::time::Duration::from_millis(600));
    let resumed = lro(&[
        "resume",
        &token,
        "--timeout",
        "0.3",
        "--interval",
        "0.05",
        "--min-interval",
        "0",
        "--json",
    ]);
    assert_eq!(resumed.code, 2, "{}", resumed.everything());
    let last = resumed.last();
    assert_eq!(last["event"], "error");
    assert_eq!(last["kind"], "deadline");
    // The error carries a token to go on with (a longer --timeout).
    assert!(
        last["token"]
            .as_str()
            .is_some_and(|t| t.starts_with("lro1.")),
        "{last}"
    );
    // Human mode says how to go on.
    let human = lro(&["resume", &token, "--timeout", "0.3"]);
    assert_eq!(human.code, 2, "{}", human.everything());
    assert!(
        human.stderr.contains("resume with: lro resume lro1."),
        "{}",
        human.stderr
    );
    assert!(human.stdout.is_empty(), "{}", human.stdout);
    // No poll was sent after either resume: the deadline had passed.
    assert!(server.seen_at("/monitor/1").is_empty());
}
