//! The `-H` headers, added to each request only where they belong.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use lro_poller::transport::ReqwestTransport;
use lro_poller::{RequestKind, RequestMeta, Transport, TransportError};

/// Headers that are credentials: sent only where [`RequestMeta::credentials_allowed`].
const CREDENTIALS: [&str; 6] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "api-key",
    "x-api-key",
    "ocp-apim-subscription-key",
];

/// Headers that describe the start request's body, not a poll's.
const BODY_HEADERS: [&str; 2] = ["content-type", "content-length"];

/// A [`ReqwestTransport`] that adds the user's headers:
/// - the start request carries them all (the CLI builds it with them);
/// - any other request carries them only when it goes to the same origin as
///   the start request (for `watch`, as the monitor URL);
/// - credential headers only when the request's marker allows credentials
///   (same origin, and the protocol wants them: Graph monitor polls do not).
///
/// A request without a marker gets none of them.
///
/// While its [`Hold`] is on, only the start request goes out: any other
/// request waits (`start --no-wait` stops as soon as the start is answered,
/// and must not send a poll on the way).
pub struct HeaderTransport {
    inner: ReqwestTransport,
    headers: Vec<(HeaderName, HeaderValue)>,
    hold: Hold,
}

impl HeaderTransport {
    /// A transport over `inner` that adds `headers`, holding requests back
    /// while `hold` is on.
    pub fn new(
        inner: ReqwestTransport,
        headers: Vec<(HeaderName, HeaderValue)>,
        hold: Hold,
    ) -> Self {
        HeaderTransport {
            inner,
            headers,
            hold,
        }
    }
}

/// Whether a [`HeaderTransport`] holds back every request but the start.
///
/// Turn it off only when no request is waiting on it (a held request is
/// never released): the runner does so once the operation has ended, before
/// fetching its result.
#[derive(Clone, Debug, Default)]
pub struct Hold(Arc<AtomicBool>);

impl Hold {
    /// A hold that is on when `on`.
    pub fn new(on: bool) -> Self {
        Hold(Arc::new(AtomicBool::new(on)))
    }

    /// Lets every later request go out.
    pub fn release(&self) {
        self.0.store(false, Ordering::SeqCst);
    }

    fn holds(&self, meta: Option<&RequestMeta>) -> bool {
        self.0.load(Ordering::SeqCst) && meta.is_none_or(|meta| meta.kind != RequestKind::Start)
    }
}

/// Whether the header `name` goes on a request marked `meta`.
pub fn allowed(name: &HeaderName, meta: &RequestMeta) -> bool {
    let name = name.as_str();
    if BODY_HEADERS.contains(&name) {
        return false;
    }
    if CREDENTIALS.contains(&name) {
        meta.credentials_allowed()
    } else {
        meta.same_origin
    }
}

#[async_trait]
impl Transport for HeaderTransport {
    async fn send(
        &self,
        mut request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let meta = request.extensions().get::<RequestMeta>().copied();
        if self.hold.holds(meta.as_ref()) {
            std::future::pending::<()>().await;
        }
        // The start request was built with the headers already.
        if let Some(meta) = meta.filter(|meta| meta.kind != RequestKind::Start) {
            let mut replaced: Vec<&HeaderName> = Vec::new();
            for (name, value) in &self.headers {
                if !allowed(name, &meta) {
                    continue;
                }
                // The user's header replaces the crate's (Accept, say); a
                // repeated -H adds a value.
                if replaced.contains(&name) {
                    request.headers_mut().append(name, value.clone());
                } else {
                    request.headers_mut().insert(name, value.clone());
                    replaced.push(name);
                }
            }
        }
        self.inner.send(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_follow_origin_and_credential_rules() {
        let auth = HeaderName::from_static("authorization");
        let trace = HeaderName::from_static("x-trace");
        let content = HeaderName::from_static("content-type");
        let same_no_creds = RequestMeta::new(RequestKind::Poll, true, false);
        let same_creds = RequestMeta::new(RequestKind::Poll, true, true);
        let other = RequestMeta::new(RequestKind::Result, false, true);
        assert!(!allowed(&auth, &same_no_creds));
        assert!(allowed(&trace, &same_no_creds));
        assert!(allowed(&auth, &same_creds));
        assert!(!allowed(&auth, &other) && !allowed(&trace, &other));
        assert!(!allowed(&content, &same_creds));
    }

    #[test]
    fn a_hold_lets_only_the_start_through_until_released() {
        let hold = Hold::new(true);
        let start = RequestMeta::new(RequestKind::Start, true, true);
        let poll = RequestMeta::new(RequestKind::Poll, true, false);
        assert!(!hold.holds(Some(&start)));
        assert!(hold.holds(Some(&poll)) && hold.holds(None));
        hold.clone().release();
        assert!(!hold.holds(Some(&poll)) && !hold.holds(None));
        assert!(!Hold::default().holds(Some(&poll)));
    }
}
