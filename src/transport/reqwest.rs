//! A [`Transport`] over a `reqwest::Client` (feature `reqwest`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};

use super::error::{TransportError, TransportErrorKind};
use super::seam::{DEFAULT_BODY_LIMIT, RequestMeta, Transport};

type Credentials = Arc<dyn Fn(&mut http::HeaderMap) + Send + Sync>;

/// A [`Transport`] over a caller-provided `reqwest::Client`.
///
/// - Response bodies are read up to a limit (1 MiB by default); a larger body
///   is a [`TransportError::body_too_large`] error, read no further.
/// - The credentials hook runs only on requests whose [`RequestMeta`] allows
///   credentials: the start request, and polls or result fetches that go to the
///   start request's origin and whose protocol wants credentials. It never runs
///   for another origin, nor for a request without a marker.
/// - Errors never show the request URL (it can hold a token).
///
/// **Redirects**: build the client with `redirect(reqwest::redirect::Policy::none())`
/// (as [`ReqwestTransport::default`] does). A client that follows redirects
/// turns Graph's final `303 See Other` into the copied item itself, which is
/// not a status report.
///
/// This crate enables no TLS backend of reqwest: enable the one you want on
/// your own `reqwest` dependency (features unify).
///
/// ```
/// use lro_poller::transport::ReqwestTransport;
///
/// let client = reqwest::Client::builder()
///     .redirect(reqwest::redirect::Policy::none())
///     .build()
///     .unwrap();
/// let transport = ReqwestTransport::new(client)
///     .with_body_limit(256 * 1024)
///     .with_timeout(std::time::Duration::from_secs(30))
///     .with_credentials(|headers| {
///         headers.insert(http::header::AUTHORIZATION, "Bearer t0ken".parse().unwrap());
///     });
/// ```
#[derive(Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    body_limit: usize,
    timeout: Option<Duration>,
    credentials: Option<Credentials>,
}

impl fmt::Debug for ReqwestTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReqwestTransport")
            .field("body_limit", &self.body_limit)
            .field("timeout", &self.timeout)
            .field("credentials", &self.credentials.as_ref().map(|_| "<hook>"))
            .finish_non_exhaustive()
    }
}

impl Default for ReqwestTransport {
    /// A transport over a new client that does not follow redirects.
    fn default() -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        ReqwestTransport::new(client)
    }
}

impl ReqwestTransport {
    /// A transport over `client`.
    pub fn new(client: reqwest::Client) -> Self {
        ReqwestTransport {
            client,
            body_limit: DEFAULT_BODY_LIMIT,
            timeout: None,
            credentials: None,
        }
    }

    /// Reads at most `bytes` of a response body.
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Gives each request at most `timeout`, from sending to the end of the
    /// body.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Adds credentials to the requests that may carry them (see the type's
    /// docs).
    pub fn with_credentials(
        mut self,
        hook: impl Fn(&mut http::HeaderMap) + Send + Sync + 'static,
    ) -> Self {
        self.credentials = Some(Arc::new(hook));
        self
    }

    /// The client.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

fn classify(error: reqwest::Error) -> TransportError {
    let kind = if error.is_timeout() {
        TransportErrorKind::Timeout
    } else if error.is_connect() {
        TransportErrorKind::Connect
    } else if error.is_builder() {
        TransportErrorKind::InvalidRequest
    } else {
        TransportErrorKind::Other
    };
    TransportError::new(kind, error.without_url())
}

fn too_large(limit: usize) -> TransportError {
    TransportError::body_too_large(format!(
        "the response body is larger than the limit of {limit} bytes"
    ))
}

#[async_trait]
impl Transport for ReqwestTransport {
    async fn send(
        &self,
        mut request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let allowed = request
            .extensions()
            .get::<RequestMeta>()
            .is_some_and(RequestMeta::credentials_allowed);
        if let (true, Some(hook)) = (allowed, &self.credentials) {
            hook(request.headers_mut());
        }
        let mut request = reqwest::Request::try_from(request).map_err(classify)?;
        if let Some(timeout) = self.timeout {
            *request.timeout_mut() = Some(timeout);
        }
        let mut response = self.client.execute(request).await.map_err(classify)?;
        if response
            .content_length()
            .is_some_and(|length| length > self.body_limit as u64)
        {
            return Err(too_large(self.body_limit));
        }
        let mut builder = http::Response::builder()
            .status(response.status())
            .version(response.version());
        if let Some(headers) = builder.headers_mut() {
            *headers = std::mem::take(response.headers_mut());
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len().saturating_add(chunk.len()) > self.body_limit {
                return Err(too_large(self.body_limit));
            }
            body.extend_from_slice(&chunk);
        }
        builder
            .body(body.freeze())
            .map_err(|e| TransportError::new(TransportErrorKind::Other, e))
    }
}
