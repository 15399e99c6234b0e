//! The delays of a Smithy waiter (AWS SDKs), per the Smithy waiters spec.
//!
//! Spec: <https://smithy.io/2.0/additional-specs/waiters.html#waiter-retries>.

use std::borrow::Cow;
use std::time::Duration;

use super::backoff::{Backoff, BackoffBuilder, Step, read_state, write_state};
use super::context::PollContext;

/// The Smithy spec's default shortest delay: 2 s.
const SMITHY_MIN_DELAY: Duration = Duration::from_secs(2);
/// The Smithy spec's default longest delay: 120 s.
const SMITHY_MAX_DELAY: Duration = Duration::from_secs(120);

/// The delays of a Smithy waiter: exponential with full jitter in whole
/// seconds, aware of the time left.
///
/// After attempt `n` (1 after the first request), the wait is a uniformly
/// random whole number of seconds in `[min, min·2^(n−1)]`, capped at `max`
/// (from the attempt ceiling `log2(max / min) + 1` on, in `[min, max]`).
/// Then the *maximum wait time* (the waiter's deadline) is honoured:
///
/// - when the time left after that wait would be `min` or less, the wait is
///   the *whole time left*, and one last attempt is made at the maximum wait
///   time (the current spec, "Waiter retries"; smithy-rs does the same — an
///   older text stopped `min` early);
/// - no wait ever ends past the maximum wait time;
/// - when no time is left, the waiter stops ([`SmithyBuilder::delay`]
///   returns `None`).
///
/// Delays are whole seconds, as in the spec: sub-second parts of `min` and
/// `max` are dropped, a `min` under 1 s is taken as 1 s and a `max` under
/// `min` as `min`.
///
/// ```
/// use std::time::Duration;
/// use lro_poller::policy::SmithyBuilder;
///
/// let secs = Duration::from_secs;
/// // The spec's defaults (2 s, 120 s) and a 5-minute maximum wait time.
/// let waiter = SmithyBuilder::new(secs(2), secs(120), secs(300));
/// // The third attempt waits between 2 and 8 s; `draw` picks the top here.
/// let top = |_low: u64, high: u64| high;
/// assert_eq!(waiter.delay(3, secs(100), top), Some(secs(8)));
/// // 11 s left: an 8 s wait leaves 3 s, more than `min`: as drawn.
/// assert_eq!(waiter.delay(3, secs(11), top), Some(secs(8)));
/// // 10 s left: an 8 s wait would leave only `min`; wait all 10 s and make
/// // one last attempt at the maximum wait time.
/// assert_eq!(waiter.delay(3, secs(10), top), Some(secs(10)));
/// // Nothing left: stop.
/// assert_eq!(waiter.delay(3, Duration::ZERO, top), None);
/// ```
///
/// As a [`BackoffBuilder`], each operation gets its own random generator;
/// the time left is the smaller of the maximum wait time (from the
/// operation's start) and the policy's deadline, and the operation ends with
/// [`Error::GaveUp`](crate::Error::GaveUp) when none is left
/// (or at the policy's deadline first). A `PollPolicy` still puts its floor
/// (1 s by default) under the delays. The default is the spec's 2 s and
/// 120 s, within 5 minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SmithyBuilder {
    min: u64,
    max: u64,
    max_wait: Duration,
    ceiling: u32,
    /// Attempts made before the first poll (a waiter's start request).
    offset: u32,
    seed: Option<u64>,
}

impl Default for SmithyBuilder {
    /// The spec's defaults (2 s, 120 s) with a 5-minute maximum wait time.
    fn default() -> Self {
        SmithyBuilder::new(SMITHY_MIN_DELAY, SMITHY_MAX_DELAY, Duration::from_secs(300))
    }
}

impl SmithyBuilder {
    /// Delays between `min_delay` and `max_delay`, within `max_wait` of the
    /// first attempt.
    pub fn new(min_delay: Duration, max_delay: Duration, max_wait: Duration) -> Self {
        let min = min_delay.as_secs().max(1);
        let max = max_delay.as_secs().max(min);
        // attemptCeiling = log2(maxDelay / minDelay) + 1, truncated.
        let ceiling = ((max as f64 / min as f64).log2() + 1.0) as u32;
        SmithyBuilder {
            min,
            max,
            max_wait,
            ceiling,
            offset: 0,
            seed: None,
        }
    }

    /// Counts `attempts` requests made before the first poll as attempts:
    /// a waiter's start request is its first attempt, so the wait after poll
    /// `n` is that of attempt `n + 1`.
    #[cfg(any(test, feature = "waiters"))]
    pub(crate) fn with_attempt_offset(mut self, attempts: u32) -> Self {
        self.offset = attempts;
        self
    }

    /// Seeds every operation's random generator (for tests and
    /// simulations: every operation built from it draws the same delays).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The shortest delay (whole seconds).
    pub fn min_delay(&self) -> Duration {
        Duration::from_secs(self.min)
    }

    /// The longest delay (whole seconds).
    pub fn max_delay(&self) -> Duration {
        Duration::from_secs(self.max)
    }

    /// The maximum wait time: the waiter's deadline, from its first attempt.
    pub fn max_wait(&self) -> Duration {
        self.max_wait
    }

    /// The time left at `elapsed` since the first attempt.
    pub(crate) fn remaining(&self, elapsed: Duration) -> Duration {
        self.max_wait.saturating_sub(elapsed)
    }

    /// The top of the random range after attempt `attempt` (whole seconds):
    /// `min·2^(attempt−1)`, or `max` from the attempt ceiling on.
    pub(crate) fn ceiling_delay(&self, attempt: u32) -> Duration {
        let attempt = attempt.max(1);
        let secs = if attempt > self.ceiling {
            self.max
        } else {
            self.min
                .saturating_mul(1u64 << (attempt - 1).min(63))
                .min(self.max)
        };
        Duration::from_secs(secs)
    }

    /// The wait after attempt `attempt` (1 after the first request) with
    /// `remaining` time left, or `None` when the waiter should stop.
    /// `draw(low, high)` returns a whole number in `[low, high]` (the random
    /// source: `fastrand::u64(low..=high)` in production, anything in tests).
    pub fn delay(
        &self,
        attempt: u32,
        remaining: Duration,
        draw: impl FnOnce(u64, u64) -> u64,
    ) -> Option<Duration> {
        if remaining.is_zero() {
            return None;
        }
        let high = self.ceiling_delay(attempt).as_secs();
        let drawn = Duration::from_secs(draw(self.min, high).clamp(self.min, high));
        // The last wait: the whole time left, for one last attempt at the end.
        if remaining.saturating_sub(drawn) <= Duration::from_secs(self.min) {
            return Some(remaining);
        }
        Some(drawn)
    }
}

impl BackoffBuilder for SmithyBuilder {
    type Backoff = SmithyBackoff;

    fn build(&self) -> SmithyBackoff {
        SmithyBackoff {
            config: *self,
            rng: self
                .seed
                .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed),
        }
    }
}

/// A [`SmithyBuilder`]'s running state: the configuration and a random
/// generator.
#[derive(Debug, Clone)]
pub struct SmithyBackoff {
    config: SmithyBuilder,
    rng: fastrand::Rng,
}

impl Backoff for SmithyBackoff {
    fn next(&mut self, ctx: &PollContext<'_>) -> Step {
        let mut remaining = self.config.remaining(ctx.elapsed);
        if let Some(policy) = ctx.remaining {
            remaining = remaining.min(policy);
        }
        let rng = &mut self.rng;
        let attempt = ctx.attempt.saturating_add(self.config.offset);
        match self
            .config
            .delay(attempt, remaining, |low, high| rng.u64(low..=high))
        {
            Some(delay) => Step::Wait(delay),
            None => Step::Stop(Cow::Borrowed("the waiter's maximum wait time is reached")),
        }
    }

    /// The attempt count is the token's poll count; the generator is kept
    /// here.
    fn save_state(&self) -> Option<serde_json::Value> {
        write_state(&self.rng.get_seed())
    }

    fn restore_state(&mut self, saved: &serde_json::Value) -> bool {
        read_state::<u64>(saved)
            .map(|seed| self.rng.seed(seed))
            .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    const LOW: fn(u64, u64) -> u64 = |low, _| low;
    const HIGH: fn(u64, u64) -> u64 = |_, high| high;

    #[test]
    fn the_range_doubles_up_to_the_ceiling_then_stays_at_max() {
        let w = SmithyBuilder::new(secs(2), secs(120), Duration::MAX);
        let tops: Vec<u64> = (1..=9).map(|a| w.ceiling_delay(a).as_secs()).collect();
        // Ceiling: log2(60) + 1 = 6.9 → 6; attempt 7 on is `max`.
        assert_eq!(tops, [2, 4, 8, 16, 32, 64, 120, 120, 120]);
        assert_eq!(w.ceiling_delay(u32::MAX), secs(120));
        assert_eq!(w.delay(5, secs(10_000), LOW), Some(secs(2)));
        assert_eq!(w.delay(5, secs(10_000), HIGH), Some(secs(32)));
    }

    #[test]
    fn draws_are_whole_seconds_in_range() {
        let w = SmithyBuilder::new(secs(15), secs(120), secs(3600));
        let mut rng = fastrand::Rng::with_seed(7);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..500 {
            let d = w
                .delay(3, secs(3000), |low, high| rng.u64(low..=high))
                .unwrap();
            assert!(d >= secs(15) && d <= secs(60), "{d:?}");
            assert_eq!(d.subsec_nanos(), 0);
            seen.insert(d.as_secs());
        }
        // Uniform over 46 values: every one shows up in 500 draws.
        assert_eq!(seen.len(), 46);
        // A draw outside the range is brought back into it.
        assert_eq!(w.delay(3, secs(3000), |_, _| 0), Some(secs(15)));
        assert_eq!(w.delay(3, secs(3000), |_, _| u64::MAX), Some(secs(60)));
    }

    #[test]
    fn the_last_wait_is_the_whole_time_left() {
        let w = SmithyBuilder::new(secs(2), secs(120), secs(60));
        // 20 s left, a 32 s draw: the whole 20 s, the last attempt at the end.
        assert_eq!(w.delay(6, secs(20), HIGH), Some(secs(20)));
        // 12 s left, a 10 s draw would leave exactly `min`: the whole 12 s.
        assert_eq!(w.delay(4, secs(12), |_, _| 10), Some(secs(12)));
        // 13 s left: a 10 s draw leaves 3 s, more than `min`: as drawn.
        assert_eq!(w.delay(4, secs(13), |_, _| 10), Some(secs(10)));
        // 12 s left, a 9 s draw leaves 3 s: as drawn.
        assert_eq!(w.delay(4, secs(12), |_, _| 9), Some(secs(9)));
        // Less than `min` left: still one last attempt, at the end.
        assert_eq!(
            w.delay(1, Duration::from_millis(1500), HIGH),
            Some(Duration::from_millis(1500))
        );
        // Never past the maximum wait time, and either as drawn (leaving more
        // than `min`) or exactly the time left.
        for left in 1..200 {
            let d = w.delay(9, secs(left), HIGH).unwrap();
            assert!(d <= secs(left), "{left}: {d:?}");
            assert!(d == secs(left) || d + secs(2) < secs(left), "{left}: {d:?}");
        }
    }

    #[test]
    fn stops_when_no_time_is_left() {
        let w = SmithyBuilder::new(secs(2), secs(120), secs(60));
        assert_eq!(w.delay(1, Duration::ZERO, HIGH), None);
        assert_eq!(w.delay(1, secs(2), HIGH), Some(secs(2)));
        assert_eq!(w.remaining(secs(61)), Duration::ZERO);
    }

    #[test]
    fn as_a_backoff_it_stops_when_time_is_up() {
        let config = SmithyBuilder::new(secs(2), secs(120), secs(60));
        let mut backoff = config.with_seed(1).build();
        let at = |attempt, elapsed| PollContext::new(attempt, secs(elapsed));
        let Step::Wait(first) = backoff.next(&at(1, 0)) else {
            panic!("a wait");
        };
        assert_eq!(first, secs(2));
        // The policy's deadline is nearer than the maximum wait time.
        let near = at(3, 10).with_remaining(Some(secs(5)));
        assert_eq!(backoff.next(&near).delay(), Some(secs(5)));
        // 2 s left: the whole 2 s, then nothing is left.
        assert_eq!(backoff.next(&at(9, 58)).delay(), Some(secs(2)));
        assert!(matches!(backoff.next(&at(10, 60)), Step::Stop(_)));
    }

    #[test]
    fn odd_configurations_are_made_sane() {
        let w = SmithyBuilder::new(Duration::from_millis(300), Duration::ZERO, secs(60));
        assert_eq!((w.min_delay(), w.max_delay()), (secs(1), secs(1)));
        assert_eq!(w.delay(50, secs(30), HIGH), Some(secs(1)));
        let huge = SmithyBuilder::new(secs(1), Duration::MAX, Duration::MAX);
        assert_eq!(huge.ceiling_delay(70), Duration::from_secs(u64::MAX));
        assert_eq!(SmithyBuilder::default().max_wait(), secs(300));
    }
}
