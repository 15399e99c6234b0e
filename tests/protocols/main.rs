//! Each protocol family end to end: Graph, Azure, Google, and one written
//! with the public API alone.

mod azure;
mod custom;
mod custom_props;
mod google;
mod graph;

#[path = "../support/mod.rs"]
mod support;
