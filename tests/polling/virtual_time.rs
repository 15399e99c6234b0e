//! Virtual time with a real server: a request in flight takes no virtual
//! time, so a deadline never expires while a slow answer is on its way, and
//! the policy's sleeps still take no real time.

use std::time::{Duration, Instant};

use lro_poller::policy::{ConstantBuilder, PollPolicy};
use lro_poller::testing::VirtualTimer;
use lro_poller::{Error, GaveUpCause};

use crate::support::{Server, reply, run, start};

fn slow_job(server: &Server, answer_after: Duration) {
    server.on("/copy", vec![reply(202).header("location", "/m")]);
    server.on(
        "/m",
        vec![
            reply(202)
                .delay(answer_after)
                .json(r#"{"status":"inProgress"}"#),
            reply(200)
                .delay(answer_after)
                .json(r#"{"status":"completed"}"#),
        ],
    );
}

#[tokio::test]
async fn a_slow_answer_does_not_expire_a_virtual_deadline() {
    let server = Server::start().await;
    slow_job(&server, Duration::from_millis(200));
    let timer = VirtualTimer::new();
    let policy = PollPolicy::new(ConstantBuilder::new(Duration::from_secs(600)))
        .with_deadline(Duration::from_secs(3600));
    let began = Instant::now();
    let builder = start("POST", &server.url("/copy"), "{}")
        .with_timer(timer.clone())
        .with_policy(policy);
    let (_, outcome) = run(builder).await;
    let outcome = outcome.unwrap();
    assert_eq!(outcome.polls(), 2);
    // The floor before the first poll, then the policy's 10 minutes: all
    // virtual, while the real time is the answers' own.
    assert_eq!(
        timer.sleeps(),
        [Duration::from_secs(1), Duration::from_secs(600)]
    );
    assert_eq!(outcome.elapsed(), Duration::from_secs(601));
    assert!(began.elapsed() < Duration::from_secs(60));
}

#[tokio::test]
async fn moving_the_clock_past_the_deadline_cuts_the_request_in_flight() {
    let server = Server::start().await;
    slow_job(&server, Duration::from_secs(30));
    let timer = VirtualTimer::new();
    let policy = PollPolicy::new(ConstantBuilder::new(Duration::from_secs(1)))
        .with_deadline(Duration::from_secs(3600));
    let builder = start("POST", &server.url("/copy"), "{}")
        .with_timer(timer.clone())
        .with_policy(policy);
    let clock = timer.clone();
    let mover = tokio::spawn(async move {
        // Once the first poll is out (after the 1 s floor), jump an hour.
        while clock.sleeps().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        clock.advance(Duration::from_secs(3600));
    });
    let began = Instant::now();
    let (_, outcome) = run(builder).await;
    mover.await.unwrap();
    match outcome.unwrap_err() {
        Error::GaveUp(g) if *g.cause() == GaveUpCause::Deadline => {
            let (polls, elapsed) = (g.polls(), g.elapsed());
            assert_eq!(polls, 1);
            assert!(elapsed >= Duration::from_secs(3600), "{elapsed:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(began.elapsed() < Duration::from_secs(20), "not cut at once");
}
