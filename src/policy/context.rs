//! What a backoff sees when it picks the next delay: [`PollContext`], the
//! attempt, the time, the last status and the server's hint.

use std::time::Duration;

use crate::status::AsyncJobStatus;

/// What a [`Backoff`](super::Backoff) sees when it picks the next delay.
///
/// The operation fills it in; to try a backoff of your own, make one with
/// [`PollContext::new`] and set the fields it reads:
///
/// ```
/// use std::time::Duration;
/// use lro_poller::policy::PollContext;
/// use lro_poller::{AsyncJobStatus, JobState};
///
/// let status = AsyncJobStatus::new(JobState::InProgress).with_percentage(40.0);
/// let mut ctx = PollContext::new(2, Duration::from_secs(8));
/// ctx.last_status = Some(&status);
/// ctx.retry_after = Some(Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PollContext<'a> {
    /// Polls sent so far (including ones that failed).
    pub attempt: u32,
    /// Time since the operation started, on the operation's timer.
    pub elapsed: Duration,
    /// Time left before the policy's deadline; `None` without a deadline.
    pub remaining: Option<Duration>,
    /// The last status read, if any.
    pub last_status: Option<&'a AsyncJobStatus>,
    /// The server's `Retry-After` on the last answer, uncapped.
    pub retry_after: Option<Duration>,
    /// The delay before the last poll, if there was one.
    pub previous_delay: Option<Duration>,
    /// How many failures to read the status came in a row just now (0 after a
    /// successful read).
    pub consecutive_failures: u32,
    /// Whether `elapsed` counts from the job's own start: true when this
    /// operation sent the request that started the job
    /// ([`Operation::start`](crate::Operation::start)), so the job had made
    /// no progress at `elapsed` zero; false when it monitors or resumes a job
    /// started elsewhere, which may be anywhere along.
    pub from_job_start: bool,
}

impl<'a> PollContext<'a> {
    /// A context after `attempt` polls, `elapsed` into the operation.
    pub fn new(attempt: u32, elapsed: Duration) -> Self {
        PollContext {
            attempt,
            elapsed,
            remaining: None,
            last_status: None,
            retry_after: None,
            previous_delay: None,
            consecutive_failures: 0,
            from_job_start: false,
        }
    }

    /// Sets the time left before the deadline.
    #[cfg(test)]
    pub(crate) fn with_remaining(mut self, remaining: Option<Duration>) -> Self {
        self.remaining = remaining;
        self
    }

    /// Sets the last status.
    #[cfg(test)]
    pub(crate) fn with_last_status(mut self, status: &'a AsyncJobStatus) -> Self {
        self.last_status = Some(status);
        self
    }

    /// Sets the server's `Retry-After`.
    #[cfg(test)]
    pub(crate) fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Sets the previous delay.
    #[cfg(test)]
    pub(crate) fn with_previous_delay(mut self, delay: Option<Duration>) -> Self {
        self.previous_delay = delay;
        self
    }

    /// Sets the count of consecutive failures.
    #[cfg(test)]
    pub(crate) fn with_consecutive_failures(mut self, failures: u32) -> Self {
        self.consecutive_failures = failures;
        self
    }

    /// Sets whether `elapsed` counts from the job's own start.
    #[cfg(test)]
    pub(crate) fn with_from_job_start(mut self, from_job_start: bool) -> Self {
        self.from_job_start = from_job_start;
        self
    }
}
