//! The state machine: each answer read, each sleep scheduled, each failure handled.

use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use url::Url;

use crate::answer::Answer;
use crate::error::{Error, GaveUp, GaveUpCause, RequestError};
use crate::origin::{UrlPolicy, redact, same_origin};
use crate::policy::{Decision, ErrorPolicy, FailureClass, PollContext, RetryAfterMode};
use crate::protocol::{Polled, Protocol, Reading};
use crate::timer::Timer;
use crate::transport::{RequestKind, RequestMeta, TransportError};

use super::core::{End, Extra, Operation, State, Success};
use super::flight::{InFlight, cutoff, elapsed};

impl Operation {
    pub(super) fn meta(&self, kind: RequestKind, url: &Url) -> RequestMeta {
        RequestMeta::new(
            kind,
            same_origin(self.origin(), url),
            self.protocol.wants_credentials(kind),
        )
    }

    pub(super) fn send_poll(&mut self) {
        let resend = self.extra.as_ref().and_then(|extra| extra.resend.as_ref());
        let mut request = match resend {
            Some(request) => request.clone(),
            None => self.protocol.poll_request(&self.monitor),
        };
        request.extensions_mut().insert(self.poll_meta);
        self.polls = self.polls.saturating_add(1);
        self.state = State::Requesting(self.in_flight(request));
    }

    /// How long a request sent now may take: until the deadline, or
    /// [`LAST_POLL_GRACE`] for the poll sent at the deadline.
    pub(super) fn cutoff(&self) -> Option<Duration> {
        cutoff(self.pacer.policy().deadline(), self.elapsed())
    }

    pub(super) fn in_flight(&self, request: http::Request<Bytes>) -> InFlight {
        let transport = Arc::clone(&self.transport);
        InFlight {
            response: Box::pin(async move { (*transport).send(request).await }),
            deadline: None,
        }
    }

    pub(super) fn retry_after(&self, response: &http::Response<Bytes>) -> Option<Duration> {
        match self.pacer.policy().retry_after_mode() {
            RetryAfterMode::Ignore => None,
            _ => crate::policy::parse_retry_after_with(response.headers(), || {
                self.timer.wall_clock()
            }),
        }
    }

    /// Gives the reading's status the answer it was read from, with the
    /// reading's details.
    pub(super) fn attach(reading: &mut Reading, response: http::Response<Bytes>) {
        let details = std::mem::take(&mut reading.details);
        reading.status.set_answer(Answer::new(response, details));
    }

    /// Records a status report read from `response` (it is yielded from
    /// `last_status`): ends on a terminal status, else schedules the next
    /// poll.
    pub(super) fn on_reading(
        &mut self,
        mut reading: Reading,
        response: http::Response<Bytes>,
        retry_after: Option<Duration>,
    ) {
        Operation::attach(&mut reading, response);
        self.failures = 0;
        let running = !reading.status.status.is_terminal();
        if let Some(next) = reading.next_monitor.filter(|_| running) {
            self.url_changes = self.url_changes.saturating_add(1);
            let checked = if self.url_changes > self.urls().max_url_changes() {
                Err(Error::UrlRejected {
                    url: redact(&next),
                    reason: format!(
                        "the monitor URL changed more than {} times",
                        self.urls().max_url_changes()
                    ),
                })
            } else {
                self.follow(&next)
            };
            if let Err(error) = checked {
                self.last_status = Some(reading.status);
                self.fail(error);
                return;
            }
            self.set_monitor(next);
        }
        let terminal = reading.status.status.is_terminal();
        if terminal {
            self.end = Some(Box::new(if reading.status.status.is_success() {
                End::Succeeded(Box::new(Success {
                    location: reading.result_location,
                    result: reading.result,
                }))
            } else {
                End::Failed(Error::Failed(Box::new(reading.status.clone())))
            }));
            self.state = State::Done;
        }
        self.last_status = Some(reading.status);
        if !terminal {
            self.schedule(retry_after);
        }
        #[cfg(feature = "tracing")]
        self.trace_reading(retry_after);
    }

    #[cfg(feature = "tracing")]
    pub(super) fn trace_reading(&self, retry_after: Option<Duration>) {
        let Some(status) = &self.last_status else {
            return;
        };
        let next_delay = match self.state {
            State::Sleeping(_) => self.previous_delay,
            _ => None,
        };
        tracing::debug!(
            parent: &self.span,
            status = %status.status,
            progress = ?status.percentage_complete,
            next_delay = ?next_delay,
            retry_after = ?retry_after,
            poll = self.polls,
            "status"
        );
        if status.status.is_terminal() {
            tracing::info!(
                parent: &self.span,
                outcome = if status.status.is_success() { "succeeded" } else { "failed" },
                status = %status.status,
                polls = self.polls,
                elapsed = ?self.elapsed(),
                "operation ended"
            );
        }
    }

    /// The URL whose origin counts as "same origin".
    pub(super) fn origin(&self) -> &Url {
        self.origin.as_deref().unwrap_or(&self.monitor)
    }

    /// What only some operations keep, made on first use.
    pub(super) fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    pub(super) fn errors(&self) -> &ErrorPolicy {
        static DEFAULT: std::sync::OnceLock<ErrorPolicy> = std::sync::OnceLock::new();
        self.extra
            .as_ref()
            .and_then(|extra| extra.errors.as_deref())
            .unwrap_or_else(|| DEFAULT.get_or_init(ErrorPolicy::default))
    }

    pub(super) fn urls(&self) -> &UrlPolicy {
        self.extra
            .as_ref()
            .and_then(|extra| extra.urls.as_deref())
            .unwrap_or(&crate::origin::DEFAULT_URL_POLICY)
    }

    /// Moves to a new monitor URL, keeping the origin.
    pub(super) fn set_monitor(&mut self, monitor: Url) {
        if self.origin.is_none() {
            self.origin = Some(Box::new(self.monitor.clone()));
        }
        self.monitor = monitor;
        self.poll_meta = self.meta(RequestKind::Poll, &self.monitor);
    }

    /// Checks a URL the server handed out against the URL policy.
    pub(super) fn follow(&self, url: &Url) -> Result<(), Error> {
        self.urls()
            .check(self.origin(), url)
            .map_err(|reason| Error::UrlRejected {
                url: redact(url),
                reason,
            })
    }

    pub(super) fn fail(&mut self, error: Error) {
        #[cfg(feature = "tracing")]
        tracing::warn!(
            parent: &self.span,
            outcome = "error",
            error = %error,
            polls = self.polls,
            elapsed = ?self.elapsed(),
            "operation ended"
        );
        self.end = Some(Box::new(End::Failed(error.clone())));
        self.state = State::Failing(Box::new(error));
    }

    pub(super) fn deadline_error(&self) -> Error {
        self.gave_up(GaveUpCause::Deadline, self.elapsed())
    }

    /// The operation gave up for `cause`, `elapsed` into it.
    pub(super) fn gave_up(&self, cause: GaveUpCause, elapsed: Duration) -> Error {
        Error::GaveUp(Box::new(GaveUp::new(
            cause,
            self.polls,
            elapsed,
            self.resume_token(),
        )))
    }

    /// Sleeps for what the policy decides, or fails on a limit.
    pub(super) fn schedule(&mut self, retry_after: Option<Duration>) {
        let elapsed = self.elapsed();
        let ctx = PollContext {
            attempt: self.polls,
            elapsed,
            remaining: self.pacer.policy().remaining(elapsed),
            last_status: self.last_status.as_ref(),
            retry_after,
            previous_delay: self.previous_delay,
            consecutive_failures: self.failures,
            from_job_start: self.from_job_start,
        };
        let decision = self.pacer.decide(&ctx);
        self.follow_decision(decision, elapsed, false);
    }

    /// Sleeps, polls, or ends, as decided; `first`: a zero delay before the
    /// first poll sends it at once, without a sleep.
    fn follow_decision(&mut self, decision: Decision, elapsed: Duration, first: bool) {
        match decision {
            Decision::PollAfter(delay) if first && delay.is_zero() => self.send_poll(),
            Decision::PollAfter(delay) => self.sleep(delay),
            Decision::PollLimitExceeded => self.fail(self.gave_up(GaveUpCause::PollLimit, elapsed)),
            Decision::Stopped(reason) => {
                self.fail(self.gave_up(GaveUpCause::BackoffStopped(reason), elapsed))
            }
            _ => self.fail(self.deadline_error()),
        }
    }

    pub(super) fn sleep(&mut self, delay: Duration) {
        self.previous_delay = Some(delay);
        self.state = State::Sleeping(self.timer.sleep(delay));
    }

    /// Waits the initial delay (at least the start response's `Retry-After`,
    /// and after a start request at least the floor), then polls.
    pub(super) fn start_polling(&mut self, retry_after: Option<Duration>) {
        let policy = self.pacer.policy();
        let delay = policy.first_delay(retry_after, self.from_job_start);
        let elapsed = self.elapsed();
        let decision = policy.limit(delay, self.polls, elapsed);
        self.follow_decision(decision, elapsed, true);
    }

    /// Handles a failure to read the status: retry or end.
    pub(super) fn read_failure(
        &mut self,
        class: FailureClass,
        retry_after: Option<Duration>,
        error: Error,
    ) {
        self.failures = self.failures.saturating_add(1);
        if class == FailureClass::Transient && self.errors().may_retry(self.failures) {
            #[cfg(feature = "tracing")]
            tracing::debug!(
                parent: &self.span,
                error = %error,
                failures = self.failures,
                retry_after = ?retry_after,
                "failed to read the status; retrying"
            );
            self.schedule(retry_after);
        } else {
            self.fail(error);
        }
    }

    /// Reads one answer; returns the status to yield, if any.
    pub(super) fn on_answer(
        &mut self,
        answer: Result<http::Response<Bytes>, TransportError>,
    ) -> bool {
        let response = match answer {
            Ok(response) => response,
            Err(source) => {
                let class = self.errors().classify_transport(&source);
                let error =
                    RequestError::transport(RequestKind::Poll, redact(&self.monitor), source)
                        .with_attempts(self.failures.saturating_add(1))
                        .with_resume(self.resume_token());
                let error = Error::Request(Box::new(error));
                self.read_failure(class, None, error);
                return false;
            }
        };
        let retry_after = self.retry_after(&response);
        match self.protocol.read_poll(&self.monitor, &response) {
            Err(error) => {
                self.fail(error.into());
                false
            }
            Ok(Polled::ReadFailure) => {
                let code = response.status();
                let mut http = RequestError::answer(
                    RequestKind::Poll,
                    redact(&self.monitor),
                    code,
                    response.body(),
                )
                .with_attempts(self.failures.saturating_add(1));
                if !http.monitor_expired() {
                    http = http.with_resume(self.resume_token());
                }
                let error = Error::Request(Box::new(http));
                let class = self.errors().classify_status(code);
                self.read_failure(class, retry_after, error);
                false
            }
            Ok(Polled::Status(reading)) => {
                self.on_reading(reading, response, retry_after);
                true
            }
        }
    }

    /// Drives the state machine to the next report: `Ok(())` when a status
    /// was recorded in `last_status` (the stream yields a copy of it), `Err`
    /// when the operation failed, `None` at the end.
    pub(super) fn poll_report(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<(), Error>>> {
        let this = self;
        #[cfg(feature = "tracing")]
        let span = this.span.clone();
        #[cfg(feature = "tracing")]
        let _entered = span.enter();
        loop {
            let (deadline, timer, started, carried) = (
                this.pacer.policy().deadline(),
                &this.timer,
                this.started,
                this.carried,
            );
            let cutoff = || cutoff(deadline, elapsed(&**timer, started, carried));
            match &mut this.state {
                State::Idle => match this.start.take() {
                    Some(start) => this.send_start(start),
                    None => this.start_polling(None),
                },
                State::Starting { flight, .. } => {
                    let Some(answer) = ready!(flight.poll(&**timer, cutoff, cx)) else {
                        let error = this.deadline_error();
                        this.fail(error);
                        continue;
                    };
                    let State::Starting { setup, .. } =
                        std::mem::replace(&mut this.state, State::Done)
                    else {
                        continue;
                    };
                    if this.start_answered(answer, setup) {
                        return Poll::Ready(Some(Ok(())));
                    }
                }
                State::Sleeping(sleep) => {
                    ready!(sleep.as_mut().poll(cx));
                    // A start request waiting to be sent again goes first.
                    match this.start.take() {
                        Some(start) => this.send_start(start),
                        None => this.send_poll(),
                    }
                }
                State::Requesting(flight) => match ready!(flight.poll(&**timer, cutoff, cx)) {
                    Some(answer) => {
                        if this.on_answer(answer) {
                            return Poll::Ready(Some(Ok(())));
                        }
                    }
                    None => {
                        let error = this.deadline_error();
                        this.fail(error);
                    }
                },
                State::Failing(_) => {
                    let State::Failing(error) = std::mem::replace(&mut this.state, State::Done)
                    else {
                        continue;
                    };
                    return Poll::Ready(Some(Err(*error)));
                }
                State::Done => return Poll::Ready(None),
            }
        }
    }
}
