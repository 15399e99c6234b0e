//! A start the service refuses, or answers without a usable monitor, ends the
//! operation with the reason, and a POST is never sent twice.

use lro_poller::{Error, RequestKind};

use crate::support::{Server, reply, run, start};

#[tokio::test]
async fn start_rejected_with_the_service_error() {
    let server = Server::start().await;
    server.on(
        "/start",
        vec![
            reply(400).json(r#"{"error":{"code":"invalidRequest","message":"name is required"}}"#),
        ],
    );
    let (items, outcome) = run(start("POST", &server.url("/start"), "{}")).await;
    assert_eq!(items.len(), 1);
    match outcome.unwrap_err() {
        Error::Request(e) => {
            assert_eq!(e.status().unwrap(), 400);
            assert_eq!(e.kind(), RequestKind::Start);
            let service = e.service_error().cloned().unwrap();
            assert_eq!(service.code.as_deref(), Some("invalidRequest"));
            assert_eq!(service.message.as_deref(), Some("name is required"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_post_start_failure_is_not_retried() {
    let server = Server::start().await;
    server.on("/start", vec![reply(503).header("retry-after", "0")]);
    let (_, outcome) = run(start("POST", &server.url("/start"), "{}")).await;
    assert_eq!(
        outcome.unwrap_err().http_status(),
        Some(http::StatusCode::SERVICE_UNAVAILABLE)
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_202_without_a_monitor_is_a_protocol_error() {
    let server = Server::start().await;
    server.on("/start", vec![reply(202)]);
    let (_, outcome) = run(start("POST", &server.url("/start"), "{}")).await;
    assert!(matches!(outcome.unwrap_err(), Error::Protocol(_)));
}

#[tokio::test]
async fn a_monitor_url_with_another_scheme_is_refused() {
    let server = Server::start().await;
    server.on(
        "/start",
        vec![reply(202).header("location", "file:///etc/passwd")],
    );
    let (_, outcome) = run(start("POST", &server.url("/start"), "{}")).await;
    assert!(matches!(outcome.unwrap_err(), Error::Protocol(_)));
    assert_eq!(server.requests().len(), 1);
}
