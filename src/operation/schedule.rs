//! The schedule: the polling policy's running state, the polls sent and the
//! failures in a row, when the next poll is due, and what to do next.

use std::time::{Duration, SystemTime};

use crate::policy::{Decision, ErrorPolicy, Pacer, PollContext, PollPolicy, Step};
use crate::resume::{SavedSchedule, from_ms, to_ms};

/// `time` in milliseconds since the Unix epoch, rounded up.
fn ceil_ms(time: SystemTime) -> u64 {
    let ms = to_ms(time);
    if from_ms(ms) < time {
        ms.saturating_add(1)
    } else {
        ms
    }
}
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
    /// When the next poll is due (elapsed); `None` while one is in flight.
    due: Option<Duration>,
    /// When the last poll was sent (elapsed).
    last_poll: Option<Duration>,
    /// The last `Retry-After` and when it was read (elapsed).
    hint: Option<(Duration, Duration)>,
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
            due: None,
            last_poll: None,
            hint: None,
        }
    }

    /// Takes up the schedule a token saved. The resumed operation's elapsed
    /// time counts from the token's start time, as the saved times do;
    /// `due_ms` is the token's due time on the wall clock, which wins when
    /// it disagrees with the exact one (someone changed it).
    pub(super) fn restore(
        &mut self,
        saved: &SavedSchedule,
        started: SystemTime,
        due_ms: Option<u64>,
    ) {
        let to_ms = |since_start: Duration| started.checked_add(since_start).map(ceil_ms);
        self.due = match (saved.due, due_ms) {
            (Some(exact), Some(ms)) if to_ms(exact) == Some(ms) => Some(exact),
            (_, Some(ms)) => Some(from_ms(ms).duration_since(started).unwrap_or_default()),
            (_, None) => None,
        };
        self.last_poll = saved.last_poll;
        self.hint = saved.retry_after;
        self.previous_delay = saved.previous_delay;
        self.failures = saved.failures;
        self.from_job_start |= saved.from_job_start;
        if let Some(backoff) = &saved.backoff {
            self.pacer.restore(backoff);
        }
    }

    /// The schedule to keep in a token, and the due time on the wall clock
    /// (milliseconds since the Unix epoch, rounded up: never sooner).
    /// `behind` is how far the operation's start is past the token's
    /// (whole-millisecond) start time, `started` the token's start time.
    pub(super) fn save(
        &self,
        started: SystemTime,
        behind: Duration,
    ) -> (SavedSchedule, Option<u64>) {
        let since_start = |elapsed: Duration| elapsed.saturating_add(behind);
        let due = self.due.map(since_start);
        let saved = SavedSchedule {
            due,
            last_poll: self.last_poll.map(since_start),
            previous_delay: self.previous_delay,
            from_job_start: self.from_job_start,
            failures: self.failures,
            retry_after: self.hint.map(|(read, hint)| (since_start(read), hint)),
            backoff: self.pacer.save(),
        };
        (
            saved,
            due.and_then(|due| started.checked_add(due)).map(ceil_ms),
        )
    }

    /// When the next poll is due (elapsed); `None` while one is in flight or
    /// before the first decision.
    pub(super) fn due(&self) -> Option<Duration> {
        self.due
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

    /// One more poll sent, `elapsed` into the operation.
    pub(super) fn count_poll(&mut self, elapsed: Duration) {
        self.polls = self.polls.saturating_add(1);
        self.last_poll = Some(elapsed);
        self.due = None;
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

    /// A sleep of `delay` begins, `elapsed` into the operation.
    pub(super) fn slept(&mut self, delay: Duration, elapsed: Duration) {
        self.previous_delay = Some(delay);
        self.due = Some(elapsed.saturating_add(delay));
    }

    /// What to do after a status or a failure, `elapsed` into the operation.
    pub(super) fn decide(
        &mut self,
        elapsed: Duration,
        last_status: Option<&AsyncJobStatus>,
        retry_after: Option<Duration>,
    ) -> Decision {
        self.hint = retry_after.map(|hint| (elapsed, hint));
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
    ///
    /// A resumed operation whose token says when the next poll is due waits
    /// until then instead — at least the floor (and the last `Retry-After`)
    /// after the last poll, at most until the deadline.
    pub(super) fn first(&mut self, retry_after: Option<Duration>, elapsed: Duration) -> Decision {
        if let Some(due) = self.due.take() {
            return self.resumed(due, elapsed);
        }
        self.hint = retry_after.map(|hint| (elapsed, hint));
        let policy = self.pacer.policy();
        let delay = policy.first_delay(retry_after, self.from_job_start);
        policy.limit(delay, self.polls, elapsed)
    }

    /// The first decision of a resumed operation whose next poll was due at
    /// `due`, now `elapsed` into it.
    fn resumed(&self, due: Duration, elapsed: Duration) -> Decision {
        let policy = self.pacer.policy();
        let mut at = due;
        if let Some(last) = self.last_poll {
            at = at.max(last.saturating_add(policy.min_interval()));
        }
        if let Some((read, hint)) = self.hint {
            let honoured = policy.with_hint(Duration::ZERO, Some(hint));
            at = at.max(read.saturating_add(honoured));
        }
        let delay = at.saturating_sub(elapsed);
        if policy.max_polls().is_some_and(|max| self.polls >= max) {
            return Decision::PollLimitExceeded;
        }
        match policy.remaining(elapsed) {
            Some(remaining) if remaining.is_zero() => Decision::DeadlineExceeded,
            Some(remaining) => Decision::PollAfter(delay.min(remaining)),
            None => Decision::PollAfter(delay),
        }
    }
}
