//! A job the service reports as failed ends with the service's own error, in
//! every protocol and every error shape.

use lro_poller::protocol::ProtocolKind;
use lro_poller::{JobState, Operation};

use crate::support::{Server, fast, methods, reply, run, start, states, transport};

const COPY: &str = "/v1.0/drive/items/01FOLDER/copy";

#[tokio::test]
async fn failure_reported_as_200_is_a_failed_job_with_the_service_error() {
    let server = Server::start().await;
    server.on(COPY, vec![reply(202).header("location", "/monitor/f")]);
    server.on(
        "/monitor/f",
        vec![
            reply(200).json(r#"{"status":"inProgress","percentageComplete":10}"#),
            reply(200).json(
                r#"{"status":"failed","statusDescription":"Completed 0/0 files; 0/9314 bytes",
                    "error":{"code":"nameAlreadyExists","message":"An item with this name exists"}}"#,
            ),
        ],
    );
    let (items, outcome) = run(start("POST", &server.url(COPY), "{}")).await;
    assert_eq!(states(&items), [JobState::InProgress, JobState::Failed]);
    let error = outcome.unwrap_err();
    let status = error.job_status().expect("the service's status");
    assert_eq!(
        status.error.as_ref().unwrap().code.as_deref(),
        Some("nameAlreadyExists")
    );
    assert!(error.to_string().contains("An item with this name exists"));
}

#[tokio::test]
async fn failure_with_error_code_and_description() {
    let server = Server::start().await;
    server.on(COPY, vec![reply(202).header("location", "/monitor/e")]);
    server.on(
        "/monitor/e",
        vec![reply(200).json(
            r#"{"status":"Failed","errorCode":"quotaLimitReached","statusDescription":"Drive full"}"#,
        )],
    );
    let (_, outcome) = run(start("POST", &server.url(COPY), "{}")).await;
    let error = outcome.unwrap_err();
    assert_eq!(
        error.job_status().unwrap().error_code.as_deref(),
        Some("quotaLimitReached")
    );
    assert!(
        error.to_string().contains("quotaLimitReached: Drive full"),
        "{error}"
    );
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

#[tokio::test]
async fn failed_azure_operation_keeps_the_service_error() {
    let server = Server::start().await;
    server.on(
        "/deploy",
        vec![reply(201).header("azure-asyncoperation", "/ops/f")],
    );
    server.on(
        "/ops/f",
        vec![reply(200).json(
            r#"{"status":"Failed","error":{"code":"QuotaExceeded","message":"Not enough cores"}}"#,
        )],
    );
    let (_, outcome) = run(start("PUT", &server.url("/deploy"), "{}")).await;
    let error = outcome.unwrap_err();
    let status = error.job_status().unwrap();
    assert_eq!(status.status, JobState::Failed);
    assert_eq!(
        status.error.as_ref().unwrap().code.as_deref(),
        Some("QuotaExceeded")
    );
    assert_eq!(
        server.requests_to("/deploy").len(),
        1,
        "no result fetch after a failure"
    );
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
