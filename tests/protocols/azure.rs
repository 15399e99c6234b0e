//! Azure: Azure-AsyncOperation, Operation-Location, Location, body polling,
//! final-state-via, and the Azure sad paths after autorest.testserver.

use lro_poller::protocol::{FinalStateVia, ProtocolKind};
use lro_poller::{Error, JobState};

use crate::support::{Server, TOKEN, auth, methods, reply, run, start, states};

#[tokio::test]
async fn put_with_azure_async_operation_reads_the_original_uri() {
    let server = Server::start().await;
    let vm = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1";
    server.on(
        vm,
        vec![
            reply(201)
                .header(
                    "azure-asyncoperation",
                    "{base}/ops/1?api-version=2024-01-01",
                )
                .header("retry-after", "0")
                .json(r#"{"properties":{"provisioningState":"Creating"}}"#),
            reply(200).json(r#"{"id":"vm1","properties":{"provisioningState":"Succeeded"}}"#),
        ],
    );
    server.on(
        "/ops/1",
        vec![
            reply(200).json(r#"{"status":"InProgress","percentComplete":30}"#),
            reply(200).json(r#"{"status":"Succeeded"}"#),
        ],
    );
    let (items, outcome) = run(start("PUT", &server.url(vm), "{}")).await;
    assert_eq!(states(&items), [JobState::InProgress, JobState::Completed]);
    assert_eq!(items[0].as_ref().unwrap().percentage_complete, Some(30.0));
    let outcome = outcome.unwrap();
    let body: serde_json::Value = outcome.json().unwrap();
    assert_eq!(body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(server.requests_to(vm).len(), 2, "start, then the final GET");
    assert_eq!(server.requests_to(vm)[1].method, "GET");
    for poll in server.requests_to("/ops/1") {
        assert_eq!(
            auth(&poll).as_deref(),
            Some(TOKEN),
            "same-origin Azure polls are authorized"
        );
        assert_eq!(poll.query.as_deref(), Some("api-version=2024-01-01"));
    }
}

#[tokio::test]
async fn azure_async_operation_wins_over_location_and_post_reads_location() {
    let server = Server::start().await;
    server.on(
        "/actions/restart",
        vec![
            reply(202)
                .header("azure-asyncoperation", "/ops/2")
                .header("location", "/results/2"),
        ],
    );
    server.on(
        "/ops/2",
        vec![
            reply(200).json(r#"{"status":"Running"}"#),
            reply(200).json(r#"{"status":"Succeeded"}"#),
        ],
    );
    server.on("/results/2", vec![reply(200).json(r#"{"restarted":true}"#)]);
    let (_, outcome) = run(start("POST", &server.url("/actions/restart"), "{}")).await;
    let outcome = outcome.unwrap();
    assert_eq!(
        outcome.json::<serde_json::Value>().unwrap()["restarted"],
        true
    );
    assert_eq!(server.requests_to("/ops/2").len(), 2);
    assert_eq!(
        server.requests_to("/results/2").len(),
        1,
        "Location is read once, for the result, never polled"
    );
}

#[tokio::test]
async fn operation_location_data_plane_with_result_in_the_status() {
    let server = Server::start().await;
    server.on(
        "/analyze",
        vec![reply(202).header("operation-location", "/analyzeResults/7")],
    );
    server.on(
        "/analyzeResults/7",
        vec![
            reply(200).json(r#"{"id":"7","status":"NotStarted"}"#),
            reply(200).json(r#"{"id":"7","status":"Running"}"#),
            reply(200).json(r#"{"id":"7","status":"Succeeded","result":{"pages":3}}"#),
        ],
    );
    let builder = start("POST", &server.url("/analyze"), "{}")
        .with_final_state_via(FinalStateVia::OperationLocation);
    let (items, outcome) = run(builder).await;
    assert_eq!(
        states(&items),
        [
            JobState::NotStarted,
            JobState::InProgress,
            JobState::Completed
        ]
    );
    let result: serde_json::Value = outcome.unwrap().json().unwrap();
    assert_eq!(result["pages"], 3);
}

#[tokio::test]
async fn operation_location_with_resource_location_fetches_it() {
    let server = Server::start().await;
    server.on(
        "/models",
        vec![reply(202).header("operation-location", "/ops/m")],
    );
    server.on(
        "/ops/m",
        vec![reply(200).json(r#"{"status":"succeeded","resourceLocation":"/models/m1"}"#)],
    );
    server.on("/models/m1", vec![reply(200).json(r#"{"modelId":"m1"}"#)]);
    let builder = start("POST", &server.url("/models"), "{}")
        .with_final_state_via(FinalStateVia::OperationLocation);
    let outcome = run(builder).await.1.unwrap();
    assert_eq!(
        outcome.json::<serde_json::Value>().unwrap()["modelId"],
        "m1"
    );
    assert_eq!(outcome.location().unwrap().path(), "/models/m1");
}

#[tokio::test]
async fn arm_location_polls_202_then_takes_the_final_response() {
    let server = Server::start().await;
    server.on(
        "/providers/x/export",
        vec![
            reply(202)
                .header("location", "/providers/x/exportStatus/1")
                .header("x-ms-request-id", "abc"),
        ],
    );
    server.on(
        "/providers/x/exportStatus/1",
        vec![
            reply(202),
            reply(202).header("retry-after", "0"),
            reply(200).json(r#"{"blob":"https://storage/export.zip"}"#),
        ],
    );
    let (items, outcome) = run(start("POST", &server.url("/providers/x/export"), "{}")).await;
    assert_eq!(
        states(&items),
        [
            JobState::InProgress,
            JobState::InProgress,
            JobState::Completed
        ]
    );
    let result: serde_json::Value = outcome.unwrap().json().unwrap();
    assert_eq!(result["blob"], "https://storage/export.zip");
}

#[tokio::test]
async fn arm_location_delete_ends_with_204() {
    let server = Server::start().await;
    server.on(
        "/things/9",
        vec![reply(202).header("location", "/ops/del/9")],
    );
    server.on("/ops/del/9", vec![reply(202), reply(204)]);
    let builder =
        start("DELETE", &server.url("/things/9"), "").with_protocol_kind(ProtocolKind::Azure);
    let (items, outcome) = run(builder).await;
    assert_eq!(states(&items), [JobState::InProgress, JobState::Completed]);
    assert!(outcome.unwrap().body().is_none());
}

#[tokio::test]
async fn body_polling_on_provisioning_state() {
    let server = Server::start().await;
    server.on(
        "/accounts/a1",
        vec![
            reply(201).json(r#"{"properties":{"provisioningState":"Accepted"}}"#),
            reply(200).json(r#"{"properties":{"provisioningState":"Creating"}}"#),
            reply(200).json(
                r#"{"id":"/accounts/a1","properties":{"provisioningState":"Succeeded","size":5}}"#,
            ),
        ],
    );
    let (items, outcome) = run(start("PUT", &server.url("/accounts/a1"), "{}")).await;
    assert_eq!(
        states(&items),
        [
            JobState::Unknown("Accepted".into()),
            JobState::Unknown("Creating".into()),
            JobState::Completed
        ]
    );
    let outcome = outcome.unwrap();
    assert_eq!(outcome.resource_id(), Some("/accounts/a1"));
    assert_eq!(
        outcome.json::<serde_json::Value>().unwrap()["properties"]["size"],
        5
    );
    assert_eq!(server.requests_to("/accounts/a1").len(), 3);
}

#[tokio::test]
async fn canceled_azure_operation() {
    let server = Server::start().await;
    server.on(
        "/jobs",
        vec![reply(202).header("operation-location", "/ops/c")],
    );
    server.on("/ops/c", vec![reply(200).json(r#"{"status":"Canceled"}"#)]);
    let (_, outcome) = run(start("POST", &server.url("/jobs"), "{}")).await;
    assert_eq!(
        outcome.unwrap_err().job_status().unwrap().status,
        JobState::Cancelled
    );
}

#[tokio::test]
async fn explicit_final_state_via_original_uri_on_post() {
    let server = Server::start().await;
    server.on(
        "/widgets",
        vec![
            reply(202).header("operation-location", "/ops/w"),
            reply(200).json(r#"{"widgets":["a"]}"#),
        ],
    );
    server.on("/ops/w", vec![reply(200).json(r#"{"status":"Succeeded"}"#)]);
    let builder = start("POST", &server.url("/widgets"), "{}")
        .with_final_state_via(FinalStateVia::OriginalUri);
    let outcome = run(builder).await.1.unwrap();
    assert_eq!(
        outcome.json::<serde_json::Value>().unwrap()["widgets"][0],
        "a"
    );
    assert_eq!(server.requests_to("/widgets")[1].method, "GET");
}

#[tokio::test]
async fn a_failed_result_fetch_is_an_http_error() {
    let server = Server::start().await;
    server.on(
        "/vm",
        vec![
            reply(201).header("azure-asyncoperation", "/ops/r"),
            reply(403).json(r#"{"error":{"code":"AuthorizationFailed","message":"no"}}"#),
        ],
    );
    server.on("/ops/r", vec![reply(200).json(r#"{"status":"Succeeded"}"#)]);
    let (_, outcome) = run(start("PUT", &server.url("/vm"), "{}")).await;
    match outcome.unwrap_err() {
        Error::Request(e) => {
            assert_eq!(e.status().unwrap(), 403);
            assert_eq!(e.kind(), lro_poller::RequestKind::Result);
            assert_eq!(
                e.service_error().cloned().unwrap().code.as_deref(),
                Some("AuthorizationFailed")
            );
        }
        other => panic!("{other:?}"),
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
    // An answer that cannot be read is a failed read, retried (5 times by
    // default) before the run of them ends.
    let mut expected = vec!["PUT /lro/error/put/201/noprovisioningstatepayload"];
    expected.extend(["GET /lro/error/put/201/noprovisioningstatepayload"; 6]);
    assert_eq!(methods(&server), expected);
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
    assert_eq!(
        server.requests_to("/ops/g").len(),
        6,
        "retried as failed reads"
    );
}
