//! When to poll next, and when to give up.
//!
//! Three pieces, all plain data with no I/O:
//!
//! - a [`Backoff`] gives the shape of the delays ([`Constant`], [`Exponential`],
//!   with [`Jitter`] and clamps from [`BackoffExt`]);
//! - a [`PollPolicy`] puts the rules around it: a delay before the first poll,
//!   the server's `Retry-After` (a floor under the backoff by default, or a
//!   replacement, always capped), a limit on polls and an overall deadline with
//!   a deadline-aware last poll;
//! - an [`ErrorPolicy`] says which failures to read the status are worth
//!   retrying, and how many times in a row.
//!
//! ```
//! use std::time::Duration;
//! use lro_poller::policy::{Exponential, PollPolicy, RetryAfterMode};
//!
//! let policy = PollPolicy::new(Exponential::new(
//!         Duration::from_millis(500), 1.5, Duration::from_secs(20)))
//!     .with_initial_delay(Duration::from_secs(1))
//!     .with_deadline(Duration::from_secs(15 * 60))
//!     .with_retry_after(RetryAfterMode::Floor)
//!     .with_retry_after_cap(Duration::from_secs(120));
//! ```

mod backoff;
mod error_policy;
mod progress;
mod retry_after;
mod smithy;

use std::time::Duration;

pub use backoff::{Backoff, BackoffExt, Clamped, Constant, Exponential, Jitter, Jittered, scale};
pub use error_policy::{ErrorPolicy, FailureClass};
pub use progress::{PROGRESS_MAX_DELAY, PROGRESS_MIN_DELAY, ProgressAware};
pub use retry_after::parse_retry_after;
pub(crate) use retry_after::parse_retry_after_with;
pub use smithy::{SMITHY_MAX_DELAY, SMITHY_MIN_DELAY, Smithy};

use crate::status::AsyncJobStatus;

/// What a [`Backoff`] sees when it picks the next delay.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PollContext<'a> {
    /// Polls sent so far (including ones that failed).
    pub attempt: u32,
    /// Time since the operation started, on the operation's timer.
    pub elapsed: Duration,
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
            last_status: None,
            retry_after: None,
            previous_delay: None,
            consecutive_failures: 0,
            from_job_start: false,
        }
    }

    /// Sets the last status.
    pub fn with_last_status(mut self, status: &'a AsyncJobStatus) -> Self {
        self.last_status = Some(status);
        self
    }

    /// Sets the server's `Retry-After`.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Sets the previous delay.
    pub fn with_previous_delay(mut self, delay: Option<Duration>) -> Self {
        self.previous_delay = delay;
        self
    }

    /// Sets the count of consecutive failures.
    pub fn with_consecutive_failures(mut self, failures: u32) -> Self {
        self.consecutive_failures = failures;
        self
    }

    /// Sets whether `elapsed` counts from the job's own start.
    pub fn with_from_job_start(mut self, from_job_start: bool) -> Self {
        self.from_job_start = from_job_start;
        self
    }
}

/// How a server's `Retry-After` combines with the backoff's delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RetryAfterMode {
    /// Wait at least what the server asks (capped), longer if the backoff says
    /// so. The default.
    #[default]
    Floor,
    /// Wait exactly what the server asks (capped) when it asks.
    Replace,
    /// Do not read `Retry-After`.
    Ignore,
}

/// What a [`PollPolicy`] decided after an answer that did not end the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Poll again after this delay.
    PollAfter(Duration),
    /// The deadline has been reached.
    DeadlineExceeded,
    /// The poll limit has been reached.
    PollLimitExceeded,
}

/// The default cap on a server's `Retry-After`: 10 minutes.
pub const DEFAULT_RETRY_AFTER_CAP: Duration = Duration::from_secs(600);

/// The default policy's delay before the first poll: 1 s. A poll sent with
/// the start would see 0%; one sent a second later already gives the job's
/// rate (see [`ProgressAware`]), and sees the jobs that ended at once.
pub const DEFAULT_INITIAL_DELAY: Duration = Duration::from_secs(1);

/// The default overall deadline: 24 hours. A job that never ends is not polled
/// forever; use [`PollPolicy::without_deadline`] to wait without limit.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(24 * 3600);

/// The rules around a [`Backoff`]: initial delay, `Retry-After`, poll limit and
/// deadline.
///
/// The default is [`ProgressAware::new()`]: when the monitor reports
/// `percentageComplete`, the next poll lands just after the predicted
/// completion (1 s to 1 minute); when it does not, an exponential backoff from
/// 1 s by ×1.5 up to 30 s with equal jitter. Around it: a 1 s initial delay
/// ([`DEFAULT_INITIAL_DELAY`]), `Retry-After` as a floor capped at 10 minutes, no poll limit, and a 24-hour
/// deadline. The choice is measured against the SDKs' defaults by
/// `examples/policy_sim.rs` (see the README's "Polling efficiency").
#[derive(Debug)]
pub struct PollPolicy {
    backoff: Box<dyn Backoff>,
    initial_delay: Duration,
    max_polls: Option<u32>,
    deadline: Option<Duration>,
    retry_after: RetryAfterMode,
    retry_after_cap: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy::new(ProgressAware::new()).with_initial_delay(DEFAULT_INITIAL_DELAY)
    }
}

impl PollPolicy {
    /// A policy around `backoff` with the default rules.
    pub fn new(backoff: impl Backoff + 'static) -> Self {
        PollPolicy {
            backoff: Box::new(backoff),
            initial_delay: Duration::ZERO,
            max_polls: None,
            deadline: Some(DEFAULT_DEADLINE),
            retry_after: RetryAfterMode::Floor,
            retry_after_cap: DEFAULT_RETRY_AFTER_CAP,
        }
    }

    /// Waits `delay` before the first poll (a `Retry-After` on the start
    /// response still counts as a floor).
    pub fn with_initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// Gives up after `polls` polls (counting failed ones).
    pub fn with_max_polls(mut self, polls: u32) -> Self {
        self.max_polls = Some(polls);
        self
    }

    /// Gives up `deadline` after the operation started. When the next delay
    /// would cross the deadline, the policy polls once more exactly at the
    /// deadline instead of sleeping past it or giving up early.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Polls until the job ends, however long it takes.
    pub fn without_deadline(mut self) -> Self {
        self.deadline = None;
        self
    }

    /// How `Retry-After` combines with the backoff.
    pub fn with_retry_after(mut self, mode: RetryAfterMode) -> Self {
        self.retry_after = mode;
        self
    }

    /// The most a `Retry-After` can make the operation wait (default 10 minutes).
    pub fn with_retry_after_cap(mut self, cap: Duration) -> Self {
        self.retry_after_cap = cap;
        self
    }

    /// The delay before the first poll.
    pub fn initial_delay(&self) -> Duration {
        self.initial_delay
    }

    /// The overall deadline, if any.
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// The poll limit, if any.
    pub fn max_polls(&self) -> Option<u32> {
        self.max_polls
    }

    /// How `Retry-After` is used.
    pub fn retry_after_mode(&self) -> RetryAfterMode {
        self.retry_after
    }

    /// The cap on `Retry-After`.
    pub fn retry_after_cap(&self) -> Duration {
        self.retry_after_cap
    }

    /// The delay the backoff and the server's hint agree on, before limits.
    pub fn delay(&mut self, ctx: &PollContext<'_>) -> Duration {
        let own = self.backoff.next_delay(ctx);
        self.with_hint(own, ctx.retry_after)
    }

    /// Combines a delay with the server's `Retry-After` per the mode and cap.
    pub fn with_hint(&self, delay: Duration, retry_after: Option<Duration>) -> Duration {
        match (self.retry_after, retry_after) {
            (RetryAfterMode::Floor, Some(hint)) => delay.max(hint.min(self.retry_after_cap)),
            (RetryAfterMode::Replace, Some(hint)) => hint.min(self.retry_after_cap),
            _ => delay,
        }
    }

    /// Applies the poll limit and the deadline to `delay`, `elapsed` into the
    /// operation after `polls` polls.
    pub fn limit(&self, delay: Duration, polls: u32, elapsed: Duration) -> Decision {
        if self.max_polls.is_some_and(|max| polls >= max) {
            return Decision::PollLimitExceeded;
        }
        match self.deadline {
            Some(deadline) => {
                let remaining = deadline.saturating_sub(elapsed);
                if remaining.is_zero() {
                    Decision::DeadlineExceeded
                } else {
                    Decision::PollAfter(delay.min(remaining))
                }
            }
            None => Decision::PollAfter(delay),
        }
    }

    /// The full decision after a poll: [`delay`](Self::delay), then
    /// [`limit`](Self::limit).
    pub fn decide(&mut self, ctx: &PollContext<'_>) -> Decision {
        let delay = self.delay(ctx);
        self.limit(delay, ctx.attempt, ctx.elapsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn retry_after_is_a_capped_floor_by_default() {
        let mut p = PollPolicy::new(Constant::new(secs(5))).with_retry_after_cap(secs(60));
        assert_eq!(p.delay(&PollContext::new(1, secs(0))), secs(5));
        let hint = |h| PollContext::new(1, secs(0)).with_retry_after(Some(h));
        assert_eq!(p.delay(&hint(secs(2))), secs(5));
        assert_eq!(p.delay(&hint(secs(20))), secs(20));
        assert_eq!(p.delay(&hint(secs(9_999_999_999))), secs(60));
        assert_eq!(p.delay(&hint(Duration::MAX)), secs(60));
    }

    #[test]
    fn retry_after_can_replace_or_be_ignored() {
        let hint = |h| PollContext::new(1, secs(0)).with_retry_after(Some(h));
        let mut replace =
            PollPolicy::new(Constant::new(secs(5))).with_retry_after(RetryAfterMode::Replace);
        assert_eq!(replace.delay(&hint(secs(2))), secs(2));
        assert_eq!(replace.delay(&hint(secs(3600))), DEFAULT_RETRY_AFTER_CAP);
        let mut ignore =
            PollPolicy::new(Constant::new(secs(5))).with_retry_after(RetryAfterMode::Ignore);
        assert_eq!(ignore.delay(&hint(secs(200))), secs(5));
    }

    #[test]
    fn deadline_aware_last_poll() {
        let mut p = PollPolicy::new(Constant::new(secs(10))).with_deadline(secs(25));
        assert_eq!(
            p.decide(&PollContext::new(1, secs(0))),
            Decision::PollAfter(secs(10))
        );
        assert_eq!(
            p.decide(&PollContext::new(2, secs(20))),
            Decision::PollAfter(secs(5))
        );
        assert_eq!(
            p.decide(&PollContext::new(3, secs(25))),
            Decision::DeadlineExceeded
        );
        assert_eq!(
            p.decide(&PollContext::new(3, secs(99))),
            Decision::DeadlineExceeded
        );
        let mut forever = PollPolicy::new(Constant::new(secs(10))).without_deadline();
        assert_eq!(
            forever.decide(&PollContext::new(u32::MAX, Duration::MAX)),
            Decision::PollAfter(secs(10))
        );
    }

    #[test]
    fn poll_limit() {
        let mut p = PollPolicy::new(Constant::new(secs(1))).with_max_polls(3);
        assert_eq!(
            p.decide(&PollContext::new(2, secs(0))),
            Decision::PollAfter(secs(1))
        );
        assert_eq!(
            p.decide(&PollContext::new(3, secs(0))),
            Decision::PollLimitExceeded
        );
    }

    #[test]
    fn default_policy_is_bounded() {
        let mut p = PollPolicy::default();
        assert_eq!(p.deadline(), Some(DEFAULT_DEADLINE));
        assert_eq!(p.initial_delay(), DEFAULT_INITIAL_DELAY);
        // No progress reported: the exponential fallback, 1 s to 30 s.
        for attempt in [1, 2, 10, 1000, u32::MAX] {
            let d = p.delay(&PollContext::new(attempt, secs(0)));
            assert!(d >= secs(1) && d <= secs(30), "{d:?}");
        }
        // Progress so slow the job needs hours: still polled every minute.
        let mut p = PollPolicy::default();
        let start = AsyncJobStatus::new(crate::JobState::InProgress).with_percentage(0.0);
        let slow = AsyncJobStatus::new(crate::JobState::InProgress).with_percentage(0.1);
        p.delay(&PollContext::new(1, secs(0)).with_last_status(&start));
        let d = p.delay(&PollContext::new(2, secs(100)).with_last_status(&slow));
        assert_eq!(d, PROGRESS_MAX_DELAY);
        // Nearly done: polled again after the minimum, not the fallback's.
        let mut p = PollPolicy::default();
        let half = AsyncJobStatus::new(crate::JobState::InProgress).with_percentage(50.0);
        let near = AsyncJobStatus::new(crate::JobState::InProgress).with_percentage(99.99);
        p.delay(&PollContext::new(1, secs(500)).with_last_status(&half));
        let d = p.delay(&PollContext::new(2, secs(1000)).with_last_status(&near));
        assert_eq!(d, PROGRESS_MIN_DELAY);
    }
}
