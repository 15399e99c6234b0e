//! A resumed operation waits until the token's due time: never sooner than
//! the floor after the last poll, never past the deadline.

use std::time::Duration;

use futures::StreamExt;
use futures::executor::block_on;
use lro_poller::policy::{ConstantBuilder, PollPolicy};
use lro_poller::testing::{ScriptedTransport, VirtualTimer};
use lro_poller::{Operation, ResumeToken};

use crate::clocked::{Clocked, wall};

const MONITOR: &str = "https://api.example/monitor/1";
const RUNNING: &str = r#"{"status":"inProgress"}"#;
const DONE: &str = r#"{"status":"completed"}"#;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn every(delay: Duration) -> PollPolicy {
    PollPolicy::new(ConstantBuilder::new(delay))
}

/// One status from a monitor polled every 30 s, then the token, 0 s into
/// the operation's wall clock.
fn token_after_one_poll() -> ResumeToken {
    let timer = VirtualTimer::with_wall_clock(wall());
    let script = ScriptedTransport::new().with_json(202, RUNNING);
    let mut operation = Operation::monitor(script, MONITOR)
        .with_policy(every(secs(30)))
        .with_timer(timer)
        .build()
        .unwrap();
    block_on(operation.next()).unwrap().unwrap();
    operation.resume_token().unwrap()
}

/// Resumes `token` `later` after the first poll with `policy`; returns the
/// requests' times.
fn resume(token: ResumeToken, later: Duration, policy: PollPolicy) -> Vec<Duration> {
    let timer = VirtualTimer::with_wall_clock(wall() + later);
    let transport = Clocked::new(ScriptedTransport::new().with_json(200, DONE), timer.clone());
    let operation = Operation::resume(transport.clone(), token)
        .with_policy(policy)
        .with_timer(timer)
        .build()
        .unwrap();
    let _ = block_on(operation.outcome());
    transport.sent().into_iter().map(|(at, _)| at).collect()
}

#[test]
fn a_token_says_when_the_next_poll_is_due_and_survives_its_text_form() {
    let token = token_after_one_poll();
    assert_eq!(token.next_poll_at(), Some(wall() + secs(30)));
    let again: ResumeToken = token.to_string().parse().unwrap();
    assert_eq!(again, token);
    assert_eq!(again.next_poll_at(), Some(wall() + secs(30)));
}

#[test]
fn a_resumed_operation_polls_when_the_token_says_not_at_once() {
    assert_eq!(
        resume(token_after_one_poll(), secs(0), every(secs(30))),
        [secs(30)]
    );
    assert_eq!(
        resume(token_after_one_poll(), secs(12), every(secs(30))),
        [secs(30)]
    );
    // Back late: the poll is overdue, it goes at once.
    assert_eq!(
        resume(token_after_one_poll(), secs(95), every(secs(30))),
        [secs(95)]
    );
}

#[test]
fn a_resumed_operation_never_polls_past_its_deadline() {
    let policy = every(secs(30)).with_deadline(secs(20));
    assert_eq!(resume(token_after_one_poll(), secs(5), policy), [secs(20)]);
}

#[test]
fn a_resumed_operation_never_polls_sooner_than_the_floor_after_the_last_poll() {
    // A token whose due time was moved before the last poll (by hand, or by
    // a clock that jumped) still waits the floor after that poll.
    let token = token_after_one_poll();
    let mut json = serde_json::to_value(&token).unwrap();
    json["due_ms"] = serde_json::json!(1_800_000_000_000u64 - 60_000);
    let early: ResumeToken = serde_json::from_value(json).unwrap();
    let policy = every(secs(30)).with_min_interval(secs(3));
    assert_eq!(resume(early, secs(1), policy), [secs(3)]);
}

#[test]
fn a_token_without_a_due_time_polls_after_the_initial_delay() {
    let token = token_after_one_poll();
    let mut json = serde_json::to_value(&token).unwrap();
    json.as_object_mut().unwrap().remove("due_ms");
    json.as_object_mut().unwrap().remove("schedule");
    let old: ResumeToken = serde_json::from_value(json).unwrap();
    assert_eq!(old.next_poll_at(), None);
    assert_eq!(resume(old, secs(4), every(secs(30))), [secs(4)]);
}

#[test]
fn a_resumed_operation_says_when_it_is_due_before_it_polls() {
    let token = token_after_one_poll();
    let resumed = Operation::resume(ScriptedTransport::new(), token.clone())
        .with_timer(VirtualTimer::with_wall_clock(wall() + secs(5)))
        .build()
        .unwrap();
    assert_eq!(resumed.next_poll_at(), token.next_poll_at());
    assert_eq!(resumed.next_poll_at(), Some(wall() + secs(30)));
}
