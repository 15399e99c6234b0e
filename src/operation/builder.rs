//! Setting up an operation: from a monitor URL, a start request or a resume token.

use super::*;

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
    start_retry: StartRetry,
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
            .field("final_state", &self.final_state)
            .finish_non_exhaustive()
    }
}

impl OperationBuilder {
    pub(super) fn new(transport: Arc<dyn Transport>, target: Result<Target, Error>) -> Self {
        OperationBuilder {
            transport,
            target,
            policy: PollPolicy::default(),
            errors: ErrorPolicy::default(),
            timer: None,
            protocol: Choice::Kind(ProtocolKind::Auto),
            final_state: None,
            urls: UrlPolicy::default(),
            start_retry: StartRetry::default(),
        }
    }

    /// When the start request is sent again after a transient failure
    /// (default: [`StartRetry::IfIdempotent`], only when repeating it is
    /// safe). [`StartRetry::Always`] opts a `POST` or `PATCH` in. The body is
    /// sent again byte for byte; the wait goes through the polling policy
    /// (backoff, `Retry-After`, floor, deadline) and the error policy bounds
    /// the retries. See [`Operation::start_retry`] to report them.
    pub fn with_start_retry(mut self, retry: StartRetry) -> Self {
        self.start_retry = retry;
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
                    retry: self.start_retry,
                    notice: None,
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

pub(super) fn parse_url(what: &str, url: &str) -> Result<Url, Error> {
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
pub(super) const RESPOND_ASYNC: http::HeaderValue = http::HeaderValue::from_static("respond-async");

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
    /// polled. After a transient failure (I/O, `408`, `429`, `5xx`) the start
    /// request is sent again when that is safe (an idempotent method or an
    /// idempotency key; see [`OperationBuilder::with_start_retry`]).
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
}
