//! When to poll next, and when to give up.
//!
//! Configuration apart from state, as in backon: every policy is a
//! `Clone + Send + Sync` value an SDK can keep in its options, and each
//! operation makes its own running state from it. Three pieces, all plain
//! data with no I/O:
//!
//! - a [`BackoffBuilder`] describes the delays and builds, per operation, a
//!   [`Backoff`] that answers each wait or gives up ([`Step`]):
//!   [`ProgressBuilder`] (the default), [`ConstantBuilder`],
//!   [`ExponentialBuilder`] (both with [`Jitter`]), [`SmithyBuilder`], any
//!   iterator of delays ([`from_fn`]: backon's backoffs), or your own;
//! - a [`PollPolicy`] puts the rules around it: a delay before the first poll,
//!   the server's `Retry-After` (a floor under the backoff by default, or a
//!   replacement, always capped: [`RetryAfterMode`]), a floor under every
//!   delay (1 s unless lowered), a limit on polls and an overall deadline
//!   with a deadline-aware last poll;
//! - an [`ErrorPolicy`] says which failures to read the status are worth
//!   retrying, and how many times in a row.
//!
//! A backoff sees a [`PollContext`] each time it is asked.
//!
//! ```
//! use std::time::Duration;
//! use lro_poller::policy::{ExponentialBuilder, Jitter, PollPolicy, RetryAfterMode};
//!
//! let policy = PollPolicy::new(
//!         ExponentialBuilder::new(Duration::from_millis(500), 1.5, Duration::from_secs(20))
//!             .with_jitter(Jitter::Equal))
//!     .with_initial_delay(Duration::from_secs(1))
//!     .with_deadline(Duration::from_secs(15 * 60))
//!     .with_min_interval(Duration::from_millis(500))
//!     .with_retry_after(RetryAfterMode::Floor)
//!     .with_retry_after_cap(Duration::from_secs(120));
//! ```

mod backoff;
mod context;
mod error_policy;
mod iter;
mod jitter;
mod pacer;
mod poll_policy;
mod progress;
mod progress_backoff;
mod retry_after;
mod shapes;
mod smithy;

pub use backoff::{Backoff, BackoffBuilder, Step};
pub use context::PollContext;
pub use error_policy::ErrorPolicy;
pub(crate) use error_policy::FailureClass;
#[cfg(test)]
pub(crate) use iter::from_delays;
pub use iter::from_fn;
pub use jitter::Jitter;
pub(crate) use pacer::Pacer;
pub(crate) use poll_policy::Decision;
#[cfg(test)]
pub(crate) use poll_policy::{DEFAULT_MIN_INTERVAL, DEFAULT_RETRY_AFTER_CAP};
pub use poll_policy::{PollPolicy, RetryAfterMode};
pub use progress::ProgressBuilder;
pub(crate) use retry_after::parse_retry_after_with;
pub use shapes::{ConstantBuilder, ExponentialBuilder};
pub use smithy::SmithyBuilder;
