//! Waiters: send the same request again until its answer says the resource is
//! in the wanted state (the Smithy / AWS waiter pattern).
//!
//! Many services have no monitor URL at all: the caller re-sends a
//! `Describe…` or `Get…` request and reads each answer. The [Smithy waiters
//! specification] writes what to read as data, in the
//! `smithy.waiters#waitable` trait of the operation: ordered **acceptors**,
//! each a state (`success`, `failure`, `retry`) and a matcher —
//!
//! - `output`: a [JMESPath](https://jmespath.org/specification.html) path
//!   over the answer's output, compared
//!   with an expected value (`stringEquals`, `booleanEquals`,
//!   `allStringEquals`, `anyStringEquals`);
//! - `inputOutput`: the same over `{"input": …, "output": …}`;
//! - `success`: whether the answer was a success or an error;
//! - `errorType`: the error type of an error answer.
//!
//! The first acceptor that matches decides; when none matches, a successful
//! answer means retry and an error answer means failure. Between attempts the
//! waiter waits a random whole number of seconds between `minDelay` and an
//! exponentially growing bound capped at `maxDelay` ([`Waiter::policy`], over
//! [`SmithyBuilder`](crate::policy::SmithyBuilder)), within a maximum wait
//! time the caller chooses.
//!
//! - [`Waiters`] reads definitions as a service model publishes them (a whole
//!   Smithy JSON AST model, or the trait's value);
//! - [`WaiterProtocol`] is the waiter as a [`Protocol`](crate::protocol::Protocol):
//!   given to [`OperationBuilder::with_protocol`](crate::OperationBuilder::with_protocol)
//!   with a start request, it re-sends that request for every attempt, and
//!   every status it yields carries an [`Attempt`] (which acceptor matched, if
//!   any) and the raw answer. It is written only against the crate's public
//!   protocol API, like a protocol of your own.
//!
//! Acceptors name the model's shapes, not the wire: read from a whole model,
//! a waiter applies its `jsonName` and `awsQueryError` traits; an SDK whose
//! service answers XML (or that has its outputs already typed) hands in its
//! own decoder and error-code reader
//! ([`WaiterProtocol::with_output_decoder`],
//! [`WaiterProtocol::with_error_code_reader`]).
//!
//! ```
//! # #[cfg(feature = "test-util")] {
//! use std::time::Duration;
//! use lro_poller::{JobState, Operation, bytes::Bytes};
//! use lro_poller::testing::{ScriptedTransport, VirtualTimer};
//! use lro_poller::waiter::{Attempt, WaiterProtocol, Waiters};
//!
//! let waiters = Waiters::from_json(r#"{"TableExists": {"acceptors": [
//!     {"state": "success", "matcher": {"output": {"path": "Table.TableStatus", "expected": "ACTIVE", "comparator": "stringEquals"}}},
//!     {"state": "retry", "matcher": {"errorType": "ResourceNotFoundException"}}
//! ], "minDelay": 20}}"#)?;
//! let protocol = WaiterProtocol::named(&waiters, "TableExists")?;
//! let policy = protocol.waiter().policy(Duration::from_secs(600));
//!
//! let transport = ScriptedTransport::new()
//!     .with_json(400, r#"{"__type": "ResourceNotFoundException"}"#)
//!     .with_json(200, r#"{"Table": {"TableStatus": "CREATING"}}"#)
//!     .with_json(200, r#"{"Table": {"TableStatus": "ACTIVE"}}"#);
//! let describe = http::Request::post("https://tables.example/")
//!     .header("x-amz-target", "Tables.DescribeTable")
//!     .body(Bytes::from_static(br#"{"TableName": "Music"}"#))?;
//! # futures::executor::block_on(async {
//! let operation = Operation::start(transport.clone(), describe)
//!     .with_protocol(protocol)
//!     .with_policy(policy)
//!     .with_timer(VirtualTimer::new())
//!     .build()?;
//! let outcome = operation.await?;
//! assert_eq!(outcome.status().status, JobState::Completed);
//! assert_eq!(outcome.status().details::<Attempt>().unwrap().acceptor, Some(0));
//! assert_eq!(transport.requests().len(), 3); // the same request, three times
//! # Ok::<(), lro_poller::Error>(())
//! # }).unwrap();
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [Smithy waiters specification]: https://smithy.io/2.0/additional-specs/waiters.html
//!
//! # Path expressions
//!
//! Paths are full JMESPath, through the `jmespath` crate: the JMESPath
//! project's own Rust implementation (it runs the specification's compliance
//! suite, is kept up to date, and needs nothing at run time beyond `serde` and
//! `serde_json`, which this crate already uses). A path that does not compile
//! is an error when the definition is read.

mod acceptor;
mod answer;
mod attempt;
mod definition;
mod delay;
mod error;
mod matching;
mod model;
mod path;
mod protocol;
mod reader;

pub use acceptor::AcceptorState;
pub use attempt::Attempt;
pub use definition::{Waiter, Waiters};
pub use error::WaiterError;
pub use protocol::WaiterProtocol;
