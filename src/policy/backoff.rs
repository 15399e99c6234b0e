//! Delay shapes: constant, exponential, jitter, caps.

use std::fmt;
use std::time::Duration;

use super::PollContext;

/// Decides how long to wait before the next poll.
///
/// A backoff sees the [`PollContext`] (polls so far, elapsed time, the last
/// status, the server's `Retry-After`, the previous delay) and returns a delay.
/// It does no I/O and never sleeps itself. `Retry-After`, the deadline and the
/// poll limit are applied on top by [`PollPolicy`](super::PollPolicy), so a
/// backoff only has to describe its own shape. It takes `&mut self` so it may
/// keep state (a random number generator, a history of progress reports); each
/// operation owns its own.
///
/// ```
/// use std::time::Duration;
/// use lro_poller::policy::{Backoff, BackoffExt, Exponential, Jitter, PollContext};
///
/// let mut backoff = Exponential::new(Duration::from_secs(1), 2.0, Duration::from_secs(60))
///     .with_jitter_seeded(Jitter::Equal, 7)
///     .with_max_delay(Duration::from_secs(30));
/// let delay = backoff.next_delay(&PollContext::new(3, Duration::from_secs(10)));
/// assert!(delay >= Duration::from_secs(2) && delay <= Duration::from_secs(4));
/// ```
pub trait Backoff: Send + fmt::Debug {
    /// The delay before the next poll.
    fn next_delay(&mut self, ctx: &PollContext<'_>) -> Duration;
}

impl<B: Backoff + ?Sized> Backoff for Box<B> {
    fn next_delay(&mut self, ctx: &PollContext<'_>) -> Duration {
        (**self).next_delay(ctx)
    }
}

/// Multiplies a duration by a factor, saturating at `Duration::MAX` and
/// treating NaN or negative factors as zero. Never panics.
pub fn scale(duration: Duration, factor: f64) -> Duration {
    if factor.is_nan() || factor <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(duration.as_secs_f64() * factor).unwrap_or(Duration::MAX)
}

/// The same delay every time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Constant {
    delay: Duration,
}

impl Constant {
    /// Waits `delay` between polls.
    pub fn new(delay: Duration) -> Self {
        Constant { delay }
    }
}

impl Backoff for Constant {
    fn next_delay(&mut self, _ctx: &PollContext<'_>) -> Duration {
        self.delay
    }
}

/// `initial × factor^(attempt − 1)`, capped at `max`.
///
/// `attempt` is the number of polls sent so far, so the delay after the first
/// poll is `initial`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exponential {
    initial: Duration,
    factor: f64,
    max: Duration,
}

impl Exponential {
    /// Starts at `initial`, multiplies by `factor` (values below 1 are taken as
    /// 1; NaN as 1) after every poll, never exceeds `max`.
    pub fn new(initial: Duration, factor: f64, max: Duration) -> Self {
        let factor = if factor.is_nan() {
            1.0
        } else {
            factor.max(1.0)
        };
        Exponential {
            initial,
            factor,
            max,
        }
    }
}

impl Backoff for Exponential {
    fn next_delay(&mut self, ctx: &PollContext<'_>) -> Duration {
        let exponent = ctx.attempt.saturating_sub(1).min(i32::MAX as u32) as i32;
        scale(self.initial, self.factor.powi(exponent)).min(self.max)
    }
}

/// How to randomise a delay, so that many clients do not poll in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Jitter {
    /// The delay as it is.
    #[default]
    None,
    /// Uniform in `[0, d]`.
    Full,
    /// Uniform in `[d/2, d]`.
    Equal,
    /// Uniform in `[d, 3 × previous]` (the previous delay this backoff gave,
    /// `d` at first): delays wander upwards; cap them with
    /// [`BackoffExt::with_max_delay`].
    Decorrelated,
}

/// A backoff with [`Jitter`] applied to its inner backoff's delays.
pub struct Jittered<B> {
    inner: B,
    jitter: Jitter,
    rng: fastrand::Rng,
    previous: Option<Duration>,
}

impl<B: fmt::Debug> fmt::Debug for Jittered<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jittered")
            .field("inner", &self.inner)
            .field("jitter", &self.jitter)
            .finish_non_exhaustive()
    }
}

fn uniform(rng: &mut fastrand::Rng, low: Duration, high: Duration) -> Duration {
    if high <= low {
        return low;
    }
    low.saturating_add(scale(high - low, rng.f64())).min(high)
}

impl<B: Backoff> Backoff for Jittered<B> {
    fn next_delay(&mut self, ctx: &PollContext<'_>) -> Duration {
        let d = self.inner.next_delay(ctx);
        let delay = match self.jitter {
            Jitter::None => d,
            Jitter::Full => uniform(&mut self.rng, Duration::ZERO, d),
            Jitter::Equal => uniform(&mut self.rng, d / 2, d),
            Jitter::Decorrelated => {
                let high = self.previous.unwrap_or(d).saturating_mul(3).max(d);
                uniform(&mut self.rng, d, high)
            }
        };
        self.previous = Some(delay);
        delay
    }
}

/// A backoff whose delays are clamped to `[min, max]`.
#[derive(Debug, Clone)]
pub struct Clamped<B> {
    inner: B,
    min: Duration,
    max: Duration,
}

impl<B: Backoff> Backoff for Clamped<B> {
    fn next_delay(&mut self, ctx: &PollContext<'_>) -> Duration {
        self.inner.next_delay(ctx).max(self.min).min(self.max)
    }
}

/// Combinators for every [`Backoff`].
pub trait BackoffExt: Backoff + Sized {
    /// Randomises the delays (random seed).
    fn with_jitter(self, jitter: Jitter) -> Jittered<Self> {
        Jittered {
            inner: self,
            jitter,
            rng: fastrand::Rng::new(),
            previous: None,
        }
    }

    /// Randomises the delays with a seeded generator: the same seed gives the
    /// same delays (for tests and simulations).
    fn with_jitter_seeded(self, jitter: Jitter, seed: u64) -> Jittered<Self> {
        Jittered {
            inner: self,
            jitter,
            rng: fastrand::Rng::with_seed(seed),
            previous: None,
        }
    }

    /// Never waits longer than `max`.
    fn with_max_delay(self, max: Duration) -> Clamped<Self> {
        Clamped {
            inner: self,
            min: Duration::ZERO,
            max,
        }
    }

    /// Never waits less than `min`.
    fn with_min_delay(self, min: Duration) -> Clamped<Self> {
        Clamped {
            inner: self,
            min,
            max: Duration::MAX,
        }
    }

    /// Boxes the backoff (to store backoffs of different types together).
    fn boxed(self) -> Box<dyn Backoff>
    where
        Self: 'static,
    {
        Box::new(self)
    }
}

impl<B: Backoff> BackoffExt for B {}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(attempt: u32) -> PollContext<'static> {
        PollContext::new(attempt, Duration::ZERO)
    }

    #[test]
    fn exponential_grows_then_caps() {
        let mut b = Exponential::new(Duration::from_secs(1), 2.0, Duration::from_secs(10));
        let delays: Vec<_> = (1..=6).map(|a| b.next_delay(&ctx(a)).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
        assert_eq!(b.next_delay(&ctx(0)), Duration::from_secs(1));
        assert_eq!(b.next_delay(&ctx(u32::MAX)), Duration::from_secs(10));
    }

    #[test]
    fn exponential_never_overflows() {
        let mut b = Exponential::new(Duration::MAX, f64::MAX, Duration::MAX);
        assert_eq!(b.next_delay(&ctx(1_000_000_000)), Duration::MAX);
        let mut nan = Exponential::new(Duration::from_secs(1), f64::NAN, Duration::MAX);
        assert_eq!(nan.next_delay(&ctx(50)), Duration::from_secs(1));
        let mut shrinking = Exponential::new(Duration::from_secs(4), 0.5, Duration::MAX);
        assert_eq!(shrinking.next_delay(&ctx(9)), Duration::from_secs(4));
    }

    #[test]
    fn jitter_stays_in_its_range_and_is_reproducible() {
        for (jitter, low, high) in [
            (Jitter::None, 8, 8),
            (Jitter::Full, 0, 8),
            (Jitter::Equal, 4, 8),
        ] {
            let mut b = Constant::new(Duration::from_secs(8)).with_jitter_seeded(jitter, 1);
            for a in 1..200 {
                let d = b.next_delay(&ctx(a));
                assert!(
                    d >= Duration::from_secs(low) && d <= Duration::from_secs(high),
                    "{jitter:?} {d:?}"
                );
            }
        }
        let run = |seed| {
            let mut b =
                Constant::new(Duration::from_secs(8)).with_jitter_seeded(Jitter::Full, seed);
            (1..20).map(|a| b.next_delay(&ctx(a))).collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }

    #[test]
    fn decorrelated_jitter_wanders_up_within_bounds() {
        let mut b = Constant::new(Duration::from_secs(1))
            .with_jitter_seeded(Jitter::Decorrelated, 3)
            .with_max_delay(Duration::from_secs(20));
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
        let mut huge = Constant::new(Duration::MAX).with_jitter_seeded(Jitter::Decorrelated, 1);
        for a in 1..5 {
            assert_eq!(huge.next_delay(&ctx(a)), Duration::MAX);
        }
    }

    #[test]
    fn clamps_apply() {
        let mut b = Constant::new(Duration::from_millis(1)).with_min_delay(Duration::from_secs(1));
        assert_eq!(b.next_delay(&ctx(1)), Duration::from_secs(1));
        let mut c = Constant::new(Duration::MAX).with_max_delay(Duration::from_secs(5));
        assert_eq!(c.next_delay(&ctx(1)), Duration::from_secs(5));
    }

    #[test]
    fn scale_saturates() {
        assert_eq!(scale(Duration::MAX, 2.0), Duration::MAX);
        assert_eq!(scale(Duration::MAX, f64::INFINITY), Duration::MAX);
        assert_eq!(scale(Duration::from_secs(3), -1.0), Duration::ZERO);
        assert_eq!(scale(Duration::from_secs(3), f64::NAN), Duration::ZERO);
        assert_eq!(
            scale(Duration::from_secs(3), 0.5),
            Duration::from_millis(1500)
        );
    }
}
