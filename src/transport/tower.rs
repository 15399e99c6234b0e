//! A [`Transport`] over any `tower::Service` (feature `tower`).

use std::fmt;
use std::marker::PhantomData;

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use tower::ServiceExt;

use super::error::{TransportError, TransportErrorKind};
use super::seam::DEFAULT_BODY_LIMIT;
use super::seam::Transport;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A [`Transport`] over any `tower::Service<http::Request<B>>` that answers
/// `http::Response<_>` with an `http_body::Body`: a hyper-util client, or an
/// SDK's existing stack of layers (auth, tracing, retries) around one.
///
/// The request body is built from `Bytes` (`B: From<Bytes>`, as
/// `http_body_util::Full<Bytes>` is). The response body is collected up to a
/// limit (1 MiB by default); a larger body is a
/// [`TransportError::body_too_large`] error. The service is cloned for each
/// request and driven to readiness first (`ServiceExt::oneshot`).
///
/// The crate's [`RequestMeta`](crate::RequestMeta) travels in the request's
/// extensions, so a layer of yours can decide what credentials to attach.
///
/// ```no_run
/// # async fn demo() -> Result<(), lro_poller::Error> {
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use lro_poller::{Operation, transport::TowerTransport};
///
/// let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
///     .build_http::<Full<Bytes>>();
/// let transport = TowerTransport::new(client);
/// let outcome = Operation::monitor(transport, "http://127.0.0.1:8080/monitor/1")
///     .build()?
///     .await?;
/// # Ok(()) }
/// ```
pub struct TowerTransport<S, B> {
    service: S,
    body_limit: usize,
    _body: PhantomData<fn(B)>,
}

impl<S: Clone, B> Clone for TowerTransport<S, B> {
    fn clone(&self) -> Self {
        TowerTransport {
            service: self.service.clone(),
            body_limit: self.body_limit,
            _body: PhantomData,
        }
    }
}

impl<S, B> fmt::Debug for TowerTransport<S, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TowerTransport")
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

impl<S, B> TowerTransport<S, B> {
    /// A transport over `service`.
    pub fn new(service: S) -> Self {
        TowerTransport {
            service,
            body_limit: DEFAULT_BODY_LIMIT,
            _body: PhantomData,
        }
    }

    /// Collects at most `bytes` of a response body.
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }
}

#[async_trait]
impl<S, B, R> Transport for TowerTransport<S, B>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: From<Bytes> + Send + 'static,
    R: http_body::Body + Send + 'static,
    R::Data: Send,
    R::Error: Into<BoxError>,
{
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let request = request.map(B::from);
        let response = self
            .service
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| TransportError::new(TransportErrorKind::Other, e.into()))?;
        let (parts, body) = response.into_parts();
        let collected = Limited::new(body, self.body_limit)
            .collect()
            .await
            .map_err(|error| {
                if error.is::<http_body_util::LengthLimitError>() {
                    TransportError::body_too_large(format!(
                        "the response body is larger than the limit of {} bytes",
                        self.body_limit
                    ))
                } else {
                    TransportError::new(TransportErrorKind::Other, error)
                }
            })?;
        Ok(http::Response::from_parts(parts, collected.to_bytes()))
    }
}
