//! The service's `Retry-After` paces the polls, and absurd or garbled values
//! are safe.

use std::time::Duration;

use lro_poller::testing::VirtualTimer;

use crate::support::{Server, fast, reply, run, start};

const COPY: &str = "/v1.0/drive/items/01FOLDER/copy";

const MONITOR: &str = "/monitor/1";

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
async fn absurd_and_garbage_retry_after_values_are_safe() {
    let server = Server::start().await;
    server.on(
        "/start",
        vec![
            reply(202)
                .header("location", "/monitor/1")
                .header("retry-after", "-1"),
        ],
    );
    server.on(
        MONITOR,
        vec![
            reply(202)
                .header("retry-after", "soon")
                .json(r#"{"status":"inProgress"}"#),
            reply(202)
                .header("retry-after", "Thu, 01 Jan 1970 00:00:00 GMT")
                .json(r#"{"status":"inProgress"}"#),
            reply(200).json(r#"{"status":"completed"}"#),
        ],
    );
    let (_, outcome) = run(start("POST", &server.url("/start"), "{}")).await;
    assert!(outcome.is_ok(), "{outcome:?}");

    // 9999999999 seconds is capped by the policy.
    let capped = Server::start().await;
    capped.on(
        "/start",
        vec![
            reply(202)
                .header("location", "/monitor/1")
                .header("retry-after", "9999999999"),
        ],
    );
    capped.on(MONITOR, vec![reply(200).json(r#"{"status":"completed"}"#)]);
    let timer = lro_poller::testing::VirtualTimer::new();
    let builder = start("POST", &capped.url("/start"), "{}")
        .with_timer(timer.clone())
        .with_policy(
            fast()
                .without_deadline()
                .with_retry_after_cap(Duration::from_secs(90)),
        );
    run(builder).await.1.unwrap();
    assert_eq!(timer.sleeps(), [Duration::from_secs(90)]);
}
