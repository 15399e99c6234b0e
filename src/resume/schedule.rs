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
    /// When the last poll was sent, in milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_poll_ms: Option<u64>,
    /// The last delay slept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) previous_delay: Option<Duration>,
    /// Failures to read the status in a row.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) failures: u32,
    /// The server's last `Retry-After`, and when it was read (milliseconds
    /// since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) retry_after: Option<(u64, Duration)>,
    /// The backoff's own state ([`Backoff::save_state`](crate::policy::Backoff::save_state)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) backoff: Option<serde_json::Value>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
