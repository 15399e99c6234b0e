//! Delay shapes: constant, exponential, jitter, caps.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::context::PollContext;

/// What a [`Backoff`] decided: wait this long, or give up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Poll again after this delay (the [`PollPolicy`](super::PollPolicy)
    /// still applies `Retry-After`, its floor and its limits on top).
    Wait(Duration),
    /// Poll no more: the operation ends with
    /// [`Error::GaveUp`](crate::Error::GaveUp) carrying this
    /// reason.
    Stop(Cow<'static, str>),
}

impl Step {
    /// The delay, when the backoff goes on.
    pub fn delay(&self) -> Option<Duration> {
        match self {
            Step::Wait(delay) => Some(*delay),
            Step::Stop(_) => None,
        }
    }
}

/// The running state of a backoff for one operation: decides how long to wait
/// before the next poll, or to stop.
///
/// A backoff sees the [`PollContext`] (polls so far, elapsed and remaining
/// time, the last status, the server's `Retry-After`, the previous delay) and
/// returns a [`Step`]. It does no I/O and never sleeps itself. `Retry-After`,
/// the floor, the deadline and the poll limit are applied on top by
/// [`PollPolicy`](super::PollPolicy), so a backoff only has to describe its
/// own shape. It takes `&mut self` so it may keep state (a random number
/// generator, a history of progress reports); each operation gets its own from
/// a [`BackoffBuilder`].
///
/// ```
/// use std::time::Duration;
/// use lro_poller::policy::{
///     Backoff, BackoffBuilder, BackoffExt, Exponential, Jitter, PollContext, Step,
/// };
///
/// // The configuration: shareable, cheap to clone.
/// let config = Exponential::new(Duration::from_secs(1), 2.0, Duration::from_secs(60))
///     .with_jitter_seeded(Jitter::Equal, 7)
///     .with_max_delay(Duration::from_secs(30));
/// // One operation's running state.
/// let mut backoff = config.build();
/// let step = backoff.next(&PollContext::new(3, Duration::from_secs(10)));
/// let delay = step.delay().unwrap();
/// assert!(delay >= Duration::from_secs(2) && delay <= Duration::from_secs(4));
/// ```
pub trait Backoff: Send + fmt::Debug {
    /// The step after the last poll.
    fn next(&mut self, ctx: &PollContext<'_>) -> Step;
}

impl<B: Backoff + ?Sized> Backoff for Box<B> {
    fn next(&mut self, ctx: &PollContext<'_>) -> Step {
        (**self).next(ctx)
    }
}

/// The configuration of a backoff: makes a fresh [`Backoff`] for each
/// operation.
///
/// A builder is plain configuration (`Send + Sync`, usually `Clone`): an SDK
/// keeps one in its options and every operation builds its own running state
/// from it, as backon's `BackoffBuilder` does. [`Constant`] and
/// [`Exponential`] hold no state and are their own backoffs;
/// [`ProgressAware`](super::ProgressAware) builds a history per operation;
/// [`Jittered`] a random generator per operation.
pub trait BackoffBuilder: Send + Sync + fmt::Debug {
    /// The running state this builder makes.
    type Backoff: Backoff + 'static;

    /// A fresh running state for one operation.
    fn build(&self) -> Self::Backoff;
}

/// A [`BackoffBuilder`] of any type behind a shared pointer, its backoffs
/// boxed: builders of different types stored together
/// ([`BackoffExt::boxed`]). Cloning it copies a pointer.
#[derive(Debug, Clone)]
pub struct BoxedBackoff(Arc<dyn DynBuilder>);

impl BackoffBuilder for BoxedBackoff {
    type Backoff = Box<dyn Backoff>;
    fn build(&self) -> Box<dyn Backoff> {
        self.0.build_boxed()
    }
}

/// A [`BackoffBuilder`] behind a pointer, its backoffs boxed: what a
/// [`PollPolicy`](super::PollPolicy) keeps.
pub(crate) trait DynBuilder: Send + Sync + fmt::Debug {
    fn build_boxed(&self) -> Box<dyn Backoff>;
}

impl<B: BackoffBuilder> DynBuilder for B {
    fn build_boxed(&self) -> Box<dyn Backoff> {
        Box::new(self.build())
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

/// The same delay every time. No state: it is its own backoff.
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
    fn next(&mut self, _ctx: &PollContext<'_>) -> Step {
        Step::Wait(self.delay)
    }
}

impl BackoffBuilder for Constant {
    type Backoff = Constant;
    fn build(&self) -> Constant {
        *self
    }
}

/// `initial × factor^(attempt − 1)`, capped at `max`. No state: it is its
/// own backoff.
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

    pub(crate) const fn const_new(initial: Duration, factor: f64, max: Duration) -> Self {
        Exponential {
            initial,
            factor,
            max,
        }
    }

    /// The delay after `attempt` polls.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(i32::MAX as u32) as i32;
        scale(self.initial, self.factor.powi(exponent)).min(self.max)
    }
}

impl Backoff for Exponential {
    fn next(&mut self, ctx: &PollContext<'_>) -> Step {
        Step::Wait(self.delay(ctx.attempt))
    }
}

impl BackoffBuilder for Exponential {
    type Backoff = Exponential;
    fn build(&self) -> Exponential {
        *self
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

/// [`Jitter`] applied to an inner backoff's delays.
///
/// As a builder, it gives each operation its own random generator: seeded
/// from the thread's generator ([`BackoffExt::with_jitter`]), so operations
/// do not poll in step, or from a fixed seed
/// ([`BackoffExt::with_jitter_seeded`]), so that every operation draws the
/// same delays (for tests and simulations).
#[derive(Clone)]
pub struct Jittered<B> {
    inner: B,
    jitter: Jitter,
    seed: Option<u64>,
    rng: fastrand::Rng,
    previous: Option<Duration>,
}

impl<B: fmt::Debug> fmt::Debug for Jittered<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jittered")
            .field("inner", &self.inner)
            .field("jitter", &self.jitter)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

impl<B> Jittered<B> {
    fn new(inner: B, jitter: Jitter, seed: Option<u64>) -> Self {
        Jittered {
            inner,
            jitter,
            seed,
            rng: seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed),
            previous: None,
        }
    }
}

fn uniform(rng: &mut fastrand::Rng, low: Duration, high: Duration) -> Duration {
    if high <= low {
        return low;
    }
    low.saturating_add(scale(high - low, rng.f64())).min(high)
}

/// `d` randomised per `jitter`; `previous` is the last randomised delay.
pub(crate) fn apply_jitter(
    jitter: Jitter,
    rng: &mut fastrand::Rng,
    d: Duration,
    previous: Option<Duration>,
) -> Duration {
    match jitter {
        Jitter::None => d,
        Jitter::Full => uniform(rng, Duration::ZERO, d),
        Jitter::Equal => uniform(rng, d / 2, d),
        Jitter::Decorrelated => {
            let high = previous.unwrap_or(d).saturating_mul(3).max(d);
            uniform(rng, d, high)
        }
    }
}

impl<B: Backoff> Backoff for Jittered<B> {
    fn next(&mut self, ctx: &PollContext<'_>) -> Step {
        match self.inner.next(ctx) {
            Step::Wait(d) => {
                let delay = apply_jitter(self.jitter, &mut self.rng, d, self.previous);
                self.previous = Some(delay);
                Step::Wait(delay)
            }
            stop => stop,
        }
    }
}

impl<B: BackoffBuilder> BackoffBuilder for Jittered<B> {
    type Backoff = Jittered<B::Backoff>;
    fn build(&self) -> Self::Backoff {
        Jittered::new(self.inner.build(), self.jitter, self.seed)
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
    fn next(&mut self, ctx: &PollContext<'_>) -> Step {
        match self.inner.next(ctx) {
            Step::Wait(d) => Step::Wait(d.max(self.min).min(self.max)),
            stop => stop,
        }
    }
}

impl<B: BackoffBuilder> BackoffBuilder for Clamped<B> {
    type Backoff = Clamped<B::Backoff>;
    fn build(&self) -> Self::Backoff {
        Clamped {
            inner: self.inner.build(),
            min: self.min,
            max: self.max,
        }
    }
}

/// Combinators for every [`BackoffBuilder`].
pub trait BackoffExt: BackoffBuilder + Sized {
    /// Randomises the delays (each operation's generator randomly seeded).
    fn with_jitter(self, jitter: Jitter) -> Jittered<Self> {
        Jittered::new(self, jitter, None)
    }

    /// Randomises the delays with a seeded generator: the same seed gives the
    /// same delays, in every operation built from it (for tests and
    /// simulations).
    fn with_jitter_seeded(self, jitter: Jitter, seed: u64) -> Jittered<Self> {
        Jittered::new(self, jitter, Some(seed))
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

    /// Erases the builder's type (to store builders of different types
    /// together).
    fn boxed(self) -> BoxedBackoff
    where
        Self: 'static,
    {
        BoxedBackoff(Arc::new(self))
    }
}

impl<B: BackoffBuilder> BackoffExt for B {}

/// The delay a backoff that never stops gives (for the policy's unit tests).
#[cfg(test)]
pub(crate) trait NextDelay {
    fn next_delay(&mut self, ctx: &PollContext<'_>) -> Duration;
}

#[cfg(test)]
impl<B: Backoff> NextDelay for B {
    fn next_delay(&mut self, ctx: &PollContext<'_>) -> Duration {
        match self.next(ctx) {
            Step::Wait(delay) => delay,
            Step::Stop(reason) => panic!("the backoff stopped: {reason}"),
        }
    }
}

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
    fn equal_jitter_is_uniform_over_its_range() {
        let mut b = Constant::new(Duration::from_secs(8)).with_jitter_seeded(Jitter::Equal, 5);
        let n = 2000;
        let mean = (1..=n)
            .map(|a| b.next_delay(&ctx(a)).as_secs_f64())
            .sum::<f64>()
            / f64::from(n);
        // Uniform in [4 s, 8 s]: a mean of 6 s.
        assert!((5.8..=6.2).contains(&mean), "{mean}");
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
