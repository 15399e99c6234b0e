//! The `--json` lines: one JSON object per line on stdout, each with its
//! `event`.

use std::time::SystemTime;

use lro_poller::{AsyncJobStatus, JobState, Outcome, ServiceError};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::redact::redact;
use serde::Serialize;
use serde_json::Value;

/// Prints one line of JSON on stdout (line-buffered, so each line is flushed).
pub fn print_json(value: &impl Serialize) {
    match serde_json::to_string(value) {
        Ok(line) => println!("{line}"),
        Err(e) => eprintln!("lro: cannot write JSON: {e}"),
    }
}

/// `succeeded`, `failed` or `canceled`.
pub fn outcome_word(state: &JobState) -> &'static str {
    match state {
        JobState::Completed => "succeeded",
        JobState::Cancelled => "canceled",
        _ => "failed",
    }
}

/// A `status` event: one status report, and when the next poll is due
/// (absent after the last status).
#[derive(Serialize)]
pub struct StatusLine<'a> {
    pub event: &'static str,
    #[serde(flatten)]
    pub status: &'a AsyncJobStatus,
    #[serde(rename = "nextPollAt", skip_serializing_if = "Option::is_none")]
    pub next_poll_at: Option<String>,
}

/// `time` in RFC 3339, UTC, to the millisecond (rounded up, as a resume
/// token keeps it: never sooner).
pub fn rfc3339(time: SystemTime) -> Option<String> {
    let since = time.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    let ms = since.as_nanos().div_ceil(1_000_000);
    let at =
        OffsetDateTime::from_unix_timestamp_nanos(i128::try_from(ms).ok()? * 1_000_000).ok()?;
    at.format(&Rfc3339).ok()
}

/// The `outcome` event: how the job ended.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeLine<'a> {
    event: &'static str,
    outcome: &'static str,
    status: &'a JobState,
    resource_id: Option<&'a str>,
    /// The produced resource's URL, redacted.
    location: Option<String>,
    result: Value,
    /// `json` when the result body is JSON, `text` when it is not (then
    /// `result` is the body as a string); absent when there is no result.
    #[serde(skip_serializing_if = "Option::is_none")]
    result_format: Option<&'static str>,
    error: Option<ErrorObject<'a>>,
}

impl<'a> OutcomeLine<'a> {
    pub fn succeeded(outcome: &'a Outcome) -> Self {
        OutcomeLine {
            event: "outcome",
            outcome: "succeeded",
            status: &outcome.status().status,
            resource_id: outcome.resource_id(),
            location: outcome.location().map(redact),
            result: result(outcome.body().map(|body| &body[..])),
            result_format: result_format(outcome.body().map(|body| &body[..])),
            error: None,
        }
    }

    pub fn failed(status: &'a AsyncJobStatus) -> Self {
        let (code, message) = match &status.error {
            Some(error) => (
                error.code.as_deref().or(status.error_code.as_deref()),
                error
                    .message
                    .as_deref()
                    .or(status.status_description.as_deref()),
            ),
            None => (
                status.error_code.as_deref(),
                status.status_description.as_deref(),
            ),
        };
        OutcomeLine {
            event: "outcome",
            outcome: outcome_word(&status.status),
            status: &status.status,
            resource_id: status.resource_id.as_deref(),
            location: None,
            result: Value::Null,
            result_format: None,
            error: Some(ErrorObject { code, message }),
        }
    }
}

/// The final body as JSON; as a JSON string when it is not JSON; `null`
/// when there is none.
fn result(body: Option<&[u8]>) -> Value {
    match body {
        None => Value::Null,
        Some(body) if body.iter().all(u8::is_ascii_whitespace) => Value::Null,
        Some(body) => serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned())),
    }
}

/// Whether the final body is JSON (`json`) or not (`text`); `None` when
/// there is none.
fn result_format(body: Option<&[u8]>) -> Option<&'static str> {
    let body = body.filter(|body| !body.iter().all(u8::is_ascii_whitespace))?;
    Some(
        match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => "json",
            Err(_) => "text",
        },
    )
}

/// The service's own error: its code and message.
#[derive(Serialize)]
pub struct ErrorObject<'a> {
    code: Option<&'a str>,
    message: Option<&'a str>,
}

impl<'a> From<&'a ServiceError> for ErrorObject<'a> {
    fn from(error: &'a ServiceError) -> Self {
        ErrorObject {
            code: error.code.as_deref(),
            message: error.message.as_deref(),
        }
    }
}

/// An `error` event: the run ended on an error.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorLine<'a> {
    pub event: &'static str,
    pub kind: &'static str,
    pub message: String,
    pub http_status: Option<u16>,
    pub error: Option<ErrorObject<'a>>,
    /// A resume token, when the error ended the wait before the job ended
    /// and the operation can go on (`lro resume`).
    pub token: Option<String>,
}

/// A `retry` event: a request is sent again.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryLine<'a> {
    pub event: &'static str,
    /// Which request is sent again: `start`, `poll`, `result` or `cancel`.
    pub request: &'static str,
    /// The attempt to be sent next (2 for the first retry).
    pub attempt: u32,
    pub delay_ms: u64,
    /// Why the previous attempt failed, as in an `error` event.
    pub kind: &'static str,
    pub message: String,
    pub http_status: Option<u16>,
    pub error: Option<ErrorObject<'a>>,
}

/// The `started` event (`start --no-wait`).
#[derive(Serialize)]
pub struct StartedLine {
    pub event: &'static str,
    /// The resume token (it can hold a secret).
    pub token: String,
    pub protocol: &'static str,
    /// When the first poll is due (`lro resume` waits until then).
    #[serde(rename = "nextPollAt", skip_serializing_if = "Option::is_none")]
    pub next_poll_at: Option<String>,
}

/// The `cancel-requested` event (`cancel`).
#[derive(Serialize)]
pub struct CancelLine {
    pub event: &'static str,
    pub protocol: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::human::human_outcome;

    #[test]
    fn due_times_are_rfc3339_utc_to_the_millisecond() {
        let at = |ms| SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(ms);
        assert_eq!(
            rfc3339(at(1_800_000_000_000)).as_deref(),
            Some("2027-01-15T08:00:00Z")
        );
        assert_eq!(
            rfc3339(at(1_800_000_000_250)).as_deref(),
            Some("2027-01-15T08:00:00.25Z")
        );
        let late = at(1_800_000_000_250) + std::time::Duration::from_nanos(1);
        assert_eq!(rfc3339(late).as_deref(), Some("2027-01-15T08:00:00.251Z"));
    }

    #[test]
    fn results_are_json_or_a_string_or_null() {
        assert_eq!(result(None), Value::Null);
        assert_eq!(result(Some(b" \n")), Value::Null);
        assert_eq!(result(Some(br#"{"a":1}"#)), serde_json::json!({"a": 1}));
        assert_eq!(result(Some(b"plain")), Value::String("plain".into()));
        assert_eq!(
            result(Some(&[0xff, b'x'])),
            Value::String("\u{fffd}x".into())
        );
        assert_eq!(result_format(None), None);
        assert_eq!(result_format(Some(b" ")), None);
        assert_eq!(result_format(Some(br#"{"a":1}"#)), Some("json"));
        assert_eq!(result_format(Some(br#""text""#)), Some("json"));
        assert_eq!(result_format(Some(br#"{"a":1"#)), Some("text"));
        assert_eq!(result_format(Some(b"plain")), Some("text"));
    }

    #[test]
    fn a_failure_shows_the_service_error() {
        let status = AsyncJobStatus::new(JobState::Failed)
            .with_error_code("nameAlreadyExists")
            .with_description("exists");
        let line = serde_json::to_value(OutcomeLine::failed(&status)).unwrap();
        assert_eq!(line["outcome"], "failed");
        assert_eq!(line["error"]["code"], "nameAlreadyExists");
        assert_eq!(line["error"]["message"], "exists");
        assert_eq!(
            human_outcome(&status, None),
            "failed: nameAlreadyExists: exists"
        );
        let cancelled = AsyncJobStatus::new(JobState::Cancelled);
        assert_eq!(OutcomeLine::failed(&cancelled).outcome, "canceled");
    }
}
