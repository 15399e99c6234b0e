//! The deadline ends the operation: a job that never ends, a hanging poll, a
//! slow start and a slow result fetch are all cut at it.

use std::time::Duration;

use lro_poller::policy::{ConstantBuilder, PollPolicy};
use lro_poller::{Error, GaveUpCause};

use crate::support::{MONITOR, Server, monitor_start, reply, run, start};

#[tokio::test]
async fn a_job_that_never_ends_meets_the_deadline() {
    let server = Server::start().await;
    monitor_start(&server);
    server.on(MONITOR, vec![reply(202).json(r#"{"status":"inProgress"}"#)]);
    let policy = PollPolicy::new(ConstantBuilder::new(Duration::from_millis(40)))
        .with_min_interval(Duration::ZERO)
        .with_deadline(Duration::from_millis(300));
    let builder = start("POST", &server.url("/start"), "{}").with_policy(policy);
    let (items, outcome) = run(builder).await;
    match outcome.unwrap_err() {
        Error::GaveUp(g) if *g.cause() == GaveUpCause::Deadline => {
            let (elapsed, polls) = (g.elapsed(), g.polls());
            assert!(elapsed >= Duration::from_millis(300));
            assert_eq!(polls as usize, server.requests_to(MONITOR).len());
            assert_eq!(
                items.len() as u32,
                polls + 1,
                "each poll's status, then the error"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_hanging_poll_is_cut_at_the_deadline() {
    let server = Server::start().await;
    monitor_start(&server);
    server.on(
        MONITOR,
        vec![
            reply(200)
                .json(r#"{"status":"inProgress"}"#)
                .delay(Duration::from_secs(30)),
        ],
    );
    let policy = PollPolicy::new(ConstantBuilder::new(Duration::from_millis(10)))
        .with_min_interval(Duration::ZERO)
        .with_deadline(Duration::from_millis(200));
    let builder = start("POST", &server.url("/start"), "{}").with_policy(policy);
    let (_, outcome) = run(builder).await;
    match outcome.unwrap_err() {
        Error::GaveUp(g) if *g.cause() == GaveUpCause::Deadline => assert_eq!(g.polls(), 1),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_deadline_also_bounds_the_start_and_the_result_fetch() {
    let server = Server::start().await;
    server.on(
        "/start",
        vec![
            reply(202)
                .header("operation-location", "/ops/1")
                .delay(Duration::from_secs(30)),
        ],
    );
    let policy = || {
        PollPolicy::new(ConstantBuilder::new(Duration::from_millis(10)))
            .with_min_interval(Duration::ZERO)
            .with_deadline(Duration::from_millis(200))
    };
    let (items, outcome) =
        run(start("POST", &server.url("/start"), "{}").with_policy(policy())).await;
    assert_eq!(items.len(), 1);
    assert!(matches!(
        outcome.unwrap_err(),
        Error::GaveUp(g) if *g.cause() == GaveUpCause::Deadline && g.polls() == 0
    ));

    let slow_result = Server::start().await;
    slow_result.on(
        "/things/1",
        vec![
            reply(201).header("azure-asyncoperation", "/ops/1"),
            reply(200).json("{}").delay(Duration::from_secs(30)),
        ],
    );
    slow_result.on("/ops/1", vec![reply(200).json(r#"{"status":"Succeeded"}"#)]);
    let (items, outcome) =
        run(start("PUT", &slow_result.url("/things/1"), "{}").with_policy(policy())).await;
    assert!(items.last().unwrap().is_ok(), "the job itself succeeded");
    assert!(matches!(
        outcome.unwrap_err(),
        Error::GaveUp(g) if *g.cause() == GaveUpCause::Deadline && g.polls() == 1
    ));
}
