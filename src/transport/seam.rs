//! The seam itself: the [`Transport`] trait and the marker every request
//! carries.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use super::error::TransportError;

/// The default limit on a response body a built-in transport reads: 1 MiB.
#[cfg(any(feature = "reqwest", feature = "tower"))]
pub(crate) const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Sends one HTTP request and returns its response, body read whole.
///
/// Object-safe: the crate holds transports as `Arc<dyn Transport>`.
///
/// ```
/// use bytes::Bytes;
/// use lro_poller::{Transport, TransportError};
///
/// /// A transport that always says the job is done.
/// struct AlwaysDone;
///
/// #[async_trait::async_trait]
/// impl Transport for AlwaysDone {
///     async fn send(
///         &self,
///         _request: http::Request<Bytes>,
///     ) -> Result<http::Response<Bytes>, TransportError> {
///         Ok(http::Response::new(Bytes::from_static(br#"{"status":"completed"}"#)))
///     }
/// }
/// ```
#[async_trait]
pub trait Transport: Send + Sync {
    /// Sends `request` and returns the response with its body.
    ///
    /// A response with an error status (4xx, 5xx) is an `Ok` response: the
    /// crate decides what it means. `Err` is for failures to exchange at all.
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError>;
}

#[async_trait]
impl<T: Transport + ?Sized> Transport for Arc<T> {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        (**self).send(request).await
    }
}

#[async_trait]
impl<T: Transport + ?Sized> Transport for Box<T> {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        (**self).send(request).await
    }
}

/// What a request the crate sends is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestKind {
    /// The caller's initial request.
    Start,
    /// A poll: the protocol's request for the monitor URL (any method), or
    /// the start request re-sent.
    Poll,
    /// A GET of the final result.
    Result,
    /// A request to cancel the job.
    Cancel,
}

impl fmt::Display for RequestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RequestKind::Start => "start",
            RequestKind::Poll => "poll",
            RequestKind::Result => "result",
            RequestKind::Cancel => "cancel",
        })
    }
}

/// Attached to every request the crate sends (in `http::Request::extensions`).
///
/// A transport that adds credentials should add them only when
/// [`RequestMeta::credentials_allowed`] is true: never to another origin than
/// the start request, and not to monitors the protocol says need none.
///
/// ```
/// use lro_poller::RequestMeta;
///
/// fn authorize(request: &mut http::Request<bytes::Bytes>, token: &str) {
///     let allowed = request
///         .extensions()
///         .get::<RequestMeta>()
///         .is_some_and(|meta| meta.credentials_allowed());
///     if allowed {
///         let value = format!("Bearer {token}").parse().unwrap();
///         request.headers_mut().insert(http::header::AUTHORIZATION, value);
///     }
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestMeta {
    /// What the request is for.
    pub kind: RequestKind,
    /// Whether the URL has the same origin (scheme, host, port) as the start
    /// request (for an operation built from a monitor URL: as that URL).
    pub same_origin: bool,
    /// Whether the protocol wants credentials on this kind of request at all.
    pub wants_credentials: bool,
}

impl RequestMeta {
    /// A marker for a request of `kind`.
    pub fn new(kind: RequestKind, same_origin: bool, wants_credentials: bool) -> Self {
        RequestMeta {
            kind,
            same_origin,
            wants_credentials,
        }
    }

    /// Whether a transport may attach the caller's credentials: same origin and
    /// wanted by the protocol.
    pub fn credentials_allowed(&self) -> bool {
        self.same_origin && self.wants_credentials
    }
}

#[cfg(test)]
mod tests {
    use super::RequestKind;

    #[test]
    fn a_request_kind_shows_as_the_cli_names_it() {
        let shown: Vec<String> = [
            RequestKind::Start,
            RequestKind::Poll,
            RequestKind::Result,
            RequestKind::Cancel,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(shown, ["start", "poll", "result", "cancel"]);
    }
}
