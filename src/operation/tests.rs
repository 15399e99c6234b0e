//! Unit tests of the state machine with a scripted transport and virtual time.

use std::future::IntoFuture;
use std::time::Duration;

use bytes::Bytes;
use url::Url;

use super::core::Operation;
use super::outcome::OutcomeFuture;
use crate::TransportError;
use crate::build_error::BuildError;
use crate::error::{Error, GaveUpCause};
use crate::policy::{ConstantBuilder, ExponentialBuilder};
use crate::policy::{ErrorPolicy, PollPolicy};
use crate::protocol::ProtocolError;
use crate::protocol::{Polled, Protocol, Reading, ResultSource};
use crate::status::AsyncJobStatus;
use crate::status::JobState;
use crate::testing::{ScriptedTransport, VirtualTimer};
use crate::transport::RequestKind;
use futures::StreamExt;
use futures::executor::block_on;

const MONITOR: &str = "https://api.example/monitor/1?tempauth=secret";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn operation(transport: &ScriptedTransport, timer: &VirtualTimer, policy: PollPolicy) -> Operation {
    Operation::monitor(transport.clone(), MONITOR)
        .with_timer(timer.clone())
        .with_policy(policy)
        .build()
        .unwrap()
}

fn collect(operation: &mut Operation) -> Vec<Result<AsyncJobStatus, Error>> {
    block_on(operation.by_ref().collect::<Vec<_>>())
}

#[test]
fn yields_each_status_then_ends_and_sends_nothing_more() {
    let transport = ScriptedTransport::new()
        .with_json(202, r#"{"status":"notStarted"}"#)
        .with_json(202, r#"{"status":"inProgress","percentageComplete":27.8}"#)
        .with_json(303, r#"{"status":"completed","resourceId":"01MOW"}"#)
        .with_json(200, r#"{"status":"inProgress"}"#);
    let timer = VirtualTimer::new();
    let mut op = operation(
        &transport,
        &timer,
        PollPolicy::new(ConstantBuilder::new(secs(2))),
    );
    let states: Vec<_> = collect(&mut op)
        .into_iter()
        .map(|s| s.unwrap().status)
        .collect();
    assert_eq!(
        states,
        [
            JobState::NotStarted,
            JobState::InProgress,
            JobState::Completed
        ]
    );
    assert_eq!(transport.requests().len(), 3);
    assert_eq!(timer.sleeps(), [secs(2), secs(2)]);
    assert!(block_on(op.next()).is_none());
    assert_eq!(transport.requests().len(), 3);
    let outcome = block_on(op.outcome()).unwrap();
    assert_eq!(outcome.resource_id(), Some("01MOW"));
    assert_eq!(outcome.polls(), 3);
    assert_eq!(outcome.elapsed(), secs(4));
}

#[test]
fn status_arrives_before_the_sleep() {
    let transport = ScriptedTransport::new()
        .with_json(202, r#"{"status":"inProgress"}"#)
        .with_json(200, r#"{"status":"completed"}"#);
    let timer = VirtualTimer::new();
    let mut op = operation(
        &transport,
        &timer,
        PollPolicy::new(ConstantBuilder::new(secs(60))),
    );
    let first = block_on(op.next()).unwrap().unwrap();
    assert_eq!(first.status, JobState::InProgress);
    assert!(timer.sleeps().is_empty(), "slept before yielding");
    assert_eq!(timer.elapsed(), Duration::ZERO);
}

#[test]
fn failed_job_ends_with_the_service_error() {
    let transport = ScriptedTransport::new().with_json(
        200,
        r#"{"status":"failed","error":{"code":"nameAlreadyExists","message":"taken"}}"#,
    );
    let timer = VirtualTimer::new();
    let op = operation(&transport, &timer, PollPolicy::default());
    let error = block_on(op.outcome()).unwrap_err();
    let status = error.job_status().unwrap();
    assert_eq!(status.status, JobState::Failed);
    assert_eq!(
        status.error.as_ref().unwrap().code.as_deref(),
        Some("nameAlreadyExists")
    );
}

#[test]
fn transient_failures_are_retried_then_permanent_ones_end() {
    let transport = ScriptedTransport::new()
        .with_error(TransportError::connect("scripted failure"))
        .with_json(503, r#"{"error":{"code":"busy"}}"#)
        .with_json(200, r#"{"status":"inProgress"}"#)
        .with_json(403, r#"{"error":{"code":"accessDenied","message":"no"}}"#);
    let timer = VirtualTimer::new();
    let mut op = operation(
        &transport,
        &timer,
        PollPolicy::new(ConstantBuilder::new(secs(1))),
    );
    let items = collect(&mut op);
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().unwrap().status, JobState::InProgress);
    let error = items[1].as_ref().unwrap_err();
    assert_eq!(error.http_status(), Some(http::StatusCode::FORBIDDEN));
    assert!(error.to_string().contains("accessDenied"));
    assert!(!error.to_string().contains("secret"));
    assert_eq!(transport.requests().len(), 4);
}

#[test]
fn retries_stop_at_the_limit() {
    let transport = ScriptedTransport::new();
    for _ in 0..10 {
        transport.push_response(500, &[], "oops");
    }
    let timer = VirtualTimer::new();
    let op = Operation::monitor(transport.clone(), MONITOR)
        .with_timer(timer.clone())
        .with_error_policy(ErrorPolicy::default().with_max_retries(3))
        .build()
        .unwrap();
    let error = block_on(op.outcome()).unwrap_err();
    assert!(
        matches!(&error, Error::Request(e) if e.attempts() == 4),
        "{error:?}"
    );
    assert_eq!(transport.requests().len(), 4);
}

#[test]
fn expired_monitor_is_typed_and_not_retried() {
    let transport = ScriptedTransport::new()
        .with_json(202, r#"{"status":"inProgress"}"#)
        .with_json(404, r#"{"error":{"code":"operationNotFound"}}"#)
        .with_json(200, r#"{"status":"completed"}"#);
    let timer = VirtualTimer::new();
    let op = operation(&transport, &timer, PollPolicy::default());
    let error = block_on(op.outcome()).unwrap_err();
    assert!(
        matches!(&error, Error::Request(e) if e.monitor_expired()),
        "{error:?}"
    );
    assert_eq!(transport.remaining(), 1);
}

#[test]
fn retry_after_is_a_floor_and_capped() {
    let transport = ScriptedTransport::new();
    transport.push_response(202, &[("retry-after", "7")], r#"{"status":"inProgress"}"#);
    transport.push_response(
        202,
        &[("retry-after", "9999999999")],
        r#"{"status":"inProgress"}"#,
    );
    transport.push_response(429, &[("retry-after-ms", "1500")], "");
    transport.push_response(200, &[], r#"{"status":"completed"}"#);
    let timer = VirtualTimer::new();
    let policy = PollPolicy::new(ConstantBuilder::new(secs(1))).with_retry_after_cap(secs(120));
    block_on(operation(&transport, &timer, policy).outcome()).unwrap();
    assert_eq!(
        timer.sleeps(),
        [secs(7), secs(120), Duration::from_millis(1500)]
    );
}

#[test]
fn deadline_polls_once_at_the_deadline_then_gives_up() {
    let transport = ScriptedTransport::new();
    for _ in 0..10 {
        transport.push_response(202, &[], r#"{"status":"inProgress"}"#);
    }
    let timer = VirtualTimer::new();
    let policy = PollPolicy::new(ConstantBuilder::new(secs(10))).with_deadline(secs(25));
    let error = block_on(operation(&transport, &timer, policy).outcome()).unwrap_err();
    assert!(
        matches!(&error, Error::GaveUp(g) if *g.cause() == GaveUpCause::Deadline && g.polls() == 4 && g.elapsed() == secs(25)),
        "{error:?}"
    );
    assert_eq!(timer.sleeps(), [secs(10), secs(10), secs(5)]);
}

#[test]
fn poll_limit_ends_the_operation() {
    let transport = ScriptedTransport::new();
    for _ in 0..10 {
        transport.push_response(202, &[], r#"{"status":"waiting"}"#);
    }
    let timer = VirtualTimer::new();
    let policy = PollPolicy::new(ConstantBuilder::new(secs(1))).with_max_polls(3);
    let error = block_on(operation(&transport, &timer, policy).outcome()).unwrap_err();
    assert!(
        matches!(&error, Error::GaveUp(g) if *g.cause() == GaveUpCause::PollLimit && g.polls() == 3),
        "{error:?}"
    );
    assert_eq!(transport.requests().len(), 3);
}

#[test]
fn initial_delay_comes_before_the_first_poll() {
    let transport = ScriptedTransport::new().with_json(200, r#"{"status":"completed"}"#);
    let timer = VirtualTimer::new();
    let policy = PollPolicy::new(ConstantBuilder::new(secs(1))).with_initial_delay(secs(3));
    block_on(operation(&transport, &timer, policy).outcome()).unwrap();
    assert_eq!(timer.sleeps(), [secs(3)]);
}

#[test]
fn a_new_location_replaces_the_monitor_and_polls_carry_a_marker() {
    let transport = ScriptedTransport::new();
    transport.push_response(
        202,
        &[("location", "https://other.example/m/2")],
        r#"{"status":"inProgress"}"#,
    );
    transport.push_response(200, &[], r#"{"status":"completed"}"#);
    let timer = VirtualTimer::new();
    block_on(operation(&transport, &timer, PollPolicy::default()).outcome()).unwrap();
    let requests = transport.requests();
    assert_eq!(requests[1].uri, "https://other.example/m/2");
    let first = requests[0].meta.unwrap();
    assert_eq!(first.kind, RequestKind::Poll);
    assert!(first.same_origin && !first.credentials_allowed());
    assert!(!requests[1].meta.unwrap().same_origin);
}

#[test]
fn garbage_ends_with_a_protocol_error_not_a_completion() {
    // A run of unreadable answers (one more than the retry bound) ends the
    // wait with a protocol error that carries a token.
    let transport = ScriptedTransport::new();
    for _ in 0..6 {
        transport.push_response(200, &[], "<html>hello</html>");
    }
    let timer = VirtualTimer::new();
    let error =
        block_on(operation(&transport, &timer, PollPolicy::default()).outcome()).unwrap_err();
    assert!(matches!(error, Error::Protocol(_)), "{error:?}");
    assert_eq!(error.resume_token().map(|t| t.polls), Some(6));
    assert_eq!(transport.requests().len(), 6);
}

#[test]
fn one_unreadable_answer_is_retried_like_a_failed_read() {
    let transport = ScriptedTransport::new()
        .with_json(200, r#"{"status":"inProgress"}"#)
        .with_json(200, r#"{"status":"inProg"#)
        .with_json(200, r#"{"status":"completed"}"#);
    let timer = VirtualTimer::new();
    let outcome = block_on(operation(&transport, &timer, PollPolicy::default()).outcome());
    assert!(outcome.unwrap().status().status.is_success());
    assert_eq!(transport.requests().len(), 3);
}

#[test]
fn dropping_stops_polling() {
    let transport = ScriptedTransport::new()
        .with_json(202, r#"{"status":"inProgress"}"#)
        .with_json(200, r#"{"status":"completed"}"#);
    let timer = VirtualTimer::new();
    let mut op = operation(
        &transport,
        &timer,
        PollPolicy::new(ExponentialBuilder::new(secs(1), 2.0, secs(8))),
    );
    block_on(op.next()).unwrap().unwrap();
    drop(op);
    assert_eq!(transport.requests().len(), 1);
    assert!(timer.sleeps().is_empty());
}

#[test]
fn bad_setup_is_a_build_error() {
    let transport = ScriptedTransport::new();
    assert!(matches!(
        Operation::monitor(transport.clone(), "not a url")
            .with_timer(VirtualTimer::new())
            .build(),
        Err(BuildError::InvalidUrl {
            role: "monitor",
            ..
        })
    ));
    assert!(matches!(
        Operation::monitor(transport, "ftp://host/x")
            .with_timer(VirtualTimer::new())
            .build(),
        Err(BuildError::UnsupportedScheme { role: "monitor", ref scheme, .. }) if scheme == "ftp"
    ));
}

#[test]
fn debug_output_is_redacted() {
    let transport = ScriptedTransport::new();
    let op = operation(&transport, &VirtualTimer::new(), PollPolicy::default());
    let shown = format!("{op:?}");
    assert!(
        shown.contains("api.example") && !shown.contains("secret"),
        "{shown}"
    );
}

/// Graph's reading of the status, with a result source on completion.
#[derive(Debug)]
struct WithResult(ResultSource);

impl Protocol for WithResult {
    fn name(&self) -> &'static str {
        "with-result"
    }

    fn read_poll(
        &self,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Polled, ProtocolError> {
        let Polled::Status(reading) = crate::protocol::Graph::new().read_poll(url, response)?
        else {
            return Ok(Polled::ReadFailure);
        };
        Ok(Polled::Status(if reading.status.status.is_terminal() {
            reading.with_result(self.0.clone())
        } else {
            reading
        }))
    }
}

#[test]
fn the_result_comes_from_the_answer_or_a_fetch() {
    let transport = ScriptedTransport::new()
        .with_json(202, r#"{"status":"inProgress"}"#)
        .with_json(200, r#"{"status":"completed"}"#)
        .with_json(200, r#"{"id":"42"}"#);
    let result = Url::parse("https://api.example/result/1").unwrap();
    let op = Operation::monitor(transport.clone(), MONITOR)
        .with_timer(VirtualTimer::new())
        .with_protocol(WithResult(ResultSource::Fetch(result)))
        .build()
        .unwrap();
    let outcome = block_on(op.outcome()).unwrap();
    assert_eq!(outcome.body().unwrap().as_ref(), br#"{"id":"42"}"#);
    assert_eq!(outcome.status().status, JobState::Completed);
    assert_eq!(outcome.polls(), 2);
    let requests = transport.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[2].uri, "https://api.example/result/1");
    assert_eq!(requests[2].meta.unwrap().kind, RequestKind::Result);

    let transport = ScriptedTransport::new().with_json(200, r#"{"status":"completed"}"#);
    let op = Operation::monitor(transport.clone(), MONITOR)
        .with_timer(VirtualTimer::new())
        .with_protocol(WithResult(ResultSource::Body(Bytes::from_static(b"done"))))
        .build()
        .unwrap();
    let outcome = block_on(op.outcome()).unwrap();
    assert_eq!(outcome.body().unwrap().as_ref(), b"done");
    assert_eq!(transport.requests().len(), 1);
}

#[test]
fn operation_and_its_future_stay_small() {
    let size = std::mem::size_of::<Operation>();
    assert!(size <= 768, "{size}");
    let transport = ScriptedTransport::new();
    let op = operation(&transport, &VirtualTimer::new(), PollPolicy::default());
    let future = IntoFuture::into_future(op);
    let future_size = std::mem::size_of_val(&*future);
    assert!(
        future_size <= size + 64,
        "{future_size} for an operation of {size}"
    );
}

fn _operation_is_send_and_unpin() {
    fn check<T: Send + Unpin + 'static>() {}
    check::<Operation>();
    check::<OutcomeFuture>();
}

/// A start whose protocol says "done" with a running status.
#[derive(Debug)]
struct DoneTooSoon;

impl Protocol for DoneTooSoon {
    fn name(&self) -> &'static str {
        "done-too-soon"
    }

    fn read_start(
        &self,
        _request: &http::Request<Bytes>,
        _url: &Url,
        _response: &http::Response<Bytes>,
    ) -> Result<crate::protocol::Next, ProtocolError> {
        Ok(crate::protocol::Next::done(Reading::new(
            AsyncJobStatus::new(JobState::InProgress),
        )))
    }

    fn read_poll(
        &self,
        _url: &Url,
        _response: &http::Response<Bytes>,
    ) -> Result<Polled, ProtocolError> {
        Ok(Polled::ReadFailure)
    }
}

#[test]
fn a_start_said_done_with_a_running_status_is_a_protocol_error() {
    let transport = ScriptedTransport::new().with_json(200, "{}");
    let request = http::Request::post("https://api.example/jobs")
        .body(Bytes::new())
        .unwrap();
    let error = block_on(
        Operation::start(transport.clone(), request)
            .with_protocol(DoneTooSoon)
            .with_timer(VirtualTimer::new())
            .build()
            .unwrap()
            .outcome(),
    )
    .unwrap_err();
    assert!(
        matches!(&error, Error::Protocol(p) if p.message().contains("done-too-soon")),
        "{error:?}"
    );
    assert_eq!(transport.requests().len(), 1);
}

#[test]
fn the_answer_rides_on_the_yielded_status_and_is_not_kept_between_polls() {
    let transport = ScriptedTransport::new();
    transport.push_response(
        202,
        &[("x-request-id", "r1")],
        r#"{"status":"inProgress","percentageComplete":5}"#,
    );
    transport.push_response(
        200,
        &[("x-request-id", "r2")],
        r#"{"status":"completed","resourceId":"01X"}"#,
    );
    let timer = VirtualTimer::new();
    let mut op = operation(&transport, &timer, PollPolicy::default());
    let first = block_on(op.next()).unwrap().unwrap();
    let answer = first.answer().expect("the yielded status has its answer");
    assert_eq!(answer.status(), http::StatusCode::ACCEPTED);
    assert_eq!(answer.header("x-request-id"), Some("r1"));
    assert_eq!(
        first.json::<serde_json::Value>().unwrap().unwrap()["percentageComplete"],
        5
    );
    assert!(
        op.last_status().unwrap().answer().is_none(),
        "nothing held between polls"
    );
    let outcome = block_on(op.outcome()).unwrap();
    let last = outcome.status().answer().expect("the final answer is kept");
    assert_eq!(last.header("x-request-id"), Some("r2"));
}

#[test]
fn awaiting_keeps_no_answer_between_polls_but_keeps_the_failed_one() {
    let transport = ScriptedTransport::new()
        .with_json(202, r#"{"status":"inProgress"}"#)
        .with_json(200, r#"{"status":"failed","error":{"code":"boom"}}"#);
    let op = operation(&transport, &VirtualTimer::new(), PollPolicy::default());
    let error = block_on(op.outcome()).unwrap_err();
    let status = error.job_status().unwrap();
    assert_eq!(
        status.answer().map(|a| a.body().len()),
        Some(br#"{"status":"failed","error":{"code":"boom"}}"#.len())
    );
}

/// Re-sends the start request; `ready` in the body ends it.
#[derive(Debug)]
struct Resend;

impl Protocol for Resend {
    fn name(&self) -> &'static str {
        "resend"
    }

    fn read_start(
        &self,
        _request: &http::Request<Bytes>,
        _url: &Url,
        _response: &http::Response<Bytes>,
    ) -> Result<crate::protocol::Next, ProtocolError> {
        Ok(crate::protocol::Next::resend())
    }

    fn read_poll(
        &self,
        _url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Polled, ProtocolError> {
        let state = if response.body().as_ref() == b"ready" {
            JobState::Completed
        } else {
            JobState::InProgress
        };
        Ok(Polled::Status(Reading::new(AsyncJobStatus::new(state))))
    }
}

#[test]
fn a_resend_start_polls_with_copies_of_the_start_request() {
    let transport = ScriptedTransport::new();
    for body in ["creating", "creating", "ready"] {
        transport.push_response(200, &[], body);
    }
    let request = http::Request::put("https://api.example/tables/t?x=1")
        .header("x-target", "Describe")
        .body(Bytes::from_static(b"{\"t\":1}"))
        .unwrap();
    let op = Operation::start(transport.clone(), request)
        .with_protocol(Resend)
        .with_timer(VirtualTimer::new())
        .build()
        .unwrap();
    let outcome = block_on(op.outcome()).unwrap();
    assert_eq!(outcome.polls(), 2);
    let requests = transport.requests();
    assert_eq!(requests.len(), 3);
    for (i, request) in requests.iter().enumerate() {
        assert_eq!(request.method, http::Method::PUT);
        assert_eq!(request.uri, "https://api.example/tables/t?x=1");
        assert_eq!(request.body.as_ref(), b"{\"t\":1}");
        assert_eq!(request.headers["x-target"], "Describe");
        let kind = request.meta.unwrap().kind;
        assert_eq!(
            kind,
            if i == 0 {
                RequestKind::Start
            } else {
                RequestKind::Poll
            }
        );
    }
}

#[test]
fn an_operation_that_could_not_be_built_says_so_at_its_first_poll_and_at_its_end() {
    let transport = ScriptedTransport::new();
    let mut op = Operation::monitor(transport.clone(), "ftp://host/x")
        .with_timer(VirtualTimer::new())
        .into_operation();
    assert!(op.resume_token().is_none());
    let first = block_on(op.next()).expect("an item");
    let Err(Error::Build(error)) = first else {
        panic!("{first:?}");
    };
    assert!(matches!(*error, BuildError::UnsupportedScheme { .. }));
    assert!(block_on(op.next()).is_none());
    assert!(matches!(block_on(op.outcome()), Err(Error::Build(_))));
    // Awaited without polling the stream: the same error.
    let op = Operation::monitor(transport.clone(), "not a url")
        .with_timer(VirtualTimer::new())
        .into_operation();
    assert!(matches!(
        block_on(IntoFuture::into_future(op)),
        Err(Error::Build(_))
    ));
    assert!(transport.requests().is_empty(), "nothing was sent");
}
