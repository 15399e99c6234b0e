//! Operations that outlive the process: the token carries the schedule, the
//! operation says when it is due, every new token reaches the caller's store.

mod backoff_state;
mod checkpoint;
mod clocked;
mod due_time;
mod resume_waits;
mod stop_and_resume;

#[path = "../support/mod.rs"]
mod support;
