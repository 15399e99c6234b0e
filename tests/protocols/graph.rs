//! OneDrive / Microsoft Graph (`asyncJobStatus`): progress, terminal statuses
//! and credentials.

use lro_poller::JobState;

use crate::support::{Server, TOKEN, auth, reply, run, start, states};

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
