//! Running a subcommand: set up the operation, follow it, report the end.
//!
//! Each waiting subcommand only says how its operation begins (an
//! [`OperationBuilder`]: a start request, a monitor URL, a resume token);
//! [`follow`] does the rest. `cancel` sends one request and reports it.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use futures::StreamExt;
use lro_poller::timer::TokioTimer;
use lro_poller::{Operation, OperationBuilder, StartRetry};

/// How long the library lets the poll sent at the deadline take.
const LAST_POLL_GRACE: Duration = Duration::from_secs(10);

use crate::args::{self, CancelArgs, Cli, Command, ResumeArgs, StartArgs, WatchArgs};
use crate::exit::Exit;
use crate::report::{Ending, Reporter};
use crate::retries::Retries;
use crate::settings::{Settings, request};
use crate::usage::UsageError;
use crate::wait::wait;

/// Runs the command line; a usage error is the caller's to report.
pub fn run(cli: Cli) -> Result<Exit, UsageError> {
    let (builder, settings) = match cli.command {
        Command::Start(args) => start(args)?,
        Command::Watch(args) => watch(args)?,
        Command::Resume(args) => resume(args)?,
        Command::Cancel(args) => return cancel(args),
        Command::Wait(args) => wait(args)?,
    };
    Ok(follow(builder, &settings))
}

/// `lro start`: the initial request, with the user's headers and body.
fn start(args: StartArgs) -> Result<(OperationBuilder, Settings), UsageError> {
    let mut settings =
        Settings::new(args.common, Some(args.protocol.protocol))?.polling(args.polling)?;
    if args.no_wait {
        settings = settings.no_wait();
    }
    let request = request(
        &args.method,
        &args.url,
        args.data.as_deref(),
        settings.headers(),
    )?;
    let mut builder = Operation::start(settings.transport()?, request);
    if args.retry_start {
        builder = builder.with_start_retry(StartRetry::Always);
    }
    if let Some(via) = args.final_state_via {
        builder = builder.with_final_state_via(via);
    }
    Ok((builder, settings))
}

/// `lro watch`: a monitor URL; its own origin is the one headers may go to.
fn watch(args: WatchArgs) -> Result<(OperationBuilder, Settings), UsageError> {
    let settings =
        Settings::new(args.common, Some(args.protocol.protocol))?.polling(args.polling)?;
    let url = args::url(&args.monitor_url, "MONITOR_URL")?;
    let builder = Operation::monitor(settings.transport()?, url.as_str());
    Ok((builder, settings))
}

/// `lro resume`: a token; its protocol is the one used, and the deadline
/// counts from the operation's original start.
fn resume(args: ResumeArgs) -> Result<(OperationBuilder, Settings), UsageError> {
    let settings = Settings::new(args.common, None)?.polling(args.polling)?;
    let token = args::token(&args.token)?;
    let builder = Operation::resume(settings.transport()?, token);
    Ok((builder, settings))
}

/// `lro cancel`: asks the service to cancel, and does not wait for the end.
fn cancel(args: CancelArgs) -> Result<Exit, UsageError> {
    let settings = Settings::new(args.common, None)?;
    let token = args::token(&args.token)?;
    let builder = Operation::resume(settings.transport()?, token);
    let Some(runtime) = runtime() else {
        return Ok(Exit::Error);
    };
    let _entered = runtime.enter();
    let retries = Retries::default();
    let operation = builder
        .with_timer(TokioTimer::new())
        .on_retry(retries.hook())
        .build()
        .map_err(|error| UsageError::new(error.to_string()))?;
    let protocol = operation.protocol();
    let mut reporter = Reporter::quiet(settings.json);
    let ending = runtime.block_on(async {
        tokio::select! {
            sent = retries.showing(operation.cancel(), &mut reporter) => match sent {
                Ok(()) => Ending::CancelRequested { protocol },
                Err(error) => Ending::Error(error),
            },
            () = interrupted() => Ending::Interrupted { token: None },
        }
    });
    reporter.finish(&ending);
    Ok(ending.exit())
}

/// The single-threaded runtime the CLI runs on.
fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => Some(runtime),
        Err(e) => {
            eprintln!("lro: cannot start the async runtime: {e}");
            None
        }
    }
}

/// Ctrl-C (never, when no handler can be installed).
async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Follows the operation to its end (with `--no-wait`, to its start),
/// reporting as it goes.
fn follow(builder: OperationBuilder, settings: &Settings) -> Exit {
    let Some(runtime) = runtime() else {
        return Exit::Error;
    };
    // The operation's clock starts now, on the runtime's clock.
    let _entered = runtime.enter();
    let retries = Retries::default();
    let mut builder = builder
        .with_policy(settings.policy())
        .with_timer(TokioTimer::new())
        .on_retry(retries.hook());
    if let Some(kind) = settings.protocol {
        builder = builder.with_protocol_kind(kind);
    }
    let operation = match builder.build() {
        Ok(operation) => operation,
        Err(error) => {
            UsageError::new(error.to_string()).report(settings.json);
            return Exit::Usage;
        }
    };
    let mut reporter = Reporter::new(settings.json);
    // The crate bounds polls by the deadline; this also bounds the start
    // request and the result fetch.
    let backstop = settings
        .timeout()
        .map(|t| t.saturating_add(LAST_POLL_GRACE));
    let ending = runtime.block_on(drive(
        operation,
        &mut reporter,
        &retries,
        backstop,
        settings,
    ));
    reporter.finish(&ending);
    ending.exit()
}

/// How the status stream stopped.
enum Stopped {
    /// The stream ended: the operation has its outcome (or error).
    Ended,
    /// `--no-wait`: the start request has been answered and the job runs on.
    Started,
}

/// Reports each status, then returns how the operation ended; gives up
/// after `backstop`, if any, and on Ctrl-C.
async fn drive(
    mut operation: Operation,
    reporter: &mut Reporter,
    retries: &Retries,
    backstop: Option<Duration>,
    settings: &Settings,
) -> Ending {
    let limit = backstop.map(|backstop| tokio::time::Instant::now() + backstop);
    let mut interrupt = pin!(interrupted());
    let stopped = {
        let statuses = statuses(&mut operation, reporter, retries, settings.no_wait);
        tokio::select! {
            stopped = within(limit, statuses) => Some(stopped),
            () = &mut interrupt => None,
        }
    };
    match stopped {
        None => {
            return Ending::Interrupted {
                token: operation.resume_token().map(Box::new),
            };
        }
        Some(None) => return expired(&operation),
        Some(Some(Stopped::Started)) => {
            if let Some(token) = operation.resume_token() {
                return Ending::Started {
                    token: Box::new(token),
                    protocol: operation.protocol(),
                };
            }
        }
        Some(Some(Stopped::Ended)) => {}
    }
    // The job has ended: nothing is held any more (the result may need
    // fetching).
    settings.hold.release();
    let token = operation.resume_token().map(Box::new);
    let expired_now = expired(&operation);
    tokio::select! {
        outcome = retries.showing(within(limit, operation.outcome()), reporter) => match outcome {
            Some(Ok(outcome)) => Ending::Succeeded(Box::new(outcome)),
            Some(Err(error)) => Ending::Error(error),
            None => expired_now,
        },
        () = &mut interrupt => Ending::Interrupted { token },
    }
}

/// Drains the status stream, reporting each status, and each retry as it
/// is told. With `no_wait`, stops instead as
/// soon as the stream waits after the start request was answered (the
/// transport holds every poll back, so none is sent).
async fn statuses(
    operation: &mut Operation,
    reporter: &mut Reporter,
    retries: &Retries,
    no_wait: bool,
) -> Stopped {
    std::future::poll_fn(|cx| {
        loop {
            let polled = operation.poll_next_unpin(cx);
            retries.show(reporter);
            match polled {
                Poll::Ready(Some(Ok(status))) => reporter.status(&status, operation.next_poll_at()),
                // An error ends the stream; `outcome` returns it.
                Poll::Ready(Some(Err(_)) | None) => return Poll::Ready(Stopped::Ended),
                // Waiting: on the start request (no token yet; perhaps
                // before sending it again), or on a poll or a sleep.
                Poll::Pending => {
                    return if no_wait && operation.resume_token().is_some() {
                        Poll::Ready(Stopped::Started)
                    } else {
                        Poll::Pending
                    };
                }
            }
        }
    })
    .await
}

/// `future`'s output, or `None` if `limit` passes first.
async fn within<T>(
    limit: Option<tokio::time::Instant>,
    future: impl Future<Output = T>,
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
        token: operation.resume_token().map(Box::new),
    }
}
