//! Google AIP-151 operations: progress, result, cancellation and the
//! operations URL.

use lro_poller::JobState;
use lro_poller::protocol::ProtocolKind;

use crate::support::{Server, TOKEN, auth, reply, run, start, states};

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
async fn work_counters_are_not_taken_for_percentages() {
    // Firestore's export: counters as int64 strings, under progressBytes and
    // progressDocuments.
    let server = Server::start().await;
    server.on(
        "/v1/projects/p/databases/(default):exportDocuments",
        vec![reply(200).json(
            r#"{"name":"projects/p/databases/(default)/operations/ASA1","metadata":{"operationState":"PROCESSING","progressBytes":{"completedWork":"2684354"}}}"#,
        )],
    );
    server.on(
        "/v1/projects/p/databases/(default)/operations/ASA1",
        vec![
            reply(200).json(
                r#"{"name":"projects/p/databases/(default)/operations/ASA1","metadata":{"progressDocuments":{"completedWork":"250","estimatedWork":"1000"},"progressBytes":{"completedWork":"2684354","estimatedWork":"5368708"}}}"#,
            ),
            reply(200).json(
                r#"{"name":"projects/p/databases/(default)/operations/ASA1","metadata":{"progressDocuments":{"completedWork":"2684354","estimatedWork":"-1"}}}"#,
            ),
            reply(200).json(
                r#"{"name":"projects/p/databases/(default)/operations/ASA1","done":true,"response":{"outputUriPrefix":"gs://b/x"}}"#,
            ),
        ],
    );
    let url = server.url("/v1/projects/p/databases/(default):exportDocuments");
    let (items, outcome) = run(start("POST", &url, "{}")).await;
    let progress: Vec<_> = items
        .iter()
        .map(|i| i.as_ref().unwrap().percentage_complete)
        .collect();
    // Half a counter: none; documents 25% and bytes 50%: the lower; an
    // impossible counter: none; done: none.
    assert_eq!(progress, [None, Some(25.0), None, None]);
    assert!(outcome.is_ok());
    assert_eq!(
        server
            .requests_to("/v1/projects/p/databases/(default)/operations/ASA1")
            .len(),
        3
    );
}

#[tokio::test]
async fn the_operations_url_keeps_the_service_roots_path_prefix() {
    let server = Server::start().await;
    server.on(
        "/some/prefix/v1/projects/P/instances",
        vec![reply(200).json(r#"{"name":"projects/P/operations/op-9","done":false}"#)],
    );
    server.on(
        "/some/prefix/v1/projects/P/operations/op-9",
        vec![reply(200).json(
            r#"{"name":"projects/P/operations/op-9","done":true,"response":{"name":"projects/P/instances/i9"}}"#,
        )],
    );
    let url = server.url("/some/prefix/v1/projects/P/instances?instanceId=i9");
    let (_, outcome) = run(start("POST", &url, "{}")).await;
    assert_eq!(
        outcome.unwrap().resource_id(),
        Some("projects/P/instances/i9")
    );
    let paths: Vec<_> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/some/prefix/v1/projects/P/instances",
            "/some/prefix/v1/projects/P/operations/op-9"
        ]
    );
    let poll = &server.requests()[1];
    assert_eq!(poll.method, "GET");
    assert_eq!(poll.query, None, "the start's query is not carried over");
    assert_eq!(auth(poll).as_deref(), Some(TOKEN));
}

#[tokio::test]
async fn an_operation_name_that_leaves_the_origin_is_refused() {
    for name in [
        "//evil.example/v1/operations/1",
        "https://evil.example/x",
        "../../admin",
    ] {
        let server = Server::start().await;
        server.on(
            "/v1/things",
            vec![reply(200).json(&format!(r#"{{"name":"{name}","done":false}}"#))],
        );
        let builder =
            start("POST", &server.url("/v1/things"), "{}").with_protocol_kind(ProtocolKind::Google);
        let (_, outcome) = run(builder).await;
        assert!(
            matches!(outcome, Err(lro_poller::Error::Protocol(_))),
            "{name}: {outcome:?}"
        );
        assert_eq!(server.requests().len(), 1, "{name}: nothing polled");
    }
}
