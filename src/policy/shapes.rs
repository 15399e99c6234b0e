//! The two plain delay shapes: [`ConstantBuilder`] and
//! [`ExponentialBuilder`], each optionally jittered, and their running states.

use std::time::Duration;

use super::backoff::{Backoff, BackoffBuilder, Step, read_state, scale, write_state};
use super::context::PollContext;
use super::jitter::{Jitter, JitterConfig, JitterState, SavedJitter};

/// The same delay after every poll, optionally jittered.
///
/// ```
/// use std::time::Duration;
/// use lro_poller::policy::{ConstantBuilder, Jitter, PollPolicy};
///
/// let policy = PollPolicy::new(
///     ConstantBuilder::new(Duration::from_secs(5)).with_jitter(Jitter::Equal));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConstantBuilder {
    delay: Duration,
    jitter: JitterConfig,
}

impl ConstantBuilder {
    /// Waits `delay` between polls.
    pub fn new(delay: Duration) -> Self {
        ConstantBuilder {
            delay,
            jitter: JitterConfig::default(),
        }
    }

    /// Randomises the delays; each operation's generator is randomly seeded.
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = JitterConfig::new(jitter, None);
        self
    }

    /// Randomises the delays with a seeded generator: the same seed gives the
    /// same delays, in every operation built from it (for tests and
    /// simulations).
    pub fn with_jitter_seeded(mut self, jitter: Jitter, seed: u64) -> Self {
        self.jitter = JitterConfig::new(jitter, Some(seed));
        self
    }
}

/// A [`ConstantBuilder`]'s running state: the delay and the jitter's
/// generator.
#[derive(Debug, Clone)]
pub struct ConstantBackoff {
    delay: Duration,
    jitter: JitterState,
}

impl BackoffBuilder for ConstantBuilder {
    type Backoff = ConstantBackoff;
    fn build(&self) -> ConstantBackoff {
        ConstantBackoff {
            delay: self.delay,
            jitter: self.jitter.start(),
        }
    }
}

impl Backoff for ConstantBackoff {
    fn next(&mut self, _ctx: &PollContext<'_>) -> Step {
        Step::Wait(self.jitter.apply(self.delay, Duration::MAX))
    }

    fn save_state(&self) -> Option<serde_json::Value> {
        write_state(&self.jitter.save())
    }

    fn restore_state(&mut self, saved: &serde_json::Value) -> bool {
        read_state::<SavedJitter>(saved)
            .map(|saved| self.jitter.restore(saved))
            .is_some()
    }
}

/// `initial × factor^(attempt − 1)`, capped at `max`, optionally jittered
/// (never above `max` either way).
///
/// `attempt` is the number of polls sent so far, so the delay after the first
/// poll is `initial`.
///
/// ```
/// use std::time::Duration;
/// use lro_poller::policy::{Backoff, BackoffBuilder, ExponentialBuilder, Jitter, PollContext};
///
/// let secs = Duration::from_secs;
/// // The configuration: shareable, cheap to copy.
/// let config = ExponentialBuilder::new(secs(1), 2.0, secs(30))
///     .with_jitter_seeded(Jitter::Equal, 7);
/// // One operation's running state.
/// let mut backoff = config.build();
/// let delay = backoff.next(&PollContext::new(3, secs(10))).delay().unwrap();
/// assert!(delay >= secs(2) && delay <= secs(4));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExponentialBuilder {
    initial: Duration,
    factor: f64,
    max: Duration,
    jitter: JitterConfig,
}

impl ExponentialBuilder {
    /// Starts at `initial`, multiplies by `factor` (values below 1 are taken as
    /// 1; NaN as 1) after every poll, never exceeds `max`.
    pub fn new(initial: Duration, factor: f64, max: Duration) -> Self {
        let factor = if factor.is_nan() {
            1.0
        } else {
            factor.max(1.0)
        };
        Self::const_new(initial, factor, max)
    }

    pub(crate) const fn const_new(initial: Duration, factor: f64, max: Duration) -> Self {
        ExponentialBuilder {
            initial,
            factor,
            max,
            jitter: JitterConfig::new_const(),
        }
    }

    /// Randomises the delays; each operation's generator is randomly seeded.
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = JitterConfig::new(jitter, None);
        self
    }

    /// Randomises the delays with a seeded generator: the same seed gives the
    /// same delays, in every operation built from it (for tests and
    /// simulations).
    pub fn with_jitter_seeded(mut self, jitter: Jitter, seed: u64) -> Self {
        self.jitter = JitterConfig::new(jitter, Some(seed));
        self
    }

    /// The delay after `attempt` polls, before jitter.
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(i32::MAX as u32) as i32;
        scale(self.initial, self.factor.powi(exponent)).min(self.max)
    }
}

/// An [`ExponentialBuilder`]'s running state: the shape and the jitter's
/// generator.
#[derive(Debug, Clone)]
pub struct ExponentialBackoff {
    shape: ExponentialBuilder,
    jitter: JitterState,
}

impl BackoffBuilder for ExponentialBuilder {
    type Backoff = ExponentialBackoff;
    fn build(&self) -> ExponentialBackoff {
        ExponentialBackoff {
            shape: *self,
            jitter: self.jitter.start(),
        }
    }
}

impl Backoff for ExponentialBackoff {
    fn next(&mut self, ctx: &PollContext<'_>) -> Step {
        let delay = self.shape.delay(ctx.attempt);
        Step::Wait(self.jitter.apply(delay, self.shape.max))
    }

    /// The attempt count is the token's poll count; the jitter is kept here.
    fn save_state(&self) -> Option<serde_json::Value> {
        write_state(&self.jitter.save())
    }

    fn restore_state(&mut self, saved: &serde_json::Value) -> bool {
        read_state::<SavedJitter>(saved)
            .map(|saved| self.jitter.restore(saved))
            .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::backoff::NextDelay;

    fn ctx(attempt: u32) -> PollContext<'static> {
        PollContext::new(attempt, Duration::ZERO)
    }

    #[test]
    fn exponential_grows_then_caps() {
        let mut b =
            ExponentialBuilder::new(Duration::from_secs(1), 2.0, Duration::from_secs(10)).build();
        let delays: Vec<_> = (1..=6).map(|a| b.next_delay(&ctx(a)).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
        assert_eq!(b.next_delay(&ctx(0)), Duration::from_secs(1));
        assert_eq!(b.next_delay(&ctx(u32::MAX)), Duration::from_secs(10));
    }

    #[test]
    fn exponential_never_overflows() {
        let mut b = ExponentialBuilder::new(Duration::MAX, f64::MAX, Duration::MAX).build();
        assert_eq!(b.next_delay(&ctx(1_000_000_000)), Duration::MAX);
        let mut nan =
            ExponentialBuilder::new(Duration::from_secs(1), f64::NAN, Duration::MAX).build();
        assert_eq!(nan.next_delay(&ctx(50)), Duration::from_secs(1));
        let mut shrinking =
            ExponentialBuilder::new(Duration::from_secs(4), 0.5, Duration::MAX).build();
        assert_eq!(shrinking.next_delay(&ctx(9)), Duration::from_secs(4));
    }

    #[test]
    fn jitter_stays_in_its_range_and_is_reproducible() {
        for (jitter, low, high) in [
            (Jitter::None, 8, 8),
            (Jitter::Full, 0, 8),
            (Jitter::Equal, 4, 8),
        ] {
            let mut b = ConstantBuilder::new(Duration::from_secs(8))
                .with_jitter_seeded(jitter, 1)
                .build();
            for a in 1..200 {
                let d = b.next_delay(&ctx(a));
                assert!(
                    d >= Duration::from_secs(low) && d <= Duration::from_secs(high),
                    "{jitter:?} {d:?}"
                );
            }
        }
        let run = |seed| {
            let mut b = ConstantBuilder::new(Duration::from_secs(8))
                .with_jitter_seeded(Jitter::Full, seed)
                .build();
            (1..20).map(|a| b.next_delay(&ctx(a))).collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
        // Randomly seeded: two operations draw differently.
        let random = ConstantBuilder::new(Duration::from_secs(8)).with_jitter(Jitter::Full);
        let draws =
            |mut b: ConstantBackoff| (1..20).map(|a| b.next_delay(&ctx(a))).collect::<Vec<_>>();
        assert_ne!(draws(random.build()), draws(random.build()));
    }

    #[test]
    fn equal_jitter_is_uniform_over_its_range() {
        let mut b = ConstantBuilder::new(Duration::from_secs(8))
            .with_jitter_seeded(Jitter::Equal, 5)
            .build();
        let n = 2000;
        let mean = (1..=n)
            .map(|a| b.next_delay(&ctx(a)).as_secs_f64())
            .sum::<f64>()
            / f64::from(n);
        // Uniform in [4 s, 8 s]: a mean of 6 s.
        assert!((5.8..=6.2).contains(&mean), "{mean}");
    }

    #[test]
    fn decorrelated_jitter_wanders_up_to_the_maximum() {
        let mut b = ExponentialBuilder::new(Duration::from_secs(1), 1.0, Duration::from_secs(20))
            .with_jitter_seeded(Jitter::Decorrelated, 3)
            .build();
        let mut previous = Duration::from_secs(1);
        let mut grew = false;
        for a in 1..100 {
            let d = b.next_delay(&ctx(a));
            assert!(d >= Duration::from_secs(1) && d <= Duration::from_secs(20));
            assert!(
                d <= (previous * 3).max(Duration::from_secs(1)) || d == Duration::from_secs(20)
            );
            grew |= d > Duration::from_secs(2);
            previous = d;
        }
        assert!(grew);
        let mut huge = ConstantBuilder::new(Duration::MAX)
            .with_jitter_seeded(Jitter::Decorrelated, 1)
            .build();
        for a in 1..5 {
            assert_eq!(huge.next_delay(&ctx(a)), Duration::MAX);
        }
    }
}
