//! The operation itself: its state, what it keeps, what it shows, and the
//! stream of its statuses.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::Stream;
use url::Url;

use crate::error::Error;
use crate::origin::{UrlPolicy, redact};
use crate::policy::{ErrorPolicy, Pacer};
use crate::protocol::{Protocol, ResultSource};
use crate::resume::{ResumeToken, SavedRequest, to_ms};
use crate::status::AsyncJobStatus;
use crate::timer::{Sleep, Timer};
use crate::transport::{RequestMeta, Transport};

use super::flight::{InFlight, elapsed};
use super::retry_rule::{StartRetry, StartRetryNotice};

/// The message of an operation that ended without recording how.
pub(super) const NO_OUTCOME: &str = "the operation ended without an outcome";

/// The caller's initial request, not sent yet.
pub(super) struct PendingStart {
    pub(super) request: http::Request<Bytes>,
    pub(super) retry: StartRetry,
    /// Why this is a retry, when it is one.
    pub(super) notice: Option<Box<StartRetryNotice>>,
}

/// What reading the start response needs: the request as it was sent.
pub(super) struct StartSetup {
    /// The request as it was sent (the protocol reads it with the answer,
    /// and a retry sends it again).
    pub(super) request: http::Request<Bytes>,
    /// Whether the retry rule allows sending it again.
    pub(super) may_repeat: bool,
    pub(super) retry: StartRetry,
    pub(super) notice: Option<Box<StartRetryNotice>>,
}

/// A long-running operation being polled.
///
/// Build one with [`Operation::start`], [`Operation::monitor`] or
/// [`Operation::resume`]. Use it as a [`Stream`] to see every status as it
/// arrives, or `.await` it for the [`Outcome`](crate::Outcome) — or both: drain the stream,
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
    pub(super) transport: Arc<dyn Transport>,
    pub(super) protocol: Box<dyn Protocol>,
    pub(super) timer: Arc<dyn Timer>,
    /// The polling policy (shared) and this operation's backoff state.
    pub(super) pacer: Pacer,
    /// The start request's URL, kept only once the monitor URL differs from
    /// it (until then it is `monitor`).
    pub(super) origin: Option<Box<Url>>,
    /// What few operations need (`None` for most: no allocation).
    pub(super) extra: Option<Box<Extra>>,
    pub(super) monitor: Url,
    pub(super) url_changes: u32,
    /// The marker of poll requests (recomputed when the monitor moves).
    pub(super) poll_meta: RequestMeta,
    pub(super) started: Instant,
    pub(super) carried: Duration,
    pub(super) polls: u32,
    pub(super) failures: u32,
    pub(super) previous_delay: Option<Duration>,
    pub(super) last_status: Option<AsyncJobStatus>,
    pub(super) start: Option<Box<PendingStart>>,
    /// This operation sends the request that starts the job.
    pub(super) from_job_start: bool,
    pub(super) state: State,
    pub(super) end: Option<Box<End>>,
    #[cfg(feature = "tracing")]
    pub(super) span: tracing::Span,
}

/// What few operations need, out of line: a caller's own error or URL
/// policy, a request to re-send.
#[derive(Default)]
pub(super) struct Extra {
    /// The request each poll re-sends ([`crate::protocol::Next::resend`]).
    pub(super) resend: Option<http::Request<Bytes>>,
    /// `None`: the default error policy (shared).
    pub(super) errors: Option<Box<ErrorPolicy>>,
    /// `None`: the default URL policy (shared).
    pub(super) urls: Option<Box<UrlPolicy>>,
}

pub(super) enum State {
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

pub(super) enum End {
    Succeeded(Box<Success>),
    Failed(Error),
}

pub(super) struct Success {
    pub(super) location: Option<Url>,
    pub(super) result: ResultSource,
}

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
    /// it.
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
                None => Some(Err(crate::protocol::ProtocolError::new(NO_OUTCOME).into())),
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
