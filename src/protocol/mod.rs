//! What a monitor's answer means, and where to poll next.
//!
//! A [`Protocol`] turns one HTTP response into a [`Reading`]: either a status
//! report (with, perhaps, a new monitor URL and where the final result is), or
//! "this was a failure to read the status", which the operation hands to its
//! [`ErrorPolicy`](crate::policy::ErrorPolicy). Protocols own no timing and do
//! no I/O; the [`Operation`](crate::Operation) state machine does both.
//!
//! [`Graph`] is the OneDrive / Microsoft Graph `asyncJobStatus` protocol.

mod graph;

use std::fmt;

use bytes::Bytes;
use url::Url;

pub use graph::Graph;

use crate::error::Error;
use crate::status::AsyncJobStatus;
use crate::transport::RequestKind;

/// How to read a family of monitors.
pub trait Protocol: Send + Sync + fmt::Debug {
    /// A short name (`"graph"`).
    fn name(&self) -> &'static str;

    /// The request that polls `monitor`. The default is a `GET` that accepts
    /// JSON.
    fn poll_request(&self, monitor: &Url) -> http::Request<Bytes> {
        get_json(monitor)
    }

    /// Whether requests of `kind` should carry the caller's credentials (when
    /// they go to the start request's origin). The default says yes.
    fn wants_credentials(&self, kind: RequestKind) -> bool {
        let _ = kind;
        true
    }

    /// Reads the answer to a poll of `url`.
    fn interpret(&self, url: &Url, response: &http::Response<Bytes>) -> Result<Reading, Error>;
}

impl<P: Protocol + ?Sized> Protocol for Box<P> {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn poll_request(&self, monitor: &Url) -> http::Request<Bytes> {
        (**self).poll_request(monitor)
    }
    fn wants_credentials(&self, kind: RequestKind) -> bool {
        (**self).wants_credentials(kind)
    }
    fn interpret(&self, url: &Url, response: &http::Response<Bytes>) -> Result<Reading, Error> {
        (**self).interpret(url, response)
    }
}

/// A `GET` of `url` with `Accept: application/json`.
pub fn get_json(url: &Url) -> http::Request<Bytes> {
    let mut request = http::Request::new(Bytes::new());
    *request.method_mut() = http::Method::GET;
    if let Ok(uri) = url.as_str().parse() {
        *request.uri_mut() = uri;
    }
    // Room for this header and one a transport adds (the first insert into
    // an empty map would reserve room for six, ~600 bytes per poll in flight).
    let mut headers = http::HeaderMap::with_capacity(2);
    headers.insert(
        http::header::ACCEPT,
        http::HeaderValue::from_static("application/json"),
    );
    *request.headers_mut() = headers;
    request
}

/// What one answer from a monitor says.
#[derive(Debug, Clone)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // read once per poll; boxing would add an allocation
pub enum Reading {
    /// A status report.
    Status(Interpretation),
    /// The answer was a failure to read the status (an error status code); the
    /// error policy decides whether to retry.
    ReadFailure,
}

/// Where an operation's final result comes from.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub enum ResultSource {
    /// The protocol defines no result body.
    #[default]
    None,
    /// The result body came with the answer.
    Body(Bytes),
    /// The result is fetched with a `GET` of this URL once the job succeeded.
    Fetch(Url),
}

/// A status report read from an answer, with what it says about URLs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Interpretation {
    /// The status.
    pub status: AsyncJobStatus,
    /// A new monitor URL to poll from now on.
    pub next_monitor: Option<Url>,
    /// The URL of the resource the job produced.
    pub result_location: Option<Url>,
    /// Where the final result body comes from.
    pub result: ResultSource,
}

impl Interpretation {
    /// A report of `status` with nothing else.
    pub fn new(status: AsyncJobStatus) -> Self {
        Interpretation {
            status,
            next_monitor: None,
            result_location: None,
            result: ResultSource::None,
        }
    }

    /// Polls `url` from now on.
    pub fn with_next_monitor(mut self, url: Url) -> Self {
        self.next_monitor = Some(url);
        self
    }

    /// The produced resource is at `url`.
    pub fn with_result_location(mut self, url: Url) -> Self {
        self.result_location = Some(url);
        self
    }

    /// Where the result body comes from.
    pub fn with_result(mut self, result: ResultSource) -> Self {
        self.result = result;
        self
    }
}
