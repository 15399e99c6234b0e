//! The rules around a backoff: [`PollPolicy`] (initial delay, `Retry-After`,
//! the floor, a poll limit and a deadline), its defaults, and the decision
//! they reach.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use super::backoff::{Backoff, BackoffBuilder, DynBuilder};
use super::progress::ProgressBuilder;

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

/// What a [`Pacer`](super::Pacer) decided after an answer that did not end the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Poll again after this delay.
    PollAfter(Duration),
    /// The deadline has been reached (or the time left is shorter than the
    /// floor, so no poll fits before it).
    DeadlineExceeded,
    /// The poll limit has been reached.
    PollLimitExceeded,
    /// The backoff gave up, for this reason ([`Step::Stop`](super::Step::Stop)).
    Stopped(Cow<'static, str>),
}

/// The default cap on a server's `Retry-After`: 10 minutes.
pub(crate) const DEFAULT_RETRY_AFTER_CAP: Duration = Duration::from_secs(600);

/// The default policy's delay before the first poll: 1 s. A poll sent with
/// the start would see 0%; one sent a second later already gives the job's
/// rate (see [`ProgressBuilder`]), and sees the jobs that ended at once.
pub(crate) const DEFAULT_INITIAL_DELAY: Duration = Duration::from_secs(1);

/// The default overall deadline: 24 hours. A job that never ends is not polled
/// forever; use [`PollPolicy::without_deadline`] to wait without limit.
pub(crate) const DEFAULT_DEADLINE: Duration = Duration::from_secs(24 * 3600);

/// The default floor under every delay between two requests to a monitor:
/// 1 s, the minimum Azure enforces. See [`PollPolicy::with_min_interval`].
pub(crate) const DEFAULT_MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The rules around a backoff: initial delay, `Retry-After`, a floor, a poll
/// limit and a deadline.
///
/// A `PollPolicy` is configuration: `Clone + Send + Sync`, and cloning it
/// copies one pointer, so an SDK can keep one in its options and hand it to a
/// million operations. Each operation makes its own running state from it
/// (a fresh backoff from the builder, and the rules, shared).
///
/// The default is [`ProgressBuilder::new()`]: when the monitor reports
/// `percentageComplete`, the next poll lands just after the predicted
/// completion (1 s to 1 minute); when it does not, an exponential backoff from
/// 1 s by ×1.5 up to 30 s with equal jitter. Around it: a 1 s initial delay,
/// `Retry-After` as a floor capped at 10 minutes, a 1 s floor under every
/// delay, no poll limit, and a 24-hour deadline. The choice is measured against the SDKs'
/// defaults by `examples/policy_sim/` (see `docs/polling-efficiency.md`).
///
/// **The floor.** Whatever the backoff or the server says — a zero delay,
/// `Retry-After: 0`, a date in the past, garbage, [`RetryAfterMode::Replace`],
/// the deadline-aware last poll — two requests to the same monitor are at
/// least [`min_interval`](Self::min_interval) apart (the delay is counted
/// from the answer, so the request's own time adds to it). The first poll
/// after the start request is floored too; the first poll of a monitored or
/// resumed job follows the initial delay alone. When the time left before the
/// deadline is shorter than the floor, the operation ends with
/// [`Error::GaveUp`](crate::Error::GaveUp) instead of
/// polling sooner.
///
/// ```
/// use std::time::Duration;
/// use lro_poller::policy::{ExponentialBuilder, PollPolicy};
///
/// // Kept in an SDK's options; cloned into every operation.
/// #[derive(Clone, Debug)]
/// struct ClientOptions {
///     polling: PollPolicy,
/// }
///
/// let options = ClientOptions {
///     polling: PollPolicy::new(ExponentialBuilder::new(
///             Duration::from_secs(2), 2.0, Duration::from_secs(60)))
///         .with_deadline(Duration::from_secs(3600)),
/// };
/// let for_one_operation = options.polling.clone();
/// assert_eq!(for_one_operation.min_interval(), Duration::from_secs(1));
/// ```
#[derive(Debug, Clone)]
pub struct PollPolicy {
    rules: Arc<Rules>,
}

#[derive(Debug, Clone)]
struct Rules {
    backoff: Arc<dyn DynBuilder>,
    initial_delay: Duration,
    min_interval: Duration,
    max_polls: Option<u32>,
    deadline: Option<Duration>,
    retry_after: RetryAfterMode,
    retry_after_cap: Duration,
}

// Configuration to share across threads: a compile-time proof.
const _: () = {
    const fn assert_config<T: Clone + Send + Sync + std::fmt::Debug>() {}
    assert_config::<PollPolicy>();
};

impl Default for PollPolicy {
    /// The default policy (see the type's documentation); every default
    /// policy shares one configuration.
    fn default() -> Self {
        static SHARED: std::sync::OnceLock<PollPolicy> = std::sync::OnceLock::new();
        SHARED
            .get_or_init(|| {
                PollPolicy::new(ProgressBuilder::new()).with_initial_delay(DEFAULT_INITIAL_DELAY)
            })
            .clone()
    }
}

impl PollPolicy {
    /// A policy around `backoff` with the default rules: no initial delay, a
    /// 1 s floor, `Retry-After` as a floor capped at 10 minutes, no poll
    /// limit, a 24-hour deadline.
    pub fn new(backoff: impl BackoffBuilder + 'static) -> Self {
        PollPolicy {
            rules: Arc::new(Rules {
                backoff: Arc::new(backoff),
                initial_delay: Duration::ZERO,
                min_interval: DEFAULT_MIN_INTERVAL,
                max_polls: None,
                deadline: Some(DEFAULT_DEADLINE),
                retry_after: RetryAfterMode::Floor,
                retry_after_cap: DEFAULT_RETRY_AFTER_CAP,
            }),
        }
    }

    fn rules(&mut self) -> &mut Rules {
        Arc::make_mut(&mut self.rules)
    }

    /// Waits `delay` before the first poll (a `Retry-After` on the start
    /// response still counts as a floor). Default: none (1 s in
    /// [`PollPolicy::default`]).
    pub fn with_initial_delay(mut self, delay: Duration) -> Self {
        self.rules().initial_delay = delay;
        self
    }

    /// The floor under every delay between two requests to the same monitor
    /// (default 1 s, the minimum Azure enforces). Lowering it lets a zero
    /// backoff or a server's `Retry-After: 0` poll as fast as answers come
    /// back: meant for tests and simulations, and for services that ask for
    /// it. `Duration::ZERO` removes the floor.
    pub fn with_min_interval(mut self, interval: Duration) -> Self {
        self.rules().min_interval = interval;
        self
    }

    /// Gives up after `polls` polls (counting failed ones).
    pub fn with_max_polls(mut self, polls: u32) -> Self {
        self.rules().max_polls = Some(polls);
        self
    }

    /// Gives up `deadline` after the operation started (default 24 hours). When the next delay
    /// would cross the deadline, the policy polls once more exactly at the
    /// deadline instead of sleeping past it or giving up early.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.rules().deadline = Some(deadline);
        self
    }

    /// Polls until the job ends, however long it takes.
    pub fn without_deadline(mut self) -> Self {
        self.rules().deadline = None;
        self
    }

    /// How `Retry-After` combines with the backoff (default
    /// [`RetryAfterMode::Floor`]).
    pub fn with_retry_after(mut self, mode: RetryAfterMode) -> Self {
        self.rules().retry_after = mode;
        self
    }

    /// The most a `Retry-After` can make the operation wait (default 10 minutes).
    pub fn with_retry_after_cap(mut self, cap: Duration) -> Self {
        self.rules().retry_after_cap = cap;
        self
    }

    /// The delay before the first poll.
    pub fn initial_delay(&self) -> Duration {
        self.rules.initial_delay
    }

    /// The floor under every delay between two requests to a monitor.
    pub fn min_interval(&self) -> Duration {
        self.rules.min_interval
    }

    /// The overall deadline, if any.
    pub fn deadline(&self) -> Option<Duration> {
        self.rules.deadline
    }

    /// The poll limit, if any.
    pub fn max_polls(&self) -> Option<u32> {
        self.rules.max_polls
    }

    /// How `Retry-After` is used.
    pub fn retry_after_mode(&self) -> RetryAfterMode {
        self.rules.retry_after
    }

    /// The cap on `Retry-After`.
    pub fn retry_after_cap(&self) -> Duration {
        self.rules.retry_after_cap
    }

    /// A fresh backoff from this policy's builder, for one operation's
    /// [`Pacer`](super::Pacer).
    pub(super) fn build_backoff(&self) -> Box<dyn Backoff> {
        self.rules.backoff.build_boxed()
    }

    /// Combines a delay with the server's `Retry-After` per the mode and cap.
    pub(crate) fn with_hint(&self, delay: Duration, retry_after: Option<Duration>) -> Duration {
        match (self.rules.retry_after, retry_after) {
            (RetryAfterMode::Floor, Some(hint)) => delay.max(hint.min(self.rules.retry_after_cap)),
            (RetryAfterMode::Replace, Some(hint)) => hint.min(self.rules.retry_after_cap),
            _ => delay,
        }
    }

    /// `delay`, raised to the floor.
    pub(crate) fn floor(&self, delay: Duration) -> Duration {
        delay.max(self.rules.min_interval)
    }

    /// The time left before the deadline, `elapsed` into the operation;
    /// `None` without a deadline.
    pub(crate) fn remaining(&self, elapsed: Duration) -> Option<Duration> {
        self.rules
            .deadline
            .map(|deadline| deadline.saturating_sub(elapsed))
    }

    /// The delay before the first poll: the initial delay with the start
    /// response's `Retry-After`; floored when a request was sent before it
    /// (`after_start`).
    pub(crate) fn first_delay(&self, retry_after: Option<Duration>, after_start: bool) -> Duration {
        let delay = self.with_hint(self.rules.initial_delay, retry_after);
        if after_start {
            self.floor(delay)
        } else {
            delay
        }
    }

    /// Applies the poll limit and the deadline to `delay`, `elapsed` into the
    /// operation after `polls` polls. A delay that would cross the deadline
    /// becomes the time left (the last poll, at the deadline) — unless the
    /// time left is shorter than the floor: then the deadline is reached.
    pub(crate) fn limit(&self, delay: Duration, polls: u32, elapsed: Duration) -> Decision {
        if self.rules.max_polls.is_some_and(|max| polls >= max) {
            return Decision::PollLimitExceeded;
        }
        match self.remaining(elapsed) {
            Some(remaining) if remaining.is_zero() => Decision::DeadlineExceeded,
            Some(remaining) if delay > remaining => {
                if remaining < self.rules.min_interval {
                    Decision::DeadlineExceeded
                } else {
                    Decision::PollAfter(remaining)
                }
            }
            _ => Decision::PollAfter(delay),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::progress::{PROGRESS_MAX_DELAY, PROGRESS_MIN_DELAY};
    use crate::policy::{ConstantBuilder, Pacer, PollContext};
    use crate::status::AsyncJobStatus;

    /// The delay a pacer whose backoff never stops gives.
    fn wait(pacer: &mut Pacer, ctx: &PollContext<'_>) -> Duration {
        pacer.delay(ctx).delay().expect("a delay")
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn settings_read_back_and_clones_share_them() {
        let p = PollPolicy::new(ConstantBuilder::new(secs(5)))
            .with_min_interval(Duration::from_millis(250))
            .with_max_polls(7)
            .with_retry_after(RetryAfterMode::Replace)
            .with_retry_after_cap(secs(42));
        let q = p.clone();
        assert_eq!(q.min_interval(), Duration::from_millis(250));
        assert_eq!(q.max_polls(), Some(7));
        assert_eq!(q.retry_after_mode(), RetryAfterMode::Replace);
        assert_eq!(q.retry_after_cap(), secs(42));
        assert!(Arc::ptr_eq(&p.rules, &q.rules), "a clone shares the rules");
        assert_eq!(DEFAULT_DEADLINE, secs(86_400));
        let d = PollPolicy::default();
        assert_eq!(d.min_interval(), secs(1));
        assert!(Arc::ptr_eq(&d.rules, &PollPolicy::default().rules));
    }

    #[test]
    fn the_deadline_and_the_floor_meet() {
        let p = PollPolicy::new(ConstantBuilder::new(secs(10))).with_deadline(secs(21));
        // Exactly the floor left: the last poll comes then.
        assert_eq!(p.limit(secs(10), 2, secs(20)), Decision::PollAfter(secs(1)));
        // Less than the floor left: no poll fits.
        let late = secs(20) + Duration::from_millis(500);
        assert_eq!(p.limit(secs(10), 2, late), Decision::DeadlineExceeded);
        // Nothing left, even without a floor and with a zero delay.
        let bare = p.clone().with_min_interval(Duration::ZERO);
        assert_eq!(
            bare.limit(Duration::ZERO, 2, secs(21)),
            Decision::DeadlineExceeded
        );
    }

    #[test]
    fn default_policy_is_bounded() {
        let mut p = PollPolicy::default().start();
        assert_eq!(p.policy().deadline(), Some(DEFAULT_DEADLINE));
        assert_eq!(p.policy().initial_delay(), DEFAULT_INITIAL_DELAY);
        // No progress reported: the exponential fallback, 1 s to 30 s.
        for attempt in [1, 2, 10, 1000, u32::MAX] {
            let d = wait(&mut p, &PollContext::new(attempt, secs(0)));
            assert!(d >= secs(1) && d <= secs(30), "{d:?}");
        }
        // Progress so slow the job needs hours: still polled every minute.
        let mut p = PollPolicy::default().start();
        let start = AsyncJobStatus::new(crate::JobState::InProgress).with_percentage(0.0);
        let slow = AsyncJobStatus::new(crate::JobState::InProgress).with_percentage(0.1);
        wait(
            &mut p,
            &PollContext::new(1, secs(0)).with_last_status(&start),
        );
        let d = wait(
            &mut p,
            &PollContext::new(2, secs(100)).with_last_status(&slow),
        );
        assert_eq!(d, PROGRESS_MAX_DELAY);
        // Nearly done: polled again after the minimum, not the fallback's.
        let mut p = PollPolicy::default().start();
        let half = AsyncJobStatus::new(crate::JobState::InProgress).with_percentage(50.0);
        let near = AsyncJobStatus::new(crate::JobState::InProgress).with_percentage(99.99);
        wait(
            &mut p,
            &PollContext::new(1, secs(500)).with_last_status(&half),
        );
        let d = wait(
            &mut p,
            &PollContext::new(2, secs(1000)).with_last_status(&near),
        );
        assert_eq!(d, PROGRESS_MIN_DELAY);
    }
}
