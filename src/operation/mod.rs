//! The state machine: poll a monitor until the job ends.
//!
//! An [`Operation`] is a [`Stream`] of status reports and, through
//! [`IntoFuture`], a future of the final [`Outcome`]. It is lazy: nothing is
//! sent until it is polled. Its states are *idle* (nothing sent yet),
//! *requesting* (a poll in flight), *sleeping* (waiting for the next poll) and
//! *done*. Each status is yielded the moment it is read; the sleep comes after.
//! After a terminal status the stream ends and no request is ever sent again.
//! Dropping the operation drops the request in flight and the sleep: polling
//! stops at once.

mod builder;
mod cancel;
mod machine;
mod outcome;
mod start;
#[cfg(test)]
mod tests;

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::Stream;
use url::Url;

use crate::answer::Answer;
use crate::error::{Error, HttpError, TransportError};
use crate::origin::{UrlPolicy, redact, same_origin};
use crate::policy::{
    Decision, ErrorPolicy, FailureClass, Pacer, PollContext, PollPolicy, RetryAfterMode,
};
use crate::protocol::{
    FinalStateVia, Interpretation, Protocol, ProtocolKind, Reading, ResultSource,
};
use crate::resume::{ResumeToken, SavedRequest, to_ms};
use crate::status::AsyncJobStatus;
use crate::timer::{Sleep, Timer, default_timer};
use crate::transport::{RequestKind, RequestMeta, Transport};

use machine::{InFlight, elapsed};
use outcome::NO_OUTCOME;
use start::{PendingStart, StartSetup};

pub use builder::OperationBuilder;
pub use cancel::CancelFuture;
pub use machine::LAST_POLL_GRACE;
pub use outcome::{Outcome, OutcomeFuture};

/// A long-running operation being polled.
///
/// Build one with [`Operation::start`], [`Operation::monitor`] or
/// [`Operation::resume`]. Use it as a [`Stream`] to see every status as it
/// arrives, or `.await` it for the [`Outcome`] — or both: drain the stream,
/// then call [`Operation::outcome`]. (With `futures::StreamExt` in scope,
/// `operation.into_future()` is ambiguous; write `.await` or `outcome()`.)
///
/// **Dropping an operation stops polling at once**: the request in flight
/// and the sleep are dropped with it, and nothing more is sent. The job
/// itself goes on at the service; keep a [`ResumeToken`] to come back to it,
/// or call [`Operation::cancel`] to ask the service to stop it.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use futures::StreamExt;
/// use lro_poller::{JobState, Operation};
/// use lro_poller::testing::{ScriptedTransport, VirtualTimer};
///
/// let transport = ScriptedTransport::new()
///     .with_json(202, r#"{"status":"inProgress","percentageComplete":27.8}"#)
///     .with_json(303, r#"{"status":"completed","resourceId":"01MOW"}"#);
/// let mut operation = Operation::monitor(transport, "https://api.example/monitor/1")
///     .with_timer(VirtualTimer::new())
///     .build()
///     .unwrap();
/// futures::executor::block_on(async {
///     while let Some(status) = operation.next().await {
///         println!("{:?}", status.unwrap().percentage_complete);
///     }
///     let outcome = operation.outcome().await.unwrap();
///     assert_eq!(outcome.resource_id(), Some("01MOW"));
/// });
/// # }
/// ```
pub struct Operation {
    transport: Arc<dyn Transport>,
    protocol: Box<dyn Protocol>,
    timer: Arc<dyn Timer>,
    /// The polling policy (shared) and this operation's backoff state.
    pacer: Pacer,
    /// `None`: the default policy (shared, no allocation).
    errors: Option<Box<ErrorPolicy>>,
    /// What only some operations need (`None` for most: no allocation).
    extra: Option<Box<Extra>>,
    monitor: Url,
    /// `None`: the default policy (no allocation).
    urls: Option<Box<UrlPolicy>>,
    url_changes: u32,
    /// The marker of poll requests (recomputed when the monitor moves).
    poll_meta: RequestMeta,
    started: Instant,
    carried: Duration,
    polls: u32,
    failures: u32,
    previous_delay: Option<Duration>,
    last_status: Option<AsyncJobStatus>,
    start: Option<Box<PendingStart>>,
    /// This operation sends the request that starts the job.
    from_job_start: bool,
    state: State,
    end: Option<Box<End>>,
    #[cfg(feature = "tracing")]
    span: tracing::Span,
}

/// What only some operations keep, out of line.
#[derive(Default)]
struct Extra {
    /// The start request's URL, kept once the monitor URL differs from it
    /// (until then it is the monitor).
    origin: Option<Url>,
    /// The request each poll re-sends ([`crate::protocol::Start::resend`]).
    resend: Option<http::Request<Bytes>>,
}

enum State {
    Idle,
    Starting {
        flight: InFlight,
        setup: Box<StartSetup>,
    },
    Requesting(InFlight),
    Sleeping(Sleep),
    Failing(Box<Error>),
    Done,
}

enum End {
    Succeeded(Box<Success>),
    Failed(Error),
}

struct Success {
    location: Option<Url>,
    result: ResultSource,
}

// `Operation` and its future are `Send`: a compile-time proof.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<Operation>();
    assert_send::<OutcomeFuture>();
};

/// Sets up an [`Operation`].
impl Operation {
    /// A token to go on with this operation later or elsewhere
    /// ([`Operation::resume`]). `None` while the start request has not been
    /// answered, and for a protocol of your own that does not say how to save
    /// itself ([`Protocol::save`]).
    ///
    /// The token can hold a secret (the monitor URL's query); see
    /// [`ResumeToken`].
    pub fn resume_token(&self) -> Option<ResumeToken> {
        if self.start.is_some() || matches!(self.state, State::Starting { .. }) {
            return None;
        }
        let mut token = ResumeToken::new(self.protocol.save()?, self.monitor.clone());
        token.origin = self.origin().to_string();
        token.request = self
            .extra
            .as_ref()
            .and_then(|extra| extra.resend.as_ref())
            .map(SavedRequest::from_request);
        let now = self.timer.wall_clock();
        token.started_at_ms = to_ms(now.checked_sub(self.elapsed()).unwrap_or(now));
        token.polls = self.polls;
        Some(token)
    }

    /// The URL polled now. It can hold a credential in its query: do not log
    /// it (use [`crate::redact`]).
    pub fn monitor_url(&self) -> &Url {
        &self.monitor
    }

    /// Polls sent so far (including failed ones).
    pub fn polls(&self) -> u32 {
        self.polls
    }

    /// Time since the operation started, on its timer.
    pub fn elapsed(&self) -> Duration {
        elapsed(&*self.timer, self.started, self.carried)
    }

    /// The last status read, if any.
    pub fn last_status(&self) -> Option<&AsyncJobStatus> {
        self.last_status.as_ref()
    }

    /// The protocol's name.
    pub fn protocol(&self) -> &'static str {
        self.protocol.name()
    }

    /// Whether the stream has ended (a terminal status or an error).
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }
}

impl Stream for Operation {
    type Item = Result<AsyncJobStatus, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        Poll::Ready(match ready!(this.poll_report(cx)) {
            Some(Ok(())) => match &mut this.last_status {
                Some(status) => {
                    let yielded = status.clone();
                    status.release_answer();
                    Some(Ok(yielded))
                }
                None => Some(Err(Error::Config(NO_OUTCOME.into()))),
            },
            Some(Err(error)) => Some(Err(error)),
            None => None,
        })
    }
}

impl futures::stream::FusedStream for Operation {
    fn is_terminated(&self) -> bool {
        self.is_done()
    }
}

impl IntoFuture for Operation {
    type Output = Result<Outcome, Error>;
    type IntoFuture = OutcomeFuture;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.outcome())
    }
}

impl fmt::Debug for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Idle => "idle",
            State::Starting { .. } => "starting",
            State::Requesting(_) => "requesting",
            State::Sleeping(_) => "sleeping",
            State::Failing(_) => "failing",
            State::Done => "done",
        };
        f.debug_struct("Operation")
            .field("protocol", &self.protocol.name())
            .field("monitor", &redact(&self.monitor))
            .field("state", &state)
            .field("polls", &self.polls)
            .field("last_status", &self.last_status)
            .finish_non_exhaustive()
    }
}
