//! Google AIP-151 scenarios.

use lro_poller::protocol::ProtocolKind;
use lro_poller::{JobState, Operation};

use crate::{Server, TOKEN, auth, fast, reply, run, start, states, transport};

#[tokio::test]
async fn operation_runs_with_progress_then_returns_its_response() {
    let server = Server::start().await;
    server.on(
        "/v1/projects/p/instances",
        vec![reply(200).json(
            r#"{"name":"projects/p/operations/op-1","metadata":{"@type":"type.googleapis.com/x.Metadata","progressPercent":0}}"#,
        )],
    );
    server.on(
        "/v1/projects/p/operations/op-1",
        vec![
            reply(200).json(r#"{"name":"projects/p/operations/op-1","metadata":{"progressPercent":45},"done":false}"#),
            reply(200).json(
                r#"{"name":"projects/p/operations/op-1","done":true,"response":{"@type":"x.Instance","name":"projects/p/instances/i1","state":"READY"}}"#,
            ),
        ],
    );
    let (items, outcome) = run(start("POST", &server.url("/v1/projects/p/instances"), "{}")).await;
    let progress: Vec<_> = items
        .iter()
        .map(|i| i.as_ref().unwrap().percentage_complete)
        .collect();
    assert_eq!(progress, [Some(0.0), Some(45.0), None]);
    assert_eq!(
        states(&items),
        [
            JobState::InProgress,
            JobState::InProgress,
            JobState::Completed
        ]
    );
    let outcome = outcome.unwrap();
    assert_eq!(outcome.resource_id(), Some("projects/p/instances/i1"));
    assert_eq!(
        outcome.json::<serde_json::Value>().unwrap()["state"],
        "READY"
    );
    let polls = server.requests_to("/v1/projects/p/operations/op-1");
    assert_eq!(polls.len(), 2);
    assert!(polls.iter().all(|p| auth(p).as_deref() == Some(TOKEN)));
}

#[tokio::test]
async fn operation_error_is_a_failed_job_with_the_rpc_status() {
    let server = Server::start().await;
    server.on(
        "/v1/things",
        vec![reply(200).json(r#"{"name":"operations/e","done":false}"#)],
    );
    server.on(
        "/v1/operations/e",
        vec![reply(200).json(
            r#"{"name":"operations/e","done":true,"error":{"code":3,"message":"Invalid machine type","details":[]}}"#,
        )],
    );
    let (_, outcome) = run(start("POST", &server.url("/v1/things"), "{}")).await;
    let error = outcome.unwrap_err();
    let status = error.job_status().unwrap();
    assert_eq!(status.status, JobState::Failed);
    assert_eq!(status.error.as_ref().unwrap().code.as_deref(), Some("3"));
    assert!(error.to_string().contains("Invalid machine type"));
}

#[tokio::test]
async fn cancelled_operation_ends_with_code_1() {
    let server = Server::start().await;
    server.on(
        "/v1/things",
        vec![reply(200).json(r#"{"name":"operations/c","metadata":{}}"#)],
    );
    server.on(
        "/v1/operations/c",
        vec![reply(200).json(r#"{"name":"operations/c","done":true,"error":{"code":1,"message":"Cancelled by user"}}"#)],
    );
    let (_, outcome) = run(start("POST", &server.url("/v1/things"), "{}")).await;
    assert_eq!(
        outcome.unwrap_err().job_status().unwrap().status,
        JobState::Cancelled
    );
}

#[tokio::test]
async fn an_operation_already_done_at_the_start_needs_no_poll() {
    let server = Server::start().await;
    server.on(
        "/v1/quick",
        vec![reply(200).json(r#"{"name":"operations/q","done":true,"response":{"ok":1}}"#)],
    );
    let (items, outcome) = run(start("POST", &server.url("/v1/quick"), "{}")).await;
    assert_eq!(states(&items), [JobState::Completed]);
    assert_eq!(
        outcome.unwrap().json::<serde_json::Value>().unwrap()["ok"],
        1
    );
    assert_eq!(server.requests().len(), 1);
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
