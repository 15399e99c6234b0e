//! An operation resumed from its token against the loopback server goes on
//! where it stopped, deadline included.

use std::time::Duration;

use futures::StreamExt;
use lro_poller::policy::{ConstantBuilder, PollPolicy};
use lro_poller::{Error, GaveUpCause, Operation, ResumeToken};

use crate::support::{Server, fast, reply, run, start, transport};

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
async fn a_dropped_operation_resumes_from_its_token() {
    let server = Server::start().await;
    graph_job(&server);
    let mut operation = start("POST", &server.url("/copy"), "{}").build().unwrap();
    assert!(
        operation.resume_token().is_none(),
        "no token before the start is answered"
    );
    let first = operation.next().await.unwrap().unwrap();
    assert_eq!(first.percentage_complete, Some(10.0));
    let text = operation.resume_token().unwrap().to_string();
    drop(operation);
    assert_eq!(server.requests_to("/monitor/9").len(), 1);

    let token: ResumeToken = text.parse().unwrap();
    assert!(!format!("{token:?}").contains("SECRET"));
    let resumed = Operation::resume(transport(), token).with_policy(fast());
    let (items, outcome) = run(resumed).await;
    assert_eq!(items.len(), 2);
    let outcome = outcome.unwrap();
    assert_eq!(outcome.resource_id(), Some("01DONE"));
    assert_eq!(outcome.polls(), 3, "the poll count goes on from the token");
    let polls = server.requests_to("/monitor/9");
    assert_eq!(polls.len(), 3);
    assert!(
        polls
            .iter()
            .all(|p| p.query.as_deref() == Some("tempauth=SECRET"))
    );
    assert_eq!(
        server.requests_to("/copy").len(),
        1,
        "resuming does not start again"
    );
}

#[tokio::test]
async fn a_deadline_keeps_counting_across_a_resume() {
    let server = Server::start().await;
    server.on(
        "/copy",
        vec![reply(202).header("location", "/monitor/slow")],
    );
    server.on(
        "/monitor/slow",
        vec![reply(202).json(r#"{"status":"inProgress"}"#)],
    );
    let policy = || {
        PollPolicy::new(ConstantBuilder::new(Duration::from_millis(20)))
            .with_min_interval(Duration::ZERO)
            .with_deadline(Duration::from_millis(400))
    };
    let mut operation = start("POST", &server.url("/copy"), "{}")
        .with_policy(policy())
        .build()
        .unwrap();
    operation.next().await.unwrap().unwrap();
    let token = operation.resume_token().unwrap();
    drop(operation);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let before = server.requests_to("/monitor/slow").len();
    let (_, outcome) = run(Operation::resume(transport(), token).with_policy(policy())).await;
    match outcome.unwrap_err() {
        Error::GaveUp(g) if *g.cause() == GaveUpCause::Deadline => {
            assert!(g.elapsed() >= Duration::from_millis(600))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        server.requests_to("/monitor/slow").len(),
        before,
        "no poll past the deadline"
    );
}

#[tokio::test]
async fn an_operation_ended_by_its_deadline_carries_a_token_to_go_on() {
    let server = Server::start().await;
    server.on("/copy", vec![reply(202).header("location", "/monitor/d")]);
    server.on(
        "/monitor/d",
        vec![
            reply(202).json(r#"{"status":"inProgress"}"#),
            reply(202).json(r#"{"status":"inProgress"}"#),
            reply(200).json(r#"{"status":"completed","resourceId":"01LATE"}"#),
        ],
    );
    let policy = PollPolicy::new(ConstantBuilder::new(Duration::from_millis(50)))
        .with_min_interval(Duration::ZERO)
        .with_max_polls(1);
    let (_, outcome) = run(start("POST", &server.url("/copy"), "{}").with_policy(policy)).await;
    let error = outcome.unwrap_err();
    let token = error.resume_token().expect("a token to try again").clone();
    let outcome = run(Operation::resume(transport(), token).with_policy(fast()))
        .await
        .1;
    assert_eq!(outcome.unwrap().resource_id(), Some("01LATE"));
}
