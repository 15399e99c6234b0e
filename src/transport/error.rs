//! What can go wrong when exchanging one request for one response.

use std::fmt;
use std::sync::Arc;

/// What kind of failure a [`TransportError`] is; the error policy retries all
/// but a body too large and an invalid request by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum TransportErrorKind {
    /// The connection could not be made.
    Connect,
    /// The request or response took longer than the transport allows.
    Timeout,
    /// The response body was larger than the transport reads.
    BodyTooLarge,
    /// The request could not be built or sent as given (a bug or a bad URL):
    /// retrying cannot help.
    InvalidRequest,
    /// Anything else (connection reset, protocol error, …).
    Other,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportErrorKind::Connect => "connection failed",
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::BodyTooLarge => "response body too large",
            TransportErrorKind::InvalidRequest => "invalid request",
            TransportErrorKind::Other => "transport error",
        })
    }
}

/// A failure to exchange one request and response, as a [`crate::Transport`]
/// reports it: made with the constructor of its kind
/// ([`connect`](Self::connect), [`timeout`](Self::timeout),
/// [`body_too_large`](Self::body_too_large),
/// [`invalid_request`](Self::invalid_request), [`other`](Self::other)) and
/// told apart with the `is_*` methods, as reqwest's errors are. The error
/// policy retries every kind but a body too large and an invalid request.
///
/// ```
/// use lro_poller::TransportError;
///
/// let error = TransportError::connect("connection refused");
/// assert!(error.is_connect() && !error.is_timeout());
/// assert_eq!(error.to_string(), "connection failed: connection refused");
/// ```
#[derive(Debug, Clone)]
pub struct TransportError {
    kind: TransportErrorKind,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    message: Option<String>,
}

impl TransportError {
    /// The connection could not be made.
    pub fn connect(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        TransportError::new(TransportErrorKind::Connect, source)
    }

    /// The request or response took longer than the transport allows.
    pub fn timeout(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        TransportError::new(TransportErrorKind::Timeout, source)
    }

    /// The response body was larger than the transport reads (not retried).
    pub fn body_too_large(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        TransportError::new(TransportErrorKind::BodyTooLarge, source)
    }

    /// The request could not be built or sent as given (a bug or a bad
    /// URL): retrying cannot help.
    pub fn invalid_request(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        TransportError::new(TransportErrorKind::InvalidRequest, source)
    }

    /// Anything else (connection reset, protocol error, …).
    pub fn other(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        TransportError::new(TransportErrorKind::Other, source)
    }

    /// Whether the connection could not be made.
    pub fn is_connect(&self) -> bool {
        self.kind == TransportErrorKind::Connect
    }

    /// Whether the exchange timed out.
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportErrorKind::Timeout
    }

    /// Whether the response body was too large.
    pub fn is_body_too_large(&self) -> bool {
        self.kind == TransportErrorKind::BodyTooLarge
    }

    /// Whether the request could not be built or sent as given.
    pub fn is_invalid_request(&self) -> bool {
        self.kind == TransportErrorKind::InvalidRequest
    }

    /// An error of `kind` caused by `source`.
    pub(crate) fn new(
        kind: TransportErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        TransportError {
            kind,
            source: Some(Arc::from(source.into())),
            message: None,
        }
    }

    /// What kind of failure this is.
    pub(crate) fn kind(&self) -> TransportErrorKind {
        self.kind
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
