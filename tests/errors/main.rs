//! Errors a user sees: broken answers, read failures, network faults, limits
//! and the service's own errors.

mod broken_answers;
mod limits;
mod network;
mod read_failures;
mod service_errors;

#[path = "../support/mod.rs"]
mod support;
