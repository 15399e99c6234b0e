//! The start request, in one room: as the operation keeps it (waiting to be
//! sent, or sent again after a transient failure; on its way), the caller's
//! rule for sending it again ([`StartRetry`]) and what makes a request safe
//! to repeat.

use bytes::Bytes;

use crate::transport::{RequestKind, RequestMeta};

/// `Prefer: respond-async`, added to a start request that has no `Prefer`
/// when the protocol asks for it.
const RESPOND_ASYNC: http::HeaderValue = http::HeaderValue::from_static("respond-async");

/// The caller's start request, not sent yet (or to be sent again).
pub(super) struct PendingStart {
    request: http::Request<Bytes>,
    retry: StartRetry,
}

impl PendingStart {
    /// `request`, to be sent (again, after a failure, as `retry` allows).
    pub(super) fn new(request: http::Request<Bytes>, retry: StartRetry) -> Self {
        PendingStart { request, retry }
    }

    /// The request to send now (with `Prefer: respond-async` when
    /// `prefer_async` and it has no `Prefer`), and what reading its answer
    /// needs.
    pub(super) fn send(self: Box<Self>, prefer_async: bool) -> (http::Request<Bytes>, StartSetup) {
        let PendingStart { mut request, retry } = *self;
        if prefer_async && !request.headers().contains_key("prefer") {
            request.headers_mut().insert("prefer", RESPOND_ASYNC);
        }
        let may_repeat = retry.allows(&request);
        let kept = request.clone();
        request
            .extensions_mut()
            .insert(RequestMeta::new(RequestKind::Start, true, true));
        let setup = StartSetup {
            request: kept,
            may_repeat,
            retry,
        };
        (request, setup)
    }
}

/// What reading the start answer needs: the request as it was sent.
pub(super) struct StartSetup {
    /// The request as it was sent (the protocol reads it with the answer,
    /// and a retry sends it again).
    request: http::Request<Bytes>,
    /// Whether the retry rule allows sending it again.
    may_repeat: bool,
    retry: StartRetry,
}

impl StartSetup {
    /// Whether the retry rule allows sending the request again.
    pub(super) fn may_repeat(&self) -> bool {
        self.may_repeat
    }

    /// The request as it was sent.
    pub(super) fn into_request(self) -> http::Request<Bytes> {
        self.request
    }

    /// The request, to be sent again.
    pub(super) fn again(self) -> PendingStart {
        PendingStart::new(self.request, self.retry)
    }
}

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
