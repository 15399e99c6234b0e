//! The OneDrive / Microsoft Graph monitor (`asyncJobStatus`).

use bytes::Bytes;
use http::StatusCode;
use url::Url;

use super::read::{read_status, url_header};
use super::reading::{Polled, Reading};
use super::seam::Next;
use super::seam::{Protocol, completed_answer, no_monitor, not_accepted};
use crate::protocol_error::ProtocolError;
use crate::resume::SavedProtocol;
use crate::resume::TokenError;
use crate::status::{AsyncJobStatus, JobState};
use crate::transport::RequestKind;

/// The OneDrive / Microsoft Graph protocol: the monitor answers an
/// `asyncJobStatus`, and **the body's `status` decides** whether the job ended,
/// never the HTTP code (business drives answer `200` on every poll, and a
/// failure can come as `200` + `"status":"failed"`).
///
/// - `202` with an empty body: still running (`inProgress`).
/// - `303 See Other` with an empty body: completed; the `Location` is the
///   produced resource.
/// - A `Location` on a non-terminal answer replaces the monitor URL; on a
///   terminal one it is the produced resource.
/// - `4xx`/`5xx`: a failure to read the status (`404`: the monitor expired).
/// - Monitor polls carry no credentials: the monitor needs none, and it is
///   often on another host.
/// - With [`with_item_fetch`](Self::with_item_fetch), the item at the final
///   `Location` is fetched (with credentials) once the job completed: it is
///   the outcome's [`body`](crate::Outcome::body).
#[derive(Debug, Clone, Copy, Default)]
pub struct Graph {
    fetch_item: bool,
}

impl Graph {
    /// The Graph protocol.
    pub fn new() -> Self {
        Graph::default()
    }

    /// Fetches the item the job made — a `GET` of the final `Location`, with
    /// the caller's credentials when it is on the start request's origin —
    /// once the job completed, within the deadline: the outcome's
    /// [`body`](crate::Outcome::body) is the new item (read it with
    /// [`Outcome::json`](crate::Outcome::json)).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use lro_poller::Operation;
    /// use lro_poller::protocol::Graph;
    /// use lro_poller::testing::{ScriptedTransport, VirtualTimer};
    ///
    /// let transport = ScriptedTransport::new();
    /// transport.push_response(303, &[("location", "https://api.example/items/01NEW")], "");
    /// transport.push_response(200, &[], r#"{"id":"01NEW","name":"copy.txt"}"#);
    /// let copy = Operation::monitor(transport.clone(), "https://api.example/monitor/1")
    ///     .with_protocol(Graph::new().with_item_fetch())
    ///     .with_timer(VirtualTimer::new())
    ///     .build()
    ///     .unwrap();
    /// let outcome = futures::executor::block_on(copy.outcome()).unwrap();
    /// let item: serde_json::Value = outcome.json().unwrap();
    /// assert_eq!(item["name"], "copy.txt");
    /// assert_eq!(transport.requests()[1].uri, "https://api.example/items/01NEW");
    /// # }
    /// ```
    pub fn with_item_fetch(mut self) -> Self {
        self.fetch_item = true;
        self
    }
}

/// Graph's start: `202` + `Location` is polled; any other `2xx` is done.
fn graph_start(url: &Url, response: &http::Response<Bytes>) -> Result<Next, ProtocolError> {
    let code = response.status();
    if code.is_client_error() || code.is_server_error() {
        return Ok(Next::refused());
    }
    not_accepted(url, response)?;
    let location = url_header(response.headers(), "location", url, code)?;
    Ok(match (code == StatusCode::ACCEPTED, location) {
        (true, Some(monitor)) => match terminal_report(response.body()) {
            Some(reading) => Next::done(reading),
            None => Next::poll(monitor),
        },
        (true, None) => return Err(no_monitor(url, response)),
        (false, location) => Next::done(completed_answer(url, response, location)?),
    })
}

/// A status report in a start answer whose state is terminal: the job ended
/// before the caller could poll (the body's state wins over the monitor
/// headers).
pub(super) fn terminal_report(body: &[u8]) -> Option<Reading> {
    AsyncJobStatus::from_json(body)
        .ok()
        .filter(|status| status.status.is_terminal())
        .map(Reading::new)
}

impl Protocol for Graph {
    fn name(&self) -> &'static str {
        "graph"
    }

    fn prefers_respond_async(&self) -> bool {
        true
    }

    fn wants_credentials(&self, kind: RequestKind) -> bool {
        !matches!(kind, RequestKind::Poll)
    }

    /// `202` + `Location`: poll it; another `2xx`: done, the body is the
    /// result; `4xx`/`5xx`: refused.
    fn read_start(
        &self,
        _request: &http::Request<Bytes>,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Next, ProtocolError> {
        graph_start(url, response)
    }

    fn save(&self) -> Option<SavedProtocol> {
        let saved = SavedProtocol::new(self.name());
        Some(match self.fetch_item {
            true => saved.with("fetchItem", true),
            false => saved,
        })
    }

    fn restore(&self, saved: &SavedProtocol) -> Result<Box<dyn Protocol>, TokenError> {
        let fetch_item = saved.state().get("fetchItem") == Some(&serde_json::Value::Bool(true));
        Ok(Box::new(Graph { fetch_item }))
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
        let location = url_header(response.headers(), "location", url, code)?;
        let has_location = location.is_some();
        let status = read_status(url, response, "a status report", |code| match code {
            StatusCode::SEE_OTHER if has_location => Some(AsyncJobStatus::new(JobState::Completed)),
            StatusCode::ACCEPTED => Some(AsyncJobStatus::new(JobState::InProgress)),
            _ => None,
        })?;
        let mut reading = Reading::new(status);
        if let Some(location) = location {
            if reading.status.status.is_terminal() {
                if self.fetch_item && reading.status.status.is_success() {
                    reading = reading.with_result_at(location.clone());
                }
                reading = reading.with_result_location(location);
            } else if &location != url {
                reading = reading.with_next_monitor(location);
            }
        }
        Ok(Polled::Status(reading))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_item_fetch_is_kept_in_the_token() {
        let fetching = Graph::new().with_item_fetch();
        let saved = fetching.save().unwrap();
        let restored = Graph::new().restore(&saved).unwrap();
        assert_eq!(restored.save(), Some(saved));
        assert_eq!(Graph::new().save().unwrap().state().len(), 0);
    }

    fn answer(code: u16, headers: &[(&str, &str)], body: &str) -> Result<Polled, ProtocolError> {
        let response = super::super::read::test_response(code, headers, body);
        let url = Url::parse("https://api.example/monitor/1?tempauth=secret").unwrap();
        Graph::new().read_poll(&url, &response)
    }

    fn status(reading: Result<Polled, ProtocolError>) -> Reading {
        match reading {
            Ok(Polled::Status(i)) => i,
            other => panic!("expected a status, got {other:?}"),
        }
    }

    #[test]
    fn completion_comes_from_the_body_not_the_code() {
        let failed = status(answer(200, &[], r#"{"status":"failed","errorCode":"x"}"#));
        assert_eq!(failed.status.status, JobState::Failed);
        let running = status(answer(
            200,
            &[],
            r#"{"status":"inProgress","percentageComplete":5}"#,
        ));
        assert_eq!(running.status.status, JobState::InProgress);
        let odd = status(answer(303, &[], r#"{"status":"Waiting"}"#));
        assert_eq!(odd.status.status, JobState::Waiting);
    }

    #[test]
    fn see_other_without_body_is_completed_with_the_resource_location() {
        let done = status(answer(303, &[("location", "/drive/items/01ABC")], ""));
        assert_eq!(done.status.status, JobState::Completed);
        assert_eq!(
            done.result_location.unwrap().as_str(),
            "https://api.example/drive/items/01ABC"
        );
        assert!(answer(303, &[], "").is_err());
    }

    #[test]
    fn empty_accepted_is_in_progress_and_location_moves_the_monitor() {
        let running = status(answer(
            202,
            &[("location", "https://other.example/m/2")],
            " ",
        ));
        assert_eq!(running.status.status, JobState::InProgress);
        assert_eq!(
            running.next_monitor.unwrap().as_str(),
            "https://other.example/m/2"
        );
        assert!(running.result_location.is_none());
    }

    #[test]
    fn a_synchronous_answer_whose_json_cannot_be_read_is_no_completion() {
        let url = Url::parse("https://graph.example/items/1/copy").unwrap();
        let answer = |headers: &[(&str, &str)], body: &'static str| {
            let mut builder = http::Response::builder().status(200);
            for (name, value) in headers {
                builder = builder.header(*name, *value);
            }
            graph_start(
                &url,
                &builder.body(Bytes::from_static(body.as_bytes())).unwrap(),
            )
        };
        assert!(answer(&[], r#"{"id":"01NEW","na"#).is_err());
        assert!(answer(&[("content-type", "application/json")], "<html>").is_err());
        assert!(answer(&[], r#"{"id":"01NEW"}"#).is_ok());
        assert!(answer(&[("content-type", "text/plain")], "done").is_ok());
        assert!(answer(&[], "").is_ok());
    }

    #[test]
    fn errors_are_read_failures_and_garbage_is_a_protocol_error() {
        assert!(matches!(answer(503, &[], "busy"), Ok(Polled::ReadFailure)));
        assert!(matches!(answer(404, &[], ""), Ok(Polled::ReadFailure)));
        let garbage = answer(200, &[], "<html>502 Bad Gateway</html>").unwrap_err();
        let text = garbage.to_string();
        assert!(
            text.contains("<html>") && !text.contains("secret"),
            "{text}"
        );
        assert!(answer(200, &[], "").is_err());
        assert!(answer(200, &[], r#"{"status":"#).is_err());
        assert!(
            answer(
                202,
                &[("location", "ftp://x/y")],
                r#"{"status":"inProgress"}"#
            )
            .is_err()
        );
    }

    #[test]
    fn polls_carry_no_credentials() {
        assert!(!Graph::new().wants_credentials(RequestKind::Poll));
        assert!(Graph::new().wants_credentials(RequestKind::Start));
    }
}
