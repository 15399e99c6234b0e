//! The state machine: poll a monitor until the job ends.
//!
//! An [`Operation`] is a [`Stream`] of status reports and, through
//! [`IntoFuture`], a future of the final [`Outcome`]. It is lazy: nothing is
//! sent until it is polled. Its states are *idle* (nothing sent yet),
//! *requesting* (a poll in flight), *sleeping* (waiting for the next poll) and
//! *done*. Each status is yielded the moment it is read; the sleep comes after.
//! After a terminal status the stream ends and no request is ever sent again.
//! Dropping the operation drops the request in flight and the sleep: polling
//! stops at once.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::Stream;
use url::Url;

use crate::error::{Error, HttpError, TransportError};
use crate::origin::{redact, same_origin};
use crate::policy::{Decision, ErrorPolicy, FailureClass, PollContext, PollPolicy, RetryAfterMode};
use crate::protocol::{Graph, Protocol, Reading, ResultSource};
use crate::status::AsyncJobStatus;
use crate::timer::{Sleep, Timer, default_timer};
use crate::transport::{RequestKind, RequestMeta, Transport};

const NO_OUTCOME: &str = "the operation ended without an outcome";

/// How long the poll sent exactly at the deadline may take before it is cut.
pub const LAST_POLL_GRACE: Duration = Duration::from_secs(10);

type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, TransportError>> + Send>>;

type BodyFuture = Pin<Box<dyn Future<Output = Result<Option<Bytes>, Error>> + Send>>;

/// The future of an operation's [`Outcome`] (what `.await` on an
/// [`Operation`] runs).
pub type OutcomeFuture = Pin<Box<dyn Future<Output = Result<Outcome, Error>> + Send>>;

/// A long-running operation being polled.
///
/// Build one with [`Operation::monitor`]. Use it as a [`Stream`] to see every
/// status as it arrives, or `.await` it for the [`Outcome`] — or both: drain
/// the stream, then call [`Operation::outcome`].
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use futures::StreamExt;
/// use lro_poller::{JobState, Operation};
/// use lro_poller::testing::{ScriptedTransport, VirtualTimer};
///
/// let transport = ScriptedTransport::new()
///     .with_json(202, r#"{"status":"inProgress","percentageComplete":27.8}"#)
///     .with_json(303, r#"{"status":"completed","resourceId":"01MOW"}"#);
/// let mut operation = Operation::monitor(transport, "https://api.example/monitor/1")
///     .with_timer(VirtualTimer::new())
///     .build()
///     .unwrap();
/// futures::executor::block_on(async {
///     while let Some(status) = operation.next().await {
///         println!("{:?}", status.unwrap().percentage_complete);
///     }
///     let outcome = operation.outcome().await.unwrap();
///     assert_eq!(outcome.resource_id(), Some("01MOW"));
/// });
/// # }
/// ```
pub struct Operation {
    transport: Arc<dyn Transport>,
    protocol: Box<dyn Protocol>,
    timer: Arc<dyn Timer>,
    policy: PollPolicy,
    errors: ErrorPolicy,
    /// The URL the operation started from, once the monitor has moved away
    /// from it (until then the monitor is the origin).
    origin: Option<Box<Url>>,
    monitor: Url,
    /// The marker of a poll of `monitor` (kept: it changes with the monitor).
    poll_meta: RequestMeta,
    started: Instant,
    polls: u32,
    failures: u32,
    previous_delay: Option<Duration>,
    initial_hint: Option<Duration>,
    last_status: Option<AsyncJobStatus>,
    state: State,
    end: Option<End>,
}

enum State {
    Idle,
    Requesting {
        response: ResponseFuture,
        cutoff: Option<Duration>,
        deadline: Option<Sleep>,
    },
    Sleeping(Sleep),
    Failing(Error),
    Done,
}

enum End {
    Succeeded(Box<Success>),
    Failed(Error),
}

/// The rest of a success; its status is the operation's `last_status`.
struct Success {
    location: Option<Url>,
    result: ResultSource,
}

/// Sets up an [`Operation`].
#[must_use = "call .build() to get the Operation"]
pub struct OperationBuilder {
    transport: Arc<dyn Transport>,
    monitor: Result<Url, Error>,
    policy: PollPolicy,
    errors: ErrorPolicy,
    timer: Option<Arc<dyn Timer>>,
    protocol: Box<dyn Protocol>,
}

impl fmt::Debug for OperationBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperationBuilder")
            .field("monitor", &self.monitor.as_ref().map(redact))
            .field("policy", &self.policy)
            .field("errors", &self.errors)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl OperationBuilder {
    /// The polling policy (default: [`PollPolicy::default`]).
    pub fn with_policy(mut self, policy: PollPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The error policy (default: [`ErrorPolicy::default`]).
    pub fn with_error_policy(mut self, errors: ErrorPolicy) -> Self {
        self.errors = errors;
        self
    }

    /// The timer. Required unless the `tokio` or `futures-timer` feature is on.
    pub fn with_timer(mut self, timer: impl Timer + 'static) -> Self {
        self.timer = Some(Arc::new(timer));
        self
    }

    /// The protocol (default: [`Graph`]).
    pub fn with_protocol(mut self, protocol: impl Protocol + 'static) -> Self {
        self.protocol = Box::new(protocol);
        self
    }

    /// Builds the operation. Its clock starts now; nothing is sent until it is
    /// polled.
    pub fn build(self) -> Result<Operation, Error> {
        let monitor = self.monitor?;
        let timer = self.timer.or_else(default_timer).ok_or_else(|| {
            Error::Config(
                "no timer: pass one with `with_timer`, or enable the `tokio` or `futures-timer` feature"
                    .into(),
            )
        })?;
        let poll_meta = RequestMeta::new(
            RequestKind::Poll,
            true,
            self.protocol.wants_credentials(RequestKind::Poll),
        );
        Ok(Operation {
            transport: self.transport,
            protocol: self.protocol,
            started: timer.now(),
            timer,
            policy: self.policy,
            errors: self.errors,
            origin: None,
            monitor,
            poll_meta,
            polls: 0,
            failures: 0,
            previous_delay: None,
            initial_hint: None,
            last_status: None,
            state: State::Idle,
            end: None,
        })
    }
}

fn parse_monitor(url: &str) -> Result<Url, Error> {
    let url = Url::parse(url)
        .map_err(|e| Error::Config(format!("the monitor URL is not a valid URL: {e}")))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(Error::Config(format!(
            "the monitor URL has scheme `{other}`: only http and https are supported"
        ))),
    }
}

impl Operation {
    /// An operation that polls `monitor_url`, a monitor the caller already has
    /// (from a `202 Accepted`'s `Location`, say).
    pub fn monitor(
        transport: impl Transport + 'static,
        monitor_url: impl AsRef<str>,
    ) -> OperationBuilder {
        OperationBuilder {
            transport: Arc::new(transport),
            monitor: parse_monitor(monitor_url.as_ref()),
            policy: PollPolicy::default(),
            errors: ErrorPolicy::default(),
            timer: None,
            protocol: Box::new(Graph),
        }
    }

    /// The URL polled now. It can hold a credential in its query: do not log
    /// it (use [`crate::redact`]).
    pub fn monitor_url(&self) -> &Url {
        &self.monitor
    }

    /// Polls sent so far (including failed ones).
    pub fn polls(&self) -> u32 {
        self.polls
    }

    /// Time since the operation started, on its timer.
    pub fn elapsed(&self) -> Duration {
        self.timer.now().saturating_duration_since(self.started)
    }

    /// The last status read, if any.
    pub fn last_status(&self) -> Option<&AsyncJobStatus> {
        self.last_status.as_ref()
    }

    /// The protocol's name.
    pub fn protocol(&self) -> &'static str {
        self.protocol.name()
    }

    /// Whether the stream has ended (a terminal status or an error).
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Drives the operation to its end (whatever of the stream is left) and
    /// returns the outcome: `Ok` when the job completed, the service's error in
    /// [`Error::Failed`] when it failed, or why polling stopped.
    // Not an `async fn`: that would keep the operation in its future twice
    // (the argument and its binding), doubling what every awaited operation
    // holds; an `async move` block keeps the one it captures.
    #[allow(clippy::manual_async_fn)]
    pub fn outcome(mut self) -> impl Future<Output = Result<Outcome, Error>> + Send {
        async move {
            while futures::future::poll_fn(|cx| self.poll_report(cx))
                .await
                .is_some()
            {}
            let mut success = match self.end.take() {
                Some(End::Succeeded(success)) => success,
                Some(End::Failed(error)) => return Err(error),
                None => return Err(Error::Config(NO_OUTCOME.into())),
            };
            let body = self
                .result_body(std::mem::take(&mut success.result))
                .await?;
            let Some(status) = self.last_status.take() else {
                return Err(Error::Config(NO_OUTCOME.into()));
            };
            let location = success.location.take();
            Ok(Outcome {
                status,
                location,
                body,
                polls: self.polls,
                elapsed: self.elapsed(),
            })
        }
    }

    /// The final result body: none, the one that came with the answer, or a
    /// `GET`. Boxed: inline, the request's future would make the future of
    /// every awaited operation as large as itself.
    fn result_body(&self, source: ResultSource) -> BodyFuture {
        match source {
            ResultSource::None => Box::pin(async { Ok(None) }),
            ResultSource::Body(body) => Box::pin(async move { Ok(Some(body)) }),
            ResultSource::Fetch(url) => {
                let meta = self.meta(RequestKind::Result, &url);
                Box::pin(fetch_result(Arc::clone(&self.transport), url, meta))
            }
        }
    }

    fn meta(&self, kind: RequestKind, url: &Url) -> RequestMeta {
        RequestMeta::new(
            kind,
            same_origin(self.origin.as_deref().unwrap_or(&self.monitor), url),
            self.protocol.wants_credentials(kind),
        )
    }

    fn send_poll(&mut self) {
        let mut request = self.protocol.poll_request(&self.monitor);
        request.extensions_mut().insert(self.poll_meta);
        let cutoff = self.policy.deadline().map(|deadline| {
            let remaining = deadline.saturating_sub(self.elapsed());
            if remaining.is_zero() {
                LAST_POLL_GRACE
            } else {
                remaining
            }
        });
        self.polls = self.polls.saturating_add(1);
        let transport = Arc::clone(&self.transport);
        self.state = State::Requesting {
            // Through the trait object itself: `Arc`'s own `Transport` impl
            // would box a second future around the transport's.
            response: Box::pin(async move { (*transport).send(request).await }),
            cutoff,
            deadline: None,
        };
    }

    fn fail(&mut self, error: Error) {
        self.end = Some(End::Failed(error.clone()));
        self.state = State::Failing(error);
    }

    fn deadline_error(&self) -> Error {
        Error::DeadlineExceeded {
            elapsed: self.elapsed(),
            polls: self.polls,
        }
    }

    /// Sleeps for what the policy decides, or fails on a limit.
    fn schedule(&mut self, retry_after: Option<Duration>) {
        let elapsed = self.elapsed();
        let ctx = PollContext {
            attempt: self.polls,
            elapsed,
            last_status: self.last_status.as_ref(),
            retry_after,
            previous_delay: self.previous_delay,
            consecutive_failures: self.failures,
        };
        match self.policy.decide(&ctx) {
            Decision::PollAfter(delay) => self.sleep(delay),
            Decision::PollLimitExceeded => self.fail(Error::PollLimitExceeded {
                polls: self.polls,
                elapsed,
            }),
            _ => self.fail(self.deadline_error()),
        }
    }

    fn sleep(&mut self, delay: Duration) {
        self.previous_delay = Some(delay);
        self.state = State::Sleeping(self.timer.sleep(delay));
    }

    fn start_polling(&mut self) {
        let delay = self
            .policy
            .with_hint(self.policy.initial_delay(), self.initial_hint);
        match self.policy.limit(delay, self.polls, self.elapsed()) {
            Decision::PollAfter(delay) if delay.is_zero() => self.send_poll(),
            Decision::PollAfter(delay) => self.sleep(delay),
            Decision::PollLimitExceeded => self.fail(Error::PollLimitExceeded {
                polls: self.polls,
                elapsed: self.elapsed(),
            }),
            _ => self.fail(self.deadline_error()),
        }
    }

    /// Handles a failure to read the status: retry or end.
    fn read_failure(&mut self, class: FailureClass, retry_after: Option<Duration>, error: Error) {
        self.failures = self.failures.saturating_add(1);
        if class == FailureClass::Transient && self.errors.may_retry(self.failures) {
            self.schedule(retry_after);
        } else {
            self.fail(error);
        }
    }

    /// Reads one answer; returns whether it was a status report (then kept
    /// in `last_status`).
    fn on_answer(&mut self, answer: Result<http::Response<Bytes>, TransportError>) -> bool {
        let response = match answer {
            Ok(response) => response,
            Err(source) => {
                let class = self.errors.classify_transport(&source);
                let error = Error::Transport {
                    kind: RequestKind::Poll,
                    attempts: self.failures.saturating_add(1),
                    source,
                };
                self.read_failure(class, None, error);
                return false;
            }
        };
        let retry_after = match self.policy.retry_after_mode() {
            RetryAfterMode::Ignore => None,
            _ => crate::policy::parse_retry_after_with(response.headers(), || {
                self.timer.wall_clock()
            }),
        };
        match self.protocol.interpret(&self.monitor, &response) {
            Err(error) => {
                self.fail(error);
                false
            }
            Ok(Reading::ReadFailure) => {
                let code = response.status();
                let mut http = HttpError::new(
                    code,
                    RequestKind::Poll,
                    redact(&self.monitor),
                    response.body(),
                );
                http.attempts = self.failures.saturating_add(1);
                let error = match code.as_u16() {
                    404 | 410 => Error::MonitorExpired(Box::new(http)),
                    _ => Error::Http(Box::new(http)),
                };
                let class = self.errors.classify_status(code);
                self.read_failure(class, retry_after, error);
                false
            }
            Ok(Reading::Status(reading)) => {
                self.failures = 0;
                if let Some(next) = reading.next_monitor {
                    self.poll_meta = self.meta(RequestKind::Poll, &next);
                    let previous = std::mem::replace(&mut self.monitor, next);
                    self.origin.get_or_insert_with(|| Box::new(previous));
                }
                let status = reading.status;
                if status.status.is_terminal() {
                    self.end = Some(if status.status.is_success() {
                        End::Succeeded(Box::new(Success {
                            location: reading.result_location,
                            result: reading.result,
                        }))
                    } else {
                        End::Failed(Error::Failed(Box::new(status.clone())))
                    });
                    self.last_status = Some(status);
                    self.state = State::Done;
                } else {
                    self.last_status = Some(status);
                    self.schedule(retry_after);
                }
                true
            }
        }
    }
}

async fn fetch_result(
    transport: Arc<dyn Transport>,
    url: Url,
    meta: RequestMeta,
) -> Result<Option<Bytes>, Error> {
    let mut request = crate::protocol::get_json(&url);
    request.extensions_mut().insert(meta);
    let response = (*transport)
        .send(request)
        .await
        .map_err(|source| Error::Transport {
            kind: RequestKind::Result,
            attempts: 1,
            source,
        })?;
    let code = response.status();
    if code.is_client_error() || code.is_server_error() {
        return Err(Error::Http(Box::new(HttpError::new(
            code,
            RequestKind::Result,
            redact(&url),
            response.body(),
        ))));
    }
    Ok(Some(response.into_body()))
}

impl Operation {
    /// Runs the state machine to its next report: `Some(Ok(()))` when a status
    /// was read (it is in `last_status`), `Some(Err(_))` when polling failed,
    /// `None` once the stream has ended. The stream hands out a copy of each
    /// status; [`Operation::outcome`] needs none.
    fn poll_report(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<(), Error>>> {
        loop {
            match &mut self.state {
                State::Idle => self.start_polling(),
                State::Sleeping(sleep) => {
                    ready!(sleep.as_mut().poll(cx));
                    self.send_poll();
                }
                State::Requesting {
                    response,
                    cutoff,
                    deadline,
                } => match response.as_mut().poll(cx) {
                    Poll::Ready(answer) => {
                        if self.on_answer(answer) {
                            return Poll::Ready(Some(Ok(())));
                        }
                    }
                    Poll::Pending => {
                        let Some(cutoff) = *cutoff else {
                            return Poll::Pending;
                        };
                        let timer = &self.timer;
                        let sleep = deadline.get_or_insert_with(|| timer.sleep(cutoff));
                        ready!(sleep.as_mut().poll(cx));
                        let error = self.deadline_error();
                        self.fail(error);
                    }
                },
                State::Failing(_) => {
                    let State::Failing(error) = std::mem::replace(&mut self.state, State::Done)
                    else {
                        continue;
                    };
                    return Poll::Ready(Some(Err(error)));
                }
                State::Done => return Poll::Ready(None),
            }
        }
    }
}

impl Stream for Operation {
    type Item = Result<AsyncJobStatus, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            return Poll::Ready(match ready!(this.poll_report(cx)) {
                Some(Ok(())) => match this.last_status.clone() {
                    Some(status) => Some(Ok(status)),
                    None => continue,
                },
                Some(Err(error)) => Some(Err(error)),
                None => None,
            });
        }
    }
}

impl futures::stream::FusedStream for Operation {
    fn is_terminated(&self) -> bool {
        self.is_done()
    }
}

impl IntoFuture for Operation {
    type Output = Result<Outcome, Error>;
    type IntoFuture = OutcomeFuture;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.outcome())
    }
}

impl fmt::Debug for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Idle => "idle",
            State::Requesting { .. } => "requesting",
            State::Sleeping(_) => "sleeping",
            State::Failing(_) => "failing",
            State::Done => "done",
        };
        f.debug_struct("Operation")
            .field("protocol", &self.protocol.name())
            .field("monitor", &redact(&self.monitor))
            .field("state", &state)
            .field("polls", &self.polls)
            .field("last_status", &self.last_status)
            .finish_non_exhaustive()
    }
}

/// How a job ended, when it ended well.
#[derive(Clone)]
#[non_exhaustive]
pub struct Outcome {
    status: AsyncJobStatus,
    location: Option<Url>,
    body: Option<Bytes>,
    polls: u32,
    elapsed: Duration,
}

impl Outcome {
    /// The final status report.
    pub fn status(&self) -> &AsyncJobStatus {
        &self.status
    }

    /// The id of the resource the job produced, when the service said.
    pub fn resource_id(&self) -> Option<&str> {
        self.status.resource_id.as_deref()
    }

    /// The URL of the resource the job produced, when the service said. It can
    /// hold a credential: do not log it (use [`crate::redact`]).
    pub fn location(&self) -> Option<&Url> {
        self.location.as_ref()
    }

    /// The final result body, when the protocol defines one.
    pub fn body(&self) -> Option<&Bytes> {
        self.body.as_ref()
    }

    /// The final result body parsed as JSON into `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        let body = self.body.as_deref().unwrap_or_default();
        serde_json::from_slice(body).map_err(|e| {
            Error::protocol(
                format!("the result is not the expected JSON: {e}"),
                None,
                None,
                body,
            )
        })
    }

    /// Polls sent.
    pub fn polls(&self) -> u32 {
        self.polls
    }

    /// Time from the operation's start to its end, on its timer.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }
}

impl fmt::Debug for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outcome")
            .field("status", &self.status)
            .field("location", &self.location.as_ref().map(redact))
            .field("body_len", &self.body.as_ref().map(Bytes::len))
            .field("polls", &self.polls)
            .field("elapsed", &self.elapsed)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TransportErrorKind;
    use crate::policy::{Constant, Exponential};
    use crate::status::JobState;
    use crate::testing::{ScriptedTransport, VirtualTimer};
    use futures::StreamExt;
    use futures::executor::block_on;

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

    fn collect(operation: &mut Operation) -> Vec<Result<AsyncJobStatus, Error>> {
        block_on(operation.by_ref().collect::<Vec<_>>())
    }

    #[test]
    fn yields_each_status_then_ends_and_sends_nothing_more() {
        let transport = ScriptedTransport::new()
            .with_json(202, r#"{"status":"notStarted"}"#)
            .with_json(202, r#"{"status":"inProgress","percentageComplete":27.8}"#)
            .with_json(303, r#"{"status":"completed","resourceId":"01MOW"}"#)
            .with_json(200, r#"{"status":"inProgress"}"#);
        let timer = VirtualTimer::new();
        let mut op = operation(&transport, &timer, PollPolicy::new(Constant::new(secs(2))));
        let states: Vec<_> = collect(&mut op)
            .into_iter()
            .map(|s| s.unwrap().status)
            .collect();
        assert_eq!(
            states,
            [
                JobState::NotStarted,
                JobState::InProgress,
                JobState::Completed
            ]
        );
        assert_eq!(transport.requests().len(), 3);
        assert_eq!(timer.sleeps(), [secs(2), secs(2)]);
        assert!(block_on(op.next()).is_none());
        assert_eq!(transport.requests().len(), 3);
        let outcome = block_on(op.outcome()).unwrap();
        assert_eq!(outcome.resource_id(), Some("01MOW"));
        assert_eq!(outcome.polls(), 3);
        assert_eq!(outcome.elapsed(), secs(4));
    }

    #[test]
    fn status_arrives_before_the_sleep() {
        let transport = ScriptedTransport::new()
            .with_json(202, r#"{"status":"inProgress"}"#)
            .with_json(200, r#"{"status":"completed"}"#);
        let timer = VirtualTimer::new();
        let mut op = operation(&transport, &timer, PollPolicy::new(Constant::new(secs(60))));
        let first = block_on(op.next()).unwrap().unwrap();
        assert_eq!(first.status, JobState::InProgress);
        assert!(timer.sleeps().is_empty(), "slept before yielding");
        assert_eq!(timer.elapsed(), Duration::ZERO);
    }

    #[test]
    fn failed_job_ends_with_the_service_error() {
        let transport = ScriptedTransport::new().with_json(
            200,
            r#"{"status":"failed","error":{"code":"nameAlreadyExists","message":"taken"}}"#,
        );
        let timer = VirtualTimer::new();
        let op = operation(&transport, &timer, PollPolicy::default());
        let error = block_on(op.outcome()).unwrap_err();
        let status = error.job_status().unwrap();
        assert_eq!(status.status, JobState::Failed);
        assert_eq!(
            status.error.as_ref().unwrap().code.as_deref(),
            Some("nameAlreadyExists")
        );
    }

    #[test]
    fn transient_failures_are_retried_then_permanent_ones_end() {
        let transport = ScriptedTransport::new()
            .with_error(TransportErrorKind::Connect)
            .with_json(503, r#"{"error":{"code":"busy"}}"#)
            .with_json(200, r#"{"status":"inProgress"}"#)
            .with_json(403, r#"{"error":{"code":"accessDenied","message":"no"}}"#);
        let timer = VirtualTimer::new();
        let mut op = operation(&transport, &timer, PollPolicy::new(Constant::new(secs(1))));
        let items = collect(&mut op);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_ref().unwrap().status, JobState::InProgress);
        let error = items[1].as_ref().unwrap_err();
        assert_eq!(error.http_status(), Some(http::StatusCode::FORBIDDEN));
        assert!(error.to_string().contains("accessDenied"));
        assert!(!error.to_string().contains("secret"));
        assert_eq!(transport.requests().len(), 4);
    }

    #[test]
    fn retries_stop_at_the_limit() {
        let transport = ScriptedTransport::new();
        for _ in 0..10 {
            transport.push_response(500, &[], "oops");
        }
        let timer = VirtualTimer::new();
        let op = Operation::monitor(transport.clone(), MONITOR)
            .with_timer(timer.clone())
            .with_error_policy(ErrorPolicy::default().with_max_retries(3))
            .build()
            .unwrap();
        let error = block_on(op.outcome()).unwrap_err();
        assert!(
            matches!(&error, Error::Http(e) if e.attempts == 4),
            "{error:?}"
        );
        assert_eq!(transport.requests().len(), 4);
    }

    #[test]
    fn expired_monitor_is_typed_and_not_retried() {
        let transport = ScriptedTransport::new()
            .with_json(202, r#"{"status":"inProgress"}"#)
            .with_json(404, r#"{"error":{"code":"operationNotFound"}}"#)
            .with_json(200, r#"{"status":"completed"}"#);
        let timer = VirtualTimer::new();
        let op = operation(&transport, &timer, PollPolicy::default());
        let error = block_on(op.outcome()).unwrap_err();
        assert!(matches!(error, Error::MonitorExpired(_)), "{error:?}");
        assert_eq!(transport.remaining(), 1);
    }

    #[test]
    fn retry_after_is_a_floor_and_capped() {
        let transport = ScriptedTransport::new();
        transport.push_response(202, &[("retry-after", "7")], r#"{"status":"inProgress"}"#);
        transport.push_response(
            202,
            &[("retry-after", "9999999999")],
            r#"{"status":"inProgress"}"#,
        );
        transport.push_response(429, &[("retry-after-ms", "1500")], "");
        transport.push_response(200, &[], r#"{"status":"completed"}"#);
        let timer = VirtualTimer::new();
        let policy = PollPolicy::new(Constant::new(secs(1))).with_retry_after_cap(secs(120));
        block_on(operation(&transport, &timer, policy).outcome()).unwrap();
        assert_eq!(
            timer.sleeps(),
            [secs(7), secs(120), Duration::from_millis(1500)]
        );
    }

    #[test]
    fn deadline_polls_once_at_the_deadline_then_gives_up() {
        let transport = ScriptedTransport::new();
        for _ in 0..10 {
            transport.push_response(202, &[], r#"{"status":"inProgress"}"#);
        }
        let timer = VirtualTimer::new();
        let policy = PollPolicy::new(Constant::new(secs(10))).with_deadline(secs(25));
        let error = block_on(operation(&transport, &timer, policy).outcome()).unwrap_err();
        assert!(
            matches!(error, Error::DeadlineExceeded { elapsed, polls: 4 } if elapsed == secs(25)),
            "{error:?}"
        );
        assert_eq!(timer.sleeps(), [secs(10), secs(10), secs(5)]);
    }

    #[test]
    fn poll_limit_ends_the_operation() {
        let transport = ScriptedTransport::new();
        for _ in 0..10 {
            transport.push_response(202, &[], r#"{"status":"waiting"}"#);
        }
        let timer = VirtualTimer::new();
        let policy = PollPolicy::new(Constant::new(secs(1))).with_max_polls(3);
        let error = block_on(operation(&transport, &timer, policy).outcome()).unwrap_err();
        assert!(
            matches!(error, Error::PollLimitExceeded { polls: 3, .. }),
            "{error:?}"
        );
        assert_eq!(transport.requests().len(), 3);
    }

    #[test]
    fn initial_delay_comes_before_the_first_poll() {
        let transport = ScriptedTransport::new().with_json(200, r#"{"status":"completed"}"#);
        let timer = VirtualTimer::new();
        let policy = PollPolicy::new(Constant::new(secs(1))).with_initial_delay(secs(3));
        block_on(operation(&transport, &timer, policy).outcome()).unwrap();
        assert_eq!(timer.sleeps(), [secs(3)]);
    }

    #[test]
    fn a_new_location_replaces_the_monitor_and_polls_carry_a_marker() {
        let transport = ScriptedTransport::new();
        transport.push_response(
            202,
            &[("location", "https://other.example/m/2")],
            r#"{"status":"inProgress"}"#,
        );
        transport.push_response(200, &[], r#"{"status":"completed"}"#);
        let timer = VirtualTimer::new();
        block_on(operation(&transport, &timer, PollPolicy::default()).outcome()).unwrap();
        let requests = transport.requests();
        assert_eq!(requests[1].uri, "https://other.example/m/2");
        let first = requests[0].meta.unwrap();
        assert_eq!(first.kind, RequestKind::Poll);
        assert!(first.same_origin && !first.credentials_allowed());
        assert!(!requests[1].meta.unwrap().same_origin);
    }

    #[test]
    fn garbage_ends_with_a_protocol_error_not_a_completion() {
        let transport = ScriptedTransport::new().with_json(200, "<html>hello</html>");
        let timer = VirtualTimer::new();
        let error =
            block_on(operation(&transport, &timer, PollPolicy::default()).outcome()).unwrap_err();
        assert!(matches!(error, Error::Protocol(_)), "{error:?}");
    }

    #[test]
    fn dropping_stops_polling() {
        let transport = ScriptedTransport::new()
            .with_json(202, r#"{"status":"inProgress"}"#)
            .with_json(200, r#"{"status":"completed"}"#);
        let timer = VirtualTimer::new();
        let mut op = operation(
            &transport,
            &timer,
            PollPolicy::new(Exponential::new(secs(1), 2.0, secs(8))),
        );
        block_on(op.next()).unwrap().unwrap();
        drop(op);
        assert_eq!(transport.requests().len(), 1);
        assert!(timer.sleeps().is_empty());
    }

    #[test]
    fn bad_setup_is_a_config_error() {
        let transport = ScriptedTransport::new();
        assert!(matches!(
            Operation::monitor(transport.clone(), "not a url")
                .with_timer(VirtualTimer::new())
                .build(),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            Operation::monitor(transport, "ftp://host/x")
                .with_timer(VirtualTimer::new())
                .build(),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn debug_output_is_redacted() {
        let transport = ScriptedTransport::new();
        let op = operation(&transport, &VirtualTimer::new(), PollPolicy::default());
        let shown = format!("{op:?}");
        assert!(
            shown.contains("api.example") && !shown.contains("secret"),
            "{shown}"
        );
    }

    /// Graph's reading of the status, with a result source on completion.
    #[derive(Debug)]
    struct WithResult(ResultSource);

    impl Protocol for WithResult {
        fn name(&self) -> &'static str {
            "with-result"
        }

        fn interpret(&self, url: &Url, response: &http::Response<Bytes>) -> Result<Reading, Error> {
            let Reading::Status(reading) = Graph.interpret(url, response)? else {
                return Ok(Reading::ReadFailure);
            };
            Ok(Reading::Status(if reading.status.status.is_terminal() {
                reading.with_result(self.0.clone())
            } else {
                reading
            }))
        }
    }

    #[test]
    fn the_result_comes_from_the_answer_or_a_fetch() {
        let transport = ScriptedTransport::new()
            .with_json(202, r#"{"status":"inProgress"}"#)
            .with_json(200, r#"{"status":"completed"}"#)
            .with_json(200, r#"{"id":"42"}"#);
        let result = Url::parse("https://api.example/result/1").unwrap();
        let op = Operation::monitor(transport.clone(), MONITOR)
            .with_timer(VirtualTimer::new())
            .with_protocol(WithResult(ResultSource::Fetch(result)))
            .build()
            .unwrap();
        let outcome = block_on(op.outcome()).unwrap();
        assert_eq!(outcome.body().unwrap().as_ref(), br#"{"id":"42"}"#);
        assert_eq!(outcome.polls(), 2);
        let requests = transport.requests();
        assert_eq!(requests.len(), 3);
        assert_eq!(requests[2].uri, "https://api.example/result/1");
        assert_eq!(requests[2].meta.unwrap().kind, RequestKind::Result);

        let transport = ScriptedTransport::new().with_json(200, r#"{"status":"completed"}"#);
        let op = Operation::monitor(transport.clone(), MONITOR)
            .with_timer(VirtualTimer::new())
            .with_protocol(WithResult(ResultSource::Body(Bytes::from_static(b"done"))))
            .build()
            .unwrap();
        let outcome = block_on(op.outcome()).unwrap();
        assert_eq!(outcome.body().unwrap().as_ref(), b"done");
        assert_eq!(transport.requests().len(), 1);
    }

    #[test]
    fn operation_and_its_future_stay_small() {
        let size = std::mem::size_of::<Operation>();
        assert!(size <= 640, "{size}");
        let transport = ScriptedTransport::new();
        let op = operation(&transport, &VirtualTimer::new(), PollPolicy::default());
        let future = IntoFuture::into_future(op);
        let future_size = std::mem::size_of_val(&*future);
        assert!(
            future_size <= size + 64,
            "{future_size} for an operation of {size}"
        );
    }

    fn _operation_is_send_and_unpin() {
        fn check<T: Send + Unpin + 'static>() {}
        check::<Operation>();
        check::<OutcomeFuture>();
    }
}
