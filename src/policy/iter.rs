//! Any iterator of delays as a backoff (backon's backoffs are such iterators).

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use super::backoff::{Backoff, BackoffBuilder, Step, read_state, write_state};
use super::context::PollContext;

/// The most delays a resumed iterator skips (a token is untrusted input).
const MAX_SKIPPED: u32 = 1 << 16;

/// [`from_fn`]'s builder.
#[derive(Clone)]
struct Delays<F> {
    make: F,
}

impl<F> fmt::Debug for Delays<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delays").finish_non_exhaustive()
    }
}

/// A backoff over the iterators `make` returns: each operation gets a fresh
/// iterator, takes one delay after each poll, and stops when the iterator
/// ends ([`Step::Stop`], so the operation ends with
/// [`Error::GaveUp`](crate::Error::GaveUp)).
///
/// backon's backoffs are iterators of `Duration`, so a backon builder becomes
/// a backoff with `from_fn`:
///
/// ```
/// use lro_poller::policy::{PollPolicy, from_fn};
/// use backon::{BackoffBuilder as _, ExponentialBuilder};
///
/// let backon = ExponentialBuilder::default().with_jitter().with_max_times(20);
/// let policy = PollPolicy::new(from_fn(move || backon.build()));
/// ```
///
/// A fixed list of delays is an iterator too:
///
/// ```
/// use std::time::Duration;
/// use lro_poller::policy::{Backoff, BackoffBuilder, PollContext, Step, from_fn};
///
/// let secs = Duration::from_secs;
/// let config = from_fn(move || [secs(1), secs(5), secs(30)].into_iter());
/// let mut backoff = config.build();
/// let ctx = PollContext::new(1, secs(0));
/// assert_eq!(backoff.next(&ctx), Step::Wait(secs(1)));
/// assert_eq!(backoff.next(&ctx), Step::Wait(secs(5)));
/// assert_eq!(backoff.next(&ctx), Step::Wait(secs(30)));
/// assert!(matches!(backoff.next(&ctx), Step::Stop(_)));
/// ```
///
/// The iterator's delays go through the [`PollPolicy`](super::PollPolicy)'s
/// rules like any backoff's: `Retry-After`, the floor, the deadline.
pub fn from_fn<F, I>(make: F) -> impl BackoffBuilder
where
    F: Fn() -> I + Send + Sync,
    I: Iterator<Item = Duration> + Send + 'static,
{
    Delays { make }
}

/// A backoff over copies of `delays`, one per operation.
#[cfg(test)]
pub(crate) fn from_delays<I>(delays: I) -> impl BackoffBuilder
where
    I: Iterator<Item = Duration> + Clone + Send + Sync + 'static,
{
    from_fn(move || delays.clone())
}

impl<F, I> BackoffBuilder for Delays<F>
where
    F: Fn() -> I + Send + Sync,
    I: Iterator<Item = Duration> + Send + 'static,
{
    type Backoff = DelaysBackoff<I>;

    fn build(&self) -> DelaysBackoff<I> {
        DelaysBackoff {
            delays: (self.make)(),
            taken: 0,
        }
    }
}

/// One operation's iterator of delays (see [`from_fn`]).
pub(crate) struct DelaysBackoff<I> {
    delays: I,
    taken: u32,
}

impl<I> fmt::Debug for DelaysBackoff<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DelaysBackoff")
            .field("taken", &self.taken)
            .finish_non_exhaustive()
    }
}

impl<I: Iterator<Item = Duration> + Send> Backoff for DelaysBackoff<I> {
    fn next(&mut self, _ctx: &PollContext<'_>) -> Step {
        match self.delays.next() {
            Some(delay) => {
                self.taken = self.taken.saturating_add(1);
                Step::Wait(delay)
            }
            None => Step::Stop(Cow::Owned(format!(
                "the backoff ran out of delays after {}",
                self.taken
            ))),
        }
    }

    /// How many delays were taken: a resumed operation's fresh iterator
    /// skips them.
    fn save_state(&self) -> Option<serde_json::Value> {
        write_state(&self.taken)
    }

    fn restore_state(&mut self, saved: &serde_json::Value) -> bool {
        // A token is untrusted input: skip a bounded number of delays.
        let Some(taken) = read_state::<u32>(saved).filter(|&n| n <= MAX_SKIPPED) else {
            return false;
        };
        for _ in 0..taken {
            if self.delays.next().is_none() {
                break;
            }
            self.taken = self.taken.saturating_add(1);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_gets_a_fresh_iterator_and_stops_at_its_end() {
        let config = from_fn(|| (1..=3).map(Duration::from_secs));
        let ctx = PollContext::new(1, Duration::ZERO);
        for _ in 0..2 {
            let mut backoff = config.build();
            let steps: Vec<Step> = (0..4).map(|_| backoff.next(&ctx)).collect();
            assert_eq!(
                steps[..3],
                [1, 2, 3].map(|s| Step::Wait(Duration::from_secs(s)))
            );
            assert_eq!(
                steps[3],
                Step::Stop("the backoff ran out of delays after 3".into())
            );
        }
    }
}
