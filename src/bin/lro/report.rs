//! What the user sees: status updates, the final line, the exit status.
//!
//! Human mode draws a progress bar on stderr (plain status lines when stderr
//! is not a terminal) and prints one final line on stdout. `--json` prints one
//! JSON object per line on stdout: a `status` event per status report (and a
//! `retry` event each time the start request is sent again), then exactly
//! one `outcome`, `started` (`start --no-wait`), `cancel-requested`
//! (`cancel`) or `error` event. Error messages also go to stderr in both
//! modes. No URL is ever printed with its query (it can hold a token), and a
//! resume token only where the user asked for one: `start --no-wait`, the
//! `token` of an error that ended the wait early, and the hint after Ctrl-C.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lro_poller::{
    AsyncJobStatus, Error, JobState, Outcome, RequestKind, ResumeToken, ServiceError,
    StartRetryNotice, TransportErrorKind, redact,
};
use serde::Serialize;
use serde_json::Value;

/// The exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The job succeeded.
    Success = 0,
    /// The job failed or was canceled.
    JobFailed = 1,
    /// Anything else went wrong (including Ctrl-C): the job may still be
    /// running.
    Error = 2,
    /// The command line was wrong.
    Usage = 64,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// A command line that cannot be run.
#[derive(Debug)]
pub struct UsageError {
    message: String,
    /// Printed as it is (clap's own rendering), not after `lro: `.
    verbatim: bool,
}

impl UsageError {
    /// An error saying `message`.
    pub fn new(message: impl Into<String>) -> Self {
        UsageError {
            message: message.into(),
            verbatim: false,
        }
    }

    /// An error already rendered (by clap).
    pub fn rendered(text: impl Into<String>) -> Self {
        UsageError {
            message: text.into(),
            verbatim: true,
        }
    }

    /// What is wrong.
    #[cfg(test)]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prints it: on stderr, and as an `error` event on stdout with `--json`.
    pub fn report(&self, json: bool) {
        if self.verbatim {
            eprintln!("{}", self.message);
        } else {
            eprintln!("lro: {}", self.message);
        }
        if json {
            print_json(&ErrorLine {
                event: "error",
                kind: "usage",
                message: self
                    .message
                    .strip_prefix("error: ")
                    .unwrap_or(&self.message)
                    .to_owned(),
                http_status: None,
                error: None,
                token: None,
            });
        }
    }
}

/// How a run ended.
pub enum Ending {
    /// The job completed.
    Succeeded(Box<Outcome>),
    /// The job failed, or waiting on it did.
    Error(Error),
    /// `--timeout` passed while the crate was not polling (the start
    /// request or the result fetch hung).
    TimedOut {
        /// Time since the operation started.
        elapsed: Duration,
        /// Polls sent.
        polls: u32,
        /// A token to go on later, when the start had been answered.
        token: Option<Box<ResumeToken>>,
    },
    /// The user pressed Ctrl-C.
    Interrupted {
        /// A token to go on later, when the start had been answered.
        token: Option<Box<ResumeToken>>,
    },
    /// `start --no-wait`: the service answered the start request and the job
    /// runs on.
    Started {
        /// The token to go on with.
        token: Box<ResumeToken>,
        /// The protocol's name.
        protocol: &'static str,
    },
    /// `cancel`: the service took the cancel request.
    CancelRequested {
        /// The protocol's name.
        protocol: &'static str,
    },
}

impl Ending {
    /// The exit status for this ending.
    pub fn exit(&self) -> Exit {
        match self {
            Ending::Succeeded(_) | Ending::Started { .. } | Ending::CancelRequested { .. } => {
                Exit::Success
            }
            Ending::Error(Error::Failed(_)) => Exit::JobFailed,
            Ending::Error(_) | Ending::TimedOut { .. } | Ending::Interrupted { .. } => Exit::Error,
        }
    }
}

/// The `kind` of an `error` event.
pub fn kind(error: &Error) -> &'static str {
    match error {
        Error::Failed(_) => "failed",
        Error::Transport { .. } => "transport",
        Error::Http(_) => "http",
        Error::MonitorExpired(_) => "expired",
        Error::Protocol(_) => "protocol",
        Error::DeadlineExceeded { .. } => "deadline",
        Error::PollLimitExceeded { .. } => "poll-limit",
        Error::Config(_) => "config",
        Error::CancelUnsupported { .. } => "cancel-unsupported",
        Error::InvalidToken(_) => "invalid-token",
        Error::UrlRejected { .. } => "url-rejected",
        _ => "other",
    }
}

/// The error's message with its causes (each once).
fn message(error: &Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(next) = cause {
        let shown = next.to_string();
        if !text.contains(&shown) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        cause = next.source();
    }
    text
}

/// Where output goes.
pub enum Reporter {
    /// One JSON object per line on stdout.
    Json,
    /// A progress bar or status lines on stderr, a final line on stdout.
    Human(Human),
}

impl Reporter {
    /// A reporter for `--json` or not.
    pub fn new(json: bool) -> Self {
        if json {
            Reporter::Json
        } else {
            Reporter::Human(Human::new())
        }
    }

    /// A reporter with no progress bar (for `cancel`, which reports no
    /// status).
    pub fn quiet(json: bool) -> Self {
        if json {
            Reporter::Json
        } else {
            Reporter::Human(Human {
                bar: None,
                last: None,
            })
        }
    }

    /// A status report arrived.
    pub fn status(&mut self, status: &AsyncJobStatus) {
        match self {
            Reporter::Json => print_json(&StatusLine {
                event: "status",
                status,
            }),
            Reporter::Human(human) => human.status(status),
        }
    }

    /// The start request failed and is to be sent again.
    pub fn start_retry(&mut self, retry: &StartRetryNotice) {
        let text = message(&retry.error);
        match self {
            Reporter::Json => print_json(&RetryLine {
                event: "retry",
                request: "start",
                attempt: retry.attempt,
                delay_ms: u64::try_from(retry.delay.as_millis()).unwrap_or(u64::MAX),
                kind: kind(&retry.error),
                message: text,
                http_status: http_status(&retry.error),
                error: service_error(&retry.error).map(ErrorObject::from),
            }),
            Reporter::Human(human) => human.note(&format!(
                "lro: {text}; sending the start request again in {:.1}s (attempt {})",
                retry.delay.as_secs_f64(),
                retry.attempt
            )),
        }
    }

    /// The run ended.
    pub fn finish(&mut self, ending: &Ending) {
        if let Reporter::Human(human) = self {
            human.clear();
        }
        let json = matches!(self, Reporter::Json);
        match ending {
            Ending::Succeeded(outcome) => {
                if json {
                    print_json(&OutcomeLine::succeeded(outcome));
                } else {
                    println!("{}", human_outcome(outcome.status(), outcome.resource_id()));
                }
            }
            Ending::Error(Error::Failed(status)) => {
                if json {
                    print_json(&OutcomeLine::failed(status));
                } else {
                    println!("{}", human_outcome(status, status.resource_id.as_deref()));
                }
            }
            Ending::Error(error) => {
                let text = message(error);
                let hint = if may_still_run(error) {
                    " (the job may still be running)"
                } else {
                    ""
                };
                eprintln!("lro: {} error: {text}{hint}", kind(error));
                let token = error.resume_token();
                if json {
                    print_json(&ErrorLine {
                        event: "error",
                        kind: kind(error),
                        message: text,
                        http_status: http_status(error),
                        error: service_error(error).map(ErrorObject::from),
                        token: token.map(ToString::to_string),
                    });
                } else if let Some(token) = token {
                    resume_hint(token);
                }
            }
            Ending::TimedOut {
                elapsed,
                polls,
                token,
            } => {
                let message = format!(
                    "deadline exceeded: the job had not ended after {elapsed:?} and {polls} poll(s) (the job may still be running)"
                );
                plain_error(json, "deadline", message, token.as_deref());
                if let Some(token) = token.as_deref().filter(|_| !json) {
                    resume_hint(token);
                }
            }
            Ending::Interrupted { token } => {
                let message = "interrupted: the job may still be running".to_owned();
                plain_error(json, "interrupted", message, token.as_deref());
                // Someone pressed Ctrl-C: tell them how to go on, in both modes.
                if let Some(token) = token.as_deref() {
                    resume_hint(token);
                }
            }
            Ending::Started { token, protocol } => {
                if json {
                    print_json(&StartedLine {
                        event: "started",
                        token: token.to_string(),
                        protocol,
                    });
                } else {
                    println!("{token}");
                }
            }
            Ending::CancelRequested { protocol } => {
                if json {
                    print_json(&CancelLine {
                        event: "cancel-requested",
                        protocol,
                    });
                } else {
                    println!("cancel requested");
                }
                eprintln!(
                    "lro: the service took the cancel request; the job ends when the service says so (wait for it with `lro resume` and the same token)"
                );
            }
        }
    }
}

/// Tells the user how to go on with the operation (stderr).
fn resume_hint(token: &ResumeToken) {
    eprintln!("lro: resume with: lro resume {token}");
}

/// An error of the CLI's own, with no HTTP status.
fn plain_error(json: bool, kind: &'static str, message: String, token: Option<&ResumeToken>) {
    eprintln!("lro: {message}");
    if json {
        print_json(&ErrorLine {
            event: "error",
            kind,
            message,
            http_status: None,
            error: None,
            token: token.map(ToString::to_string),
        });
    }
}

/// Whether to say the job may still be running: not when the start request
/// was refused or never reached the server, nor after a cancel request (no
/// one was waiting on the job).
fn may_still_run(error: &Error) -> bool {
    match error {
        Error::Http(http) => !matches!(http.kind, RequestKind::Start | RequestKind::Cancel),
        Error::Transport { kind, source, .. } => match kind {
            RequestKind::Start => source.kind() != TransportErrorKind::Connect,
            RequestKind::Cancel => false,
            _ => true,
        },
        Error::CancelUnsupported { .. } => false,
        _ => error.job_may_still_run(),
    }
}

/// The HTTP status behind the error, if any (a service that refused a
/// cancel request too).
fn http_status(error: &Error) -> Option<u16> {
    match error {
        Error::CancelUnsupported { http_status, .. } => http_status.map(|s| s.as_u16()),
        _ => error.http_status().map(|s| s.as_u16()),
    }
}

fn service_error(error: &Error) -> Option<&ServiceError> {
    match error {
        Error::Http(http) | Error::MonitorExpired(http) => http.service_error.as_ref(),
        _ => None,
    }
}

/// Prints one line of JSON on stdout (line-buffered, so each line is flushed).
fn print_json(value: &impl Serialize) {
    match serde_json::to_string(value) {
        Ok(line) => println!("{line}"),
        Err(e) => eprintln!("lro: cannot write JSON: {e}"),
    }
}

/// `succeeded`, `failed` or `canceled`.
fn outcome_word(state: &JobState) -> &'static str {
    match state {
        JobState::Completed => "succeeded",
        JobState::Cancelled => "canceled",
        _ => "failed",
    }
}

fn human_outcome(status: &AsyncJobStatus, resource_id: Option<&str>) -> String {
    let mut line = outcome_word(&status.status).to_owned();
    if !status.status.is_success() {
        if let Some(summary) = status.failure_summary() {
            line.push_str(": ");
            line.push_str(&summary);
        }
    }
    if let Some(id) = resource_id {
        line.push_str(if status.status.is_success() {
            ": "
        } else {
            "; "
        });
        line.push_str("resource id ");
        line.push_str(id);
    }
    line
}

#[derive(Serialize)]
struct StatusLine<'a> {
    event: &'static str,
    #[serde(flatten)]
    status: &'a AsyncJobStatus,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutcomeLine<'a> {
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
    fn succeeded(outcome: &'a Outcome) -> Self {
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

    fn failed(status: &'a AsyncJobStatus) -> Self {
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

#[derive(Serialize)]
struct ErrorObject<'a> {
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorLine<'a> {
    event: &'static str,
    kind: &'static str,
    message: String,
    http_status: Option<u16>,
    error: Option<ErrorObject<'a>>,
    /// A resume token, when the error ended the wait before the job ended
    /// and the operation can go on (`lro resume`).
    token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RetryLine<'a> {
    event: &'static str,
    /// Which request is sent again (`start`).
    request: &'static str,
    /// The attempt to be sent next (2 for the first retry).
    attempt: u32,
    delay_ms: u64,
    /// Why the previous attempt failed, as in an `error` event.
    kind: &'static str,
    message: String,
    http_status: Option<u16>,
    error: Option<ErrorObject<'a>>,
}

#[derive(Serialize)]
struct StartedLine {
    event: &'static str,
    /// The resume token (it can hold a secret).
    token: String,
    protocol: &'static str,
}

#[derive(Serialize)]
struct CancelLine {
    event: &'static str,
    protocol: &'static str,
}

/// Human output: a progress bar on a terminal, else a line per change.
pub struct Human {
    bar: Option<ProgressBar>,
    last: Option<String>,
}

impl Human {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(100), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} [{bar:40}] {pos:>3}% {wide_msg}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Human { bar, last: None }
    }

    fn status(&mut self, status: &AsyncJobStatus) {
        let mut text = status.status.to_string();
        if let Some(description) = &status.status_description {
            text.push_str(": ");
            text.push_str(description);
        }
        match &self.bar {
            Some(bar) => {
                if let Some(percentage) = status.percentage_complete {
                    // `as` saturates; the value is finite and clamped anyway.
                    bar.set_position(percentage.clamp(0.0, 100.0).round() as u64);
                }
                bar.set_message(text);
            }
            None => {
                if let Some(percentage) = status.percentage_complete {
                    text = format!("{text} {percentage}%");
                }
                if self.last.as_ref() != Some(&text) {
                    eprintln!("{text}");
                    self.last = Some(text);
                }
            }
        }
    }

    /// A line of its own on stderr, above the progress bar if there is one.
    fn note(&mut self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
