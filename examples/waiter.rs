//! Wait for an instance to be running, the way AWS SDK waiters do: send the
//! same `DescribeInstances` request again and again, and let the waiter's
//! acceptors (the `smithy.waiters#waitable` definition the service publishes)
//! decide.
//!
//! The example starts a loopback server that answers `DescribeInstances`
//! like a compute service: instance `i-0new` is not found at first (an error
//! type the waiter retries on), then `pending`, then `running`; instance
//! `i-0bad` goes `pending`, then `shutting-down` — a terminal failure state.
//! Both are waited on through the reqwest transport; each status says which
//! acceptor matched.
//!
//! ```sh
//! cargo run --example waiter --features waiters,reqwest,tokio
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use futures::StreamExt;
use lro_poller::transport::ReqwestTransport;
use lro_poller::waiter::{Attempt, WaiterProtocol, Waiters};
use lro_poller::{Error, Operation};

/// The waiter definitions, as a service model publishes them.
const WAITERS: &str = include_str!("../tests/fixtures/waiters/instance_running.json");

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = start_compute().await?;
    println!("compute stand-in listening on {base}");

    let waiters = Waiters::from_json(WAITERS)?;
    // The published waiter waits 15 s to 120 s between attempts; this
    // example shortens that to 1 s to 2 s so that it ends quickly.
    let waiter = waiters.get("InstanceRunning")?.clone().with_delays(1, 2);
    let transport = ReqwestTransport::default();

    for instance in ["i-0new", "i-0bad"] {
        println!("waiting for {instance} to be running");
        let request = http::Request::post(format!("{base}/"))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", "Compute.DescribeInstances")
            .body(Bytes::from(format!(r#"{{"InstanceIds":["{instance}"]}}"#)))?;
        let mut operation = Operation::start(transport.clone(), request)
            .with_protocol(WaiterProtocol::new(waiter.clone()).with_name("InstanceRunning"))
            // The Smithy delay within a maximum wait time of one minute.
            .with_policy(waiter.policy(Duration::from_secs(60)))
            .build()?;
        while let Some(status) = operation.next().await {
            let Ok(status) = status else { break };
            let Some(attempt) = status.details::<Attempt>() else {
                continue;
            };
            let matched = match attempt.acceptor {
                Some(index) => format!("acceptor #{index}"),
                None => "no acceptor".to_owned(),
            };
            let answer = status
                .answer()
                .map(|a| a.status().as_u16())
                .unwrap_or_default();
            let error = attempt.error_type.as_deref().unwrap_or("-");
            println!(
                "  HTTP {answer}  error type {error:<26} {matched:<12} → {}",
                attempt.state
            );
        }
        let polls = operation.polls();
        match operation.outcome().await {
            Ok(outcome) => println!(
                "  {instance} is running (after {} requests, {:.1?})",
                polls + 1,
                outcome.elapsed()
            ),
            Err(Error::Failed(status)) => println!(
                "  {instance} will never run: {}",
                status.failure_summary().unwrap_or_default()
            ),
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}

/// How many times each instance was described.
type Calls = Arc<Mutex<HashMap<String, usize>>>;

/// Starts the loopback compute service; returns its base URL.
async fn start_compute() -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = Router::new()
        .route("/", post(describe))
        .with_state(Calls::default());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(base)
}

/// `DescribeInstances`: each instance moves along its own script.
async fn describe(State(calls): State<Calls>, headers: HeaderMap, body: Bytes) -> Response {
    if headers.get("x-amz-target").and_then(|v| v.to_str().ok())
        != Some("Compute.DescribeInstances")
    {
        return error(400, "UnknownOperationException");
    }
    let input: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let Some(id) = input["InstanceIds"][0].as_str() else {
        return error(400, "ValidationException");
    };
    let call = {
        let mut calls = calls.lock().unwrap();
        let count = calls.entry(id.to_owned()).or_default();
        *count += 1;
        *count
    };
    let state = match (id, call) {
        ("i-0new", 1) => return error(400, "InvalidInstanceID.NotFound"),
        ("i-0new", 2) | ("i-0bad", 1) => "pending",
        ("i-0new", _) => "running",
        ("i-0bad", _) => "shutting-down",
        _ => return error(400, "InvalidInstanceID.NotFound"),
    };
    let reason = match state {
        "shutting-down" => "Server.InsufficientInstanceCapacity: no capacity in this zone",
        _ => "",
    };
    let answer = serde_json::json!({"Reservations": [{"Instances": [
        {"InstanceId": id, "State": {"Name": state}, "StateReason": {"Message": reason}}
    ]}]});
    (
        [("content-type", "application/x-amz-json-1.1")],
        answer.to_string(),
    )
        .into_response()
}

fn error(status: u16, kind: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = serde_json::json!({"__type": kind, "message": kind});
    (
        status,
        [("content-type", "application/x-amz-json-1.1")],
        body.to_string(),
    )
        .into_response()
}
