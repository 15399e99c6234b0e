//! The `-H` headers, added to each request only where they belong.

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
pub struct HeaderTransport {
    inner: ReqwestTransport,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl HeaderTransport {
    /// A transport over `inner` that adds `headers`.
    pub fn new(inner: ReqwestTransport, headers: Vec<(HeaderName, HeaderValue)>) -> Self {
        HeaderTransport { inner, headers }
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
}
