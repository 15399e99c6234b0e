//! Waiters end to end: a real HTTP server on 127.0.0.1 (axum) answers a
//! describe call, the real reqwest transport re-sends it, and the waiter's
//! acceptors read each answer. Every test checks what the server received.

use std::time::Duration;

use crate::support::{Server, reply};
use bytes::Bytes;
use futures::StreamExt;
use lro_poller::policy::{ConstantBuilder, PollPolicy};
use lro_poller::transport::ReqwestTransport;
use lro_poller::waiter::{AcceptorState, Attempt, WaiterProtocol, Waiters};
use lro_poller::{AsyncJobStatus, Error, JobState, Operation, OperationBuilder, Outcome};

const TABLE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/waiters/table_exists.json"
));
const INSTANCE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/waiters/instance_running.json"
));
const BUCKET: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/waiters/bucket_not_exists.json"
));

/// The bearer token the transport adds where credentials are wanted.
const TOKEN: &str = "Bearer waiter-token";

/// An odd body on purpose (spacing, key order, a unicode escape): a replay
/// must send these exact bytes, not a re-serialised copy.
const DESCRIBE: &str =
    "{\"InstanceIds\":  [\"i-0abc\"],\n \"DryRun\": false, \"Note\": \"caf\\u00e9\"}";

fn transport() -> ReqwestTransport {
    ReqwestTransport::default().with_credentials(|headers| {
        headers.insert(http::header::AUTHORIZATION, TOKEN.parse().unwrap());
    })
}

fn waiter(fixture: &str, name: &str) -> WaiterProtocol {
    WaiterProtocol::named(&Waiters::from_json(fixture).unwrap(), name).unwrap()
}

fn describe(server: &Server, method: &str, path: &str, body: &str) -> http::Request<Bytes> {
    http::Request::builder()
        .method(method)
        .uri(server.url(path))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "Compute.DescribeInstances")
        .body(Bytes::copy_from_slice(body.as_bytes()))
        .unwrap()
}

/// A quick policy, so that the tests do not wait the waiters' seconds.
fn fast() -> PollPolicy {
    PollPolicy::new(ConstantBuilder::new(Duration::from_millis(10)))
        .with_min_interval(Duration::ZERO)
}

fn instances(states: &[&str]) -> String {
    let list: Vec<String> = states
        .iter()
        .map(|s| {
            format!(r#"{{"State":{{"Name":"{s}"}},"StateReason":{{"Message":"{s}: reason"}}}}"#)
        })
        .collect();
    format!(
        r#"{{"Reservations":[{{"Instances":[{}]}}]}}"#,
        list.join(",")
    )
}

async fn run(builder: OperationBuilder) -> (Vec<AsyncJobStatus>, Result<Outcome, Error>) {
    let mut operation = builder.build().expect("valid setup");
    let mut statuses = Vec::new();
    while let Some(item) = operation.next().await {
        if let Ok(status) = item {
            statuses.push(status);
        }
    }
    (statuses, operation.outcome().await)
}

fn attempt(status: &AsyncJobStatus) -> &Attempt {
    status
        .details::<Attempt>()
        .expect("a waiter's status carries its attempt")
}

/// Every request the server saw is the start request again: method, headers,
/// body byte for byte.
fn assert_replayed(server: &Server, path: &str, method: &str, body: &str, count: usize) {
    let seen = server.requests_to(path);
    assert_eq!(seen.len(), count, "requests to {path}");
    for (index, request) in seen.iter().enumerate() {
        assert_eq!(request.method, method, "request #{index}");
        assert_eq!(request.body, body.as_bytes(), "request #{index}'s body");
        assert_eq!(
            request.headers.get("x-amz-target").unwrap(),
            "Compute.DescribeInstances",
            "request #{index}"
        );
        assert_eq!(
            request.headers.get("authorization").unwrap(),
            TOKEN,
            "request #{index}"
        );
    }
    assert_eq!(server.requests().len(), count, "no other request");
}

#[tokio::test]
async fn re_sends_the_describe_call_until_an_acceptor_says_success() {
    let server = Server::start().await;
    server.on(
        "/",
        vec![
            reply(200).json(&instances(&["pending"])),
            reply(200).json(&instances(&["pending", "running"])),
            reply(200).json(&instances(&["running", "running"])),
        ],
    );
    let builder = Operation::start(transport(), describe(&server, "POST", "/", DESCRIBE))
        .with_protocol(waiter(INSTANCE, "InstanceRunning"))
        .with_policy(fast());
    let (statuses, outcome) = run(builder).await;

    let states: Vec<_> = statuses.iter().map(|s| s.status.clone()).collect();
    assert_eq!(
        states,
        [
            JobState::InProgress,
            JobState::InProgress,
            JobState::Completed
        ]
    );
    let matched: Vec<_> = statuses
        .iter()
        .map(|s| (attempt(s).state, attempt(s).acceptor))
        .collect();
    assert_eq!(
        matched,
        [
            (AcceptorState::Retry, None),
            (AcceptorState::Retry, None),
            (AcceptorState::Success, Some(0))
        ]
    );
    // Each status carries the raw answer it was read from.
    assert_eq!(
        statuses[1].answer().unwrap().body(),
        instances(&["pending", "running"]).as_bytes()
    );
    let outcome = outcome.unwrap();
    assert_eq!(
        outcome.body().unwrap(),
        instances(&["running", "running"]).as_bytes()
    );
    assert_eq!(outcome.polls(), 2);
    assert_replayed(&server, "/", "POST", DESCRIBE, 3);
}

#[tokio::test]
async fn a_terminal_failure_state_ends_the_wait_with_the_acceptors_message() {
    let server = Server::start().await;
    server.on(
        "/",
        vec![
            reply(200).json(&instances(&["pending"])),
            reply(200).json(&instances(&["shutting-down"])),
            reply(200).json(&instances(&["running"])),
        ],
    );
    let builder = Operation::start(transport(), describe(&server, "POST", "/", DESCRIBE))
        .with_protocol(waiter(INSTANCE, "InstanceRunning"))
        .with_policy(fast());
    let (statuses, outcome) = run(builder).await;
    let states: Vec<_> = statuses.iter().map(|s| s.status.clone()).collect();
    assert_eq!(states, [JobState::InProgress, JobState::Failed]);
    let Err(Error::Failed(status)) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(status.status, JobState::Failed);
    assert_eq!(
        (attempt(&status).state, attempt(&status).acceptor),
        (AcceptorState::Failure, Some(1))
    );
    let error = status.error.as_ref().unwrap();
    assert_eq!(error.message.as_deref(), Some("shutting-down: reason"));
    assert_eq!(
        status.answer().unwrap().body(),
        instances(&["shutting-down"]).as_bytes()
    );
    // Nothing is sent after the terminal answer.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_replayed(&server, "/", "POST", DESCRIBE, 2);
}

#[tokio::test]
async fn an_error_type_acceptor_retries_until_the_table_is_active() {
    let server = Server::start().await;
    let not_found = reply(400)
        .header(
            "x-amzn-ErrorType",
            "ResourceNotFoundException:http://internal.example/",
        )
        .json(r#"{"message":"Requested resource not found"}"#);
    server.on(
        "/tables",
        vec![
            not_found.clone(),
            not_found,
            reply(200).json(r#"{"Table":{"TableStatus":"CREATING"}}"#),
            reply(200).json(r#"{"Table":{"TableStatus":"ACTIVE"}}"#),
        ],
    );
    let body = r#"{"TableName":"Music"}"#;
    let builder = Operation::start(transport(), describe(&server, "POST", "/tables", body))
        .with_protocol(waiter(TABLE, "TableExists"))
        .with_policy(fast());
    let (statuses, outcome) = run(builder).await;
    let seen: Vec<_> = statuses
        .iter()
        .map(|s| {
            (
                s.status.clone(),
                attempt(s).acceptor,
                attempt(s).error_type.clone(),
            )
        })
        .collect();
    let not_found = Some("ResourceNotFoundException".to_owned());
    assert_eq!(
        seen,
        [
            (JobState::InProgress, Some(1), not_found.clone()),
            (JobState::InProgress, Some(1), not_found),
            (JobState::InProgress, None, None),
            (JobState::Completed, Some(0), None),
        ]
    );
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_replayed(&server, "/tables", "POST", body, 4);
}

#[tokio::test]
async fn an_error_no_acceptor_takes_fails_at_once_with_the_services_error() {
    let server = Server::start().await;
    server.on(
        "/tables",
        vec![
            reply(200).json(r#"{"Table":{"TableStatus":"CREATING"}}"#),
            reply(400)
                .json(r#"{"__type":"com.example#AccessDeniedException","message":"not yours"}"#),
            reply(200).json(r#"{"Table":{"TableStatus":"ACTIVE"}}"#),
        ],
    );
    let body = r#"{"TableName":"Music"}"#;
    let builder = Operation::start(transport(), describe(&server, "POST", "/tables", body))
        .with_protocol(waiter(TABLE, "TableExists"))
        .with_policy(fast());
    let (_, outcome) = run(builder).await;
    let Err(Error::Failed(status)) = outcome else {
        panic!("{outcome:?}")
    };
    let error = status.error.as_ref().unwrap();
    assert_eq!(error.code.as_deref(), Some("AccessDeniedException"));
    assert_eq!(attempt(&status).acceptor, None);
    assert_eq!(attempt(&status).http_status, 400);
    assert!(String::from_utf8_lossy(status.answer().unwrap().body()).contains("not yours"));
    assert_replayed(&server, "/tables", "POST", body, 2);
}

#[tokio::test]
async fn a_resource_that_must_not_exist_succeeds_on_not_found() {
    let server = Server::start().await;
    server.on("/photos", vec![reply(200), reply(200), reply(404)]);
    let builder = Operation::start(transport(), describe(&server, "HEAD", "/photos", ""))
        .with_protocol(waiter(BUCKET, "BucketNotExists"))
        .with_policy(fast());
    let (statuses, outcome) = run(builder).await;
    let last = statuses.last().unwrap();
    assert_eq!(last.status, JobState::Completed);
    assert_eq!(attempt(last).error_type.as_deref(), Some("NotFound"));
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_replayed(&server, "/photos", "HEAD", "", 3);
}

#[tokio::test]
async fn a_throttled_answer_is_retried_by_the_error_policy() {
    let server = Server::start().await;
    server.on(
        "/",
        vec![
            reply(200).json(&instances(&["pending"])),
            reply(503).json(r#"{"__type":"ServiceUnavailable"}"#),
            reply(200).json(&instances(&["running"])),
        ],
    );
    let builder = Operation::start(transport(), describe(&server, "POST", "/", DESCRIBE))
        .with_protocol(waiter(INSTANCE, "InstanceRunning"))
        .with_policy(fast());
    let (statuses, outcome) = run(builder).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(statuses.last().unwrap().status, JobState::Completed);
    assert_replayed(&server, "/", "POST", DESCRIBE, 3);
}

#[tokio::test]
async fn a_token_taken_mid_way_resumes_the_same_request() {
    let server = Server::start().await;
    server.on(
        "/",
        vec![
            reply(200).json(&instances(&["pending"])),
            reply(200).json(&instances(&["pending"])),
            reply(200).json(&instances(&["running"])),
        ],
    );
    let mut first = Operation::start(transport(), describe(&server, "POST", "/", DESCRIBE))
        .with_protocol(waiter(INSTANCE, "InstanceRunning"))
        .with_policy(fast())
        .build()
        .unwrap();
    let status = first.next().await.unwrap().unwrap();
    assert_eq!(status.status, JobState::InProgress);
    let token = first.resume_token().unwrap();
    drop(first);
    let text = token.to_string();
    assert!(
        !text.contains("waiter-token"),
        "the token holds no credential"
    );

    // The waiter travels in the token; any waiter protocol restores it.
    let anything = waiter(BUCKET, "BucketExists");
    let builder = Operation::resume(transport(), text.parse().unwrap())
        .with_protocol(anything)
        .with_policy(fast());
    let (statuses, outcome) = run(builder).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    let last = statuses.last().unwrap();
    assert_eq!(attempt(last).waiter.as_deref(), Some("InstanceRunning"));
    assert_replayed(&server, "/", "POST", DESCRIBE, 3);
}

#[tokio::test]
async fn the_waiters_own_delay_paces_the_attempts() {
    // minDelay = maxDelay = 1 s: the Smithy delay waits one whole second
    // between attempts; the start answer, then two more.
    let waiters = Waiters::from_json(
        r#"{"Ready": {"acceptors": [{"state": "success", "matcher": {"output":
            {"path": "ready", "expected": "true", "comparator": "booleanEquals"}}}],
            "minDelay": 1, "maxDelay": 1}}"#,
    )
    .unwrap();
    let protocol = WaiterProtocol::named(&waiters, "Ready").unwrap();
    let policy = protocol.waiter().policy(Duration::from_secs(30));
    let server = Server::start().await;
    server.on(
        "/",
        vec![
            reply(200).json(r#"{"ready":false}"#),
            reply(200).json(r#"{"ready":false}"#),
            reply(200).json(r#"{"ready":true}"#),
        ],
    );
    let started = tokio::time::Instant::now();
    let builder = Operation::start(transport(), describe(&server, "POST", "/", DESCRIBE))
        .with_protocol(protocol)
        .with_policy(policy);
    let (_, outcome) = run(builder).await;
    let outcome = outcome.unwrap();
    assert_eq!(outcome.polls(), 2);
    // Two waits of a whole second each (a lower bound only: no wall-clock ceiling).
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_replayed(&server, "/", "POST", DESCRIBE, 3);
}
