//! A request on its way, raced against the deadline, and the clock reading
//! it needs.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;

use crate::timer::{Sleep, Timer};
use crate::transport::{Transport, TransportError};

/// How long the poll sent exactly at the deadline may take before it is cut.
pub(crate) const LAST_POLL_GRACE: Duration = Duration::from_secs(10);

type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, TransportError>> + Send>>;

/// How long a request sent `elapsed` into an operation may take: until the
/// deadline, or [`LAST_POLL_GRACE`] for the poll sent at the deadline.
pub(super) fn cutoff(deadline: Option<Duration>, elapsed: Duration) -> Option<Duration> {
    deadline.map(|deadline| {
        let remaining = deadline.saturating_sub(elapsed);
        if remaining.is_zero() {
            LAST_POLL_GRACE
        } else {
            remaining
        }
    })
}

/// A request on its way, raced against the deadline.
pub(super) struct InFlight {
    response: ResponseFuture,
    /// The deadline's sleep, made the first time the request is pending.
    deadline: Option<Sleep>,
}

impl InFlight {
    /// `request` sent over `transport`, not yet raced against anything.
    pub(super) fn send(transport: &Arc<dyn Transport>, request: http::Request<Bytes>) -> Self {
        let transport = Arc::clone(transport);
        InFlight {
            response: Box::pin(async move { (*transport).send(request).await }),
            deadline: None,
        }
    }

    /// The answer, or `Ready(None)` when the deadline came first. `cutoff` is
    /// how long the request may take (see [`Operation::cutoff`]); it is read
    /// the first time the request is pending, right after it was sent.
    pub(super) fn poll(
        &mut self,
        timer: &dyn Timer,
        cutoff: impl FnOnce() -> Option<Duration>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http::Response<Bytes>, TransportError>>> {
        if let Poll::Ready(answer) = self.response.as_mut().poll(cx) {
            return Poll::Ready(Some(answer));
        }
        let sleep = match &mut self.deadline {
            Some(sleep) => sleep,
            slot @ None => match cutoff() {
                Some(cutoff) => slot.insert(timer.timeout(cutoff)),
                None => return Poll::Pending,
            },
        };
        ready!(sleep.as_mut().poll(cx));
        Poll::Ready(None)
    }
}
