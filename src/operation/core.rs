//! The operation itself: its state, what it keeps, what it shows, and the
//! stream of its statuses.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, SystemTime};

use futures::Stream;
use url::Url;

use crate::error::Error;
use crate::origin::redact;
use crate::protocol::{Protocol, ResultSource};
use crate::resume::{ResumeToken, SavedRequest, from_ms, to_ms};
use crate::status::AsyncJobStatus;
use crate::timer::Sleep;
use crate::transport::Transport;

use super::checkpoint::{Saving, Store};
use super::clock::Clock;
use super::flight::InFlight;
use super::monitor::Monitor;
use super::retry::RetryHook;
use super::schedule::Schedule;
use super::start_request::{PendingStart, StartSetup};

/// The message of an operation that ended without recording how.
pub(super) const NO_OUTCOME: &str = "the operation ended without an outcome";

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
    transport: Arc<dyn Transport>,
    protocol: Box<dyn Protocol>,
    clock: Clock,
    schedule: Schedule,
    monitor: Monitor,
    /// The start request, not sent yet (or to be sent again).
    start: Option<Box<PendingStart>>,
    state: State,
    last_status: Option<AsyncJobStatus>,
    end: Option<Box<End>>,
    /// The caller's callback for each retry.
    on_retry: Option<RetryHook>,
    /// Where every new token goes.
    checkpoint: Option<Store>,
    #[cfg(feature = "tracing")]
    span: tracing::Span,
}

/// Where the state machine is.
pub(super) enum State {
    Idle,
    Starting {
        flight: InFlight,
        setup: Box<StartSetup>,
    },
    Requesting(InFlight),
    Sleeping(Sleep),
    /// The newest token is being saved; then the operation goes on in
    /// `then` (yielding the status first, if `yield_status`).
    Saving {
        save: Saving,
        then: Box<State>,
        yield_status: bool,
    },
    Failing(Box<Error>),
    Done,
}

/// How the operation ended.
pub(super) enum End {
    Succeeded {
        location: Option<Url>,
        result: ResultSource,
    },
    Failed(Error),
}

/// The operation's parts, for the files that drive them (each part keeps its
/// own fields; the operation only holds them).
impl Operation {
    /// An operation made of these parts, idle.
    pub(super) fn assemble(
        transport: Arc<dyn Transport>,
        protocol: Box<dyn Protocol>,
        clock: Clock,
        schedule: Schedule,
        monitor: Monitor,
        start: Option<Box<PendingStart>>,
    ) -> Operation {
        #[cfg(feature = "tracing")]
        let span = tracing::info_span!(
            "lro.operation",
            protocol = protocol.name(),
            monitor = %redact(monitor.url()),
        );
        Operation {
            transport,
            protocol,
            clock,
            schedule,
            monitor,
            start,
            state: State::Idle,
            last_status: None,
            end: None,
            on_retry: None,
            checkpoint: None,
            #[cfg(feature = "tracing")]
            span,
        }
    }

    pub(super) fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    /// The protocol itself (its name is [`Operation::protocol`]).
    pub(super) fn family(&self) -> &dyn Protocol {
        &*self.protocol
    }

    pub(super) fn set_family(&mut self, protocol: Box<dyn Protocol>) {
        self.protocol = protocol;
    }

    pub(super) fn clock(&self) -> &Clock {
        &self.clock
    }

    pub(super) fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    pub(super) fn schedule_mut(&mut self) -> &mut Schedule {
        &mut self.schedule
    }

    /// The monitor part.
    pub(super) fn watch(&self) -> &Monitor {
        &self.monitor
    }

    /// The monitor part and the protocol (which marks its requests).
    pub(super) fn watch_mut(&mut self) -> (&mut Monitor, &dyn Protocol) {
        (&mut self.monitor, &*self.protocol)
    }

    pub(super) fn pending_start(&self) -> Option<&PendingStart> {
        self.start.as_deref()
    }

    pub(super) fn take_start(&mut self) -> Option<Box<PendingStart>> {
        self.start.take()
    }

    pub(super) fn set_start(&mut self, start: Box<PendingStart>) {
        self.start = Some(start);
    }

    /// The state, with what racing a request against the deadline needs.
    pub(super) fn flight_parts(&mut self) -> (&mut State, &Clock, Option<Duration>) {
        let deadline = self.schedule.policy().deadline();
        (&mut self.state, &self.clock, deadline)
    }

    pub(super) fn state(&self) -> &State {
        &self.state
    }

    pub(super) fn state_mut(&mut self) -> &mut State {
        &mut self.state
    }

    pub(super) fn checkpoint(&self) -> Option<&Store> {
        self.checkpoint.as_ref()
    }

    pub(super) fn set_checkpoint(&mut self, store: Option<Store>) {
        self.checkpoint = store;
    }

    pub(super) fn set_state(&mut self, state: State) -> State {
        std::mem::replace(&mut self.state, state)
    }

    pub(super) fn last_status_mut(&mut self) -> &mut Option<AsyncJobStatus> {
        &mut self.last_status
    }

    pub(super) fn set_end(&mut self, end: End) {
        self.end = Some(Box::new(end));
    }

    pub(super) fn take_end(&mut self) -> Option<End> {
        self.end.take().map(|end| *end)
    }

    /// The caller's callback for each retry.
    pub(super) fn retry_hook(&self) -> Option<&RetryHook> {
        self.on_retry.as_ref()
    }

    pub(super) fn set_retry_hook(&mut self, hook: Option<RetryHook>) {
        self.on_retry = hook;
    }

    #[cfg(feature = "tracing")]
    pub(super) fn span(&self) -> &tracing::Span {
        &self.span
    }
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
        let mut token = ResumeToken::new(self.protocol.save()?, self.monitor.url().clone());
        token.origin = self.monitor.origin().to_string();
        token.request = self.monitor.resend().map(SavedRequest::from_request);
        let now = self.clock.wall_clock();
        let started = now.checked_sub(self.elapsed()).unwrap_or(now);
        token.started_at_ms = to_ms(started);
        token.polls = self.schedule.polls();
        let from = from_ms(token.started_at_ms);
        let behind = started.duration_since(from).unwrap_or_default();
        let (schedule, due) = self.schedule.save(from, behind);
        token.schedule = Some(schedule);
        token.next_poll_at_ms = due;
        Some(token)
    }

    /// When the next poll is due, on the wall clock, while the operation
    /// waits for it (after a status that is not the last, or a failure it
    /// retries; for a resumed operation not yet polled, the token's due
    /// time); `None` while a request is in flight, before a new operation's
    /// first decision and after the end.
    ///
    /// A caller that polls once per wake-up (a job queue, a cron, a
    /// serverless function) takes one status, stores the
    /// [token](Operation::resume_token) (which records the same due time),
    /// drops the operation, and comes back then: the resumed operation waits
    /// until the due time itself, so coming back early costs nothing but the
    /// wait. See `examples/one_poll_per_wakeup.rs`.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::{Duration, SystemTime};
    /// use futures::StreamExt;
    /// use lro_poller::Operation;
    /// use lro_poller::policy::{ConstantBuilder, PollPolicy};
    /// use lro_poller::testing::{ScriptedTransport, VirtualTimer};
    ///
    /// let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    /// let transport = ScriptedTransport::new()
    ///     .with_json(202, r#"{"status":"inProgress"}"#)
    ///     .with_json(200, r#"{"status":"completed"}"#);
    /// let mut operation = Operation::monitor(transport, "https://api.example/monitor/1")
    ///     .with_policy(PollPolicy::new(ConstantBuilder::new(Duration::from_secs(30))))
    ///     .with_timer(VirtualTimer::with_wall_clock(wall))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(operation.next_poll_at(), None); // nothing decided yet
    /// futures::executor::block_on(operation.next()).unwrap().unwrap();
    /// assert_eq!(operation.next_poll_at(), Some(wall + Duration::from_secs(30)));
    /// futures::executor::block_on(operation.next()).unwrap().unwrap();
    /// assert_eq!(operation.next_poll_at(), None); // completed
    /// # }
    /// ```
    pub fn next_poll_at(&self) -> Option<SystemTime> {
        if matches!(self.state, State::Done | State::Failing(_)) {
            return None;
        }
        let wait = self.schedule.due()?.saturating_sub(self.elapsed());
        self.clock.wall_clock().checked_add(wait)
    }

    /// The URL polled now. It can hold a credential in its query: do not log
    /// it.
    pub fn monitor_url(&self) -> &Url {
        self.monitor.url()
    }

    /// Polls sent so far (including failed ones).
    pub fn polls(&self) -> u32 {
        self.schedule.polls()
    }

    /// Time since the operation started, on its timer.
    pub fn elapsed(&self) -> Duration {
        self.clock.elapsed()
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
            State::Saving { .. } => "saving",
            State::Failing(_) => "failing",
            State::Done => "done",
        };
        f.debug_struct("Operation")
            .field("protocol", &self.protocol.name())
            .field("monitor", &redact(self.monitor.url()))
            .field("state", &state)
            .field("polls", &self.schedule.polls())
            .field("last_status", &self.last_status)
            .finish_non_exhaustive()
    }
}
