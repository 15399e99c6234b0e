//! OneDrive / Microsoft Graph (`asyncJobStatus`) scenarios.

use std::time::Duration;

use lro_poller::protocol::ProtocolKind;
use lro_poller::testing::VirtualTimer;
use lro_poller::{Error, JobState, Operation, RequestKind};

use crate::{Server, TOKEN, auth, fast, reply, request, run, start, states, transport};

const COPY: &str = "/v1.0/drive/items/01FOLDER/copy";

#[tokio::test]
async fn seed_flow_copy_with_progress_then_303() {
    let server = Server::start().await;
    server.on(
        COPY,
        vec![reply(202).header("location", "{base}/monitor/4A34?tempauth=SECRET")],
    );
    server.on(
        "/monitor/4A34",
        vec![
            reply(202).json(
                r#"{"operation":"ItemCopy","percentageComplete":27.8,"status":"inProgress"}"#,
            ),
            reply(202).json(
                r#"{"operation":"ItemCopy","percentageComplete":63.0,"status":"inProgress"}"#,
            ),
            reply(303)
                .header("location", "/v1.0/drive/items/01NEWITEM")
                .json(
                    r#"{"percentageComplete":100.0,"resourceId":"01NEWITEM","status":"completed"}"#,
                ),
        ],
    );
    let (items, outcome) = run(start("POST", &server.url(COPY), r#"{"name":"Copy"}"#)).await;
    let progress: Vec<_> = items
        .iter()
        .map(|i| i.as_ref().unwrap().percentage_complete)
        .collect();
    assert_eq!(progress, [Some(27.8), Some(63.0), Some(100.0)]);
    let outcome = outcome.unwrap();
    assert_eq!(outcome.resource_id(), Some("01NEWITEM"));
    assert_eq!(
        outcome.location().unwrap().as_str(),
        server.url("/v1.0/drive/items/01NEWITEM")
    );
    let copy = &server.requests_to(COPY)[0];
    assert_eq!(copy.headers["prefer"], "respond-async");
    assert_eq!(auth(copy).as_deref(), Some(TOKEN));
    let polls = server.requests_to("/monitor/4A34");
    assert_eq!(polls.len(), 3);
    for poll in &polls {
        assert_eq!(poll.method, "GET");
        assert_eq!(poll.query.as_deref(), Some("tempauth=SECRET"));
        assert_eq!(auth(poll), None, "a Graph monitor needs no credentials");
    }
    assert_eq!(
        server.requests().len(),
        4,
        "nothing after the terminal status"
    );
}

#[tokio::test]
async fn business_drive_answers_200_on_every_poll() {
    let server = Server::start().await;
    server.on(COPY, vec![reply(202).header("location", "/monitor/b")]);
    server.on(
        "/monitor/b",
        vec![
            reply(200).json(r#"{"status":"notStarted"}"#),
            reply(200).json(r#"{"status":"inProgress","percentageComplete":50}"#),
            reply(200).json(r#"{"status":"completed","resourceId":"01B"}"#),
        ],
    );
    let (items, outcome) = run(start("POST", &server.url(COPY), "{}")).await;
    assert_eq!(
        states(&items),
        [
            JobState::NotStarted,
            JobState::InProgress,
            JobState::Completed
        ]
    );
    assert_eq!(outcome.unwrap().resource_id(), Some("01B"));
}

#[tokio::test]
async fn see_other_without_a_body_completes_with_the_location() {
    let server = Server::start().await;
    server.on(COPY, vec![reply(202).header("location", "/monitor/c")]);
    server.on(
        "/monitor/c",
        vec![
            reply(202).json(r#"{"status":"inProgress"}"#),
            reply(303).header("location", "/v1.0/drive/items/01C"),
        ],
    );
    let (items, outcome) = run(start("POST", &server.url(COPY), "{}")).await;
    assert_eq!(states(&items), [JobState::InProgress, JobState::Completed]);
    let outcome = outcome.unwrap();
    assert_eq!(outcome.location().unwrap().path(), "/v1.0/drive/items/01C");
    assert_eq!(
        server.requests_to("/v1.0/drive/items/01C").len(),
        0,
        "not followed"
    );
}

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
async fn status_casing_does_not_matter() {
    let server = Server::start().await;
    server.on(COPY, vec![reply(202).header("location", "/monitor/k")]);
    server.on(
        "/monitor/k",
        vec![
            reply(202).json(r#"{"status":"INPROGRESS"}"#),
            reply(202).json(r#"{"status":"InProgress"}"#),
            reply(200).json(r#"{"status":"Completed"}"#),
        ],
    );
    let (items, outcome) = run(start("POST", &server.url(COPY), "{}")).await;
    assert_eq!(
        states(&items),
        [
            JobState::InProgress,
            JobState::InProgress,
            JobState::Completed
        ]
    );
    assert!(outcome.is_ok());
}

#[tokio::test]
async fn unknown_status_is_kept_and_polling_goes_on() {
    let server = Server::start().await;
    server.on(COPY, vec![reply(202).header("location", "/monitor/u")]);
    server.on(
        "/monitor/u",
        vec![
            reply(200).json(r#"{"status":"paused","percentageComplete":40}"#),
            reply(200).json(r#"{"status":"cancelPending"}"#),
            reply(200).json(r#"{"status":"completed"}"#),
        ],
    );
    let (items, outcome) = run(start("POST", &server.url(COPY), "{}")).await;
    assert_eq!(
        states(&items),
        [
            JobState::Unknown("paused".into()),
            JobState::CancelPending,
            JobState::Completed
        ]
    );
    assert!(outcome.is_ok());
}

#[tokio::test]
async fn delete_failed_and_cancelled_are_terminal() {
    for (status, state) in [
        ("deleteFailed", JobState::DeleteFailed),
        ("cancelled", JobState::Cancelled),
    ] {
        let server = Server::start().await;
        server.on(COPY, vec![reply(202).header("location", "/monitor/t")]);
        server.on(
            "/monitor/t",
            vec![
                reply(200).json(&format!(r#"{{"status":"{status}"}}"#)),
                reply(200).json(r#"{"status":"inProgress"}"#),
            ],
        );
        let (items, outcome) = run(start("POST", &server.url(COPY), "{}")).await;
        assert_eq!(states(&items), std::slice::from_ref(&state));
        assert_eq!(outcome.unwrap_err().job_status().unwrap().status, state);
        assert_eq!(server.requests_to("/monitor/t").len(), 1);
    }
}

#[tokio::test]
async fn expired_monitor_is_a_typed_error_not_a_retry_loop() {
    let server = Server::start().await;
    server.on(COPY, vec![reply(202).header("location", "/monitor/x")]);
    server.on(
        "/monitor/x",
        vec![
            reply(202).json(r#"{"status":"inProgress"}"#),
            reply(404).json(r#"{"error":{"code":"operationNotFound","message":"gone"}}"#),
        ],
    );
    let (_, outcome) = run(start("POST", &server.url(COPY), "{}")).await;
    let error = outcome.unwrap_err();
    assert!(
        matches!(&error, Error::Request(e) if e.monitor_expired()),
        "{error:?}"
    );
    assert!(error.to_string().contains("operationNotFound"));
    assert_eq!(server.requests_to("/monitor/x").len(), 2);
}

#[tokio::test]
async fn relative_location_resolves_against_the_request_url() {
    let server = Server::start().await;
    server.on(COPY, vec![reply(202).header("location", "status/9")]);
    server.on(
        "/v1.0/drive/items/01FOLDER/status/9",
        vec![reply(200).json(r#"{"status":"completed"}"#)],
    );
    let (_, outcome) = run(start("POST", &server.url(COPY), "{}")).await;
    assert!(outcome.is_ok(), "{outcome:?}");
}

#[tokio::test]
async fn a_new_location_on_a_later_poll_replaces_the_monitor() {
    let server = Server::start().await;
    server.on(COPY, vec![reply(202).header("location", "/monitor/old")]);
    server.on(
        "/monitor/old",
        vec![
            reply(202)
                .header("location", "/monitor/new")
                .json(r#"{"status":"inProgress"}"#),
        ],
    );
    server.on(
        "/monitor/new",
        vec![
            reply(202).json(r#"{"status":"inProgress"}"#),
            reply(200).json(r#"{"status":"completed"}"#),
        ],
    );
    let (_, outcome) = run(start("POST", &server.url(COPY), "{}")).await;
    assert!(outcome.is_ok());
    assert_eq!(server.requests_to("/monitor/old").len(), 1);
    assert_eq!(server.requests_to("/monitor/new").len(), 2);
}

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
async fn retry_after_on_the_202_is_honoured_before_the_first_poll() {
    let server = Server::start().await;
    server.on(
        COPY,
        vec![
            reply(202)
                .header("location", "/monitor/r")
                .header("retry-after", "3"),
        ],
    );
    server.on(
        "/monitor/r",
        vec![
            reply(202)
                .header("retry-after", "2")
                .json(r#"{"status":"inProgress"}"#),
            reply(200).json(r#"{"status":"completed"}"#),
        ],
    );
    // Virtual time: the sleeps are recorded, nothing waits. (No deadline, so
    // no deadline race runs beside the real requests.)
    let timer = VirtualTimer::new();
    let builder = start("POST", &server.url(COPY), "{}")
        .with_timer(timer.clone())
        .with_policy(fast().without_deadline());
    run(builder).await.1.unwrap();
    assert_eq!(
        timer.sleeps(),
        [Duration::from_secs(3), Duration::from_secs(2)]
    );
}

#[tokio::test]
async fn credentials_never_follow_a_monitor_to_another_origin() {
    let api = Server::start().await;
    let monitors = Server::start().await;
    api.on(
        "/v1/jobs",
        vec![reply(202).header("operation-location", &monitors.url("/ops/1"))],
    );
    monitors.on(
        "/ops/1",
        vec![
            reply(200).json(r#"{"status":"Running"}"#),
            reply(200).json(r#"{"status":"Succeeded"}"#),
        ],
    );
    let (_, outcome) = run(start("POST", &api.url("/v1/jobs"), "{}")).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(
        auth(&api.requests_to("/v1/jobs")[0]).as_deref(),
        Some(TOKEN)
    );
    let polls = monitors.requests_to("/ops/1");
    assert_eq!(polls.len(), 2);
    assert!(
        polls.iter().all(|p| auth(p).is_none()),
        "token leaked to another origin"
    );
}

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
async fn every_request_is_marked_with_its_kind() {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<lro_poller::RequestMeta>>>);
    #[async_trait::async_trait]
    impl lro_poller::Transport for Recorder {
        async fn send(
            &self,
            request: http::Request<bytes::Bytes>,
        ) -> Result<http::Response<bytes::Bytes>, lro_poller::TransportError> {
            if let Some(meta) = request.extensions().get::<lro_poller::RequestMeta>() {
                self.0.lock().unwrap().push(*meta);
            }
            crate::transport().send(request).await
        }
    }
    let server = Server::start().await;
    server.on(
        "/things/1",
        vec![
            reply(201)
                .header("azure-asyncoperation", "/ops/9")
                .json(r#"{"properties":{"provisioningState":"Creating"}}"#),
            reply(200).json(r#"{"id":"/things/1","properties":{"provisioningState":"Succeeded"}}"#),
        ],
    );
    server.on("/ops/9", vec![reply(200).json(r#"{"status":"Succeeded"}"#)]);
    let recorder = Recorder::default();
    let builder = Operation::start(
        recorder.clone(),
        request("PUT", &server.url("/things/1"), "{}"),
    )
    .with_policy(fast());
    let outcome = run(builder).await.1.unwrap();
    assert_eq!(outcome.resource_id(), None);
    let body: serde_json::Value = outcome.json().unwrap();
    assert_eq!(body["id"], "/things/1");
    let kinds: Vec<_> = recorder.0.lock().unwrap().iter().map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        [RequestKind::Start, RequestKind::Poll, RequestKind::Result]
    );
    assert!(recorder.0.lock().unwrap().iter().all(|m| m.same_origin));
}
