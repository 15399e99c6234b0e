//! Retrying the start request: what is sent again, how often, and when not.

use lro_poller::policy::ErrorPolicy;
use lro_poller::protocol::ProtocolKind;
use lro_poller::transport::ReqwestTransport;
use lro_poller::{Error, JobState, Operation, RequestKind, StartRetry};

use crate::support::{Server, fast, raw_server, reply, request, run, start, states};

const BODY: &str = r#"{"location":"westus","properties":{"size":"Standard_D2"}}"#;

/// The requests to `path` with `method`.
fn sent(server: &Server, path: &str, method: &str) -> Vec<crate::support::server::Seen> {
    server
        .requests_to(path)
        .into_iter()
        .filter(|seen| seen.method == method)
        .collect()
}

#[tokio::test]
async fn a_put_answered_500_once_is_sent_again_byte_for_byte() {
    // autorest.testserver's LRORetryPutSucceededWithBody.
    let server = Server::start().await;
    let path = "/lro/retryerror/put/201/creating/succeeded/200";
    server.on(
        path,
        vec![
            reply(500),
            reply(201).json(r#"{ "properties": { "provisioningState": "Creating"}, "id": "100", "name": "foo" }"#),
            reply(500),
            reply(200).json(r#"{ "properties": { "provisioningState": "Succeeded"}, "id": "100", "name": "foo" }"#),
        ],
    );
    let builder = start("PUT", &server.url(path), BODY).with_protocol_kind(ProtocolKind::Azure);
    let (items, outcome) = run(builder).await;
    assert_eq!(
        states(&items),
        [JobState::Unknown("Creating".into()), JobState::Completed]
    );
    assert_eq!(outcome.unwrap().resource_id(), Some("100"));
    let methods: Vec<_> = server.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["PUT", "PUT", "GET", "GET"]);
    for put in sent(&server, path, "PUT") {
        assert_eq!(put.body.as_ref(), BODY.as_bytes());
        assert_eq!(put.headers["content-type"], "application/json");
        assert_eq!(put.headers["prefer"], "respond-async");
    }
}

#[tokio::test]
async fn a_delete_answered_500_then_202_polls_its_location() {
    // LRORetryErrorDelete202Retry200Succeeded.
    let server = Server::start().await;
    let path = "/lro/retryerror/delete/202/retry/200";
    server.on(
        path,
        vec![
            reply(500),
            reply(202)
                .header("location", "{base}/lro/retryerror/delete/202/retry/200")
                .header("retry-after", "0"),
            reply(200).json(r#"{ "properties": { "provisioningState": "Succeeded"}, "id": "100", "name": "foo" }"#),
        ],
    );
    let builder = start("DELETE", &server.url(path), "").with_protocol_kind(ProtocolKind::Azure);
    let (_, outcome) = run(builder).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    let methods: Vec<_> = server.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["DELETE", "DELETE", "GET"]);
}

#[tokio::test]
async fn a_post_is_sent_once_unless_keyed_or_opted_in() {
    let server = Server::start().await;
    let path = "/lro/retryerror/post/202/retry/200";
    let script = || {
        vec![
            reply(503).header("retry-after", "0"),
            reply(202).header("location", "/ops/p"),
        ]
    };
    server.on(path, script());
    server.on("/ops/p", vec![reply(200).json(r#"{"status":"Succeeded"}"#)]);
    let (_, outcome) = run(start("POST", &server.url(path), BODY)).await;
    match outcome.unwrap_err() {
        Error::Request(http) => {
            assert_eq!(http.status().unwrap(), 503);
            assert_eq!(http.kind(), RequestKind::Start);
            assert_eq!(http.attempts(), 1);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), 1, "a POST is not repeated");

    // Azure's repeatability headers make it safe: sent again with them.
    server.on(path, script());
    let mut keyed = request("POST", &server.url(path), BODY);
    keyed.headers_mut().insert(
        "repeatability-request-id",
        "8f7c2e4a-1b3d-4e5f-9a8b-7c6d5e4f3a2b".parse().unwrap(),
    );
    keyed.headers_mut().insert(
        "repeatability-first-sent",
        "Wed, 02 Dec 2026 13:00:00 GMT".parse().unwrap(),
    );
    let builder = Operation::start(crate::support::transport(), keyed).with_policy(fast());
    let (_, outcome) = run(builder).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    let posts = sent(&server, path, "POST");
    assert_eq!(posts.len(), 3, "one refused above, two here");
    for post in &posts[1..] {
        assert_eq!(post.body.as_ref(), BODY.as_bytes());
        assert_eq!(
            post.headers["repeatability-first-sent"], "Wed, 02 Dec 2026 13:00:00 GMT",
            "the first-sent date is the first one"
        );
    }

    // The caller's opt-in.
    server.on(path, script());
    let builder = start("POST", &server.url(path), BODY).with_start_retry(StartRetry::Always);
    let (_, outcome) = run(builder).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(sent(&server, path, "POST").len(), 5);
}

#[tokio::test]
async fn a_patch_is_not_retried_and_a_permanent_error_never_is() {
    let server = Server::start().await;
    server.on("/things/1", vec![reply(502), reply(200).json("{}")]);
    let (_, outcome) = run(start("PATCH", &server.url("/things/1"), "{}")).await;
    assert_eq!(
        outcome.unwrap_err().http_status().map(|s| s.as_u16()),
        Some(502)
    );
    assert_eq!(server.requests().len(), 1);

    let server = Server::start().await;
    server.on(
        "/things/2",
        vec![
            reply(409).json(r#"{"error":{"code":"Conflict","message":"exists"}}"#),
            reply(200).json("{}"),
        ],
    );
    let (_, outcome) = run(start("PUT", &server.url("/things/2"), "{}")).await;
    match outcome.unwrap_err() {
        Error::Request(http) => {
            assert_eq!(http.status().unwrap(), 409);
            assert_eq!(http.attempts(), 1);
            assert_eq!(
                http.service_error().cloned().unwrap().code.as_deref(),
                Some("Conflict")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn retries_stop_at_the_error_policy_limit_with_the_count() {
    let server = Server::start().await;
    server.on("/things/3", vec![reply(503).header("retry-after", "0")]);
    let builder = start("PUT", &server.url("/things/3"), BODY)
        .with_error_policy(ErrorPolicy::default().with_max_retries(2));
    let (items, outcome) = run(builder).await;
    assert_eq!(items.len(), 1, "one error item");
    match outcome.unwrap_err() {
        Error::Request(http) => {
            assert_eq!(http.status().unwrap(), 503);
            assert_eq!(http.attempts(), 3);
        }
        other => panic!("{other:?}"),
    }
    let puts = sent(&server, "/things/3", "PUT");
    assert_eq!(puts.len(), 3);
    assert!(puts.iter().all(|p| p.body.as_ref() == BODY.as_bytes()));
}

#[tokio::test]
async fn a_dropped_connection_on_the_start_is_retried() {
    let created: &[u8] = b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 10\r\nconnection: close\r\n\r\n{\"id\":\"7\"}";
    let (base, count) = raw_server(vec![b"", created]).await;
    let builder = Operation::start(
        ReqwestTransport::default(),
        request("PUT", &format!("{base}/things/7"), BODY),
    )
    .with_policy(fast());
    let (items, outcome) = run(builder).await;
    assert_eq!(states(&items), [JobState::Completed]);
    assert_eq!(outcome.unwrap().resource_id(), Some("7"));
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 2);

    // Nothing listening: retried, then a transport error that counts them.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let builder = Operation::start(
        ReqwestTransport::default(),
        request("GET", &format!("http://127.0.0.1:{port}/x"), ""),
    )
    .with_policy(fast())
    .with_error_policy(ErrorPolicy::default().with_max_retries(1));
    match run(builder).await.1.unwrap_err() {
        Error::Request(e) if e.transport_error().is_some() => {
            assert_eq!(e.kind(), RequestKind::Start);
            assert_eq!(e.attempts(), 2);
        }
        other => panic!("{other:?}"),
    }
}
