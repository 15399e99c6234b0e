//! What the user sees: status updates, the final line, the exit status.
//!
//! Human mode draws a progress bar on stderr (plain status lines when stderr
//! is not a terminal) and prints one final line on stdout. `--json` prints one
//! JSON object per line on stdout: a `status` event per status report (and a
//! `retry` event each time a request is sent again), then exactly
//! one `outcome`, `started` (`start --no-wait`), `cancel-requested`
//! (`cancel`) or `error` event. Error messages also go to stderr in both
//! modes. No URL is ever printed with its query (it can hold a token), and a
//! resume token only where the user asked for one: `start --no-wait`, the
//! `token` of an error that ended the wait early, and the hint after Ctrl-C.

use std::time::{Duration, SystemTime};

use lro_poller::{AsyncJobStatus, Error, Outcome, RequestKind, ResumeToken, RetryNotice};

use crate::errors::{http_status, kind, may_still_run, message, service_error};
use crate::exit::Exit;
use crate::human::{Human, human_outcome};
use crate::json::{
    CancelLine, ErrorLine, ErrorObject, OutcomeLine, RetryLine, StartedLine, StatusLine,
    print_json, rfc3339,
};

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

/// The name of a request in a `retry` event.
fn request_name(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Start => "start",
        RequestKind::Poll => "poll",
        RequestKind::Result => "result",
        RequestKind::Cancel => "cancel",
        _ => "other",
    }
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
            Reporter::Human(Human::quiet())
        }
    }

    /// A status report arrived.
    pub fn status(&mut self, status: &AsyncJobStatus, next_poll_at: Option<SystemTime>) {
        match self {
            Reporter::Json => print_json(&StatusLine {
                event: "status",
                status,
                next_poll_at: next_poll_at.and_then(rfc3339),
            }),
            Reporter::Human(human) => human.status(status),
        }
    }

    /// A request failed and is to be sent again.
    pub fn retry(&mut self, retry: &RetryNotice) {
        let text = message(&retry.error);
        let request = request_name(retry.request);
        match self {
            Reporter::Json => print_json(&RetryLine {
                event: "retry",
                request,
                attempt: retry.attempt,
                delay_ms: u64::try_from(retry.delay.as_millis()).unwrap_or(u64::MAX),
                kind: kind(&retry.error),
                message: text,
                http_status: http_status(&retry.error),
                error: service_error(&retry.error).map(ErrorObject::from),
            }),
            Reporter::Human(human) => human.note(&format!(
                "lro: {text}; sending the {request} request again in {:.1}s (attempt {})",
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
                let result_left = error
                    .resume_token()
                    .is_some_and(|token| token.result_url().ok().flatten().is_some());
                let hint = if result_left {
                    " (the job succeeded; its result is still to fetch)"
                } else if may_still_run(error) {
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
                }
                // The way to go on, in both modes.
                if let Some(token) = token {
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
                        next_poll_at: token.next_poll_at().and_then(rfc3339),
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
