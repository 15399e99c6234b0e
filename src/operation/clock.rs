//! The operation's clock: its timer, when it started, and the time a resumed
//! operation carried over.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::timer::{Sleep, Timer};

/// The operation's clock.
#[derive(Clone)]
pub(super) struct Clock {
    timer: Arc<dyn Timer>,
    started: Instant,
    carried: Duration,
}

impl Clock {
    /// A clock started now on `timer`, `carried` already elapsed.
    pub(super) fn new(timer: Arc<dyn Timer>, carried: Duration) -> Self {
        Clock {
            started: timer.now(),
            timer,
            carried,
        }
    }

    /// Time since the operation started, plus what a resumed one carried.
    pub(super) fn elapsed(&self) -> Duration {
        self.timer
            .now()
            .saturating_duration_since(self.started)
            .saturating_add(self.carried)
    }

    /// The timer.
    pub(super) fn timer(&self) -> &dyn Timer {
        &*self.timer
    }

    /// A sleep of `delay`.
    pub(super) fn sleep(&self, delay: Duration) -> Sleep {
        self.timer.sleep(delay)
    }

    /// A time-out of `delay`, raced against a request.
    pub(super) fn timeout(&self, delay: Duration) -> Sleep {
        self.timer.timeout(delay)
    }

    /// The wall clock.
    pub(super) fn wall_clock(&self) -> SystemTime {
        self.timer.wall_clock()
    }
}
