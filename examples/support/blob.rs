//! A loopback stand-in for a blob store that copies in the background,
//! shared by the examples: `PUT /{container}/{blob}` with `x-blob-copy-source`
//! answers a bare `202 Accepted`; `HEAD` on the blob answers the copy's state
//! in headers (`x-blob-copy-status: pending|success|failed|aborted`,
//! `x-blob-copy-progress: <bytes>/<total>`); `DELETE …?comp=abort` aborts it.
//! A copy takes a few seconds; a source whose name contains `broken` fails
//! halfway.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::put;

/// How long a copy takes.
const COPY_TAKES: Duration = Duration::from_secs(3);
/// The size of every blob.
const SIZE: u64 = 4 * 1024 * 1024;

struct Copy {
    started: Instant,
    broken: bool,
    aborted: bool,
}

#[derive(Clone, Default)]
struct Store {
    copies: Arc<Mutex<HashMap<String, Copy>>>,
}

type Key = Path<(String, String)>;

/// `PUT`: starts a copy from `x-blob-copy-source`.
async fn start_copy(State(store): State<Store>, Path((c, b)): Key, headers: HeaderMap) -> Response {
    let Some(source) = headers
        .get("x-blob-copy-source")
        .and_then(|v| v.to_str().ok())
    else {
        return (StatusCode::BAD_REQUEST, "x-blob-copy-source is required").into_response();
    };
    let copy = Copy {
        started: Instant::now(),
        broken: source.contains("broken"),
        aborted: false,
    };
    store
        .copies
        .lock()
        .unwrap()
        .insert(format!("{c}/{b}"), copy);
    StatusCode::ACCEPTED.into_response()
}

/// `HEAD`: the copy's state, in headers only.
async fn copy_state(State(store): State<Store>, Path((c, b)): Key) -> Response {
    let copies = store.copies.lock().unwrap();
    let Some(copy) = copies.get(&format!("{c}/{b}")) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let done = (copy.started.elapsed().as_secs_f64() / COPY_TAKES.as_secs_f64()).min(1.0);
    let (status, done) = match (copy.aborted, copy.broken) {
        (true, _) => ("aborted", done),
        (false, true) if done >= 0.5 => ("failed", 0.5),
        (false, _) if done >= 1.0 => ("success", 1.0),
        _ => ("pending", done),
    };
    let copied = (done * SIZE as f64) as u64;
    let mut headers = vec![
        ("x-blob-copy-status", status.to_string()),
        ("x-blob-copy-progress", format!("{copied}/{SIZE}")),
    ];
    if status == "failed" {
        headers.push((
            "x-blob-copy-status-description",
            "500 InternalError: the source could not be read".into(),
        ));
    }
    let mut response = StatusCode::OK.into_response();
    for (name, value) in headers {
        response
            .headers_mut()
            .insert(name, value.parse().expect("a valid header"));
    }
    response
}

/// `DELETE ?comp=abort`: aborts the copy.
async fn abort_copy(
    State(store): State<Store>,
    Path((c, b)): Key,
    Query(query): Query<HashMap<String, String>>,
) -> StatusCode {
    if query.get("comp").map(String::as_str) != Some("abort") {
        return StatusCode::METHOD_NOT_ALLOWED;
    }
    match store.copies.lock().unwrap().get_mut(&format!("{c}/{b}")) {
        Some(copy) => {
            copy.aborted = true;
            StatusCode::NO_CONTENT
        }
        None => StatusCode::NOT_FOUND,
    }
}

/// Starts the stand-in on 127.0.0.1; returns its base URL.
pub async fn start() -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = Router::new()
        .route(
            "/{container}/{blob}",
            put(start_copy).head(copy_state).delete(abort_copy),
        )
        .with_state(Store::default());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(base)
}
