//! A waiter's default polling policy: the Smithy delay
//! ([`SmithyBuilder`]) with the waiter's `minDelay` and `maxDelay`, and the
//! caller's maximum wait time as the deadline.
//!
//! Attempts are counted as the specification counts them: the start request
//! is the first, so the wait after it is retry 1 (`[minDelay, minDelay]`),
//! and the wait after poll `n` is retry `n + 1`.

use std::time::Duration;

use crate::policy::{PollPolicy, SmithyBuilder};

use super::definition::Waiter;

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
    /// use lro_poller::waiter::Waiters;
    ///
    /// let waiters = Waiters::from_json(r#"{"Done": {"minDelay": 5, "maxDelay": 60,
    ///     "acceptors": [{"state": "success", "matcher": {"success": true}}]}}"#)?;
    /// let policy = waiters.get("Done")?.policy(Duration::from_secs(600));
    /// assert_eq!(policy.deadline(), Some(Duration::from_secs(600)));
    /// assert_eq!(policy.initial_delay(), Duration::from_secs(5));
    /// # Ok::<(), lro_poller::waiter::WaiterError>(())
    /// ```
    pub fn policy(&self, max_wait: Duration) -> PollPolicy {
        // The start request is the first attempt: the wait after poll `n` is
        // retry `n + 1`, and the wait before the first poll is retry 1.
        let delay =
            SmithyBuilder::new(self.min_delay(), self.max_delay(), max_wait).with_attempt_offset(1);
        let first = delay
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
    use crate::policy::{Backoff, BackoffBuilder, PollContext, Step};
    use proptest::prelude::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    /// The waiter's backoff: the Smithy delay, one attempt ahead.
    fn backoff(min: u64, max: u64, max_wait: u64, seed: u64) -> impl Backoff {
        SmithyBuilder::new(secs(min), secs(max), secs(max_wait))
            .with_attempt_offset(1)
            .with_seed(seed)
            .build()
    }

    #[test]
    fn the_start_request_is_the_first_attempt() {
        // The largest wait after each number of polls, over many draws.
        let tops: Vec<u64> = (0..8)
            .map(|polls| {
                (0..400)
                    .map(|seed| {
                        let mut backoff = backoff(2, 120, 10_000, seed);
                        backoff
                            .next(&PollContext::new(polls, secs(0)))
                            .delay()
                            .unwrap()
                            .as_secs()
                    })
                    .max()
                    .unwrap()
            })
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
        // A maximum wait time shorter than `minDelay`: the first wait is the
        // whole of it, for one last attempt at the end.
        assert_eq!(waiter.policy(secs(10)).initial_delay(), secs(10));
        // 20 s: a 15 s wait would leave 5 s, not more than `minDelay`.
        assert_eq!(waiter.policy(secs(20)).initial_delay(), secs(20));
        assert_eq!(waiter.policy(secs(31)).initial_delay(), secs(15));
    }

    #[test]
    fn the_backoff_waits_out_the_time_left_then_stops() {
        let mut backoff = backoff(2, 120, 60, 1);
        let wait = backoff.next(&PollContext::new(3, secs(10)));
        let Step::Wait(wait) = wait else {
            panic!("{wait:?}")
        };
        assert!(wait >= secs(2) && wait <= secs(16), "{wait:?}");
        // 2 s left: the whole 2 s, for a last attempt at 60 s.
        assert_eq!(
            backoff.next(&PollContext::new(3, secs(58))).delay(),
            Some(secs(2))
        );
        assert!(matches!(
            backoff.next(&PollContext::new(4, secs(60))),
            Step::Stop(_)
        ));
        // The policy's own deadline counts too.
        let ctx = PollContext::new(3, secs(10)).with_remaining(Some(secs(1)));
        assert_eq!(backoff.next(&ctx).delay(), Some(secs(1)));
        let ctx = PollContext::new(3, secs(10)).with_remaining(Some(Duration::ZERO));
        assert!(matches!(backoff.next(&ctx), Step::Stop(_)));
    }

    /// The rule in numbers: `minDelay` 2 s, `maxDelay` 120 s, a maximum wait
    /// time of 10 s, every draw at the top of its range. After the start
    /// (attempt 1) the wait is 2 s (8 s left); after poll 1 (retry 2, up to
    /// 4 s) 4 s (4 s left); after poll 2 a draw of 8 s would leave nothing:
    /// the wait is the whole 4 s left and the last attempt lands at exactly
    /// 10 s; then the waiter stops.
    #[test]
    fn the_last_wait_is_the_whole_time_left_in_numbers() {
        let smithy = SmithyBuilder::new(secs(2), secs(120), secs(10));
        let top = |_: u64, high: u64| high;
        assert_eq!(smithy.delay(1, secs(10), top), Some(secs(2)));
        assert_eq!(smithy.delay(2, secs(8), top), Some(secs(4)));
        assert_eq!(smithy.delay(3, secs(4), top), Some(secs(4)));
        assert_eq!(smithy.delay(4, Duration::ZERO, top), None);
        // The old rule would have waited 2 s there (4 s left − minDelay) and
        // stopped with 2 s of the maximum wait time unused.
    }

    proptest! {
        /// The delay's bounds, whatever the attempt, the delays, the time
        /// left and the random pick: a whole number of seconds in
        /// `[minDelay, min(maxDelay, minDelay·2^(n−1))]` for retry `n` when
        /// it leaves more than `minDelay`, else the whole time left; never
        /// past the maximum wait time; none when no time is left.
        #[test]
        fn the_delay_stays_within_its_bounds(
            polls in 0u32..80,
            min in 1u64..300,
            extra in 0u64..3000,
            remaining_ms in 0u64..20_000_000,
            pick in any::<u64>(),
        ) {
            let max = min + extra;
            let delay = SmithyBuilder::new(secs(min), secs(max), Duration::MAX);
            let remaining = Duration::from_millis(remaining_ms);
            let retry = polls + 1;
            let upper = if retry > 64 {
                max
            } else {
                min.saturating_mul(1u64 << (retry - 1)).min(max)
            };
            let mut range = None;
            let waited = delay.delay(retry, remaining, |low, high| {
                range = Some((low, high));
                low + pick % (high - low + 1)
            });
            if remaining.is_zero() {
                prop_assert_eq!(waited, None);
                return Ok(());
            }
            let waited = waited.unwrap();
            let (low, high) = range.unwrap();
            prop_assert_eq!(low, min);
            // The top of the specification's range (its attempt ceiling
            // makes it `maxDelay` once doubling passes it).
            prop_assert_eq!(high, upper);
            // Never past the maximum wait time.
            prop_assert!(waited <= remaining);
            let drawn = secs(low + pick % (high - low + 1));
            if remaining.saturating_sub(drawn) > secs(min) {
                prop_assert_eq!(waited, drawn);
                prop_assert_eq!(waited.subsec_nanos(), 0);
                prop_assert!(waited >= secs(min) && waited <= secs(upper));
            } else {
                prop_assert_eq!(waited, remaining);
            }
        }
    }
}
