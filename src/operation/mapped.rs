//! Typed operations: an [`Operation`] whose statuses, errors and end are the
//! caller's own types.
//!
//! SDK authors expose operations with their own progress, result and error
//! types. [`Operation::map_outcome`], [`Operation::map_status`] and
//! [`Operation::map_err`] turn an operation into a [`Mapped`]: still a
//! [`Stream`] of (mapped) status reports, and a future of whatever the
//! mappings make of the [`Outcome`]. The mappings compose (an outcome
//! mapping may be asynchronous: [`Mapped::then`]), and the operation stays
//! reachable for its resume token and a cancel.
//!
//! `Mapped` is the SDK's own operation type: name it with a type alias
//! (`pub type CopyOperation = Mapped<Item, CopyError, Progress, CopyError>;`)
//! and it is a `Stream` of the SDK's progress, a future of its result, with
//! `resume_token` and `cancel` — nothing to forward by hand. A generic
//! wrapper rather than a macro: one implementation, documented once, that
//! every SDK shares; a macro would paste the same forwarding code (and its
//! docs) into every SDK, each copy to keep in step with this crate.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::Stream;

use super::cancel::CancelFuture;
use super::core::Operation;
use super::outcome::Outcome;
use crate::error::Error;
use crate::resume::ResumeToken;
use crate::status::AsyncJobStatus;

type ItemMap<S, SE> = Box<dyn FnMut(Result<AsyncJobStatus, Error>) -> Result<S, SE> + Send>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type OutcomeMap<T, E> = Box<dyn FnOnce(Result<Outcome, Error>) -> BoxFuture<Result<T, E>> + Send>;

/// An [`Operation`] with mappings: a [`Stream`] of `Result<S, SE>` (each
/// status mapped by [`map_status`](Self::map_status), each error by
/// [`map_err`](Self::map_err)) and, awaited, a `Result<T, E>` (the outcome
/// mapped by [`map_outcome`](Self::map_outcome) and `map_err`).
pub struct Mapped<T, E, S = AsyncJobStatus, SE = Error> {
    operation: Operation,
    items: ItemMap<S, SE>,
    outcome: OutcomeMap<T, E>,
}

impl<T, E, S, SE> fmt::Debug for Mapped<T, E, S, SE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mapped")
            .field("operation", &self.operation)
            .finish_non_exhaustive()
    }
}

impl Operation {
    /// Maps the operation's outcome to your own result and error types.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use lro_poller::Operation;
    /// use lro_poller::testing::{ScriptedTransport, VirtualTimer};
    ///
    /// #[derive(Debug, serde::Deserialize)]
    /// struct Item { id: String }
    /// #[derive(Debug)]
    /// enum MyError { Service(String), Other(lro_poller::Error), Shape(serde_json::Error) }
    ///
    /// let transport = ScriptedTransport::new()
    ///     .with_json(200, r#"{"id":"01NEW","name":"copy"}"#);
    /// let request = http::Request::post("https://api.example/items/1/copy")
    ///     .body(bytes::Bytes::new()).unwrap();
    /// let copy = Operation::start(transport, request)
    ///     .with_timer(VirtualTimer::new())
    ///     .build().unwrap()
    ///     .map_outcome(|outcome| match outcome {
    ///         Ok(outcome) => outcome.json::<Item>().map_err(MyError::Shape),
    ///         Err(error) => match error.job_status() {
    ///             Some(status) => Err(MyError::Service(status.failure_summary().unwrap_or_default())),
    ///             None => Err(MyError::Other(error)),
    ///         },
    ///     });
    /// let item = futures::executor::block_on(copy.into_future()).unwrap();
    /// assert_eq!(item.id, "01NEW");
    /// # }
    /// ```
    pub fn map_outcome<T, E, F>(self, map: F) -> Mapped<T, E>
    where
        T: Send + 'static,
        E: Send + 'static,
        F: FnOnce(Result<Outcome, Error>) -> Result<T, E> + Send + 'static,
    {
        Mapped {
            operation: self,
            items: Box::new(|item| item),
            outcome: Box::new(move |end| {
                let mapped = map(end);
                Box::pin(async move { mapped })
            }),
        }
    }

    /// Maps each status the stream yields to your own progress type; the
    /// outcome is unchanged.
    pub fn map_status<S, F>(self, map: F) -> Mapped<Outcome, Error, S>
    where
        F: FnMut(AsyncJobStatus) -> S + Send + 'static,
    {
        self.map_outcome(|outcome| outcome).map_status(map)
    }

    /// Maps every error — the stream's and the outcome's — to your own error
    /// type.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use futures::StreamExt;
    /// use lro_poller::Operation;
    /// use lro_poller::testing::{ScriptedTransport, VirtualTimer};
    ///
    /// #[derive(Debug, PartialEq)]
    /// enum CopyError { Failed(String), Other(String) }
    /// #[derive(Debug, PartialEq)]
    /// struct Percent(f64);
    ///
    /// let transport = ScriptedTransport::new()
    ///     .with_json(202, r#"{"status":"inProgress","percentageComplete":40}"#)
    ///     .with_json(200, r#"{"status":"failed","error":{"code":"quotaLimitReached"}}"#);
    /// let mut copy = Operation::monitor(transport, "https://api.example/monitor/1")
    ///     .with_timer(VirtualTimer::new())
    ///     .build().unwrap()
    ///     .map_status(|status| Percent(status.percentage_complete.unwrap_or(0.0)))
    ///     .map_err(|error| match error.job_status() {
    ///         Some(status) => CopyError::Failed(status.failure_summary().unwrap_or_default()),
    ///         None => CopyError::Other(error.to_string()),
    ///     });
    /// futures::executor::block_on(async {
    ///     assert_eq!(copy.next().await, Some(Ok(Percent(40.0))));
    ///     assert!(copy.resume_token().is_some());
    ///     assert_eq!(copy.next().await, Some(Ok(Percent(0.0)))); // the failed status
    ///     assert_eq!(copy.next().await, None);
    ///     assert_eq!(copy.await.unwrap_err(), CopyError::Failed("quotaLimitReached".into()));
    /// });
    /// # }
    /// ```
    pub fn map_err<E, F>(self, map: F) -> Mapped<Outcome, E, AsyncJobStatus, E>
    where
        E: Send + 'static,
        F: Fn(Error) -> E + Send + Sync + 'static,
    {
        self.map_outcome(|outcome| outcome).map_err(map)
    }
}

impl<T: Send + 'static, E: Send + 'static, S: 'static, SE: 'static> Mapped<T, E, S, SE> {
    /// Maps the (already mapped) outcome again.
    pub fn map_outcome<T2, E2, F>(self, map: F) -> Mapped<T2, E2, S, SE>
    where
        T2: Send + 'static,
        E2: Send + 'static,
        F: FnOnce(Result<T, E>) -> Result<T2, E2> + Send + 'static,
    {
        self.then(move |end| {
            let mapped = map(end);
            async move { mapped }
        })
    }

    /// Maps the (already mapped) outcome with a future: fetch the item the
    /// job made, look something up, with the SDK's own client. Runs once,
    /// when the operation is awaited.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use lro_poller::Operation;
    /// use lro_poller::testing::{ScriptedTransport, VirtualTimer};
    ///
    /// let transport = ScriptedTransport::new()
    ///     .with_json(200, r#"{"status":"completed","resourceId":"01NEW"}"#);
    /// let copy = Operation::monitor(transport, "https://api.example/monitor/1")
    ///     .with_timer(VirtualTimer::new())
    ///     .build().unwrap()
    ///     .map_outcome(|end| end.map(|outcome| outcome.resource_id().unwrap_or_default().to_owned()))
    ///     .then(|id| async move {
    ///         // e.g. `client.get_item(&id?).await`
    ///         id.map(|id| format!("item {id}"))
    ///     });
    /// let item = futures::executor::block_on(std::future::IntoFuture::into_future(copy));
    /// assert_eq!(item.unwrap(), "item 01NEW");
    /// # }
    /// ```
    pub fn then<T2, E2, F, Fut>(self, map: F) -> Mapped<T2, E2, S, SE>
    where
        F: FnOnce(Result<T, E>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T2, E2>> + Send + 'static,
    {
        let Mapped {
            operation,
            items,
            outcome,
        } = self;
        Mapped {
            operation,
            items,
            outcome: Box::new(move |end| {
                let before = outcome(end);
                Box::pin(async move { map(before.await).await })
            }),
        }
    }

    /// Maps each (already mapped) status the stream yields.
    pub fn map_status<S2, F>(self, mut map: F) -> Mapped<T, E, S2, SE>
    where
        F: FnMut(S) -> S2 + Send + 'static,
    {
        let Mapped {
            operation,
            mut items,
            outcome,
        } = self;
        Mapped {
            operation,
            items: Box::new(move |item| items(item).map(&mut map)),
            outcome,
        }
    }
}

impl<T: Send + 'static, E: Send + 'static, S: 'static> Mapped<T, E, S, E> {
    /// Maps every error — the stream's and the outcome's — again.
    pub fn map_err<E2, F>(self, map: F) -> Mapped<T, E2, S, E2>
    where
        E2: Send + 'static,
        F: Fn(E) -> E2 + Send + Sync + 'static,
    {
        let Mapped {
            operation,
            mut items,
            outcome,
        } = self;
        let map = Arc::new(map);
        let for_items = Arc::clone(&map);
        Mapped {
            operation,
            items: Box::new(move |item| items(item).map_err(|e| for_items(e))),
            outcome: Box::new(move |end| {
                let before = outcome(end);
                Box::pin(async move { before.await.map_err(|e| map(e)) })
            }),
        }
    }
}

impl<T, E, S, SE> Mapped<T, E, S, SE> {
    /// The operation inside (its monitor, its last status, its poll count).
    pub fn operation(&self) -> &Operation {
        &self.operation
    }

    /// A token to go on with the operation later ([`Operation::resume_token`]).
    pub fn resume_token(&self) -> Option<ResumeToken> {
        self.operation.resume_token()
    }

    /// Asks the service to cancel the job ([`Operation::cancel`]).
    pub fn cancel(&self) -> CancelFuture {
        self.operation.cancel()
    }
}

impl<T, E, S, SE> Stream for Mapped<T, E, S, SE> {
    type Item = Result<S, SE>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        Pin::new(&mut this.operation)
            .poll_next(cx)
            .map(|item| item.map(&mut this.items))
    }
}

impl<T, E, S, SE> futures::stream::FusedStream for Mapped<T, E, S, SE> {
    fn is_terminated(&self) -> bool {
        self.operation.is_done()
    }
}

impl<T: Send + 'static, E: Send + 'static, S, SE> IntoFuture for Mapped<T, E, S, SE> {
    type Output = Result<T, E>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        let Mapped {
            operation, outcome, ..
        } = self;
        Box::pin(async move { outcome(operation.outcome().await).await })
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;
    use futures::executor::block_on;

    use super::*;
    use crate::testing::{ScriptedTransport, VirtualTimer};

    fn operation(transport: &ScriptedTransport) -> Operation {
        Operation::monitor(
            transport.clone(),
            "https://api.example/monitor/1?sig=secret",
        )
        .with_timer(VirtualTimer::new())
        .build()
        .unwrap()
    }

    #[test]
    fn mappings_compose_and_the_operation_stays_within_reach() {
        let transport = ScriptedTransport::new()
            .with_json(202, r#"{"status":"inProgress","percentageComplete":10}"#)
            .with_json(200, r#"{"status":"completed","resourceId":"01X"}"#);
        let mut mapped = operation(&transport)
            .map_status(|s| s.percentage_complete)
            .map_status(|p| p.map(|p| p as u32))
            .map_outcome(|end| end.map(|o| o.resource_id().map(str::to_owned)))
            .map_outcome(|end| end.map(|id| id.unwrap_or_default().len()));
        assert_eq!(block_on(mapped.next()).unwrap().unwrap(), Some(10));
        let token = mapped.resume_token().expect("a token while running");
        assert_eq!(token.polls, 1);
        assert_eq!(mapped.operation().polls(), 1);
        let shown = format!("{mapped:?}");
        assert!(
            shown.starts_with("Mapped") && !shown.contains("secret"),
            "{shown}"
        );
        assert!(!futures::stream::FusedStream::is_terminated(&mapped));
        assert_eq!(block_on(mapped.next()).unwrap().unwrap(), None);
        assert!(futures::stream::FusedStream::is_terminated(&mapped));
        assert_eq!(block_on(IntoFuture::into_future(mapped)).unwrap(), 3);
    }

    #[test]
    fn map_err_maps_the_stream_and_the_outcome_and_cancel_goes_through() {
        let transport = ScriptedTransport::new().with_json(503, "{}");
        transport.push_response(404, &[], "");
        let mut mapped = operation(&transport)
            .map_err(|e| format!("E:{}", e.http_status().map_or(0, |s| s.as_u16())))
            .map_err(|e| e.len());
        let error = block_on(mapped.next()).unwrap().unwrap_err();
        assert_eq!(error, "E:404".len());
        // The monitor reader has no cancel: the crate's own typed error.
        let cancel = block_on(mapped.cancel()).unwrap_err();
        assert!(
            matches!(cancel, Error::CancelUnsupported { .. }),
            "{cancel:?}"
        );
    }
}
