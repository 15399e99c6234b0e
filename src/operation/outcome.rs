//! The end of an operation: the outcome, and the final result fetched.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use url::Url;

use crate::error::{Error, RequestError};
use crate::origin::redact;
use crate::protocol::ProtocolError;
use crate::protocol::ResultSource;
use crate::status::AsyncJobStatus;
use crate::transport::{RequestKind, RequestMeta, Transport};

use super::core::{End, NO_OUTCOME, Operation};

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
    /// `GET` raced against the deadline. Boxed, so that the request's future
    /// does not make every awaited operation's future as large as itself.
    pub(super) fn result_body(&self, source: ResultSource) -> BodyFuture {
        let url = match source {
            ResultSource::Fetch(url) => url,
            ResultSource::Body(body) => return Box::pin(async move { Ok(Some(body)) }),
            _ => return Box::pin(async { Ok(None) }),
        };
        if let Err(error) = self.watch().follow(&url) {
            return Box::pin(async move { Err(error) });
        }
        let meta = self.meta(RequestKind::Result, &url);
        let fetch = fetch_result(Arc::clone(self.transport()), url, meta);
        let Some(cutoff) = self.cutoff() else {
            return Box::pin(async move { fetch.await.map(Some) });
        };
        let deadline = self.clock().timeout(cutoff);
        let late = self.deadline_error();
        Box::pin(async move {
            let fetch = std::pin::pin!(fetch);
            match futures::future::select(fetch, deadline).await {
                futures::future::Either::Left((body, _)) => body.map(Some),
                futures::future::Either::Right(_) => Err(late),
            }
        })
    }
}

pub(super) async fn fetch_result(
    transport: Arc<dyn Transport>,
    url: Url,
    meta: RequestMeta,
) -> Result<Bytes, Error> {
    let mut request = crate::protocol::get_json(&url);
    request.extensions_mut().insert(meta);
    let response = transport.send(request).await.map_err(|source| {
        Error::Request(Box::new(RequestError::transport(
            RequestKind::Result,
            redact(&url),
            source,
        )))
    })?;
    let code = response.status();
    if code.is_client_error() || code.is_server_error() {
        return Err(Error::Request(Box::new(RequestError::answer(
            RequestKind::Result,
            redact(&url),
            code,
            response.body(),
        ))));
    }
    Ok(response.into_body())
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
