//! A loopback Graph-style job: `POST /jobs` answers `202` with a monitor;
//! the monitor says `inProgress` a set number of times, then `completed`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

#[derive(Clone)]
struct Job {
    running_for: u32,
    polls: Arc<AtomicU32>,
}

/// A job server on 127.0.0.1; returns its base URL and the polls it saw.
pub async fn job_server(running_for: u32) -> (String, Arc<AtomicU32>) {
    let polls = Arc::new(AtomicU32::new(0));
    let job = Job {
        running_for,
        polls: Arc::clone(&polls),
    };
    let app = Router::new()
        .route("/jobs", post(start))
        .route("/monitor/7", get(monitor))
        .with_state(job);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, polls)
}

async fn start() -> Response {
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, "/monitor/7?tempauth=x")],
    )
        .into_response()
}

async fn monitor(State(job): State<Job>) -> Response {
    let seen = job.polls.fetch_add(1, Ordering::SeqCst) + 1;
    let json = [(header::CONTENT_TYPE, "application/json")];
    if seen > job.running_for {
        (
            StatusCode::OK,
            json,
            r#"{"status":"completed","resourceId":"R7"}"#,
        )
            .into_response()
    } else {
        let body = format!(
            r#"{{"status":"inProgress","percentageComplete":{}}}"#,
            seen * 10
        );
        (StatusCode::ACCEPTED, json, body).into_response()
    }
}
