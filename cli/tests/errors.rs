//! Waiting that cannot go on: exit status 2 and an `error` line of the right
//! kind.

mod support;

use serde_json::Value;

use support::run::{lro, lro_json, percentages};
use support::server::{Server, closed_port, reply};

#[test]
fn a_rejected_start_exits_2_with_the_http_status_and_service_error() {
    for status in [400, 401] {
        let server = Server::start(move |_| {
            reply(
                status,
                r#"{"error":{"code":"invalidRequest","message":"the name is missing"}}"#,
            )
        });
        let run = lro_json(&["start", &server.url("/copy")]);
        assert_eq!(run.code, 2, "{}", run.everything());
        let last = run.last();
        assert_eq!(last["event"], "error");
        assert_eq!(last["kind"], "http");
        assert_eq!(last["httpStatus"], status);
        assert_eq!(last["error"]["code"], "invalidRequest");
        assert!(run.stderr.contains("invalidRequest"), "{}", run.stderr);
        // A rejected start is not retried.
        assert_eq!(server.seen().len(), 1);
    }
}

#[test]
fn a_monitor_that_expires_midway_exits_2() {
    let server = Server::start(|seen| match seen.hit {
        0 => reply(202, r#"{"status":"inProgress","percentageComplete":5}"#),
        _ => reply(
            404,
            r#"{"error":{"code":"operationNotFound","message":"expired"}}"#,
        ),
    });
    let run = lro_json(&["watch", &server.url("/monitor/1")]);
    assert_eq!(run.code, 2, "{}", run.everything());
    assert_eq!(percentages(&run), [5.0]);
    let last = run.last();
    assert_eq!(last["event"], "error");
    assert_eq!(last["kind"], "expired");
    assert_eq!(last["httpStatus"], 404);
    assert_eq!(last["error"]["code"], "operationNotFound");
}

#[test]
fn garbage_from_the_monitor_is_a_protocol_error() {
    // Each unreadable answer is a failed read, retried (and reported); a
    // run of them ends the wait with a token to go on with.
    let server = Server::start(|_| reply(200, "<html>hello</html>"));
    let run = lro_json(&["watch", &server.url("/monitor/1")]);
    assert_eq!(run.code, 2, "{}", run.everything());
    let last = run.last();
    assert_eq!(last["kind"], "protocol");
    assert_eq!(last["httpStatus"], 200);
    assert!(last["token"].as_str().unwrap().starts_with("lro1."));
    assert!(run.stderr.contains("lro resume lro1."), "{}", run.stderr);
    let retries = run.retries();
    assert_eq!(retries.len(), 5, "{}", run.stdout);
    assert!(retries.iter().all(|r| r["request"] == "poll"));
    assert!(run.statuses().is_empty());
}

#[test]
fn a_job_that_never_ends_hits_the_timeout() {
    let server = Server::start(|_| reply(202, r#"{"status":"inProgress"}"#));
    let run = lro(&[
        "watch",
        &server.url("/monitor/1"),
        "--interval",
        "0.05",
        "--min-interval",
        "0",
        "--timeout",
        "0.4",
        "--json",
    ]);
    assert_eq!(run.code, 2, "{}", run.everything());
    let last = run.last();
    assert_eq!(last["event"], "error");
    assert_eq!(last["kind"], "deadline");
    assert_eq!(last["httpStatus"], Value::Null);
    assert!(!run.statuses().is_empty());
}

#[test]
fn an_unreachable_server_is_a_transport_error() {
    let url = format!("http://127.0.0.1:{}/copy", closed_port());
    let run = lro_json(&["start", &url]);
    assert_eq!(run.code, 2, "{}", run.everything());
    assert_eq!(run.last()["kind"], "transport");
}
