//! Smithy-style waiters: acceptors over loopback HTTP, and a waiter embedded
//! in an SDK with XML answers.

mod acceptors;
mod sdk_xml;

#[path = "../support/mod.rs"]
mod support;
