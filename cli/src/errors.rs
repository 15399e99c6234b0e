//! How an error is shown: its kind, its message with its causes, its HTTP
//! status and service error, and whether the job may still be running.

use lro_poller::{Error, RequestKind, ServiceError, TransportErrorKind};

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
pub fn message(error: &Error) -> String {
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

/// Whether to say the job may still be running: not when the start request
/// was refused or never reached the server, nor after a cancel request (no
/// one was waiting on the job).
pub fn may_still_run(error: &Error) -> bool {
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
pub fn http_status(error: &Error) -> Option<u16> {
    match error {
        Error::CancelUnsupported { http_status, .. } => http_status.map(|s| s.as_u16()),
        _ => error.http_status().map(|s| s.as_u16()),
    }
}

pub fn service_error(error: &Error) -> Option<&ServiceError> {
    match error {
        Error::Http(http) | Error::MonitorExpired(http) => http.service_error.as_ref(),
        _ => None,
    }
}
