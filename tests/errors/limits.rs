//! The limits the caller sets: a body over the size limit and a URL policy
//! that refuses other hosts end the operation with a typed error.

use lro_poller::transport::ReqwestTransport;
use lro_poller::{Error, Operation, RequestKind};

use crate::support::{MONITOR, Server, fast, monitor_start, reply, request, run, start};

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
async fn the_default_limit_reads_a_body_of_half_a_mebibyte_and_refuses_two() {
    for (size, fits) in [(512 * 1024, true), (2 * 1024 * 1024, false)] {
        let server = Server::start().await;
        monitor_start(&server);
        let body = format!(r#"{{"status":"completed","pad":"{}"}}"#, "x".repeat(size));
        server.on(MONITOR, vec![reply(200).json(&body)]);
        let builder = Operation::start(
            ReqwestTransport::default(),
            request("POST", &server.url("/start"), "{}"),
        )
        .with_policy(fast());
        let (_, outcome) = run(builder).await;
        match outcome {
            Ok(_) => assert!(fits, "a {size} B body was read whole"),
            Err(Error::Request(e)) if !fits => {
                assert!(e.transport_error().unwrap().is_body_too_large(), "{e}")
            }
            Err(other) => panic!("a {size} B body: {other:?}"),
        }
    }
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
