//! What a protocol may fail with: an answer it could not make sense of.

use std::fmt;

use bytes::Bytes;
use http::StatusCode;
use url::Url;

use crate::origin::redact;
use crate::resume::ResumeToken;

/// How many bytes of a response body an error quotes at most.
pub(crate) const EXCERPT_LIMIT: usize = 512;

/// An answer a [`Protocol`](crate::protocol::Protocol) could not make sense
/// of (garbage JSON, a missing status, an unusable header): what a
/// protocol's methods return when reading fails. The operation ends with it
/// as [`Error::Protocol`](crate::Error::Protocol).
///
/// ```
/// use lro_poller::protocol::ProtocolError;
/// use lro_poller::url::Url;
///
/// let url = Url::parse("https://api.example/copy/1?sig=secret").unwrap();
/// let answer = http::Response::builder().status(200).body(bytes::Bytes::from("<html>")).unwrap();
/// let error = ProtocolError::malformed("x-copy-status is missing", &url, &answer);
/// assert_eq!(error.status(), Some(http::StatusCode::OK));
/// assert_eq!(error.excerpt(), Some("<html>"));
/// assert!(!error.to_string().contains("secret"));
/// ```
#[derive(Debug, Clone)]
pub struct ProtocolError {
    message: String,
    status: Option<StatusCode>,
    url: Option<String>,
    excerpt: Option<String>,
    /// A token to go on with, when the error ended the wait before the job
    /// did.
    resume: Option<Box<ResumeToken>>,
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
            resume: None,
        }
    }

    /// The answer from `url` could not be understood: the error with the
    /// status code, the redacted URL and an excerpt of the body.
    pub fn malformed(
        message: impl Into<String>,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Self {
        ProtocolError::new(message)
            .with_status(response.status())
            .with_url(url)
            .with_body(response.body())
    }

    /// All parts at once (the URL already redacted).
    pub(crate) fn with_parts(
        message: impl Into<String>,
        status: Option<StatusCode>,
        url: Option<String>,
        body: &[u8],
    ) -> Self {
        ProtocolError {
            message: message.into(),
            status,
            url,
            excerpt: excerpt(body),
            resume: None,
        }
    }

    /// With a token to go on with.
    pub(crate) fn with_resume(mut self, resume: Option<ResumeToken>) -> Self {
        self.resume = resume.map(Box::new);
        self
    }

    /// The token to go on with, if any.
    pub(crate) fn resume_token(&self) -> Option<&ResumeToken> {
        self.resume.as_deref()
    }

    /// The HTTP status of the answer.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    /// The URL that answered (kept redacted: no query, no user info).
    pub fn with_url(mut self, url: &Url) -> Self {
        self.url = Some(redact(url));
        self
    }

    /// The answer's body (an excerpt of at most 512 bytes is kept).
    pub fn with_body(mut self, body: &[u8]) -> Self {
        self.excerpt = excerpt(body);
        self
    }

    /// What was wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status of the answer, when the problem was in one.
    pub fn status(&self) -> Option<StatusCode> {
        self.status
    }

    /// The URL that answered, redacted.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// The start of the body (at most 512 bytes, lossy UTF-8).
    pub fn excerpt(&self) -> Option<&str> {
        self.excerpt.as_deref()
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

impl std::error::Error for ProtocolError {}

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
    fn a_protocol_error_shows_what_is_known() {
        let error = ProtocolError::new("no status")
            .with_status(StatusCode::ACCEPTED)
            .with_body(b"{}");
        assert_eq!(error.message(), "no status");
        assert_eq!(error.url(), None);
        let text = error.to_string();
        assert!(
            text.contains("202") && text.contains("no status") && text.contains("{}"),
            "{text}"
        );
    }
}
