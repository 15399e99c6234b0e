//! A loopback Graph-like service: `POST /start/{polls}/{ending}/{name}`
//! answers `202` with a monitor `Location`; the monitor answers `inProgress`
//! `polls - 1` times, then `completed` (or `failed` with the service's
//! error). It records every poll's arrival, so tests can check the floor and
//! that no operation is polled after its end.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// What the service saw.
#[derive(Default)]
pub struct Seen {
    /// Each operation's poll arrival times.
    pub polls: Mutex<HashMap<String, Vec<Instant>>>,
    /// Operations answered with a terminal status.
    pub ended: Mutex<HashMap<String, usize>>,
    /// Polls of an operation after its terminal answer.
    pub after_end: AtomicUsize,
    /// While set, monitor requests hang (a worker caught mid-batch).
    pub stall: AtomicBool,
    /// Requests that arrived while stalled.
    pub stalled: AtomicUsize,
}

impl Seen {
    /// The shortest gap between two polls of one operation.
    pub fn shortest_gap(&self) -> Option<Duration> {
        let polls = self.polls.lock().unwrap();
        polls
            .values()
            .flat_map(|times| times.windows(2).map(|pair| pair[1] - pair[0]))
            .min()
    }

    /// Total polls seen.
    pub fn total_polls(&self) -> usize {
        self.polls.lock().unwrap().values().map(Vec::len).sum()
    }
}

type Shared = Arc<Seen>;

async fn start(Path((polls, ending, name)): Path<(u32, String, String)>) -> Response {
    let location = format!("/monitor/{polls}/{ending}/{name}");
    (StatusCode::ACCEPTED, [(header::LOCATION, location)]).into_response()
}

async fn monitor(
    State(seen): State<Shared>,
    Path((polls, ending, name)): Path<(usize, String, String)>,
) -> Response {
    if seen.stall.load(Ordering::SeqCst) {
        seen.stalled.fetch_add(1, Ordering::SeqCst);
        while seen.stall.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let count = {
        let mut all = seen.polls.lock().unwrap();
        let times = all.entry(name.clone()).or_default();
        times.push(Instant::now());
        times.len()
    };
    if seen.ended.lock().unwrap().contains_key(&name) {
        seen.after_end.fetch_add(1, Ordering::SeqCst);
    }
    let json = [(header::CONTENT_TYPE, "application/json")];
    if count < polls {
        let percent = 100.0 * count as f64 / polls as f64;
        let body = format!(
            r#"{{"operation":"ItemCopy","status":"inProgress","percentageComplete":{percent:.1}}}"#
        );
        return (StatusCode::ACCEPTED, json, body).into_response();
    }
    *seen.ended.lock().unwrap().entry(name.clone()).or_default() += 1;
    let body = if ending == "fail" {
        r#"{"operation":"ItemCopy","status":"failed","errorCode":"nameAlreadyExists","statusDescription":"An item with that name already exists"}"#.to_owned()
    } else {
        format!(
            r#"{{"operation":"ItemCopy","status":"completed","percentageComplete":100.0,"resourceId":"item-{name}"}}"#
        )
    };
    (StatusCode::OK, json, body).into_response()
}

/// Starts the service on a loopback port; returns its base URL and what it sees.
pub async fn serve() -> (String, Shared) {
    let seen = Shared::default();
    let app = Router::new()
        .route("/start/{polls}/{ending}/{name}", post(start))
        .route("/monitor/{polls}/{ending}/{name}", get(monitor))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}
