//! Running a subcommand: set up the operation, follow it, report the end.
//!
//! Each subcommand only says how its operation begins (an
//! [`OperationBuilder`]); [`follow`] does the rest. A new subcommand (say,
//! `resume` from a saved token) adds a [`Command`] variant and a function
//! like [`start`] that returns a builder.

use std::time::Duration;

use futures::StreamExt;
use http::{HeaderName, HeaderValue};
use lro_poller::policy::{Constant, PollPolicy, RetryAfterMode};
use lro_poller::protocol::ProtocolKind;
use lro_poller::timer::TokioTimer;
use lro_poller::transport::ReqwestTransport;
use lro_poller::{LAST_POLL_GRACE, Operation, OperationBuilder};

use crate::args::{self, Cli, Command, Common, StartArgs, WatchArgs};
use crate::report::{Ending, Exit, Reporter, UsageError};
use crate::transport::HeaderTransport;

/// Runs the command line; a usage error is the caller's to report.
pub fn run(cli: Cli) -> Result<Exit, UsageError> {
    let (builder, settings) = match cli.command {
        Command::Start(args) => start(args)?,
        Command::Watch(args) => watch(args)?,
    };
    Ok(follow(builder, &settings))
}

/// What every subcommand shares, checked.
struct Settings {
    headers: Vec<(HeaderName, HeaderValue)>,
    protocol: ProtocolKind,
    interval: Option<Duration>,
    ignore_retry_after: bool,
    timeout: Option<Duration>,
    json: bool,
}

impl Settings {
    fn new(common: Common) -> Result<Self, UsageError> {
        Ok(Settings {
            headers: args::headers(&common.headers)?,
            protocol: common.protocol,
            interval: common.interval,
            ignore_retry_after: common.ignore_retry_after,
            timeout: common.timeout,
            json: common.json,
        })
    }

    /// The reqwest transport with the user's headers. Redirects are not
    /// followed (a Graph `303` is the answer, not a hop); cookies are kept for
    /// the run (load balancers pin a client with them).
    fn transport(&self) -> Result<HeaderTransport, UsageError> {
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
        ))
    }

    fn policy(&self) -> PollPolicy {
        let mut policy = match self.interval {
            Some(interval) => PollPolicy::new(Constant::new(interval)),
            None => PollPolicy::default(),
        };
        if self.ignore_retry_after {
            policy = policy.with_retry_after(RetryAfterMode::Ignore);
        }
        if let Some(timeout) = self.timeout {
            policy = policy.with_deadline(timeout);
        }
        policy
    }
}

/// `lro start`: the initial request, with the user's headers and body.
fn start(args: StartArgs) -> Result<(OperationBuilder, Settings), UsageError> {
    let settings = Settings::new(args.common)?;
    let url = args::url(&args.url, "URL")?;
    let method = args::method(&args.method)?;
    let body = args.data.as_deref().map(args::data).transpose()?;
    let mut request = http::Request::new(body.clone().unwrap_or_default());
    *request.method_mut() = method;
    *request.uri_mut() = url
        .as_str()
        .parse()
        .map_err(|_| UsageError::new("URL is not a valid request URI"))?;
    let headers = request.headers_mut();
    for (name, value) in &settings.headers {
        headers.append(name, value.clone());
    }
    if body.is_some() && !headers.contains_key(http::header::CONTENT_TYPE) {
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    let mut builder = Operation::start(settings.transport()?, request);
    if let Some(via) = args.final_state_via {
        builder = builder.with_final_state_via(via);
    }
    Ok((builder, settings))
}

/// `lro watch`: a monitor URL; its own origin is the one headers may go to.
fn watch(args: WatchArgs) -> Result<(OperationBuilder, Settings), UsageError> {
    let settings = Settings::new(args.common)?;
    let url = args::url(&args.monitor_url, "MONITOR_URL")?;
    let builder = Operation::monitor(settings.transport()?, url.as_str());
    Ok((builder, settings))
}

/// Follows the operation to its end, reporting as it goes.
fn follow(builder: OperationBuilder, settings: &Settings) -> Exit {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("lro: cannot start the async runtime: {e}");
            return Exit::Error;
        }
    };
    // The operation's clock starts now, on the runtime's clock.
    let _entered = runtime.enter();
    let operation = match builder
        .with_protocol_kind(settings.protocol)
        .with_policy(settings.policy())
        .with_timer(TokioTimer::new())
        .build()
    {
        Ok(operation) => operation,
        Err(error) => {
            UsageError::new(error.to_string()).report(settings.json);
            return Exit::Usage;
        }
    };
    let mut reporter = Reporter::new(settings.json);
    // The crate bounds polls by the deadline; this also bounds the start
    // request and the result fetch.
    let backstop = settings.timeout.map(|t| t.saturating_add(LAST_POLL_GRACE));
    let ending = runtime.block_on(async {
        let interrupted = async {
            if tokio::signal::ctrl_c().await.is_err() {
                // No signal handler: wait without one.
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            ending = drive(operation, &mut reporter, backstop) => ending,
            () = interrupted => Ending::Interrupted,
        }
    });
    reporter.finish(&ending);
    ending.exit()
}

/// Reports each status, then returns how the operation ended; gives up
/// after `backstop`, if any.
async fn drive(
    mut operation: Operation,
    reporter: &mut Reporter,
    backstop: Option<Duration>,
) -> Ending {
    let limit = backstop.map(|backstop| tokio::time::Instant::now() + backstop);
    let statuses = async {
        while let Some(item) = operation.next().await {
            // An error ends the stream; `outcome` returns it.
            if let Ok(status) = item {
                reporter.status(&status);
            }
        }
    };
    if within(limit, statuses).await.is_none() {
        return expired(&operation);
    }
    let expired_now = expired(&operation);
    match within(limit, operation.outcome()).await {
        Some(Ok(outcome)) => Ending::Succeeded(Box::new(outcome)),
        Some(Err(error)) => Ending::Error(error),
        None => expired_now,
    }
}

/// `future`'s output, or `None` if `limit` passes first.
async fn within<T>(
    limit: Option<tokio::time::Instant>,
    future: impl std::future::Future<Output = T>,
) -> Option<T> {
    match limit {
        Some(limit) => tokio::time::timeout_at(limit, future).await.ok(),
        None => Some(future.await),
    }
}

fn expired(operation: &Operation) -> Ending {
    Ending::TimedOut {
        elapsed: operation.elapsed(),
        polls: operation.polls(),
    }
}
