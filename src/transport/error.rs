//! What can go wrong when exchanging one request for one response.

use std::fmt;
use std::sync::Arc;

/// What kind of failure a [`TransportError`] is; the error policy retries all
/// but [`TransportErrorKind::BodyTooLarge`] by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
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
/// reports it.
#[derive(Debug, Clone)]
pub struct TransportError {
    kind: TransportErrorKind,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    message: Option<String>,
}

impl TransportError {
    /// An error of `kind` caused by `source`.
    pub fn new(
        kind: TransportErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        TransportError {
            kind,
            source: Some(Arc::from(source.into())),
            message: None,
        }
    }

    /// An error of `kind` described by `message`.
    pub fn msg(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        TransportError {
            kind,
            source: None,
            message: Some(message.into()),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> TransportErrorKind {
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
