//! A hyper-util client inside a tower stack as the transport.

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use lro_poller::transport::TowerTransport;
use lro_poller::{Error, JobState, Operation, RequestMeta};
use tower::ServiceBuilder;

use crate::support::{Server, fast, reply, request, run, states};

/// A layer of "the SDK's own" that adds an `x-sdk` header to every request,
/// and a token only where the crate's marker allows credentials.
fn stack() -> TowerTransport<
    impl tower::Service<
        http::Request<Full<Bytes>>,
        Response = http::Response<hyper::body::Incoming>,
        Error = hyper_util::client::legacy::Error,
        Future = impl Send,
    > + Clone
    + Send
    + Sync
    + 'static,
    Full<Bytes>,
> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let service = ServiceBuilder::new()
        .map_request(|mut request: http::Request<Full<Bytes>>| {
            request
                .headers_mut()
                .insert("x-sdk", "drive-sdk/1.0".parse().unwrap());
            let allowed = request
                .extensions()
                .get::<RequestMeta>()
                .is_some_and(RequestMeta::credentials_allowed);
            if allowed {
                request
                    .headers_mut()
                    .insert("authorization", "Bearer sdk-token".parse().unwrap());
            }
            request
        })
        .service(client);
    TowerTransport::new(service)
}

#[tokio::test]
async fn an_operation_through_a_hyper_util_client_and_a_tower_layer() {
    let server = Server::start().await;
    server.on("/copy", vec![reply(202).header("location", "/monitor/t")]);
    server.on(
        "/monitor/t",
        vec![
            reply(202).json(r#"{"status":"inProgress","percentageComplete":50}"#),
            reply(303).json(r#"{"status":"completed","resourceId":"01TOWER"}"#),
        ],
    );
    let builder =
        Operation::start(stack(), request("POST", &server.url("/copy"), "{}")).with_policy(fast());
    let (items, outcome) = run(builder).await;
    assert_eq!(states(&items), [JobState::InProgress, JobState::Completed]);
    assert_eq!(outcome.unwrap().resource_id(), Some("01TOWER"));
    let seen = server.requests();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter().all(|r| r.headers["x-sdk"] == "drive-sdk/1.0"),
        "the layer ran on every request"
    );
    assert_eq!(seen[0].headers["authorization"], "Bearer sdk-token");
    assert!(
        seen[1..]
            .iter()
            .all(|r| !r.headers.contains_key("authorization"))
    );
}

#[tokio::test]
async fn the_tower_transport_bounds_the_body() {
    let server = Server::start().await;
    let big = format!(r#"{{"status":"inProgress","pad":"{}"}}"#, "x".repeat(4096));
    server.on("/monitor/big", vec![reply(200).json(&big)]);
    let transport = stack().with_body_limit(1024);
    let builder = Operation::monitor(transport, server.url("/monitor/big")).with_policy(fast());
    let (_, outcome) = run(builder).await;
    match outcome.unwrap_err() {
        Error::Request(e) if e.transport_error().is_some() => {
            assert!(e.transport_error().unwrap().is_body_too_large())
        }
        other => panic!("{other:?}"),
    }
}
