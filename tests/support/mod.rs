//! Shared by the integration tests: a real HTTP server on 127.0.0.1 (axum),
//! the real reqwest transport, the tokio timer, and helpers to start and run
//! an operation against them. Each test binary uses a part of it.

#![allow(dead_code)]

pub mod server;

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use lro_poller::policy::{ConstantBuilder, PollPolicy};
use lro_poller::transport::ReqwestTransport;
use lro_poller::{AsyncJobStatus, Error, JobState, Operation, OperationBuilder, Outcome};

pub use server::{Server, reply};

/// The bearer token the credentials hook adds where allowed.
pub const TOKEN: &str = "Bearer s3cret-token";

/// A transport that adds `TOKEN` where the marker allows credentials.
pub fn transport() -> ReqwestTransport {
    ReqwestTransport::default().with_credentials(|headers| {
        headers.insert(http::header::AUTHORIZATION, TOKEN.parse().unwrap());
    })
}

/// A quick policy: 10 ms between polls, Retry-After as a floor.
pub fn fast() -> PollPolicy {
    PollPolicy::new(ConstantBuilder::new(Duration::from_millis(10)))
        .with_min_interval(Duration::ZERO)
}

/// A start request.
pub fn request(method: &str, url: &str, body: &str) -> http::Request<Bytes> {
    http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(Bytes::copy_from_slice(body.as_bytes()))
        .unwrap()
}

/// Starts an operation with the fast policy.
pub fn start(method: &str, url: &str, body: &str) -> OperationBuilder {
    Operation::start(transport(), request(method, url, body)).with_policy(fast())
}

/// Drains the stream, then takes the outcome.
pub async fn run(
    builder: OperationBuilder,
) -> (Vec<Result<AsyncJobStatus, Error>>, Result<Outcome, Error>) {
    let mut operation = builder.build().expect("valid setup");
    let mut items = Vec::new();
    while let Some(item) = operation.next().await {
        items.push(item);
    }
    (items, operation.outcome().await)
}

/// The states in the stream's `Ok` items.
pub fn states(items: &[Result<AsyncJobStatus, Error>]) -> Vec<JobState> {
    items
        .iter()
        .filter_map(|i| i.as_ref().ok())
        .map(|s| s.status.clone())
        .collect()
}

/// The `Authorization` header of a request, if any.
pub fn auth(seen: &server::Seen) -> Option<String> {
    seen.headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned())
}

/// A raw TCP server that answers the n-th connection with `answers[n]` (the
/// last repeating), then closes it; an empty answer resets the connection.
pub async fn raw_server(
    answers: Vec<&'static [u8]>,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let n = seen.fetch_add(1, Ordering::SeqCst);
            let answer = answers[n.min(answers.len() - 1)];
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(answer).await;
            if answer.is_empty() {
                // Reset: close with linger 0 sends RST instead of FIN.
                #[allow(deprecated)]
                let _ = socket.set_linger(Some(Duration::ZERO));
            }
            drop(socket);
        }
    });
    (base, count)
}

/// The monitor path `monitor_start` points the start at.
pub const MONITOR: &str = "/monitor/1";

/// Scripts `/start` to answer 202 with a Location to `MONITOR` (and a secret
/// in the query).
pub fn monitor_start(server: &Server) {
    server.on(
        "/start",
        vec![reply(202).header("location", "/monitor/1?tempauth=SECRET")],
    );
}

/// Every request the server saw, as `METHOD /path`, in order.
pub fn methods(server: &Server) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}
