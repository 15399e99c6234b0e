//! The seam between the operation and a family: the [`Protocol`] trait and
//! the values it answers — a [`Start`] for the start answer, a [`Reading`]
//! of each poll's answer — and the default reading of a start answer by its
//! headers.

use std::fmt;

use bytes::Bytes;
use http::{Method, StatusCode};
use url::Url;

use super::read::{get_json, is_blank, url_header};
use crate::answer::Details;
use crate::origin::redact;
use crate::protocol_error::ProtocolError;
use crate::resume::SavedProtocol;
use crate::resume::TokenError;
use crate::status::{AsyncJobStatus, JobState};
use crate::transport::RequestKind;

/// A family of long-running operations: what its answers mean. See the
/// [module documentation](super) for a guide to writing one.
pub trait Protocol: Send + Sync + fmt::Debug {
    /// A short, stable name (`"graph"`); resume tokens record it, and resuming
    /// looks the protocol up by it.
    fn name(&self) -> &'static str;

    /// Reads the answer to the start request: `request` is what was sent
    /// (its method, headers and body), `url` its absolute URL. Called for
    /// every answer, `2xx` or not, once transient failures were retried.
    ///
    /// The default reads headers only ([`start_from_headers`]): a `4xx`/`5xx`
    /// is refused; `Azure-AsyncOperation`, `Operation-Location` or (on a
    /// `202`) `Location` is polled; a `202` without any is a protocol error;
    /// another `2xx` is done, its body the result.
    fn start(
        &self,
        request: &http::Request<Bytes>,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Start, ProtocolError> {
        let _ = request;
        start_from_headers(url, response)
    }

    /// The request that polls `monitor`. The default is a `GET` that accepts
    /// JSON; any method will do (`HEAD` for a status in headers). Not called
    /// when the start said [`Start::resend`]: each poll then re-sends the
    /// start request.
    fn poll_request(&self, monitor: &Url) -> http::Request<Bytes> {
        get_json(monitor)
    }

    /// Whether requests of `kind` should carry the caller's credentials (when
    /// they go to the start request's origin). The default says yes.
    fn wants_credentials(&self, kind: RequestKind) -> bool {
        let _ = kind;
        true
    }

    /// Reads the answer to a poll of `url`, whatever its status code.
    fn interpret(
        &self,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Reading, ProtocolError>;

    /// The protocol's state for a resume token, named [`name`](Self::name);
    /// `None` (the default) makes operations with this protocol not
    /// resumable.
    fn save(&self) -> Option<SavedProtocol> {
        None
    }

    /// The protocol again from a token's `saved` state (called on the
    /// protocol whose name the token records). The default refuses: a
    /// protocol that saves itself restores itself too.
    fn restore(&self, saved: &SavedProtocol) -> Result<Box<dyn Protocol>, TokenError> {
        Err(TokenError::new(format!(
            "protocol `{}` cannot be restored from a token",
            saved.name()
        )))
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
    fn start(
        &self,
        request: &http::Request<Bytes>,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Start, ProtocolError> {
        (**self).start(request, url, response)
    }
    fn poll_request(&self, monitor: &Url) -> http::Request<Bytes> {
        (**self).poll_request(monitor)
    }
    fn wants_credentials(&self, kind: RequestKind) -> bool {
        (**self).wants_credentials(kind)
    }
    fn interpret(
        &self,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Reading, ProtocolError> {
        (**self).interpret(url, response)
    }
    fn save(&self) -> Option<SavedProtocol> {
        (**self).save()
    }
    fn restore(&self, saved: &SavedProtocol) -> Result<Box<dyn Protocol>, TokenError> {
        (**self).restore(saved)
    }
    fn cancel_requests(&self, monitor: &Url) -> Vec<http::Request<Bytes>> {
        (**self).cancel_requests(monitor)
    }
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
    /// Typed data for the caller ([`with_details`](Self::with_details)).
    pub details: Details,
}

impl Interpretation {
    /// A report of `status` with nothing else.
    pub fn new(status: AsyncJobStatus) -> Self {
        Interpretation {
            status,
            next_monitor: None,
            result_location: None,
            result: ResultSource::None,
            details: Details::none(),
        }
    }

    /// Attaches typed data read from the answer (a progress counter from a
    /// header, Google's `metadata`, the acceptor that matched…). The caller
    /// reaches it with [`AsyncJobStatus::details`] on the status the stream
    /// yields, on the outcome's status and on a failed job's status.
    pub fn with_details<T: std::any::Any + Send + Sync + fmt::Debug>(mut self, details: T) -> Self {
        self.details = Details::new(details);
        self
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

/// Where an operation goes after its start answer; see [`Start`].
#[derive(Debug)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // made once per operation, read at once
pub enum Next {
    /// The job is over: the reading's status is terminal (success or not).
    Done(Interpretation),
    /// Poll this monitor URL with [`Protocol::poll_request`].
    Poll(Url),
    /// Poll by re-sending the start request (same method, headers and body)
    /// to its URL; [`Protocol::interpret`] reads each answer.
    Resend,
    /// The answer is an error (`4xx`/`5xx`): the operation ends with
    /// [`Error::Request`](crate::Error::Request), keeping the status code and the service's error.
    Refused,
}

/// What a [`Protocol`] makes of the answer to the start request
/// ([`Protocol::start`]): where to go next, perhaps a first status to yield,
/// and perhaps another protocol to go on with (a detected family, or a copy
/// of the protocol holding what it read from the start).
///
/// ```
/// use lro_poller::protocol::{Interpretation, Next, Start};
/// use lro_poller::{AsyncJobStatus, JobState, Url};
///
/// let monitor = Url::parse("https://api.example/copies/7").unwrap();
/// let start = Start::poll(monitor.clone())
///     .with_status(AsyncJobStatus::new(JobState::NotStarted));
/// assert!(matches!(start.next(), Next::Poll(url) if *url == monitor));
/// assert_eq!(start.first_status().unwrap().status, JobState::NotStarted);
///
/// let done = Start::done(Interpretation::new(AsyncJobStatus::new(JobState::Completed)));
/// assert!(matches!(done.next(), Next::Done(_)));
/// ```
#[non_exhaustive]
pub struct Start {
    next: Next,
    first: Option<Interpretation>,
    protocol: Option<Box<dyn Protocol>>,
}

impl Start {
    /// The job is over; `reading`'s status must be terminal (an operation
    /// given a running status here ends with [`Error::Protocol`](crate::Error::Protocol)).
    pub fn done(reading: Interpretation) -> Start {
        Start::to(Next::Done(reading))
    }

    /// Poll `monitor`.
    pub fn poll(monitor: Url) -> Start {
        Start::to(Next::Poll(monitor))
    }

    /// Poll by re-sending the start request to its URL.
    pub fn resend() -> Start {
        Start::to(Next::Resend)
    }

    /// The answer is an error; the operation ends with [`Error::Request`](crate::Error::Request).
    pub fn refused() -> Start {
        Start::to(Next::Refused)
    }

    fn to(next: Next) -> Start {
        Start {
            next,
            first: None,
            protocol: None,
        }
    }

    /// A first, running status the start answer carried; the operation
    /// yields it before it polls.
    pub fn with_status(self, status: AsyncJobStatus) -> Start {
        self.with_reading(Interpretation::new(status))
    }

    /// Like [`with_status`](Self::with_status), with the details the protocol
    /// read ([`Interpretation::with_details`]).
    pub fn with_reading(mut self, reading: Interpretation) -> Start {
        self.first = Some(reading);
        self
    }

    /// Goes on with `protocol` instead of the one that read the start.
    pub fn with_protocol(self, protocol: impl Protocol + 'static) -> Start {
        self.with_boxed_protocol(Box::new(protocol))
    }

    /// Like [`with_protocol`](Self::with_protocol), for a boxed protocol.
    pub fn with_boxed_protocol(mut self, protocol: Box<dyn Protocol>) -> Start {
        self.protocol = Some(protocol);
        self
    }

    /// Where the operation goes next.
    pub fn next(&self) -> &Next {
        &self.next
    }

    /// The first status, if the start answer carried one.
    pub fn first_status(&self) -> Option<&AsyncJobStatus> {
        self.first.as_ref().map(|reading| &reading.status)
    }

    /// The protocol to go on with, when it is not the one that read the start.
    pub fn protocol(&self) -> Option<&dyn Protocol> {
        self.protocol.as_deref()
    }

    /// The parts: next, first reading, protocol.
    pub(crate) fn into_parts(self) -> (Next, Option<Interpretation>, Option<Box<dyn Protocol>>) {
        (self.next, self.first, self.protocol)
    }
}

impl fmt::Debug for Start {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let next = match &self.next {
            Next::Done(reading) => format!("Done({})", reading.status.status),
            Next::Poll(url) => format!("Poll({})", redact(url)),
            Next::Resend => "Resend".into(),
            Next::Refused => "Refused".into(),
        };
        f.debug_struct("Start")
            .field("next", &next)
            .field("first", &self.first_status().map(|s| &s.status))
            .field("protocol", &self.protocol.as_ref().map(|p| p.name()))
            .finish()
    }
}

/// A synchronous answer: the operation is complete and the body, if any, is
/// its result (its `id`, when it has one, is the resource id).
pub fn completed(body: &Bytes, location: Option<Url>) -> Interpretation {
    let mut status = AsyncJobStatus::new(JobState::Completed);
    status.resource_id = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("id").and_then(|id| id.as_str()).map(str::to_owned));
    let mut reading = Interpretation::new(status);
    if !is_blank(body) {
        reading = reading.with_result(ResultSource::Body(body.clone()));
    }
    if let Some(location) = location {
        reading = reading.with_result_location(location);
    }
    reading
}

/// The start answer read by its headers alone, the default of
/// [`Protocol::start`]: a `4xx`/`5xx` is refused; a monitor in
/// `Azure-AsyncOperation`, `Operation-Location` or (on a `202`) `Location` is
/// polled; a `202` without one is a protocol error; any other `2xx` is a
/// completed operation whose body is the result; anything else (a `3xx`) is
/// a protocol error.
pub fn start_from_headers(
    url: &Url,
    response: &http::Response<Bytes>,
) -> Result<Start, ProtocolError> {
    let code = response.status();
    if code.is_client_error() || code.is_server_error() {
        return Ok(Start::refused());
    }
    not_accepted(url, response)?;
    let headers = response.headers();
    let accepted = code == StatusCode::ACCEPTED;
    let monitor = match url_header(headers, "azure-asyncoperation", url, code)? {
        Some(monitor) => Some(monitor),
        None => url_header(headers, "operation-location", url, code)?,
    };
    let location = url_header(headers, "location", url, code)?;
    Ok(match (monitor, accepted) {
        (Some(monitor), _) => Start::poll(monitor),
        (None, true) => match location {
            Some(monitor) => Start::poll(monitor),
            None => return Err(no_monitor(url, response)),
        },
        (None, false) => Start::done(completed(response.body(), location)),
    })
}

/// A protocol error unless the answer is a `2xx`.
pub(super) fn not_accepted(
    url: &Url,
    response: &http::Response<Bytes>,
) -> Result<(), ProtocolError> {
    if response.status().is_success() {
        return Ok(());
    }
    Err(ProtocolError::with_parts(
        "the start request was not accepted (expected 2xx)",
        Some(response.status()),
        Some(redact(url)),
        response.body(),
    ))
}

/// The error of a `202 Accepted` that names no monitor.
pub(super) fn no_monitor(url: &Url, response: &http::Response<Bytes>) -> ProtocolError {
    ProtocolError::with_parts(
        "202 Accepted without a monitor URL (Location, Operation-Location or Azure-AsyncOperation)",
        Some(response.status()),
        Some(redact(url)),
        response.body(),
    )
}

/// Whether a method's start answer may be an Azure resource being provisioned.
pub(super) fn is_put_like(method: &Method) -> bool {
    method == Method::PUT || method == Method::PATCH
}

#[cfg(test)]
mod tests {
    use super::super::read::test_response as response;
    use super::*;

    fn read(code: u16, headers: &[(&str, &str)], body: &str) -> Result<Start, ProtocolError> {
        let url = Url::parse("https://api.example/v1/things/1").unwrap();
        start_from_headers(&url, &response(code, headers, body))
    }

    fn monitor(start: Result<Start, ProtocolError>) -> String {
        match start.unwrap().next() {
            Next::Poll(url) => url.to_string(),
            other => panic!("expected a monitor, got {other:?}"),
        }
    }

    #[test]
    fn headers_name_the_monitor_in_order_of_precedence() {
        let both = [
            ("operation-location", "/ol/1"),
            ("azure-asyncoperation", "/aa/1"),
            ("location", "/l/1"),
        ];
        assert_eq!(monitor(read(201, &both, "")), "https://api.example/aa/1");
        assert_eq!(
            monitor(read(200, &both[..1], "")),
            "https://api.example/ol/1"
        );
        assert_eq!(
            monitor(read(202, &both[2..], "")),
            "https://api.example/l/1"
        );
    }

    #[test]
    fn other_answers_are_done_refused_or_errors() {
        // A `Location` on a 201 is the created resource, not a monitor.
        let created = read(201, &[("location", "/things/1")], r#"{"id":"7"}"#).unwrap();
        let Next::Done(reading) = created.next() else {
            panic!("{created:?}");
        };
        assert_eq!(reading.status.status, JobState::Completed);
        assert_eq!(reading.status.resource_id.as_deref(), Some("7"));
        assert_eq!(
            reading.result_location.as_ref().map(Url::as_str),
            Some("https://api.example/things/1")
        );
        assert!(matches!(reading.result, ResultSource::Body(_)));
        let empty = read(204, &[], "").unwrap();
        assert!(matches!(empty.next(), Next::Done(r) if r.result == ResultSource::None));
        for code in [400, 404, 409, 500, 503] {
            assert!(matches!(
                read(code, &[], "{}").unwrap().next(),
                Next::Refused
            ));
        }
        let bare = read(202, &[], "").unwrap_err();
        assert!(bare.to_string().contains("without a monitor"), "{bare}");
        assert!(read(302, &[("location", "/x")], "").is_err());
        assert!(read(202, &[("location", "ftp://x/1")], "").is_err());
    }

    #[test]
    fn a_start_shows_what_it_decided() {
        let start = Start::resend()
            .with_status(AsyncJobStatus::new(JobState::Waiting))
            .with_protocol(super::super::Graph);
        assert!(matches!(start.next(), Next::Resend));
        assert_eq!(start.first_status().unwrap().status, JobState::Waiting);
        assert_eq!(start.protocol().map(|p| p.name()), Some("graph"));
        let shown = format!("{start:?}");
        assert!(
            shown.contains("Resend") && shown.contains("graph"),
            "{shown}"
        );
        let poll = Start::poll(Url::parse("https://a.example/m?sig=SECRET").unwrap());
        assert!(!format!("{poll:?}").contains("SECRET"));
        assert!(poll.first_status().is_none() && poll.protocol().is_none());
        assert!(matches!(Start::refused().next(), Next::Refused));
    }
}
