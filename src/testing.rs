//! Test doubles for code that uses this crate (feature `test-util`).
//!
//! - [`VirtualTimer`]: time that passes only when something sleeps on it, at
//!   once, with every sleep recorded. Tests and simulations of hours of polling
//!   run in microseconds and give the same result every time.
//! - [`ScriptedTransport`]: answers requests from a script, in order, and
//!   records what was sent.
//!
//! ```
//! use futures::executor::block_on;
//! use lro_poller::Operation;
//! use lro_poller::testing::{ScriptedTransport, VirtualTimer};
//!
//! let transport = ScriptedTransport::new()
//!     .with_json(202, r#"{"status":"inProgress"}"#)
//!     .with_json(200, r#"{"status":"completed","resourceId":"42"}"#);
//! let timer = VirtualTimer::new();
//! let operation = Operation::monitor(transport.clone(), "https://api.example/m/1")
//!     .with_timer(timer.clone())
//!     .build()
//!     .unwrap();
//! let outcome = block_on(operation.into_future()).unwrap();
//! assert_eq!(outcome.resource_id(), Some("42"));
//! assert_eq!(transport.requests().len(), 2);
//! // The default policy waits 1 s before the first poll, then once more.
//! assert_eq!(timer.sleeps().len(), 2);
//! ```

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;

use crate::timer::{MAX_SLEEP, Sleep, Timer};
use crate::transport::TransportError;
use crate::transport::{RequestMeta, Transport};

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Debug, Default)]
struct Clock {
    offset: Duration,
    sleeps: Vec<Duration>,
    /// Time-outs waiting for the clock to reach their end.
    waiting: Vec<(Duration, Waker)>,
}

impl Clock {
    /// Moves the clock forward; wakes the time-outs it reaches.
    fn advance(&mut self, by: Duration) {
        self.offset = self.offset.saturating_add(by).min(MAX_SLEEP * 10);
        let now = self.offset;
        self.waiting.retain(|(end, waker)| {
            if *end <= now {
                waker.wake_by_ref();
                false
            } else {
                true
            }
        });
    }
}

/// A [`Timer`] on virtual time.
///
/// A sleep completes the first time it is polled, after moving the clock
/// forward by its duration and recording it. Clones share one clock. The clock
/// never moves past about 30 years × 10 (requests beyond are recorded as asked
/// and saturate the clock), so no arithmetic overflows.
///
/// A request in flight takes no virtual time: the deadline raced against it
/// ([`Timer::timeout`]) waits for the clock to be moved — by another sleep on
/// a clone of this timer, or by [`advance`](Self::advance) — and never moves
/// it. So a real server on loopback, slow or not, works with virtual time: a
/// deadline never expires while its request is out, and the policy's sleeps
/// still take no real time. To test a request cut at the deadline, advance
/// the clock while it is out.
#[derive(Debug, Clone)]
pub struct VirtualTimer {
    clock: Arc<Mutex<Clock>>,
    base: Instant,
    wall_base: SystemTime,
}

impl Default for VirtualTimer {
    fn default() -> Self {
        Self::new()
    }
}

impl VirtualTimer {
    /// A clock at zero (its wall clock starts at the real current time).
    pub fn new() -> Self {
        Self::with_wall_clock(SystemTime::now())
    }

    /// A clock at zero whose wall clock starts at `wall` (for `Retry-After`
    /// dates).
    pub fn with_wall_clock(wall: SystemTime) -> Self {
        VirtualTimer {
            clock: Arc::default(),
            base: Instant::now(),
            wall_base: wall,
        }
    }

    /// Time passed on this clock.
    pub fn elapsed(&self) -> Duration {
        lock(&self.clock).offset
    }

    /// Moves the clock forward without recording a sleep (time-outs it
    /// reaches complete).
    pub fn advance(&self, by: Duration) {
        lock(&self.clock).advance(by);
    }

    /// Every sleep that completed, in order, as asked.
    pub fn sleeps(&self) -> Vec<Duration> {
        lock(&self.clock).sleeps.clone()
    }
}

impl Timer for VirtualTimer {
    fn now(&self) -> Instant {
        let offset = self.elapsed();
        self.base.checked_add(offset).unwrap_or(self.base)
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let clock = Arc::clone(&self.clock);
        Box::pin(futures::future::poll_fn(move |_| {
            let mut clock = lock(&clock);
            clock.advance(duration);
            clock.sleeps.push(duration);
            Poll::Ready(())
        }))
    }

    fn timeout(&self, duration: Duration) -> Sleep {
        let clock = Arc::clone(&self.clock);
        let end = self.elapsed().saturating_add(duration).min(MAX_SLEEP * 10);
        Box::pin(futures::future::poll_fn(move |cx| {
            let mut clock = lock(&clock);
            if clock.offset >= end {
                return Poll::Ready(());
            }
            let waker = cx.waker();
            let known = clock
                .waiting
                .iter()
                .any(|(at, w)| *at == end && w.will_wake(waker));
            if !known {
                clock.waiting.push((end, waker.clone()));
            }
            Poll::Pending
        }))
    }

    fn wall_clock(&self) -> SystemTime {
        self.wall_base
            .checked_add(self.elapsed())
            .unwrap_or(self.wall_base)
    }
}

/// A request a [`ScriptedTransport`] received.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method.
    pub method: http::Method,
    /// The URI.
    pub uri: http::Uri,
    /// The headers.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Bytes,
    /// The crate's marker, if the request carried one.
    pub meta: Option<RequestMeta>,
}

#[derive(Debug, Default)]
struct Script {
    answers: VecDeque<Result<http::Response<Bytes>, TransportError>>,
    requests: Vec<RecordedRequest>,
}

/// A [`Transport`] that answers from a script, in order, at once.
///
/// Clones share the script, so a test can keep one to inspect the requests.
/// When the script runs out it answers with a permanent
/// [`TransportError::invalid_request`] error ("script exhausted"), which
/// ends any operation, so a test that polls too often fails visibly.
#[derive(Debug, Clone, Default)]
pub struct ScriptedTransport {
    script: Arc<Mutex<Script>>,
}

impl ScriptedTransport {
    /// An empty script.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an answer.
    pub fn push(&self, answer: Result<http::Response<Bytes>, TransportError>) {
        lock(&self.script).answers.push_back(answer);
    }

    /// Appends a response with status `code`, `headers` and `body`.
    pub fn push_response(&self, code: u16, headers: &[(&str, &str)], body: impl Into<Bytes>) {
        let mut response = http::Response::new(body.into());
        *response.status_mut() =
            http::StatusCode::from_u16(code).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        for (name, value) in headers {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(value),
            ) {
                response.headers_mut().append(name, value);
            }
        }
        self.push(Ok(response));
    }

    /// Appends a JSON response (builder style).
    pub fn with_json(self, code: u16, json: &str) -> Self {
        self.push_response(
            code,
            &[("content-type", "application/json")],
            Bytes::copy_from_slice(json.as_bytes()),
        );
        self
    }

    /// Appends a transport failure (builder style).
    pub fn with_error(self, error: TransportError) -> Self {
        self.push(Err(error));
        self
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.script).requests.clone()
    }

    /// Answers not yet given.
    pub fn remaining(&self) -> usize {
        lock(&self.script).answers.len()
    }
}

#[async_trait]
impl Transport for ScriptedTransport {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let (parts, body) = request.into_parts();
        let mut script = lock(&self.script);
        script.requests.push(RecordedRequest {
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            body,
            meta: parts.extensions.get::<RequestMeta>().copied(),
        });
        script
            .answers
            .pop_front()
            .unwrap_or_else(|| Err(TransportError::invalid_request("script exhausted")))
    }
}
