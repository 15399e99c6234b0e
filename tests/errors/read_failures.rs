//! A poll that fails to read (5xx, 4xx, an expired monitor) is retried or ends
//! the operation by the error policy, and is never taken for a failed job.

use lro_poller::policy::ErrorPolicy;
use lro_poller::protocol::FinalStateVia;
use lro_poller::{Error, JobState};

use crate::support::{MONITOR, Server, monitor_start, reply, run, start, states};

const COPY: &str = "/v1.0/drive/items/01FOLDER/copy";

#[tokio::test]
async fn transient_failures_with_retry_after_are_retried() {
    let server = Server::start().await;
    monitor_start(&server);
    server.on(
        MONITOR,
        vec![
            reply(503).header("retry-after", "0"),
            reply(429).header("retry-after-ms", "5"),
            reply(504),
            reply(200).json(r#"{"status":"completed"}"#),
        ],
    );
    let (_, outcome) = run(start("POST", &server.url("/start"), "{}")).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(server.requests_to(MONITOR).len(), 4);
}

#[tokio::test]
async fn transient_failures_past_the_limit_end_the_operation() {
    let server = Server::start().await;
    monitor_start(&server);
    server.on(
        MONITOR,
        vec![reply(500).json(r#"{"error":{"code":"oops"}}"#)],
    );
    let builder = start("POST", &server.url("/start"), "{}")
        .with_error_policy(ErrorPolicy::default().with_max_retries(2));
    let (_, outcome) = run(builder).await;
    match outcome.unwrap_err() {
        Error::Request(e) => {
            assert_eq!(e.status().unwrap(), 500);
            assert_eq!(e.attempts(), 3);
            assert!(!e.url().contains("SECRET"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests_to(MONITOR).len(), 3);
}

#[tokio::test]
async fn permanent_failure_on_a_poll_ends_at_once() {
    let server = Server::start().await;
    monitor_start(&server);
    server.on(
        MONITOR,
        vec![reply(401).json(r#"{"error":{"code":"unauthenticated"}}"#)],
    );
    let (_, outcome) = run(start("POST", &server.url("/start"), "{}")).await;
    let error = outcome.unwrap_err();
    assert_eq!(error.http_status(), Some(http::StatusCode::UNAUTHORIZED));
    assert!(!format!("{error} {error:?}").contains("SECRET"));
    assert_eq!(server.requests_to(MONITOR).len(), 1);
}

#[tokio::test]
async fn a_500_on_the_monitor_is_a_read_failure_not_a_failed_operation() {
    let server = Server::start().await;
    server.on(
        "/jobs",
        vec![reply(202).header("azure-asyncoperation", "/ops/5")],
    );
    server.on(
        "/ops/5",
        vec![
            reply(500).json(r#"{"error":{"code":"InternalError"}}"#),
            reply(502).body("<html>bad gateway</html>"),
            reply(200).json(r#"{"status":"Succeeded"}"#),
        ],
    );
    let builder = start("POST", &server.url("/jobs"), "{}")
        .with_final_state_via(FinalStateVia::AzureAsyncOperation);
    let (items, outcome) = run(builder).await;
    assert_eq!(states(&items), [JobState::Completed]);
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(server.requests_to("/ops/5").len(), 3);
}

#[tokio::test]
async fn expired_monitor_is_a_typed_error_not_a_retry_loop() {
    let server = Server::start().await;
    server.on(COPY, vec![reply(202).header("location", "/monitor/x")]);
    server.on(
        "/monitor/x",
        vec![
            reply(202).json(r#"{"status":"inProgress"}"#),
            reply(404).json(r#"{"error":{"code":"operationNotFound","message":"gone"}}"#),
        ],
    );
    let (_, outcome) = run(start("POST", &server.url(COPY), "{}")).await;
    let error = outcome.unwrap_err();
    assert!(
        matches!(&error, Error::Request(e) if e.monitor_expired()),
        "{error:?}"
    );
    assert!(error.to_string().contains("operationNotFound"));
    assert_eq!(server.requests_to("/monitor/x").len(), 2);
}
