//! The two traits of a backoff: [`BackoffBuilder`] (configuration) makes a
//! [`Backoff`] (one operation's running state), which answers a [`Step`].

use std::borrow::Cow;
use std::fmt;
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
/// A backoff of your own implements both traits: the builder is the
/// configuration an SDK keeps, the backoff one operation's running state.
///
/// ```
/// use std::time::Duration;
/// use lro_poller::policy::{Backoff, BackoffBuilder, PollContext, PollPolicy, Step};
///
/// /// 1 s, 2 s, 3 s, … and give up after ten polls.
/// #[derive(Debug, Clone)]
/// struct Linear;
///
/// #[derive(Debug)]
/// struct LinearBackoff;
///
/// impl BackoffBuilder for Linear {
///     type Backoff = LinearBackoff;
///     fn build(&self) -> LinearBackoff {
///         LinearBackoff
///     }
/// }
///
/// impl Backoff for LinearBackoff {
///     fn next(&mut self, ctx: &PollContext<'_>) -> Step {
///         match ctx.attempt {
///             0..10 => Step::Wait(Duration::from_secs(u64::from(ctx.attempt.max(1)))),
///             _ => Step::Stop("ten polls and still running".into()),
///         }
///     }
/// }
///
/// let mut backoff = Linear.build();
/// let after_three = backoff.next(&PollContext::new(3, Duration::from_secs(6)));
/// assert_eq!(after_three, Step::Wait(Duration::from_secs(3)));
/// let policy = PollPolicy::new(Linear); // in an operation
/// ```
pub trait Backoff: Send + fmt::Debug {
    /// The step after the last poll.
    fn next(&mut self, ctx: &PollContext<'_>) -> Step;

    /// This backoff's running state, for a resume token, so that a resumed
    /// operation goes on where this one stopped. The default, `None`, keeps
    /// nothing: a resumed operation builds a fresh backoff and its schedule
    /// starts over (the token's due time and poll count still hold). The
    /// built-in backoffs all keep theirs (a progress-aware one its recent
    /// reports, a jittered one its generator); [`from_fn`](super::from_fn)
    /// keeps how many delays it took and skips them on resume.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lro_poller::policy::{Backoff, PollContext, Step};
    /// use lro_poller::serde_json::{Value, json};
    ///
    /// /// Waits one second longer after each poll it answers.
    /// #[derive(Debug, Default)]
    /// struct Slower {
    ///     answered: u64,
    /// }
    ///
    /// impl Backoff for Slower {
    ///     fn next(&mut self, _ctx: &PollContext<'_>) -> Step {
    ///         self.answered += 1;
    ///         Step::Wait(Duration::from_secs(self.answered))
    ///     }
    ///     fn save_state(&self) -> Option<Value> {
    ///         Some(json!(self.answered))
    ///     }
    ///     fn restore_state(&mut self, saved: &Value) -> bool {
    ///         saved.as_u64().map(|n| self.answered = n).is_some()
    ///     }
    /// }
    ///
    /// let mut first = Slower::default();
    /// first.next(&PollContext::new(1, Duration::ZERO));
    /// let mut resumed = Slower::default();
    /// assert!(resumed.restore_state(&first.save_state().unwrap()));
    /// assert_eq!(resumed.next(&PollContext::new(2, Duration::ZERO)).delay(), Some(Duration::from_secs(2)));
    /// ```
    fn save_state(&self) -> Option<serde_json::Value> {
        None
    }

    /// Takes up the state [`save_state`](Backoff::save_state) gave, on a
    /// freshly built backoff; returns whether it could (when it cannot, the
    /// backoff stays fresh). The default takes nothing up.
    fn restore_state(&mut self, saved: &serde_json::Value) -> bool {
        let _ = saved;
        false
    }
}

impl<B: Backoff + ?Sized> Backoff for Box<B> {
    fn next(&mut self, ctx: &PollContext<'_>) -> Step {
        (**self).next(ctx)
    }

    fn save_state(&self) -> Option<serde_json::Value> {
        (**self).save_state()
    }

    fn restore_state(&mut self, saved: &serde_json::Value) -> bool {
        (**self).restore_state(saved)
    }
}

/// Reads a backoff's saved state into `T`, or `None` when it does not fit.
pub(crate) fn read_state<T: serde::de::DeserializeOwned>(saved: &serde_json::Value) -> Option<T> {
    T::deserialize(saved).ok()
}

/// A backoff's state as JSON (`None` if it cannot be written).
pub(crate) fn write_state(state: &impl serde::Serialize) -> Option<serde_json::Value> {
    serde_json::to_value(state).ok()
}

/// The configuration of a backoff: makes a fresh [`Backoff`] for each
/// operation.
///
/// A builder is plain configuration (`Send + Sync`, usually `Clone`): an SDK
/// keeps one in its options and every operation builds its own running state
/// from it, as backon's `BackoffBuilder` does: the built-in
/// [`ConstantBuilder`](super::ConstantBuilder),
/// [`ExponentialBuilder`](super::ExponentialBuilder),
/// [`ProgressBuilder`](super::ProgressBuilder) and
/// [`SmithyBuilder`](super::SmithyBuilder), and [`from_fn`](super::from_fn)
/// over any iterator of delays. Their running states are not named: use them
/// through this trait and [`Backoff`].
pub trait BackoffBuilder: Send + Sync + fmt::Debug {
    /// The running state this builder makes.
    type Backoff: Backoff + 'static;

    /// A fresh running state for one operation.
    fn build(&self) -> Self::Backoff;
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
pub(crate) fn scale(duration: Duration, factor: f64) -> Duration {
    if factor.is_nan() || factor <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(duration.as_secs_f64() * factor).unwrap_or(Duration::MAX)
}

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

    #[test]
    fn a_step_gives_its_delay() {
        assert_eq!(
            Step::Wait(Duration::from_secs(2)).delay(),
            Some(Duration::from_secs(2))
        );
        assert_eq!(Step::Stop("done".into()).delay(), None);
    }
}
