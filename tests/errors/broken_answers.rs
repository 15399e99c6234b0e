//! Sad paths: errors at the start, broken answers, limits and faults.

use std::time::Duration;

use lro_poller::policy::{ConstantBuilder, ErrorPolicy, PollPolicy};
use lro_poller::transport::ReqwestTransport;
use lro_poller::{Error, GaveUpCause, Operation, RequestKind};

use crate::{Server, fast, reply, request, run, start};

const MONITOR: &str = "/monitor/1";

fn monitor_start(server: &Server) {
    server.on(
        "/start",
        vec![reply(202).header("location", "/monitor/1?tempauth=SECRET")],
    );
}

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
async fn garbage_json_is_a_protocol_error_with_an_excerpt() {
    let server = Server::start().await;
    monitor_start(&server);
    server.on(MONITOR, vec![reply(200).json(r#"{"status":"inProg"#)]);
    let (_, outcome) = run(start("POST", &server.url("/start"), "{}")).await;
    let error = outcome.unwrap_err();
    let Error::Protocol(protocol) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(protocol.excerpt(), Some(r#"{"status":"inProg"#));
    assert!(!error.to_string().contains("SECRET"), "{error}");
    assert_eq!(server.requests_to(MONITOR).len(), 1);
}

#[tokio::test]
async fn html_error_page_with_200_is_not_a_completion() {
    let server = Server::start().await;
    monitor_start(&server);
    server.on(
        MONITOR,
        vec![
            reply(200)
                .header("content-type", "text/html")
                .body("<html><body>Service Unavailable</body></html>"),
        ],
    );
    let (_, outcome) = run(start("POST", &server.url("/start"), "{}")).await;
    assert!(matches!(outcome.unwrap_err(), Error::Protocol(_)));
}

#[tokio::test]
async fn empty_200_is_a_protocol_error() {
    let server = Server::start().await;
    monitor_start(&server);
    server.on(MONITOR, vec![reply(200)]);
    let (_, outcome) = run(start("POST", &server.url("/start"), "{}")).await;
    assert!(matches!(outcome.unwrap_err(), Error::Protocol(_)));
}

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
async fn a_body_over_the_limit_is_a_typed_error() {
    let server = Server::start().await;
    monitor_start(&server);
    let huge = format!(
        r#"{{"status":"inProgress","pad":"{}"}}"#,
        "x".repeat(64 * 1024)
    );
    server.on(MONITOR, vec![reply(200).json(&huge)]);
    let transport = ReqwestTransport::default().with_body_limit(16 * 1024);
    let builder = Operation::start(transport, request("POST", &server.url("/start"), "{}"))
        .with_policy(fast());
    let (_, outcome) = run(builder).await;
    match outcome.unwrap_err() {
        Error::Request(e) if e.transport_error().is_some() => {
            assert!(e.transport_error().unwrap().is_body_too_large());
            assert_eq!(e.kind(), RequestKind::Poll);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        server.requests_to(MONITOR).len(),
        1,
        "an oversized body is not retried"
    );
}

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
async fn a_job_that_never_ends_meets_the_deadline() {
    let server = Server::start().await;
    monitor_start(&server);
    server.on(MONITOR, vec![reply(202).json(r#"{"status":"inProgress"}"#)]);
    let policy = PollPolicy::new(ConstantBuilder::new(Duration::from_millis(40)))
        .with_min_interval(Duration::ZERO)
        .with_deadline(Duration::from_millis(300));
    let builder = start("POST", &server.url("/start"), "{}").with_policy(policy);
    let (items, outcome) = run(builder).await;
    match outcome.unwrap_err() {
        Error::GaveUp(g) if *g.cause() == GaveUpCause::Deadline => {
            let (elapsed, polls) = (g.elapsed(), g.polls());
            assert!(elapsed >= Duration::from_millis(300));
            assert_eq!(polls as usize, server.requests_to(MONITOR).len());
            assert_eq!(
                items.len() as u32,
                polls + 1,
                "each poll's status, then the error"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_hanging_poll_is_cut_at_the_deadline() {
    let server = Server::start().await;
    monitor_start(&server);
    server.on(
        MONITOR,
        vec![
            reply(200)
                .json(r#"{"status":"inProgress"}"#)
                .delay(Duration::from_secs(30)),
        ],
    );
    let policy = PollPolicy::new(ConstantBuilder::new(Duration::from_millis(10)))
        .with_min_interval(Duration::ZERO)
        .with_deadline(Duration::from_millis(200));
    let builder = start("POST", &server.url("/start"), "{}").with_policy(policy);
    let (_, outcome) = run(builder).await;
    match outcome.unwrap_err() {
        Error::GaveUp(g) if *g.cause() == GaveUpCause::Deadline => assert_eq!(g.polls(), 1),
        other => panic!("{other:?}"),
    }
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

#[tokio::test]
async fn absurd_and_garbage_retry_after_values_are_safe() {
    let server = Server::start().await;
    server.on(
        "/start",
        vec![
            reply(202)
                .header("location", "/monitor/1")
                .header("retry-after", "-1"),
        ],
    );
    server.on(
        MONITOR,
        vec![
            reply(202)
                .header("retry-after", "soon")
                .json(r#"{"status":"inProgress"}"#),
            reply(202)
                .header("retry-after", "Thu, 01 Jan 1970 00:00:00 GMT")
                .json(r#"{"status":"inProgress"}"#),
            reply(200).json(r#"{"status":"completed"}"#),
        ],
    );
    let (_, outcome) = run(start("POST", &server.url("/start"), "{}")).await;
    assert!(outcome.is_ok(), "{outcome:?}");

    // 9999999999 seconds is capped by the policy.
    let capped = Server::start().await;
    capped.on(
        "/start",
        vec![
            reply(202)
                .header("location", "/monitor/1")
                .header("retry-after", "9999999999"),
        ],
    );
    capped.on(MONITOR, vec![reply(200).json(r#"{"status":"completed"}"#)]);
    let timer = lro_poller::testing::VirtualTimer::new();
    let builder = start("POST", &capped.url("/start"), "{}")
        .with_timer(timer.clone())
        .with_policy(
            fast()
                .without_deadline()
                .with_retry_after_cap(Duration::from_secs(90)),
        );
    run(builder).await.1.unwrap();
    assert_eq!(timer.sleeps(), [Duration::from_secs(90)]);
}

#[tokio::test]
async fn a_location_loop_is_bounded() {
    let server = Server::start().await;
    server.on("/start", vec![reply(202).header("location", "/a")]);
    server.on(
        "/a",
        vec![
            reply(202)
                .header("location", "/b")
                .json(r#"{"status":"inProgress"}"#),
        ],
    );
    server.on(
        "/b",
        vec![
            reply(202)
                .header("location", "/a")
                .json(r#"{"status":"inProgress"}"#),
        ],
    );
    let builder = start("POST", &server.url("/start"), "{}")
        .with_url_policy(lro_poller::UrlPolicy::new().with_max_url_changes(5));
    let (_, outcome) = run(builder).await;
    assert!(matches!(outcome.unwrap_err(), Error::UrlRejected { .. }));
    assert_eq!(server.requests().len(), 1 + 6, "the start, then six polls");
}

#[tokio::test]
async fn url_policy_refuses_other_hosts_and_never_sends_to_them() {
    let api = Server::start().await;
    let elsewhere = Server::start().await;
    api.on(
        "/start",
        vec![reply(202).header("location", &elsewhere.url("/m?tempauth=SECRET"))],
    );
    elsewhere.on("/m", vec![reply(200).json(r#"{"status":"completed"}"#)]);
    for policy in [
        lro_poller::UrlPolicy::new().same_origin_only(),
        lro_poller::UrlPolicy::new().allow_host("only.example"),
    ] {
        let builder = start("POST", &api.url("/start"), "{}").with_url_policy(policy);
        let (_, outcome) = run(builder).await;
        let error = outcome.unwrap_err();
        assert!(matches!(error, Error::UrlRejected { .. }), "{error:?}");
        assert!(!error.to_string().contains("SECRET"));
    }
    assert!(elsewhere.requests().is_empty());
    // The default policy follows it (Graph monitors live on other hosts).
    let (_, outcome) = run(start("POST", &api.url("/start"), "{}")).await;
    assert!(outcome.is_ok());
}

#[tokio::test]
async fn a_wrong_content_type_does_not_matter_when_the_body_is_a_status() {
    let server = Server::start().await;
    monitor_start(&server);
    server.on(
        MONITOR,
        vec![
            reply(200)
                .header("content-type", "text/plain")
                .body(r#"{"status":"completed"}"#),
        ],
    );
    let (_, outcome) = run(start("POST", &server.url("/start"), "{}")).await;
    assert!(outcome.is_ok());
}

/// A raw TCP server that answers the n-th connection with `answers[n]` (the
/// last repeating), then closes it; an empty answer resets the connection.
pub(crate) async fn raw_server(
    answers: Vec<&'static [u8]>,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let n = seen.fetch_add(1, Ordering::SeqCst);
            let answer = answers[n.min(answers.len() - 1)];
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(answer).await;
            if answer.is_empty() {
                // Reset: close with linger 0 sends RST instead of FIN.
                #[allow(deprecated)]
                let _ = socket.set_linger(Some(Duration::ZERO));
            }
            drop(socket);
        }
    });
    (base, count)
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

#[tokio::test]
async fn the_deadline_also_bounds_the_start_and_the_result_fetch() {
    let server = Server::start().await;
    server.on(
        "/start",
        vec![
            reply(202)
                .header("operation-location", "/ops/1")
                .delay(Duration::from_secs(30)),
        ],
    );
    let policy = || {
        PollPolicy::new(ConstantBuilder::new(Duration::from_millis(10)))
            .with_min_interval(Duration::ZERO)
            .with_deadline(Duration::from_millis(200))
    };
    let (items, outcome) =
        run(start("POST", &server.url("/start"), "{}").with_policy(policy())).await;
    assert_eq!(items.len(), 1);
    assert!(matches!(
        outcome.unwrap_err(),
        Error::GaveUp(g) if *g.cause() == GaveUpCause::Deadline && g.polls() == 0
    ));

    let slow_result = Server::start().await;
    slow_result.on(
        "/things/1",
        vec![
            reply(201).header("azure-asyncoperation", "/ops/1"),
            reply(200).json("{}").delay(Duration::from_secs(30)),
        ],
    );
    slow_result.on("/ops/1", vec![reply(200).json(r#"{"status":"Succeeded"}"#)]);
    let (items, outcome) =
        run(start("PUT", &slow_result.url("/things/1"), "{}").with_policy(policy())).await;
    assert!(items.last().unwrap().is_ok(), "the job itself succeeded");
    assert!(matches!(
        outcome.unwrap_err(),
        Error::GaveUp(g) if *g.cause() == GaveUpCause::Deadline && g.polls() == 1
    ));
}
