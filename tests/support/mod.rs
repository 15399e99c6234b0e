//! End-to-end scenarios: a real HTTP server on 127.0.0.1 (axum), the real
//! reqwest transport, and the tokio timer.

mod azure;
mod backon_interop;
mod faults;
mod floor;
mod google;
mod graph;
mod lifecycle;
mod sad_paths;
mod sdk;
mod server;
mod start_retry;
mod tower;
mod virtual_time;

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
