//! The seam between the operation and a family: the [`Protocol`] trait,
//! whose methods follow the flow — read the start answer into a [`Next`],
//! build each poll, read each poll's answer into a [`Polled`] — and the
//! default reading of a start answer by its headers.

use std::fmt;

use bytes::Bytes;
use http::{Method, StatusCode};
use url::Url;

use super::read::{claims_json, get_json, is_blank, url_header};
use super::reading::{Polled, Reading, ResultSource};
use crate::origin::redact;
use crate::protocol_error::ProtocolError;
use crate::resume::{SavedProtocol, TokenError};
use crate::status::{AsyncJobStatus, JobState};
use crate::transport::RequestKind;

/// A family of long-running operations: what its answers mean. See the
/// [module documentation](super) for a guide to writing one.
pub trait Protocol: Send + Sync + fmt::Debug {
    /// A short, stable name (`"graph"`); resume tokens record it, and resuming
    /// looks the protocol up by it.
    fn name(&self) -> &'static str;

    /// Whether the start request asks the service to answer at once and
    /// finish in the background (`Prefer: respond-async`, RFC 7240), unless
    /// it already has a `Prefer` header. The default says no: Graph, Azure
    /// and detection ([`Auto`](super::Auto)) say yes; a protocol that
    /// re-sends its request (a waiter) has no use for it.
    fn prefers_respond_async(&self) -> bool {
        false
    }

    /// Reads the answer to the start request: `request` is what was sent
    /// (its method, headers and body), `url` its absolute URL. Called for
    /// every answer, `2xx` or not, once transient failures were retried.
    ///
    /// The default reads headers only ([`Next::from_headers`]): a `4xx`/`5xx`
    /// is refused; `Azure-AsyncOperation`, `Operation-Location` or (on a
    /// `202`) `Location` is polled; a `202` without any is a protocol error;
    /// another `2xx` is done, its body the result.
    fn read_start(
        &self,
        request: &http::Request<Bytes>,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Next, ProtocolError> {
        let _ = request;
        start_from_headers(url, response)
    }

    /// The request that polls `monitor`. The default is a `GET` that accepts
    /// JSON; any method will do (`HEAD` for a status in headers). Not called
    /// when the start said [`Next::resend`]: each poll then re-sends the
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
    fn read_poll(
        &self,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Polled, ProtocolError>;

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
    fn read_start(
        &self,
        request: &http::Request<Bytes>,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Next, ProtocolError> {
        (**self).read_start(request, url, response)
    }
    fn prefers_respond_async(&self) -> bool {
        (**self).prefers_respond_async()
    }
    fn poll_request(&self, monitor: &Url) -> http::Request<Bytes> {
        (**self).poll_request(monitor)
    }
    fn wants_credentials(&self, kind: RequestKind) -> bool {
        (**self).wants_credentials(kind)
    }
    fn read_poll(
        &self,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Polled, ProtocolError> {
        (**self).read_poll(url, response)
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

/// The route after the start answer (the inside of a [`Next`]).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // made once per operation, read at once
pub(crate) enum Route {
    /// The job is over: the reading's status is terminal (success or not).
    Done(Reading),
    /// Poll this monitor URL with [`Protocol::poll_request`].
    Poll(Url),
    /// Poll by re-sending the start request (same method, headers and body)
    /// to its URL; [`Protocol::read_poll`] reads each answer.
    Resend,
    /// The answer is an error (`4xx`/`5xx`): the operation ends with
    /// [`Error::Request`](crate::Error::Request), keeping the status code and the service's error.
    Refused,
}

/// Where an operation goes after its start answer, what
/// [`Protocol::read_start`] returns: the job is [`done`](Self::done), or
/// the operation [`poll`](Self::poll)s a monitor, polls by re-sending the
/// start request ([`resend`](Self::resend)), or ends with the service's
/// error answer ([`refused`](Self::refused)). It may carry a first reading
/// to yield before polling ([`with_status`](Self::with_status),
/// [`with_reading`](Self::with_reading)).
///
/// The protocol that reads the polls is the one that read the start (the
/// caller's, wrappers included), unless the answer names another with
/// [`with_protocol`](Self::with_protocol): detection ([`Auto`](super::Auto))
/// does, to go on with the family it recognised; the built-in families
/// themselves never do, so a protocol that wraps one keeps reading every
/// poll.
///
/// ```
/// use lro_poller::protocol::{Next, Reading};
/// use lro_poller::{AsyncJobStatus, JobState, url::Url};
///
/// let monitor = Url::parse("https://api.example/copies/7").unwrap();
/// let next = Next::poll(monitor.clone())
///     .with_status(AsyncJobStatus::new(JobState::NotStarted));
/// assert_eq!(next.monitor(), Some(&monitor));
/// assert_eq!(next.first_status().unwrap().status, JobState::NotStarted);
///
/// let done = Next::done(Reading::new(AsyncJobStatus::new(JobState::Completed)));
/// assert!(done.monitor().is_none());
/// ```
#[non_exhaustive]
pub struct Next {
    route: Route,
    first: Option<Reading>,
    protocol: Option<Box<dyn Protocol>>,
}

impl Next {
    /// The job is over; `reading`'s status must be terminal (an operation
    /// given a running status here ends with [`Error::Protocol`](crate::Error::Protocol)).
    pub fn done(reading: Reading) -> Next {
        Next::to(Route::Done(reading))
    }

    /// Poll `monitor`.
    pub fn poll(monitor: Url) -> Next {
        Next::to(Route::Poll(monitor))
    }

    /// Poll by re-sending the start request to its URL.
    pub fn resend() -> Next {
        Next::to(Route::Resend)
    }

    /// The answer is an error; the operation ends with [`Error::Request`](crate::Error::Request).
    pub fn refused() -> Next {
        Next::to(Route::Refused)
    }

    fn to(route: Route) -> Next {
        Next {
            route,
            first: None,
            protocol: None,
        }
    }

    /// A first, running status the start answer carried; the operation
    /// yields it before it polls.
    pub fn with_status(self, status: AsyncJobStatus) -> Next {
        self.with_reading(Reading::new(status))
    }

    /// Like [`with_status`](Self::with_status), with the details the protocol
    /// read ([`Reading::with_details`]).
    pub fn with_reading(mut self, reading: Reading) -> Next {
        self.first = Some(reading);
        self
    }

    /// Goes on with `protocol` instead of the one that read the start: for
    /// detection, or a protocol that keeps what it read from the start
    /// answer in a copy of itself. (A protocol that wraps one that does so
    /// loses its wrapper; the built-in families never do.)
    pub fn with_protocol(mut self, protocol: impl Protocol + 'static) -> Next {
        self.protocol = Some(Box::new(protocol));
        self
    }

    /// The start answer read by its headers alone, as the default
    /// [`Protocol::read_start`] does: a `4xx`/`5xx` is refused; a monitor in
    /// `Azure-AsyncOperation`, `Operation-Location` or (on a `202`)
    /// `Location`, resolved against `url`, is polled; a `202` without one is
    /// a protocol error; any other `2xx` is done, its body the result (its
    /// `id` the resource id); anything else (a `3xx`) is a protocol error.
    /// For a protocol that reads the start as usual and adds to it.
    pub fn from_headers(
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Next, ProtocolError> {
        start_from_headers(url, response)
    }

    /// The monitor to poll, when the operation polls one.
    pub fn monitor(&self) -> Option<&Url> {
        match &self.route {
            Route::Poll(url) => Some(url),
            _ => None,
        }
    }

    /// The route, for tests.
    #[cfg(test)]
    pub(crate) fn route(&self) -> &Route {
        &self.route
    }

    /// The first status, if the start answer carried one.
    pub fn first_status(&self) -> Option<&AsyncJobStatus> {
        self.first.as_ref().map(|reading| &reading.status)
    }

    /// The protocol to go on with, when it is not the one that read the start.
    pub fn protocol(&self) -> Option<&dyn Protocol> {
        self.protocol.as_deref()
    }

    /// The parts: route, first reading, protocol.
    pub(crate) fn into_parts(self) -> (Route, Option<Reading>, Option<Box<dyn Protocol>>) {
        (self.route, self.first, self.protocol)
    }
}

impl fmt::Debug for Next {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let next = match &self.route {
            Route::Done(reading) => format!("Done({})", reading.status.status),
            Route::Poll(url) => format!("Poll({})", redact(url)),
            Route::Resend => "Resend".into(),
            Route::Refused => "Refused".into(),
        };
        f.debug_struct("Next")
            .field("next", &next)
            .field("first", &self.first_status().map(|s| &s.status))
            .field("protocol", &self.protocol.as_ref().map(|p| p.name()))
            .finish()
    }
}

/// A synchronous answer: the operation is complete and the body, if any, is
/// its result (its `id`, when it has one, is the resource id).
pub(crate) fn completed(body: &Bytes, location: Option<Url>) -> Reading {
    let mut status = AsyncJobStatus::new(JobState::Completed);
    status.resource_id = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("id").and_then(|id| id.as_str()).map(str::to_owned));
    let mut reading = Reading::new(status);
    if !is_blank(body) {
        reading = reading.with_result(ResultSource::Body(body.clone()));
    }
    if let Some(location) = location {
        reading = reading.with_result_location(location);
    }
    reading
}

/// A synchronous answer (a `2xx` other than `202`) read as a completed
/// job whose body is the result — unless the body claims to be JSON (by its
/// `Content-Type`, or by starting with `{` or `[`) and cannot be read: a
/// cut or garbled answer could hide a failure, so it is a protocol error,
/// never a completion (as for Azure's).
pub(crate) fn completed_answer(
    url: &Url,
    response: &http::Response<Bytes>,
    location: Option<Url>,
) -> Result<Reading, ProtocolError> {
    let body = response.body();
    let unreadable = !is_blank(body)
        && claims_json(response.headers(), body)
        && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err();
    if unreadable {
        return Err(ProtocolError::with_parts(
            "the synchronous answer cannot be read as the JSON it claims to be",
            Some(response.status()),
            Some(redact(url)),
            body,
        ));
    }
    Ok(completed(body, location))
}

/// The start answer read by its headers alone, the default of
/// [`Protocol::read_start`]: a `4xx`/`5xx` is refused; a monitor in
/// `Azure-AsyncOperation`, `Operation-Location` or (on a `202`) `Location` is
/// polled; a `202` without one is a protocol error; any other `2xx` is a
/// completed operation whose body is the result; anything else (a `3xx`) is
/// a protocol error.
pub(crate) fn start_from_headers(
    url: &Url,
    response: &http::Response<Bytes>,
) -> Result<Next, ProtocolError> {
    let code = response.status();
    if code.is_client_error() || code.is_server_error() {
        return Ok(Next::refused());
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
        (Some(monitor), _) => Next::poll(monitor),
        (None, true) => match location {
            Some(monitor) => Next::poll(monitor),
            None => return Err(no_monitor(url, response)),
        },
        (None, false) => Next::done(completed_answer(url, response, location)?),
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

    fn read(code: u16, headers: &[(&str, &str)], body: &str) -> Result<Next, ProtocolError> {
        let url = Url::parse("https://api.example/v1/things/1").unwrap();
        start_from_headers(&url, &response(code, headers, body))
    }

    fn monitor(start: Result<Next, ProtocolError>) -> String {
        match start.unwrap().route() {
            Route::Poll(url) => url.to_string(),
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
        let Route::Done(reading) = created.route() else {
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
        assert!(matches!(empty.route(), Route::Done(r) if r.result == ResultSource::None));
        for code in [400, 404, 409, 500, 503] {
            assert!(matches!(
                read(code, &[], "{}").unwrap().route(),
                Route::Refused
            ));
        }
        let bare = read(202, &[], "").unwrap_err();
        assert!(bare.to_string().contains("without a monitor"), "{bare}");
        assert!(read(302, &[("location", "/x")], "").is_err());
        assert!(read(202, &[("location", "ftp://x/1")], "").is_err());
    }

    #[test]
    fn a_start_shows_what_it_decided() {
        let start = Next::resend()
            .with_status(AsyncJobStatus::new(JobState::Waiting))
            .with_protocol(super::super::Graph::new());
        assert!(matches!(start.route(), Route::Resend));
        assert_eq!(start.first_status().unwrap().status, JobState::Waiting);
        assert_eq!(start.protocol().map(|p| p.name()), Some("graph"));
        let shown = format!("{start:?}");
        assert!(
            shown.contains("Resend") && shown.contains("graph"),
            "{shown}"
        );
        let poll = Next::poll(Url::parse("https://a.example/m?sig=SECRET").unwrap());
        assert!(!format!("{poll:?}").contains("SECRET"));
        assert!(poll.first_status().is_none() && poll.protocol().is_none());
        assert!(matches!(Next::refused().route(), Route::Refused));
    }
}
