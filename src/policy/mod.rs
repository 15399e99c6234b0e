//! When to poll next, and when to give up.
//!
//! Configuration apart from state, as in backon: every policy is a
//! `Clone + Send + Sync` value an SDK can keep in its options, and each
//! operation makes its own running state from it. Three pieces, all plain
//! data with no I/O:
//!
//! - a [`BackoffBuilder`] describes the delays and builds, per operation, a
//!   [`Backoff`] that decides each wait or gives up ([`Step`]):
//!   [`ProgressAware`] (the default), [`Constant`], [`Exponential`],
//!   [`Smithy`], with [`Jitter`] and clamps from [`BackoffExt`], or any
//!   iterator of delays ([`from_fn`], [`from_delays`]: backon's backoffs);
//! - a [`PollPolicy`] puts the rules around it: a delay before the first poll,
//!   the server's `Retry-After` (a floor under the backoff by default, or a
//!   replacement, always capped), a floor under every delay (1 s unless
//!   lowered), a limit on polls and an overall deadline with a deadline-aware
//!   last poll; [`PollPolicy::start`] makes an operation's [`Pacer`];
//! - an [`ErrorPolicy`] says which failures to read the status are worth
//!   retrying, and how many times in a row.
//!
//! ```
//! use std::time::Duration;
//! use lro_poller::policy::{Exponential, PollPolicy, RetryAfterMode};
//!
//! let policy = PollPolicy::new(Exponential::new(
//!         Duration::from_millis(500), 1.5, Duration::from_secs(20)))
//!     .with_initial_delay(Duration::from_secs(1))
//!     .with_deadline(Duration::from_secs(15 * 60))
//!     .with_retry_after(RetryAfterMode::Floor)
//!     .with_retry_after_cap(Duration::from_secs(120));
//! ```

mod backoff;
mod context;
mod error_policy;
mod iter;
mod pacer;
mod poll_policy;
mod progress;
mod progress_backoff;
mod retry_after;
mod smithy;

pub use backoff::{
    Backoff, BackoffBuilder, BackoffExt, BoxedBackoff, Clamped, Constant, Exponential, Jitter,
    Jittered, Step, scale,
};
pub use context::PollContext;
pub use error_policy::{ErrorPolicy, FailureClass};
pub use iter::{Delays, DelaysBackoff, from_delays, from_fn};
pub use pacer::Pacer;
pub use poll_policy::{
    DEFAULT_DEADLINE, DEFAULT_INITIAL_DELAY, DEFAULT_MIN_INTERVAL, DEFAULT_RETRY_AFTER_CAP,
    Decision, PollPolicy, RetryAfterMode,
};
pub use progress::{PROGRESS_MAX_DELAY, PROGRESS_MIN_DELAY, ProgressAware};
pub use progress_backoff::ProgressBackoff;
pub use retry_after::parse_retry_after;
pub(crate) use retry_after::parse_retry_after_with;
pub use smithy::{SMITHY_MAX_DELAY, SMITHY_MIN_DELAY, Smithy, SmithyBackoff};
