//! The failure rule every request the operation sends follows — the start
//! (when it is safe to repeat), each poll, the result fetch and each cancel
//! request: which failures are transient (an I/O error, a reset, a cut
//! body, and the statuses the [`ErrorPolicy`] names: `408`, `429`, `5xx` by
//! default), how many in a row are retried (the error policy's bound), how
//! long to wait before each retry (the polling policy's backoff by attempt,
//! the answer's `Retry-After`, the floor, the deadline), and the notice of
//! each retry ([`RetryNotice`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::error::{Error, GaveUp, GaveUpCause, RequestError};
use crate::policy::{Decision, ErrorPolicy, FailureClass, PollPolicy, RetryAfterMode};
use crate::resume::ResumeToken;
use crate::timer::Sleep;
use crate::transport::{RequestKind, Transport, TransportError};

use super::clock::Clock;
use super::flight::cutoff;
use super::schedule::Schedule;

/// What the transport gave for one request.
pub(super) type Answer = Result<http::Response<Bytes>, TransportError>;

/// A request that failed and is to be sent again: which, when, and why.
///
/// Given to the callback set with
/// [`OperationBuilder::on_retry`](crate::OperationBuilder::on_retry) before
/// the wait, for every request the operation sends.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RetryNotice {
    /// Which request is sent again.
    pub request: RequestKind,
    /// The attempt to be sent next (2 for the first retry).
    pub attempt: u32,
    /// The wait before it.
    pub delay: Duration,
    /// Why the previous attempt failed.
    pub error: Error,
}

/// The caller's callback for each retry.
pub(super) type RetryHook = Arc<dyn Fn(&RetryNotice) + Send + Sync>;

/// The answer's `Retry-After`, as the polling policy reads it.
pub(super) fn retry_after(
    policy: &PollPolicy,
    clock: &Clock,
    response: &http::Response<Bytes>,
) -> Option<Duration> {
    match policy.retry_after_mode() {
        RetryAfterMode::Ignore => None,
        _ => crate::policy::parse_retry_after_with(response.headers(), || clock.wall_clock()),
    }
}

/// Whether `answer` failed, and how: `None` for an answer to read (below
/// `400`); else its class and its `Retry-After`.
pub(super) fn failure_of(
    errors: &ErrorPolicy,
    policy: &PollPolicy,
    clock: &Clock,
    answer: &Answer,
) -> Option<(FailureClass, Option<Duration>)> {
    match answer {
        Err(source) => Some((errors.classify_transport(source), None)),
        Ok(response) if response.status().as_u16() >= 400 => Some((
            errors.classify_status(response.status()),
            retry_after(policy, clock, response),
        )),
        Ok(_) => None,
    }
}

/// The error of a request of `kind` to `url` (redacted) that failed with
/// `answer`, after `attempts` attempts.
pub(super) fn request_error(
    kind: RequestKind,
    url: String,
    answer: Answer,
    attempts: u32,
) -> Error {
    let error = match answer {
        Err(source) => RequestError::transport(kind, url, source),
        Ok(response) => RequestError::answer(kind, url, response.status(), response.body()),
    };
    Error::Request(Box::new(error.with_attempts(attempts)))
}

/// The error of a limit the policy reached while retrying.
pub(super) fn limit_error(
    decision: &Decision,
    polls: u32,
    elapsed: Duration,
    token: Option<ResumeToken>,
) -> Error {
    let cause = match decision {
        Decision::PollLimitExceeded => GaveUpCause::PollLimit,
        Decision::Stopped(reason) => GaveUpCause::BackoffStopped(reason.clone()),
        _ => GaveUpCause::Deadline,
    };
    Error::GaveUp(Box::new(GaveUp::new(cause, polls, elapsed, token)))
}

/// The rule, for a request sent outside the state machine (the result
/// fetch, a cancel request): its own running policy, the operation's clock
/// and callback, and what its errors carry.
pub(super) struct Retrier {
    kind: RequestKind,
    schedule: Schedule,
    clock: Clock,
    hook: Option<RetryHook>,
    token: Option<ResumeToken>,
}

impl Retrier {
    /// The rule for requests of `kind`, with `schedule` (a fresh running
    /// policy) on `clock`; errors that end the wait carry `token`.
    pub(super) fn new(
        kind: RequestKind,
        schedule: Schedule,
        clock: Clock,
        hook: Option<RetryHook>,
        token: Option<ResumeToken>,
    ) -> Self {
        Retrier {
            kind,
            schedule,
            clock,
            hook,
            token,
        }
    }

    /// The token the errors carry.
    pub(super) fn token(&self) -> Option<&ResumeToken> {
        self.token.as_ref()
    }

    /// Sends `request` (a clone each time) until it is answered without a
    /// transient failure or the rule stops: the last answer and the attempts
    /// made, or the error of the deadline (or a policy limit) reached first.
    // Not an `async fn`: the future must be `Send`, which an `async fn` in
    // a crate-private impl does not promise at its signature.
    #[allow(clippy::manual_async_fn)]
    pub(super) fn send(
        &mut self,
        transport: Arc<dyn Transport>,
        request: http::Request<Bytes>,
        url: String,
    ) -> impl Future<Output = Result<(Answer, u32), Error>> + Send + '_ {
        async move {
            let mut attempts = 0u32;
            loop {
                attempts = attempts.saturating_add(1);
                let elapsed = self.clock.elapsed();
                let timeout = cutoff(self.schedule.policy().deadline(), elapsed)
                    .map(|cutoff| self.clock.timeout(cutoff));
                let Some(answer) = race(transport.send(request.clone()), timeout).await else {
                    let polls = self.schedule.polls();
                    let elapsed = self.clock.elapsed();
                    let decision = Decision::DeadlineExceeded;
                    return Err(limit_error(&decision, polls, elapsed, self.token.clone()));
                };
                let policy = self.schedule.policy();
                let errors = self.schedule.errors();
                let Some((class, retry_after)) = failure_of(errors, policy, &self.clock, &answer)
                else {
                    return Ok((answer, attempts));
                };
                if class == FailureClass::Permanent || !errors.may_retry(attempts) {
                    return Ok((answer, attempts));
                }
                let elapsed = self.clock.elapsed();
                let delay = match self.schedule.retry(elapsed, retry_after, attempts) {
                    Decision::PollAfter(delay) => delay,
                    decision => {
                        let polls = self.schedule.polls();
                        return Err(limit_error(&decision, polls, elapsed, self.token.clone()));
                    }
                };
                if let Some(hook) = &self.hook {
                    hook(&RetryNotice {
                        request: self.kind,
                        attempt: attempts.saturating_add(1),
                        delay,
                        error: request_error(self.kind, url.clone(), answer, attempts),
                    });
                }
                self.schedule.slept(delay, elapsed);
                self.clock.sleep(delay).await;
            }
        }
    }
}

/// `send`'s answer, or `None` when `timeout` comes first.
async fn race(send: impl Future<Output = Answer>, timeout: Option<Sleep>) -> Option<Answer> {
    let Some(timeout) = timeout else {
        return Some(send.await);
    };
    let send = std::pin::pin!(send);
    match futures::future::select(send, timeout).await {
        futures::future::Either::Left((answer, _)) => Some(answer),
        futures::future::Either::Right(_) => None,
    }
}

#[cfg(test)]
mod tests {
    //! The rule seen from outside: what a failed request's `Retry-After`
    //! does, and how retries that cannot go on end.

    use std::time::Duration;

    use futures::StreamExt;
    use futures::executor::block_on;

    use crate::error::{Error, GaveUpCause};
    use crate::operation::Operation;
    use crate::policy::{ConstantBuilder, PollPolicy};
    use crate::testing::{ScriptedTransport, VirtualTimer};

    const MONITOR: &str = "https://api.example/monitor/1?tempauth=secret";

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn operation(
        transport: &ScriptedTransport,
        timer: &VirtualTimer,
        policy: PollPolicy,
    ) -> Operation {
        Operation::monitor(transport.clone(), MONITOR)
            .with_timer(timer.clone())
            .with_policy(policy)
            .build()
            .unwrap()
    }

    #[test]
    fn an_ignored_retry_after_on_a_failed_read_leaves_the_backoff_alone() {
        let answers = |transport: &ScriptedTransport| {
            transport.push_response(503, &[("retry-after", "30")], "");
            transport.push_response(200, &[], r#"{"status":"completed"}"#);
        };
        let transport = ScriptedTransport::new();
        answers(&transport);
        let timer = VirtualTimer::new();
        let policy = PollPolicy::new(ConstantBuilder::new(secs(2)))
            .with_retry_after(crate::policy::RetryAfterMode::Ignore);
        block_on(operation(&transport, &timer, policy).outcome()).unwrap();
        assert_eq!(timer.sleeps(), [secs(2)], "Retry-After ignored");
        // The same answers with the default mode wait what the server said.
        let transport = ScriptedTransport::new();
        answers(&transport);
        let timer = VirtualTimer::new();
        let policy = PollPolicy::new(ConstantBuilder::new(secs(2)));
        block_on(operation(&transport, &timer, policy).outcome()).unwrap();
        assert_eq!(timer.sleeps(), [secs(30)], "Retry-After honoured");
    }

    /// A backoff that records the `Retry-After` each context shows it.
    #[derive(Debug, Clone, Default)]
    struct Seen(std::sync::Arc<std::sync::Mutex<Vec<Option<Duration>>>>);

    impl crate::policy::BackoffBuilder for Seen {
        type Backoff = Seen;
        fn build(&self) -> Seen {
            self.clone()
        }
    }

    impl crate::policy::Backoff for Seen {
        fn next(&mut self, ctx: &crate::policy::PollContext<'_>) -> crate::policy::Step {
            self.0.lock().unwrap().push(ctx.retry_after);
            crate::policy::Step::Wait(secs(2))
        }
    }

    #[test]
    fn a_backoff_sees_the_retry_after_only_when_the_policy_reads_it() {
        for (mode, expected) in [
            (crate::policy::RetryAfterMode::Ignore, None),
            (crate::policy::RetryAfterMode::Floor, Some(secs(30))),
        ] {
            let transport = ScriptedTransport::new();
            transport.push_response(503, &[("retry-after", "30")], "");
            transport.push_response(200, &[], r#"{"status":"completed"}"#);
            let seen = Seen::default();
            let policy = PollPolicy::new(seen.clone()).with_retry_after(mode);
            block_on(operation(&transport, &VirtualTimer::new(), policy).outcome()).unwrap();
            assert_eq!(*seen.0.lock().unwrap(), [expected], "{mode:?}");
        }
    }

    #[test]
    fn a_result_fetch_whose_backoff_stops_gives_up_with_a_token_to_fetch_it() {
        let transport = ScriptedTransport::new();
        transport.push_response(
            303,
            &[("location", "https://api.example/items/01NEW")],
            r#"{"status":"completed","resourceId":"01NEW"}"#,
        );
        transport.push_response(503, &[], "");
        transport.push_response(503, &[], "");
        // One delay, then the backoff stops.
        let policy = PollPolicy::new(crate::policy::from_fn(|| std::iter::once(secs(3))));
        let mut op = Operation::monitor(transport.clone(), MONITOR)
            .with_protocol(crate::protocol::Graph::new().with_item_fetch())
            .with_timer(VirtualTimer::new())
            .with_policy(policy)
            .build()
            .unwrap();
        let error = block_on(async {
            while op.next().await.is_some() {}
            op.outcome().await
        })
        .unwrap_err();
        let Error::GaveUp(gave_up) = &error else {
            panic!("{error:?}");
        };
        assert!(
            matches!(gave_up.cause(), GaveUpCause::BackoffStopped(_)),
            "{error:?}"
        );
        let token = error
            .resume_token()
            .expect("a token to fetch the result later");
        assert_eq!(
            token.result_url().unwrap().map(String::from).as_deref(),
            Some("https://api.example/items/01NEW")
        );
        assert_eq!(
            transport.requests().len(),
            3,
            "one poll, two result fetches"
        );
    }
}
