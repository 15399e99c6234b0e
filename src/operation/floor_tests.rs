//! The floor under every delay: whatever the backoff or the server says, two
//! requests to a monitor are at least the policy's minimum interval apart.

use std::time::Duration;

use bytes::Bytes;

use super::core::Operation;
use crate::error::{Error, GaveUpCause};
use crate::policy::{ConstantBuilder, DEFAULT_MIN_INTERVAL, from_delays};
use crate::policy::{PollPolicy, RetryAfterMode};
use crate::testing::{ScriptedTransport, VirtualTimer};
use futures::StreamExt;
use futures::executor::block_on;

const START: &str = "https://api.example/drive/items/1/copy";
const MONITOR: &str = "https://api.example/monitor/1";

/// `Retry-After` values that ask for no wait at all: zero, a date in the past
/// (with and without a `Date` header), and garbage.
const HINTS: [&[(&str, &str)]; 5] = [
    &[("retry-after", "0")],
    &[("retry-after-ms", "0")],
    &[("retry-after", "Sat, 05 Nov 1994 08:49:37 GMT")],
    &[
        ("retry-after", "Sun, 06 Nov 1994 08:49:30 GMT"),
        ("date", "Sun, 06 Nov 1994 08:49:37 GMT"),
    ],
    &[("retry-after", "soon, promise")],
];

/// A job started with `hint` on the start answer and on three in-progress
/// answers, then completed; polled with a zero backoff under `policy`.
/// Returns the sleeps and the number of requests.
fn run(hint: &[(&str, &str)], policy: PollPolicy) -> (Vec<Duration>, usize) {
    let transport = ScriptedTransport::new();
    let mut start = hint.to_vec();
    start.push(("location", MONITOR));
    transport.push_response(202, &start, "");
    let mut running = hint.to_vec();
    running.push(("content-type", "application/json"));
    for _ in 0..3 {
        transport.push_response(202, &running, r#"{"status":"inProgress"}"#);
    }
    transport.push_response(200, &running, r#"{"status":"completed"}"#);
    let timer = VirtualTimer::new();
    let request = http::Request::post(START).body(Bytes::new()).unwrap();
    let mut operation = Operation::start(transport.clone(), request)
        .with_timer(timer.clone())
        .with_policy(policy)
        .build()
        .unwrap();
    let ended = block_on(operation.by_ref().collect::<Vec<_>>());
    assert!(ended.iter().all(Result::is_ok), "{ended:?}");
    assert_eq!(
        operation.last_status().map(|s| s.status.clone()),
        Some(crate::JobState::Completed)
    );
    (timer.sleeps(), transport.requests().len())
}

#[test]
fn a_zero_backoff_and_a_zero_retry_after_wait_the_floor_in_both_modes() {
    for mode in [RetryAfterMode::Floor, RetryAfterMode::Replace] {
        for hint in HINTS {
            let policy =
                PollPolicy::new(ConstantBuilder::new(Duration::ZERO)).with_retry_after(mode);
            let (sleeps, requests) = run(hint, policy);
            // The start, then four polls: each after a sleep of the floor.
            assert_eq!(requests, 5, "{mode:?} {hint:?}");
            assert_eq!(sleeps, [DEFAULT_MIN_INTERVAL; 4], "{mode:?} {hint:?}");
        }
    }
}

#[test]
fn without_the_floor_the_same_script_does_not_wait() {
    // What the floor prevents: the same answers, the floor lowered to zero.
    for mode in [RetryAfterMode::Floor, RetryAfterMode::Replace] {
        for hint in HINTS {
            let policy = PollPolicy::new(ConstantBuilder::new(Duration::ZERO))
                .with_retry_after(mode)
                .with_min_interval(Duration::ZERO);
            let (sleeps, requests) = run(hint, policy);
            assert_eq!(requests, 5);
            assert!(sleeps.iter().all(Duration::is_zero), "{sleeps:?}");
        }
    }
}

#[test]
fn the_floor_can_be_raised_and_stands_under_longer_hints_untouched() {
    let floor = Duration::from_secs(5);
    let policy = PollPolicy::new(ConstantBuilder::new(Duration::ZERO))
        .with_retry_after(RetryAfterMode::Replace)
        .with_min_interval(floor);
    let (sleeps, _) = run(&[("retry-after", "0")], policy.clone());
    assert_eq!(sleeps, [floor; 4]);
    let (sleeps, _) = run(&[("retry-after", "7")], policy);
    assert_eq!(sleeps, [Duration::from_secs(7); 4]);
}

#[test]
fn an_iterator_of_zero_delays_is_floored_too() {
    let zeros = from_delays(std::iter::repeat_n(Duration::ZERO, 100));
    let (sleeps, _) = run(&[], PollPolicy::new(zeros));
    assert_eq!(sleeps, [DEFAULT_MIN_INTERVAL; 4]);
}

/// A monitor that never ends, polled with a deadline at 20.5 s.
fn never_ending(policy: PollPolicy) -> (Vec<Duration>, Error) {
    let transport = ScriptedTransport::new();
    for _ in 0..10 {
        transport.push_response(
            202,
            &[("content-type", "application/json")],
            r#"{"status":"inProgress"}"#,
        );
    }
    let timer = VirtualTimer::new();
    let operation = Operation::monitor(transport, MONITOR)
        .with_timer(timer.clone())
        .with_policy(policy.with_deadline(Duration::from_millis(20_500)))
        .build()
        .unwrap();
    let error = block_on(operation.outcome()).unwrap_err();
    (timer.sleeps(), error)
}

#[test]
fn the_last_poll_at_the_deadline_respects_the_floor() {
    let ten = Duration::from_secs(10);
    // 0.5 s left after the poll at 20 s: no room for a poll the floor allows.
    let (sleeps, error) = never_ending(PollPolicy::new(ConstantBuilder::new(ten)));
    assert_eq!(sleeps, [ten, ten]);
    assert!(
        matches!(&error, Error::GaveUp(g) if *g.cause() == GaveUpCause::Deadline && g.polls() == 3),
        "{error:?}"
    );
    // Without the floor, the last poll comes at the deadline, 0.5 s later.
    let (sleeps, error) =
        never_ending(PollPolicy::new(ConstantBuilder::new(ten)).with_min_interval(Duration::ZERO));
    assert_eq!(sleeps, [ten, ten, Duration::from_millis(500)]);
    assert!(
        matches!(&error, Error::GaveUp(g) if *g.cause() == GaveUpCause::Deadline && g.polls() == 4),
        "{error:?}"
    );
}

#[test]
fn a_backoff_that_stops_ends_the_operation_with_its_reason() {
    let two = from_delays([Duration::from_secs(2); 2].into_iter());
    let (sleeps, error) = never_ending(PollPolicy::new(two));
    assert_eq!(sleeps, [Duration::from_secs(2); 2]);
    match error {
        Error::GaveUp(ref g) => {
            assert_eq!(
                *g.cause(),
                GaveUpCause::BackoffStopped("the backoff ran out of delays after 2".into())
            );
            assert_eq!(g.polls(), 3);
            assert!(error.resume_token().is_some(), "a token to go on later");
        }
        other => panic!("{other:?}"),
    }
}
