//! The state machine: poll a monitor until the job ends.
//!
//! An [`Operation`] is a [`Stream`] of status reports and, through
//! [`IntoFuture`], a future of the final [`Outcome`]. It is lazy: nothing is
//! sent until it is polled. Its states are *idle* (nothing sent yet),
//! *requesting* (a poll in flight), *sleeping* (waiting for the next poll,
//! due at [`Operation::next_poll_at`]), *saving* (the newest token handed to
//! the caller's [`Checkpoint`] before it goes on) and *done*. Each status is yielded the moment it is read; the sleep comes after.
//! After a terminal status the stream ends and no request is ever sent again.
//! Dropping the operation drops the request in flight and the sleep: polling
//! stops at once.

mod builder;
mod cancel;
mod checkpoint;
mod clock;
mod core;
mod flight;
#[cfg(test)]
mod floor_tests;
mod machine;
mod mapped;
mod monitor;
mod outcome;
mod retry;
mod saving;
mod schedule;
mod start;
mod start_request;
mod start_retry;
#[cfg(test)]
mod tests;
mod unbuilt;

pub use builder::OperationBuilder;
pub use checkpoint::Checkpoint;
pub use core::Operation;
pub use mapped::Mapped;
pub use outcome::Outcome;
pub use retry::RetryNotice;
pub use start_request::StartRetry;
