//! A backoff's running state in the token: the built-in ones keep theirs and
//! refuse damaged state; a backoff of your own restarts unless it opts in.

use std::time::Duration;

use futures::StreamExt;
use futures::executor::block_on;
use lro_poller::policy::{
    Backoff, BackoffBuilder, ConstantBuilder, PollContext, PollPolicy, ProgressBuilder, Step,
    from_fn,
};
use lro_poller::testing::{ScriptedTransport, VirtualTimer};
use lro_poller::{AsyncJobStatus, JobState, Operation};
use serde_json::json;

use crate::clocked::{Clocked, wall};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// The context after poll `attempt`, `elapsed` in, that read `status`.
fn seen(attempt: u32, elapsed: Duration, status: &AsyncJobStatus) -> PollContext<'_> {
    let mut ctx = PollContext::new(attempt, elapsed);
    ctx.last_status = Some(status);
    ctx
}

/// 1 s, 2 s, 3 s, …: counts its own answers, and keeps nothing in a token.
#[derive(Debug, Clone)]
struct Slower;

#[derive(Debug)]
struct SlowerBackoff(u64);

impl BackoffBuilder for Slower {
    type Backoff = SlowerBackoff;
    fn build(&self) -> SlowerBackoff {
        SlowerBackoff(0)
    }
}

impl Backoff for SlowerBackoff {
    fn next(&mut self, _ctx: &PollContext<'_>) -> Step {
        self.0 += 1;
        Step::Wait(secs(10 * self.0))
    }
}

#[test]
fn a_backoff_of_your_own_restarts_on_resume_but_the_due_time_holds() {
    let running = r#"{"status":"inProgress"}"#;
    let script = ScriptedTransport::new()
        .with_json(202, running)
        .with_json(202, running)
        .with_json(202, running)
        .with_json(200, r#"{"status":"completed"}"#);
    let timer = VirtualTimer::with_wall_clock(wall());
    let transport = Clocked::new(script, timer.clone());
    let mut first = Operation::monitor(transport.clone(), "https://api.example/m")
        .with_policy(PollPolicy::new(Slower))
        .with_timer(timer)
        .build()
        .unwrap();
    block_on(first.next()).unwrap().unwrap(); // at 0 s; next due at 10 s
    block_on(first.next()).unwrap().unwrap(); // at 10 s; next due at 30 s
    let token = first.resume_token().unwrap();
    drop(first);

    let timer = VirtualTimer::with_wall_clock(wall() + secs(10));
    let resumed = Operation::resume(transport.on(timer.clone()), token)
        .with_policy(PollPolicy::new(Slower))
        .with_timer(timer)
        .build()
        .unwrap();
    block_on(resumed.outcome()).unwrap();
    let times: Vec<u64> = transport
        .sent()
        .iter()
        .map(|(at, _)| at.as_secs())
        .collect();
    // The due time (30 s) holds; then the fresh backoff waits 10 s, not 30 s.
    assert_eq!(times, [0, 10, 30, 40]);
}

#[test]
fn a_progress_backoff_refuses_damaged_or_oversized_state() {
    let config = ProgressBuilder::new()
        .with_slack(0.0)
        .with_window(3)
        .with_fallback(ConstantBuilder::new(secs(7)));
    let report = |p| AsyncJobStatus::new(JobState::InProgress).with_percentage(p);
    let mut backoff = config.build();
    let (ten, twenty) = (report(10.0), report(20.0));
    backoff.next(&seen(1, secs(5), &ten));
    let delay = backoff.next(&seen(2, secs(10), &twenty));
    assert_eq!(delay.delay(), Some(secs(40)), "done at 50 s");
    let saved = backoff
        .save_state()
        .expect("a built-in backoff keeps its state");

    // Taken up, it predicts the same from where it stopped.
    let mut resumed = config.build();
    assert!(resumed.restore_state(&saved));
    let thirty = report(30.0);
    let mut fresh_run = backoff;
    assert_eq!(
        resumed.next(&seen(3, secs(15), &thirty)),
        fresh_run.next(&seen(3, secs(15), &thirty)),
    );

    // More reports than the window, or values no report could have: refused,
    // and the backoff stays fresh (one report is not a trend: the fallback).
    let sample = |t: f64, p: f64| json!({"t": t, "p": p});
    for samples in [
        json!([
            sample(1.0, 1.0),
            sample(2.0, 2.0),
            sample(3.0, 3.0),
            sample(4.0, 4.0)
        ]),
        json!([sample(1.0, 150.0)]),
        json!([sample(-1.0, 5.0)]),
        json!("garbage"),
    ] {
        let mut backoff = config.build();
        assert!(
            !backoff.restore_state(&json!({ "samples": samples })),
            "{samples}"
        );
        let step = backoff.next(&seen(1, secs(5), &ten));
        assert_eq!(step.delay(), Some(secs(7)));
    }
}

#[test]
fn an_iterator_of_delays_skips_what_it_took_but_not_without_bound() {
    let config = from_fn(|| (1..).map(secs));
    let ctx = PollContext::new(1, Duration::ZERO);
    let mut backoff = config.build();
    backoff.next(&ctx);
    backoff.next(&ctx);
    let mut resumed = config.build();
    assert!(resumed.restore_state(&backoff.save_state().unwrap()));
    assert_eq!(resumed.next(&ctx).delay(), Some(secs(3)));
    // A forged count is refused rather than skipped for minutes.
    let mut forged = config.build();
    assert!(!forged.restore_state(&json!(u32::MAX)));
    assert_eq!(forged.next(&ctx).delay(), Some(secs(1)));
}
