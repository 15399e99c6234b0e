//! The state machine's rules hold for a protocol of one's own: for any script
//! of answers, an operation with a custom protocol ends exactly when the
//! protocol's `read_poll` says terminal (or reads garbage), sends nothing
//! after, and a token taken at any running status round-trips and resumes
//! to the same end.

use std::time::Duration;

use futures::StreamExt;
use futures::executor::block_on;
use lro_poller::TokenError;
use lro_poller::bytes::Bytes;
use lro_poller::http;
use lro_poller::policy::{ConstantBuilder, ErrorPolicy, PollPolicy};
use lro_poller::protocol::SavedProtocol;
use lro_poller::protocol::{Next, Polled, Protocol, ProtocolError, Reading};
use lro_poller::testing::{ScriptedTransport, VirtualTimer};
use lro_poller::url::Url;
use lro_poller::{AsyncJobStatus, Error, JobState, Operation, ResumeToken};
use proptest::prelude::*;

/// A ticket whose answers are plain text: `running <n>`, `done`, `failed`.
#[derive(Debug, Clone)]
struct Ticket {
    queue: String,
}

impl Protocol for Ticket {
    fn name(&self) -> &'static str {
        "ticket"
    }

    fn read_start(
        &self,
        _request: &http::Request<Bytes>,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Next, ProtocolError> {
        match response.status().as_u16() {
            202 => Ok(Next::poll(url.clone())),
            _ => Ok(Next::refused()),
        }
    }

    fn poll_request(&self, monitor: &Url) -> http::Request<Bytes> {
        http::Request::head(monitor.as_str())
            .body(Bytes::new())
            .unwrap()
    }

    fn read_poll(
        &self,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Polled, ProtocolError> {
        if response.status().is_server_error() {
            return Ok(Polled::ReadFailure);
        }
        let text = std::str::from_utf8(response.body()).unwrap_or("");
        let status = match text.split_once(' ') {
            Some(("running", n)) => match n.parse::<f64>() {
                Ok(n) => AsyncJobStatus::new(JobState::InProgress).with_percentage(n),
                Err(_) => return Err(ProtocolError::malformed("bad progress", url, response)),
            },
            _ if text == "done" => AsyncJobStatus::new(JobState::Completed),
            _ if text == "failed" => AsyncJobStatus::new(JobState::Failed),
            _ => {
                return Err(ProtocolError::malformed(
                    "not a ticket answer",
                    url,
                    response,
                ));
            }
        };
        Ok(Polled::Status(
            Reading::new(status).with_details(self.queue.clone()),
        ))
    }

    fn save(&self) -> Option<SavedProtocol> {
        Some(SavedProtocol::new(self.name()).with("queue", self.queue.clone()))
    }

    fn restore(&self, saved: &SavedProtocol) -> Result<Box<dyn Protocol>, TokenError> {
        let queue = saved.state()["queue"]
            .as_str()
            .ok_or_else(|| TokenError::new("no queue"))?;
        Ok(Box::new(Ticket {
            queue: queue.to_owned(),
        }))
    }
}

/// One answer to a poll.
#[derive(Debug, Clone)]
enum Step {
    Running(u8),
    Done,
    Failed,
    Garbage(String),
    Unavailable,
}

impl Step {
    fn answer(&self) -> (u16, String) {
        match self {
            Step::Running(n) => (200, format!("running {n}")),
            Step::Done => (200, "done".into()),
            Step::Failed => (200, "failed".into()),
            Step::Garbage(text) => (200, text.clone()),
            Step::Unavailable => (503, String::new()),
        }
    }
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0u8..=100).prop_map(Step::Running),
        1 => Just(Step::Done),
        1 => Just(Step::Failed),
        1 => "[a-z ]{0,12}".prop_filter("not a valid answer", |t| {
            !(t == "done" || t == "failed" || t.starts_with("running "))
        }).prop_map(Step::Garbage),
        2 => Just(Step::Unavailable),
    ]
}

const RETRIES: u32 = 3;

/// How the script must end, and after how many polls.
#[derive(Debug, PartialEq)]
enum End {
    Completed(usize),
    Failed(usize),
    Malformed(usize),
    Unavailable(usize),
    /// The script ran out while the job was running.
    Exhausted,
}

fn predict(steps: &[Step]) -> End {
    let mut failures = 0;
    for (i, step) in steps.iter().enumerate() {
        let polls = i + 1;
        match step {
            Step::Done => return End::Completed(polls),
            Step::Failed => return End::Failed(polls),
            // An unreadable answer is a failed read, as a 503 is: a run of
            // them past the bound ends, with the last one's error.
            Step::Garbage(_) => {
                failures += 1;
                if failures > RETRIES {
                    return End::Malformed(polls);
                }
            }
            Step::Unavailable => {
                failures += 1;
                if failures > RETRIES {
                    return End::Unavailable(polls);
                }
            }
            Step::Running(_) => failures = 0,
        }
    }
    End::Exhausted
}

const URL: &str = "https://tickets.example/queues/q1/tickets/7";

fn transport(steps: &[Step]) -> ScriptedTransport {
    let transport = ScriptedTransport::new();
    for step in steps {
        let (code, body) = step.answer();
        transport.push_response(code, &[], body);
    }
    transport
}

fn policy() -> PollPolicy {
    PollPolicy::new(ConstantBuilder::new(Duration::from_secs(2))).without_deadline()
}

fn builder(op: lro_poller::OperationBuilder) -> Operation {
    op.with_policy(policy())
        .with_error_policy(ErrorPolicy::default().with_max_retries(RETRIES))
        .with_timer(VirtualTimer::new())
        .build()
        .unwrap()
}

/// Drives `operation` to its end: the statuses, then how it ended.
fn drive(mut operation: Operation) -> (Vec<JobState>, End) {
    let mut states = Vec::new();
    let mut error = None;
    while let Some(item) = block_on(operation.next()) {
        match item {
            Ok(status) => {
                assert_eq!(status.details::<String>().map(String::as_str), Some("q1"));
                states.push(status.status)
            }
            Err(e) => error = Some(e),
        }
    }
    let polls = operation.polls() as usize;
    let outcome = block_on(operation.outcome());
    let end = match (outcome, error) {
        (Ok(_), None) => End::Completed(polls),
        (Err(e), _) if e.job_status().is_some() => End::Failed(polls),
        (Err(Error::Protocol(p)), _) if p.message().contains("ticket") => End::Malformed(polls),
        (Err(Error::Request(h)), _)
            if h.status() == Some(http::StatusCode::SERVICE_UNAVAILABLE) =>
        {
            End::Unavailable(polls)
        }
        (Err(Error::Request(e)), _) if e.transport_error().is_some() => End::Exhausted,
        (other, e) => panic!("unexpected end {other:?} {e:?}"),
    };
    (states, end)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn a_custom_protocol_ends_exactly_when_it_says_terminal(steps in proptest::collection::vec(step(), 0..30)) {
        let ordered = ScriptedTransport::new();
        ordered.push_response(202, &[], "");
        for step in &steps {
            let (code, body) = step.answer();
            ordered.push_response(code, &[], body);
        }
        let request = http::Request::post(URL).body(Bytes::from_static(b"open")).unwrap();
        let operation = builder(
            Operation::start(ordered.clone(), request).with_protocol(Ticket { queue: "q1".into() }),
        );
        let (states, end) = drive(operation);
        let expected = predict(&steps);
        prop_assert_eq!(&end, &expected);
        // Never a request after the end: the rest of the script is untouched.
        let polls = match expected {
            End::Completed(n) | End::Failed(n) | End::Malformed(n) | End::Unavailable(n) => n,
            End::Exhausted => steps.len(),
        };
        prop_assert_eq!(ordered.remaining(), steps.len() - polls);
        if !matches!(expected, End::Exhausted) {
            prop_assert_eq!(ordered.requests().len(), 1 + polls);
        }
        // Every running or terminal answer read became a status, in order.
        let read: Vec<JobState> = steps
            .iter()
            .take(polls)
            .filter_map(|s| match s {
                Step::Running(_) => Some(JobState::InProgress),
                Step::Done => Some(JobState::Completed),
                Step::Failed => Some(JobState::Failed),
                _ => None,
            })
            .collect();
        prop_assert_eq!(states, read);
    }

    #[test]
    fn a_token_taken_at_any_running_status_round_trips_and_resumes_to_the_same_end(
        steps in proptest::collection::vec(step(), 1..30),
        cut in any::<prop::sample::Index>(),
    ) {
        let expected = predict(&steps);
        // Where the token is taken: right after some running status was read.
        let running: Vec<usize> = steps
            .iter()
            .enumerate()
            .take_while(|(i, _)| match expected {
                End::Completed(n) | End::Failed(n) | End::Malformed(n) | End::Unavailable(n) => *i + 1 < n,
                End::Exhausted => true,
            })
            .filter(|(_, s)| matches!(s, Step::Running(_)))
            .map(|(i, _)| i)
            .collect();
        prop_assume!(!running.is_empty());
        let at = running[cut.index(running.len())];

        let first = transport(&steps[..=at]);
        let mut operation = builder(
            Operation::monitor(first.clone(), URL).with_protocol(Ticket { queue: "q1".into() }),
        );
        let mut seen = 0;
        while seen <= at {
            block_on(operation.next()).unwrap().ok();
            seen = operation.polls() as usize;
        }
        let token = operation.resume_token().unwrap();
        let text = token.to_string();
        let back: ResumeToken = text.parse().unwrap();
        prop_assert_eq!(&back, &token);
        prop_assert_eq!(back.polls as usize, at + 1);
        drop(operation);

        let rest = transport(&steps[at + 1..]);
        let resumed = builder(
            Operation::resume(rest.clone(), back).with_protocol(Ticket { queue: "other".into() }),
        );
        // The poll count goes on from the token, so the end is the same.
        let (_, end) = drive(resumed);
        prop_assert_eq!(end, expected);
    }
}
