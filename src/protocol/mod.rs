//! What a monitor's answer means, and where to poll next.
//!
//! A [`Protocol`] turns one HTTP response into a [`Reading`]: either a status
//! report (with, perhaps, a new monitor URL and where the final result is), or
//! "this was a failure to read the status", which the operation hands to its
//! [`ErrorPolicy`](crate::policy::ErrorPolicy). Protocols own no timing and do
//! no I/O; the [`Operation`](crate::Operation) state machine does both.
//!
//! The families:
//! - [`Graph`]: the OneDrive / Microsoft Graph `asyncJobStatus` monitor;
//! - [`Azure`]: `Azure-AsyncOperation`, `Operation-Location`, `Location` and
//!   body polling on `provisioningState`, with [`FinalStateVia`];
//! - [`Google`]: AIP-151 `google.longrunning.Operation`;
//! - [`Auto`]: for a monitor URL of unknown family, reads each answer as a
//!   Google `Operation` when it looks like one, else as a status report.
//!
//! When an operation is started with [`Operation::start`](crate::Operation::start),
//! the family is detected from the start response (see [`ProtocolKind::Auto`]).

mod azure;
mod google;
mod graph;
pub(crate) mod start;

use std::fmt;

use bytes::Bytes;
use url::Url;

pub use azure::{Azure, AzureMode, FinalStateVia};
pub use google::Google;
pub use graph::Graph;

use crate::error::Error;
use crate::origin::{redact, resolve_header_url};
use crate::resume::SavedProtocol;
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

    /// How a resume token records this protocol; `None` (the default) makes
    /// operations with this protocol not resumable.
    fn saved(&self) -> Option<SavedProtocol> {
        None
    }

    /// The requests that ask the service to cancel the job polled at
    /// `monitor`, tried in order while the service answers `404` or `405`.
    /// Empty (the default) when the protocol has no way to cancel.
    fn cancel_requests(&self, monitor: &Url) -> Vec<http::Request<Bytes>> {
        let _ = monitor;
        Vec::new()
    }
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
    fn saved(&self) -> Option<SavedProtocol> {
        (**self).saved()
    }
    fn cancel_requests(&self, monitor: &Url) -> Vec<http::Request<Bytes>> {
        (**self).cancel_requests(monitor)
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

/// Which protocol family to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ProtocolKind {
    /// Detect it. From a start response: `Azure-AsyncOperation` or
    /// `Operation-Location` → Azure; a body that is a Google `Operation` →
    /// Google; `202` + `Location` → Azure's Location pattern when the response
    /// carries ARM's `x-ms-request-id` or `x-ms-correlation-request-id`, else
    /// Graph; a `PUT`/`PATCH` answered `200`/`201` with a running
    /// `properties.provisioningState` → Azure body polling; any other `2xx` → a
    /// completed operation. For a monitor URL: [`Auto`].
    #[default]
    Auto,
    /// [`Graph`].
    Graph,
    /// [`Azure`].
    Azure,
    /// [`Google`].
    Google,
}

impl ProtocolKind {
    /// The name (`"auto"`, `"graph"`, `"azure"`, `"google"`).
    pub fn as_str(&self) -> &'static str {
        match self {
            ProtocolKind::Auto => "auto",
            ProtocolKind::Graph => "graph",
            ProtocolKind::Azure => "azure",
            ProtocolKind::Google => "google",
        }
    }

    /// The protocol that reads answers of a monitor URL given directly.
    /// Azure's status monitors speak the same language as Graph's for this
    /// purpose (the vocabularies are merged in [`crate::JobState`]), but
    /// request credentials on polls.
    pub fn for_monitor(&self, monitor: &Url) -> Box<dyn Protocol> {
        match self {
            ProtocolKind::Auto => Box::new(Auto),
            ProtocolKind::Graph => Box::new(Graph),
            ProtocolKind::Azure => Box::new(Azure::new(
                AzureMode::AsyncOperation,
                FinalStateVia::AzureAsyncOperation,
                monitor.clone(),
                None,
            )),
            ProtocolKind::Google => Box::new(Google),
        }
    }
}

impl fmt::Display for ProtocolKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ProtocolKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(ProtocolKind::Auto),
            "graph" | "onedrive" => Ok(ProtocolKind::Graph),
            "azure" => Ok(ProtocolKind::Azure),
            "google" => Ok(ProtocolKind::Google),
            other => Err(format!(
                "unknown protocol `{other}` (expected auto, graph, azure or google)"
            )),
        }
    }
}

/// For a monitor URL of unknown family: each answer that looks like a Google
/// `Operation` is read as one, every other answer as a [`Graph`] status report
/// (which also understands Azure's status monitors). Polls carry no
/// credentials, as for Graph.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct Auto;

impl Protocol for Auto {
    fn name(&self) -> &'static str {
        "auto"
    }

    fn saved(&self) -> Option<SavedProtocol> {
        Some(SavedProtocol::Auto)
    }

    fn wants_credentials(&self, kind: RequestKind) -> bool {
        Graph.wants_credentials(kind)
    }

    fn interpret(&self, url: &Url, response: &http::Response<Bytes>) -> Result<Reading, Error> {
        // A status report is the common case: read it as one, and look for a
        // Google `Operation` only in what is not.
        match Graph.interpret(url, response) {
            Err(_) if google::looks_like_operation(response.body()) => {
                Google.interpret(url, response)
            }
            reading => reading,
        }
    }
}

/// `POST {url}:cancel`: the custom method of Google's and Azure's newer
/// guidelines, appended to the path (the query is kept).
pub(crate) fn post_cancel(url: &Url) -> http::Request<Bytes> {
    let mut target = url.clone();
    let path = format!("{}:cancel", url.path());
    target.set_path(&path);
    let mut request = http::Request::new(Bytes::new());
    *request.method_mut() = http::Method::POST;
    if let Ok(uri) = target.as_str().parse() {
        *request.uri_mut() = uri;
    }
    request
}

/// Whether a body is empty or only white space.
pub(crate) fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

/// Whether a body claims to be JSON: its `Content-Type` says so
/// (`application/json`, `…+json`), or it starts with `{` or `[`. A protocol
/// that reads such a body and cannot parse it has a garbled answer, never a
/// result to pass on as it is.
pub(crate) fn claims_json(headers: &http::HeaderMap, body: &[u8]) -> bool {
    let declared = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        });
    declared
        || body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'{' || *b == b'[')
}

/// Reads a status report from a monitor's answer. An empty body is read by
/// `when_empty` (a protocol error when it has no meaning for the status
/// code); anything else must be a status report (`what` names the kind).
pub(crate) fn read_status(
    url: &Url,
    response: &http::Response<Bytes>,
    what: &str,
    when_empty: impl FnOnce(http::StatusCode) -> Option<AsyncJobStatus>,
) -> Result<AsyncJobStatus, Error> {
    let code = response.status();
    let body = response.body();
    if is_blank(body) {
        return when_empty(code).ok_or_else(|| {
            Error::protocol(
                format!("empty answer where {what} was expected"),
                Some(code),
                Some(redact(url)),
                body,
            )
        });
    }
    AsyncJobStatus::from_json(body).map_err(|e| {
        Error::protocol(
            format!("not {what}: {e}"),
            Some(code),
            Some(redact(url)),
            body,
        )
    })
}

/// A response for unit tests.
#[cfg(test)]
pub(crate) fn test_response(
    code: u16,
    headers: &[(&str, &str)],
    body: &str,
) -> http::Response<Bytes> {
    let mut response = http::Response::new(Bytes::copy_from_slice(body.as_bytes()));
    *response.status_mut() = http::StatusCode::from_u16(code).expect("a valid status");
    for (name, value) in headers {
        response.headers_mut().insert(
            http::HeaderName::from_bytes(name.as_bytes()).expect("a valid name"),
            value.parse().expect("a valid value"),
        );
    }
    response
}

/// The URL in the response header `name`, resolved against `base` (the URL
/// of the request it answered); a protocol error when it is not text or not a
/// URL the crate follows.
pub(crate) fn url_header(
    headers: &http::HeaderMap,
    name: &str,
    base: &Url,
    code: http::StatusCode,
) -> Result<Option<Url>, Error> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| {
        Error::protocol(
            format!("{name} header is not text"),
            Some(code),
            Some(redact(base)),
            b"",
        )
    })?;
    header_url(base, text, code).map(Some)
}

/// Resolves a URL from a header or body against `base`, as a protocol error
/// when it is unusable.
pub(crate) fn header_url(base: &Url, value: &str, code: http::StatusCode) -> Result<Url, Error> {
    resolve_header_url(base, value)
        .map_err(|message| Error::protocol(message, Some(code), Some(redact(base)), b""))
}
