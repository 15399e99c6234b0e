//! Azure's sad paths (after autorest.testserver's LRO scenarios) and the
//! rules that keep a broken answer from becoming a success: a terminal start
//! answer is trusted, error objects of every shape are the service's error,
//! and a body that must be read to know the state and cannot be is an error.

use lro_poller::protocol::ProtocolKind;
use lro_poller::{Error, JobState, Operation};

use crate::{Server, fast, reply, run, start, states, transport};

fn methods(server: &Server) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
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
async fn a_terminal_failure_in_a_201_ends_the_operation_with_its_error() {
    let server = Server::start().await;
    server.on(
        "/vms/1",
        vec![reply(201)
            .header("azure-asyncoperation", "/ops/never")
            .json(r#"{"properties":{"provisioningState":"Failed","error":{"code":409,"message":"conflict"}}}"#)],
    );
    let (_, outcome) = run(start("PUT", &server.url("/vms/1"), "{}")).await;
    let error = outcome.unwrap_err();
    let status = error.job_status().expect("a failed job");
    assert_eq!(status.status, JobState::Failed);
    assert_eq!(status.error.as_ref().unwrap().code.as_deref(), Some("409"));
    assert_eq!(methods(&server), ["PUT /vms/1"]);
}

#[tokio::test]
async fn a_numeric_error_code_is_a_failed_job_with_the_service_error() {
    // LROPutAsyncRetryFailed: `{"code": 500}` in the operation status.
    let server = Server::start().await;
    server.on(
        "/lro/putasync/retry/failed",
        vec![reply(200)
            .header("azure-asyncoperation", "{base}/lro/putasync/retry/failed/operationResults/200/")
            .header("retry-after", "0")
            .json(r#"{ "properties": { "provisioningState": "Accepted"}, "id": "100", "name": "foo" }"#)],
    );
    server.on(
        "/lro/putasync/retry/failed/operationResults/200/",
        vec![
            reply(200).json(r#"{ "status": "Accepted"}"#),
            reply(200).json(r#"{ "status": "Failed", "error": { "code": 500, "message": "Internal Server Error"}}"#),
        ],
    );
    let (items, outcome) = run(start(
        "PUT",
        &server.url("/lro/putasync/retry/failed"),
        "{}",
    ))
    .await;
    assert_eq!(
        states(&items),
        [JobState::Unknown("Accepted".into()), JobState::Failed]
    );
    let error = outcome.unwrap_err();
    let service = error.job_status().unwrap().error.clone().unwrap();
    assert_eq!(service.code.as_deref(), Some("500"));
    assert_eq!(service.message.as_deref(), Some("Internal Server Error"));
    assert!(
        error.to_string().contains("500: Internal Server Error"),
        "{error}"
    );
    assert_eq!(
        methods(&server),
        [
            "PUT /lro/putasync/retry/failed",
            "GET /lro/putasync/retry/failed/operationResults/200/",
            "GET /lro/putasync/retry/failed/operationResults/200/",
        ],
        "no final GET after a failure"
    );
}

#[tokio::test]
async fn error_objects_without_a_message_or_with_nested_details_reach_the_caller() {
    let server = Server::start().await;
    server.on("/copy", vec![reply(202).header("location", "/monitor/e")]);
    server.on(
        "/monitor/e",
        vec![reply(200).json(
            r#"{"status":"failed","errorCode":7,"error":{"innerError":{"code":"quotaLimitReached","date":"2026-12-02"},"details":[{"code":"x","message":"the drive is full"}]}}"#,
        )],
    );
    let (_, outcome) = run(start("POST", &server.url("/copy"), "{}")).await;
    let error = outcome.unwrap_err();
    let status = error
        .job_status()
        .expect("a failed job, not an unreadable answer");
    assert_eq!(status.error_code.as_deref(), Some("7"));
    let service = status.error.as_ref().unwrap();
    assert_eq!(service.code.as_deref(), Some("quotaLimitReached"));
    assert_eq!(service.message.as_deref(), Some("the drive is full"));
    assert_eq!(server.requests_to("/monitor/e").len(), 1);
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
async fn a_put_that_ends_with_no_resource_is_an_error() {
    // LROErrorPut201NoProvisioningStatePayload.
    let server = Server::start().await;
    server.on(
        "/lro/error/put/201/noprovisioningstatepayload",
        vec![reply(201), reply(200)],
    );
    let builder = start(
        "PUT",
        &server.url("/lro/error/put/201/noprovisioningstatepayload"),
        "{}",
    )
    .with_protocol_kind(ProtocolKind::Azure);
    let (_, outcome) = run(builder).await;
    match outcome.unwrap_err() {
        Error::Protocol(e) => assert!(e.message().contains("no resource"), "{}", e.message()),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        methods(&server),
        [
            "PUT /lro/error/put/201/noprovisioningstatepayload",
            "GET /lro/error/put/201/noprovisioningstatepayload",
        ]
    );
}

#[tokio::test]
async fn a_put_created_without_a_state_is_polled_until_the_resource_says() {
    let server = Server::start().await;
    server.on(
        "/accounts/b",
        vec![
            reply(201).json(r#"{"id":"/accounts/b","name":"b"}"#),
            reply(200)
                .json(r#"{"id":"/accounts/b","properties":{"provisioningState":"Creating"}}"#),
            reply(200).json(r#"{"id":"/accounts/b","properties":{"size":3}}"#),
        ],
    );
    let builder =
        start("PUT", &server.url("/accounts/b"), "{}").with_protocol_kind(ProtocolKind::Azure);
    let (items, outcome) = run(builder).await;
    assert_eq!(
        states(&items),
        [JobState::Unknown("Creating".into()), JobState::Completed]
    );
    let outcome = outcome.unwrap();
    assert_eq!(
        outcome.json::<serde_json::Value>().unwrap()["properties"]["size"],
        3
    );
    assert_eq!(
        methods(&server),
        ["PUT /accounts/b", "GET /accounts/b", "GET /accounts/b"]
    );
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
        assert_eq!(server.requests_to("/ops/x").len(), 1, "{what}");
        assert_eq!(server.requests().len(), 2, "{what}: no final GET");
    }
}

#[tokio::test]
async fn a_location_final_answer_is_read_for_its_provisioning_state() {
    // LRODeleteProvisioningFailed: the last answer says how it ended.
    let server = Server::start().await;
    let path = "/lro/delete/provisioning/202/deleting/200/failed";
    server.on(
        path,
        vec![
            reply(202)
                .header("location", "{base}/lro/delete/provisioning/202/deleting/200/failed")
                .header("retry-after", "0")
                .body(r#"{ "properties": { "provisioningState": "Deleting"}, "id": "100", "name": "foo" }"#),
            reply(200)
                .body(r#"{ "properties": { "provisioningState": "Failed"}, "id": "100", "name": "foo" }"#),
        ],
    );
    let builder = start("DELETE", &server.url(path), "").with_protocol_kind(ProtocolKind::Azure);
    let (_, outcome) = run(builder).await;
    assert_eq!(
        outcome.unwrap_err().job_status().unwrap().status,
        JobState::Failed
    );
    assert_eq!(
        methods(&server),
        [format!("DELETE {path}"), format!("GET {path}")]
    );

    // A garbled final answer could hide a failure: an error, not a success.
    let server = Server::start().await;
    server.on("/things/g", vec![reply(202).header("location", "/ops/g")]);
    server.on(
        "/ops/g",
        vec![reply(200).json(r#"{"properties":{"provisioningState":"Fai"#)],
    );
    let builder =
        start("DELETE", &server.url("/things/g"), "").with_protocol_kind(ProtocolKind::Azure);
    let (_, outcome) = run(builder).await;
    assert!(matches!(outcome, Err(Error::Protocol(_))), "{outcome:?}");
    assert_eq!(server.requests_to("/ops/g").len(), 1);
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
async fn a_watched_monitor_with_a_numeric_code_fails_with_it() {
    let server = Server::start().await;
    server.on(
        "/ops/n",
        vec![reply(200).json(r#"{"status":"Failed","error":{"code":503}}"#)],
    );
    let builder = Operation::monitor(transport(), server.url("/ops/n"))
        .with_protocol_kind(ProtocolKind::Azure)
        .with_policy(fast());
    let (_, outcome) = run(builder).await;
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
        Some("503")
    );
    assert_eq!(server.requests().len(), 1);
}
