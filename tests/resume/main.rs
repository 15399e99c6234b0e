//! Resuming from a token: over loopback HTTP, from tokens minted by older
//! releases, and the token's string form.

mod fixtures;
mod loopback;
mod token_props;

#[path = "../support/mod.rs"]
mod support;
