//! After each status the operation says when its next poll is due, the same
//! time its token records.

use std::time::Duration;

use futures::StreamExt;
use futures::executor::block_on;
use lro_poller::Operation;
use lro_poller::policy::{ConstantBuilder, PollPolicy};
use lro_poller::testing::{ScriptedTransport, VirtualTimer};

use crate::clocked::wall;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn the_due_time_follows_the_policy_and_the_servers_retry_after() {
    let script = ScriptedTransport::new();
    script.push_response(202, &[("retry-after", "10")], r#"{"status":"inProgress"}"#);
    script.push_response(202, &[], r#"{"status":"inProgress"}"#);
    script.push_response(200, &[], r#"{"status":"completed"}"#);
    let timer = VirtualTimer::with_wall_clock(wall());
    let mut operation = Operation::monitor(script, "https://api.example/monitor/1")
        .with_policy(PollPolicy::new(ConstantBuilder::new(secs(2))))
        .with_timer(timer.clone())
        .build()
        .unwrap();
    assert_eq!(operation.next_poll_at(), None, "nothing decided yet");
    block_on(operation.next()).unwrap().unwrap();
    // The server asked for 10 s: a floor under the policy's 2 s.
    assert_eq!(operation.next_poll_at(), Some(wall() + secs(10)));
    let token = operation.resume_token().unwrap();
    assert_eq!(token.next_poll_at(), operation.next_poll_at());

    block_on(operation.next()).unwrap().unwrap();
    assert_eq!(timer.elapsed(), secs(10));
    assert_eq!(operation.next_poll_at(), Some(wall() + secs(12)));
    block_on(operation.next()).unwrap().unwrap();
    assert_eq!(operation.next_poll_at(), None, "the job is over");
    assert_eq!(operation.resume_token().unwrap().next_poll_at(), None);
}
