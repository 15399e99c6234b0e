//! A start answered with a terminal status ends the operation with no poll.

use lro_poller::protocol::ProtocolKind;
use lro_poller::{JobState, Operation};

use crate::support::{Server, fast, methods, reply, request, run, start, states, transport};

const COPY: &str = "/v1.0/drive/items/01FOLDER/copy";

#[tokio::test]
async fn server_that_ignores_prefer_answers_synchronously() {
    let server = Server::start().await;
    server.on(
        COPY,
        vec![reply(201).json(r#"{"id":"01SYNC","name":"Copy of LargeFolder1"}"#)],
    );
    let (items, outcome) = run(start("POST", &server.url(COPY), "{}")).await;
    assert_eq!(states(&items), [JobState::Completed]);
    let outcome = outcome.unwrap();
    assert_eq!(outcome.resource_id(), Some("01SYNC"));
    let item: serde_json::Value = outcome.json().unwrap();
    assert_eq!(item["name"], "Copy of LargeFolder1");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_caller_prefer_header_is_kept() {
    let server = Server::start().await;
    server.on(COPY, vec![reply(200).json("{}")]);
    let mut start_request = request("POST", &server.url(COPY), "{}");
    start_request
        .headers_mut()
        .insert("prefer", "respond-async, wait=10".parse().unwrap());
    let builder = Operation::start(transport(), start_request).with_policy(fast());
    run(builder).await.1.unwrap();
    assert_eq!(
        server.requests_to(COPY)[0].headers["prefer"],
        "respond-async, wait=10"
    );
}

#[tokio::test]
async fn a_terminal_200_ends_the_operation_and_its_monitor_is_never_called() {
    // LROPatchInlineCompleteIgnoreHeaders.
    for kind in [ProtocolKind::Azure, ProtocolKind::Auto] {
        let server = Server::start().await;
        server.on(
            "/lro/patch/200/succeeded/ignoreheaders",
            vec![reply(200)
                .header("azure-asyncoperation", "{base}/fakeurl_crash_with_404_you_should_not_call_this")
                .header("location", "{base}/fakeurl_crash_with_404_you_should_not_call_this")
                .json(r#"{ "properties": { "provisioningState": "Succeeded"}, "id": "100", "name": "foo" }"#)],
        );
        let builder = start(
            "PATCH",
            &server.url("/lro/patch/200/succeeded/ignoreheaders"),
            "{}",
        )
        .with_protocol_kind(kind);
        let (items, outcome) = run(builder).await;
        assert_eq!(states(&items), [JobState::Completed]);
        let outcome = outcome.unwrap();
        assert_eq!(outcome.resource_id(), Some("100"));
        assert_eq!(outcome.json::<serde_json::Value>().unwrap()["name"], "foo");
        assert_eq!(
            methods(&server),
            ["PATCH /lro/patch/200/succeeded/ignoreheaders"]
        );
    }
}

#[tokio::test]
async fn a_graph_start_whose_body_is_already_terminal_needs_no_poll() {
    for kind in [ProtocolKind::Graph, ProtocolKind::Auto] {
        let server = Server::start().await;
        server.on(
            "/drive/items/1/copy",
            vec![
                reply(202)
                    .header("location", "/monitor/t")
                    .json(r#"{"status":"failed","error":{"code":"nameAlreadyExists"}}"#),
            ],
        );
        let builder =
            start("POST", &server.url("/drive/items/1/copy"), "{}").with_protocol_kind(kind);
        let (items, outcome) = run(builder).await;
        assert_eq!(states(&items), [JobState::Failed]);
        let error = outcome.unwrap_err();
        assert_eq!(
            error
                .job_status()
                .unwrap()
                .error
                .as_ref()
                .unwrap()
                .code
                .as_deref(),
            Some("nameAlreadyExists")
        );
        assert!(server.requests_to("/monitor/t").is_empty(), "{kind}");
    }
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
