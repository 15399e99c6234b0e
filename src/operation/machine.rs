//! The state machine: each answer read, each sleep scheduled, each failure handled.

use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use url::Url;

use crate::answer::Answer;
use crate::error::{Error, GaveUp, GaveUpCause, RequestError};
use crate::origin::redact;
use crate::policy::{Decision, FailureClass};
use crate::protocol::{Polled, Reading};
use crate::transport::{RequestKind, RequestMeta, TransportError};

use super::core::{End, Operation, State};
use super::flight::{InFlight, cutoff};
use super::retry::{RetryNotice, retry_after};

impl Operation {
    /// The marker of a request of `kind` to `url`.
    pub(super) fn meta(&self, kind: RequestKind, url: &Url) -> RequestMeta {
        self.watch().meta(kind, url, self.family())
    }

    pub(super) fn send_poll(&mut self) {
        let request = self.watch().poll_request(self.family());
        let elapsed = self.elapsed();
        self.schedule_mut().count_poll(elapsed);
        let flight = InFlight::send(self.transport(), request);
        self.set_state(State::Requesting(flight));
    }

    pub(super) fn retry_after(&self, response: &http::Response<Bytes>) -> Option<Duration> {
        retry_after(self.schedule().policy(), self.clock(), response)
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
        self.schedule_mut().set_failures(0);
        let running = !reading.status.status.is_terminal();
        if let Some(next) = reading.next_monitor.take().filter(|_| running) {
            let (watch, protocol) = self.watch_mut();
            if let Err(error) = watch.change_to(next, protocol) {
                *self.last_status_mut() = Some(reading.status);
                self.fail(error);
                return;
            }
        }
        let terminal = reading.status.status.is_terminal();
        if terminal {
            let end = if reading.status.status.is_success() {
                End::Succeeded {
                    location: reading.result_location,
                    result: reading.result,
                }
            } else {
                End::Failed(Error::Failed(Box::new(reading.status.clone())))
            };
            self.set_end(end);
            self.set_state(State::Done);
        }
        *self.last_status_mut() = Some(reading.status);
        if !terminal {
            self.schedule_next(retry_after);
        }
        #[cfg(feature = "tracing")]
        self.trace_reading(retry_after);
    }

    #[cfg(feature = "tracing")]
    pub(super) fn trace_reading(&self, retry_after: Option<Duration>) {
        let Some(status) = self.last_status() else {
            return;
        };
        let next_delay = match self.state() {
            State::Sleeping(_) => self.schedule().previous_delay(),
            _ => None,
        };
        tracing::debug!(
            parent: self.span(),
            status = %status.status,
            progress = ?status.percentage_complete,
            next_delay = ?next_delay,
            retry_after = ?retry_after,
            poll = self.polls(),
            "status"
        );
        if status.status.is_terminal() {
            tracing::info!(
                parent: self.span(),
                outcome = if status.status.is_success() { "succeeded" } else { "failed" },
                status = %status.status,
                polls = self.polls(),
                elapsed = ?self.elapsed(),
                "operation ended"
            );
        }
    }

    pub(super) fn fail(&mut self, error: Error) {
        #[cfg(feature = "tracing")]
        tracing::warn!(
            parent: self.span(),
            outcome = "error",
            error = %error,
            polls = self.polls(),
            elapsed = ?self.elapsed(),
            "operation ended"
        );
        self.set_end(End::Failed(error.clone()));
        self.set_state(State::Failing(Box::new(error)));
    }

    pub(super) fn deadline_error(&self) -> Error {
        self.gave_up(GaveUpCause::Deadline, self.elapsed())
    }

    /// The operation gave up for `cause`, `elapsed` into it.
    pub(super) fn gave_up(&self, cause: GaveUpCause, elapsed: Duration) -> Error {
        Error::GaveUp(Box::new(GaveUp::new(
            cause,
            self.polls(),
            elapsed,
            self.resume_token(),
        )))
    }

    /// Sleeps for what the policy decides, or fails on a limit.
    pub(super) fn schedule_next(&mut self, retry_after: Option<Duration>) {
        let elapsed = self.elapsed();
        let last_status = self.last_status().cloned();
        let decision = self
            .schedule_mut()
            .decide(elapsed, last_status.as_ref(), retry_after);
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
        let elapsed = self.elapsed();
        self.schedule_mut().slept(delay, elapsed);
        let sleep = self.clock().sleep(delay);
        self.set_state(State::Sleeping(sleep));
    }

    /// Waits the initial delay (at least the start response's `Retry-After`,
    /// and after a start request at least the floor), then polls.
    pub(super) fn start_polling(&mut self, retry_after: Option<Duration>) {
        let elapsed = self.elapsed();
        let decision = self.schedule_mut().first(retry_after, elapsed);
        self.follow_decision(decision, elapsed, true);
    }

    /// Handles a failure to read the status: retry or end.
    pub(super) fn read_failure(
        &mut self,
        class: FailureClass,
        retry_after: Option<Duration>,
        error: Error,
    ) {
        let failures = self.schedule().failures().saturating_add(1);
        self.schedule_mut().set_failures(failures);
        if class == FailureClass::Transient && self.schedule().errors().may_retry(failures) {
            #[cfg(feature = "tracing")]
            tracing::debug!(
                parent: self.span(),
                error = %error,
                failures,
                retry_after = ?retry_after,
                "failed to read the status; retrying"
            );
            let elapsed = self.elapsed();
            let last_status = self.last_status().cloned();
            let decision = self
                .schedule_mut()
                .decide(elapsed, last_status.as_ref(), retry_after);
            self.tell_retry(RequestKind::Poll, failures, &decision, error);
            self.follow_decision(decision, elapsed, false);
        } else {
            self.fail(error);
        }
    }

    /// Waits before sending again a request of `kind` other than a poll
    /// (the start) that failed transiently for the `attempts`-th time in a
    /// row, or ends on a limit (the deadline, the backoff stopping).
    pub(super) fn retry_after_failure(
        &mut self,
        kind: RequestKind,
        attempts: u32,
        retry_after: Option<Duration>,
        error: Error,
    ) {
        let elapsed = self.elapsed();
        let decision = self.schedule_mut().retry(elapsed, retry_after, attempts);
        self.tell_retry(kind, attempts, &decision, error);
        self.follow_decision(decision, elapsed, false);
    }

    /// Tells the caller's callback of a retry, when `decision` is one.
    fn tell_retry(&self, request: RequestKind, attempts: u32, decision: &Decision, error: Error) {
        if let (Some(hook), Decision::PollAfter(delay)) = (self.retry_hook(), decision) {
            hook(&RetryNotice {
                request,
                attempt: attempts.saturating_add(1),
                delay: *delay,
                error,
            });
        }
    }

    /// Reads one answer; returns the status to yield, if any.
    pub(super) fn on_answer(
        &mut self,
        answer: Result<http::Response<Bytes>, TransportError>,
    ) -> bool {
        let attempts = self.schedule().failures().saturating_add(1);
        let response = match answer {
            Ok(response) => response,
            Err(source) => {
                let class = self.schedule().errors().classify_transport(&source);
                let url = redact(self.watch().url());
                let error = RequestError::transport(RequestKind::Poll, url, source)
                    .with_attempts(attempts)
                    .with_resume(self.resume_token());
                self.read_failure(class, None, Error::Request(Box::new(error)));
                return false;
            }
        };
        let retry_after = self.retry_after(&response);
        match self.family().read_poll(self.watch().url(), &response) {
            Err(error) => {
                // An answer that cannot be read says nothing about the job:
                // a transient failure of this read.
                let error = error.with_resume(self.resume_token());
                self.read_failure(FailureClass::Transient, retry_after, error.into());
                false
            }
            Ok(Polled::ReadFailure) => {
                let code = response.status();
                let url = redact(self.watch().url());
                let mut http = RequestError::answer(RequestKind::Poll, url, code, response.body())
                    .with_attempts(attempts);
                if !http.monitor_expired() {
                    http = http.with_resume(self.resume_token());
                }
                let class = self.schedule().errors().classify_status(code);
                self.read_failure(class, retry_after, Error::Request(Box::new(http)));
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
        #[cfg(feature = "tracing")]
        let span = self.span().clone();
        #[cfg(feature = "tracing")]
        let _entered = span.enter();
        loop {
            let (state, clock, deadline) = self.flight_parts();
            let cutoff = || cutoff(deadline, clock.elapsed());
            match state {
                State::Idle => match self.take_start() {
                    Some(start) => self.send_start(start),
                    None => self.start_polling(None),
                },
                State::Starting { flight, .. } => {
                    let Some(answer) = ready!(flight.poll(clock.timer(), cutoff, cx)) else {
                        let error = self.deadline_error();
                        self.fail(error);
                        continue;
                    };
                    let State::Starting { setup, .. } = self.set_state(State::Done) else {
                        continue;
                    };
                    let yielded = self.start_answered(answer, setup);
                    if !self.begin_checkpoint(yielded) && yielded {
                        return Poll::Ready(Some(Ok(())));
                    }
                }
                State::Sleeping(sleep) => {
                    ready!(sleep.as_mut().poll(cx));
                    // A start request waiting to be sent again goes first.
                    match self.take_start() {
                        Some(start) => self.send_start(start),
                        None => self.send_poll(),
                    }
                }
                State::Requesting(flight) => match ready!(flight.poll(clock.timer(), cutoff, cx)) {
                    Some(answer) => {
                        let yielded = self.on_answer(answer);
                        if !self.begin_checkpoint(yielded) && yielded {
                            return Poll::Ready(Some(Ok(())));
                        }
                    }
                    None => {
                        let error = self.deadline_error();
                        self.fail(error);
                    }
                },
                State::Saving { .. } => {
                    if ready!(self.poll_checkpoint(cx)) {
                        return Poll::Ready(Some(Ok(())));
                    }
                }
                State::Failing(_) => {
                    let State::Failing(error) = self.set_state(State::Done) else {
                        continue;
                    };
                    return Poll::Ready(Some(Err(*error)));
                }
                State::Done => return Poll::Ready(None),
            }
        }
    }
}
