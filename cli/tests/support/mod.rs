//! What the CLI's tests share: a loopback server, the `lro` binary as a
//! user runs it, and the scenarios several commands start from.

// Each test file is its own crate and uses a part of this module.
#![allow(dead_code)]

pub mod graph_copy;
pub mod no_wait;
pub mod run;
pub mod server;
