//! Network faults (a refused connection, a timeout, a connection closed or
//! reset) are retried, then reported as a request error.

use std::time::Duration;

use lro_poller::policy::ErrorPolicy;
use lro_poller::transport::ReqwestTransport;
use lro_poller::{Error, Operation};

use crate::support::{MONITOR, Server, fast, monitor_start, raw_server, reply, request, run};

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    // A port that was just free: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let builder = Operation::monitor(
        ReqwestTransport::default(),
        format!("http://127.0.0.1:{port}/m?tempauth=SECRET"),
    )
    .with_policy(fast())
    .with_error_policy(ErrorPolicy::default().with_max_retries(2));
    let (items, outcome) = run(builder).await;
    assert_eq!(items.len(), 1);
    let error = outcome.unwrap_err();
    assert!(!format!("{error} {error:?}").contains("SECRET"), "{error}");
    match error {
        Error::Request(e) if e.transport_error().is_some() => {
            assert!(e.transport_error().unwrap().is_connect());
            assert_eq!(e.attempts(), 3);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_response_slower_than_the_request_timeout_is_a_transient_timeout() {
    let server = Server::start().await;
    monitor_start(&server);
    server.on(
        MONITOR,
        vec![
            reply(200)
                .json(r#"{"status":"inProgress"}"#)
                .delay(Duration::from_secs(2)),
            reply(200).json(r#"{"status":"completed"}"#),
        ],
    );
    let transport = ReqwestTransport::default().with_timeout(Duration::from_millis(100));
    let builder = Operation::start(transport, request("POST", &server.url("/start"), "{}"))
        .with_policy(fast());
    let (_, outcome) = run(builder).await;
    assert!(
        outcome.is_ok(),
        "the timed-out poll is retried: {outcome:?}"
    );
    assert_eq!(server.requests_to(MONITOR).len(), 2);
}

#[tokio::test]
async fn connection_closed_without_an_answer_and_reset_mid_body_are_retried() {
    let ok: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 22\r\nconnection: close\r\n\r\n{\"status\":\"completed\"}";
    let truncated: &[u8] =
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\nconnection: close\r\n\r\n{\"status\":\"comp";
    let (base, count) = raw_server(vec![b"", truncated, ok]).await;
    let builder =
        Operation::monitor(ReqwestTransport::default(), format!("{base}/m")).with_policy(fast());
    let (items, outcome) = run(builder).await;
    assert_eq!(items.len(), 1);
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_server_that_keeps_dropping_connections_ends_in_a_transport_error() {
    let (base, count) = raw_server(vec![b""]).await;
    let builder = Operation::monitor(ReqwestTransport::default(), format!("{base}/m"))
        .with_policy(fast())
        .with_error_policy(ErrorPolicy::default().with_max_retries(3));
    let (items, outcome) = run(builder).await;
    assert_eq!(items.len(), 1, "exactly one terminal item");
    assert!(matches!(outcome.unwrap_err(), Error::Request(e) if e.transport_error().is_some()));
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 4);
}
