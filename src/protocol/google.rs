//! Google's long-running operations (AIP-151, `google.longrunning.Operation`).

use bytes::Bytes;
use serde::Deserialize;
use url::Url;

use super::{Interpretation, Protocol, Reading, ResultSource, Start, post_cancel};
use crate::error::Error;
use crate::origin::redact;
use crate::resume::SavedProtocol;
use crate::status::{AsyncJobStatus, JobState, ServiceError};

/// The `google.rpc.Code` of a cancelled operation.
pub const CANCELLED_CODE: i64 = 1;

/// The Google protocol: the monitor is `GET {version}/{operation name}` and
/// answers an `Operation`: `name`, `metadata` (progress lives there, under a
/// key with "percent" or "progress" in its name), `done`, and exactly one of
/// `error` (a `google.rpc.Status`) or `response`.
///
/// - `done` absent or false: running (`inProgress`).
/// - `done` with `response`: completed; `response` is the result body, and its
///   `name` the resource id.
/// - `done` with `error`: failed, or cancelled when `error.code` is 1.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct Google;

impl Google {
    /// The Google protocol.
    pub fn new() -> Self {
        Google
    }

    /// The monitor URL of the operation `name`, for an operation started by a
    /// request to `start`: same origin, same API version prefix (`/v1/…`).
    pub fn monitor_url(start: &Url, name: &str) -> Result<Url, String> {
        if name.is_empty() || name.contains("://") || name.contains('?') || name.contains('#') {
            return Err(format!("unusable operation name {name:?}"));
        }
        let version = start
            .path_segments()
            .and_then(|mut segments| segments.next())
            .filter(|first| {
                let mut chars = first.chars();
                chars.next() == Some('v') && chars.next().is_some_and(|c| c.is_ascii_digit())
            });
        let path = match version {
            Some(version) => format!("/{version}/{}", name.trim_start_matches('/')),
            None => format!("/{}", name.trim_start_matches('/')),
        };
        let mut url = start.clone();
        url.set_query(None);
        url.set_fragment(None);
        url.set_path(&path);
        Ok(url)
    }
}

/// What a Google `Operation` answer said beyond its status: its name, `done`
/// and its `metadata`, typed by the caller with
/// [`metadata_as`](Self::metadata_as). Every status the [`Google`] protocol
/// reads carries it ([`AsyncJobStatus::details`]).
///
/// ```
/// use lro_poller::protocol::OperationDetails;
///
/// #[derive(serde::Deserialize)]
/// #[serde(rename_all = "camelCase")]
/// struct ExportMetadata { progress_percent: u32, output_uri_prefix: String }
///
/// # fn show(status: &lro_poller::AsyncJobStatus) {
/// if let Some(details) = status.details::<OperationDetails>() {
///     let metadata: ExportMetadata = details.metadata_as().unwrap().unwrap();
///     println!("{}% into {}", metadata.progress_percent, metadata.output_uri_prefix);
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OperationDetails {
    /// The operation's `name`.
    pub name: Option<String>,
    /// Whether the operation is `done`.
    pub done: bool,
    /// The operation's `metadata`, as sent.
    pub metadata: Option<serde_json::Value>,
}

impl OperationDetails {
    /// The metadata read into `T`; `None` when the operation had none.
    pub fn metadata_as<T: serde::de::DeserializeOwned>(
        &self,
    ) -> Option<Result<T, serde_json::Error>> {
        self.metadata.clone().map(serde_json::from_value)
    }
}

#[derive(Deserialize)]
struct Operation {
    name: Option<String>,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
    #[serde(default)]
    done: Option<bool>,
    #[serde(default)]
    error: Option<RpcStatus>,
    #[serde(default)]
    response: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RpcStatus {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: Option<String>,
}

/// Whether a JSON body looks like an `Operation` (used by auto-detection).
pub(crate) fn looks_like_operation(body: &[u8]) -> bool {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body)
    else {
        return false;
    };
    !map.contains_key("status")
        && map.get("name").is_some_and(|n| n.is_string())
        && (map.contains_key("done")
            || map.contains_key("metadata")
            || map.contains_key("response")
            || map.contains_key("error"))
}

/// Reads an `Operation` body.
pub(crate) fn read_operation(
    url: &Url,
    code: http::StatusCode,
    body: &Bytes,
) -> Result<(Interpretation, Option<String>), Error> {
    let operation: Operation = serde_json::from_slice(body).map_err(|e| {
        Error::protocol(
            format!("not a google.longrunning.Operation: {e}"),
            Some(code),
            Some(redact(url)),
            body,
        )
    })?;
    let done = operation.done.unwrap_or(false);
    let state = match (&operation.error, done) {
        (_, false) => JobState::InProgress,
        (Some(error), true) if error.code == Some(CANCELLED_CODE) => JobState::Cancelled,
        (Some(_), true) => JobState::Failed,
        (None, true) => JobState::Completed,
    };
    let mut status = AsyncJobStatus::new(state);
    status.operation = operation.name.clone();
    status.percentage_complete = operation.metadata.as_ref().and_then(progress);
    if done {
        if let Some(error) = &operation.error {
            status.error = Some(ServiceError::new(
                error.code.map(|c| c.to_string()),
                error.message.clone(),
            ));
        }
    }
    let mut interpretation = Interpretation::new(status);
    if done && operation.error.is_none() {
        if let Some(response) = &operation.response {
            interpretation.status.resource_id = response
                .get("name")
                .and_then(|n| n.as_str())
                .map(str::to_owned);
            let bytes = serde_json::to_vec(response)
                .map(Bytes::from)
                .unwrap_or_default();
            interpretation = interpretation.with_result(ResultSource::Body(bytes));
        }
    }
    let details = OperationDetails {
        name: operation.name.clone(),
        done,
        metadata: operation.metadata,
    };
    Ok((interpretation.with_details(details), operation.name))
}

/// A percentage in the metadata: the first number under a key that mentions
/// "percent" or "progress", at the top level or one level down.
fn progress(metadata: &serde_json::Value) -> Option<f64> {
    let is_progress_key = |key: &str| {
        let key = key.to_ascii_lowercase();
        key.contains("percent") || key.contains("progress")
    };
    let number = |value: &serde_json::Value| -> Option<f64> {
        match value {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.trim().trim_end_matches('%').parse().ok(),
            _ => None,
        }
    };
    let map = metadata.as_object()?;
    for (key, value) in map {
        if is_progress_key(key) {
            if let Some(n) = number(value) {
                return Some(n).filter(|n| n.is_finite());
            }
        }
    }
    for (key, value) in map {
        if let Some(inner) = value.as_object() {
            for (inner_key, inner_value) in inner {
                if is_progress_key(key) || is_progress_key(inner_key) {
                    if let Some(n) = number(inner_value) {
                        return Some(n).filter(|n| n.is_finite());
                    }
                }
            }
        }
    }
    None
}

impl Protocol for Google {
    fn name(&self) -> &'static str {
        "google"
    }

    /// A running `Operation`: poll it at its name; a done one: over.
    fn start(
        &self,
        _request: &http::Request<Bytes>,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Start, Error> {
        if response.status().is_client_error() || response.status().is_server_error() {
            return Ok(Start::refused());
        }
        super::start::not_accepted(url, response)?;
        super::auto::google_start(url, response)
    }

    fn save(&self) -> Option<SavedProtocol> {
        Some(SavedProtocol::new(self.name()))
    }

    fn restore(&self, _saved: &SavedProtocol) -> Result<Box<dyn Protocol>, Error> {
        Ok(Box::new(Google))
    }

    /// `POST {operation}:cancel` (best effort: the operation may still
    /// complete; a cancelled one ends with `error.code = 1`).
    fn cancel_requests(&self, monitor: &Url) -> Vec<http::Request<Bytes>> {
        vec![post_cancel(monitor)]
    }

    fn interpret(&self, url: &Url, response: &http::Response<Bytes>) -> Result<Reading, Error> {
        let code = response.status();
        if code.is_client_error() || code.is_server_error() {
            return Ok(Reading::ReadFailure);
        }
        let (interpretation, _) = read_operation(url, code, response.body())?;
        Ok(Reading::Status(interpretation))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> Result<Interpretation, Error> {
        let url = Url::parse("https://svc.example/v1/operations/1").unwrap();
        let mut response = http::Response::new(Bytes::copy_from_slice(body.as_bytes()));
        *response.status_mut() = http::StatusCode::OK;
        match Google.interpret(&url, &response)? {
            Reading::Status(i) => Ok(i),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn running_with_progress_in_metadata() {
        let r = read(r#"{"name":"operations/1","metadata":{"@type":"x","progressPercent":42}}"#)
            .unwrap();
        assert_eq!(r.status.status, JobState::InProgress);
        assert_eq!(r.status.percentage_complete, Some(42.0));
        assert_eq!(r.status.operation.as_deref(), Some("operations/1"));
        let nested =
            read(r#"{"name":"o","done":false,"metadata":{"progress":{"percentComplete":"12.5"}}}"#)
                .unwrap();
        assert_eq!(nested.status.percentage_complete, Some(12.5));
        let none = read(r#"{"name":"o","metadata":{"createTime":"2024-01-01"}}"#).unwrap();
        assert_eq!(none.status.percentage_complete, None);
    }

    #[test]
    fn done_with_response_or_error() {
        let ok =
            read(r#"{"name":"o","done":true,"response":{"name":"instances/7","x":1}}"#).unwrap();
        assert_eq!(ok.status.status, JobState::Completed);
        assert_eq!(ok.status.resource_id.as_deref(), Some("instances/7"));
        assert!(matches!(ok.result, ResultSource::Body(_)));
        let failed =
            read(r#"{"name":"o","done":true,"error":{"code":5,"message":"not found"}}"#).unwrap();
        assert_eq!(failed.status.status, JobState::Failed);
        assert_eq!(
            failed.status.error.as_ref().unwrap().code.as_deref(),
            Some("5")
        );
        assert_eq!(
            failed.status.error.unwrap().message.as_deref(),
            Some("not found")
        );
        let cancelled =
            read(r#"{"name":"o","done":true,"error":{"code":1,"message":"cancelled"}}"#).unwrap();
        assert_eq!(cancelled.status.status, JobState::Cancelled);
        let empty_done = read(r#"{"name":"o","done":true}"#).unwrap();
        assert_eq!(empty_done.status.status, JobState::Completed);
        assert!(read(r#"{"name":5}"#).is_err());
        assert!(read("[]").is_err());
    }

    #[test]
    fn monitor_url_keeps_the_version() {
        let start =
            Url::parse("https://svc.example/v1beta2/projects/p/instances?instanceId=x").unwrap();
        assert_eq!(
            Google::monitor_url(&start, "projects/p/operations/9")
                .unwrap()
                .as_str(),
            "https://svc.example/v1beta2/projects/p/operations/9"
        );
        let unversioned = Url::parse("http://127.0.0.1:8080/things").unwrap();
        assert_eq!(
            Google::monitor_url(&unversioned, "operations/1")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8080/operations/1"
        );
        assert!(Google::monitor_url(&start, "https://evil.example/x").is_err());
        assert!(Google::monitor_url(&start, "").is_err());
    }

    #[test]
    fn detection() {
        assert!(looks_like_operation(
            br#"{"name":"operations/1","done":false}"#
        ));
        assert!(looks_like_operation(
            br#"{"name":"operations/1","metadata":{}}"#
        ));
        assert!(!looks_like_operation(
            br#"{"name":"x","status":"inProgress"}"#
        ));
        assert!(!looks_like_operation(br#"{"name":"file.txt","size":3}"#));
        assert!(!looks_like_operation(b"garbage"));
    }
}
