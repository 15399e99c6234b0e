//! The Smithy waiter delay: exponential backoff with jitter, in whole seconds,
//! bounded by the caller's maximum wait time.
//!
//! Attempt `n` (the first retry is `n = 1`) waits a random whole number of
//! seconds in `[minDelay, min(maxDelay, minDelay·2^(n−1))]`. When the time
//! left after that wait would be `minDelay` or less, the wait becomes the time
//! left, so that one last attempt is made at the deadline instead of a
//! pointless one just before it; no wait ever ends past the deadline, and none
//! starts once it is reached.

use std::time::Duration;

use crate::policy::{Backoff, PollContext, PollPolicy};

use super::Waiter;

/// The delay before retry `attempt` (1 for the first retry), or `None` when
/// no time is left.
///
/// `min_delay` and `max_delay` are whole seconds (a `max_delay` below
/// `min_delay` is taken as `min_delay`); `remaining` is the time left before
/// the maximum wait time; `random(low, high)` picks a whole number in
/// `low..=high`.
///
/// ```
/// use std::time::Duration;
/// use lro_poller::waiter::smithy_delay;
///
/// let highest = |_low: u64, high: u64| high;
/// // 2 s, 4 s, 8 s, … capped at 120 s.
/// assert_eq!(smithy_delay(1, 2, 120, Duration::from_secs(300), highest), Some(Duration::from_secs(2)));
/// assert_eq!(smithy_delay(3, 2, 120, Duration::from_secs(300), highest), Some(Duration::from_secs(8)));
/// assert_eq!(smithy_delay(9, 2, 120, Duration::from_secs(300), highest), Some(Duration::from_secs(120)));
/// // With 10 s left, an 8 s wait would leave 2 s (≤ minDelay): wait the 10 s and try once more.
/// assert_eq!(smithy_delay(3, 2, 120, Duration::from_secs(10), highest), Some(Duration::from_secs(10)));
/// assert_eq!(smithy_delay(3, 2, 120, Duration::ZERO, highest), None);
/// ```
pub fn smithy_delay(
    attempt: u32,
    min_delay: u64,
    max_delay: u64,
    remaining: Duration,
    random: impl FnOnce(u64, u64) -> u64,
) -> Option<Duration> {
    if remaining.is_zero() {
        return None;
    }
    let max_delay = max_delay.max(min_delay);
    let upper = 1u64
        .checked_shl(attempt.saturating_sub(1))
        .and_then(|factor| min_delay.checked_mul(factor))
        .map_or(max_delay, |delay| delay.min(max_delay));
    let delay = Duration::from_secs(random(min_delay, upper).clamp(min_delay, upper));
    if remaining.saturating_sub(delay) <= Duration::from_secs(min_delay) {
        Some(remaining)
    } else {
        Some(delay)
    }
}

/// The Smithy delay with its own random numbers: `minDelay`, `maxDelay` and the
/// maximum wait time of one waiter.
#[derive(Debug, Clone)]
pub struct SmithyDelay {
    min_delay: u64,
    max_delay: u64,
    max_wait: Duration,
    rng: fastrand::Rng,
}

impl SmithyDelay {
    /// Delays between `min_delay` and `max_delay` seconds within `max_wait`.
    pub fn new(min_delay: u64, max_delay: u64, max_wait: Duration) -> Self {
        SmithyDelay {
            min_delay,
            max_delay,
            max_wait,
            rng: fastrand::Rng::new(),
        }
    }

    /// The same, with a seeded random number generator (for reproducible runs).
    pub fn seeded(min_delay: u64, max_delay: u64, max_wait: Duration, seed: u64) -> Self {
        SmithyDelay {
            rng: fastrand::Rng::with_seed(seed),
            ..SmithyDelay::new(min_delay, max_delay, max_wait)
        }
    }

    /// The maximum wait time.
    pub fn max_wait(&self) -> Duration {
        self.max_wait
    }

    /// The delay before retry `attempt`, `elapsed` into the wait; `None` once
    /// the maximum wait time is reached.
    pub fn next(&mut self, attempt: u32, elapsed: Duration) -> Option<Duration> {
        let remaining = self.max_wait.saturating_sub(elapsed);
        let rng = &mut self.rng;
        smithy_delay(
            attempt,
            self.min_delay,
            self.max_delay,
            remaining,
            |low, high| rng.u64(low..=high),
        )
    }
}

/// The delay after `ctx.attempt` polls (the start request is not one) is
/// retry `ctx.attempt + 1`; once no time is left it is zero, and the policy's
/// deadline ends the wait.
impl Backoff for SmithyDelay {
    fn next_delay(&mut self, ctx: &PollContext<'_>) -> Duration {
        self.next(ctx.attempt.saturating_add(1), ctx.elapsed)
            .unwrap_or(Duration::ZERO)
    }
}

impl Waiter {
    /// The waiter's default polling policy: the Smithy delay with its
    /// `minDelay` and `maxDelay`, and `max_wait` (the specification makes the
    /// caller choose it) as the deadline.
    ///
    /// The first retry waits `minDelay` (or all of `max_wait` when no second
    /// retry would fit); a server's `Retry-After` still counts as a floor,
    /// never past the deadline.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lro_poller::waiter::{Acceptor, AcceptorState, Matcher, Waiter};
    ///
    /// let waiter = Waiter::new(vec![Acceptor::new(AcceptorState::Success, Matcher::Success(true))])
    ///     .with_delays(5, 60);
    /// let policy = waiter.policy(Duration::from_secs(600));
    /// assert_eq!(policy.deadline(), Some(Duration::from_secs(600)));
    /// assert_eq!(policy.initial_delay(), Duration::from_secs(5));
    /// ```
    pub fn policy(&self, max_wait: Duration) -> PollPolicy {
        let first = smithy_delay(1, self.min_delay, self.max_delay, max_wait, |low, _| low)
            .unwrap_or(Duration::ZERO);
        PollPolicy::new(SmithyDelay::new(self.min_delay, self.max_delay, max_wait))
            .with_initial_delay(first)
            .with_deadline(max_wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn the_specifications_table() {
        // The spec's example: minDelay 2, maxDelay 120, maxWaitTime 300, the
        // random picks of its table replayed; requests take no time.
        let picks = [2, 3, 6, 6, 22, 62, 43, 24, 71, 42, 9, 6, 2];
        let expected = [2, 3, 6, 6, 22, 62, 43, 24, 71, 42, 9, 6, 4];
        let mut elapsed = 0;
        for (index, (pick, want)) in picks.iter().zip(expected).enumerate() {
            let attempt = index as u32 + 1;
            let delay = smithy_delay(attempt, 2, 120, secs(300 - elapsed), |low, high| {
                assert!(
                    low <= *pick && *pick <= high,
                    "attempt {attempt}: {pick} not in {low}..={high}"
                );
                *pick
            });
            assert_eq!(delay, Some(secs(want)), "attempt {attempt}");
            elapsed += want;
        }
        assert_eq!(elapsed, 300);
        assert_eq!(smithy_delay(14, 2, 120, Duration::ZERO, |l, _| l), None);
    }

    #[test]
    fn the_bound_doubles_then_stays_at_max_delay() {
        let bounds: Vec<u64> = (1..=9)
            .map(|attempt| {
                smithy_delay(attempt, 2, 120, secs(100_000), |_, high| high)
                    .unwrap()
                    .as_secs()
            })
            .collect();
        assert_eq!(bounds, [2, 4, 8, 16, 32, 64, 120, 120, 120]);
        // Huge attempts do not overflow.
        assert_eq!(
            smithy_delay(u32::MAX, 2, 120, secs(100_000), |_, h| h),
            Some(secs(120))
        );
        // The draw leaves less than minDelay of `Duration::MAX`: the wait is all of it.
        assert_eq!(
            smithy_delay(64, u64::MAX / 2, u64::MAX, Duration::MAX, |_, h| h),
            Some(Duration::MAX)
        );
    }

    #[test]
    fn equal_delays_are_linear() {
        for attempt in 1..10 {
            assert_eq!(
                smithy_delay(attempt, 5, 5, secs(1000), |l, h| (l + h) / 2),
                Some(secs(5))
            );
        }
    }

    #[test]
    fn a_random_pick_out_of_range_is_clamped() {
        assert_eq!(
            smithy_delay(2, 2, 120, secs(1000), |_, _| 999),
            Some(secs(4))
        );
        assert_eq!(smithy_delay(2, 2, 120, secs(1000), |_, _| 0), Some(secs(2)));
    }

    #[test]
    fn the_seeded_delay_is_reproducible_and_stops_at_the_deadline() {
        let mut a = SmithyDelay::seeded(2, 120, secs(60), 9);
        let mut b = SmithyDelay::seeded(2, 120, secs(60), 9);
        let mut elapsed = Duration::ZERO;
        let mut attempt = 1;
        while let Some(delay) = a.next(attempt, elapsed) {
            assert_eq!(b.next(attempt, elapsed), Some(delay));
            elapsed += delay;
            attempt += 1;
            assert!(attempt < 100);
        }
        assert_eq!(elapsed, secs(60));
        assert_eq!(a.max_wait(), secs(60));
    }

    proptest! {
        /// The delay's bounds, whatever the attempt, the delays, the time left and the pick.
        #[test]
        fn the_delay_stays_within_its_bounds(
            attempt in 1u32..80,
            min in 1u64..300,
            extra in 0u64..3000,
            remaining_ms in 0u64..20_000_000,
            pick in any::<u64>(),
        ) {
            let max = min + extra;
            let remaining = Duration::from_millis(remaining_ms);
            let mut seen = None;
            let delay = smithy_delay(attempt, min, max, remaining, |low, high| {
                seen = Some((low, high));
                low + pick % (high - low + 1)
            });
            if remaining.is_zero() {
                prop_assert_eq!(delay, None);
                return Ok(());
            }
            let delay = delay.unwrap();
            let (low, high) = seen.unwrap();
            let upper = if attempt > 64 { max } else { min.saturating_mul(1u64.checked_shl(attempt - 1).unwrap_or(u64::MAX)).min(max) };
            prop_assert_eq!((low, high), (min, upper));
            // Never past the maximum wait time.
            prop_assert!(delay <= remaining);
            if delay < remaining {
                // A drawn delay: whole seconds in [minDelay, min(maxDelay, minDelay·2^(n−1))],
                // leaving more than minDelay for later attempts.
                prop_assert_eq!(delay.subsec_nanos(), 0);
                prop_assert!(delay.as_secs() >= min && delay.as_secs() <= upper);
                prop_assert!(remaining - delay > Duration::from_secs(min));
            } else {
                // The last wait: the draw would have left minDelay or less.
                let drawn = Duration::from_secs(low + pick % (high - low + 1));
                prop_assert!(remaining.saturating_sub(drawn) <= Duration::from_secs(min));
            }
        }

        /// A whole wait never takes longer than the maximum wait time, and ends exactly on it.
        #[test]
        fn a_whole_wait_ends_at_the_deadline(min in 1u64..30, extra in 0u64..200, max_wait in 1u64..5000, seed in any::<u64>()) {
            let mut delay = SmithyDelay::seeded(min, min + extra, Duration::from_secs(max_wait), seed);
            let mut elapsed = Duration::ZERO;
            let mut attempts = 0u32;
            while let Some(wait) = delay.next(attempts + 1, elapsed) {
                elapsed += wait;
                attempts += 1;
                prop_assert!(elapsed <= Duration::from_secs(max_wait));
                prop_assert!(attempts <= 5000);
            }
            prop_assert_eq!(elapsed, Duration::from_secs(max_wait));
        }
    }
}
