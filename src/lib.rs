//! Poll HTTP long-running operations as a [`Stream`](futures::Stream) of status
//! updates and a [`Future`] of the outcome.
//!
//! A service answers a slow request with `202 Accepted` and a monitor URL; the
//! monitor answers `notStarted → inProgress 27.8% → completed` (or `failed`).
//! An [`Operation`] polls the monitor over any HTTP client (a [`Transport`]), on
//! any async runtime (a [`Timer`](timer::Timer)), with pluggable policies
//! ([`policy`]): every status is yielded the moment it is read, the job's own
//! error is kept when it fails, `Retry-After` is honoured and capped, and an
//! overall deadline bounds the wait.
//!
//! The families it knows — OneDrive/Graph, Azure, Google — are
//! [`protocol`]s like any other: a family of your own (status in headers
//! polled with `HEAD`, a monitor URL in the body, a request re-sent until it
//! says done) plugs in through the same [`protocol::Protocol`] trait, starts,
//! hands the caller what it read ([`AsyncJobStatus::details`],
//! [`AsyncJobStatus::answer`]) and resumes from a [`ResumeToken`]. The
//! [`protocol`] module's documentation is the guide to writing one.
//!
//! ```
//! # #[cfg(feature = "test-util")] {
//! use std::time::Duration;
//! use futures::StreamExt;
//! use lro_poller::{Operation, policy::{ExponentialBuilder, PollPolicy}};
//! use lro_poller::testing::{ScriptedTransport, VirtualTimer};
//!
//! # futures::executor::block_on(async {
//! // Any `Transport` works: a reqwest client, a tower stack, or this script.
//! let transport = ScriptedTransport::new()
//!     .with_json(202, r#"{"operation":"ItemCopy","percentageComplete":27.8,"status":"inProgress"}"#)
//!     .with_json(303, r#"{"percentageComplete":100.0,"resourceId":"01MOW","status":"completed"}"#);
//!
//! let mut operation = Operation::monitor(transport, "https://api.example/monitor/4A34")
//!     .with_policy(PollPolicy::new(ExponentialBuilder::new(
//!         Duration::from_secs(1), 2.0, Duration::from_secs(30),
//!     )).with_deadline(Duration::from_secs(600)))
//!     .with_timer(VirtualTimer::new())
//!     .build()?;
//!
//! while let Some(status) = operation.next().await {
//!     let status = status?;
//!     println!("{} {:?}", status.status, status.percentage_complete);
//! }
//! let outcome = operation.outcome().await?;
//! assert_eq!(outcome.resource_id(), Some("01MOW"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! # }
//! ```
//!
//! # Features
//! - `futures-timer` (default): [`timer::FuturesTimer`], runtime-free: the
//!   timer an operation uses when none is given, on any runtime or none. It
//!   is a default feature so that the default build always has a timer and
//!   [`OperationBuilder::build`] never fails for want of one.
//! - `tokio`: [`timer::TokioTimer`], used when none is given *and* the
//!   operation is built inside a tokio runtime (it follows tokio's paused
//!   test clock); elsewhere the `futures-timer` one is used.
//! - `test-util`: [`testing::VirtualTimer`] and [`testing::ScriptedTransport`].
//! - `reqwest`: [`transport::ReqwestTransport`].
//! - `tower`: [`transport::TowerTransport`], over any `tower::Service`.
//! - `tracing`: a span per operation, an event per poll.
//! - `waiters`: [`waiter`], Smithy/AWS-style waiters (re-send a request, decide by acceptors).
//!
//! With default features off (and neither timer feature on), pass a timer
//! with [`OperationBuilder::with_timer`]; otherwise `build` fails with
//! [`BuildError::NoTimer`].
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod answer;
mod build_error;
mod error;
mod operation;
mod origin;
pub mod policy;
pub mod protocol;
mod protocol_error;
mod resume;
mod status;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
pub mod timer;
pub mod transport;
#[cfg(feature = "waiters")]
pub mod waiter;

pub use answer::Answer;
pub use build_error::BuildError;
pub use error::{Error, GaveUp, GaveUpCause, RequestError};
pub use operation::{
    Checkpoint, Mapped, Operation, OperationBuilder, Outcome, RetryNotice, StartRetry,
};
pub use origin::{UrlPolicy, UrlRejection};
pub use resume::{ResumeToken, TokenError};
pub use status::{AsyncJobStatus, JobState, ServiceError};
pub use transport::{RequestKind, RequestMeta, Transport, TransportError};

// What a protocol or transport author names, at the versions this crate
// uses: one dependency line suffices.
pub use async_trait::async_trait;
pub use bytes;
pub use http;
pub use serde_json;
pub use url;

// The README's examples are doctests: they compile against the crate as it
// is, with any set of features (the first one with none).
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
