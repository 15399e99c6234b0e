//! Google's long-running operations (AIP-151, `google.longrunning.Operation`).

use bytes::Bytes;
use serde::Deserialize;
use url::Url;

use super::read::post_cancel;
use super::reading::{Polled, Reading, ResultSource};
use super::seam::Next;
use super::seam::{Protocol, not_accepted};
use crate::origin::redact;
use crate::protocol_error::ProtocolError;
use crate::resume::SavedProtocol;
use crate::resume::TokenError;
use crate::status::{AsyncJobStatus, JobState, ServiceError};

/// The `google.rpc.Code` of a cancelled operation.
pub(crate) const CANCELLED_CODE: i64 = 1;

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
    /// request to `start`: the service root (scheme, host and any path
    /// prefix up to and including the version segment, `v1`, `v1beta2`, …)
    /// followed by `name`. Without a version segment, the root is the
    /// origin. A name that is not a relative resource path (a URL, `//…`,
    /// `..`, a query or fragment, control characters) is refused: the
    /// monitor never leaves the start request's origin.
    pub fn monitor_url(start: &Url, name: &str) -> Result<Url, String> {
        let refused = || format!("unusable operation name {name:?}");
        let relative = name.trim_start_matches('/');
        if relative.is_empty()
            || name.starts_with("//")
            || name.contains("://")
            || name.contains(['?', '#', '\\'])
            || name.chars().any(char::is_control)
            || relative
                .split('/')
                .any(|segment| segment == ".." || segment == ".")
        {
            return Err(refused());
        }
        let segments: Vec<&str> = start
            .path_segments()
            .map(Iterator::collect)
            .unwrap_or_default();
        let root = segments
            .iter()
            .position(|segment| is_version(segment))
            .map(|at| &segments[..=at])
            .unwrap_or(&[]);
        let mut path = String::new();
        for segment in root {
            path.push('/');
            path.push_str(segment);
        }
        path.push('/');
        path.push_str(relative);
        let mut url = start.clone();
        url.set_query(None);
        url.set_fragment(None);
        url.set_path(&path);
        if url.origin() != start.origin() {
            return Err(refused());
        }
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

/// Whether a path segment is an API version: `v` and a digit, then letters
/// and digits (`v1`, `v2beta`, `v1p1beta1`).
fn is_version(segment: &str) -> bool {
    let mut chars = segment.chars();
    chars.next() == Some('v')
        && chars.next().is_some_and(|c| c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_alphanumeric())
}

#[derive(Deserialize)]
struct Operation {
    name: Option<String>,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
    #[serde(default)]
    done: Option<bool>,
    /// A `google.rpc.Status`, read leniently (a code as a number or as its
    /// name).
    #[serde(default)]
    error: Option<ServiceError>,
    #[serde(default)]
    response: Option<serde_json::Value>,
}

/// Whether a `google.rpc.Status` code says CANCELLED (`1`, or the name).
fn is_cancelled(error: &ServiceError) -> bool {
    error.code.as_deref().is_some_and(|code| {
        code.trim() == CANCELLED_CODE.to_string() || code.eq_ignore_ascii_case("CANCELLED")
    })
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
) -> Result<(Reading, Option<String>), ProtocolError> {
    let operation: Operation = serde_json::from_slice(body).map_err(|e| {
        ProtocolError::with_parts(
            format!("not a google.longrunning.Operation: {e}"),
            Some(code),
            Some(redact(url)),
            body,
        )
    })?;
    let done = operation.done.unwrap_or(false);
    let state = match (&operation.error, done) {
        (_, false) => JobState::InProgress,
        (Some(error), true) if is_cancelled(error) => JobState::Cancelled,
        (Some(_), true) => JobState::Failed,
        (None, true) => JobState::Completed,
    };
    let mut status = AsyncJobStatus::new(state);
    status.operation = operation.name.clone();
    status.percentage_complete = operation.metadata.as_ref().and_then(progress);
    if done {
        if let Some(error) = &operation.error {
            status.error = Some(error.clone());
        }
    }
    let mut interpretation = Reading::new(status);
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

/// The progress in an operation's metadata, as a percentage, or `None`
/// when the metadata holds none that can be trusted:
///
/// - a field that *is* a percentage (its name mentions "percent":
///   `progressPercent`, `progress_percent`, `percentComplete`, …), a number
///   or numeric string from 0 to 100, at the top level or one level down;
/// - else a work counter (Firestore's `completedWork`/`estimatedWork`,
///   Datastore's `workCompleted`/`workEstimated`; numbers or int64 as
///   strings), at the top level or one level down (`progressBytes`,
///   `progressDocuments`), when both halves are present and
///   `0 <= completed <= estimated`, `estimated > 0`; with several counters,
///   the lowest percentage.
///
/// Anything else, a bare `progress` count included, gives no percentage.
pub(crate) fn progress(metadata: &serde_json::Value) -> Option<f64> {
    let map = metadata.as_object()?;
    let children = || map.values().filter_map(serde_json::Value::as_object);
    std::iter::once(map)
        .chain(children())
        .flat_map(|object| object.iter())
        .filter(|(key, _)| key.to_ascii_lowercase().contains("percent"))
        .find_map(|(_, value)| number(value).filter(|n| (0.0..=100.0).contains(n)))
        .or_else(|| {
            std::iter::once(map)
                .chain(children())
                .filter_map(counter)
                .min_by(f64::total_cmp)
        })
}

/// A number, or a numeric string (int64 fields come as strings in JSON).
fn number(value: &serde_json::Value) -> Option<f64> {
    match value {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().trim_end_matches('%').trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

/// A work counter's percentage, when both halves are there and sane.
fn counter(object: &serde_json::Map<String, serde_json::Value>) -> Option<f64> {
    const PAIRS: [(&str, &str); 4] = [
        ("completedWork", "estimatedWork"),
        ("completed_work", "estimated_work"),
        ("workCompleted", "workEstimated"),
        ("work_completed", "work_estimated"),
    ];
    PAIRS.iter().find_map(|(done, total)| {
        let done = number(object.get(*done)?)?;
        let total = number(object.get(*total)?)?;
        (total > 0.0 && (0.0..=total).contains(&done)).then(|| done / total * 100.0)
    })
}

/// Google's start: a terminal `Operation` is done; a running one is polled
/// at its name. It never switches protocols: a wrapper around [`Google`]
/// keeps reading every poll.
pub(super) fn google_start(
    url: &Url,
    response: &http::Response<Bytes>,
) -> Result<Next, ProtocolError> {
    let code = response.status();
    let body = response.body();
    let (reading, name) = read_operation(url, code, body)?;
    if reading.status.status.is_terminal() {
        return Ok(Next::done(reading));
    }
    let name = name.ok_or_else(|| {
        ProtocolError::with_parts(
            "the operation has no name",
            Some(code),
            Some(redact(url)),
            body,
        )
    })?;
    let monitor = Google::monitor_url(url, &name)
        .map_err(|m| ProtocolError::with_parts(m, Some(code), Some(redact(url)), body))?;
    Ok(Next::poll(monitor).with_reading(reading))
}

impl Protocol for Google {
    fn name(&self) -> &'static str {
        "google"
    }

    /// A running `Operation`: poll it at its name; a done one: over.
    fn read_start(
        &self,
        _request: &http::Request<Bytes>,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Next, ProtocolError> {
        if response.status().is_client_error() || response.status().is_server_error() {
            return Ok(Next::refused());
        }
        not_accepted(url, response)?;
        google_start(url, response)
    }

    fn save(&self) -> Option<SavedProtocol> {
        Some(SavedProtocol::new(self.name()))
    }

    fn restore(&self, _saved: &SavedProtocol) -> Result<Box<dyn Protocol>, TokenError> {
        Ok(Box::new(Google))
    }

    /// `POST {operation}:cancel` (best effort: the operation may still
    /// complete; a cancelled one ends with `error.code = 1`).
    fn cancel_requests(&self, monitor: &Url) -> Vec<http::Request<Bytes>> {
        vec![post_cancel(monitor)]
    }

    fn read_poll(
        &self,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Polled, ProtocolError> {
        let code = response.status();
        if code.is_client_error() || code.is_server_error() {
            return Ok(Polled::ReadFailure);
        }
        let (interpretation, _) = read_operation(url, code, response.body())?;
        Ok(Polled::Status(interpretation))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> Result<Reading, ProtocolError> {
        let url = Url::parse("https://svc.example/v1/operations/1").unwrap();
        let mut response = http::Response::new(Bytes::copy_from_slice(body.as_bytes()));
        *response.status_mut() = http::StatusCode::OK;
        match Google.read_poll(&url, &response)? {
            Polled::Status(i) => Ok(i),
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
    fn counters_are_not_percentages() {
        let pct = |metadata: &str| {
            read(&format!(r#"{{"name":"o","metadata":{metadata}}}"#))
                .unwrap()
                .status
                .percentage_complete
        };
        // Firestore: two counters, int64 as strings; the lowest share wins.
        assert_eq!(
            pct(r#"{"progressBytes":{"completedWork":"2684354","estimatedWork":"10737418"},"progressDocuments":{"completedWork":"50","estimatedWork":"100"}}"#)
                .map(f64::round),
            Some(25.0)
        );
        // Datastore's names, as numbers.
        assert_eq!(
            pct(r#"{"progressEntities":{"workCompleted":3,"workEstimated":4}}"#),
            Some(75.0)
        );
        // Top-level counters.
        assert_eq!(pct(r#"{"completedWork":1,"estimatedWork":2}"#), Some(50.0));
        // A percentage field wins over counters.
        assert_eq!(
            pct(
                r#"{"progressPercent":10,"progressBytes":{"completedWork":"9","estimatedWork":"10"}}"#
            ),
            Some(10.0)
        );
        // Half a counter, an impossible one, or a bare count: no percentage.
        for metadata in [
            r#"{"progressBytes":{"completedWork":"2684354"}}"#,
            r#"{"progressBytes":{"completedWork":"5","estimatedWork":"0"}}"#,
            r#"{"progressBytes":{"completedWork":"0","estimatedWork":"0"}}"#,
            r#"{"progressBytes":{"completedWork":"11","estimatedWork":"10"}}"#,
            r#"{"progressBytes":{"completedWork":"-1","estimatedWork":"10"}}"#,
            r#"{"progressBytes":{"completedWork":"x","estimatedWork":"10"}}"#,
            r#"{"progress":2684354}"#,
            r#"{"progressDocuments":2684354}"#,
            r#"{"progressPercent":2684354}"#,
            r#"{"progressPercent":-3}"#,
            r#"{"percentComplete":"NaN"}"#,
            r#"{"bytesProcessed":"77"}"#,
            "[]",
        ] {
            assert_eq!(pct(metadata), None, "{metadata}");
        }
        assert_eq!(pct(r#"{"progress_percent":"33%"}"#), Some(33.0));
    }

    #[test]
    fn error_answers_are_read_failures_and_a_running_operation_has_no_result() {
        let url = Url::parse("https://svc.example/v1/operations/1").unwrap();
        for code in [404, 429, 500, 503] {
            let response = super::super::read::test_response(code, &[], r#"{"error":{}}"#);
            assert!(matches!(
                Google.read_poll(&url, &response),
                Ok(Polled::ReadFailure)
            ));
        }
        let running = read(r#"{"name":"o","done":false,"response":{"x":1}}"#).unwrap();
        assert_eq!(running.result, ResultSource::None);
        let failed =
            read(r#"{"name":"o","done":true,"error":{"code":2},"response":{"x":1}}"#).unwrap();
        assert_eq!(failed.result, ResultSource::None);
        assert_eq!(Google.save(), Some(SavedProtocol::new("google")));
        let cancel = Google.cancel_requests(&url);
        assert_eq!(cancel.len(), 1);
        assert_eq!(cancel[0].method(), http::Method::POST);
        assert_eq!(
            cancel[0].uri(),
            "https://svc.example/v1/operations/1:cancel"
        );
        assert!(looks_like_operation(br#"{"name":"o","response":{}}"#));
        assert!(looks_like_operation(br#"{"name":"o","error":{}}"#));
    }

    #[test]
    fn an_error_code_may_be_a_name_or_a_string() {
        let named =
            read(r#"{"name":"o","done":true,"error":{"code":"CANCELLED","message":"stop"}}"#)
                .unwrap();
        assert_eq!(named.status.status, JobState::Cancelled);
        let text =
            read(r#"{"name":"o","done":true,"error":{"code":"9","details":[{"message":"why"}]}}"#)
                .unwrap();
        assert_eq!(text.status.status, JobState::Failed);
        assert_eq!(text.status.error.unwrap().message.as_deref(), Some("why"));
        let bare = read(r#"{"name":"o","done":true,"error":{}}"#).unwrap();
        assert_eq!(bare.status.status, JobState::Failed);
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
        for bad in [
            "https://evil.example/x",
            "//evil.example/x",
            "",
            "/",
            "projects/p/../../../admin",
            "operations/./x",
            "operations/1?x=1",
            "operations/1#f",
            "operations\\1",
            "operations/\n1",
        ] {
            assert!(Google::monitor_url(&start, bad).is_err(), "{bad:?}");
        }
        let prefixed =
            Url::parse("https://gw.example/some/prefix/v1/projects/P/instances").unwrap();
        assert_eq!(
            Google::monitor_url(&prefixed, "projects/P/operations/op-1")
                .unwrap()
                .as_str(),
            "https://gw.example/some/prefix/v1/projects/P/operations/op-1"
        );
        // The first version segment ends the root; a later `v2` is a name.
        let twice = Url::parse("https://svc.example/api/v1p1beta1/things/v2/x").unwrap();
        assert_eq!(
            Google::monitor_url(&twice, "/operations/7")
                .unwrap()
                .as_str(),
            "https://svc.example/api/v1p1beta1/operations/7"
        );
        // Not versions: `v`, `version`, `vx1`.
        let odd = Url::parse("https://svc.example/v/version/vx1/things").unwrap();
        assert_eq!(
            Google::monitor_url(&odd, "operations/1").unwrap().as_str(),
            "https://svc.example/operations/1"
        );
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
