//! A durable fleet for [`lro_poller`]: a table of long-running operations in
//! a database you already run (SQLite embedded, or PostgreSQL for many
//! machines) and workers that poll them, one status per due row, and lose
//! none.
//!
//! - [`Fleet::submit`] stores an operation's [`ResumeToken`](lro_poller::ResumeToken)
//!   under a key of yours (the same key gives the same id);
//!   [`Fleet::get`] and [`Fleet::list`] read the rows back.
//! - A [`Worker`] claims *due* rows in batches under a lease (owner,
//!   expiry), polls each once through the crate — each operation keeps its
//!   own schedule and floor, carried by its token — and writes every result
//!   of the batch back in one statement. The outcome is recorded exactly
//!   once: the write is guarded in SQL by the row's state and lease. A worker
//!   that dies loses nothing: its leases expire and another worker takes the
//!   rows.
//!
//! # Credentials and the table
//!
//! Credentials are never stored: the worker's [`Transport`](lro_poller::Transport)
//! adds them per origin from the worker's own configuration (for example
//! `ReqwestTransport::with_credentials`, with lro-poller's `reqwest` feature).
//! A token can still hold a secret — some services sign the monitor URL in
//! its query — so treat the `token` column as a credential: grant the table
//! to the workers' database role only, keep SQLite files readable by the
//! workers' user alone (mode 0600), and encrypt backups.
//!
//! # Engines
//!
//! sqlx is the driver: one query layer over SQLite and PostgreSQL, with
//! versioned migrations (applied by [`Fleet::open`]), kept by a large
//! community. The crate uses plain queries with binds, no compile-time
//! checked macros, so it builds without a database.
#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod claim;
mod clock;
mod engine;
mod error;
mod fleet;
mod hosts;
mod poll;
mod row;
mod worker;
mod write_back;

pub use error::FleetError;
pub use fleet::Fleet;
pub use row::{Row, State};
pub use worker::{Batch, Worker};
