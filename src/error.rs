//! What a running operation ends with, other than success.
//!
//! One enum of a handful of arms, shaped like the smithy-rs waiters'
//! `WaiterError`: the job failed (with the service's status), the operation
//! gave up ([`GaveUp`]: deadline, poll limit, backoff stop), a request failed
//! ([`RequestError`]: transport or HTTP), an answer made no sense
//! ([`ProtocolError`]), a URL was refused, a cancel is unsupported, or the
//! operation could not be built ([`BuildError`]). The resume token, when
//! there is one, is reached one way: [`Error::resume_token`]. URLs in errors
//! are redacted (no query string, which can hold a token).

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;

use crate::build_error::BuildError;
use crate::origin::UrlRejection;
use crate::protocol_error::{ProtocolError, excerpt};
use crate::resume::ResumeToken;
use crate::status::{AsyncJobStatus, ServiceError};
use crate::transport::{RequestKind, TransportError};

/// Everything that can end an operation other than success.
///
/// A stream consumer matches a handful of arms:
///
/// ```
/// use lro_poller::{Error, GaveUpCause};
///
/// fn explain(error: &Error) -> String {
///     match error {
///         Error::Failed(status) => format!("the job failed: {:?}", status.failure_summary()),
///         Error::GaveUp(gave_up) => match gave_up.cause() {
///             GaveUpCause::Deadline => format!("still running after {:?}", gave_up.elapsed()),
///             other => format!("stopped waiting: {other:?}"),
///         },
///         Error::Request(request) if request.monitor_expired() => "the monitor expired".into(),
///         Error::Request(request) => format!("{} request failed: {request}", request.kind()),
///         Error::Protocol(answer) => format!("unreadable answer: {}", answer.message()),
///         other => other.to_string(),
///     }
/// }
/// # let _ = explain;
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The job ended in a terminal state that is not success (`failed`,
    /// `deleteFailed`, `cancelled`). Carries the service's last status report,
    /// with its error details.
    #[error("{}", describe_failure(.0))]
    Failed(Box<AsyncJobStatus>),
    /// The operation stopped waiting before the job ended: the deadline, the
    /// poll limit, or the backoff said so ([`GaveUp::cause`]). The job may
    /// still be running; [`Error::resume_token`] goes on later.
    #[error("{0}")]
    GaveUp(Box<GaveUp>),
    /// A request failed: the transport could not exchange it, or the server
    /// answered with an error status; retrying did not help or was not
    /// worth it.
    #[error("{0}")]
    Request(Box<RequestError>),
    /// An answer could not be understood (garbage JSON, a missing status, an
    /// unusable URL).
    #[error("{0}")]
    Protocol(Box<ProtocolError>),
    /// A server handed out a URL the operation's
    /// [`UrlPolicy`](crate::UrlPolicy) does not follow, or changed the monitor
    /// URL too many times.
    #[error("{0}")]
    UrlRejected(Box<UrlRejection>),
    /// [`Operation::cancel`](crate::Operation::cancel) only: the protocol, or
    /// the service, has no way to cancel the job (or the job has not started
    /// yet). Nothing was sent when `http_status` is `None`. It lives here,
    /// not in a type of its own, so that an SDK maps one error type for
    /// every call; no stream or awaited operation ends with it.
    #[error("cancel is not supported by {}{}", .protocol, .http_status.map(|s| format!(" (the service answered {s})")).unwrap_or_default())]
    #[non_exhaustive]
    CancelUnsupported {
        /// The protocol's name.
        protocol: &'static str,
        /// The service's answer, when it was asked.
        http_status: Option<StatusCode>,
    },
    /// The operation could not be built (made with
    /// [`OperationBuilder::into_operation`](crate::OperationBuilder::into_operation),
    /// which defers the error to the first poll and the awaited result).
    #[error("{0}")]
    Build(Box<BuildError>),
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
            Error::Request(e) => e.status(),
            Error::Protocol(e) => e.status(),
            Error::CancelUnsupported { http_status, .. } => *http_status,
            _ => None,
        }
    }

    /// A token to resume the operation later, when the error ended it before
    /// the job did and a later try may succeed (the operation gave up, or
    /// failed to read the status). The one way to reach it.
    pub fn resume_token(&self) -> Option<&ResumeToken> {
        match self {
            Error::GaveUp(e) => e.resume.as_deref(),
            Error::Request(e) => e.resume.as_deref(),
            Error::Protocol(e) => e.resume_token(),
            _ => None,
        }
    }

    /// Whether the error ended the operation before the job did (it gave up,
    /// a request or an answer failed): the job may still be running.
    pub fn job_may_still_run(&self) -> bool {
        !matches!(self, Error::Failed(_) | Error::Build(_))
    }
}

impl From<ProtocolError> for Error {
    fn from(error: ProtocolError) -> Self {
        Error::Protocol(Box::new(error))
    }
}

impl From<BuildError> for Error {
    fn from(error: BuildError) -> Self {
        Error::Build(Box::new(error))
    }
}

/// Why the operation gave up waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GaveUpCause {
    /// The overall deadline passed.
    Deadline,
    /// The polling policy's limit on polls was reached.
    PollLimit,
    /// The backoff stopped, for this reason (a Smithy waiter's maximum wait
    /// time, an iterator of delays that ran out).
    BackoffStopped(Cow<'static, str>),
    /// The operation's store could not keep its newest token, for this
    /// reason ([`Checkpoint`](crate::Checkpoint)); the error still carries
    /// the token.
    Checkpoint(Cow<'static, str>),
}

/// The operation stopped waiting before the job ended: why, after how many
/// polls and how long. The job may still be running.
#[derive(Debug, Clone)]
pub struct GaveUp {
    cause: GaveUpCause,
    polls: u32,
    elapsed: Duration,
    resume: Option<Box<ResumeToken>>,
}

impl GaveUp {
    pub(crate) fn new(
        cause: GaveUpCause,
        polls: u32,
        elapsed: Duration,
        resume: Option<ResumeToken>,
    ) -> Self {
        GaveUp {
            cause,
            polls,
            elapsed,
            resume: resume.map(Box::new),
        }
    }

    /// Why.
    pub fn cause(&self) -> &GaveUpCause {
        &self.cause
    }

    /// Polls sent.
    pub fn polls(&self) -> u32 {
        self.polls
    }

    /// Time since the operation started, on the operation's timer.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }
}

impl fmt::Display for GaveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (polls, elapsed) = (self.polls, self.elapsed);
        match &self.cause {
            GaveUpCause::Deadline => write!(
                f,
                "deadline exceeded: the job had not ended after {elapsed:?} and {polls} poll(s)"
            ),
            GaveUpCause::PollLimit => write!(
                f,
                "poll limit reached: the job had not ended after {polls} poll(s) and {elapsed:?}"
            ),
            GaveUpCause::BackoffStopped(reason) => write!(
                f,
                "the backoff gave up: {reason} (after {polls} poll(s) and {elapsed:?})"
            ),
            GaveUpCause::Checkpoint(reason) => write!(
                f,
                "the resume token could not be saved: {reason} (after {polls} poll(s) and {elapsed:?})"
            ),
        }
    }
}

/// A request that failed: what it was for, how often in a row, and either
/// the transport's error or the server's error answer.
#[derive(Debug, Clone)]
pub struct RequestError {
    kind: RequestKind,
    attempts: u32,
    url: String,
    failure: Failure,
    resume: Option<Box<ResumeToken>>,
}

#[derive(Debug, Clone)]
enum Failure {
    Transport(TransportError),
    Answer {
        status: StatusCode,
        service_error: Option<ServiceError>,
        excerpt: Option<String>,
    },
}

impl RequestError {
    /// The transport could not exchange the request.
    pub(crate) fn transport(kind: RequestKind, url: String, source: TransportError) -> Self {
        RequestError {
            kind,
            attempts: 1,
            url,
            failure: Failure::Transport(source),
            resume: None,
        }
    }

    /// The server answered with an error status.
    pub(crate) fn answer(kind: RequestKind, url: String, status: StatusCode, body: &Bytes) -> Self {
        RequestError {
            kind,
            attempts: 1,
            url,
            failure: Failure::Answer {
                status,
                service_error: ServiceError::from_body(body),
                excerpt: excerpt(body),
            },
            resume: None,
        }
    }

    /// After `attempts` attempts in a row.
    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// With a token to try again later.
    pub(crate) fn with_resume(mut self, resume: Option<ResumeToken>) -> Self {
        self.resume = resume.map(Box::new);
        self
    }

    /// What the request was for.
    pub fn kind(&self) -> RequestKind {
        self.kind
    }

    /// How many times in a row it failed.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The request URL, redacted.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's error status, when it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match &self.failure {
            Failure::Answer { status, .. } => Some(*status),
            Failure::Transport(_) => None,
        }
    }

    /// The service's error (`{"error":{"code","message"}}`), when it sent one.
    pub fn service_error(&self) -> Option<&ServiceError> {
        match &self.failure {
            Failure::Answer { service_error, .. } => service_error.as_ref(),
            Failure::Transport(_) => None,
        }
    }

    /// The start of the error answer's body (at most 512 bytes, lossy UTF-8).
    pub fn excerpt(&self) -> Option<&str> {
        match &self.failure {
            Failure::Answer { excerpt, .. } => excerpt.as_deref(),
            Failure::Transport(_) => None,
        }
    }

    /// The transport's error, when the request never got an answer.
    pub fn transport_error(&self) -> Option<&TransportError> {
        match &self.failure {
            Failure::Transport(source) => Some(source),
            Failure::Answer { .. } => None,
        }
    }

    /// Whether the monitor answered `404 Not Found` or `410 Gone`: it has
    /// expired or never existed, and polling it again will not help.
    pub fn monitor_expired(&self) -> bool {
        self.kind == RequestKind::Poll
            && matches!(self.status().map(|s| s.as_u16()), Some(404 | 410))
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (status, service_error, excerpt) = match &self.failure {
            Failure::Transport(source) => {
                return write!(
                    f,
                    "{} request failed after {} attempt(s): {source}",
                    self.kind, self.attempts
                );
            }
            Failure::Answer {
                status,
                service_error,
                excerpt,
            } => (status, service_error, excerpt),
        };
        if self.monitor_expired() {
            f.write_str("the monitor has expired or does not exist: ")?;
        }
        write!(f, "{} request to {} answered {status}", self.kind, self.url)?;
        if self.attempts > 1 {
            write!(f, " ({} times in a row)", self.attempts)?;
        }
        match (service_error, excerpt) {
            (Some(service), _) => write!(f, ": {service}"),
            (None, Some(excerpt)) => write!(f, ": {excerpt}"),
            (None, None) => Ok(()),
        }
    }
}

impl std::error::Error for RequestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.failure {
            Failure::Transport(source) => Some(source),
            Failure::Answer { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn an_error_answer_keeps_its_status_and_service_error() {
        let body =
            Bytes::from_static(br#"{"error":{"code":"operationNotFound","message":"gone"}}"#);
        let error = RequestError::answer(
            RequestKind::Poll,
            "https://a.example/m".into(),
            StatusCode::NOT_FOUND,
            &body,
        )
        .with_attempts(2);
        assert!(error.monitor_expired());
        assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
        assert_eq!(
            error.service_error().and_then(|e| e.code.as_deref()),
            Some("operationNotFound")
        );
        assert!(error.transport_error().is_none());
        let text = error.to_string();
        assert!(
            text.contains("expired") && text.contains("2 times"),
            "{text}"
        );
        let start = RequestError::answer(
            RequestKind::Start,
            "https://a.example/s".into(),
            StatusCode::NOT_FOUND,
            &body,
        );
        assert!(!start.monitor_expired());
    }

    #[test]
    fn gave_up_says_why() {
        let error = Error::GaveUp(Box::new(GaveUp::new(
            GaveUpCause::BackoffStopped("max wait".into()),
            3,
            Duration::from_secs(9),
            None,
        )));
        assert!(error.to_string().contains("max wait"), "{error}");
        assert!(error.job_may_still_run());
        assert!(error.resume_token().is_none());
    }

    #[test]
    fn error_stays_small() {
        assert!(
            std::mem::size_of::<Error>() <= 64,
            "{}",
            std::mem::size_of::<Error>()
        );
    }

    #[test]
    fn a_refused_cancel_says_what_the_service_answered() {
        let asked = Error::CancelUnsupported {
            protocol: "azure",
            http_status: Some(StatusCode::METHOD_NOT_ALLOWED),
        };
        assert_eq!(asked.http_status(), Some(StatusCode::METHOD_NOT_ALLOWED));
        assert!(
            asked
                .to_string()
                .ends_with("(the service answered 405 Method Not Allowed)")
        );
        let never_sent = Error::CancelUnsupported {
            protocol: "graph",
            http_status: None,
        };
        assert_eq!(never_sent.http_status(), None);
        assert_eq!(never_sent.to_string(), "cancel is not supported by graph");
    }
}
