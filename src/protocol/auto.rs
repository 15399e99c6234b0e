//! Detection: the default protocol, which tells the family from the start
//! answer (the way the Azure SDKs pick a polling strategy) and, for a
//! monitor URL of unknown family, from each answer.

use bytes::Bytes;
use http::{Method, StatusCode};
use url::Url;

use super::azure::provisioning_status;
use super::google::{looks_like_operation, read_operation};
use super::start::{completed, is_put_like, no_monitor, not_accepted};
use super::{Azure, AzureMode, FinalStateVia, Google, Graph, Protocol, Reading, Start, url_header};
use crate::error::Error;
use crate::origin::redact;
use crate::resume::SavedProtocol;
use crate::status::AsyncJobStatus;
use crate::transport::RequestKind;

/// The default protocol: detects the family.
///
/// **From a start answer** ([`Protocol::start`]): `Azure-AsyncOperation` or
/// `Operation-Location` → [`Azure`]; a body that is a Google `Operation` →
/// [`Google`]; `202` + `Location` → Azure's Location pattern when the answer
/// carries ARM's `x-ms-request-id` or `x-ms-correlation-request-id`, else
/// [`Graph`]; a `PUT`/`PATCH` answered `200`/`201` with a running
/// `properties.provisioningState` → Azure body polling; any other `2xx` → a
/// completed operation. The operation goes on with the detected protocol.
/// [`Auto::azure`] detects only among Azure's patterns.
///
/// **For a monitor URL** ([`Protocol::interpret`]): each answer that looks
/// like a Google `Operation` is read as one, every other answer as a
/// [`Graph`] status report (which also understands Azure's status monitors).
/// Polls carry no credentials, as for Graph.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct Auto {
    final_state: Option<FinalStateVia>,
    azure_only: bool,
}

impl Auto {
    /// Detection among every family.
    pub fn new() -> Self {
        Auto::default()
    }

    /// Detection among Azure's patterns only (a bare `202` + `Location` is
    /// ARM's Location pattern; a finished `PUT` reads its provisioning state).
    pub fn azure() -> Self {
        Auto {
            azure_only: true,
            ..Auto::default()
        }
    }

    /// Where a detected Azure operation's final result comes from (default:
    /// per the start request's method, [`FinalStateVia::default_for`]).
    pub fn with_final_state_via(mut self, via: FinalStateVia) -> Self {
        self.final_state = Some(via);
        self
    }
}

impl Protocol for Auto {
    fn name(&self) -> &'static str {
        "auto"
    }

    fn start(
        &self,
        request: &http::Request<Bytes>,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Start, Error> {
        detect(self, request.method(), url, response)
    }

    fn save(&self) -> Option<SavedProtocol> {
        Some(SavedProtocol::new(self.name()))
    }

    fn restore(&self, _saved: &SavedProtocol) -> Result<Box<dyn Protocol>, Error> {
        Ok(Box::new(Auto::new()))
    }

    fn wants_credentials(&self, kind: RequestKind) -> bool {
        Graph.wants_credentials(kind)
    }

    fn interpret(&self, url: &Url, response: &http::Response<Bytes>) -> Result<Reading, Error> {
        // A status report is the common case: read it as one, and look for a
        // Google `Operation` only in what is not.
        match Graph.interpret(url, response) {
            Err(_) if looks_like_operation(response.body()) => Google.interpret(url, response),
            reading => reading,
        }
    }
}

/// Google's start: a terminal `Operation` is done; a running one is polled
/// at its name.
pub(crate) fn google_start(url: &Url, response: &http::Response<Bytes>) -> Result<Start, Error> {
    let code = response.status();
    let body = response.body();
    let (reading, name) = read_operation(url, code, body)?;
    if reading.status.status.is_terminal() {
        return Ok(Start::done(reading).with_protocol(Google));
    }
    let name = name.ok_or_else(|| {
        Error::protocol(
            "the operation has no name",
            Some(code),
            Some(redact(url)),
            body,
        )
    })?;
    let monitor = Google::monitor_url(url, &name)
        .map_err(|m| Error::protocol(m, Some(code), Some(redact(url)), body))?;
    Ok(Start::poll(monitor)
        .with_reading(reading)
        .with_protocol(Google))
}

/// Graph's start: `202` + `Location` is polled; any other `2xx` is done.
pub(crate) fn graph_start(url: &Url, response: &http::Response<Bytes>) -> Result<Start, Error> {
    let code = response.status();
    if code.is_client_error() || code.is_server_error() {
        return Ok(Start::refused());
    }
    not_accepted(url, response)?;
    let location = url_header(response.headers(), "location", url, code)?;
    Ok(match (code == StatusCode::ACCEPTED, location) {
        (true, Some(monitor)) => Start::poll(monitor).with_protocol(Graph),
        (true, None) => return Err(no_monitor(url, response)),
        (false, location) => Start::done(completed(response.body(), location)).with_protocol(Graph),
    })
}

/// Reads a start answer for [`Auto`] (or [`Auto::azure`]).
fn detect(
    auto: &Auto,
    method: &Method,
    url: &Url,
    response: &http::Response<Bytes>,
) -> Result<Start, Error> {
    let code = response.status();
    if code.is_client_error() || code.is_server_error() {
        return Ok(Start::refused());
    }
    not_accepted(url, response)?;
    let headers = response.headers();
    let body = response.body();
    let async_operation = url_header(headers, "azure-asyncoperation", url, code)?;
    let operation_location = url_header(headers, "operation-location", url, code)?;
    let location = url_header(headers, "location", url, code)?;
    let accepted = code == StatusCode::ACCEPTED;
    let azure_only = auto.azure_only;
    let azure = |mode, monitor: Url| -> Start {
        let via = auto
            .final_state
            .unwrap_or_else(|| FinalStateVia::default_for(method));
        Start::poll(monitor).with_protocol(Azure::new(mode, via, url.clone(), location.clone()))
    };
    let azure_body_polling = || -> Option<AsyncJobStatus> {
        if !is_put_like(method) || !(code == StatusCode::OK || code == StatusCode::CREATED) {
            return None;
        }
        let has_state = serde_json::from_slice::<serde_json::Value>(body)
            .ok()?
            .pointer("/properties/provisioningState")
            .is_some();
        let status = provisioning_status(body).ok()?;
        (has_state && !status.status.is_terminal()).then_some(status)
    };
    let azure_body = || {
        Azure::new(
            AzureMode::Body,
            FinalStateVia::OriginalUri,
            url.clone(),
            None,
        )
    };

    if let Some(monitor) = async_operation {
        return Ok(azure(AzureMode::AsyncOperation, monitor));
    }
    if let Some(monitor) = operation_location {
        return Ok(azure(AzureMode::OperationLocation, monitor));
    }
    if !azure_only && looks_like_operation(body) {
        return google_start(url, response);
    }
    if accepted {
        let Some(monitor) = location.clone() else {
            return Err(no_monitor(url, response));
        };
        let arm = headers.contains_key("x-ms-request-id")
            || headers.contains_key("x-ms-correlation-request-id");
        if azure_only || arm {
            return Ok(azure(AzureMode::Location, monitor));
        }
        return Ok(Start::poll(monitor).with_protocol(Graph));
    }
    if let Some(status) = azure_body_polling() {
        return Ok(azure(AzureMode::Body, url.clone()).with_status(status));
    }
    if azure_only && is_put_like(method) {
        // A finished PUT: its provisioning state says how it ended.
        if let Ok(status) = provisioning_status(body) {
            let mut reading = completed(body, location);
            reading.status.status = status.status;
            reading.status.error = status.error;
            return Ok(Start::done(reading).with_protocol(azure_body()));
        }
    }
    let reading = completed(body, location);
    Ok(if azure_only {
        Start::done(reading).with_protocol(azure_body())
    } else {
        Start::done(reading).with_protocol(Graph)
    })
}

#[cfg(test)]
mod tests {
    use super::super::Next;
    use super::*;
    use crate::protocol::test_response as response;
    use crate::status::JobState;

    fn start(method: Method, response: http::Response<Bytes>) -> Result<Start, Error> {
        let url = Url::parse("https://api.example/v1/things/1?x=1").unwrap();
        let mut request = http::Request::new(Bytes::new());
        *request.method_mut() = method;
        Auto::new().start(&request, &url, &response)
    }

    fn poll(started: Result<Start, Error>) -> (&'static str, String) {
        let started = started.unwrap();
        let name = started.protocol().map_or("auto", |p| p.name());
        match started.next() {
            Next::Poll(monitor) => (name, monitor.to_string()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn auto_detection() {
        assert_eq!(
            poll(start(
                Method::POST,
                response(202, &[("location", "/monitor/1")], "")
            )),
            ("graph", "https://api.example/monitor/1".into())
        );
        assert_eq!(
            poll(start(
                Method::POST,
                response(202, &[("location", "/ops/1"), ("x-ms-request-id", "r")], "")
            ))
            .0,
            "azure"
        );
        assert_eq!(
            poll(start(
                Method::PUT,
                response(
                    201,
                    &[
                        ("azure-asyncoperation", "https://m.example/a/1"),
                        ("location", "/l/1")
                    ],
                    "{}"
                )
            )),
            ("azure", "https://m.example/a/1".into())
        );
        assert_eq!(
            poll(start(
                Method::POST,
                response(202, &[("operation-location", "/ol/1")], "")
            ))
            .1,
            "https://api.example/ol/1"
        );
        assert_eq!(
            poll(start(
                Method::POST,
                response(200, &[], r#"{"name":"operations/5","done":false}"#)
            )),
            ("google", "https://api.example/v1/operations/5".into())
        );
        assert_eq!(
            poll(start(
                Method::PUT,
                response(
                    201,
                    &[],
                    r#"{"properties":{"provisioningState":"Creating"}}"#
                )
            )),
            ("azure", "https://api.example/v1/things/1?x=1".into())
        );
    }

    #[test]
    fn synchronous_answers_are_completed() {
        let started = start(
            Method::POST,
            response(200, &[], r#"{"id":"01NEW","name":"copy"}"#),
        )
        .unwrap();
        match started.next() {
            Next::Done(reading) => {
                assert_eq!(reading.status.status, JobState::Completed);
                assert_eq!(reading.status.resource_id.as_deref(), Some("01NEW"));
                assert!(matches!(
                    reading.result,
                    super::super::ResultSource::Body(_)
                ));
            }
            other => panic!("expected done, got {other:?}"),
        }
        assert!(matches!(
            start(Method::DELETE, response(204, &[], ""))
                .unwrap()
                .next(),
            Next::Done(_)
        ));
    }

    #[test]
    fn bad_start_answers_are_errors() {
        assert!(start(Method::POST, response(202, &[], "")).is_err());
        assert!(
            start(
                Method::POST,
                response(202, &[("location", "gopher://x/1")], "")
            )
            .is_err()
        );
        assert!(start(Method::POST, response(302, &[("location", "/x")], "")).is_err());
        assert!(matches!(
            start(Method::POST, response(409, &[], "{}"))
                .unwrap()
                .next(),
            Next::Refused
        ));
    }
}
