//! The floor against hammering, over real HTTP and real time: a server that
//! answers `Retry-After: 0` to a zero backoff is still polled at most once a
//! second.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use lro_poller::policy::{ConstantBuilder, PollPolicy, RetryAfterMode};
use lro_poller::{Operation, Transport, TransportError};

use crate::support::{Server, reply, request, run, transport};

/// Notes when each request was sent, then sends it with the real transport.
struct Stopwatch {
    inner: lro_poller::transport::ReqwestTransport,
    sent: Arc<Mutex<Vec<(String, Instant)>>>,
}

#[async_trait::async_trait]
impl Transport for Stopwatch {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let path = request.uri().path().to_owned();
        self.sent.lock().unwrap().push((path, Instant::now()));
        self.inner.send(request).await
    }
}

#[tokio::test]
async fn retry_after_zero_and_a_zero_backoff_poll_once_a_second() {
    for (mode, hint) in [
        (RetryAfterMode::Replace, "0"),
        (RetryAfterMode::Floor, "Sat, 05 Nov 1994 08:49:37 GMT"),
    ] {
        let server = Server::start().await;
        server.on(
            "/copy",
            vec![
                reply(202)
                    .header("location", "/m")
                    .header("retry-after", hint),
            ],
        );
        let running = || {
            reply(202)
                .header("retry-after", hint)
                .json(r#"{"status":"inProgress"}"#)
        };
        server.on(
            "/m",
            vec![
                running(),
                running(),
                reply(200).json(r#"{"status":"completed"}"#),
            ],
        );
        let sent = Arc::new(Mutex::new(Vec::new()));
        let stopwatch = Stopwatch {
            inner: transport(),
            sent: Arc::clone(&sent),
        };
        let policy = PollPolicy::new(ConstantBuilder::new(Duration::ZERO)).with_retry_after(mode);
        let builder = Operation::start(stopwatch, request("POST", &server.url("/copy"), "{}"))
            .with_policy(policy);
        let (_, outcome) = run(builder).await;
        assert!(outcome.is_ok(), "{outcome:?}");
        let sent = sent.lock().unwrap().clone();
        let paths: Vec<&str> = sent.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(paths, ["/copy", "/m", "/m", "/m"]);
        for pair in sent.windows(2) {
            let gap = pair[1].1 - pair[0].1;
            // Tokio's timer counts whole milliseconds.
            assert!(gap >= Duration::from_millis(999), "{mode:?}: {gap:?}");
        }
    }
}
