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
