//! What one answer says: a [`Reading`] (a status report and what the answer
//! says about URLs and the result), and what a poll gave ([`Polled`]): a
//! reading, or a failure to read the status.

use std::fmt;

use bytes::Bytes;
use url::Url;

use crate::answer::Details;
use crate::status::AsyncJobStatus;

/// What one answer from a monitor says.
#[derive(Debug, Clone)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // read once per poll; boxing would add an allocation
pub enum Polled {
    /// A status report.
    Status(Reading),
    /// The answer was a failure to read the status (an error status code); the
    /// error policy decides whether to retry.
    ReadFailure,
}

/// Where an operation's final result comes from.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum ResultSource {
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
pub struct Reading {
    /// The status.
    pub status: AsyncJobStatus,
    /// A new monitor URL to poll from now on.
    pub next_monitor: Option<Url>,
    /// The URL of the resource the job produced.
    pub result_location: Option<Url>,
    /// Where the final result body comes from.
    pub(crate) result: ResultSource,
    /// Typed data for the caller ([`with_details`](Self::with_details)).
    pub(crate) details: Details,
}

impl Reading {
    /// A report of `status` with nothing else.
    pub fn new(status: AsyncJobStatus) -> Self {
        Reading {
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

    /// The job's final result body came with this answer: the outcome's
    /// [`body`](crate::Outcome::body).
    pub fn with_result_body(mut self, body: Bytes) -> Self {
        self.result = ResultSource::Body(body);
        self
    }

    /// The job's final result body is fetched with a `GET` of `url` once
    /// the job succeeded (within the deadline, never by the stream).
    pub fn with_result_at(mut self, url: Url) -> Self {
        self.result = ResultSource::Fetch(url);
        self
    }

    /// Where the result body comes from.
    pub(crate) fn with_result(mut self, result: ResultSource) -> Self {
        self.result = result;
        self
    }
}
