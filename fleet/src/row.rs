//! A row of the table, as an application reads it.

use std::time::SystemTime;

use lro_poller::ResumeToken;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::clock::from_ms;
use crate::error::FleetError;

/// Where an operation stands in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Workers poll it when it is due.
    Running,
    /// The job ended well; [`Row::result`] holds the service's final body.
    Succeeded,
    /// The job ended in failure; [`Row::last_error`] holds the service's error.
    Failed,
    /// Polling ended before the job did (the operation gave up, a request or
    /// an answer failed); [`Row::token`] goes on where one exists.
    Error,
}

impl State {
    /// The state as the table spells it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Succeeded => "succeeded",
            State::Failed => "failed",
            State::Error => "error",
        }
    }

    fn parse(text: &str) -> Option<State> {
        [
            State::Running,
            State::Succeeded,
            State::Failed,
            State::Error,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }
}

/// One operation in the table: what the last poll saw and what comes next.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Row {
    /// The id [`Fleet::submit`](crate::Fleet::submit) returned.
    pub id: i64,
    /// The caller's key it was submitted under.
    pub key: String,
    /// Where it stands.
    pub state: State,
    /// The service's last reported progress, in percent.
    pub progress: Option<f64>,
    /// When the next poll is due (`None` once it has ended).
    pub next_due: Option<SystemTime>,
    /// The service's last reported status (`inProgress`, `completed`, …).
    pub last_status: Option<String>,
    /// The error that ended it (`Failed` or `Error`).
    pub last_error: Option<String>,
    /// How many polls the fleet has made.
    pub polls: u64,
    /// The token to go on with, while it runs or where an error left one.
    pub token: Option<ResumeToken>,
    /// When it succeeded: the service's final body, or its final status
    /// report as JSON when the answer had no body of its own (Graph's
    /// `resourceId`, say).
    pub result: Option<String>,
}

impl Row {
    pub(crate) fn read(row: &AnyRow) -> Result<Row, FleetError> {
        let id: i64 = row.try_get("id")?;
        let state: String = row.try_get("state")?;
        let state = State::parse(&state).ok_or_else(|| FleetError::Corrupt {
            id,
            reason: format!("unknown state `{state}`"),
        })?;
        let token: Option<String> = row.try_get("token")?;
        let token = match token {
            Some(text) => Some(
                text.parse::<ResumeToken>()
                    .map_err(|e| FleetError::Corrupt {
                        id,
                        reason: format!("unreadable token: {e}"),
                    })?,
            ),
            None => None,
        };
        let next_due: i64 = row.try_get("next_due_ms")?;
        let polls: i64 = row.try_get("polls")?;
        Ok(Row {
            id,
            key: row.try_get("key")?,
            state,
            progress: row.try_get("progress")?,
            next_due: (state == State::Running).then(|| from_ms(next_due)),
            last_status: row.try_get("last_status")?,
            last_error: row.try_get("last_error")?,
            polls: u64::try_from(polls).unwrap_or(0),
            token,
            result: row.try_get("result")?,
        })
    }
}
