//! The same end-to-end operation (start, a few polls, completion) against a
//! real loopback server, on every kind of runtime: tokio multi-thread, tokio
//! current-thread, smol with futures-timer, and `futures::executor::block_on`
//! with futures-timer.
//!
//! The transport here needs no runtime either: each request runs a blocking
//! HTTP client (ureq) on its own thread and hands the answer back through a
//! oneshot channel. The server runs on its own tokio runtime on another thread.

#[path = "support/server.rs"]
#[allow(dead_code)] // shared with the scenario tests, which use all of it
mod server;

use std::io::Read;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use lro_poller::policy::{ConstantBuilder, PollPolicy};
use lro_poller::timer::{FuturesTimer, Timer, TokioTimer};
use lro_poller::{JobState, Operation, Transport, TransportError};
use server::{Server, reply};

/// A runtime-free transport: a blocking client on a thread per request.
#[derive(Clone)]
struct ThreadTransport {
    agent: ureq::Agent,
}

impl ThreadTransport {
    fn new() -> Self {
        ThreadTransport {
            agent: ureq::AgentBuilder::new().redirects(0).build(),
        }
    }
}

fn exchange(
    agent: ureq::Agent,
    request: http::Request<Bytes>,
) -> Result<http::Response<Bytes>, TransportError> {
    let mut call = agent.request(request.method().as_str(), &request.uri().to_string());
    for (name, value) in request.headers() {
        if let Ok(value) = value.to_str() {
            call = call.set(name.as_str(), value);
        }
    }
    let answer = if request.body().is_empty() {
        call.call()
    } else {
        call.send_bytes(request.body())
    };
    let answer = match answer {
        Ok(answer) | Err(ureq::Error::Status(_, answer)) => answer,
        Err(error) => return Err(TransportError::connect(error)),
    };
    let mut response = http::Response::builder().status(answer.status());
    for name in answer.headers_names() {
        for value in answer.all(&name) {
            response = response.header(name.as_str(), value);
        }
    }
    let mut body = Vec::new();
    answer
        .into_reader()
        .take(1 << 20)
        .read_to_end(&mut body)
        .map_err(TransportError::other)?;
    response
        .body(Bytes::from(body))
        .map_err(TransportError::other)
}

#[async_trait::async_trait]
impl Transport for ThreadTransport {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let (tx, rx) = futures::channel::oneshot::channel();
        let agent = self.agent.clone();
        std::thread::spawn(move || {
            let _ = tx.send(exchange(agent, request));
        });
        rx.await
            .unwrap_or_else(|_| Err(TransportError::other("the request thread died")))
    }
}

/// Starts the loopback OneDrive on its own runtime; returns its base URL and
/// a handle to read what it saw.
fn onedrive() -> (
    String,
    std::sync::mpsc::Sender<()>,
    std::thread::JoinHandle<usize>,
) {
    let (url_tx, url_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let handle = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let server = Server::start().await;
            server.on(
                "/drive/items/01F/copy",
                vec![reply(202).header("location", "/monitor/1?tempauth=x")],
            );
            server.on(
                "/monitor/1",
                vec![
                    reply(202).json(r#"{"status":"notStarted","percentageComplete":0}"#),
                    reply(202).json(r#"{"status":"inProgress","percentageComplete":42.5}"#),
                    reply(303).json(r#"{"status":"completed","resourceId":"01COPY"}"#),
                ],
            );
            url_tx.send(server.base().to_string()).unwrap();
            tokio::task::spawn_blocking(move || stop_rx.recv())
                .await
                .ok();
            server.requests().len()
        })
    });
    (url_rx.recv().unwrap(), stop_tx, handle)
}

/// The end-to-end scenario; runs on whatever executor polls it.
async fn copy(base: String, timer: impl Timer + 'static) {
    copy_with(base, Some(Box::new(timer))).await;
}

/// The scenario with a timer, or with the default one (`None`).
async fn copy_with(base: String, timer: Option<Box<dyn Timer>>) {
    let request = http::Request::post(format!("{base}/drive/items/01F/copy"))
        .body(Bytes::from_static(b"{}"))
        .unwrap();
    let mut builder = Operation::start(ThreadTransport::new(), request);
    if let Some(timer) = timer {
        // A `Box<dyn Timer>` is a timer.
        builder = builder.with_timer(timer);
    }
    let mut operation = builder
        .with_policy(
            PollPolicy::new(ConstantBuilder::new(Duration::from_millis(10)))
                .with_min_interval(Duration::ZERO),
        )
        .build()
        .unwrap();
    let mut states = Vec::new();
    while let Some(status) = operation.next().await {
        states.push(status.unwrap().status);
    }
    assert_eq!(
        states,
        [
            JobState::NotStarted,
            JobState::InProgress,
            JobState::Completed
        ]
    );
    let outcome = operation.outcome().await.unwrap();
    assert_eq!(outcome.resource_id(), Some("01COPY"));
    assert_eq!(outcome.polls(), 3);
}

fn check(run: impl FnOnce(String)) {
    let (base, stop, server) = onedrive();
    run(base);
    stop.send(()).unwrap();
    assert_eq!(
        server.join().unwrap(),
        4,
        "one start and three polls, nothing after"
    );
}

#[test]
fn tokio_multi_thread() {
    check(|base| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async { tokio::spawn(copy(base, TokioTimer::new())).await.unwrap() });
    });
}

#[test]
fn tokio_current_thread() {
    check(|base| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(copy(base, TokioTimer::new()));
    });
}

#[test]
fn smol_with_futures_timer() {
    check(|base| smol::block_on(smol::spawn(copy(base, FuturesTimer::new()))));
}

#[test]
fn futures_block_on_with_futures_timer() {
    check(|base| futures::executor::block_on(copy(base, FuturesTimer::new())));
}

/// The `tokio` feature is on (any crate in a dependency graph may turn it on)
/// and no tokio runtime runs here: the default timer is futures-timer's, not
/// a panic.
#[test]
fn block_on_with_the_tokio_feature_and_the_default_timer() {
    assert!(tokio::runtime::Handle::try_current().is_err());
    check(|base| futures::executor::block_on(copy_with(base, None)));
}

/// Tokio's timer polled outside any runtime sleeps anyway, without a panic.
#[test]
fn tokio_timer_outside_a_runtime_does_not_panic() {
    check(|base| futures::executor::block_on(copy(base, TokioTimer::new())));
}

/// `Arc<dyn Timer>` and `Box<dyn Timer>` are timers.
#[test]
fn shared_and_boxed_timers() {
    let shared: std::sync::Arc<dyn Timer> = std::sync::Arc::new(FuturesTimer::new());
    check(|base| futures::executor::block_on(copy(base, shared)));
}
