//! A loopback stand-in for OneDrive's copy action, shared by the examples:
//! `202 Accepted` + a monitor URL (with a token in its query), progress rising
//! over a few seconds with `Retry-After` on every `202`, then `303 See Other`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// How long the simulated copy takes.
const COPY_TAKES: Duration = Duration::from_secs(4);

#[derive(Clone, Default)]
struct Drive {
    jobs: Arc<Mutex<HashMap<String, (Instant, String)>>>,
}

/// `POST /v1.0/me/drive/items/{id}/copy`: accept, and hand out a monitor.
async fn copy(
    State(drive): State<Drive>,
    Path(item): Path<String>,
    headers: HeaderMap,
) -> Response {
    if headers.get(header::AUTHORIZATION).is_none() {
        return (
            StatusCode::UNAUTHORIZED,
            r#"{"error":{"code":"unauthenticated"}}"#,
        )
            .into_response();
    }
    let respond_async = headers
        .get("prefer")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("respond-async"));
    if !respond_async {
        return (
            StatusCode::BAD_REQUEST,
            "this example server only copies asynchronously",
        )
            .into_response();
    }
    let mut jobs = drive.jobs.lock().unwrap();
    let job = format!("{:04X}", jobs.len() + 0x4A34);
    jobs.insert(job.clone(), (Instant::now(), format!("01COPYOF{item}")));
    (
        StatusCode::ACCEPTED,
        [
            // The monitor carries a token in its query and needs no Authorization.
            (
                header::LOCATION,
                format!("/monitor/{job}?tempauth=eyJ0eXAi.secret"),
            ),
            (header::RETRY_AFTER, "1".to_string()),
        ],
    )
        .into_response()
}

/// `GET /monitor/{job}`: progress, then `303 See Other` to the new item.
async fn monitor(State(drive): State<Drive>, Path(job): Path<String>) -> Response {
    let Some((started, new_item)) = drive.jobs.lock().unwrap().get(&job).cloned() else {
        return (
            StatusCode::NOT_FOUND,
            r#"{"error":{"code":"operationNotFound"}}"#,
        )
            .into_response();
    };
    let done = started.elapsed().as_secs_f64() / COPY_TAKES.as_secs_f64();
    if done >= 1.0 {
        let body = format!(
            r#"{{"percentageComplete":100.0,"resourceId":"{new_item}","status":"completed"}}"#
        );
        return (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, format!("/v1.0/me/drive/items/{new_item}")),
                (header::CONTENT_TYPE, "application/json".to_string()),
            ],
            body,
        )
            .into_response();
    }
    let body = if done < 0.1 {
        r#"{"operation":"ItemCopy","percentageComplete":0.0,"status":"notStarted"}"#.to_string()
    } else {
        format!(
            r#"{{"operation":"ItemCopy","percentageComplete":{:.1},"status":"inProgress"}}"#,
            done * 100.0
        )
    };
    (
        StatusCode::ACCEPTED,
        [
            (header::RETRY_AFTER, "1".to_string()),
            (header::CONTENT_TYPE, "application/json".to_string()),
        ],
        body,
    )
        .into_response()
}

/// Starts the stand-in on 127.0.0.1; returns its base URL.
pub async fn start() -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = Router::new()
        .route("/v1.0/me/drive/items/{id}/copy", post(copy))
        .route("/monitor/{job}", get(monitor))
        .with_state(Drive::default());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(base)
}
