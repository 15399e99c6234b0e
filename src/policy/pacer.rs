//! One operation's running policy: the [`Pacer`] a [`PollPolicy`] starts,
//! which asks the operation's backoff for each delay and applies the rules.

use super::backoff::{Backoff, Step};
use super::context::PollContext;
use super::poll_policy::{Decision, PollPolicy};

impl PollPolicy {
    /// The running state for one operation: a fresh backoff from this
    /// policy's builder, and the rules, shared.
    pub(crate) fn start(&self) -> Pacer {
        Pacer {
            policy: self.clone(),
            backoff: self.build_backoff(),
        }
    }
}

/// One operation's running policy: the shared [`PollPolicy`] and the
/// operation's own backoff state. Made by [`PollPolicy::start`].
#[derive(Debug)]
pub(crate) struct Pacer {
    policy: PollPolicy,
    backoff: Box<dyn Backoff>,
}

impl Pacer {
    /// The policy this state runs.
    pub(crate) fn policy(&self) -> &PollPolicy {
        &self.policy
    }

    /// The backoff's running state, for a token.
    pub(crate) fn save(&self) -> Option<serde_json::Value> {
        self.backoff.save_state()
    }

    /// Takes up a backoff state saved in a token; whether the backoff could.
    pub(crate) fn restore(&mut self, saved: &serde_json::Value) -> bool {
        self.backoff.restore_state(saved)
    }

    /// The backoff's step with the server's hint and the floor applied,
    /// before the limits.
    pub(crate) fn delay(&mut self, ctx: &PollContext<'_>) -> Step {
        match self.backoff.next(ctx) {
            Step::Wait(delay) => {
                let delay = self.policy.with_hint(delay, ctx.retry_after);
                Step::Wait(self.policy.floor(delay))
            }
            stop => stop,
        }
    }

    /// The full decision after a poll: the limits that are already reached,
    /// then [`delay`](Self::delay) (the backoff sees the time left), then
    /// [`PollPolicy::limit`].
    pub(crate) fn decide(&mut self, ctx: &PollContext<'_>) -> Decision {
        let policy = &self.policy;
        if policy.max_polls().is_some_and(|max| ctx.attempt >= max) {
            return Decision::PollLimitExceeded;
        }
        let remaining = policy.remaining(ctx.elapsed);
        if remaining.is_some_and(|r| r.is_zero()) {
            return Decision::DeadlineExceeded;
        }
        let ctx = PollContext {
            remaining: ctx.remaining.or(remaining),
            ..*ctx
        };
        match self.delay(&ctx) {
            Step::Wait(delay) => self.policy.limit(delay, ctx.attempt, ctx.elapsed),
            Step::Stop(reason) => Decision::Stopped(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use crate::policy::{ConstantBuilder, DEFAULT_RETRY_AFTER_CAP, RetryAfterMode, SmithyBuilder};

    /// The delay a pacer whose backoff never stops gives.
    fn wait(pacer: &mut Pacer, ctx: &PollContext<'_>) -> Duration {
        pacer.delay(ctx).delay().expect("a delay")
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn retry_after_is_a_capped_floor_by_default() {
        let mut p = PollPolicy::new(ConstantBuilder::new(secs(5)))
            .with_retry_after_cap(secs(60))
            .start();
        assert_eq!(wait(&mut p, &PollContext::new(1, secs(0))), secs(5));
        let hint = |h| PollContext::new(1, secs(0)).with_retry_after(Some(h));
        assert_eq!(wait(&mut p, &hint(secs(2))), secs(5));
        assert_eq!(wait(&mut p, &hint(secs(20))), secs(20));
        assert_eq!(wait(&mut p, &hint(secs(9_999_999_999))), secs(60));
        assert_eq!(wait(&mut p, &hint(Duration::MAX)), secs(60));
    }

    #[test]
    fn retry_after_can_replace_or_be_ignored() {
        let hint = |h| PollContext::new(1, secs(0)).with_retry_after(Some(h));
        let mut replace = PollPolicy::new(ConstantBuilder::new(secs(5)))
            .with_retry_after(RetryAfterMode::Replace)
            .start();
        assert_eq!(wait(&mut replace, &hint(secs(2))), secs(2));
        assert_eq!(
            wait(&mut replace, &hint(secs(3600))),
            DEFAULT_RETRY_AFTER_CAP
        );
        let mut ignore = PollPolicy::new(ConstantBuilder::new(secs(5)))
            .with_retry_after(RetryAfterMode::Ignore)
            .start();
        assert_eq!(wait(&mut ignore, &hint(secs(200))), secs(5));
    }

    #[test]
    fn deadline_aware_last_poll() {
        let mut p = PollPolicy::new(ConstantBuilder::new(secs(10)))
            .with_deadline(secs(25))
            .start();
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
        let mut forever = PollPolicy::new(ConstantBuilder::new(secs(10)))
            .without_deadline()
            .start();
        assert_eq!(
            forever.decide(&PollContext::new(u32::MAX, Duration::MAX)),
            Decision::PollAfter(secs(10))
        );
    }

    #[test]
    fn the_backoff_sees_the_time_left() {
        // A Smithy waiter with no end of its own, under a 30 s deadline: at
        // 25 s, 5 s are left: a 2 s draw leaves 3 s, more than `minDelay`;
        // any longer one makes the last wait the whole 5 s.
        let policy = PollPolicy::new(SmithyBuilder::new(secs(2), secs(120), Duration::MAX))
            .with_deadline(secs(30));
        for _ in 0..100 {
            let mut pacer = policy.start();
            match pacer.decide(&PollContext::new(5, secs(25))) {
                Decision::PollAfter(d) => assert!(d == secs(2) || d == secs(5), "{d:?}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn poll_limit() {
        let mut p = PollPolicy::new(ConstantBuilder::new(secs(1)))
            .with_max_polls(3)
            .start();
        assert_eq!(
            p.decide(&PollContext::new(2, secs(0))),
            Decision::PollAfter(secs(1))
        );
        assert_eq!(
            p.decide(&PollContext::new(3, secs(0))),
            Decision::PollLimitExceeded
        );
    }

    proptest::proptest! {
        /// The rules around a backoff never overflow or panic, whatever the
        /// delays, hints and times.
        #[test]
        fn the_rules_never_overflow(
            attempt in proptest::prelude::any::<u32>(),
            secs in proptest::prelude::any::<u64>(),
            hint in proptest::option::of(proptest::prelude::any::<u64>()),
            deadline in proptest::option::of(proptest::prelude::any::<u64>()),
        ) {
            let big = Duration::from_secs(secs);
            let ctx = PollContext::new(attempt, big)
                .with_retry_after(hint.map(Duration::from_secs))
                .with_previous_delay(Some(big));
            for mode in [RetryAfterMode::Floor, RetryAfterMode::Replace, RetryAfterMode::Ignore] {
                let mut policy = PollPolicy::new(ConstantBuilder::new(big))
                    .with_retry_after(mode)
                    .with_retry_after_cap(Duration::MAX);
                policy = match deadline {
                    Some(d) => policy.with_deadline(Duration::from_secs(d)),
                    None => policy.without_deadline(),
                };
                let mut pacer = policy.start();
                let _ = pacer.decide(&ctx);
                let _ = pacer.decide(&ctx);
            }
        }
    }
}
