//! A waiter's default polling policy: the Smithy delay
//! ([`policy::Smithy`](crate::policy::Smithy)) with the waiter's `minDelay`
//! and `maxDelay`, and the caller's maximum wait time as the deadline.
//!
//! Attempts are counted as the specification counts them: the start request
//! is the first, so the wait after it is retry 1 (`[minDelay, minDelay]`),
//! and the wait after poll `n` is retry `n + 1`.

use std::borrow::Cow;
use std::time::Duration;

use crate::policy::{Backoff, BackoffBuilder, PollContext, PollPolicy, Smithy, Step};

use super::definition::Waiter;

/// The Smithy delay, counting the start request as the first attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaiterDelay {
    smithy: Smithy,
}

impl WaiterDelay {
    /// Delays between `min_delay` and `max_delay` within `max_wait`.
    pub fn new(min_delay: Duration, max_delay: Duration, max_wait: Duration) -> Self {
        WaiterDelay {
            smithy: Smithy::new(min_delay, max_delay, max_wait),
        }
    }

    /// The Smithy delay it runs.
    pub fn smithy(&self) -> &Smithy {
        &self.smithy
    }

    /// The wait after `polls` polls (the start request is not one) with
    /// `remaining` time left; `None` when no further attempt fits.
    pub fn delay(
        &self,
        polls: u32,
        remaining: Duration,
        draw: impl FnOnce(u64, u64) -> u64,
    ) -> Option<Duration> {
        self.smithy.delay(polls.saturating_add(1), remaining, draw)
    }
}

/// One operation's running [`WaiterDelay`], with its own random numbers.
#[derive(Debug)]
pub struct WaiterBackoff {
    delay: WaiterDelay,
    rng: fastrand::Rng,
}

impl BackoffBuilder for WaiterDelay {
    type Backoff = WaiterBackoff;

    fn build(&self) -> WaiterBackoff {
        WaiterBackoff {
            delay: *self,
            rng: fastrand::Rng::new(),
        }
    }
}

impl Backoff for WaiterBackoff {
    fn next(&mut self, ctx: &PollContext<'_>) -> Step {
        let mut remaining = self.delay.smithy.remaining(ctx.elapsed);
        if let Some(policy) = ctx.remaining {
            remaining = remaining.min(policy);
        }
        let rng = &mut self.rng;
        match self
            .delay
            .delay(ctx.attempt, remaining, |low, high| rng.u64(low..=high))
        {
            Some(delay) => Step::Wait(delay),
            None => Step::Stop(Cow::Borrowed(
                "no attempt fits in the waiter's maximum wait time",
            )),
        }
    }
}

impl Waiter {
    /// The waiter's default polling policy: the Smithy delay with its
    /// `minDelay` and `maxDelay`, and `max_wait` (the specification makes the
    /// caller choose it) as the deadline.
    ///
    /// The first retry waits `minDelay`; each later one a random whole number
    /// of seconds up to twice the previous bound, capped at `maxDelay`; the
    /// wait stops when no further attempt fits in `max_wait`. A server's
    /// `Retry-After` still counts as a floor, never past the deadline.
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
        let delay = WaiterDelay::new(self.min_delay(), self.max_delay(), max_wait);
        let first = delay
            .smithy()
            .delay(1, max_wait, |low, _| low)
            .unwrap_or(Duration::ZERO);
        PollPolicy::new(delay)
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
    fn the_start_request_is_the_first_attempt() {
        let delay = WaiterDelay::new(secs(2), secs(120), secs(10_000));
        let top = |_: u64, high: u64| high;
        let tops: Vec<u64> = (0..8)
            .map(|polls| delay.delay(polls, secs(10_000), top).unwrap().as_secs())
            .collect();
        // After the start (0 polls): retry 1, [2, 2]; after poll 1: retry 2, [2, 4]; …
        assert_eq!(tops, [2, 4, 8, 16, 32, 64, 120, 120]);
    }

    #[test]
    fn the_policy_waits_min_delay_first_and_ends_at_max_wait() {
        let waiter = Waiter::new(Vec::new()).with_delays(15, 120);
        let policy = waiter.policy(secs(900));
        assert_eq!(policy.initial_delay(), secs(15));
        assert_eq!(policy.deadline(), Some(secs(900)));
        // No room for a second attempt: no initial wait either.
        assert_eq!(waiter.policy(secs(10)).initial_delay(), Duration::ZERO);
    }

    #[test]
    fn the_backoff_stops_when_no_attempt_fits() {
        let mut backoff = WaiterDelay::new(secs(2), secs(120), secs(60)).build();
        let wait = backoff.next(&PollContext::new(3, secs(10)));
        let Step::Wait(wait) = wait else {
            panic!("{wait:?}")
        };
        assert!(wait >= secs(2) && wait <= secs(16), "{wait:?}");
        assert!(matches!(
            backoff.next(&PollContext::new(3, secs(58))),
            Step::Stop(_)
        ));
        // The policy's own deadline counts too.
        let ctx = PollContext::new(3, secs(10)).with_remaining(Some(secs(1)));
        assert!(matches!(backoff.next(&ctx), Step::Stop(_)));
    }

    proptest! {
        /// The delay's bounds, whatever the attempt, the delays, the time
        /// left and the random pick: a whole number of seconds in
        /// `[minDelay, min(maxDelay, minDelay·2^(n−1))]` for retry `n`, or
        /// shortened so that one last attempt fits; never past the maximum
        /// wait time; none when no attempt fits.
        #[test]
        fn the_delay_stays_within_its_bounds(
            polls in 0u32..80,
            min in 1u64..300,
            extra in 0u64..3000,
            remaining_ms in 0u64..20_000_000,
            pick in any::<u64>(),
        ) {
            let max = min + extra;
            let delay = WaiterDelay::new(secs(min), secs(max), Duration::MAX);
            let remaining = Duration::from_millis(remaining_ms);
            let retry = polls + 1;
            let upper = if retry > 64 {
                max
            } else {
                min.saturating_mul(1u64 << (retry - 1)).min(max)
            };
            let mut range = None;
            let waited = delay.delay(polls, remaining, |low, high| {
                range = Some((low, high));
                low + pick % (high - low + 1)
            });
            if remaining <= secs(min) {
                prop_assert_eq!(waited, None);
                return Ok(());
            }
            let waited = waited.unwrap();
            let (low, high) = range.unwrap();
            prop_assert_eq!(low, min);
            // The top of the specification's range (its attempt ceiling
            // makes it `maxDelay` once doubling passes it).
            prop_assert_eq!(high, upper);
            // Never past the maximum wait time, and room for one last attempt.
            prop_assert!(waited < remaining);
            let drawn = secs(low + pick % (high - low + 1));
            if remaining.saturating_sub(drawn) > secs(min) {
                prop_assert_eq!(waited, drawn);
                prop_assert_eq!(waited.subsec_nanos(), 0);
                prop_assert!(waited >= secs(min) && waited <= secs(upper));
            } else {
                prop_assert_eq!(waited, remaining - secs(min));
            }
        }
    }
}
