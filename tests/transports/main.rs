//! Transports: a tower stack as the transport, and the request kind every
//! transport is told.

mod request_kinds;
mod tower;

#[path = "../support/mod.rs"]
mod support;
