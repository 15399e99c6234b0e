//! What the benches share: the monitor's answers, an in-memory transport, and
//! the criterion set-up. Each bench uses part of it.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use criterion::Criterion;
use http::StatusCode;
use lro_poller::{Transport, TransportError};

/// A monitor URL with a token in its query, as Graph hands them out.
pub const MONITOR: &str = "https://api.example/monitor/4A34F1?tempauth=eyJ0eXAiOiJKV1Q";
/// The seed's in-progress report.
pub const IN_PROGRESS: &str =
    r#"{"operation":"ItemCopy","percentageComplete":27.8,"status":"inProgress"}"#;
/// The seed's completed report.
pub const COMPLETED: &str = r#"{"percentageComplete":100.0,"resourceId":"01MOWKALTXPSWA4NCTOJE3R7KMMEZ3SZO6","status":"completed"}"#;

/// Pre-built answers: `polls - 1` in-progress reports, then a completion.
pub fn script(polls: usize) -> Arc<[(StatusCode, Bytes)]> {
    let running = Bytes::from_static(IN_PROGRESS.as_bytes());
    let done = Bytes::from_static(COMPLETED.as_bytes());
    (1..polls)
        .map(|_| (StatusCode::ACCEPTED, running.clone()))
        .chain([(StatusCode::OK, done)])
        .collect()
}

/// Answers from a shared script, in order, at once (static bodies, so no
/// body is allocated); or never answers (a request in flight).
pub struct InMemory {
    answers: Arc<[(StatusCode, Bytes)]>,
    next: AtomicUsize,
    hang: bool,
}

impl InMemory {
    /// Answers from `answers`.
    pub fn new(answers: &Arc<[(StatusCode, Bytes)]>) -> Self {
        InMemory {
            answers: Arc::clone(answers),
            next: AtomicUsize::new(0),
            hang: false,
        }
    }

    /// Never answers.
    pub fn hanging(answers: &Arc<[(StatusCode, Bytes)]>) -> Self {
        InMemory {
            hang: true,
            ..InMemory::new(answers)
        }
    }
}

#[async_trait]
impl Transport for InMemory {
    async fn send(
        &self,
        _request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        if self.hang {
            return futures::future::pending().await;
        }
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        let (code, body) = self
            .answers
            .get(index)
            .ok_or_else(|| TransportError::invalid_request("script exhausted"))?;
        let mut response = http::Response::new(body.clone());
        *response.status_mut() = *code;
        Ok(response)
    }
}

/// Criterion kept short: this machine is shared and noisy.
pub fn criterion(measurement: Duration) -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(measurement)
        .configure_from_args()
}

/// Whether this is a measuring run: `cargo bench` (which passes `--bench`),
/// not `cargo test --benches`, nor listing or profiling.
pub fn measuring() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|arg| arg == "--bench")
        && !args
            .iter()
            .any(|arg| matches!(arg.as_str(), "--list" | "--profile-time"))
}
