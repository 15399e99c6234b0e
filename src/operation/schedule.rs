//! The schedule: the polling policy's running state, the polls sent and the
//! failures in a row, and what to do next.

use std::time::Duration;

use crate::policy::{Decision, ErrorPolicy, Pacer, PollContext, PollPolicy, Step};
use crate::status::AsyncJobStatus;

/// When to poll next, and how many polls and failures so far.
pub(super) struct Schedule {
    pacer: Pacer,
    /// `None`: the default error policy (shared).
    errors: Option<Box<ErrorPolicy>>,
    polls: u32,
    failures: u32,
    previous_delay: Option<Duration>,
    /// The operation sends the request that starts the job.
    from_job_start: bool,
}

impl Schedule {
    /// A schedule for `policy`, `polls` already sent.
    pub(super) fn new(
        policy: &PollPolicy,
        errors: ErrorPolicy,
        polls: u32,
        from_job_start: bool,
    ) -> Self {
        Schedule {
            pacer: policy.start(),
            errors: (errors != ErrorPolicy::default()).then(|| Box::new(errors)),
            polls,
            failures: 0,
            previous_delay: None,
            from_job_start,
        }
    }

    /// The polling policy.
    pub(super) fn policy(&self) -> &PollPolicy {
        self.pacer.policy()
    }

    /// The error policy.
    pub(super) fn errors(&self) -> &ErrorPolicy {
        static DEFAULT: std::sync::OnceLock<ErrorPolicy> = std::sync::OnceLock::new();
        self.errors
            .as_deref()
            .unwrap_or_else(|| DEFAULT.get_or_init(ErrorPolicy::default))
    }

    /// Polls sent so far.
    pub(super) fn polls(&self) -> u32 {
        self.polls
    }

    /// One more poll sent.
    pub(super) fn count_poll(&mut self) {
        self.polls = self.polls.saturating_add(1);
    }

    /// Failures to read the status (or to send the start) in a row.
    pub(super) fn failures(&self) -> u32 {
        self.failures
    }

    /// Sets the failures in a row.
    pub(super) fn set_failures(&mut self, failures: u32) {
        self.failures = failures;
    }

    /// The last delay slept.
    #[cfg(feature = "tracing")]
    pub(super) fn previous_delay(&self) -> Option<Duration> {
        self.previous_delay
    }

    /// A sleep of `delay` begins.
    pub(super) fn slept(&mut self, delay: Duration) {
        self.previous_delay = Some(delay);
    }

    /// What to do after a status or a failure, `elapsed` into the operation.
    pub(super) fn decide(
        &mut self,
        elapsed: Duration,
        last_status: Option<&AsyncJobStatus>,
        retry_after: Option<Duration>,
    ) -> Decision {
        let ctx = PollContext {
            attempt: self.polls,
            elapsed,
            remaining: self.pacer.policy().remaining(elapsed),
            last_status,
            retry_after,
            previous_delay: self.previous_delay,
            consecutive_failures: self.failures,
            from_job_start: self.from_job_start,
        };
        self.pacer.decide(&ctx)
    }

    /// What to do after the `attempts`-th attempt in a row of a request
    /// other than a poll (the start, the result fetch, a cancel request)
    /// failed, `elapsed` into the operation: the backoff sees the attempts
    /// of that request (so it backs off attempt after attempt), the answer's
    /// `Retry-After` and the floor apply, and the deadline bounds the wait.
    /// The poll limit does not count these attempts.
    pub(super) fn retry(
        &mut self,
        elapsed: Duration,
        retry_after: Option<Duration>,
        attempts: u32,
    ) -> Decision {
        let ctx = PollContext {
            attempt: attempts,
            elapsed,
            remaining: self.pacer.policy().remaining(elapsed),
            last_status: None,
            retry_after,
            previous_delay: self.previous_delay,
            consecutive_failures: attempts,
            from_job_start: self.from_job_start,
        };
        match self.pacer.delay(&ctx) {
            Step::Wait(delay) => self.pacer.policy().limit(delay, 0, elapsed),
            Step::Stop(reason) => Decision::Stopped(reason),
        }
    }

    /// What to do before the first poll: the initial delay (at least the
    /// start answer's `Retry-After`, and after a start request at least the
    /// floor), within the limits.
    pub(super) fn first(&self, retry_after: Option<Duration>, elapsed: Duration) -> Decision {
        let policy = self.pacer.policy();
        let delay = policy.first_delay(retry_after, self.from_job_start);
        policy.limit(delay, self.polls, elapsed)
    }
}
