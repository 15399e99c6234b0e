//! Watching a monitor URL one already holds, with no start request.

use lro_poller::Operation;
use lro_poller::protocol::ProtocolKind;

use crate::support::{Server, auth, fast, reply, run, transport};

#[tokio::test]
async fn watching_a_monitor_url_directly() {
    let server = Server::start().await;
    server.on(
        "/monitor/w",
        vec![
            reply(202).json(r#"{"status":"inProgress","percentageComplete":5}"#),
            reply(303).json(r#"{"status":"completed","resourceId":"01W"}"#),
        ],
    );
    let builder = Operation::monitor(transport(), server.url("/monitor/w"))
        .with_policy(fast())
        .with_protocol_kind(ProtocolKind::Graph);
    let mut operation = builder.build().unwrap();
    assert_eq!(operation.protocol(), "graph");
    use futures::StreamExt;
    let first = operation.next().await.unwrap().unwrap();
    assert_eq!(first.percentage_complete, Some(5.0));
    let outcome = operation.await.unwrap();
    assert_eq!(outcome.resource_id(), Some("01W"));
    let polls = server.requests_to("/monitor/w");
    assert!(polls.iter().all(|p| auth(p).is_none()));
    assert!(polls.iter().all(|p| p.method == "GET"));
}

#[tokio::test]
async fn watching_an_operation_url_with_auto_detection() {
    let server = Server::start().await;
    server.on(
        "/v1/operations/w",
        vec![
            reply(200).json(r#"{"name":"operations/w","metadata":{"progress":{"percent":70}}}"#),
            reply(200).json(r#"{"name":"operations/w","done":true,"response":{"name":"done"}}"#),
        ],
    );
    let builder =
        Operation::monitor(transport(), server.url("/v1/operations/w")).with_policy(fast());
    let (items, outcome) = run(builder).await;
    assert_eq!(items[0].as_ref().unwrap().percentage_complete, Some(70.0));
    assert_eq!(outcome.unwrap().resource_id(), Some("done"));

    let explicit = Operation::monitor(transport(), server.url("/v1/operations/w"))
        .with_protocol_kind(ProtocolKind::Google)
        .build()
        .unwrap();
    assert_eq!(explicit.protocol(), "google");
}
