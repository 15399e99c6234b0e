//! The status of a long-running job, as a monitor reports it.
//!
//! [`AsyncJobStatus`] is the OneDrive / Microsoft Graph `asyncJobStatus` resource,
//! which is also the shape every protocol of this crate reports its progress in.
//! [`JobState`] is its `status` field: every value the services document, parsed
//! case-insensitively, and any value nobody has seen yet kept verbatim as
//! [`JobState::Unknown`] — never mistaken for the end of the job.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod lenient;

use crate::answer::Answer;

/// Where a job is in its life, from the `status` field of a status report.
///
/// Parsing is case-insensitive (`"Failed"` and `"failed"` are the same state).
/// Azure's vocabulary for the same states is accepted too: `Succeeded` is
/// [`JobState::Completed`], `Running` is [`JobState::InProgress`], and the US
/// spelling `Canceled` is [`JobState::Cancelled`]. A value
/// that is not one of the documented ones becomes [`JobState::Unknown`] with the
/// text kept as it was sent; an unknown state is never terminal, so an operation
/// in an unknown state keeps polling (bounded by the policy's deadline).
///
/// ```
/// use lro_poller::JobState;
///
/// assert_eq!("InProgress".parse::<JobState>().unwrap(), JobState::InProgress);
/// assert!(JobState::Completed.is_success());
/// assert!(JobState::DeleteFailed.is_terminal());
/// let odd: JobState = "paused".parse().unwrap();
/// assert_eq!(odd, JobState::Unknown("paused".into()));
/// assert!(!odd.is_terminal());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JobState {
    /// The job has been accepted but has not started.
    NotStarted,
    /// The job is running.
    InProgress,
    /// The job finished successfully. Terminal.
    Completed,
    /// The job is updating.
    Updating,
    /// The job failed. Terminal.
    Failed,
    /// A deletion is pending.
    DeletePending,
    /// A deletion failed. Terminal.
    DeleteFailed,
    /// The job is waiting.
    Waiting,
    /// The job was cancelled. Terminal.
    Cancelled,
    /// A cancellation is pending.
    CancelPending,
    /// A value that is not documented, kept verbatim. Never terminal.
    Unknown(String),
}

impl JobState {
    /// Every documented state, in the order of the enum.
    pub const KNOWN: [JobState; 10] = [
        JobState::NotStarted,
        JobState::InProgress,
        JobState::Completed,
        JobState::Updating,
        JobState::Failed,
        JobState::DeletePending,
        JobState::DeleteFailed,
        JobState::Waiting,
        JobState::Cancelled,
        JobState::CancelPending,
    ];

    /// Whether the job has ended: `completed`, `failed`, `deleteFailed` or
    /// `cancelled`. No poll is sent after a terminal state.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            JobState::Completed | JobState::Failed | JobState::DeleteFailed | JobState::Cancelled
        )
    }

    /// Whether the job ended successfully (`completed`).
    pub fn is_success(&self) -> bool {
        matches!(self, JobState::Completed)
    }

    /// The state as the service spells it (camelCase for the documented states,
    /// verbatim for unknown ones).
    pub fn as_str(&self) -> &str {
        match self {
            JobState::NotStarted => "notStarted",
            JobState::InProgress => "inProgress",
            JobState::Completed => "completed",
            JobState::Updating => "updating",
            JobState::Failed => "failed",
            JobState::DeletePending => "deletePending",
            JobState::DeleteFailed => "deleteFailed",
            JobState::Waiting => "waiting",
            JobState::Cancelled => "cancelled",
            JobState::CancelPending => "cancelPending",
            JobState::Unknown(other) => other,
        }
    }

    /// Parses a state; never fails (unknown values become [`JobState::Unknown`]).
    pub fn parse(text: &str) -> JobState {
        let known = [
            ("notstarted", JobState::NotStarted),
            ("inprogress", JobState::InProgress),
            ("completed", JobState::Completed),
            ("updating", JobState::Updating),
            ("failed", JobState::Failed),
            ("deletepending", JobState::DeletePending),
            ("deletefailed", JobState::DeleteFailed),
            ("waiting", JobState::Waiting),
            ("cancelled", JobState::Cancelled),
            ("canceled", JobState::Cancelled),
            ("cancelpending", JobState::CancelPending),
            ("succeeded", JobState::Completed),
            ("running", JobState::InProgress),
        ];
        known
            .into_iter()
            .find(|(name, _)| text.eq_ignore_ascii_case(name))
            .map(|(_, state)| state)
            .unwrap_or_else(|| JobState::Unknown(text.to_owned()))
    }
}

impl std::str::FromStr for JobState {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(JobState::parse(s))
    }
}

impl fmt::Display for JobState {
    /// The state as the service spells it; width and alignment apply.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl Serialize for JobState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for JobState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(JobState::parse(&text))
    }
}

/// An error object a service attached to a status report
/// (`{"code": "generalException", "message": "…"}`).
///
/// Reading one never fails, whatever its shape: a `code` that is a string or
/// a number (Azure's `{"code": 500}`, Google's `google.rpc.Code`) is kept as
/// text; a missing `code` is taken from a nested `innererror`/`innerError`,
/// a missing `message` from the first of `details`; a bare string is the
/// message; other members are ignored. So a failed job always ends with the
/// service's error, never with "unreadable answer".
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct ServiceError {
    /// The service's machine-readable code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The service's human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl ServiceError {
    /// An error with the given code and message.
    pub fn new(code: Option<String>, message: Option<String>) -> Self {
        ServiceError { code, message }
    }
}

impl ServiceError {
    /// Reads an error object of any shape (see the type's documentation).
    pub fn from_json_value(value: &serde_json::Value) -> Self {
        ServiceError::deserialize(value).unwrap_or_default()
    }

    /// The service's error in an error answer's body: the usual
    /// `{"error":{"code":…,"message":…}}` shape, or a top-level
    /// `{"code":…,"message":…}`; `None` when the body holds neither.
    pub(crate) fn from_body(body: &[u8]) -> Option<ServiceError> {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
            return Some(ServiceError::from_json_value(error));
        }
        let error = ServiceError::from_json_value(&value);
        let has_own = value.get("code").is_some() || value.get("message").is_some();
        (has_own && (error.code.is_some() || error.message.is_some())).then_some(error)
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, &self.message) {
            (Some(code), Some(message)) => write!(f, "{code}: {message}"),
            (Some(code), None) => f.write_str(code),
            (None, Some(message)) => f.write_str(message),
            (None, None) => f.write_str("(no details)"),
        }
    }
}

/// One status report of a long-running job (Graph's `asyncJobStatus`).
///
/// JSON field names are camelCase; unknown fields are ignored;
/// `percentageComplete` may be an integer, a float or a numeric string.
///
/// ```
/// use lro_poller::{AsyncJobStatus, JobState};
///
/// let status: AsyncJobStatus = serde_json::from_str(
///     r#"{"operation":"ItemCopy","percentageComplete":27.8,"status":"inProgress"}"#,
/// ).unwrap();
/// assert_eq!(status.status, JobState::InProgress);
/// assert_eq!(status.percentage_complete, Some(27.8));
/// ```
///
/// A status read by an [`Operation`](crate::Operation) also carries the
/// [`Answer`] it was read from ([`answer`](Self::answer)): the raw status
/// code, headers and body, and the typed [`details`](Self::details) the
/// protocol read. The answer is not serialized and takes no part in
/// equality: two statuses are equal when their reports are.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AsyncJobStatus {
    /// The kind of operation (`"ItemCopy"`), when the service says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Progress from 0 to 100, when the service reports it (Azure's
    /// `percentComplete` is read too).
    #[serde(
        default,
        alias = "percentComplete",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_percentage"
    )]
    pub percentage_complete: Option<f64>,
    /// The id of the resource the job produced, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// The URL of the resource the job produced, when the service says
    /// (`resourceLocation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_location: Option<String>,
    /// Where the job is in its life.
    pub status: JobState,
    /// Free text about the state (`"Completed 0/0 files; 0/9314 bytes"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_description: Option<String>,
    /// A failure code some services put beside the status (a number is
    /// kept as text).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_text"
    )]
    pub error_code: Option<String>,
    /// A failure object some services put beside the status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ServiceError>,
    /// The answer this report was read from.
    #[serde(skip)]
    answer: Option<Answer>,
}

impl PartialEq for AsyncJobStatus {
    fn eq(&self, other: &Self) -> bool {
        self.operation == other.operation
            && self.percentage_complete == other.percentage_complete
            && self.resource_id == other.resource_id
            && self.resource_location == other.resource_location
            && self.status == other.status
            && self.status_description == other.status_description
            && self.error_code == other.error_code
            && self.error == other.error
    }
}

impl AsyncJobStatus {
    /// A report with only a state.
    pub fn new(status: JobState) -> Self {
        AsyncJobStatus {
            operation: None,
            percentage_complete: None,
            resource_id: None,
            resource_location: None,
            status,
            status_description: None,
            error_code: None,
            error: None,
            answer: None,
        }
    }

    /// The answer this report was read from (status code, headers, body and
    /// the protocol's details), when an operation read it. An operation keeps
    /// it on the status it yields and on its final status; between polls it
    /// holds none.
    pub fn answer(&self) -> Option<&Answer> {
        self.answer.as_ref()
    }

    /// The typed details the protocol read from the answer, as a `T` (see
    /// [`Reading::with_details`](crate::protocol::Reading::with_details)).
    pub fn details<T: std::any::Any>(&self) -> Option<&T> {
        self.answer.as_ref()?.details()
    }

    /// The answer's body parsed as JSON into `T` (for a field the report does
    /// not have). `None` when the status carries no answer.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Option<Result<T, serde_json::Error>> {
        self.answer.as_ref().map(Answer::json)
    }

    /// Attaches the answer the report was read from.
    pub fn with_answer(mut self, answer: Answer) -> Self {
        self.answer = Some(answer);
        self
    }

    /// Sets the answer the report was read from.
    pub(crate) fn set_answer(&mut self, answer: Answer) {
        self.answer = Some(answer);
    }

    /// Drops the answer of a running status once it was handed out (an
    /// operation keeps no answer between polls); a terminal status keeps it
    /// for the outcome or the error.
    pub(crate) fn release_answer(&mut self) {
        if !self.status.is_terminal() {
            self.answer = None;
        }
    }

    /// Sets the progress (0–100).
    pub fn with_percentage(mut self, percentage: f64) -> Self {
        self.percentage_complete = Some(percentage);
        self
    }

    /// Sets the operation name.
    pub fn with_operation(mut self, operation: impl Into<String>) -> Self {
        self.operation = Some(operation.into());
        self
    }

    /// Sets the id of the produced resource.
    pub fn with_resource_id(mut self, id: impl Into<String>) -> Self {
        self.resource_id = Some(id.into());
        self
    }

    /// Sets the status description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.status_description = Some(description.into());
        self
    }

    /// Sets the service's error object.
    pub fn with_error(mut self, error: ServiceError) -> Self {
        self.error = Some(error);
        self
    }

    /// Sets the service's error code.
    pub fn with_error_code(mut self, code: impl Into<String>) -> Self {
        self.error_code = Some(code.into());
        self
    }

    /// Parses a report from JSON bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The most useful account of why the job failed: the error object, else the
    /// error code, else the status description.
    pub fn failure_summary(&self) -> Option<String> {
        if let Some(error) = &self.error {
            return Some(error.to_string());
        }
        match (&self.error_code, &self.status_description) {
            (Some(code), Some(desc)) => Some(format!("{code}: {desc}")),
            (Some(code), None) => Some(code.clone()),
            (None, Some(desc)) => Some(desc.clone()),
            (None, None) => None,
        }
    }
}

fn lenient_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(lenient::Text::deserialize(deserializer)?.0)
}

fn lenient_percentage<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Float(f64),
        Text(String),
    }
    Ok(match Option::<Number>::deserialize(deserializer)? {
        Some(Number::Float(value)) => Some(value),
        Some(Number::Text(text)) => text.trim().trim_end_matches('%').parse::<f64>().ok(),
        None => None,
    }
    .filter(|value| value.is_finite()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_state_parses_in_any_case() {
        for state in JobState::KNOWN {
            let name = state.as_str();
            assert_eq!(JobState::parse(name), state);
            assert_eq!(JobState::parse(&name.to_uppercase()), state);
            assert_eq!(JobState::parse(&name.to_lowercase()), state);
        }
        assert_eq!(JobState::parse("Canceled"), JobState::Cancelled);
        assert_eq!(JobState::parse("Succeeded"), JobState::Completed);
        assert_eq!(JobState::parse("RUNNING"), JobState::InProgress);
    }

    #[test]
    fn terminal_set_is_exactly_the_documented_one() {
        let terminal: Vec<_> = JobState::KNOWN
            .iter()
            .filter(|s| s.is_terminal())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(
            terminal,
            ["completed", "failed", "deleteFailed", "cancelled"]
        );
        let success: Vec<_> = JobState::KNOWN.iter().filter(|s| s.is_success()).collect();
        assert_eq!(success, [&JobState::Completed]);
    }

    #[test]
    fn unknown_states_are_kept_verbatim_and_not_terminal() {
        for text in ["paused", "Accepted", "", "COMPLETED!", "done", "Creating"] {
            let state = JobState::parse(text);
            assert_eq!(state, JobState::Unknown(text.to_owned()));
            assert!(!state.is_terminal());
            assert_eq!(state.to_string(), text);
        }
        assert_eq!(format!("{:<12}|", JobState::Completed), "completed   |");
    }

    #[test]
    fn seed_examples_parse() {
        let running = AsyncJobStatus::from_json(
            br#"{"operation":"ItemCopy","percentageComplete":27.8,"status":"inProgress"}"#,
        )
        .unwrap();
        assert_eq!(running.operation.as_deref(), Some("ItemCopy"));
        assert_eq!(running.percentage_complete, Some(27.8));
        assert_eq!(running.status, JobState::InProgress);

        let done = AsyncJobStatus::from_json(
            br#"{"percentageComplete":100.0,"resourceId":"01MOWKALTXPSWA4NCTOJE3R7KMMEZ3SZO6","status":"completed"}"#,
        )
        .unwrap();
        assert_eq!(done.status, JobState::Completed);
        assert_eq!(
            done.resource_id.as_deref(),
            Some("01MOWKALTXPSWA4NCTOJE3R7KMMEZ3SZO6")
        );
    }

    #[test]
    fn percentage_accepts_integer_string_and_null() {
        let int = AsyncJobStatus::from_json(br#"{"percentageComplete":50,"status":"inProgress"}"#)
            .unwrap();
        assert_eq!(int.percentage_complete, Some(50.0));
        let text =
            AsyncJobStatus::from_json(br#"{"percentageComplete":"12.5","status":"inProgress"}"#)
                .unwrap();
        assert_eq!(text.percentage_complete, Some(12.5));
        let null =
            AsyncJobStatus::from_json(br#"{"percentageComplete":null,"status":"inProgress"}"#)
                .unwrap();
        assert_eq!(null.percentage_complete, None);
    }

    #[test]
    fn unknown_fields_are_ignored_and_failures_keep_details() {
        let failed = AsyncJobStatus::from_json(
            br#"{"status":"Failed","@odata.type":"x","errorCode":"nameAlreadyExists",
                "statusDescription":"Completed 0/0 files","error":{"code":"generalException","message":"boom","innerError":{}}}"#,
        )
        .unwrap();
        assert_eq!(failed.status, JobState::Failed);
        assert_eq!(failed.error_code.as_deref(), Some("nameAlreadyExists"));
        assert_eq!(
            failed.failure_summary().as_deref(),
            Some("generalException: boom")
        );
    }

    #[test]
    fn error_objects_of_every_shape_are_read() {
        let read = |json: &str| {
            AsyncJobStatus::from_json(format!(r#"{{"status":"Failed","error":{json}}}"#).as_bytes())
                .unwrap()
                .error
                .unwrap()
        };
        let numeric = read(r#"{"code":500,"message":"Internal Server Error"}"#);
        assert_eq!(numeric.code.as_deref(), Some("500"));
        assert_eq!(numeric.message.as_deref(), Some("Internal Server Error"));
        let nested = read(
            r#"{"code":"BadRequest","message":"outer","innererror":{"code":"Inner","innererror":{"code":"Deeper"}},"details":[{"code":"D","message":"detail"}]}"#,
        );
        assert_eq!(nested.code.as_deref(), Some("BadRequest"));
        assert_eq!(nested.message.as_deref(), Some("outer"));
        let no_code = read(r#"{"message":"only a message","innerError":{"code":"fromInner"}}"#);
        assert_eq!(no_code.code.as_deref(), Some("fromInner"));
        let no_message = read(r#"{"code":"X","details":[{"code":"Y","message":"from details"}]}"#);
        assert_eq!(no_message.message.as_deref(), Some("from details"));
        assert_eq!(read(r#""boom""#).message.as_deref(), Some("boom"));
        assert_eq!(read("17").code.as_deref(), Some("17"));
        assert_eq!(read("{}"), ServiceError::default());
        let null = AsyncJobStatus::from_json(br#"{"status":"Failed","error":null}"#).unwrap();
        assert_eq!(null.error, None);
        assert_eq!(read(r#"[{"code":"A"}]"#).code.as_deref(), Some("A"));
        assert_eq!(read("[]"), ServiceError::default());
        assert_eq!(read("true").code.as_deref(), Some("true"));
        assert_eq!(read("-5").code.as_deref(), Some("-5"));
        assert_eq!(read("1.5").code.as_deref(), Some("1.5"));
        assert_eq!(
            ServiceError::from_json_value(&serde_json::Value::Null),
            ServiceError::default()
        );
        assert_eq!(
            read(r#"{"code":{"odd":1},"message":7}"#).message.as_deref(),
            Some("7")
        );
        let counted = AsyncJobStatus::from_json(br#"{"status":"failed","errorCode":42}"#).unwrap();
        assert_eq!(counted.error_code.as_deref(), Some("42"));
    }

    #[test]
    fn missing_status_is_an_error() {
        assert!(AsyncJobStatus::from_json(br#"{"percentageComplete":5}"#).is_err());
        assert!(AsyncJobStatus::from_json(b"<html>").is_err());
    }

    #[test]
    fn round_trips_through_json() {
        let status = AsyncJobStatus::new(JobState::Unknown("Paused".into()))
            .with_percentage(3.5)
            .with_operation("ItemCopy")
            .with_resource_id("abc")
            .with_description("halfway")
            .with_error_code("x")
            .with_error(ServiceError::new(Some("c".into()), None));
        let json = serde_json::to_string(&status).unwrap();
        assert!(json.contains(r#""status":"Paused""#), "{json}");
        let back: AsyncJobStatus = serde_json::from_str(&json).unwrap();
        assert_eq!(back, status);
    }

    #[test]
    fn service_errors_are_read_from_the_usual_shapes() {
        let nested = ServiceError::from_body(
            br#"{"error":{"code":"itemNotFound","message":"gone","innerError":{}}}"#,
        )
        .unwrap();
        assert_eq!(nested.code.as_deref(), Some("itemNotFound"));
        assert_eq!(nested.message.as_deref(), Some("gone"));
        let flat = ServiceError::from_body(br#"{"code":5,"message":"nope"}"#).unwrap();
        assert_eq!(flat.code.as_deref(), Some("5"));
        assert!(ServiceError::from_body(b"<html>oops</html>").is_none());
        assert!(ServiceError::from_body(b"{}").is_none());
    }
}
