//! An SDK for an EC2-style query service embeds the crate's waiters: the
//! service answers `DescribeInstances` in XML and names its errors with codes
//! that differ from the model's error shapes. The SDK loads its whole Smithy
//! model, plugs in its own XML decoder and error-code reader, and waits — with
//! the public API only, against a loopback HTTP server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::{Server, reply};
use bytes::Bytes;
use futures::StreamExt;
use lro_poller::policy::{ConstantBuilder, PollPolicy};
use lro_poller::transport::ReqwestTransport;
use lro_poller::waiter::{Attempt, WaiterProtocol, Waiters};
use lro_poller::{AsyncJobStatus, Error, JobState, Operation, Outcome};
use serde_json::{Value, json};

/// The SDK's own code: what a generated EC2 client would carry.
mod ec2 {
    use super::*;

    /// The service's model, as the SDK ships it: the `DescribeInstances`
    /// operation with its waiters, and a modeled error whose wire code
    /// (`awsQueryError`) is not its shape's name.
    pub const MODEL: &str = r#"{
      "smithy": "2.0",
      "shapes": {
        "com.example.ec2#Ec2": {
          "type": "service", "version": "2016-11-15",
          "operations": [{"target": "com.example.ec2#DescribeInstances"}],
          "traits": {"aws.protocols#ec2Query": {}}
        },
        "com.example.ec2#DescribeInstances": {
          "type": "operation",
          "errors": [{"target": "com.example.ec2#InstanceNotFound"}],
          "traits": {"smithy.waiters#waitable": {
            "InstanceRunning": {
              "acceptors": [
                {"state": "success", "matcher": {"output": {"path": "Reservations[].Instances[].State.Name",
                  "expected": "running", "comparator": "allStringEquals"}}},
                {"state": "failure", "matcher": {"output": {"path": "Reservations[].Instances[].State.Name",
                  "expected": "terminated", "comparator": "anyStringEquals"}}},
                {"state": "retry", "matcher": {"errorType": "InstanceNotFound"}}
              ],
              "minDelay": 15
            }
          }}
        },
        "com.example.ec2#InstanceNotFound": {
          "type": "structure", "members": {},
          "traits": {"smithy.api#error": "client",
                     "aws.protocols#awsQueryError": {"code": "InvalidInstanceID.NotFound", "httpResponseCode": 400}}
        }
      }
    }"#;

    /// The texts between each `<open>` and the next `</open>` (the shapes
    /// this service sends do not nest an element in itself).
    fn elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
        let (open, close) = (format!("<{name}>"), format!("</{name}>"));
        let mut found = Vec::new();
        let mut rest = xml;
        while let Some(start) = rest.find(&open) {
            let after = &rest[start + open.len()..];
            let Some(end) = after.find(&close) else { break };
            found.push(&after[..end]);
            rest = &after[end + close.len()..];
        }
        found
    }

    /// The SDK's decoder: a `DescribeInstancesResponse` → the model's output
    /// shape (`Reservations[].Instances[].State.Name`), as JSON.
    pub fn describe_instances_output(answer: &http::Response<Bytes>) -> Result<Value, String> {
        let xml = std::str::from_utf8(answer.body()).map_err(|e| e.to_string())?;
        if !xml.contains("<DescribeInstancesResponse") {
            return Err("not a DescribeInstancesResponse".into());
        }
        let instances: Vec<Value> = elements(xml, "instanceState")
            .into_iter()
            .map(|state| {
                let name = elements(state, "name").first().copied().unwrap_or_default();
                json!({"State": {"Name": name}})
            })
            .collect();
        Ok(json!({"Reservations": [{"Instances": instances}]}))
    }

    /// The SDK's error-code reader: `<Response><Errors><Error><Code>`.
    pub fn error_code(answer: &http::Response<Bytes>) -> Option<String> {
        let xml = std::str::from_utf8(answer.body()).ok()?;
        let errors = elements(xml, "Errors");
        let error = elements(errors.first()?, "Error");
        elements(error.first()?, "Code")
            .first()
            .map(|code| code.to_string())
    }

    pub fn describe_instances(states: &[&str]) -> String {
        let items: String = states
            .iter()
            .enumerate()
            .map(|(i, state)| {
                format!(
                    "<item><instanceId>i-{i}</instanceId><instanceState><code>0</code>\
                     <name>{state}</name></instanceState></item>"
                )
            })
            .collect();
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
             <DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\
             <requestId>req-1</requestId><reservationSet><item><reservationId>r-1</reservationId>\
             <instancesSet>{items}</instancesSet></item></reservationSet></DescribeInstancesResponse>"
        )
    }

    pub const NOT_FOUND: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
        <Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>\
        <Message>The instance ID 'i-0' does not exist</Message></Error></Errors>\
        <RequestID>req-2</RequestID></Response>";
}

/// The query request, byte for byte, that every attempt must send again.
const DESCRIBE: &str = "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0";

fn describe(server: &Server) -> http::Request<Bytes> {
    http::Request::post(server.url("/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Bytes::from_static(DESCRIBE.as_bytes()))
        .unwrap()
}

/// The waiter as the SDK builds it, counting the calls to its error reader.
fn instance_running(error_reads: Arc<AtomicUsize>) -> WaiterProtocol {
    let waiters = Waiters::from_json(ec2::MODEL).unwrap();
    WaiterProtocol::named(&waiters, "InstanceRunning")
        .unwrap()
        .with_output_decoder(ec2::describe_instances_output)
        .with_error_code_reader(move |answer: &http::Response<Bytes>| {
            error_reads.fetch_add(1, Ordering::SeqCst);
            ec2::error_code(answer)
        })
}

/// A quick policy, so that the tests do not wait the waiter's 15 s.
fn fast() -> PollPolicy {
    PollPolicy::new(ConstantBuilder::new(Duration::from_millis(10)))
        .with_min_interval(Duration::ZERO)
}

fn xml(status: u16, body: &str) -> crate::support::server::Reply {
    reply(status)
        .header("content-type", "text/xml;charset=UTF-8")
        .body(body)
}

async fn wait(
    server: &Server,
    waiter: WaiterProtocol,
) -> (Vec<AsyncJobStatus>, Result<Outcome, Error>) {
    let mut operation = Operation::start(ReqwestTransport::default(), describe(server))
        .with_protocol(waiter)
        .with_policy(fast())
        .build()
        .expect("valid setup");
    let mut statuses = Vec::new();
    while let Some(item) = operation.next().await {
        statuses.push(item.expect("every answer is read"));
    }
    (statuses, operation.outcome().await)
}

fn attempt(status: &AsyncJobStatus) -> &Attempt {
    status.details::<Attempt>().expect("a waiter's status")
}

/// The same query, sent `count` times and nothing else.
fn assert_resent(server: &Server, count: usize) {
    let seen = server.requests();
    assert_eq!(seen.len(), count, "requests");
    for (index, request) in seen.iter().enumerate() {
        assert_eq!(request.method, "POST", "request #{index}");
        assert_eq!(request.body, DESCRIBE.as_bytes(), "request #{index}'s body");
    }
}

#[tokio::test]
async fn waits_until_the_instance_runs() {
    let server = Server::start().await;
    server.on(
        "/",
        vec![
            xml(200, &ec2::describe_instances(&["pending"])),
            xml(200, &ec2::describe_instances(&["pending", "running"])),
            xml(200, &ec2::describe_instances(&["running", "running"])),
        ],
    );
    let reads = Arc::new(AtomicUsize::new(0));
    let (statuses, outcome) = wait(&server, instance_running(reads.clone())).await;
    let outcome = outcome.expect("the instances run");
    // The start answer, then two polls; the second poll's answer decides.
    assert_eq!(outcome.polls(), 2);
    let states: Vec<JobState> = statuses.iter().map(|s| s.status.clone()).collect();
    assert_eq!(
        states,
        [
            JobState::InProgress,
            JobState::InProgress,
            JobState::Completed
        ]
    );
    assert_eq!(attempt(&statuses[1]).acceptor, None);
    assert_eq!(attempt(&statuses[2]).acceptor, Some(0));
    assert_eq!(attempt(&statuses[2]).http_status, 200);
    // The result is the answer as the service sent it.
    assert!(outcome.body().expect("a result").starts_with(b"<?xml"));
    assert_eq!(reads.load(Ordering::SeqCst), 0, "no error answer to read");
    assert_resent(&server, 3);
}

#[tokio::test]
async fn a_terminated_instance_fails_the_wait() {
    let server = Server::start().await;
    server.on(
        "/",
        vec![
            xml(200, &ec2::describe_instances(&["pending"])),
            xml(200, &ec2::describe_instances(&["running", "terminated"])),
            xml(200, &ec2::describe_instances(&["running", "running"])),
        ],
    );
    let (statuses, outcome) = wait(&server, instance_running(Arc::default())).await;
    let Err(Error::Failed(status)) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(status.status, JobState::Failed);
    let last = statuses.last().unwrap();
    assert_eq!(attempt(last).acceptor, Some(1));
    // Nothing is sent after the failure acceptor decided.
    assert_resent(&server, 2);
}

#[tokio::test]
async fn a_missing_instance_is_retried_as_its_modeled_error() {
    let server = Server::start().await;
    server.on(
        "/",
        vec![
            xml(400, ec2::NOT_FOUND),
            xml(400, ec2::NOT_FOUND),
            xml(200, &ec2::describe_instances(&["running"])),
        ],
    );
    let reads = Arc::new(AtomicUsize::new(0));
    let (statuses, outcome) = wait(&server, instance_running(reads.clone())).await;
    let outcome = outcome.expect("the instance appears and runs");
    assert_eq!(outcome.polls(), 2);
    // The wire code `InvalidInstanceID.NotFound` is the modeled
    // `InstanceNotFound`, which the retry acceptor names.
    for status in &statuses[..2] {
        assert_eq!(status.status, JobState::InProgress);
        let attempt = attempt(status);
        assert_eq!(attempt.acceptor, Some(2));
        assert_eq!(attempt.error_type.as_deref(), Some("InstanceNotFound"));
        assert_eq!(attempt.http_status, 400);
    }
    assert_eq!(statuses[2].status, JobState::Completed);
    // The SDK's reader read both error answers.
    assert_eq!(reads.load(Ordering::SeqCst), 2);
    assert_resent(&server, 3);
}

#[tokio::test]
async fn without_the_sdks_decoder_an_xml_answer_is_a_protocol_error() {
    let server = Server::start().await;
    server.on("/", vec![xml(200, &ec2::describe_instances(&["pending"]))]);
    let waiters = Waiters::from_json(ec2::MODEL).unwrap();
    let bare = WaiterProtocol::named(&waiters, "InstanceRunning").unwrap();
    let mut operation = Operation::start(ReqwestTransport::default(), describe(&server))
        .with_protocol(bare)
        .with_policy(fast())
        .build()
        .unwrap();
    let first = operation.next().await;
    assert!(matches!(first, Some(Err(Error::Protocol(_)))), "{first:?}");
    assert_resent(&server, 1);
}
