//! Time, without a runtime: a clock and a way to sleep.
//!
//! The crate never calls `Instant::now()` or a runtime's sleep itself: elapsed
//! time, deadlines and delays all go through the operation's [`Timer`]. Enable
//! the `tokio` feature for [`TokioTimer`] or `futures-timer` for
//! [`FuturesTimer`], or pass any timer of your own. The `test-util` feature adds
//! a virtual-time timer (`lro_poller::testing::VirtualTimer`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant, SystemTime};

/// A future that completes after a delay.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The longest single sleep a built-in timer performs; longer requests are cut
/// to this (about 30 years), so no `Instant` arithmetic can overflow.
pub const MAX_SLEEP: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// A monotonic clock and a sleep.
///
/// ```
/// use std::time::{Duration, Instant};
/// use lro_poller::timer::{Sleep, Timer};
///
/// /// A timer on a runtime of your own (here: a thread per sleep).
/// #[derive(Debug)]
/// struct ThreadTimer;
///
/// impl Timer for ThreadTimer {
///     fn now(&self) -> Instant {
///         Instant::now()
///     }
///     fn sleep(&self, duration: Duration) -> Sleep {
///         let (tx, rx) = futures::channel::oneshot::channel::<()>();
///         std::thread::spawn(move || {
///             std::thread::sleep(duration);
///             let _ = tx.send(());
///         });
///         Box::pin(async move {
///             let _ = rx.await;
///         })
///     }
/// }
/// ```
pub trait Timer: Send + Sync + fmt::Debug {
    /// The current instant on this timer's monotonic clock.
    fn now(&self) -> Instant;

    /// A future that completes once `duration` has passed on this timer.
    fn sleep(&self, duration: Duration) -> Sleep;

    /// The current wall-clock time, used to read `Retry-After` dates when the
    /// response has no `Date` header. Defaults to `SystemTime::now()`.
    fn wall_clock(&self) -> SystemTime {
        SystemTime::now()
    }
}

impl<T: Timer + ?Sized> Timer for std::sync::Arc<T> {
    fn now(&self) -> Instant {
        (**self).now()
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        (**self).sleep(duration)
    }
    fn wall_clock(&self) -> SystemTime {
        (**self).wall_clock()
    }
}

/// A [`Timer`] on tokio's clock; it follows tokio's paused test clock
/// (`tokio::time::pause`).
#[cfg(feature = "tokio")]
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct TokioTimer;

#[cfg(feature = "tokio")]
impl TokioTimer {
    /// The tokio timer.
    pub fn new() -> Self {
        TokioTimer
    }
}

#[cfg(feature = "tokio")]
impl Timer for TokioTimer {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration.min(MAX_SLEEP)))
    }
}

/// A [`Timer`] over the `futures-timer` crate: works on any executor,
/// including `futures::executor::block_on`.
#[cfg(feature = "futures-timer")]
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct FuturesTimer;

#[cfg(feature = "futures-timer")]
impl FuturesTimer {
    /// The futures-timer timer.
    pub fn new() -> Self {
        FuturesTimer
    }
}

#[cfg(feature = "futures-timer")]
impl Timer for FuturesTimer {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(futures_timer::Delay::new(duration.min(MAX_SLEEP)))
    }
}

/// The timer an operation uses when none is given: tokio's when the `tokio`
/// feature is on, else futures-timer's when that feature is on, else none.
/// One instance shared by every operation (no allocation per operation).
pub(crate) fn default_timer() -> Option<std::sync::Arc<dyn Timer>> {
    #[cfg(feature = "tokio")]
    {
        static SHARED: std::sync::OnceLock<std::sync::Arc<dyn Timer>> = std::sync::OnceLock::new();
        Some(
            SHARED
                .get_or_init(|| std::sync::Arc::new(TokioTimer))
                .clone(),
        )
    }
    #[cfg(all(not(feature = "tokio"), feature = "futures-timer"))]
    {
        static SHARED: std::sync::OnceLock<std::sync::Arc<dyn Timer>> = std::sync::OnceLock::new();
        Some(
            SHARED
                .get_or_init(|| std::sync::Arc::new(FuturesTimer))
                .clone(),
        )
    }
    #[cfg(not(any(feature = "tokio", feature = "futures-timer")))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    #[cfg(feature = "tokio")]
    #[tokio::test(start_paused = true)]
    async fn tokio_timer_follows_the_paused_clock() {
        use super::*;
        let timer = TokioTimer::new();
        let before = timer.now();
        timer.sleep(Duration::from_secs(3600)).await;
        assert!(timer.now() - before >= Duration::from_secs(3600));
        // An absurd sleep is accepted, not a panic.
        let far = timer.sleep(Duration::MAX);
        drop(far);
    }

    #[cfg(feature = "futures-timer")]
    #[test]
    fn futures_timer_sleeps_on_block_on() {
        use super::*;
        let timer = FuturesTimer::new();
        let before = timer.now();
        futures::executor::block_on(timer.sleep(Duration::from_millis(20)));
        assert!(timer.now() - before >= Duration::from_millis(20));
        drop(timer.sleep(Duration::MAX));
    }
}
