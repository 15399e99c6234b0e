//! The end of an operation: the outcome, and the final result fetched.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use url::Url;

use crate::error::Error;
use crate::origin::redact;
use crate::protocol::ProtocolError;
use crate::protocol::ResultSource;
use crate::resume::ResumeToken;
use crate::status::{AsyncJobStatus, JobState};
use crate::transport::RequestKind;

use super::core::{End, NO_OUTCOME, Operation, State};
use super::retry::{Retrier, request_error};
use super::schedule::Schedule;

pub(super) type BodyFuture = Pin<Box<dyn Future<Output = Result<Option<Bytes>, Error>> + Send>>;

/// The future of an operation's [`Outcome`] (what `.await` on an
/// [`Operation`] runs).
pub(crate) type OutcomeFuture = Pin<Box<dyn Future<Output = Result<Outcome, Error>> + Send>>;

impl Operation {
    /// returns the outcome: `Ok` when the job completed, the service's error in
    /// [`Error::Failed`] when it failed, or why polling stopped. When the
    /// protocol defines a final result to fetch, it is fetched here (never by
    /// the stream), within the deadline.
    // Not an `async fn`: that would keep the operation in its future twice
    // (the argument and its binding); an `async move` block keeps one.
    #[allow(clippy::manual_async_fn)]
    pub fn outcome(mut self) -> impl Future<Output = Result<Outcome, Error>> + Send {
        async move {
            while futures::future::poll_fn(|cx| self.poll_report(cx))
                .await
                .is_some()
            {
                if let Some(status) = self.last_status_mut() {
                    status.release_answer();
                }
            }
            let (location, result) = match self.take_end() {
                Some(End::Succeeded { location, result }) => (location, result),
                Some(End::Failed(error)) => return Err(error),
                None => return Err(Error::from(ProtocolError::new(NO_OUTCOME))),
            };
            // Only a box lives across the await, not the URL.
            let location = location.map(Box::new);
            let body = self.result_body(result).await?;
            let location = location.map(|location| *location);
            let status = self
                .last_status_mut()
                .take()
                .ok_or_else(|| Error::from(ProtocolError::new(NO_OUTCOME)))?;
            Ok(Outcome {
                status,
                location,
                body,
                polls: self.polls(),
                elapsed: self.elapsed(),
            })
        }
    }

    /// The final result body: none, the one that came with the answer, or a
    /// `GET`, sent again after a transient failure as every request is
    /// ([`Retrier`]), each attempt raced against the deadline. An error
    /// carries a token that goes straight to fetching the result. Boxed, so
    /// that the request's future does not make every awaited operation's
    /// future as large as itself.
    pub(super) fn result_body(&self, source: ResultSource) -> BodyFuture {
        let url = match source {
            ResultSource::Fetch(url) => url,
            ResultSource::Body(body) => return Box::pin(async move { Ok(Some(body)) }),
            _ => return Box::pin(async { Ok(None) }),
        };
        if let Err(error) = self.watch().follow(&url) {
            return Box::pin(async move { Err(error) });
        }
        let mut request = crate::protocol::get_json(&url);
        request
            .extensions_mut()
            .insert(self.meta(RequestKind::Result, &url));
        let token = self.resume_token().map(|token| token.with_result(&url));
        let mut retrier = self.retrier(RequestKind::Result, token);
        let transport = Arc::clone(self.transport());
        let url = redact(&url);
        Box::pin(async move {
            let (answer, attempts) = retrier.send(transport, request, url.clone()).await?;
            match answer {
                Ok(response) if response.status().as_u16() < 400 => Ok(Some(response.into_body())),
                answer => {
                    let error = request_error(RequestKind::Result, url, answer, attempts);
                    Err(with_token(error, retrier.token()))
                }
            }
        })
    }

    /// The failure rule for a request of `kind` sent outside the state
    /// machine; its errors carry `token`.
    pub(super) fn retrier(&self, kind: RequestKind, token: Option<ResumeToken>) -> Retrier {
        let schedule = Schedule::new(
            self.schedule().policy(),
            self.schedule().errors().clone(),
            self.polls(),
            false,
        );
        let hook = self.retry_hook().cloned();
        Retrier::new(kind, schedule, self.clock().clone(), hook, token)
    }

    /// Ends the operation as a job that has succeeded before (a resume token
    /// of a result not fetched yet): awaiting it fetches `result`.
    pub(super) fn succeeded_before(&mut self, result: Url) {
        *self.last_status_mut() = Some(AsyncJobStatus::new(JobState::Completed));
        self.set_end(End::Succeeded {
            location: Some(result.clone()),
            result: ResultSource::Fetch(result),
        });
        self.set_state(State::Done);
    }
}

/// `error`, carrying `token` when it is a request error.
fn with_token(error: Error, token: Option<&ResumeToken>) -> Error {
    match error {
        Error::Request(request) => Error::Request(Box::new(request.with_resume(token.cloned()))),
        other => other,
    }
}

/// How a job ended, when it ended well.
#[derive(Clone)]
#[non_exhaustive]
pub struct Outcome {
    status: AsyncJobStatus,
    location: Option<Url>,
    body: Option<Bytes>,
    polls: u32,
    elapsed: Duration,
}

impl Outcome {
    /// The final status report.
    pub fn status(&self) -> &AsyncJobStatus {
        &self.status
    }

    /// The id of the resource the job produced, when the service said.
    pub fn resource_id(&self) -> Option<&str> {
        self.status.resource_id.as_deref()
    }

    /// The URL of the resource the job produced, when the service said. It can
    /// hold a credential: do not log it.
    pub fn location(&self) -> Option<&Url> {
        self.location.as_ref()
    }

    /// The final result body, when the protocol defines one.
    pub fn body(&self) -> Option<&Bytes> {
        self.body.as_ref()
    }

    /// The final result body parsed as JSON into `T`. A body that is not
    /// a `T` is the caller's deserialisation error, not the service's: it
    /// comes back as it is.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(self.body.as_deref().unwrap_or_default())
    }

    /// Polls sent.
    pub fn polls(&self) -> u32 {
        self.polls
    }

    /// Time from the operation's start to its end, on its timer.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }
}

impl fmt::Debug for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outcome")
            .field("status", &self.status)
            .field("location", &self.location.as_ref().map(redact))
            .field("body_len", &self.body.as_ref().map(Bytes::len))
            .field("polls", &self.polls)
            .field("elapsed", &self.elapsed)
            .finish()
    }
}

impl IntoFuture for Operation {
    type Output = Result<Outcome, Error>;
    type IntoFuture = OutcomeFuture;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.outcome())
    }
}

// `Operation` and its future are `Send`: a compile-time proof.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<Operation>();
    assert_send::<OutcomeFuture>();
};
