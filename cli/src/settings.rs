//! What every subcommand shares, checked, and the request the user
//! describes.

use std::time::Duration;

use http::{HeaderName, HeaderValue};
use lro_poller::policy::{ConstantBuilder, PollPolicy, RetryAfterMode};
use lro_poller::protocol::ProtocolKind;
use lro_poller::transport::ReqwestTransport;

use crate::args::{self, Common, Polling};
use crate::transport::{HeaderTransport, Hold};
use crate::usage::UsageError;

/// What every subcommand shares, checked.
pub(crate) struct Settings {
    headers: Vec<(HeaderName, HeaderValue)>,
    /// `None`: the protocol comes from a resume token.
    pub(crate) protocol: Option<ProtocolKind>,
    interval: Option<Duration>,
    min_interval: Duration,
    ignore_retry_after: bool,
    timeout: Option<Duration>,
    pub(crate) json: bool,
    /// `start --no-wait`: stop once the start request is answered.
    pub(crate) no_wait: bool,
    /// Holds back every request but the start while `no_wait` waits.
    pub(crate) hold: Hold,
    /// The policy to use without `--interval` (`lro wait`: the waiter's).
    base_policy: Option<PollPolicy>,
}

impl Settings {
    /// `protocol`: `None` when it comes from a resume token.
    pub(crate) fn new(common: Common, protocol: Option<ProtocolKind>) -> Result<Self, UsageError> {
        Ok(Settings {
            headers: args::headers(&common.headers)?,
            protocol,
            interval: None,
            min_interval: PollPolicy::default().min_interval(),
            ignore_retry_after: false,
            timeout: None,
            json: common.json,
            no_wait: false,
            hold: Hold::default(),
            base_policy: None,
        })
    }

    /// The polling options of the subcommands that wait. An `--interval`
    /// under the floor is refused (nothing is sent): polling faster is an
    /// explicit `--min-interval`.
    pub(crate) fn polling(mut self, polling: Polling) -> Result<Self, UsageError> {
        if let Some(interval) = polling.interval.filter(|i| *i < polling.min_interval) {
            return Err(UsageError::new(format!(
                "--interval {} is below the {} s floor between polls; \
                 to poll that often, lower the floor too: --min-interval {}",
                interval.as_secs_f64(),
                polling.min_interval.as_secs_f64(),
                interval.as_secs_f64()
            )));
        }
        self.interval = polling.interval;
        self.min_interval = polling.min_interval;
        self.ignore_retry_after = polling.ignore_retry_after;
        self.timeout = polling.timeout;
        Ok(self)
    }

    /// `start --no-wait`.
    pub(crate) fn no_wait(mut self) -> Self {
        self.no_wait = true;
        self.hold = Hold::new(true);
        self
    }

    /// The reqwest transport with the user's headers. Redirects are not
    /// followed (a Graph `303` is the answer, not a hop); cookies are kept for
    /// the run (load balancers pin a client with them).
    pub(crate) fn transport(&self) -> Result<HeaderTransport, UsageError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .connect_timeout(Duration::from_secs(30))
            .user_agent(concat!("lro/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| UsageError::new(format!("cannot set up the HTTP client: {e}")))?;
        Ok(HeaderTransport::new(
            ReqwestTransport::new(client),
            self.headers.clone(),
            self.hold.clone(),
        ))
    }

    /// `lro wait`: the waiter's policy stands in for the default one.
    pub(crate) fn with_base_policy(mut self, policy: PollPolicy) -> Self {
        self.base_policy = Some(policy);
        self
    }

    /// The `--timeout`, if any.
    pub(crate) fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The `-H` headers.
    pub(crate) fn headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.headers
    }

    /// The policy the options ask for.
    pub(crate) fn policy(&self) -> PollPolicy {
        let mut policy = match (self.interval, &self.base_policy) {
            (Some(interval), _) => PollPolicy::new(ConstantBuilder::new(interval)),
            (None, Some(base)) => base.clone(),
            (None, None) => PollPolicy::default(),
        };
        policy = policy.with_min_interval(self.min_interval);
        if self.ignore_retry_after {
            policy = policy.with_retry_after(RetryAfterMode::Ignore);
        }
        if let Some(timeout) = self.timeout {
            policy = policy.with_deadline(timeout);
        }
        policy
    }
}

/// The request the user describes: `-X` method, URL, `-d` body (with
/// `Content-Type: application/json` unless a `-H` gives one), `-H` headers.
pub(crate) fn request(
    method: &str,
    url: &str,
    data: Option<&str>,
    user_headers: &[(HeaderName, HeaderValue)],
) -> Result<http::Request<bytes::Bytes>, UsageError> {
    let url = args::url(url, "URL")?;
    let method = args::method(method)?;
    let body = data.map(args::data).transpose()?;
    let mut request = http::Request::new(body.clone().unwrap_or_default());
    *request.method_mut() = method;
    *request.uri_mut() = url
        .as_str()
        .parse()
        .map_err(|_| UsageError::new("URL is not a valid request URI"))?;
    let headers = request.headers_mut();
    for (name, value) in user_headers {
        headers.append(name, value.clone());
    }
    if body.is_some() && !headers.contains_key(http::header::CONTENT_TYPE) {
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    Ok(request)
}
