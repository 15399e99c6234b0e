//! `lro cancel`: asking the service to cancel, and what it says when it cannot.

mod support;

use std::sync::Arc;

use serde_json::{Value, json};

use support::graph_copy::graph_copy;
use support::no_wait::{start_no_wait, started_token};
use support::run::{lro, lro_json, percentages};
use support::server::{Server, reply};

/// An Azure `Operation-Location` service whose job runs until it is asked
/// to cancel (`POST /operations/1:cancel` answered with `cancel_status`),
/// then reports `Canceled`.
fn azure_cancellable(cancel_status: u16) -> Server {
    let cancelled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    Server::start(move |seen| {
        use std::sync::atomic::Ordering;
        match (seen.method.as_str(), seen.path.as_str()) {
            ("POST", "/start") => reply(202, "")
                .header("operation-location", "/operations/1")
                .header("retry-after", "0"),
            ("POST", "/operations/1:cancel") if cancel_status < 300 => {
                cancelled.store(true, Ordering::SeqCst);
                reply(cancel_status, r#"{"id":"1","status":"Canceling"}"#)
            }
            (_, "/operations/1:cancel") | ("DELETE", "/operations/1") => reply(cancel_status, ""),
            ("GET", "/operations/1") if cancelled.load(Ordering::SeqCst) => {
                reply(200, r#"{"id":"1","status":"Canceled"}"#)
            }
            ("GET", "/operations/1") => reply(200, r#"{"id":"1","status":"Running"}"#),
            _ => reply(404, ""),
        }
    })
}

#[test]
fn cancel_asks_an_azure_operation_location_service_then_resume_sees_it_end() {
    let server = azure_cancellable(202);
    let token = start_no_wait(&server.url("/start"), "azure", &[]);
    let cancel = lro(&[
        "cancel",
        &token,
        "--json",
        "-H",
        "Authorization: Bearer t0ken",
    ]);
    assert_eq!(cancel.code, 0, "{}", cancel.everything());
    assert_eq!(
        cancel.last(),
        json!({"event": "cancel-requested", "protocol": "azure"})
    );
    let sent = server.seen_at("/operations/1:cancel");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "POST");
    // Same origin as the start, and Azure wants credentials.
    assert_eq!(sent[0].header("authorization"), Some("Bearer t0ken"));
    // Cancel does not wait: no poll yet.
    assert!(server.seen_at("/operations/1").is_empty());

    // Polling goes on until the service reports the end.
    let resumed = lro_json(&["resume", &token]);
    assert_eq!(resumed.code, 1, "{}", resumed.everything());
    assert_eq!(resumed.last()["outcome"], "canceled");
}

#[test]
fn cancel_asks_a_google_operation_with_the_token_from_a_file() {
    let server = Server::start(|seen| match (seen.method.as_str(), seen.path.as_str()) {
        ("POST", "/v1/projects/p/instances") => reply(
            200,
            r#"{"name":"operations/x","done":false,"metadata":{"progressPercent":10}}"#,
        ),
        ("POST", "/v1/operations/x:cancel") => reply(200, "{}"),
        _ => reply(404, ""),
    });
    let started = lro_json(&[
        "start",
        &server.url("/v1/projects/p/instances"),
        "-d",
        "{}",
        "--no-wait",
    ]);
    // The start's own status is reported before the token.
    assert_eq!(percentages(&started), [10.0]);
    let token = started_token(&started, "google");
    let dir = std::env::temp_dir().join(format!("lro-cli-cancel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("op.token");
    std::fs::write(&file, format!("{token}\n")).unwrap();
    let cancel = lro(&["cancel", &format!("@{}", file.display())]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(cancel.code, 0, "{}", cancel.everything());
    assert_eq!(cancel.stdout.trim(), "cancel requested");
    assert!(!cancel.everything().contains(&token));
    let methods: Vec<_> = server
        .seen()
        .iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(
        methods,
        [
            "POST /v1/projects/p/instances",
            "POST /v1/operations/x:cancel"
        ]
    );
}

#[test]
fn cancel_refused_with_405_is_unsupported() {
    let server = azure_cancellable(405);
    let token = start_no_wait(&server.url("/start"), "azure", &[]);
    let cancel = lro(&["cancel", &token, "--json"]);
    assert_eq!(cancel.code, 2, "{}", cancel.everything());
    let last = cancel.last();
    assert_eq!(last["event"], "error");
    assert_eq!(last["kind"], "cancel-unsupported");
    assert_eq!(last["httpStatus"], 405);
    assert_eq!(last["token"], Value::Null);
    // Both ways were tried: POST :cancel, then DELETE.
    let methods: Vec<_> = server
        .seen()
        .iter()
        .skip(1)
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(
        methods,
        ["POST /operations/1:cancel", "DELETE /operations/1"]
    );
}

#[test]
fn cancel_on_graph_is_unsupported_and_sends_nothing() {
    let server = graph_copy("");
    let token = start_no_wait(&server.url("/copy"), "graph", &[]);
    for json in [true, false] {
        let mut args = vec!["cancel", token.as_str()];
        if json {
            args.push("--json");
        }
        let cancel = lro(&args);
        assert_eq!(cancel.code, 2, "{}", cancel.everything());
        assert!(
            cancel.stderr.contains("cancel is not supported by graph"),
            "{}",
            cancel.stderr
        );
        assert!(!cancel.everything().contains(&token));
        if json {
            let last = cancel.last();
            assert_eq!(last["kind"], "cancel-unsupported");
            assert_eq!(last["httpStatus"], Value::Null);
        } else {
            assert!(cancel.stdout.is_empty(), "{}", cancel.stdout);
        }
    }
    assert_eq!(server.seen().len(), 1, "{:?}", server.seen());
}

#[test]
fn a_cancel_that_races_completion_fails_and_resume_reports_success() {
    let server = Server::start(|seen| match (seen.method.as_str(), seen.path.as_str()) {
        ("POST", "/start") => reply(202, "").header("operation-location", "/operations/1"),
        ("POST", "/operations/1:cancel") => reply(
            409,
            r#"{"error":{"code":"Conflict","message":"the operation has already completed"}}"#,
        ),
        ("GET", "/operations/1") => reply(
            200,
            r#"{"id":"1","status":"Succeeded","result":{"id":"r"}}"#,
        ),
        _ => reply(404, ""),
    });
    let token = start_no_wait(
        &server.url("/start"),
        "azure",
        &["--final-state-via", "operation-location"],
    );
    let cancel = lro(&["cancel", &token, "--json"]);
    assert_eq!(cancel.code, 2, "{}", cancel.everything());
    let last = cancel.last();
    assert_eq!(last["kind"], "http");
    assert_eq!(last["httpStatus"], 409);
    assert_eq!(last["error"]["code"], "Conflict");
    let resumed = lro_json(&["resume", &token]);
    assert_eq!(resumed.code, 0, "{}", resumed.everything());
    let last = resumed.last();
    assert_eq!(last["outcome"], "succeeded");
    assert_eq!(last["result"], json!({"id": "r"}));
}

#[test]
fn a_cancel_answered_503_is_sent_again_and_each_retry_reported() {
    let server = Server::start(|seen| match (seen.method.as_str(), seen.path.as_str()) {
        ("POST", "/start") => reply(202, "")
            .header("operation-location", "/operations/1")
            .header("retry-after", "0"),
        ("POST", "/operations/1:cancel") if seen.hit == 0 => reply(
            503,
            r#"{"error":{"code":"ServiceUnavailable","message":"busy"}}"#,
        )
        .header("retry-after", "0"),
        ("POST", "/operations/1:cancel") => reply(202, r#"{"id":"1","status":"Canceling"}"#),
        ("GET", "/operations/1") => reply(200, r#"{"id":"1","status":"Running"}"#),
        _ => reply(404, ""),
    });
    let token = start_no_wait(&server.url("/start"), "azure", &[]);
    let cancel = lro(&["cancel", &token, "--json"]);
    assert_eq!(cancel.code, 0, "{}", cancel.everything());
    let retries = cancel.retries();
    assert_eq!(retries.len(), 1, "{}", cancel.stdout);
    assert_eq!(retries[0]["request"], "cancel");
    assert_eq!(retries[0]["attempt"], 2);
    assert_eq!(retries[0]["httpStatus"], 503);
    assert_eq!(
        cancel.last(),
        json!({"event": "cancel-requested", "protocol": "azure"})
    );
    assert_eq!(server.seen_at("/operations/1:cancel").len(), 2);
}
