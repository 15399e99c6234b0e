//! The one error type of the crate, with the cause kept.
//!
//! Every variant says what a caller can do about it: a [`Error::Failed`] job has
//! the service's own status and error details; a [`Error::DeadlineExceeded`]
//! says how long it waited and how many polls it sent; an [`Error::Http`] keeps
//! the status code and a bounded excerpt of the body. URLs in errors are
//! redacted (no query string, which can hold a token).

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;

use crate::resume::{ResumeToken, TokenError};
use crate::status::{AsyncJobStatus, ServiceError};
use crate::transport::{RequestKind, TransportError};

/// How many bytes of a response body an error quotes at most.
pub const EXCERPT_LIMIT: usize = 512;

/// Everything that can end an operation other than success.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The job ended in a terminal state that is not success (`failed`,
    /// `deleteFailed`, `cancelled`). Carries the service's last status report,
    /// with its error details.
    #[error("{}", describe_failure(.0))]
    Failed(Box<AsyncJobStatus>),
    /// The HTTP exchange failed (connection, timeout, body too large, …), and
    /// retrying did not help or was not worth it.
    #[error("{kind} request failed after {attempts} attempt(s): {source}")]
    #[non_exhaustive]
    Transport {
        /// What the request was for.
        kind: RequestKind,
        /// How many times in a row it failed.
        attempts: u32,
        /// The transport's error.
        #[source]
        source: TransportError,
        /// A token to try again later, when the failure was on a poll.
        resume: Option<Box<ResumeToken>>,
    },
    /// The server answered a request with an error status.
    #[error("{0}")]
    Http(Box<HttpError>),
    /// The monitor answered `404 Not Found` or `410 Gone`: it has expired or
    /// never existed. Polling it again will not help.
    #[error("the monitor has expired or does not exist: {0}")]
    MonitorExpired(Box<HttpError>),
    /// A response could not be understood (garbage JSON, a missing status, an
    /// unusable URL).
    #[error("{0}")]
    Protocol(Box<ProtocolError>),
    /// The overall deadline passed before the job ended.
    #[error("deadline exceeded: the job had not ended after {elapsed:?} and {polls} poll(s)")]
    #[non_exhaustive]
    DeadlineExceeded {
        /// Time since the operation started, on the operation's timer.
        elapsed: Duration,
        /// Polls sent.
        polls: u32,
        /// A token to go on waiting later (with a new deadline).
        resume: Option<Box<ResumeToken>>,
    },
    /// The policy's limit on polls was reached before the job ended.
    #[error("poll limit reached: the job had not ended after {polls} poll(s) and {elapsed:?}")]
    #[non_exhaustive]
    PollLimitExceeded {
        /// Polls sent.
        polls: u32,
        /// Time since the operation started, on the operation's timer.
        elapsed: Duration,
        /// A token to go on waiting later.
        resume: Option<Box<ResumeToken>>,
    },
    /// The policy's backoff gave up before the job ended
    /// ([`Step::Stop`](crate::policy::Step::Stop)): a Smithy waiter's
    /// maximum wait time, an iterator of delays that ran out.
    #[error("the backoff gave up: {reason} (after {polls} poll(s) and {elapsed:?})")]
    #[non_exhaustive]
    BackoffStopped {
        /// The backoff's reason.
        reason: String,
        /// Polls sent.
        polls: u32,
        /// Time since the operation started, on the operation's timer.
        elapsed: Duration,
        /// A token to go on waiting later.
        resume: Option<Box<ResumeToken>>,
    },
    /// The operation was set up wrongly (for example, no timer was given and
    /// no timer feature is enabled).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A server handed out a URL the operation's
    /// [`UrlPolicy`](crate::UrlPolicy) does not follow, or changed the monitor
    /// URL too many times.
    #[error("refused to follow {url}: {reason}")]
    #[non_exhaustive]
    UrlRejected {
        /// The URL, redacted.
        url: String,
        /// Why.
        reason: String,
    },
    /// A resume token could not be read (damaged, or from a newer version).
    #[error("invalid resume token: {0}")]
    InvalidToken(String),
    /// A resume token names a protocol the caller did not supply (pass it
    /// with [`OperationBuilder::with_protocol`](crate::OperationBuilder::with_protocol)).
    #[error(
        "the resume token is for protocol `{name}`, which this operation was not given (known: {known})"
    )]
    #[non_exhaustive]
    UnknownProtocol {
        /// The protocol's name in the token.
        name: String,
        /// The names of the protocols the operation knew, comma-separated.
        known: String,
    },
    /// The protocol, or the service, has no way to cancel the job. Nothing was
    /// sent when `http_status` is `None`.
    #[error("cancel is not supported by {}{}", .protocol, .http_status.map(|s| format!(" (the service answered {s})")).unwrap_or_default())]
    #[non_exhaustive]
    CancelUnsupported {
        /// The protocol's name.
        protocol: &'static str,
        /// The service's answer, when it was asked.
        http_status: Option<StatusCode>,
    },
}

fn describe_failure(status: &AsyncJobStatus) -> String {
    match status.failure_summary() {
        Some(summary) => format!("the job ended with status `{}`: {summary}", status.status),
        None => format!("the job ended with status `{}`", status.status),
    }
}

impl Error {
    /// The service's final status report when the job itself failed.
    pub fn job_status(&self) -> Option<&AsyncJobStatus> {
        match self {
            Error::Failed(status) => Some(status),
            _ => None,
        }
    }

    /// The HTTP status of the answer that caused the error, if there was one.
    pub fn http_status(&self) -> Option<StatusCode> {
        match self {
            Error::Http(e) | Error::MonitorExpired(e) => Some(e.status),
            Error::Protocol(e) => e.status,
            Error::CancelUnsupported { http_status, .. } => *http_status,
            _ => None,
        }
    }

    /// A token to resume the operation later, when the error ended it before
    /// the job did and a later try may succeed (deadline, poll limit, a
    /// failure to read the status).
    pub fn resume_token(&self) -> Option<&ResumeToken> {
        match self {
            Error::Transport { resume, .. }
            | Error::DeadlineExceeded { resume, .. }
            | Error::PollLimitExceeded { resume, .. }
            | Error::BackoffStopped { resume, .. } => resume.as_deref(),
            Error::Http(e) => e.resume.as_deref(),
            _ => None,
        }
    }

    /// Whether the error ended the operation before the job did (a deadline, a
    /// poll limit, a transport or HTTP failure): the job may still be running.
    pub fn job_may_still_run(&self) -> bool {
        !matches!(
            self,
            Error::Failed(_)
                | Error::Config(_)
                | Error::InvalidToken(_)
                | Error::UnknownProtocol { .. }
        )
    }

    /// The answer from `url` could not be understood (garbage JSON, a missing
    /// field, an unusable header): an [`Error::Protocol`] with the status
    /// code, the redacted URL and an excerpt of the body. What a protocol of
    /// your own returns from [`Protocol::interpret`](crate::protocol::Protocol::interpret)
    /// for a malformed answer, like the built-in ones do.
    ///
    /// ```
    /// use lro_poller::{Error, Url};
    ///
    /// let url = Url::parse("https://api.example/copy/1?sig=secret").unwrap();
    /// let answer = http::Response::builder().status(200).body(bytes::Bytes::from("<html>")).unwrap();
    /// let error = Error::malformed("x-copy-status is missing", &url, &answer);
    /// assert!(matches!(error, Error::Protocol(_)));
    /// assert_eq!(error.http_status(), Some(http::StatusCode::OK));
    /// assert!(!error.to_string().contains("secret"));
    /// ```
    pub fn malformed(
        message: impl Into<String>,
        url: &url::Url,
        response: &http::Response<Bytes>,
    ) -> Error {
        ProtocolError::new(message)
            .with_status(response.status())
            .with_url(url)
            .with_body(response.body())
            .into()
    }

    pub(crate) fn protocol(
        message: impl Into<String>,
        status: Option<StatusCode>,
        url: Option<String>,
        body: &[u8],
    ) -> Error {
        Error::Protocol(Box::new(ProtocolError {
            message: message.into(),
            status,
            url,
            excerpt: excerpt(body),
        }))
    }
}

impl From<TokenError> for Error {
    fn from(error: TokenError) -> Self {
        Error::InvalidToken(error.message().to_owned())
    }
}

impl From<ProtocolError> for Error {
    fn from(error: ProtocolError) -> Self {
        Error::Protocol(Box::new(error))
    }
}

/// A server's error answer to one of the crate's requests.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpError {
    /// The HTTP status code.
    pub status: StatusCode,
    /// What the request was for.
    pub kind: RequestKind,
    /// The request URL, redacted.
    pub url: String,
    /// The service's error (`{"error":{"code","message"}}`), when it sent one.
    pub service_error: Option<ServiceError>,
    /// The start of the body (at most [`EXCERPT_LIMIT`] bytes, lossy UTF-8).
    pub excerpt: Option<String>,
    /// How many times in a row this kind of answer came back.
    pub attempts: u32,
    /// A token to try again later, when the error was on a poll.
    pub resume: Option<Box<ResumeToken>>,
}

impl HttpError {
    pub(crate) fn new(status: StatusCode, kind: RequestKind, url: String, body: &Bytes) -> Self {
        HttpError {
            status,
            kind,
            url,
            service_error: service_error_from_body(body),
            excerpt: excerpt(body),
            attempts: 1,
            resume: None,
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} request to {} answered {}",
            self.kind, self.url, self.status
        )?;
        if self.attempts > 1 {
            write!(f, " ({} times in a row)", self.attempts)?;
        }
        match (&self.service_error, &self.excerpt) {
            (Some(service), _) => write!(f, ": {service}"),
            (None, Some(excerpt)) => write!(f, ": {excerpt}"),
            (None, None) => Ok(()),
        }
    }
}

/// A response the crate could not make sense of.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProtocolError {
    /// What was wrong.
    pub message: String,
    /// The HTTP status of the response, when the problem was in one.
    pub status: Option<StatusCode>,
    /// The request URL, redacted.
    pub url: Option<String>,
    /// The start of the body (at most [`EXCERPT_LIMIT`] bytes, lossy UTF-8).
    pub excerpt: Option<String>,
}

impl ProtocolError {
    /// An answer that could not be understood, for `message`'s reason. Add
    /// what is known with the `with_*` methods.
    pub fn new(message: impl Into<String>) -> Self {
        ProtocolError {
            message: message.into(),
            status: None,
            url: None,
            excerpt: None,
        }
    }

    /// The HTTP status of the answer.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    /// The URL that answered (kept redacted: no query, no user info).
    pub fn with_url(mut self, url: &url::Url) -> Self {
        self.url = Some(crate::origin::redact(url));
        self
    }

    /// The answer's body (an excerpt of at most [`EXCERPT_LIMIT`] bytes is kept).
    pub fn with_body(mut self, body: &[u8]) -> Self {
        self.excerpt = excerpt(body);
        self
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unexpected response")?;
        if let Some(url) = &self.url {
            write!(f, " from {url}")?;
        }
        if let Some(status) = self.status {
            write!(f, " ({status})")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(excerpt) = &self.excerpt {
            write!(f, "; body starts {excerpt:?}")?;
        }
        Ok(())
    }
}

/// At most [`EXCERPT_LIMIT`] bytes of a body, as lossy UTF-8; `None` when empty.
pub(crate) fn excerpt(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let cut = body.len().min(EXCERPT_LIMIT);
    let mut text = String::from_utf8_lossy(&body[..cut]).into_owned();
    if body.len() > cut {
        text.push('…');
    }
    Some(text)
}

/// The usual `{"error":{"code":…,"message":…}}` shape, or a top-level
/// `{"code":…,"message":…}`.
pub(crate) fn service_error_from_body(body: &[u8]) -> Option<ServiceError> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        error: Option<ServiceError>,
        code: Option<serde_json::Value>,
        message: Option<String>,
    }
    let envelope: Envelope = serde_json::from_slice(body).ok()?;
    if let Some(error) = envelope.error {
        return Some(error);
    }
    let code = envelope.code.map(|c| match c {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    });
    (code.is_some() || envelope.message.is_some())
        .then(|| ServiceError::new(code, envelope.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_bounded() {
        let body = vec![b'x'; 10_000];
        let text = excerpt(&body).unwrap();
        assert!(text.len() <= EXCERPT_LIMIT + '…'.len_utf8());
        assert!(excerpt(b"").is_none());
        // A multi-byte character cut in half does not panic.
        let snow = "☃".repeat(400);
        assert!(excerpt(snow.as_bytes()).is_some());
    }

    #[test]
    fn service_errors_are_read_from_the_usual_shapes() {
        let nested = service_error_from_body(
            br#"{"error":{"code":"itemNotFound","message":"gone","innerError":{}}}"#,
        )
        .unwrap();
        assert_eq!(nested.code.as_deref(), Some("itemNotFound"));
        assert_eq!(nested.message.as_deref(), Some("gone"));
        let flat = service_error_from_body(br#"{"code":5,"message":"nope"}"#).unwrap();
        assert_eq!(flat.code.as_deref(), Some("5"));
        assert!(service_error_from_body(b"<html>oops</html>").is_none());
        assert!(service_error_from_body(b"{}").is_none());
    }

    #[test]
    fn failed_error_shows_the_service_details() {
        let status = AsyncJobStatus::new(crate::JobState::Failed).with_error(ServiceError::new(
            Some("nameAlreadyExists".into()),
            Some("an item with that name exists".into()),
        ));
        let error = Error::Failed(Box::new(status));
        let text = error.to_string();
        assert!(
            text.contains("failed") && text.contains("nameAlreadyExists"),
            "{text}"
        );
        assert!(!error.job_may_still_run());
    }

    #[test]
    fn error_stays_small() {
        assert!(
            std::mem::size_of::<Error>() <= 64,
            "{}",
            std::mem::size_of::<Error>()
        );
    }
}
