//! When a failed start request may be sent again: the caller's rule and
//! what makes a request safe to repeat.

use std::time::Duration;

use bytes::Bytes;

use crate::error::Error;

/// When the start request is sent again after a transient failure.
///
/// ```
/// use bytes::Bytes;
/// use lro_poller::StartRetry;
///
/// let post = http::Request::post("https://api.example/jobs").body(Bytes::new()).unwrap();
/// assert!(!StartRetry::IfIdempotent.allows(&post));
/// assert!(StartRetry::Always.allows(&post));
/// let keyed = http::Request::post("https://api.example/jobs")
///     .header("idempotency-key", "8e03978e-40d5-43e8-bc93-6894a57f9324")
///     .body(Bytes::new())
///     .unwrap();
/// assert!(StartRetry::IfIdempotent.allows(&keyed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum StartRetry {
    /// When repeating the request is safe: an idempotent method (RFC 9110
    /// §9.2.2), or an idempotency key the service de-duplicates on
    /// (`Repeatability-Request-ID` with `Repeatability-First-Sent`, or
    /// `Idempotency-Key`). The
    /// default.
    #[default]
    IfIdempotent,
    /// Whatever the method: the caller knows the service de-duplicates the
    /// request (or does not mind the work done twice).
    Always,
    /// Never: a failed start request ends the operation.
    Never,
}

impl StartRetry {
    /// Whether `request` may be sent again after a transient failure.
    pub fn allows(&self, request: &http::Request<Bytes>) -> bool {
        match self {
            StartRetry::IfIdempotent => is_idempotent(request),
            StartRetry::Always => true,
            StartRetry::Never => false,
        }
    }
}

/// Whether sending `request` twice has the effect of sending it once: an
/// idempotent method (RFC 9110 §9.2.2), or an idempotency key the service
/// de-duplicates on (`Repeatability-Request-ID` and
/// `Repeatability-First-Sent` together, or `Idempotency-Key`).
pub(crate) fn is_idempotent(request: &http::Request<Bytes>) -> bool {
    use http::Method;
    let method = request.method();
    let headers = request.headers();
    [
        Method::GET,
        Method::HEAD,
        Method::OPTIONS,
        Method::TRACE,
        Method::PUT,
        Method::DELETE,
    ]
    .contains(method)
        || (headers.contains_key("repeatability-request-id")
            && headers.contains_key("repeatability-first-sent"))
        || headers.contains_key("idempotency-key")
}

/// A start request that failed, and is to be sent again.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StartRetryNotice {
    /// The attempt to be sent next (2 for the first retry).
    pub attempt: u32,
    /// The wait before it.
    pub delay: Duration,
    /// Why the previous attempt failed.
    pub error: Error,
}
