//! A broken answer (garbage JSON, an HTML page, an empty or truncated body, a
//! garbled status) is a protocol error, never a success.

use lro_poller::Error;
use lro_poller::protocol::ProtocolKind;

use crate::support::{MONITOR, Server, methods, monitor_start, reply, run, start};

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
    // Each unreadable answer is a failed read, retried: a run of them
    // (the default 5 retries, then one more) ends, with a token.
    assert_eq!(server.requests_to(MONITOR).len(), 6);
    assert!(error.resume_token().is_some());
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

#[tokio::test]
async fn a_truncated_json_put_answer_is_never_a_success() {
    // LROErrorPut200InvalidJson.
    let truncated =
        r#"{ "properties": { "provisioningState": "Creating"}, "id": "100", "name": "foo""#;
    for kind in [ProtocolKind::Azure, ProtocolKind::Auto] {
        let server = Server::start().await;
        server.on(
            "/lro/error/put/200/invalidjson",
            vec![reply(200).json(truncated)],
        );
        let builder = start("PUT", &server.url("/lro/error/put/200/invalidjson"), "{}")
            .with_protocol_kind(kind);
        let (items, outcome) = run(builder).await;
        assert!(items.iter().all(Result::is_err), "{items:?}");
        match outcome.unwrap_err() {
            Error::Protocol(e) => {
                assert_eq!(e.status(), Some(http::StatusCode::OK));
                assert!(e.excerpt().unwrap().contains("Creating"));
            }
            other => panic!("{kind}: {other:?}"),
        }
        assert_eq!(methods(&server), ["PUT /lro/error/put/200/invalidjson"]);
    }
}

#[tokio::test]
async fn garbled_status_polls_are_protocol_errors() {
    // LROErrorPutAsyncInvalidJsonPolling, LROErrorPutAsyncNoPollingStatus(Payload).
    for (status_body, what) in [
        (r#"{ "status": "Accepted""#, "truncated"),
        ("{ }", "no status"),
        ("", "no body"),
    ] {
        let server = Server::start().await;
        server.on(
            "/lro/error/putasync/retry/x",
            vec![reply(200)
                .header("azure-asyncoperation", "/ops/x")
                .header("retry-after", "0")
                .json(r#"{ "properties": { "provisioningState": "Creating"}, "id": "100", "name": "foo" }"#)],
        );
        server.on("/ops/x", vec![reply(200).json(status_body)]);
        let (_, outcome) = run(start(
            "PUT",
            &server.url("/lro/error/putasync/retry/x"),
            "{}",
        ))
        .await;
        assert!(
            matches!(outcome, Err(Error::Protocol(_))),
            "{what}: {outcome:?}"
        );
        // Unreadable polls are retried (5 times by default), then end.
        assert_eq!(server.requests_to("/ops/x").len(), 6, "{what}");
        assert_eq!(server.requests().len(), 7, "{what}: no final GET");
    }
}

#[tokio::test]
async fn a_garbled_result_is_kept_raw_and_is_not_json() {
    // The job succeeded by its status monitor; the final GET is only the
    // result: its bytes are kept, and reading them as JSON fails.
    let server = Server::start().await;
    let garbled = r#"{ "properties": { "provisioningState": "Succeeded"}"#;
    server.on(
        "/vaults/r",
        vec![
            reply(201).header("azure-asyncoperation", "/ops/r"),
            reply(200).json(garbled),
        ],
    );
    server.on("/ops/r", vec![reply(200).json(r#"{"status":"Succeeded"}"#)]);
    let (_, outcome) = run(start("PUT", &server.url("/vaults/r"), "{}")).await;
    let outcome = outcome.unwrap();
    assert_eq!(outcome.body().unwrap().as_ref(), garbled.as_bytes());
    // The caller's own deserialisation error comes back as it is.
    assert!(outcome.json::<serde_json::Value>().unwrap_err().is_eof());
    assert_eq!(
        methods(&server),
        ["PUT /vaults/r", "GET /ops/r", "GET /vaults/r"]
    );
}
