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

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::Stream;
use url::Url;

use crate::error::{Error, HttpError, TransportError};
use crate::origin::{UrlPolicy, redact, same_origin};
use crate::policy::{Decision, ErrorPolicy, FailureClass, PollContext, PollPolicy, RetryAfterMode};
use crate::protocol::start::{Choice, Started, detect};
use crate::protocol::{
    Auto, FinalStateVia, Interpretation, Protocol, ProtocolKind, Reading, ResultSource,
};
use crate::resume::{ResumeToken, to_ms};
use crate::status::AsyncJobStatus;
use crate::timer::{Sleep, Timer, default_timer};
use crate::transport::{RequestKind, RequestMeta, Transport};

/// How long the poll sent exactly at the deadline may take before it is cut.
pub const LAST_POLL_GRACE: Duration = Duration::from_secs(10);

type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, TransportError>> + Send>>;

/// The message of an operation that ended without recording how.
const NO_OUTCOME: &str = "the operation ended without an outcome";

type BodyFuture = Pin<Box<dyn Future<Output = Result<Option<Bytes>, Error>> + Send>>;

/// The future of [`Operation::cancel`].
pub type CancelFuture = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// The future of an operation's [`Outcome`] (what `.await` on an
/// [`Operation`] runs).
pub type OutcomeFuture = Pin<Box<dyn Future<Output = Result<Outcome, Error>> + Send>>;

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
    policy: PollPolicy,
    /// `None`: the default policy (shared, no allocation).
    errors: Option<Box<ErrorPolicy>>,
    /// The start request's URL, kept only once the monitor URL differs from
    /// it (until then it is `monitor`).
    origin: Option<Box<Url>>,
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

/// The caller's initial request, not sent yet.
struct PendingStart {
    request: http::Request<Bytes>,
    choice: Choice,
    final_state: Option<FinalStateVia>,
}

/// What reading the start response needs.
struct StartSetup {
    method: http::Method,
    choice: Choice,
    final_state: Option<FinalStateVia>,
}

/// Time since `started` on `timer`, plus what a resumed operation carried.
fn elapsed(timer: &dyn Timer, started: Instant, carried: Duration) -> Duration {
    timer
        .now()
        .saturating_duration_since(started)
        .saturating_add(carried)
}

/// How long a request sent `elapsed` into an operation may take: until the
/// deadline, or [`LAST_POLL_GRACE`] for the poll sent at the deadline.
fn cutoff(deadline: Option<Duration>, elapsed: Duration) -> Option<Duration> {
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
struct InFlight {
    response: ResponseFuture,
    /// The deadline's sleep, made the first time the request is pending.
    deadline: Option<Sleep>,
}

impl InFlight {
    /// The answer, or `Ready(None)` when the deadline came first. `cutoff` is
    /// how long the request may take (see [`Operation::cutoff`]); it is read
    /// the first time the request is pending, right after it was sent.
    fn poll(
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
                Some(cutoff) => slot.insert(timer.sleep(cutoff)),
                None => return Poll::Pending,
            },
        };
        ready!(sleep.as_mut().poll(cx));
        Poll::Ready(None)
    }
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
#[must_use = "call .build() to get the Operation"]
pub struct OperationBuilder {
    transport: Arc<dyn Transport>,
    target: Result<Target, Error>,
    policy: PollPolicy,
    errors: ErrorPolicy,
    timer: Option<Arc<dyn Timer>>,
    protocol: Choice,
    final_state: Option<FinalStateVia>,
    urls: UrlPolicy,
}

enum Target {
    Monitor(Url),
    Start(Box<http::Request<Bytes>>, Url),
    Resume(Box<ResumeToken>),
}

impl Target {
    fn redacted(&self) -> String {
        match self {
            Target::Monitor(url) | Target::Start(_, url) => redact(url),
            Target::Resume(token) => format!("{token:?}"),
        }
    }
}

impl fmt::Debug for OperationBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperationBuilder")
            .field("target", &self.target.as_ref().map(Target::redacted))
            .field("policy", &self.policy)
            .field("errors", &self.errors)
            .field("final_state", &self.final_state)
            .finish_non_exhaustive()
    }
}

impl OperationBuilder {
    fn new(transport: Arc<dyn Transport>, target: Result<Target, Error>) -> Self {
        OperationBuilder {
            transport,
            target,
            policy: PollPolicy::default(),
            errors: ErrorPolicy::default(),
            timer: None,
            protocol: Choice::Kind(ProtocolKind::Auto),
            final_state: None,
            urls: UrlPolicy::default(),
        }
    }

    /// Which server-provided URLs to follow (default: [`UrlPolicy::default`]).
    pub fn with_url_policy(mut self, urls: UrlPolicy) -> Self {
        self.urls = urls;
        self
    }

    /// The polling policy (default: [`PollPolicy::default`]).
    pub fn with_policy(mut self, policy: PollPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The error policy (default: [`ErrorPolicy::default`]).
    pub fn with_error_policy(mut self, errors: ErrorPolicy) -> Self {
        self.errors = errors;
        self
    }

    /// The timer. Required unless the `tokio` or `futures-timer` feature is on.
    pub fn with_timer(mut self, timer: impl Timer + 'static) -> Self {
        self.timer = Some(Arc::new(timer));
        self
    }

    /// A protocol of your own. For a started operation, its monitor is taken
    /// from the start response's `Azure-AsyncOperation`, `Operation-Location`
    /// or (on a `202`) `Location` header.
    pub fn with_protocol(mut self, protocol: impl Protocol + 'static) -> Self {
        self.protocol = Choice::Custom(Box::new(protocol));
        self
    }

    /// The protocol family (default: [`ProtocolKind::Auto`], detected from
    /// the start response; for a monitor URL, see [`crate::protocol::Auto`]).
    pub fn with_protocol_kind(mut self, kind: ProtocolKind) -> Self {
        self.protocol = Choice::Kind(kind);
        self
    }

    /// Where an Azure operation's final result comes from (default: per the
    /// start request's method, see [`FinalStateVia::default_for`]).
    pub fn with_final_state_via(mut self, via: FinalStateVia) -> Self {
        self.final_state = Some(via);
        self
    }

    /// Builds the operation. Its clock starts now; nothing is sent until it is
    /// polled.
    pub fn build(self) -> Result<Operation, Error> {
        let target = self.target?;
        let timer = self.timer.or_else(default_timer).ok_or_else(|| {
            Error::Config(
                "no timer: pass one with `with_timer`, or enable the `tokio` or `futures-timer` feature"
                    .into(),
            )
        })?;
        let mut carried = Duration::ZERO;
        let mut polls = 0;
        let mut origin = None;
        let (monitor, start, protocol): (Url, _, Box<dyn Protocol>) = match target {
            Target::Monitor(url) => {
                let protocol = match self.protocol {
                    Choice::Kind(kind) => kind.for_monitor(&url),
                    Choice::Custom(protocol) => protocol,
                };
                (url, None, protocol)
            }
            Target::Resume(token) => {
                token.validate()?;
                let protocol = token.protocol.to_protocol()?;
                carried = timer
                    .wall_clock()
                    .duration_since(token.started_at())
                    .unwrap_or(Duration::ZERO);
                polls = token.polls;
                origin = Some(token.origin_url()?);
                (token.monitor_url()?, None, protocol)
            }
            Target::Start(request, url) => {
                let start = Box::new(PendingStart {
                    request: *request,
                    choice: self.protocol,
                    final_state: self.final_state,
                });
                // Replaced by the detected protocol once the start answers.
                (url, Some(start), Box::new(Auto))
            }
        };
        let origin = origin.filter(|origin| *origin != monitor).map(Box::new);
        self.urls
            .check(origin.as_deref().unwrap_or(&monitor), &monitor)
            .map_err(|reason| Error::UrlRejected {
                url: redact(&monitor),
                reason,
            })?;
        #[cfg(feature = "tracing")]
        let span = tracing::info_span!(
            "lro.operation",
            protocol = tracing::field::Empty,
            monitor = %redact(&monitor),
        );
        #[cfg(feature = "tracing")]
        span.record("protocol", protocol.name());
        let mut operation = Operation {
            transport: self.transport,
            protocol,
            started: timer.now(),
            carried,
            polls,
            #[cfg(feature = "tracing")]
            span,
            timer,
            policy: self.policy,
            errors: (self.errors != ErrorPolicy::default()).then(|| Box::new(self.errors)),
            origin,
            monitor,
            urls: (self.urls != UrlPolicy::default()).then(|| Box::new(self.urls)),
            url_changes: 0,
            poll_meta: RequestMeta::new(RequestKind::Poll, true, false),
            failures: 0,
            previous_delay: None,
            last_status: None,
            from_job_start: start.is_some(),
            start,
            state: State::Idle,
            end: None,
        };
        operation.poll_meta = operation.meta(RequestKind::Poll, &operation.monitor);
        Ok(operation)
    }
}

fn parse_url(what: &str, url: &str) -> Result<Url, Error> {
    let url = Url::parse(url)
        .map_err(|e| Error::Config(format!("the {what} URL is not a valid absolute URL: {e}")))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(Error::Config(format!(
            "the {what} URL has scheme `{other}`: only http and https are supported"
        ))),
    }
}

/// `Prefer: respond-async`, added to a start request that has no `Prefer`.
const RESPOND_ASYNC: http::HeaderValue = http::HeaderValue::from_static("respond-async");

impl Operation {
    /// An operation that polls `monitor_url`, a monitor the caller already has
    /// (from a `202 Accepted`'s `Location`, say).
    pub fn monitor(
        transport: impl Transport + 'static,
        monitor_url: impl AsRef<str>,
    ) -> OperationBuilder {
        OperationBuilder::new(
            Arc::new(transport),
            parse_url("monitor", monitor_url.as_ref()).map(Target::Monitor),
        )
    }

    /// An operation that begins by sending `request` (with
    /// `Prefer: respond-async` added unless it has a `Prefer` header), then
    /// follows what the answer says: a monitor to poll (`202` with
    /// `Location`, `Operation-Location` or `Azure-AsyncOperation`; a Google
    /// `Operation`; an Azure resource still provisioning) or a result right
    /// away (`200`/`201`/`204`). Nothing is sent until the operation is
    /// polled. The start request is never retried (it may not be idempotent).
    ///
    /// The request's URI must be absolute (`https://host/path`).
    pub fn start(
        transport: impl Transport + 'static,
        mut request: http::Request<Bytes>,
    ) -> OperationBuilder {
        let target = parse_url("start", &request.uri().to_string()).map(|url| {
            if !request.headers().contains_key("prefer") {
                request.headers_mut().insert("prefer", RESPOND_ASYNC);
            }
            Target::Start(Box::new(request), url)
        });
        OperationBuilder::new(Arc::new(transport), target)
    }

    /// An operation that goes on from a [`ResumeToken`] (taken with
    /// [`Operation::resume_token`], perhaps in another process). The token's
    /// protocol is used; set the policies again as you like. The deadline
    /// counts from the operation's original start (on the wall clock), and
    /// the poll count goes on from the token's.
    pub fn resume(transport: impl Transport + 'static, token: ResumeToken) -> OperationBuilder {
        OperationBuilder::new(Arc::new(transport), Ok(Target::Resume(Box::new(token))))
    }

    /// A token to go on with this operation later or elsewhere
    /// ([`Operation::resume`]). `None` while the start request has not been
    /// answered, and for a protocol of your own that does not say how to save
    /// itself ([`Protocol::saved`]).
    ///
    /// The token can hold a secret (the monitor URL's query); see
    /// [`ResumeToken`].
    pub fn resume_token(&self) -> Option<ResumeToken> {
        if self.start.is_some() || matches!(self.state, State::Starting { .. }) {
            return None;
        }
        let mut token = ResumeToken::new(self.protocol.saved()?, self.monitor.clone());
        token.origin = self.origin().to_string();
        let now = self.timer.wall_clock();
        token.started_at_ms = to_ms(now.checked_sub(self.elapsed()).unwrap_or(now));
        token.polls = self.polls;
        Some(token)
    }

    /// Asks the service to cancel the job, where the protocol has a way
    /// (Azure `Operation-Location`: `POST {monitor}:cancel`, then
    /// `DELETE {monitor}`; Google: `POST {operation}:cancel`). For a protocol
    /// without one it returns [`Error::CancelUnsupported`] without sending
    /// anything; a service that answers `404`/`405` to every way gives the
    /// same error with its status.
    ///
    /// Cancelling is a request, not an end: keep polling the operation (or
    /// await it) until the service reports a terminal status — usually
    /// `cancelled`, but the job may also complete first. To stop polling
    /// without asking the service, drop the operation.
    ///
    /// The returned future does not borrow the operation.
    pub fn cancel(&self) -> CancelFuture {
        let protocol = self.protocol.name();
        if self.start.is_some() || matches!(self.state, State::Starting { .. }) {
            return Box::pin(async {
                Err(Error::Config(
                    "the operation has not started yet: there is nothing to cancel".into(),
                ))
            });
        }
        let mut requests = self.protocol.cancel_requests(&self.monitor);
        for request in &mut requests {
            let meta = match Url::parse(&request.uri().to_string()) {
                Ok(url) => self.meta(RequestKind::Cancel, &url),
                Err(_) => RequestMeta::new(RequestKind::Cancel, false, false),
            };
            request.extensions_mut().insert(meta);
        }
        let transport = Arc::clone(&self.transport);
        let url = redact(&self.monitor);
        Box::pin(async move {
            let count = requests.len();
            for (i, request) in requests.into_iter().enumerate() {
                let response =
                    transport
                        .send(request)
                        .await
                        .map_err(|source| Error::Transport {
                            kind: RequestKind::Cancel,
                            attempts: 1,
                            source,
                            resume: None,
                        })?;
                let code = response.status();
                if code.is_success() {
                    return Ok(());
                }
                let unsupported = matches!(code.as_u16(), 404 | 405);
                if unsupported && i + 1 < count {
                    continue;
                }
                if unsupported {
                    return Err(Error::CancelUnsupported {
                        protocol,
                        http_status: Some(code),
                    });
                }
                return Err(Error::Http(Box::new(HttpError::new(
                    code,
                    RequestKind::Cancel,
                    url,
                    response.body(),
                ))));
            }
            Err(Error::CancelUnsupported {
                protocol,
                http_status: None,
            })
        })
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

    /// Drives the operation to its end (whatever of the stream is left) and
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
            {}
            let mut success = match self.end.take().map(|end| *end) {
                Some(End::Succeeded(success)) => success,
                Some(End::Failed(error)) => return Err(error),
                None => return Err(Error::Config(NO_OUTCOME.into())),
            };
            // Only the box lives across the await, not its contents.
            let body = self
                .result_body(std::mem::take(&mut success.result))
                .await?;
            let location = success.location.take();
            let status = self
                .last_status
                .take()
                .ok_or_else(|| Error::Config(NO_OUTCOME.into()))?;
            Ok(Outcome {
                status,
                location,
                body,
                polls: self.polls,
                elapsed: self.elapsed(),
            })
        }
    }

    /// The final result body: none, the one that came with the answer, or a
    /// `GET` raced against the deadline. Boxed, so that the request's future
    /// does not make every awaited operation's future as large as itself.
    fn result_body(&self, source: ResultSource) -> BodyFuture {
        let url = match source {
            ResultSource::Fetch(url) => url,
            ResultSource::Body(body) => return Box::pin(async move { Ok(Some(body)) }),
            _ => return Box::pin(async { Ok(None) }),
        };
        if let Err(error) = self.follow(&url) {
            return Box::pin(async move { Err(error) });
        }
        let meta = self.meta(RequestKind::Result, &url);
        let fetch = fetch_result(Arc::clone(&self.transport), url, meta);
        let Some(cutoff) = self.cutoff() else {
            return Box::pin(async move { fetch.await.map(Some) });
        };
        let deadline = self.timer.sleep(cutoff);
        let late = self.deadline_error();
        Box::pin(async move {
            let fetch = std::pin::pin!(fetch);
            match futures::future::select(fetch, deadline).await {
                futures::future::Either::Left((body, _)) => body.map(Some),
                futures::future::Either::Right(_) => Err(late),
            }
        })
    }

    fn meta(&self, kind: RequestKind, url: &Url) -> RequestMeta {
        RequestMeta::new(
            kind,
            same_origin(self.origin(), url),
            self.protocol.wants_credentials(kind),
        )
    }

    fn send_poll(&mut self) {
        let mut request = self.protocol.poll_request(&self.monitor);
        request.extensions_mut().insert(self.poll_meta);
        self.polls = self.polls.saturating_add(1);
        self.state = State::Requesting(self.in_flight(request));
    }

    /// How long a request sent now may take: until the deadline, or
    /// [`LAST_POLL_GRACE`] for the poll sent at the deadline.
    fn cutoff(&self) -> Option<Duration> {
        cutoff(self.policy.deadline(), self.elapsed())
    }

    fn in_flight(&self, request: http::Request<Bytes>) -> InFlight {
        let transport = Arc::clone(&self.transport);
        InFlight {
            response: Box::pin(async move { (*transport).send(request).await }),
            deadline: None,
        }
    }

    fn send_start(&mut self, start: Box<PendingStart>) {
        let PendingStart {
            mut request,
            choice,
            final_state,
        } = *start;
        request
            .extensions_mut()
            .insert(RequestMeta::new(RequestKind::Start, true, true));
        let method = request.method().clone();
        self.state = State::Starting {
            flight: self.in_flight(request),
            setup: Box::new(StartSetup {
                method,
                choice,
                final_state,
            }),
        };
    }

    /// Reads the start response; returns a status to yield, if any.
    fn on_start(
        &mut self,
        answer: Result<http::Response<Bytes>, TransportError>,
        method: &http::Method,
        choice: Choice,
        final_state: Option<FinalStateVia>,
    ) -> bool {
        let response = match answer {
            Ok(response) => response,
            Err(source) => {
                self.fail(Error::Transport {
                    kind: RequestKind::Start,
                    attempts: 1,
                    source,
                    resume: None,
                });
                return false;
            }
        };
        let code = response.status();
        if code.is_client_error() || code.is_server_error() {
            let error = HttpError::new(
                code,
                RequestKind::Start,
                redact(self.origin()),
                response.body(),
            );
            self.fail(Error::Http(Box::new(error)));
            return false;
        }
        let retry_after = self.retry_after(&response);
        let origin = self.origin().clone();
        match detect(choice, final_state, method, &origin, &response) {
            Err(error) => {
                self.fail(error);
                false
            }
            Ok(Started::Poll {
                protocol,
                monitor,
                status,
            }) => {
                #[cfg(feature = "tracing")]
                {
                    self.span.record("protocol", protocol.name());
                    self.span
                        .record("monitor", tracing::field::display(redact(&monitor)));
                    tracing::debug!(parent: &self.span, retry_after = ?retry_after, "started");
                }
                self.protocol = protocol;
                if let Err(error) = self.follow(&monitor) {
                    self.fail(error);
                    return false;
                }
                self.set_monitor(monitor);
                let has_status = status.is_some();
                if has_status {
                    self.last_status = status;
                }
                self.start_polling(retry_after);
                has_status
            }
            Ok(Started::Done { protocol, reading }) => {
                #[cfg(feature = "tracing")]
                self.span.record("protocol", protocol.name());
                self.protocol = protocol;
                self.on_reading(reading, None);
                true
            }
        }
    }

    fn retry_after(&self, response: &http::Response<Bytes>) -> Option<Duration> {
        match self.policy.retry_after_mode() {
            RetryAfterMode::Ignore => None,
            _ => crate::policy::parse_retry_after_with(response.headers(), || {
                self.timer.wall_clock()
            }),
        }
    }

    /// Records a status report (it is yielded from `last_status`): ends on a
    /// terminal status, else schedules the next poll.
    fn on_reading(&mut self, reading: Interpretation, retry_after: Option<Duration>) {
        self.failures = 0;
        let running = !reading.status.status.is_terminal();
        if let Some(next) = reading.next_monitor.filter(|_| running) {
            self.url_changes = self.url_changes.saturating_add(1);
            let checked = if self.url_changes > self.urls().max_url_changes() {
                Err(Error::UrlRejected {
                    url: redact(&next),
                    reason: format!(
                        "the monitor URL changed more than {} times",
                        self.urls().max_url_changes()
                    ),
                })
            } else {
                self.follow(&next)
            };
            if let Err(error) = checked {
                self.last_status = Some(reading.status);
                self.fail(error);
                return;
            }
            self.set_monitor(next);
        }
        let terminal = reading.status.status.is_terminal();
        if terminal {
            self.end = Some(Box::new(if reading.status.status.is_success() {
                End::Succeeded(Box::new(Success {
                    location: reading.result_location,
                    result: reading.result,
                }))
            } else {
                End::Failed(Error::Failed(Box::new(reading.status.clone())))
            }));
            self.state = State::Done;
        }
        self.last_status = Some(reading.status);
        if !terminal {
            self.schedule(retry_after);
        }
        #[cfg(feature = "tracing")]
        self.trace_reading(retry_after);
    }

    #[cfg(feature = "tracing")]
    fn trace_reading(&self, retry_after: Option<Duration>) {
        let Some(status) = &self.last_status else {
            return;
        };
        let next_delay = match self.state {
            State::Sleeping(_) => self.previous_delay,
            _ => None,
        };
        tracing::debug!(
            parent: &self.span,
            status = %status.status,
            progress = ?status.percentage_complete,
            next_delay = ?next_delay,
            retry_after = ?retry_after,
            poll = self.polls,
            "status"
        );
        if status.status.is_terminal() {
            tracing::info!(
                parent: &self.span,
                outcome = if status.status.is_success() { "succeeded" } else { "failed" },
                status = %status.status,
                polls = self.polls,
                elapsed = ?self.elapsed(),
                "operation ended"
            );
        }
    }

    /// The URL whose origin counts as "same origin".
    fn origin(&self) -> &Url {
        self.origin.as_deref().unwrap_or(&self.monitor)
    }

    fn errors(&self) -> &ErrorPolicy {
        static DEFAULT: std::sync::OnceLock<ErrorPolicy> = std::sync::OnceLock::new();
        self.errors
            .as_deref()
            .unwrap_or_else(|| DEFAULT.get_or_init(ErrorPolicy::default))
    }

    fn urls(&self) -> &UrlPolicy {
        self.urls
            .as_deref()
            .unwrap_or(&crate::origin::DEFAULT_URL_POLICY)
    }

    /// Moves to a new monitor URL, keeping the origin.
    fn set_monitor(&mut self, monitor: Url) {
        if self.origin.is_none() {
            self.origin = Some(Box::new(self.monitor.clone()));
        }
        self.monitor = monitor;
        self.poll_meta = self.meta(RequestKind::Poll, &self.monitor);
    }

    /// Checks a URL the server handed out against the URL policy.
    fn follow(&self, url: &Url) -> Result<(), Error> {
        self.urls()
            .check(self.origin(), url)
            .map_err(|reason| Error::UrlRejected {
                url: redact(url),
                reason,
            })
    }

    fn fail(&mut self, error: Error) {
        #[cfg(feature = "tracing")]
        tracing::warn!(
            parent: &self.span,
            outcome = "error",
            error = %error,
            polls = self.polls,
            elapsed = ?self.elapsed(),
            "operation ended"
        );
        self.end = Some(Box::new(End::Failed(error.clone())));
        self.state = State::Failing(Box::new(error));
    }

    fn deadline_error(&self) -> Error {
        Error::DeadlineExceeded {
            elapsed: self.elapsed(),
            polls: self.polls,
            resume: self.resume_token().map(Box::new),
        }
    }

    /// Sleeps for what the policy decides, or fails on a limit.
    fn schedule(&mut self, retry_after: Option<Duration>) {
        let elapsed = self.elapsed();
        let ctx = PollContext {
            attempt: self.polls,
            elapsed,
            last_status: self.last_status.as_ref(),
            retry_after,
            previous_delay: self.previous_delay,
            consecutive_failures: self.failures,
            from_job_start: self.from_job_start,
        };
        match self.policy.decide(&ctx) {
            Decision::PollAfter(delay) => self.sleep(delay),
            Decision::PollLimitExceeded => self.fail(Error::PollLimitExceeded {
                polls: self.polls,
                elapsed,
                resume: self.resume_token().map(Box::new),
            }),
            _ => self.fail(self.deadline_error()),
        }
    }

    fn sleep(&mut self, delay: Duration) {
        self.previous_delay = Some(delay);
        self.state = State::Sleeping(self.timer.sleep(delay));
    }

    /// Waits the initial delay (at least the start response's
    /// `Retry-After`), then polls.
    fn start_polling(&mut self, retry_after: Option<Duration>) {
        let delay = self
            .policy
            .with_hint(self.policy.initial_delay(), retry_after);
        match self.policy.limit(delay, self.polls, self.elapsed()) {
            Decision::PollAfter(delay) if delay.is_zero() => self.send_poll(),
            Decision::PollAfter(delay) => self.sleep(delay),
            Decision::PollLimitExceeded => self.fail(Error::PollLimitExceeded {
                polls: self.polls,
                elapsed: self.elapsed(),
                resume: self.resume_token().map(Box::new),
            }),
            _ => self.fail(self.deadline_error()),
        }
    }

    /// Handles a failure to read the status: retry or end.
    fn read_failure(&mut self, class: FailureClass, retry_after: Option<Duration>, error: Error) {
        self.failures = self.failures.saturating_add(1);
        if class == FailureClass::Transient && self.errors().may_retry(self.failures) {
            #[cfg(feature = "tracing")]
            tracing::debug!(
                parent: &self.span,
                error = %error,
                failures = self.failures,
                retry_after = ?retry_after,
                "failed to read the status; retrying"
            );
            self.schedule(retry_after);
        } else {
            self.fail(error);
        }
    }

    /// Reads one answer; returns the status to yield, if any.
    fn on_answer(&mut self, answer: Result<http::Response<Bytes>, TransportError>) -> bool {
        let response = match answer {
            Ok(response) => response,
            Err(source) => {
                let class = self.errors().classify_transport(&source);
                let error = Error::Transport {
                    kind: RequestKind::Poll,
                    attempts: self.failures.saturating_add(1),
                    source,
                    resume: self.resume_token().map(Box::new),
                };
                self.read_failure(class, None, error);
                return false;
            }
        };
        let retry_after = self.retry_after(&response);
        match self.protocol.interpret(&self.monitor, &response) {
            Err(error) => {
                self.fail(error);
                false
            }
            Ok(Reading::ReadFailure) => {
                let code = response.status();
                let mut http = HttpError::new(
                    code,
                    RequestKind::Poll,
                    redact(&self.monitor),
                    response.body(),
                );
                http.attempts = self.failures.saturating_add(1);
                let error = match code.as_u16() {
                    404 | 410 => Error::MonitorExpired(Box::new(http)),
                    _ => {
                        http.resume = self.resume_token().map(Box::new);
                        Error::Http(Box::new(http))
                    }
                };
                let class = self.errors().classify_status(code);
                self.read_failure(class, retry_after, error);
                false
            }
            Ok(Reading::Status(reading)) => {
                self.on_reading(reading, retry_after);
                true
            }
        }
    }
}

async fn fetch_result(
    transport: Arc<dyn Transport>,
    url: Url,
    meta: RequestMeta,
) -> Result<Bytes, Error> {
    let mut request = crate::protocol::get_json(&url);
    request.extensions_mut().insert(meta);
    let response = transport
        .send(request)
        .await
        .map_err(|source| Error::Transport {
            kind: RequestKind::Result,
            attempts: 1,
            source,
            resume: None,
        })?;
    let code = response.status();
    if code.is_client_error() || code.is_server_error() {
        return Err(Error::Http(Box::new(HttpError::new(
            code,
            RequestKind::Result,
            redact(&url),
            response.body(),
        ))));
    }
    Ok(response.into_body())
}

impl Operation {
    /// Drives the state machine to the next report: `Ok(())` when a status
    /// was recorded in `last_status` (the stream yields a copy of it), `Err`
    /// when the operation failed, `None` at the end.
    fn poll_report(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<(), Error>>> {
        let this = self;
        #[cfg(feature = "tracing")]
        let span = this.span.clone();
        #[cfg(feature = "tracing")]
        let _entered = span.enter();
        loop {
            let (deadline, timer, started, carried) = (
                this.policy.deadline(),
                &this.timer,
                this.started,
                this.carried,
            );
            let cutoff = || cutoff(deadline, elapsed(&**timer, started, carried));
            match &mut this.state {
                State::Idle => match this.start.take() {
                    Some(start) => this.send_start(start),
                    None => this.start_polling(None),
                },
                State::Starting { flight, .. } => {
                    let Some(answer) = ready!(flight.poll(&**timer, cutoff, cx)) else {
                        let error = this.deadline_error();
                        this.fail(error);
                        continue;
                    };
                    let State::Starting { setup, .. } =
                        std::mem::replace(&mut this.state, State::Done)
                    else {
                        continue;
                    };
                    let StartSetup {
                        method,
                        choice,
                        final_state,
                    } = *setup;
                    if this.on_start(answer, &method, choice, final_state) {
                        return Poll::Ready(Some(Ok(())));
                    }
                }
                State::Sleeping(sleep) => {
                    ready!(sleep.as_mut().poll(cx));
                    this.send_poll();
                }
                State::Requesting(flight) => match ready!(flight.poll(&**timer, cutoff, cx)) {
                    Some(answer) => {
                        if this.on_answer(answer) {
                            return Poll::Ready(Some(Ok(())));
                        }
                    }
                    None => {
                        let error = this.deadline_error();
                        this.fail(error);
                    }
                },
                State::Failing(_) => {
                    let State::Failing(error) = std::mem::replace(&mut this.state, State::Done)
                    else {
                        continue;
                    };
                    return Poll::Ready(Some(Err(*error)));
                }
                State::Done => return Poll::Ready(None),
            }
        }
    }
}

impl Stream for Operation {
    type Item = Result<AsyncJobStatus, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        Poll::Ready(match ready!(this.poll_report(cx)) {
            Some(Ok(())) => match &this.last_status {
                Some(status) => Some(Ok(status.clone())),
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
    /// hold a credential: do not log it (use [`crate::redact`]).
    pub fn location(&self) -> Option<&Url> {
        self.location.as_ref()
    }

    /// The final result body, when the protocol defines one.
    pub fn body(&self) -> Option<&Bytes> {
        self.body.as_ref()
    }

    /// The final result body parsed as JSON into `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        let body = self.body.as_deref().unwrap_or_default();
        serde_json::from_slice(body).map_err(|e| {
            Error::protocol(
                format!("the result is not the expected JSON: {e}"),
                None,
                None,
                body,
            )
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TransportErrorKind;
    use crate::policy::{Constant, Exponential};
    use crate::status::JobState;
    use crate::testing::{ScriptedTransport, VirtualTimer};
    use futures::StreamExt;
    use futures::executor::block_on;

    const MONITOR: &str = "https://api.example/monitor/1?tempauth=secret";

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn operation(
        transport: &ScriptedTransport,
        timer: &VirtualTimer,
        policy: PollPolicy,
    ) -> Operation {
        Operation::monitor(transport.clone(), MONITOR)
            .with_timer(timer.clone())
            .with_policy(policy)
            .build()
            .unwrap()
    }

    fn collect(operation: &mut Operation) -> Vec<Result<AsyncJobStatus, Error>> {
        block_on(operation.by_ref().collect::<Vec<_>>())
    }

    #[test]
    fn yields_each_status_then_ends_and_sends_nothing_more() {
        let transport = ScriptedTransport::new()
            .with_json(202, r#"{"status":"notStarted"}"#)
            .with_json(202, r#"{"status":"inProgress","percentageComplete":27.8}"#)
            .with_json(303, r#"{"status":"completed","resourceId":"01MOW"}"#)
            .with_json(200, r#"{"status":"inProgress"}"#);
        let timer = VirtualTimer::new();
        let mut op = operation(&transport, &timer, PollPolicy::new(Constant::new(secs(2))));
        let states: Vec<_> = collect(&mut op)
            .into_iter()
            .map(|s| s.unwrap().status)
            .collect();
        assert_eq!(
            states,
            [
                JobState::NotStarted,
                JobState::InProgress,
                JobState::Completed
            ]
        );
        assert_eq!(transport.requests().len(), 3);
        assert_eq!(timer.sleeps(), [secs(2), secs(2)]);
        assert!(block_on(op.next()).is_none());
        assert_eq!(transport.requests().len(), 3);
        let outcome = block_on(op.outcome()).unwrap();
        assert_eq!(outcome.resource_id(), Some("01MOW"));
        assert_eq!(outcome.polls(), 3);
        assert_eq!(outcome.elapsed(), secs(4));
    }

    #[test]
    fn status_arrives_before_the_sleep() {
        let transport = ScriptedTransport::new()
            .with_json(202, r#"{"status":"inProgress"}"#)
            .with_json(200, r#"{"status":"completed"}"#);
        let timer = VirtualTimer::new();
        let mut op = operation(&transport, &timer, PollPolicy::new(Constant::new(secs(60))));
        let first = block_on(op.next()).unwrap().unwrap();
        assert_eq!(first.status, JobState::InProgress);
        assert!(timer.sleeps().is_empty(), "slept before yielding");
        assert_eq!(timer.elapsed(), Duration::ZERO);
    }

    #[test]
    fn failed_job_ends_with_the_service_error() {
        let transport = ScriptedTransport::new().with_json(
            200,
            r#"{"status":"failed","error":{"code":"nameAlreadyExists","message":"taken"}}"#,
        );
        let timer = VirtualTimer::new();
        let op = operation(&transport, &timer, PollPolicy::default());
        let error = block_on(op.outcome()).unwrap_err();
        let status = error.job_status().unwrap();
        assert_eq!(status.status, JobState::Failed);
        assert_eq!(
            status.error.as_ref().unwrap().code.as_deref(),
            Some("nameAlreadyExists")
        );
    }

    #[test]
    fn transient_failures_are_retried_then_permanent_ones_end() {
        let transport = ScriptedTransport::new()
            .with_error(TransportErrorKind::Connect)
            .with_json(503, r#"{"error":{"code":"busy"}}"#)
            .with_json(200, r#"{"status":"inProgress"}"#)
            .with_json(403, r#"{"error":{"code":"accessDenied","message":"no"}}"#);
        let timer = VirtualTimer::new();
        let mut op = operation(&transport, &timer, PollPolicy::new(Constant::new(secs(1))));
        let items = collect(&mut op);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_ref().unwrap().status, JobState::InProgress);
        let error = items[1].as_ref().unwrap_err();
        assert_eq!(error.http_status(), Some(http::StatusCode::FORBIDDEN));
        assert!(error.to_string().contains("accessDenied"));
        assert!(!error.to_string().contains("secret"));
        assert_eq!(transport.requests().len(), 4);
    }

    #[test]
    fn retries_stop_at_the_limit() {
        let transport = ScriptedTransport::new();
        for _ in 0..10 {
            transport.push_response(500, &[], "oops");
        }
        let timer = VirtualTimer::new();
        let op = Operation::monitor(transport.clone(), MONITOR)
            .with_timer(timer.clone())
            .with_error_policy(ErrorPolicy::default().with_max_retries(3))
            .build()
            .unwrap();
        let error = block_on(op.outcome()).unwrap_err();
        assert!(
            matches!(&error, Error::Http(e) if e.attempts == 4),
            "{error:?}"
        );
        assert_eq!(transport.requests().len(), 4);
    }

    #[test]
    fn expired_monitor_is_typed_and_not_retried() {
        let transport = ScriptedTransport::new()
            .with_json(202, r#"{"status":"inProgress"}"#)
            .with_json(404, r#"{"error":{"code":"operationNotFound"}}"#)
            .with_json(200, r#"{"status":"completed"}"#);
        let timer = VirtualTimer::new();
        let op = operation(&transport, &timer, PollPolicy::default());
        let error = block_on(op.outcome()).unwrap_err();
        assert!(matches!(error, Error::MonitorExpired(_)), "{error:?}");
        assert_eq!(transport.remaining(), 1);
    }

    #[test]
    fn retry_after_is_a_floor_and_capped() {
        let transport = ScriptedTransport::new();
        transport.push_response(202, &[("retry-after", "7")], r#"{"status":"inProgress"}"#);
        transport.push_response(
            202,
            &[("retry-after", "9999999999")],
            r#"{"status":"inProgress"}"#,
        );
        transport.push_response(429, &[("retry-after-ms", "1500")], "");
        transport.push_response(200, &[], r#"{"status":"completed"}"#);
        let timer = VirtualTimer::new();
        let policy = PollPolicy::new(Constant::new(secs(1))).with_retry_after_cap(secs(120));
        block_on(operation(&transport, &timer, policy).outcome()).unwrap();
        assert_eq!(
            timer.sleeps(),
            [secs(7), secs(120), Duration::from_millis(1500)]
        );
    }

    #[test]
    fn deadline_polls_once_at_the_deadline_then_gives_up() {
        let transport = ScriptedTransport::new();
        for _ in 0..10 {
            transport.push_response(202, &[], r#"{"status":"inProgress"}"#);
        }
        let timer = VirtualTimer::new();
        let policy = PollPolicy::new(Constant::new(secs(10))).with_deadline(secs(25));
        let error = block_on(operation(&transport, &timer, policy).outcome()).unwrap_err();
        assert!(
            matches!(error, Error::DeadlineExceeded { elapsed, polls: 4, .. } if elapsed == secs(25)),
            "{error:?}"
        );
        assert_eq!(timer.sleeps(), [secs(10), secs(10), secs(5)]);
    }

    #[test]
    fn poll_limit_ends_the_operation() {
        let transport = ScriptedTransport::new();
        for _ in 0..10 {
            transport.push_response(202, &[], r#"{"status":"waiting"}"#);
        }
        let timer = VirtualTimer::new();
        let policy = PollPolicy::new(Constant::new(secs(1))).with_max_polls(3);
        let error = block_on(operation(&transport, &timer, policy).outcome()).unwrap_err();
        assert!(
            matches!(error, Error::PollLimitExceeded { polls: 3, .. }),
            "{error:?}"
        );
        assert_eq!(transport.requests().len(), 3);
    }

    #[test]
    fn initial_delay_comes_before_the_first_poll() {
        let transport = ScriptedTransport::new().with_json(200, r#"{"status":"completed"}"#);
        let timer = VirtualTimer::new();
        let policy = PollPolicy::new(Constant::new(secs(1))).with_initial_delay(secs(3));
        block_on(operation(&transport, &timer, policy).outcome()).unwrap();
        assert_eq!(timer.sleeps(), [secs(3)]);
    }

    #[test]
    fn a_new_location_replaces_the_monitor_and_polls_carry_a_marker() {
        let transport = ScriptedTransport::new();
        transport.push_response(
            202,
            &[("location", "https://other.example/m/2")],
            r#"{"status":"inProgress"}"#,
        );
        transport.push_response(200, &[], r#"{"status":"completed"}"#);
        let timer = VirtualTimer::new();
        block_on(operation(&transport, &timer, PollPolicy::default()).outcome()).unwrap();
        let requests = transport.requests();
        assert_eq!(requests[1].uri, "https://other.example/m/2");
        let first = requests[0].meta.unwrap();
        assert_eq!(first.kind, RequestKind::Poll);
        assert!(first.same_origin && !first.credentials_allowed());
        assert!(!requests[1].meta.unwrap().same_origin);
    }

    #[test]
    fn garbage_ends_with_a_protocol_error_not_a_completion() {
        let transport = ScriptedTransport::new().with_json(200, "<html>hello</html>");
        let timer = VirtualTimer::new();
        let error =
            block_on(operation(&transport, &timer, PollPolicy::default()).outcome()).unwrap_err();
        assert!(matches!(error, Error::Protocol(_)), "{error:?}");
    }

    #[test]
    fn dropping_stops_polling() {
        let transport = ScriptedTransport::new()
            .with_json(202, r#"{"status":"inProgress"}"#)
            .with_json(200, r#"{"status":"completed"}"#);
        let timer = VirtualTimer::new();
        let mut op = operation(
            &transport,
            &timer,
            PollPolicy::new(Exponential::new(secs(1), 2.0, secs(8))),
        );
        block_on(op.next()).unwrap().unwrap();
        drop(op);
        assert_eq!(transport.requests().len(), 1);
        assert!(timer.sleeps().is_empty());
    }

    #[test]
    fn bad_setup_is_a_config_error() {
        let transport = ScriptedTransport::new();
        assert!(matches!(
            Operation::monitor(transport.clone(), "not a url")
                .with_timer(VirtualTimer::new())
                .build(),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            Operation::monitor(transport, "ftp://host/x")
                .with_timer(VirtualTimer::new())
                .build(),
            Err(Error::Config(_))
        ));
    }

    #[test]
    fn debug_output_is_redacted() {
        let transport = ScriptedTransport::new();
        let op = operation(&transport, &VirtualTimer::new(), PollPolicy::default());
        let shown = format!("{op:?}");
        assert!(
            shown.contains("api.example") && !shown.contains("secret"),
            "{shown}"
        );
    }

    /// Graph's reading of the status, with a result source on completion.
    #[derive(Debug)]
    struct WithResult(ResultSource);

    impl Protocol for WithResult {
        fn name(&self) -> &'static str {
            "with-result"
        }

        fn interpret(&self, url: &Url, response: &http::Response<Bytes>) -> Result<Reading, Error> {
            let Reading::Status(reading) = crate::protocol::Graph.interpret(url, response)? else {
                return Ok(Reading::ReadFailure);
            };
            Ok(Reading::Status(if reading.status.status.is_terminal() {
                reading.with_result(self.0.clone())
            } else {
                reading
            }))
        }
    }

    #[test]
    fn the_result_comes_from_the_answer_or_a_fetch() {
        let transport = ScriptedTransport::new()
            .with_json(202, r#"{"status":"inProgress"}"#)
            .with_json(200, r#"{"status":"completed"}"#)
            .with_json(200, r#"{"id":"42"}"#);
        let result = Url::parse("https://api.example/result/1").unwrap();
        let op = Operation::monitor(transport.clone(), MONITOR)
            .with_timer(VirtualTimer::new())
            .with_protocol(WithResult(ResultSource::Fetch(result)))
            .build()
            .unwrap();
        let outcome = block_on(op.outcome()).unwrap();
        assert_eq!(outcome.body().unwrap().as_ref(), br#"{"id":"42"}"#);
        assert_eq!(outcome.status().status, JobState::Completed);
        assert_eq!(outcome.polls(), 2);
        let requests = transport.requests();
        assert_eq!(requests.len(), 3);
        assert_eq!(requests[2].uri, "https://api.example/result/1");
        assert_eq!(requests[2].meta.unwrap().kind, RequestKind::Result);

        let transport = ScriptedTransport::new().with_json(200, r#"{"status":"completed"}"#);
        let op = Operation::monitor(transport.clone(), MONITOR)
            .with_timer(VirtualTimer::new())
            .with_protocol(WithResult(ResultSource::Body(Bytes::from_static(b"done"))))
            .build()
            .unwrap();
        let outcome = block_on(op.outcome()).unwrap();
        assert_eq!(outcome.body().unwrap().as_ref(), b"done");
        assert_eq!(transport.requests().len(), 1);
    }

    #[test]
    fn operation_and_its_future_stay_small() {
        let size = std::mem::size_of::<Operation>();
        assert!(size <= 768, "{size}");
        let transport = ScriptedTransport::new();
        let op = operation(&transport, &VirtualTimer::new(), PollPolicy::default());
        let future = IntoFuture::into_future(op);
        let future_size = std::mem::size_of_val(&*future);
        assert!(
            future_size <= size + 64,
            "{future_size} for an operation of {size}"
        );
    }

    fn _operation_is_send_and_unpin() {
        fn check<T: Send + Unpin + 'static>() {}
        check::<Operation>();
        check::<OutcomeFuture>();
    }
}
