//! Cancelling an operation: the cancel request each protocol sends, and what
//! happens when a service has none or the job ends first.

#[path = "support/mod.rs"]
mod support;

use futures::StreamExt;
use lro_poller::{Error, JobState};

use crate::support::{Server, reply, start};

fn graph_job(server: &Server) {
    server.on(
        "/copy",
        vec![reply(202).header("location", "/monitor/9?tempauth=SECRET")],
    );
    server.on(
        "/monitor/9",
        vec![
            reply(202).json(r#"{"status":"inProgress","percentageComplete":10}"#),
            reply(202).json(r#"{"status":"inProgress","percentageComplete":60}"#),
            reply(303).json(r#"{"status":"completed","resourceId":"01DONE"}"#),
        ],
    );
}

#[tokio::test]
async fn cancel_an_azure_operation_location_job() {
    let server = Server::start().await;
    server.on(
        "/jobs",
        vec![reply(202).header("operation-location", "/ops/1?api-version=1")],
    );
    server.on(
        "/ops/1",
        vec![
            reply(200).json(r#"{"status":"Running"}"#),
            reply(200).json(r#"{"status":"Running"}"#),
            reply(200).json(r#"{"status":"Canceled"}"#),
        ],
    );
    server.on("/ops/1:cancel", vec![reply(202)]);
    let mut operation = start("POST", &server.url("/jobs"), "{}").build().unwrap();
    operation.next().await.unwrap().unwrap();
    operation.cancel().await.unwrap();
    let cancel = &server.requests_to("/ops/1:cancel")[0];
    assert_eq!(cancel.method, "POST");
    assert_eq!(cancel.query.as_deref(), Some("api-version=1"));
    let error = operation.await.unwrap_err();
    assert_eq!(error.job_status().unwrap().status, JobState::Cancelled);
}

#[tokio::test]
async fn cancel_falls_back_to_delete_on_older_services() {
    let server = Server::start().await;
    server.on(
        "/jobs",
        vec![reply(202).header("operation-location", "/ops/2")],
    );
    server.on(
        "/ops/2",
        vec![reply(200).json(r#"{"status":"Running"}"#), reply(204)],
    );
    server.on("/ops/2:cancel", vec![reply(404)]);
    let mut operation = start("POST", &server.url("/jobs"), "{}").build().unwrap();
    operation.next().await.unwrap().unwrap();
    operation.cancel().await.unwrap();
    let deletes: Vec<_> = server
        .requests_to("/ops/2")
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 1);
}

#[tokio::test]
async fn a_service_without_cancel_answers_405() {
    let server = Server::start().await;
    server.on(
        "/jobs",
        vec![reply(202).header("operation-location", "/ops/3")],
    );
    server.on(
        "/ops/3",
        vec![reply(200).json(r#"{"status":"Running"}"#), reply(405)],
    );
    server.on("/ops/3:cancel", vec![reply(405)]);
    let mut operation = start("POST", &server.url("/jobs"), "{}").build().unwrap();
    operation.next().await.unwrap().unwrap();
    match operation.cancel().await.unwrap_err() {
        Error::CancelUnsupported {
            http_status,
            protocol,
            ..
        } => {
            assert_eq!(http_status, Some(http::StatusCode::METHOD_NOT_ALLOWED));
            assert_eq!(protocol, "azure");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn cancel_a_google_operation() {
    let server = Server::start().await;
    server.on(
        "/v1/things",
        vec![reply(200).json(r#"{"name":"operations/g","done":false}"#)],
    );
    server.on(
        "/v1/operations/g",
        vec![
            reply(200).json(r#"{"name":"operations/g","done":false}"#),
            reply(200).json(
                r#"{"name":"operations/g","done":true,"error":{"code":1,"message":"Cancelled"}}"#,
            ),
        ],
    );
    server.on("/v1/operations/g:cancel", vec![reply(200).json("{}")]);
    let mut operation = start("POST", &server.url("/v1/things"), "{}")
        .build()
        .unwrap();
    operation.next().await.unwrap().unwrap();
    operation.cancel().await.unwrap();
    assert_eq!(
        server.requests_to("/v1/operations/g:cancel")[0].method,
        "POST"
    );
    let error = operation.await.unwrap_err();
    assert_eq!(error.job_status().unwrap().status, JobState::Cancelled);
}

#[tokio::test]
async fn graph_has_no_cancel_and_sends_nothing() {
    let server = Server::start().await;
    graph_job(&server);
    let mut operation = start("POST", &server.url("/copy"), "{}").build().unwrap();
    assert!(
        matches!(
            operation.cancel().await,
            Err(Error::CancelUnsupported {
                http_status: None,
                ..
            })
        ),
        "not started yet"
    );
    operation.next().await.unwrap().unwrap();
    let sent = server.requests().len();
    match operation.cancel().await.unwrap_err() {
        Error::CancelUnsupported {
            http_status: None,
            protocol,
            ..
        } => assert_eq!(protocol, "graph"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), sent);
    assert!(
        operation.await.is_ok(),
        "polling goes on after a refused cancel"
    );
}

#[tokio::test]
async fn a_cancel_that_races_completion_ends_in_success() {
    let server = Server::start().await;
    server.on(
        "/jobs",
        vec![reply(202).header("operation-location", "/ops/r")],
    );
    server.on(
        "/ops/r",
        vec![
            reply(200).json(r#"{"status":"Running"}"#),
            reply(200).json(r#"{"status":"Succeeded","result":{"n":1}}"#),
        ],
    );
    server.on(
        "/ops/r:cancel",
        vec![reply(409).json(r#"{"error":{"code":"OperationCompleted"}}"#)],
    );
    let mut operation = start("POST", &server.url("/jobs"), "{}")
        .with_final_state_via(lro_poller::protocol::FinalStateVia::OperationLocation)
        .build()
        .unwrap();
    operation.next().await.unwrap().unwrap();
    let cancel = operation.cancel();
    let (cancelled, outcome) = futures::join!(cancel, operation.outcome());
    match cancelled.unwrap_err() {
        Error::Request(e) => assert_eq!(e.status().unwrap(), 409),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        outcome.unwrap().json::<serde_json::Value>().unwrap()["n"],
        1
    );
}
