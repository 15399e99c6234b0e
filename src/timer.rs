//! Time, without a runtime: a clock and a way to sleep.
//!
//! The crate never calls `Instant::now()` or a runtime's sleep itself: elapsed
//! time, deadlines and delays all go through the operation's [`Timer`]. An
//! operation given none uses [`TokioTimer`] when it is built inside a tokio
//! runtime with the `tokio` feature on, else [`FuturesTimer`] (the
//! `futures-timer` feature, on by default: runtime-free). Pass any timer of
//! your own with `OperationBuilder::with_timer`. The `test-util` feature adds
//! a virtual-time timer (`lro_poller::testing::VirtualTimer`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
#[cfg(any(feature = "tokio", feature = "futures-timer"))]
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

/// A future that completes after a delay.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The longest single sleep a built-in timer performs; longer requests are cut
/// to this (about 30 years), so no `Instant` arithmetic can overflow.
#[cfg(any(
    feature = "tokio",
    feature = "futures-timer",
    feature = "test-util",
    test
))]
pub(crate) const MAX_SLEEP: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

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

    /// A time-out raced against a request in flight: completes once
    /// `duration` has passed, like [`sleep`](Self::sleep) (the default). A
    /// timer on virtual time, where time passes only when something sleeps,
    /// makes it wait for the clock to be moved by others instead of moving
    /// it, so a request in flight takes no virtual time
    /// (`testing::VirtualTimer`).
    fn timeout(&self, duration: Duration) -> Sleep {
        self.sleep(duration)
    }

    /// The current wall-clock time, used to read `Retry-After` dates when the
    /// response has no `Date` header. Defaults to `SystemTime::now()`.
    fn wall_clock(&self) -> SystemTime {
        SystemTime::now()
    }
}

impl<T: Timer + ?Sized> Timer for Arc<T> {
    fn now(&self) -> Instant {
        (**self).now()
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        (**self).sleep(duration)
    }
    fn timeout(&self, duration: Duration) -> Sleep {
        (**self).timeout(duration)
    }
    fn wall_clock(&self) -> SystemTime {
        (**self).wall_clock()
    }
}

impl<T: Timer + ?Sized> Timer for Box<T> {
    fn now(&self) -> Instant {
        (**self).now()
    }
    fn sleep(&self, duration: Duration) -> Sleep {
        (**self).sleep(duration)
    }
    fn timeout(&self, duration: Duration) -> Sleep {
        (**self).timeout(duration)
    }
    fn wall_clock(&self) -> SystemTime {
        (**self).wall_clock()
    }
}

/// A [`Timer`] on tokio's clock; it follows tokio's paused test clock
/// (`tokio::time::pause`).
///
/// It needs a tokio runtime with its timer enabled. Asked to sleep where no
/// tokio runtime is running (an operation built in one runtime and polled by
/// `futures::executor::block_on` elsewhere), it does not panic: it sleeps on
/// futures-timer when that feature is on, else on a thread of its own.
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
        let duration = duration.min(MAX_SLEEP);
        if tokio::runtime::Handle::try_current().is_ok() {
            return Box::pin(tokio::time::sleep(duration));
        }
        #[cfg(feature = "futures-timer")]
        {
            FuturesTimer.sleep(duration)
        }
        #[cfg(not(feature = "futures-timer"))]
        {
            thread_sleep(duration)
        }
    }
}

/// A sleep on a thread of its own: the last resort of a [`TokioTimer`] polled
/// outside any runtime, so that it never panics.
#[cfg(all(feature = "tokio", not(feature = "futures-timer")))]
fn thread_sleep(duration: Duration) -> Sleep {
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("lro-sleep".into())
        .spawn(move || {
            std::thread::sleep(duration);
            let _ = tx.send(());
        });
    Box::pin(async move {
        if spawned.is_ok() {
            let _ = rx.await;
        }
    })
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

/// The timer an operation uses when none is given, shared by every operation
/// (no allocation per operation):
///
/// - with the `tokio` feature, inside a tokio runtime: tokio's;
/// - else with the `futures-timer` feature: futures-timer's (any executor);
/// - else an error that says what to do. Any crate in a dependency graph can
///   turn the `tokio` feature on, so an operation driven by
///   `futures::executor::block_on` or smol gets a readable error at build
///   time, never a panic in the middle of polling.
pub(crate) fn default_timer() -> Result<Arc<dyn Timer>, String> {
    #[cfg(feature = "tokio")]
    {
        if tokio::runtime::Handle::try_current().is_ok() {
            static SHARED: OnceLock<Arc<dyn Timer>> = OnceLock::new();
            return Ok(SHARED.get_or_init(|| Arc::new(TokioTimer)).clone());
        }
    }
    #[cfg(feature = "futures-timer")]
    {
        static SHARED: OnceLock<Arc<dyn Timer>> = OnceLock::new();
        Ok(SHARED.get_or_init(|| Arc::new(FuturesTimer)).clone())
    }
    #[cfg(all(feature = "tokio", not(feature = "futures-timer")))]
    {
        Err(
            "no timer: the `tokio` feature is on but no tokio runtime is running here; \
             build the operation inside a tokio runtime, pass a timer with `with_timer`, \
             or enable the `futures-timer` feature"
                .into(),
        )
    }
    #[cfg(not(any(feature = "tokio", feature = "futures-timer")))]
    {
        Err("no timer: pass one with `with_timer`, or enable the `tokio` or `futures-timer` feature".into())
    }
}

#[cfg(test)]
mod tests {
    /// With the `tokio` feature alone and no runtime, the default timer is a
    /// readable error that names the fixes, not a panic later.
    #[cfg(all(feature = "tokio", not(feature = "futures-timer")))]
    #[test]
    fn tokio_without_a_runtime_is_an_error_that_names_the_fix() {
        let message = super::default_timer().unwrap_err();
        assert!(message.contains("no tokio runtime"), "{message}");
        assert!(message.contains("with_timer"), "{message}");
        assert!(message.contains("futures-timer"), "{message}");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let _inside = runtime.enter();
        assert!(super::default_timer().is_ok());
    }

    /// Tokio's timer outside any runtime sleeps on a thread, without a panic.
    #[cfg(all(feature = "tokio", not(feature = "futures-timer")))]
    #[test]
    fn tokio_timer_outside_a_runtime_sleeps_on_a_thread() {
        use super::*;
        let timer = TokioTimer::new();
        let before = Instant::now();
        futures::executor::block_on(timer.sleep(Duration::from_millis(20)));
        assert!(before.elapsed() >= Duration::from_millis(20));
    }

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
