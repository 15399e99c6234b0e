//! Setting up an operation: from a monitor URL, a start request or a resume token.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use url::Url;

use crate::build_error::BuildError;
use crate::origin::{UrlPolicy, redact};
use crate::policy::{ErrorPolicy, PollPolicy};
use crate::protocol::{FinalStateVia, Protocol, ProtocolKind};
use crate::resume::ResumeToken;

use super::checkpoint::{Checkpoint, Store};
use crate::timer::{Timer, default_timer};
use crate::transport::Transport;

use super::clock::Clock;
use super::core::Operation;
use super::monitor::Monitor;
use super::retry::{RetryHook, RetryNotice};
use super::schedule::Schedule;
use super::start_request::PendingStart;
use super::start_request::StartRetry;

/// Sets up an [`Operation`].
#[must_use = "call .build() to get the Operation"]
pub struct OperationBuilder {
    transport: Arc<dyn Transport>,
    target: Result<Target, BuildError>,
    policy: PollPolicy,
    errors: ErrorPolicy,
    timer: Option<Arc<dyn Timer>>,
    /// The caller's protocols; the last one reads a start or a monitor.
    protocols: Vec<Box<dyn Protocol>>,
    kind: ProtocolKind,
    final_state: Option<FinalStateVia>,
    urls: UrlPolicy,
    start_retry: StartRetry,
    on_retry: Option<RetryHook>,
    checkpoint: Option<Store>,
}

pub(super) enum Target {
    Monitor(Url),
    Start(Box<http::Request<Bytes>>, Url),
    Resume(Box<ResumeToken>),
}

impl Target {
    pub(super) fn redacted(&self) -> String {
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
            .field("kind", &self.kind)
            .field(
                "protocols",
                &self.protocols.iter().map(|p| p.name()).collect::<Vec<_>>(),
            )
            .field("final_state", &self.final_state)
            .finish_non_exhaustive()
    }
}

impl OperationBuilder {
    pub(super) fn new(transport: Arc<dyn Transport>, target: Result<Target, BuildError>) -> Self {
        OperationBuilder {
            transport,
            target,
            policy: PollPolicy::default(),
            errors: ErrorPolicy::default(),
            timer: None,
            protocols: Vec::new(),
            kind: ProtocolKind::Auto,
            final_state: None,
            urls: UrlPolicy::default(),
            start_retry: StartRetry::default(),
            on_retry: None,
            checkpoint: None,
        }
    }

    /// Calls `notice` before the wait of each retry of every request the
    /// operation sends — the start (when it is safe to repeat), a poll, the
    /// result fetch, a cancel request — with which request, the attempt to
    /// come, the wait and why the last attempt failed ([`RetryNotice`]).
    /// Called from within the operation's future: keep it short.
    pub fn on_retry(mut self, notice: impl Fn(&RetryNotice) + Send + Sync + 'static) -> Self {
        self.on_retry = Some(Arc::new(notice));
        self
    }

    /// When the start request is sent again after a transient failure
    /// (default: [`StartRetry::IfIdempotent`], only when repeating it is
    /// safe). [`StartRetry::Always`] opts a `POST` or `PATCH` in. The body is
    /// sent again byte for byte; the wait goes through the polling policy
    /// (backoff, `Retry-After`, floor, deadline) and the error policy bounds
    /// the retries. See [`OperationBuilder::on_retry`] to report them.
    pub fn with_start_retry(mut self, retry: StartRetry) -> Self {
        self.start_retry = retry;
        self
    }

    /// Hands every new resume token to `store` before the operation goes on
    /// (after the start is answered, after each poll); a failed save ends the
    /// operation unless the store says otherwise (see [`Checkpoint`], which
    /// a closure `Fn(&ResumeToken) -> Result<(), E>` is too).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use lro_poller::{Operation, ResumeToken};
    /// use lro_poller::testing::ScriptedTransport;
    ///
    /// let file = std::env::temp_dir().join("job-42.token");
    /// let operation = Operation::monitor(ScriptedTransport::new(), "https://api.example/monitor/42")
    ///     .with_checkpoint(move |token: &ResumeToken| std::fs::write(&file, token.to_string()));
    /// # }
    /// ```
    pub fn with_checkpoint(mut self, store: impl Checkpoint + 'static) -> Self {
        self.checkpoint = Some(Arc::new(store));
        self
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

    /// The timer. Without one, the operation uses tokio's when it is built
    /// inside a tokio runtime and the `tokio` feature is on, else
    /// futures-timer's (the `futures-timer` feature, on by default); with
    /// neither feature on, a timer is required ([`BuildError::NoTimer`]).
    /// The timer is put behind a new pointer; to share one timer between
    /// many operations without that, use
    /// [`with_shared_timer`](Self::with_shared_timer).
    pub fn with_timer(mut self, timer: impl Timer + 'static) -> Self {
        self.timer = Some(Arc::new(timer));
        self
    }

    /// A timer shared with other operations: no allocation per operation.
    pub fn with_shared_timer(mut self, timer: Arc<dyn Timer>) -> Self {
        self.timer = Some(timer);
        self
    }

    /// A protocol of your own (or a configured built-in one). It reads the
    /// start answer ([`Protocol::read_start`]) or the monitor's answers; for
    /// [`Operation::resume`], it is used when the token names it
    /// ([`Protocol::name`]) and restored from the token's state. Given more
    /// than once, the last one reads and all are known for resume.
    pub fn with_protocol(self, protocol: impl Protocol + 'static) -> Self {
        self.with_protocols([Box::new(protocol) as Box<dyn Protocol>])
    }

    /// Several protocols at once, for [`Operation::resume`] of a token whose
    /// protocol is any of them (a registry); the last one reads a start or a
    /// monitor.
    pub fn with_protocols(
        mut self,
        protocols: impl IntoIterator<Item = Box<dyn Protocol>>,
    ) -> Self {
        self.protocols.extend(protocols);
        self
    }

    /// The built-in family (default: [`ProtocolKind::Auto`], detected from
    /// the start response; for a monitor URL, see [`crate::protocol::Auto`]).
    /// Replaces the protocols given with [`with_protocol`](Self::with_protocol).
    pub fn with_protocol_kind(mut self, kind: ProtocolKind) -> Self {
        self.kind = kind;
        self.protocols.clear();
        self
    }

    /// Where an Azure operation detected by the built-in families
    /// ([`with_protocol_kind`](Self::with_protocol_kind)) finds its final
    /// result (default: per the start request's method, see
    /// [`FinalStateVia::default_for`]). A protocol given with
    /// [`with_protocol`](Self::with_protocol) carries its own settings.
    pub fn with_final_state_via(mut self, via: FinalStateVia) -> Self {
        self.final_state = Some(via);
        self
    }

    /// Makes the operation, whatever happens: a build error (see
    /// [`build`](Self::build)) is not returned here but is the first item
    /// of its stream and the result it is awaited with, as
    /// [`Error::Build`](crate::Error::Build); nothing is sent. For an SDK
    /// whose `fn copy(&self, …) -> CopyOperation` cannot fail, as reqwest
    /// defers a request builder's error to `send`.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use lro_poller::{BuildError, Error, Operation};
    /// use lro_poller::testing::{ScriptedTransport, VirtualTimer};
    ///
    /// let operation = Operation::monitor(ScriptedTransport::new(), "not a URL")
    ///     .with_timer(VirtualTimer::new())
    ///     .into_operation();
    /// let error = futures::executor::block_on(operation.outcome()).unwrap_err();
    /// assert!(matches!(error, Error::Build(e) if matches!(*e, BuildError::InvalidUrl { .. })));
    /// # }
    /// ```
    pub fn into_operation(self) -> Operation {
        let transport = Arc::clone(&self.transport);
        match self.build() {
            Ok(operation) => operation,
            Err(error) => Operation::unbuilt(transport, error),
        }
    }

    /// Builds the operation. Its clock starts now; nothing is sent until it is
    /// polled.
    pub fn build(self) -> Result<Operation, BuildError> {
        let target = self.target?;
        let timer = match self.timer {
            Some(timer) => timer,
            None => default_timer().map_err(|_| BuildError::NoTimer)?,
        };
        let mut carried = Duration::ZERO;
        let mut polls = 0;
        let mut origin = None;
        let mut resend = None;
        let mut result = None;
        let mut saved_schedule = None;
        let mut protocols = self.protocols;
        let (monitor, start, protocol): (Url, _, Box<dyn Protocol>) = match target {
            Target::Monitor(url) => {
                let protocol = match protocols.pop() {
                    Some(protocol) => protocol,
                    None => self.kind.for_monitor(&url),
                };
                (url, None, protocol)
            }
            Target::Resume(token) => {
                token.validate()?;
                let protocol = crate::protocol::restore(&token.protocol, &protocols)?;
                carried = timer
                    .wall_clock()
                    .duration_since(token.started_at())
                    .unwrap_or(Duration::ZERO);
                polls = token.polls;
                saved_schedule = token
                    .schedule
                    .as_ref()
                    .map(|saved| (saved.clone(), token.started_at(), token.next_poll_at_ms));
                origin = Some(token.origin_url()?);
                let monitor = token.monitor_url()?;
                if let Some(request) = &token.request {
                    resend = Some(request.to_request(&monitor)?);
                }
                result = token.result_url()?;
                (monitor, None, protocol)
            }
            Target::Start(request, url) => {
                let start = Box::new(PendingStart::new(*request, self.start_retry));
                let protocol = match protocols.pop() {
                    Some(protocol) => protocol,
                    None => self.kind.for_start(self.final_state),
                };
                (url, Some(start), protocol)
            }
        };
        let origin = origin.filter(|origin| *origin != monitor);
        self.urls
            .check(origin.as_ref().unwrap_or(&monitor), &monitor)
            .map_err(BuildError::UrlRejected)?;
        let mut schedule = Schedule::new(&self.policy, self.errors, polls, start.is_some());
        if let Some((saved, started, due)) = &saved_schedule {
            schedule.restore(saved, *started, *due);
        }
        let monitor = Monitor::new(monitor, origin, self.urls, resend, &*protocol);
        let clock = Clock::new(timer, carried);
        let mut operation =
            Operation::assemble(self.transport, protocol, clock, schedule, monitor, start);
        operation.set_retry_hook(self.on_retry);
        if let Some(result) = result {
            operation.succeeded_before(result);
        }
        operation.set_checkpoint(self.checkpoint);
        Ok(operation)
    }
}

pub(super) fn parse_url(role: &'static str, url: &str) -> Result<Url, BuildError> {
    let url = Url::parse(url).map_err(|reason| BuildError::InvalidUrl { role, reason })?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(BuildError::UnsupportedScheme {
            role,
            scheme: other.to_owned(),
        }),
    }
}

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
    /// `Prefer: respond-async` added when the protocol asks for it —
    /// [`Protocol::prefers_respond_async`]: Graph, Azure and the default
    /// detection do — unless it has a `Prefer` header), then
    /// follows what the protocol makes of the answer ([`Protocol::read_start`]).
    /// By default ([`ProtocolKind::Auto`]) that is a monitor to poll (`202`
    /// with `Location`, `Operation-Location` or `Azure-AsyncOperation`; a
    /// Google `Operation`; an Azure resource still provisioning) or a result
    /// right away (`200`/`201`/`204`). Nothing is sent until the operation is
    /// polled. After a transient failure (I/O, `408`, `429`, `5xx`) the start
    /// request is sent again when that is safe (an idempotent method or an
    /// idempotency key; see [`OperationBuilder::with_start_retry`]).
    ///
    /// The request's URI must be absolute (`https://host/path`).
    pub fn start(
        transport: impl Transport + 'static,
        request: http::Request<Bytes>,
    ) -> OperationBuilder {
        let target = parse_url("start", &request.uri().to_string())
            .map(|url| Target::Start(Box::new(request), url));
        OperationBuilder::new(Arc::new(transport), target)
    }

    /// An operation that goes on from a [`ResumeToken`] (taken with
    /// [`Operation::resume_token`], perhaps in another process). The token's
    /// protocol is used: a built-in family, or one of yours given with
    /// [`OperationBuilder::with_protocol`] (else the build fails with
    /// [`BuildError::UnknownProtocol`]). Set the policies again as you like. The deadline
    /// counts from the operation's original start (on the wall clock), and
    /// the poll count goes on from the token's.
    pub fn resume(transport: impl Transport + 'static, token: ResumeToken) -> OperationBuilder {
        OperationBuilder::new(Arc::new(transport), Ok(Target::Resume(Box::new(token))))
    }
}
