//! The waiter as a [`Protocol`]: the start request is sent again for every
//! attempt, and each answer is read by the acceptors.
//!
//! This file uses only the crate's public protocol API, the one any
//! protocol of a user's own gets: [`Protocol`], [`Next`], [`Polled`],
//! [`Reading`], [`AsyncJobStatus`], [`SavedProtocol`] and [`ProtocolError`].

use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::protocol::ProtocolError;
use crate::protocol::SavedProtocol;
use crate::protocol::{Next, Polled, Protocol, Reading, ResultSource};
use crate::resume::TokenError;
use crate::{AsyncJobStatus, JobState, ServiceError};

use super::acceptor::{AcceptorState, Matcher};
use super::attempt::Attempt;
use super::definition::{Waiter, Waiters};
use super::error::WaiterError;
use super::matching::{Decision, Reply, decide};
use super::reader::{Reader, input};

/// The name resume tokens record for a waiter.
pub(crate) const PROTOCOL_NAME: &str = "waiter";

/// A protocol that waits by sending the start request again until the
/// waiter's acceptors say `success` or `failure`.
///
/// The operation's input (seen by `inputOutput` paths as `input`) is the start
/// request's body read as JSON (`null` when it is empty or not JSON), unless
/// given with [`WaiterProtocol::with_input`].
///
/// Outputs are JSON bodies and error types are read where the AWS protocols
/// put them, unless the SDK brings its own readers
/// ([`with_output_decoder`](Self::with_output_decoder),
/// [`with_error_code_reader`](Self::with_error_code_reader)).
///
/// An error answer that no acceptor matches ends the wait as a failure with
/// the service's error kept, except a transient one (`429`, `500`, `502`,
/// `503`, `504`): that is a failure to read, which the operation's error
/// policy may retry, as an SDK's own retries would before its waiter sees the
/// answer. A successful answer whose body is not JSON, for a waiter that reads
/// outputs with paths, is a protocol error.
#[derive(Debug, Clone)]
pub struct WaiterProtocol {
    name: Option<String>,
    waiter: Arc<Waiter>,
    input: Option<Value>,
    reader: Reader,
}

impl WaiterProtocol {
    /// A protocol for `waiter`.
    pub fn new(waiter: Waiter) -> Self {
        WaiterProtocol {
            name: None,
            waiter: Arc::new(waiter),
            input: None,
            reader: Reader::default(),
        }
    }

    /// The waiter named `name` in `waiters`, with that name.
    pub fn named(waiters: &Waiters, name: &str) -> Result<Self, WaiterError> {
        Ok(WaiterProtocol::new(waiters.get(name)?.clone()).with_name(name))
    }

    /// Names the waiter (shown in each status's `operation`).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The operation's input, for `inputOutput` paths.
    pub fn with_input(mut self, input: Value) -> Self {
        self.input = Some(input);
        self
    }

    /// Reads each successful answer's output with the SDK's own `decode` (XML
    /// services, or a typed output through `serde_json::to_value`), as JSON
    /// with the *model's* member names. An `Err` is a protocol error when an
    /// acceptor reads outputs. Not in a resume token: the protocol restoring
    /// one lends it its own.
    pub fn with_output_decoder<F, E>(mut self, decode: F) -> Self
    where
        F: Fn(&http::Response<Bytes>) -> Result<Value, E> + Send + Sync + 'static,
        E: std::fmt::Display,
    {
        self.reader = self.reader.with_decoder(decode);
        self
    }

    /// Reads each error answer's code with the SDK's own `read` first (the
    /// built-in reading when it says `None`); a model's `awsQueryError` codes
    /// then become their shapes' names for `errorType` acceptors.
    pub fn with_error_code_reader<F>(mut self, read: F) -> Self
    where
        F: Fn(&http::Response<Bytes>) -> Option<String> + Send + Sync + 'static,
    {
        self.reader = self.reader.with_error_code(read);
        self
    }

    /// The waiter.
    pub fn waiter(&self) -> &Waiter {
        &self.waiter
    }

    /// Reads one answer: the decision and the interpretation to report.
    fn read(&self, url: &Url, response: &http::Response<Bytes>) -> Result<Read, ProtocolError> {
        let input = self.input.as_ref().unwrap_or(&Value::Null);
        let code = response.status();
        let (decision, kind) = if code.is_success() {
            let body = match self.reader.output(self.waiter.wire_names(), response) {
                Ok(body) => body,
                Err(_) if !self.reads_outputs() => Value::Null,
                Err(error) => {
                    return Err(ProtocolError::malformed(
                        format!("the answer's output cannot be read: {error}"),
                        url,
                        response,
                    ));
                }
            };
            (
                decide(self.waiter.acceptors(), input, &Reply::Output(&body)),
                None,
            )
        } else {
            let kind = self.reader.error_type(self.waiter.wire_names(), response);
            let decision = decide(
                self.waiter.acceptors(),
                input,
                &Reply::Error(kind.as_deref()),
            );
            (decision, Some(kind))
        };
        let transient = matches!(code.as_u16(), 429 | 500 | 502 | 503 | 504);
        if decision.acceptor.is_none() && kind.is_some() && transient {
            return Ok(Read::Transient);
        }
        let attempt = Attempt {
            waiter: self.name.clone(),
            state: decision.state,
            acceptor: decision.acceptor,
            error_type: kind.flatten(),
            message: decision.message.clone(),
            http_status: code.as_u16(),
        };
        let status = self.status(&decision, &attempt);
        let mut interpretation = Reading::new(status);
        if decision.state == AcceptorState::Success {
            interpretation =
                interpretation.with_result(ResultSource::Body(response.body().clone()));
        }
        Ok(Read::Decided(
            decision.state,
            interpretation.with_details(attempt),
        ))
    }

    /// Whether any acceptor reads the output with a path.
    fn reads_outputs(&self) -> bool {
        self.waiter
            .acceptors()
            .iter()
            .any(|a| matches!(a.matcher, Matcher::Output(_) | Matcher::InputOutput(_)))
    }

    fn status(&self, decision: &Decision, attempt: &Attempt) -> AsyncJobStatus {
        let state = match decision.state {
            AcceptorState::Success => JobState::Completed,
            AcceptorState::Failure => JobState::Failed,
            AcceptorState::Retry => JobState::InProgress,
        };
        let matched = match decision.acceptor {
            Some(index) => format!("acceptor #{index} matched ({})", decision.state),
            None => format!("no acceptor matched ({})", decision.state),
        };
        let mut status = AsyncJobStatus::new(state).with_description(matched);
        if let Some(name) = &self.name {
            status = status.with_operation(name.clone());
        }
        if decision.state == AcceptorState::Failure {
            let message = decision.message.clone().or_else(|| {
                Some(match decision.acceptor {
                    Some(index) => format!("the waiter's acceptor #{index} says failure"),
                    None => format!(
                        "error answer {} that no acceptor matches",
                        attempt.http_status
                    ),
                })
            });
            status = status.with_error(ServiceError::new(attempt.error_type.clone(), message));
        }
        status
    }
}

/// What one answer decided: the state and the reading to report, or a
/// transient failure to read.
#[allow(clippy::large_enum_variant)] // made and taken apart at once, once per answer
enum Read {
    Decided(AcceptorState, Reading),
    Transient,
}

/// What a resume token keeps of a waiter.
#[derive(Serialize, Deserialize)]
struct Saved {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    waiter: Waiter,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    input: Option<Value>,
}

impl Protocol for WaiterProtocol {
    fn name(&self) -> &'static str {
        PROTOCOL_NAME
    }

    fn read_start(
        &self,
        request: &http::Request<Bytes>,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Next, ProtocolError> {
        let mut this = self.clone();
        if this.input.is_none() {
            this.input = Some(input(self.waiter.wire_names(), request.body()));
        }
        match this.read(url, response)? {
            Read::Decided(state, interpretation) if state.is_terminal() => {
                Ok(Next::done(interpretation))
            }
            Read::Decided(_, interpretation) => Ok(Next::resend()
                .with_reading(interpretation)
                .with_protocol(this)),
            Read::Transient => Ok(Next::resend().with_protocol(this)),
        }
    }

    fn read_poll(
        &self,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Polled, ProtocolError> {
        Ok(match self.read(url, response)? {
            Read::Decided(_, interpretation) => Polled::Status(interpretation),
            Read::Transient => Polled::ReadFailure,
        })
    }

    fn save(&self) -> Option<SavedProtocol> {
        let saved = Saved {
            name: self.name.clone(),
            waiter: (*self.waiter).clone(),
            input: self.input.clone(),
        };
        SavedProtocol::from_state(PROTOCOL_NAME, &saved).ok()
    }

    fn restore(&self, saved: &SavedProtocol) -> Result<Box<dyn Protocol>, TokenError> {
        let saved: Saved = saved.state_as()?;
        Ok(Box::new(WaiterProtocol {
            name: saved.name,
            waiter: Arc::new(saved.waiter),
            input: saved.input,
            reader: self.reader.clone(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Route;

    const INSTANCE: &str = include_str!("../../tests/fixtures/waiters/instance_running.json");
    const BUCKET: &str = include_str!("../../tests/fixtures/waiters/bucket_not_exists.json");

    fn protocol(fixture: &str, name: &str) -> WaiterProtocol {
        WaiterProtocol::named(&Waiters::from_json(fixture).unwrap(), name).unwrap()
    }

    fn url() -> Url {
        Url::parse("https://ec2.example/").unwrap()
    }

    fn answer(code: u16, body: &str) -> http::Response<Bytes> {
        http::Response::builder()
            .status(code)
            .body(Bytes::from(body.to_owned()))
            .unwrap()
    }

    fn request(body: &str) -> http::Request<Bytes> {
        http::Request::post("https://ec2.example/")
            .body(Bytes::from(body.to_owned()))
            .unwrap()
    }

    fn instances(states: &[&str]) -> String {
        let list: Vec<String> = states
            .iter()
            .map(|s| {
                format!(
                    r#"{{"State":{{"Name":"{s}"}},"StateReason":{{"Message":"{s} by the test"}}}}"#
                )
            })
            .collect();
        format!(
            r#"{{"Reservations":[{{"Instances":[{}]}}]}}"#,
            list.join(",")
        )
    }

    fn status(protocol: &WaiterProtocol, code: u16, body: &str) -> Reading {
        match protocol.read_poll(&url(), &answer(code, body)).unwrap() {
            Polled::Status(reading) => reading,
            Polled::ReadFailure => panic!("a failure to read"),
        }
    }

    #[test]
    fn each_status_says_which_acceptor_matched() {
        let p = protocol(INSTANCE, "InstanceRunning");
        let pending = status(&p, 200, &instances(&["pending", "running"]));
        assert_eq!(pending.status.status, JobState::InProgress);
        let attempt = pending.details.get::<Attempt>().unwrap();
        assert_eq!(
            (attempt.state, attempt.acceptor),
            (AcceptorState::Retry, None)
        );
        assert_eq!(attempt.waiter.as_deref(), Some("InstanceRunning"));
        assert_eq!(pending.status.operation.as_deref(), Some("InstanceRunning"));

        let running = status(&p, 200, &instances(&["running", "running"]));
        assert_eq!(running.status.status, JobState::Completed);
        assert_eq!(running.details.get::<Attempt>().unwrap().acceptor, Some(0));
        assert!(
            matches!(&running.result, ResultSource::Body(body) if body.starts_with(b"{\"Reservations\""))
        );

        let terminated = status(&p, 200, &instances(&["running", "terminated"]));
        assert_eq!(terminated.status.status, JobState::Failed);
        let attempt = terminated.details.get::<Attempt>().unwrap();
        assert_eq!(
            (attempt.state, attempt.acceptor),
            (AcceptorState::Failure, Some(2))
        );
        let error = terminated.status.error.as_ref().unwrap();
        assert_eq!(
            error.message.as_deref(),
            Some("running by the test; terminated by the test")
        );
    }

    #[test]
    fn error_answers_fail_unless_an_acceptor_takes_them() {
        let p = protocol(INSTANCE, "InstanceRunning");
        let not_yet = status(
            &p,
            400,
            "<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code></Error></Errors></Response>",
        );
        assert_eq!(not_yet.status.status, JobState::InProgress);
        let attempt = not_yet.details.get::<Attempt>().unwrap();
        assert_eq!(attempt.acceptor, Some(4));
        assert_eq!(
            attempt.error_type.as_deref(),
            Some("InvalidInstanceID.NotFound")
        );
        assert_eq!(attempt.http_status, 400);

        let denied = status(&p, 403, r#"{"__type":"AccessDenied","message":"no"}"#);
        assert_eq!(denied.status.status, JobState::Failed);
        let error = denied.status.error.as_ref().unwrap();
        assert_eq!(error.code.as_deref(), Some("AccessDenied"));
        assert_eq!(denied.details.get::<Attempt>().unwrap().acceptor, None);
    }

    #[test]
    fn an_error_type_can_mean_success() {
        let p = protocol(BUCKET, "BucketNotExists");
        assert_eq!(status(&p, 200, "").status.status, JobState::InProgress);
        let gone = status(&p, 404, "");
        assert_eq!(gone.status.status, JobState::Completed);
        assert_eq!(
            gone.details.get::<Attempt>().unwrap().error_type.as_deref(),
            Some("NotFound")
        );
        assert_eq!(status(&p, 403, "").status.status, JobState::Failed);
    }

    #[test]
    fn transient_errors_no_acceptor_takes_are_failures_to_read() {
        let p = protocol(BUCKET, "BucketNotExists");
        for code in [429, 500, 502, 503, 504] {
            assert!(
                matches!(
                    p.read_poll(&url(), &answer(code, "")).unwrap(),
                    Polled::ReadFailure
                ),
                "{code}"
            );
        }
        // An acceptor for the type decides even on a transient status.
        let throttled = Waiters::from_json(
            r#"{"W": {"acceptors": [
            {"state": "success", "matcher": {"success": true}},
            {"state": "failure", "matcher": {"errorType": "Throttling"}}]}}"#,
        )
        .unwrap();
        let p = WaiterProtocol::named(&throttled, "W").unwrap();
        assert_eq!(
            status(&p, 429, r#"{"__type":"Throttling"}"#).status.status,
            JobState::Failed
        );
    }

    #[test]
    fn a_body_that_is_not_json_is_a_protocol_error_when_paths_read_it() {
        let p = protocol(INSTANCE, "InstanceRunning");
        let error = p
            .read_poll(&url(), &answer(200, "<DescribeInstancesResponse/>"))
            .unwrap_err();
        assert!(
            error.to_string().contains("unexpected response"),
            "{error:?}"
        );
        // A waiter that does not read outputs does not care.
        let p = protocol(BUCKET, "BucketExists");
        assert_eq!(status(&p, 200, "<ok/>").status.status, JobState::Completed);
    }

    #[test]
    fn the_start_answer_is_read_by_the_acceptors_too() {
        let p = protocol(INSTANCE, "InstanceRunning");
        let start = p
            .read_start(
                &request("{}"),
                &url(),
                &answer(200, &instances(&["pending"])),
            )
            .unwrap();
        assert!(matches!(start.route(), Route::Resend));
        assert_eq!(start.first_status().unwrap().status, JobState::InProgress);
        assert_eq!(start.protocol().unwrap().name(), PROTOCOL_NAME);

        let done = p
            .read_start(
                &request("{}"),
                &url(),
                &answer(200, &instances(&["running"])),
            )
            .unwrap();
        assert!(matches!(done.route(), Route::Done(r) if r.status.status == JobState::Completed));
        let failed = p
            .read_start(&request("{}"), &url(), &answer(403, ""))
            .unwrap();
        assert!(matches!(failed.route(), Route::Done(r) if r.status.status == JobState::Failed));
        let throttled = p
            .read_start(&request("{}"), &url(), &answer(503, ""))
            .unwrap();
        assert!(matches!(throttled.route(), Route::Resend));
        assert!(throttled.first_status().is_none());
    }

    #[test]
    fn input_output_paths_see_the_start_requests_body() {
        let waiters = Waiters::from_json(
            r#"{"GroupExists": {"acceptors": [{"state": "success",
            "matcher": {"inputOutput": {"path": "length(input.groups) == length(output.groups)",
                                        "expected": "true", "comparator": "booleanEquals"}}}]}}"#,
        )
        .unwrap();
        let p = WaiterProtocol::named(&waiters, "GroupExists").unwrap();
        let start = p
            .read_start(
                &request(r#"{"groups":["a","b"]}"#),
                &url(),
                &answer(200, r#"{"groups":["a"]}"#),
            )
            .unwrap();
        assert!(matches!(start.route(), Route::Resend));
        let next = start.protocol().unwrap();
        let done = next
            .read_poll(&url(), &answer(200, r#"{"groups":["a","b"]}"#))
            .unwrap();
        assert!(matches!(done, Polled::Status(r) if r.status.status == JobState::Completed));
        // Given explicitly, the input wins over the body.
        let p = p.with_input(serde_json::json!({"groups": ["x"]}));
        let done = p
            .read_start(
                &request(r#"{"groups":["a","b"]}"#),
                &url(),
                &answer(200, r#"{"groups":["a"]}"#),
            )
            .unwrap();
        assert!(matches!(done.route(), Route::Done(_)));
    }

    #[test]
    fn saves_and_restores_itself() {
        let p = protocol(INSTANCE, "InstanceRunning")
            .with_input(serde_json::json!({"InstanceIds": ["i-1"]}));
        let saved = p.save().unwrap();
        assert_eq!(saved.name(), PROTOCOL_NAME);
        let text = serde_json::to_string(&saved).unwrap();
        let again: SavedProtocol = serde_json::from_str(&text).unwrap();
        let restored = p.restore(&again).unwrap();
        let pending = restored
            .read_poll(&url(), &answer(200, &instances(&["pending"])))
            .unwrap();
        let Polled::Status(pending) = pending else {
            panic!()
        };
        assert_eq!(
            pending.details.get::<Attempt>().unwrap().waiter.as_deref(),
            Some("InstanceRunning")
        );
        let broken = SavedProtocol::new(PROTOCOL_NAME).with("waiter", 3);
        assert!(p.restore(&broken).is_err());
    }

    #[test]
    fn an_unknown_name_is_an_error() {
        let waiters = Waiters::from_json(BUCKET).unwrap();
        assert!(matches!(
            WaiterProtocol::named(&waiters, "Nope"),
            Err(WaiterError::UnknownWaiter { .. })
        ));
    }

    /// The waiter's default policy, on virtual time: every wait is the Smithy
    /// delay of its attempt (the start request is the first), the last one
    /// is the whole time left, and nothing is sent past the maximum wait
    /// time.
    #[test]
    fn the_default_policy_paces_attempts_within_the_maximum_wait_time() {
        use crate::Operation;
        use crate::testing::{ScriptedTransport, VirtualTimer};
        use futures::StreamExt;
        use std::time::Duration;

        let p = protocol(INSTANCE, "InstanceRunning"); // minDelay 15, maxDelay 120
        let max_wait = Duration::from_secs(900);
        let transport = ScriptedTransport::new();
        for _ in 0..100 {
            transport.push_response(200, &[], instances(&["pending"]));
        }
        let timer = VirtualTimer::new();
        let policy = p.waiter().policy(max_wait);
        let outcome = futures::executor::block_on(async {
            let mut operation = Operation::start(transport.clone(), request("{}"))
                .with_protocol(p)
                .with_policy(policy)
                .with_timer(timer.clone())
                .build()
                .unwrap();
            while operation.next().await.is_some() {}
            operation.outcome().await
        });
        assert!(
            matches!(outcome, Err(crate::Error::GaveUp(_))),
            "{outcome:?}"
        );
        let sleeps = timer.sleeps();
        let total: Duration = sleeps.iter().sum();
        // The last wait is the whole time left: the last attempt is made at
        // the maximum wait time, never after it.
        assert_eq!(total, max_wait, "{sleeps:?}");
        let (last, drawn) = sleeps.split_last().unwrap();
        for (index, sleep) in drawn.iter().enumerate() {
            let upper = 15u64.saturating_mul(1 << index.min(20)).min(120);
            assert_eq!(sleep.subsec_nanos(), 0, "whole seconds");
            assert!(
                (15..=upper).contains(&sleep.as_secs()),
                "wait #{index}: {sleep:?}"
            );
        }
        // The whole time left: a drawn wait (at most maxDelay) plus what would
        // have been left after it (at most minDelay).
        assert!(*last <= Duration::from_secs(120 + 15), "{last:?}");
        // One request per wait, plus the start.
        assert_eq!(transport.requests().len(), sleeps.len() + 1);
    }
}
