//! What the service said: the raw answer behind a status report, and the
//! typed details a protocol read from it.
//!
//! Every status an [`Operation`](crate::Operation) yields, the outcome's final
//! status and the status inside [`Error::Failed`](crate::Error::Failed) carry
//! the [`Answer`] they were read from — the status code, the headers and the
//! body — and whatever typed [details](Details) the protocol attached
//! ([`Reading::with_details`](crate::protocol::Reading::with_details)).
//! An answer is shared, not copied: cloning a status clones a pointer.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

/// Typed data a protocol read from an answer (Google's `metadata`, a
/// header-borne progress counter, the acceptor that matched…): any
/// `Send + Sync + Debug` value, reached with [`Answer::details`].
#[derive(Clone, Default)]
pub(crate) struct Details(Option<Arc<dyn Detail>>);

/// A value that can be kept as [`Details`].
trait Detail: Any + Send + Sync + fmt::Debug {
    fn as_any(&self) -> &dyn Any;
}

impl<T: Any + Send + Sync + fmt::Debug> Detail for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Details {
    /// No details.
    pub(crate) fn none() -> Self {
        Details(None)
    }

    /// `value` as details.
    pub(crate) fn new<T: Any + Send + Sync + fmt::Debug>(value: T) -> Self {
        Details(Some(Arc::new(value)))
    }

    /// The details as a `T`, when they are one.
    pub(crate) fn get<T: Any>(&self) -> Option<&T> {
        self.0.as_deref()?.as_any().downcast_ref()
    }
}

impl fmt::Debug for Details {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(details) => details.fmt(f),
            None => f.write_str("None"),
        }
    }
}

/// Two details are equal when they are the same shared value (details need
/// not be comparable).
impl PartialEq for Details {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

/// One answer from the service — status code, headers, body — with the
/// details the protocol read from it. Cheap to clone (shared).
///
/// ```
/// use lro_poller::Answer;
///
/// let response = http::Response::builder()
///     .status(202)
///     .header("x-copy-progress", "1024/4096")
///     .body(bytes::Bytes::from(r#"{"status":"inProgress"}"#))
///     .unwrap();
/// let answer = Answer::from_response(&response);
/// assert_eq!(answer.status(), http::StatusCode::ACCEPTED);
/// assert_eq!(answer.header("x-copy-progress"), Some("1024/4096"));
/// let body: serde_json::Value = answer.json().unwrap();
/// assert_eq!(body["status"], "inProgress");
/// ```
#[derive(Clone)]
pub struct Answer(Arc<Inner>);

struct Inner {
    status: http::StatusCode,
    headers: http::HeaderMap,
    body: Bytes,
    details: Details,
}

impl Answer {
    /// The answer `response` with `details` (nothing is copied).
    pub(crate) fn new(response: http::Response<Bytes>, details: Details) -> Self {
        let (parts, body) = response.into_parts();
        Answer(Arc::new(Inner {
            status: parts.status,
            headers: parts.headers,
            body,
            details,
        }))
    }

    /// The answer `response`, without details (its headers are copied, its
    /// body shared).
    pub fn from_response(response: &http::Response<Bytes>) -> Self {
        let mut copy = http::Response::new(response.body().clone());
        *copy.status_mut() = response.status();
        *copy.headers_mut() = response.headers().clone();
        Answer::new(copy, Details::none())
    }

    /// The HTTP status code.
    pub fn status(&self) -> http::StatusCode {
        self.0.status
    }

    /// The headers.
    pub fn headers(&self) -> &http::HeaderMap {
        &self.0.headers
    }

    /// The header `name` as text, when present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.0.headers.get(name)?.to_str().ok()
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.0.body
    }

    /// The body parsed as JSON into `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.0.body)
    }

    /// The details the protocol read, as a `T`, when they are one.
    pub fn details<T: Any>(&self) -> Option<&T> {
        self.0.details.get()
    }
}

/// Shows the status code, the body's length and the details; never the
/// headers or the body, which can hold credentials.
impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answer")
            .field("status", &self.0.status)
            .field("body_len", &self.0.body.len())
            .field("details", &self.0.details)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Progress(u64, u64);

    #[test]
    fn details_are_typed_and_shared() {
        let mut response = http::Response::new(Bytes::from_static(b"secret body"));
        response
            .headers_mut()
            .insert("x-ms-copy-progress", http::HeaderValue::from_static("1/4"));
        let answer = Answer::new(response, Details::new(Progress(1, 4)));
        assert_eq!(answer.headers().len(), 1);
        assert_eq!(answer.headers()["x-ms-copy-progress"], "1/4");
        assert_eq!(answer.details::<Progress>(), Some(&Progress(1, 4)));
        assert_eq!(answer.details::<String>(), None);
        let copy = answer.clone();
        assert!(std::ptr::eq(answer.body(), copy.body()));
        let shown = format!("{answer:?}");
        assert!(
            shown.contains("Progress(1, 4)") && !shown.contains("secret"),
            "{shown}"
        );
        let one = Details::new(1u8);
        assert_eq!(one, one.clone());
        assert_ne!(one, Details::none());
        assert!(Details::none().get::<u8>().is_none() && one.get::<u8>() == Some(&1));
        assert_eq!(Details::none(), Details::none());
    }
}
