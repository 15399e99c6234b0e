//! The start request as the operation keeps it: waiting to be sent (or to
//! be sent again after a transient failure), and on its way.

use bytes::Bytes;

use crate::transport::{RequestKind, RequestMeta};

use super::retry_rule::{StartRetry, StartRetryNotice};

/// `Prefer: respond-async`, added to a start request that has no `Prefer`
/// when the protocol asks for it.
const RESPOND_ASYNC: http::HeaderValue = http::HeaderValue::from_static("respond-async");

/// The caller's start request, not sent yet (or to be sent again).
pub(super) struct PendingStart {
    request: http::Request<Bytes>,
    retry: StartRetry,
    /// Why this is a retry, when it is one.
    notice: Option<Box<StartRetryNotice>>,
}

impl PendingStart {
    /// `request`, to be sent (again, after a failure, as `retry` allows).
    pub(super) fn new(request: http::Request<Bytes>, retry: StartRetry) -> Self {
        PendingStart {
            request,
            retry,
            notice: None,
        }
    }

    /// Why this is a retry, when it is one.
    pub(super) fn notice(&self) -> Option<&StartRetryNotice> {
        self.notice.as_deref()
    }

    /// The request to send now (with `Prefer: respond-async` when
    /// `prefer_async` and it has no `Prefer`), and what reading its answer
    /// needs.
    pub(super) fn send(self: Box<Self>, prefer_async: bool) -> (http::Request<Bytes>, StartSetup) {
        let PendingStart {
            mut request,
            retry,
            notice,
        } = *self;
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
            notice,
        };
        (request, setup)
    }

    /// Says why this is a retry.
    pub(super) fn set_notice(&mut self, notice: StartRetryNotice) {
        self.notice = Some(Box::new(notice));
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
    notice: Option<Box<StartRetryNotice>>,
}

impl StartSetup {
    /// Why the request on its way is a retry, when it is one.
    pub(super) fn notice(&self) -> Option<&StartRetryNotice> {
        self.notice.as_deref()
    }

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
