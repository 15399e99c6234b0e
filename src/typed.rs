//! Typed operations: an [`Operation`] whose end is the caller's own type.
//!
//! SDK authors expose operations with their own result and error types.
//! [`Operation::map_outcome`] turns an operation into a [`Mapped`]: still a
//! [`Stream`] of status reports (for progress), and a future of whatever the
//! mapping makes of the [`Outcome`]. Wrap it in a type of your own to keep
//! this crate out of your public API (see `examples/sdk_embedding.rs`).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;

use crate::error::Error;
use crate::operation::{Operation, Outcome};
use crate::status::AsyncJobStatus;

type MapFn<T, E> = Box<dyn FnOnce(Result<Outcome, Error>) -> Result<T, E> + Send>;

/// An [`Operation`] with a mapping of its outcome; see [`Operation::map_outcome`].
pub struct Mapped<T, E> {
    operation: Operation,
    map: MapFn<T, E>,
}

impl<T, E> fmt::Debug for Mapped<T, E> {
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
    /// enum MyError { Service(String), Other(lro_poller::Error) }
    ///
    /// let transport = ScriptedTransport::new()
    ///     .with_json(200, r#"{"id":"01NEW","name":"copy"}"#);
    /// let request = http::Request::post("https://api.example/items/1/copy")
    ///     .body(bytes::Bytes::new()).unwrap();
    /// let copy = Operation::start(transport, request)
    ///     .with_timer(VirtualTimer::new())
    ///     .build().unwrap()
    ///     .map_outcome(|outcome| match outcome {
    ///         Ok(outcome) => outcome.json::<Item>().map_err(MyError::Other),
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
        F: FnOnce(Result<Outcome, Error>) -> Result<T, E> + Send + 'static,
    {
        Mapped {
            operation: self,
            map: Box::new(map),
        }
    }
}

impl<T, E> Mapped<T, E> {
    /// The operation inside (for its resume token, its monitor, a cancel).
    pub fn operation(&self) -> &Operation {
        &self.operation
    }
}

impl<T, E> Stream for Mapped<T, E> {
    type Item = Result<AsyncJobStatus, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.get_mut().operation).poll_next(cx)
    }
}

impl<T, E> futures::stream::FusedStream for Mapped<T, E> {
    fn is_terminated(&self) -> bool {
        self.operation.is_done()
    }
}

impl<T: Send + 'static, E: Send + 'static> IntoFuture for Mapped<T, E> {
    type Output = Result<T, E>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        let Mapped { operation, map } = self;
        Box::pin(async move { map(operation.outcome().await) })
    }
}
