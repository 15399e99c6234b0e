//! Which failures to read the status are worth retrying.

use http::StatusCode;

use crate::transport::{TransportError, TransportErrorKind};

/// Whether a failure to read the status may go away if tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FailureClass {
    /// Worth retrying after a backoff.
    Transient,
    /// Ends the operation at once.
    Permanent,
}

/// Classifies failures to read the status, and bounds retries.
///
/// A failure to *read* the status is not a failed job: an I/O error, `408`,
/// `429`, `500`, `502`, `503` or `504` is retried with the operation's backoff
/// (and the answer's `Retry-After`), up to [`max_retries`](Self::max_retries)
/// times in a row; any other error status ends the operation at once with a
/// typed error. A successful read resets the count.
///
/// ```
/// use lro_poller::policy::ErrorPolicy;
/// use http::StatusCode;
///
/// // Ten retries in a row; a 409 is worth retrying, a 500 is not.
/// let policy = ErrorPolicy::default()
///     .with_max_retries(10)
///     .with_transient_status(StatusCode::CONFLICT)
///     .with_permanent_status(StatusCode::INTERNAL_SERVER_ERROR);
/// assert_eq!(policy.max_retries(), 10);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorPolicy {
    max_retries: u32,
    /// One bit per status from 400 to 599 (no allocation).
    transient: [u64; 4],
}

/// The bit of `status` in the transient set, for 400–599.
fn bit(status: StatusCode) -> Option<(usize, u64)> {
    let offset = status.as_u16().checked_sub(400).filter(|o| *o < 200)?;
    Some((usize::from(offset / 64), 1u64 << (offset % 64)))
}

/// The default number of retries of consecutive transient failures.
pub(crate) const DEFAULT_MAX_RETRIES: u32 = 5;

// Configuration to share across threads: a compile-time proof.
const _: () = {
    const fn assert_config<T: Clone + Send + Sync + std::fmt::Debug>() {}
    assert_config::<ErrorPolicy>();
};

impl Default for ErrorPolicy {
    fn default() -> Self {
        let mut policy = ErrorPolicy {
            max_retries: DEFAULT_MAX_RETRIES,
            transient: [0; 4],
        };
        for code in [408, 429, 500, 502, 503, 504] {
            if let Ok(status) = StatusCode::from_u16(code) {
                policy = policy.with_transient_status(status);
            }
        }
        policy
    }
}

impl ErrorPolicy {
    /// The default policy (5 retries; 408, 429, 500, 502, 503, 504 and
    /// transport errors other than an oversized body are transient).
    pub fn new() -> Self {
        Self::default()
    }

    /// Retries at most `retries` consecutive transient failures; the next one
    /// ends the operation. `0` never retries.
    pub fn with_max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Treats `status` as transient too (only error statuses, 400–599, can
    /// be; others are ignored).
    pub fn with_transient_status(mut self, status: StatusCode) -> Self {
        if let Some((word, mask)) = bit(status) {
            self.transient[word] |= mask;
        }
        self
    }

    /// Treats `status` as permanent.
    pub fn with_permanent_status(mut self, status: StatusCode) -> Self {
        if let Some((word, mask)) = bit(status) {
            self.transient[word] &= !mask;
        }
        self
    }

    /// The retry limit.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// Classifies an error status on a poll.
    pub(crate) fn classify_status(&self, status: StatusCode) -> FailureClass {
        if bit(status).is_some_and(|(word, mask)| self.transient[word] & mask != 0) {
            FailureClass::Transient
        } else {
            FailureClass::Permanent
        }
    }

    /// Classifies a transport failure on a poll.
    pub(crate) fn classify_transport(&self, error: &TransportError) -> FailureClass {
        match error.kind() {
            TransportErrorKind::BodyTooLarge | TransportErrorKind::InvalidRequest => {
                FailureClass::Permanent
            }
            _ => FailureClass::Transient,
        }
    }

    /// Whether the `failures`-th consecutive transient failure may still be
    /// retried.
    pub(crate) fn may_retry(&self, failures: u32) -> bool {
        failures <= self.max_retries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_limit_is_five_unless_the_caller_sets_it() {
        assert_eq!(ErrorPolicy::default().max_retries(), 5);
        assert_eq!(ErrorPolicy::default().with_max_retries(2).max_retries(), 2);
    }

    #[test]
    fn default_classes() {
        let p = ErrorPolicy::default();
        for code in [408, 429, 500, 502, 503, 504] {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(p.classify_status(status), FailureClass::Transient, "{code}");
        }
        for code in [400, 401, 403, 404, 405, 409, 410, 422, 501, 505] {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(p.classify_status(status), FailureClass::Permanent, "{code}");
        }
        for code in [200, 303, 399, 600, 999] {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(
                p.clone()
                    .with_transient_status(status)
                    .classify_status(status),
                FailureClass::Permanent
            );
        }
        let io = TransportError::connect("refused");
        assert_eq!(p.classify_transport(&io), FailureClass::Transient);
        let big = TransportError::body_too_large("2 MiB");
        assert_eq!(p.classify_transport(&big), FailureClass::Permanent);
    }

    #[test]
    fn retry_limit_counts_consecutive_failures() {
        let p = ErrorPolicy::default().with_max_retries(2);
        assert!(p.may_retry(1));
        assert!(p.may_retry(2));
        assert!(!p.may_retry(3));
        assert!(!ErrorPolicy::default().with_max_retries(0).may_retry(1));
    }

    #[test]
    fn statuses_can_be_reclassified() {
        let p = ErrorPolicy::default()
            .with_transient_status(StatusCode::CONFLICT)
            .with_permanent_status(StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            p.classify_status(StatusCode::CONFLICT),
            FailureClass::Transient
        );
        assert_eq!(
            p.classify_status(StatusCode::INTERNAL_SERVER_ERROR),
            FailureClass::Permanent
        );
    }
}
