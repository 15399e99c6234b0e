//! Polling: how often (floor, backoffs, `Retry-After`, virtual time,
//! progress), until when (deadline), where (the monitor URL), and the state
//! machine's rules.

mod backon;
mod deadline;
mod floor;
mod monitor_url;
mod progress_props;
mod retry_after;
mod state_machine;
mod virtual_time;

#[path = "../support/mod.rs"]
mod support;
