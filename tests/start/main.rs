//! Starting an operation: the start request retried, refused, answered at
//! once, or skipped to watch a monitor.

mod monitor;
mod refused;
mod retry;
mod synchronous;

#[path = "../support/mod.rs"]
mod support;
