//! What a token records of the schedule: the polls' timing and the backoff's
//! running state, so that a resumed operation goes on as if it had not
//! stopped.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The schedule's running state, as a token records it. Every field has a
/// default, so a token written before the schedule was kept (0.1.0) reads as
/// "nothing known": the resumed operation starts its schedule over.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SavedSchedule {
    /// When the next poll is due, after the token's start time (exact; the
    /// token's `due_ms` is the same time in whole milliseconds, and wins
    /// when the two disagree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) due: Option<Duration>,
    /// When the last poll was sent, after the token's start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_poll: Option<Duration>,
    /// The last delay slept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) previous_delay: Option<Duration>,
    /// The operation sent the request that started the job (a
    /// progress-aware backoff counts the job's 0% at the start).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) from_job_start: bool,
    /// Failures to read the status in a row.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) failures: u32,
    /// When the server's last `Retry-After` was read (after the token's
    /// start time), and its value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) retry_after: Option<(Duration, Duration)>,
    /// The backoff's own state ([`Backoff::save_state`](crate::policy::Backoff::save_state)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) backoff: Option<serde_json::Value>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
