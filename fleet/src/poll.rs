//! One claimed row, polled once through the crate: what to write back.

use std::sync::Arc;

use futures::StreamExt;
use lro_poller::policy::PollPolicy;
use lro_poller::{Error, Operation, ResumeToken, Transport};

use crate::clock::{now_ms, to_ms};
use crate::hosts::HostLimits;
use crate::row::State;

/// What one poll leaves in the row.
#[derive(Debug)]
pub(crate) struct Written {
    pub(crate) id: i64,
    pub(crate) state: State,
    pub(crate) token: Option<String>,
    pub(crate) next_due_ms: i64,
    pub(crate) progress: Option<f64>,
    pub(crate) last_status: Option<String>,
    pub(crate) last_error: Option<String>,
    pub(crate) result: Option<String>,
}

impl Written {
    fn ended(id: i64, state: State) -> Written {
        Written {
            id,
            state,
            token: None,
            next_due_ms: now_ms(),
            progress: None,
            last_status: None,
            last_error: None,
            result: None,
        }
    }

    fn error(id: i64, error: &Error) -> Written {
        let state = match error {
            Error::Failed(_) => State::Failed,
            _ => State::Error,
        };
        Written {
            token: error.resume_token().map(ToString::to_string),
            last_status: error.job_status().map(|status| status.status.to_string()),
            last_error: Some(error.to_string()),
            ..Written::ended(id, state)
        }
    }
}

/// Resumes the row's token, takes one status, and says what to write back.
/// Waits for a request slot on the monitor's host first.
pub(crate) async fn poll_once<T: Transport + 'static>(
    transport: Arc<T>,
    policy: Option<PollPolicy>,
    hosts: &HostLimits,
    id: i64,
    token: Option<String>,
) -> Written {
    let token = match token.as_deref().map(str::parse::<ResumeToken>) {
        Some(Ok(token)) => token,
        Some(Err(e)) => {
            return Written {
                last_error: Some(format!("unreadable token: {e}")),
                ..Written::ended(id, State::Error)
            };
        }
        None => {
            return Written {
                last_error: Some("no token to resume".to_owned()),
                ..Written::ended(id, State::Error)
            };
        }
    };
    let host = token
        .monitor_url()
        .ok()
        .map(|url| {
            format!(
                "{}:{}",
                url.host_str().unwrap_or(""),
                url.port_or_known_default().unwrap_or(0)
            )
        })
        .unwrap_or_default();
    let _slot = hosts.acquire(&host).await;
    let mut builder = Operation::resume(transport, token);
    if let Some(policy) = policy {
        builder = builder.with_policy(policy);
    }
    let mut operation = match builder.build() {
        Ok(operation) => operation,
        Err(e) => {
            return Written {
                last_error: Some(e.to_string()),
                ..Written::ended(id, State::Error)
            };
        }
    };
    let status = match operation.next().await {
        Some(Ok(status)) => status,
        Some(Err(e)) => return Written::error(id, &e),
        None => {
            return Written {
                last_error: Some("the operation ended without a status".to_owned()),
                ..Written::ended(id, State::Error)
            };
        }
    };
    let progress = status.percentage_complete;
    let last_status = Some(status.status.to_string());
    if let (Some(due), Some(token)) = (operation.next_poll_at(), operation.resume_token()) {
        return Written {
            id,
            state: State::Running,
            token: Some(token.to_string()),
            next_due_ms: to_ms(due),
            progress,
            last_status,
            last_error: None,
            result: None,
        };
    }
    match operation.outcome().await {
        Ok(outcome) => Written {
            progress,
            last_status,
            result: match outcome.body() {
                Some(body) => Some(String::from_utf8_lossy(body).into_owned()),
                None => serde_json::to_string(outcome.status()).ok(),
            },
            ..Written::ended(id, State::Succeeded)
        },
        Err(e) => Written {
            progress,
            ..Written::error(id, &e)
        },
    }
}
