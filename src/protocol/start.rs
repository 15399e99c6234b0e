//! What the answer to the caller's start request means: done now, poll a
//! monitor, poll by re-sending the request, or an error answer.

use std::fmt;

use bytes::Bytes;
use http::{Method, StatusCode};
use url::Url;

use super::{Interpretation, Protocol, ResultSource, is_blank, url_header};
use crate::error::Error;
use crate::origin::redact;
use crate::status::{AsyncJobStatus, JobState};

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
    /// [`Error::Http`], keeping the status code and the service's error.
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
    /// given a running status here ends with [`Error::Protocol`]).
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

    /// The answer is an error; the operation ends with [`Error::Http`].
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
pub fn start_from_headers(url: &Url, response: &http::Response<Bytes>) -> Result<Start, Error> {
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
pub(crate) fn not_accepted(url: &Url, response: &http::Response<Bytes>) -> Result<(), Error> {
    if response.status().is_success() {
        return Ok(());
    }
    Err(Error::protocol(
        "the start request was not accepted (expected 2xx)",
        Some(response.status()),
        Some(redact(url)),
        response.body(),
    ))
}

/// The error of a `202 Accepted` that names no monitor.
pub(crate) fn no_monitor(url: &Url, response: &http::Response<Bytes>) -> Error {
    Error::protocol(
        "202 Accepted without a monitor URL (Location, Operation-Location or Azure-AsyncOperation)",
        Some(response.status()),
        Some(redact(url)),
        response.body(),
    )
}

/// Whether a method's start answer may be an Azure resource being provisioned.
pub(crate) fn is_put_like(method: &Method) -> bool {
    method == Method::PUT || method == Method::PATCH
}
