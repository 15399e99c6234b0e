//! Detection: the default protocol, which tells the family from the start
//! answer (the way the Azure SDKs pick a polling strategy) and, for a
//! monitor URL of unknown family, from each answer.

use bytes::Bytes;
use http::{Method, StatusCode};
use url::Url;

use super::azure::Azure;
use super::azure_modes::{AzureMode, FinalStateVia};
use super::google::{Google, google_start, looks_like_operation};
use super::graph::{Graph, terminal_report};
use super::provisioning::{provisioning_status, resource_status};
use super::read::{claims_json, is_blank, url_header};
use super::reading::{Polled, ResultSource};
use super::seam::Next;
use super::seam::{Protocol, completed, is_put_like, no_monitor, not_accepted};
use crate::origin::redact;
use crate::protocol_error::ProtocolError;
use crate::resume::SavedProtocol;
use crate::resume::TokenError;
use crate::status::AsyncJobStatus;
use crate::transport::RequestKind;

/// The default protocol: detects the family.
///
/// **From a start answer** ([`Protocol::read_start`]): `Azure-AsyncOperation` or
/// `Operation-Location` → [`Azure`]; a body that is a Google `Operation` →
/// [`Google`]; `202` + `Location` → Azure's Location pattern when the answer
/// carries ARM's `x-ms-request-id` or `x-ms-correlation-request-id`, else
/// [`Graph`]; a `PUT`/`PATCH` answered `200`/`201` with a running
/// `properties.provisioningState` → Azure body polling; any other `2xx` → a
/// completed operation. The operation goes on with the detected protocol
/// (the one case where a start answer switches protocols).
///
/// Its settings are its own builder methods: [`azure_only`](Self::azure_only)
/// detects among Azure's patterns only (a bare `202` + `Location` is ARM's
/// Location pattern; a finished `PUT` reads its provisioning state), and
/// [`with_final_state_via`](Self::with_final_state_via) says where a detected
/// Azure operation's final result comes from.
///
/// ```
/// use lro_poller::protocol::{Auto, FinalStateVia};
///
/// let azure = Auto::new()
///     .azure_only()
///     .with_final_state_via(FinalStateVia::OperationLocation);
/// # let _ = azure;
/// ```
///
/// **For a monitor URL** ([`Protocol::read_poll`]): each answer that looks
/// like a Google `Operation` is read as one, every other answer as a
/// [`Graph`] status report (which also understands Azure's status monitors).
/// Polls carry no credentials, as for Graph.
#[derive(Debug, Clone, Copy, Default)]
pub struct Auto {
    final_state: Option<FinalStateVia>,
    azure_only: bool,
}

impl Auto {
    /// Detection among every family.
    pub fn new() -> Self {
        Auto::default()
    }

    /// Detects among Azure's patterns only.
    pub fn azure_only(mut self) -> Self {
        self.azure_only = true;
        self
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

    fn prefers_respond_async(&self) -> bool {
        true
    }

    fn read_start(
        &self,
        request: &http::Request<Bytes>,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Next, ProtocolError> {
        detect(self, request.method(), url, response)
    }

    fn save(&self) -> Option<SavedProtocol> {
        Some(SavedProtocol::new(self.name()))
    }

    fn restore(&self, _saved: &SavedProtocol) -> Result<Box<dyn Protocol>, TokenError> {
        Ok(Box::new(Auto::new()))
    }

    fn wants_credentials(&self, kind: RequestKind) -> bool {
        Graph::new().wants_credentials(kind)
    }

    fn read_poll(
        &self,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Polled, ProtocolError> {
        // A status report is the common case: read it as one, and look for a
        // Google `Operation` only in what is not.
        match Graph::new().read_poll(url, response) {
            Err(_) if looks_like_operation(response.body()) => Google.read_poll(url, response),
            reading => reading,
        }
    }
}

/// Reads a start answer for [`Auto`].
fn detect(
    auto: &Auto,
    method: &Method,
    url: &Url,
    response: &http::Response<Bytes>,
) -> Result<Next, ProtocolError> {
    let code = response.status();
    if code.is_client_error() || code.is_server_error() {
        return Ok(Next::refused());
    }
    not_accepted(url, response)?;
    let headers = response.headers();
    let body = response.body();
    let async_operation = url_header(headers, "azure-asyncoperation", url, code)?;
    let operation_location = url_header(headers, "operation-location", url, code)?;
    let location = url_header(headers, "location", url, code)?;
    let accepted = code == StatusCode::ACCEPTED;
    let put_like = is_put_like(method);
    let azure_only = auto.azure_only;
    let azure = |mode, monitor: Url| -> Next {
        let via = auto
            .final_state
            .unwrap_or_else(|| FinalStateVia::default_for(method));
        Next::poll(monitor).with_protocol(Azure::new(mode, via, url.clone(), location.clone()))
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

    if (code == StatusCode::OK || code == StatusCode::CREATED) && !is_blank(body) {
        let has_monitor = async_operation.is_some()
            || operation_location.is_some()
            || (accepted && location.is_some());
        match resource_status(body) {
            // A terminal provisioning state ends the operation: the monitor
            // headers beside it are ignored (ARM).
            Ok((status, true)) if status.status.is_terminal() => {
                let mut reading = completed(body, location);
                if !status.status.is_success() {
                    reading.result = ResultSource::None;
                }
                reading.status.status = status.status;
                reading.status.error = status.error;
                return Ok(Next::done(reading).with_protocol(azure_body()));
            }
            // No monitor: the state is in the body, and a body that cannot
            // be read is no proof of success.
            Err(message)
                if !has_monitor && (claims_json(headers, body) || (azure_only && put_like)) =>
            {
                return Err(ProtocolError::with_parts(
                    format!("the start answer cannot be read: {message}"),
                    Some(code),
                    Some(redact(url)),
                    body,
                ));
            }
            _ => {}
        }
    }
    if let Some(monitor) = async_operation {
        return Ok(azure(AzureMode::AsyncOperation, monitor));
    }
    if let Some(monitor) = operation_location {
        return Ok(azure(AzureMode::OperationLocation, monitor));
    }
    if !azure_only && looks_like_operation(body) {
        return Ok(google_start(url, response)?.with_protocol(Google));
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
        if let Some(reading) = terminal_report(body) {
            return Ok(Next::done(reading).with_protocol(Graph::new()));
        }
        return Ok(Next::poll(monitor).with_protocol(Graph::new()));
    }
    if let Some(status) = azure_body_polling() {
        return Ok(azure(AzureMode::Body, url.clone()).with_status(status));
    }
    if azure_only && put_like && code == StatusCode::CREATED {
        // Created, with no provisioning state: still running; the resource
        // tells when it is done (and must then exist).
        return Ok(azure(AzureMode::Body, url.clone()));
    }
    let reading = completed(body, location);
    Ok(if azure_only {
        Next::done(reading).with_protocol(azure_body())
    } else {
        Next::done(reading).with_protocol(Graph::new())
    })
}

#[cfg(test)]
mod tests {
    use super::super::read::test_response as response;
    use super::super::reading::ResultSource;
    use super::super::seam::Route;
    use super::*;
    use crate::status::JobState;

    fn start(method: Method, response: http::Response<Bytes>) -> Result<Next, ProtocolError> {
        let url = Url::parse("https://api.example/v1/things/1?x=1").unwrap();
        let mut request = http::Request::new(Bytes::new());
        *request.method_mut() = method;
        Auto::new().read_start(&request, &url, &response)
    }

    fn poll(started: Result<Next, ProtocolError>) -> (&'static str, String) {
        let started = started.unwrap();
        let name = started.protocol().map_or("auto", |p| p.name());
        match started.route() {
            Route::Poll(monitor) => (name, monitor.to_string()),
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
        match started.route() {
            Route::Done(reading) => {
                assert_eq!(reading.status.status, JobState::Completed);
                assert_eq!(reading.status.resource_id.as_deref(), Some("01NEW"));
                assert!(matches!(reading.result, ResultSource::Body(_)));
            }
            other => panic!("expected done, got {other:?}"),
        }
        assert!(matches!(
            start(Method::DELETE, response(204, &[], ""))
                .unwrap()
                .route(),
            Route::Done(_)
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
                .route(),
            Route::Refused
        ));
    }

    fn start_as(
        kind: &str,
        method: Method,
        response: http::Response<Bytes>,
    ) -> Result<Next, ProtocolError> {
        let url = Url::parse("https://api.example/v1/things/1").unwrap();
        let mut request = http::Request::new(Bytes::new());
        *request.method_mut() = method;
        let protocol: Box<dyn Protocol> = match kind {
            "azure" => Box::new(Auto::new().azure_only()),
            "graph" => Box::new(Graph::new()),
            _ => Box::new(Auto::new()),
        };
        protocol.read_start(&request, &url, &response)
    }

    fn done_state(started: Result<Next, ProtocolError>) -> JobState {
        match started.unwrap().route() {
            Route::Done(reading) => reading.status.status.clone(),
            other => panic!("expected done, got {other:?}"),
        }
    }

    #[test]
    fn a_terminal_state_in_the_body_wins_over_monitor_headers() {
        let headers = [("azure-asyncoperation", "http://localhost/never")];
        for kind in ["azure", "auto"] {
            let succeeded = r#"{"properties":{"provisioningState":"Succeeded"},"id":"100"}"#;
            assert_eq!(
                done_state(start_as(
                    kind,
                    Method::PATCH,
                    response(200, &headers, succeeded)
                )),
                JobState::Completed
            );
            let failed = r#"{"properties":{"provisioningState":"Failed"},"error":{"code":500}}"#;
            match start_as(kind, Method::PUT, response(201, &headers, failed))
                .unwrap()
                .route()
            {
                Route::Done(reading) => {
                    assert_eq!(reading.status.status, JobState::Failed);
                    assert_eq!(
                        reading.status.error.as_ref().unwrap().code.as_deref(),
                        Some("500")
                    );
                    assert_eq!(reading.result, ResultSource::None);
                }
                other => panic!("expected done, got {other:?}"),
            }
            // A running state keeps the monitor.
            let creating = r#"{"properties":{"provisioningState":"Creating"}}"#;
            assert!(matches!(
                start_as(kind, Method::PUT, response(201, &headers, creating))
                    .unwrap()
                    .route(),
                Route::Poll(_)
            ));
        }
        // Graph: a terminal status report on the 202 needs no poll.
        let graph = response(202, &[("location", "/m/1")], r#"{"status":"failed"}"#);
        assert_eq!(
            done_state(start_as("graph", Method::POST, graph)),
            JobState::Failed
        );
        let auto = response(202, &[("location", "/m/1")], r#"{"status":"completed"}"#);
        assert_eq!(
            done_state(start_as("auto", Method::POST, auto)),
            JobState::Completed
        );
    }

    #[test]
    fn an_unreadable_body_that_holds_the_state_is_an_error() {
        let truncated = r#"{ "properties": { "provisioningState": "Creating"}, "id": "100""#;
        for kind in ["azure", "auto"] {
            for method in [Method::PUT, Method::PATCH, Method::POST] {
                let answer = response(200, &[("content-type", "application/json")], truncated);
                assert!(
                    start_as(kind, method.clone(), answer).is_err(),
                    "{kind} {method}"
                );
            }
        }
        // Azure reads a PUT's state from any body.
        let html = response(200, &[], "<html>hi</html>");
        assert!(start_as("azure", Method::PUT, html).is_err());
        // With a monitor, the body is not needed: the monitor is polled.
        let with_monitor = response(201, &[("azure-asyncoperation", "/ops/1")], truncated);
        assert!(matches!(
            start_as("azure", Method::PUT, with_monitor)
                .unwrap()
                .route(),
            Route::Poll(_)
        ));
        // A body that is not JSON and not needed is the result, kept raw.
        match start_as("auto", Method::POST, response(200, &[], "plain text"))
            .unwrap()
            .route()
        {
            Route::Done(reading) => {
                assert_eq!(
                    reading.result,
                    ResultSource::Body(Bytes::from("plain text"))
                );
            }
            other => panic!("expected done, got {other:?}"),
        }
        // Graph decides the same way: a garbled JSON 200 is an error, never
        // a completion.
        let graph = response(200, &[("content-type", "application/json")], truncated);
        assert!(start_as("graph", Method::POST, graph).is_err());
    }

    #[test]
    fn the_edges_of_start_detection() {
        // Only a PUT or PATCH is polled on its body; a POST's running state is
        // its result.
        let creating = r#"{"properties":{"provisioningState":"Creating"}}"#;
        assert_eq!(
            done_state(start_as("auto", Method::POST, response(200, &[], creating))),
            JobState::Completed
        );
        // A 202 is never terminal, whatever its body says.
        let succeeded = r#"{"properties":{"provisioningState":"Succeeded"}}"#;
        let accepted = response(202, &[("azure-asyncoperation", "/ops/1")], succeeded);
        assert!(matches!(
            start_as("azure", Method::PUT, accepted).unwrap().route(),
            Route::Poll(_)
        ));
        // A Location on a 200 is no monitor: the garbled body is an error.
        let truncated = response(200, &[("location", "/things/1")], r#"{"properties":{"#);
        assert!(start_as("auto", Method::PUT, truncated).is_err());
        // Not JSON and not an Azure PUT: the result, kept raw.
        assert_eq!(
            done_state(start_as("auto", Method::PUT, response(200, &[], "ok"))),
            JobState::Completed
        );
        assert!(start_as("azure", Method::PUT, response(200, &[], "ok")).is_err());
        // A synchronous answer keeps the family asked for.
        for (kind, name) in [("azure", "azure"), ("auto", "graph")] {
            let started = start_as(kind, Method::POST, response(200, &[], "{}")).unwrap();
            assert_eq!(started.protocol().map(|p| p.name()), Some(name), "{kind}");
        }
    }

    #[test]
    fn an_azure_put_created_without_a_state_is_polled() {
        for body in ["", r#"{"id":"100"}"#] {
            let started = start_as("azure", Method::PUT, response(201, &[], body)).unwrap();
            assert_eq!(started.protocol().map(|p| p.name()), Some("azure"));
            assert!(started.first_status().is_none());
            match started.route() {
                Route::Poll(monitor) => {
                    assert_eq!(monitor.as_str(), "https://api.example/v1/things/1")
                }
                other => panic!("expected a poll of the resource, got {other:?}"),
            }
        }
        // Not for Auto: a 201 with no body is a plain created resource.
        assert_eq!(
            done_state(start_as("auto", Method::PUT, response(201, &[], ""))),
            JobState::Completed
        );
    }
}
