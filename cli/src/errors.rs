//! How an error is shown: its kind, its message with its causes, its HTTP
//! status and service error, and whether the job may still be running.

use lro_poller::{BuildError, Error, GaveUpCause, RequestKind, ServiceError};

/// The `kind` of an `error` event.
pub fn kind(error: &Error) -> &'static str {
    match error {
        Error::Failed(_) => "failed",
        Error::Request(e) if e.transport_error().is_some() => "transport",
        Error::Request(e) if e.monitor_expired() => "expired",
        Error::Request(_) => "http",
        Error::Protocol(_) => "protocol",
        Error::GaveUp(e) => match e.cause() {
            GaveUpCause::Deadline => "deadline",
            GaveUpCause::PollLimit => "poll-limit",
            GaveUpCause::BackoffStopped(_) => "backoff-stopped",
            _ => "other",
        },
        Error::CancelUnsupported { .. } => "cancel-unsupported",
        Error::UrlRejected { .. } => "url-rejected",
        Error::Build(e) => match **e {
            BuildError::InvalidToken(_) => "invalid-token",
            BuildError::UrlRejected { .. } => "url-rejected",
            BuildError::UnknownProtocol { .. } => "other",
            _ => "config",
        },
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
        Error::Request(request) => match (request.kind(), request.transport_error()) {
            (RequestKind::Cancel, _) => false,
            (RequestKind::Start, Some(source)) => !source.is_connect(),
            (RequestKind::Start, None) => false,
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
        Error::Request(request) => request.service_error(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    /// Every `kind` an `error` line can have: the ones [`super::kind`]
    /// returns, and the CLI's own.
    const KINDS: &[&str] = &[
        "failed",
        "transport",
        "expired",
        "http",
        "protocol",
        "deadline",
        "poll-limit",
        "backoff-stopped",
        "cancel-unsupported",
        "url-rejected",
        "invalid-token",
        "config",
        "usage",
        "interrupted",
        "other",
    ];

    #[test]
    fn the_json_reference_lists_every_kind() {
        let reference = include_str!("../../docs/cli-json.md");
        for kind in KINDS {
            assert!(
                reference.contains(&format!("| `{kind}` |")),
                "docs/cli-json.md does not list the kind `{kind}`"
            );
        }
        let source = include_str!("errors.rs");
        let body = source
            .split("pub fn kind(")
            .nth(1)
            .and_then(|rest| rest.split("\n}\n").next())
            .unwrap_or_default();
        for literal in body.split("=> \"").skip(1) {
            let kind = literal.split('"').next().unwrap_or_default();
            assert!(KINDS.contains(&kind), "`{kind}` is missing from KINDS");
        }
    }
}
