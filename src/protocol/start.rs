//! Reading the answer to the caller's initial request: which protocol, which
//! monitor, or a result right away.

use bytes::Bytes;
use http::{Method, StatusCode};
use url::Url;

use super::azure::{provisioning_status, resource_status};
use super::google::{looks_like_operation, read_operation};
use super::{
    Azure, AzureMode, FinalStateVia, Google, Graph, Interpretation, Protocol, ProtocolKind,
    ResultSource, claims_json, is_blank, url_header,
};
use crate::error::Error;
use crate::origin::redact;
use crate::status::{AsyncJobStatus, JobState};

/// What the start response says.
pub(crate) enum Started {
    /// Poll `monitor` with `protocol`; the start response may already carry a
    /// status.
    Poll {
        protocol: Box<dyn Protocol>,
        monitor: Url,
        status: Option<AsyncJobStatus>,
    },
    /// The operation is already over.
    Done {
        protocol: Box<dyn Protocol>,
        reading: Interpretation,
    },
}

/// How the caller asked for the protocol.
pub(crate) enum Choice {
    Kind(ProtocolKind),
    Custom(Box<dyn Protocol>),
}

/// A synchronous answer: the operation is complete and the body is its result.
fn completed(body: &Bytes, location: Option<Url>) -> Interpretation {
    let mut status = AsyncJobStatus::new(JobState::Completed);
    status.resource_id = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("id").and_then(|id| id.as_str()).map(str::to_owned));
    let mut reading = Interpretation::new(status);
    if !is_blank(body) {
        reading = reading.with_result(ResultSource::Body(body.clone()));
    }
    if let Some(location) = location {
        reading = reading.with_result_location(location);
    }
    reading
}

/// A status report in a start answer whose state is terminal: the job
/// ended before the caller could poll (the body's state wins over the
/// monitor headers).
fn terminal_report(body: &[u8]) -> Option<Interpretation> {
    AsyncJobStatus::from_json(body)
        .ok()
        .filter(|status| status.status.is_terminal())
        .map(Interpretation::new)
}

/// Reads a successful (`< 400`) start response.
pub(crate) fn detect(
    choice: Choice,
    final_state: Option<FinalStateVia>,
    method: &Method,
    url: &Url,
    response: &http::Response<Bytes>,
) -> Result<Started, Error> {
    let code = response.status();
    let headers = response.headers();
    let body = response.body();
    if !code.is_success() {
        return Err(Error::protocol(
            "the start request was not accepted (expected 2xx)",
            Some(code),
            Some(redact(url)),
            body,
        ));
    }
    let async_operation = url_header(headers, "azure-asyncoperation", url, code)?;
    let operation_location = url_header(headers, "operation-location", url, code)?;
    let location = url_header(headers, "location", url, code)?;
    let accepted = code == StatusCode::ACCEPTED;
    let azure = |mode, monitor: Url, status| -> Started {
        let via = final_state.unwrap_or_else(|| FinalStateVia::default_for(method));
        Started::Poll {
            protocol: Box::new(Azure::new(mode, via, url.clone(), location.clone())),
            monitor,
            status,
        }
    };
    let azure_body_polling = || -> Option<AsyncJobStatus> {
        let put_like = method == Method::PUT || method == Method::PATCH;
        if !put_like || !(code == StatusCode::OK || code == StatusCode::CREATED) {
            return None;
        }
        let has_state = serde_json::from_slice::<serde_json::Value>(body)
            .ok()?
            .pointer("/properties/provisioningState")
            .is_some();
        let status = provisioning_status(body).ok()?;
        (has_state && !status.status.is_terminal()).then_some(status)
    };
    let google = || -> Result<Started, Error> {
        let (reading, name) = read_operation(url, code, body)?;
        if reading.status.status.is_terminal() {
            return Ok(Started::Done {
                protocol: Box::new(Google),
                reading,
            });
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
        Ok(Started::Poll {
            protocol: Box::new(Google),
            monitor,
            status: Some(reading.status),
        })
    };
    let no_monitor = || {
        Error::protocol(
            "202 Accepted without a monitor URL (Location, Operation-Location or Azure-AsyncOperation)",
            Some(code),
            Some(redact(url)),
            body,
        )
    };

    match choice {
        Choice::Custom(protocol) => {
            let monitor = async_operation
                .clone()
                .or(operation_location.clone())
                .or(if accepted { location.clone() } else { None });
            Ok(match monitor {
                Some(monitor) => Started::Poll {
                    protocol,
                    monitor,
                    status: None,
                },
                None if accepted => return Err(no_monitor()),
                None => Started::Done {
                    protocol,
                    reading: completed(body, location),
                },
            })
        }
        Choice::Kind(ProtocolKind::Graph) => match (accepted, location) {
            (true, Some(monitor)) => Ok(match terminal_report(body) {
                Some(reading) => Started::Done {
                    protocol: Box::new(Graph),
                    reading,
                },
                None => Started::Poll {
                    protocol: Box::new(Graph),
                    monitor,
                    status: None,
                },
            }),
            (true, None) => Err(no_monitor()),
            (false, location) => Ok(Started::Done {
                protocol: Box::new(Graph),
                reading: completed(body, location),
            }),
        },
        Choice::Kind(ProtocolKind::Google) => google(),
        Choice::Kind(kind @ (ProtocolKind::Azure | ProtocolKind::Auto)) => {
            let put_like = method == Method::PUT || method == Method::PATCH;
            if (code == StatusCode::OK || code == StatusCode::CREATED) && !is_blank(body) {
                let has_monitor = async_operation.is_some()
                    || operation_location.is_some()
                    || (accepted && location.is_some());
                match resource_status(body) {
                    // A terminal provisioning state ends the operation: the
                    // monitor headers beside it are ignored (ARM).
                    Ok((status, true)) if status.status.is_terminal() => {
                        let mut reading = completed(body, location);
                        if !status.status.is_success() {
                            reading.result = ResultSource::None;
                        }
                        reading.status.status = status.status;
                        reading.status.error = status.error;
                        return Ok(Started::Done {
                            protocol: Box::new(Azure::new(
                                AzureMode::Body,
                                FinalStateVia::OriginalUri,
                                url.clone(),
                                None,
                            )),
                            reading,
                        });
                    }
                    // No monitor: the state is in the body, and a body that
                    // cannot be read is no proof of success.
                    Err(message)
                        if !has_monitor
                            && (claims_json(headers, body)
                                || (kind == ProtocolKind::Azure && put_like)) =>
                    {
                        return Err(Error::protocol(
                            format!("the start answer cannot be read: {message}"),
                            Some(code),
                            Some(redact(url)),
                            body,
                        ));
                    }
                    _ => {}
                }
            }
            if let Some(monitor) = async_operation.clone() {
                return Ok(azure(AzureMode::AsyncOperation, monitor, None));
            }
            if let Some(monitor) = operation_location.clone() {
                return Ok(azure(AzureMode::OperationLocation, monitor, None));
            }
            if kind == ProtocolKind::Auto && looks_like_operation(body) {
                return google();
            }
            if accepted {
                let Some(monitor) = location.clone() else {
                    return Err(no_monitor());
                };
                let arm = headers.contains_key("x-ms-request-id")
                    || headers.contains_key("x-ms-correlation-request-id");
                if kind == ProtocolKind::Azure || arm {
                    return Ok(azure(AzureMode::Location, monitor, None));
                }
                if let Some(reading) = terminal_report(body) {
                    return Ok(Started::Done {
                        protocol: Box::new(Graph),
                        reading,
                    });
                }
                return Ok(Started::Poll {
                    protocol: Box::new(Graph),
                    monitor,
                    status: None,
                });
            }
            if let Some(status) = azure_body_polling() {
                return Ok(azure(AzureMode::Body, url.clone(), Some(status)));
            }
            if kind == ProtocolKind::Azure && put_like && code == StatusCode::CREATED {
                // Created, with no provisioning state: still running; the
                // resource tells when it is done (and must then exist).
                return Ok(azure(AzureMode::Body, url.clone(), None));
            }
            let protocol: Box<dyn Protocol> = match kind {
                ProtocolKind::Azure => Box::new(Azure::new(
                    AzureMode::Body,
                    FinalStateVia::OriginalUri,
                    url.clone(),
                    None,
                )),
                _ => Box::new(Graph),
            };
            Ok(Started::Done {
                protocol,
                reading: completed(body, location),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::protocol::test_response as response;

    fn start(method: Method, response: http::Response<Bytes>) -> Result<Started, Error> {
        let url = Url::parse("https://api.example/v1/things/1?x=1").unwrap();
        detect(
            Choice::Kind(ProtocolKind::Auto),
            None,
            &method,
            &url,
            &response,
        )
    }

    fn poll(started: Result<Started, Error>) -> (&'static str, String) {
        match started {
            Ok(Started::Poll {
                protocol, monitor, ..
            }) => (protocol.name(), monitor.to_string()),
            Ok(Started::Done { .. }) => panic!("done"),
            Err(e) => panic!("{e}"),
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
        match start(
            Method::POST,
            response(200, &[], r#"{"id":"01NEW","name":"copy"}"#),
        ) {
            Ok(Started::Done { reading, .. }) => {
                assert_eq!(reading.status.status, JobState::Completed);
                assert_eq!(reading.status.resource_id.as_deref(), Some("01NEW"));
                assert!(matches!(reading.result, ResultSource::Body(_)));
            }
            _ => panic!("expected done"),
        }
        assert!(matches!(
            start(Method::DELETE, response(204, &[], "")),
            Ok(Started::Done { .. })
        ));
    }

    fn start_as(
        kind: ProtocolKind,
        method: Method,
        response: http::Response<Bytes>,
    ) -> Result<Started, Error> {
        let url = Url::parse("https://api.example/v1/things/1").unwrap();
        detect(Choice::Kind(kind), None, &method, &url, &response)
    }

    fn done_state(started: Result<Started, Error>) -> JobState {
        match started {
            Ok(Started::Done { reading, .. }) => reading.status.status,
            Ok(Started::Poll { monitor, .. }) => panic!("polls {monitor}"),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_terminal_state_in_the_body_wins_over_monitor_headers() {
        let headers = [("azure-asyncoperation", "http://localhost/never")];
        for kind in [ProtocolKind::Azure, ProtocolKind::Auto] {
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
            match start_as(kind, Method::PUT, response(201, &headers, failed)) {
                Ok(Started::Done { reading, .. }) => {
                    assert_eq!(reading.status.status, JobState::Failed);
                    assert_eq!(reading.status.error.unwrap().code.as_deref(), Some("500"));
                    assert_eq!(reading.result, ResultSource::None);
                }
                _ => panic!("expected done"),
            }
            // A running state keeps the monitor.
            let creating = r#"{"properties":{"provisioningState":"Creating"}}"#;
            assert!(matches!(
                start_as(kind, Method::PUT, response(201, &headers, creating)),
                Ok(Started::Poll { .. })
            ));
        }
        // Graph: a terminal status report on the 202 needs no poll.
        let graph = response(202, &[("location", "/m/1")], r#"{"status":"failed"}"#);
        assert_eq!(
            done_state(start_as(ProtocolKind::Graph, Method::POST, graph)),
            JobState::Failed
        );
        let auto = response(202, &[("location", "/m/1")], r#"{"status":"completed"}"#);
        assert_eq!(
            done_state(start_as(ProtocolKind::Auto, Method::POST, auto)),
            JobState::Completed
        );
    }

    #[test]
    fn an_unreadable_body_that_holds_the_state_is_an_error() {
        let truncated = r#"{ "properties": { "provisioningState": "Creating"}, "id": "100""#;
        for kind in [ProtocolKind::Azure, ProtocolKind::Auto] {
            for method in [Method::PUT, Method::PATCH, Method::POST] {
                let answer = response(200, &[("content-type", "application/json")], truncated);
                assert!(
                    matches!(
                        start_as(kind, method.clone(), answer),
                        Err(Error::Protocol(_))
                    ),
                    "{kind} {method}"
                );
            }
        }
        // Azure reads a PUT's state from any body.
        let html = response(200, &[], "<html>hi</html>");
        assert!(start_as(ProtocolKind::Azure, Method::PUT, html).is_err());
        // With a monitor, the body is not needed: the monitor is polled.
        let with_monitor = response(201, &[("azure-asyncoperation", "/ops/1")], truncated);
        assert!(matches!(
            start_as(ProtocolKind::Azure, Method::PUT, with_monitor),
            Ok(Started::Poll { .. })
        ));
        // A body that is not JSON and not needed is the result, kept raw.
        match start_as(
            ProtocolKind::Auto,
            Method::POST,
            response(200, &[], "plain text"),
        ) {
            Ok(Started::Done { reading, .. }) => {
                assert_eq!(
                    reading.result,
                    ResultSource::Body(Bytes::from("plain text"))
                );
            }
            _ => panic!("expected done"),
        }
        // Graph decides by the code: a garbled 200 is the result, kept raw.
        let graph = response(200, &[("content-type", "application/json")], truncated);
        assert_eq!(
            done_state(start_as(ProtocolKind::Graph, Method::POST, graph)),
            JobState::Completed
        );
    }

    #[derive(Debug)]
    struct Mine;

    impl Protocol for Mine {
        fn name(&self) -> &'static str {
            "mine"
        }
        fn interpret(
            &self,
            _url: &Url,
            _response: &http::Response<Bytes>,
        ) -> Result<super::super::Reading, Error> {
            Ok(super::super::Reading::ReadFailure)
        }
    }

    #[test]
    fn the_edges_of_start_detection() {
        let url = Url::parse("https://api.example/v1/things/1").unwrap();
        let custom = |response: http::Response<Bytes>| {
            detect(
                Choice::Custom(Box::new(Mine)),
                None,
                &Method::POST,
                &url,
                &response,
            )
        };
        assert!(custom(response(202, &[], "")).is_err());
        assert_eq!(
            done_state(custom(response(200, &[], "{}"))),
            JobState::Completed
        );
        assert!(matches!(
            custom(response(202, &[("operation-location", "/ol/1")], "")),
            Ok(Started::Poll { .. })
        ));
        // Only a PUT or PATCH is polled on its body; a POST's running state is
        // its result.
        let creating = r#"{"properties":{"provisioningState":"Creating"}}"#;
        assert_eq!(
            done_state(start_as(
                ProtocolKind::Auto,
                Method::POST,
                response(200, &[], creating)
            )),
            JobState::Completed
        );
        // A 202 is never terminal, whatever its body says.
        let succeeded = r#"{"properties":{"provisioningState":"Succeeded"}}"#;
        let accepted = response(202, &[("azure-asyncoperation", "/ops/1")], succeeded);
        assert!(matches!(
            start_as(ProtocolKind::Azure, Method::PUT, accepted),
            Ok(Started::Poll { .. })
        ));
        // A Location on a 200 is no monitor: the garbled body is an error.
        let truncated = response(200, &[("location", "/things/1")], r#"{"properties":{"#);
        assert!(start_as(ProtocolKind::Auto, Method::PUT, truncated).is_err());
        // Not JSON and not an Azure PUT: the result, kept raw.
        assert_eq!(
            done_state(start_as(
                ProtocolKind::Auto,
                Method::PUT,
                response(200, &[], "ok")
            )),
            JobState::Completed
        );
        // A synchronous answer keeps the family asked for.
        for (kind, name) in [
            (ProtocolKind::Azure, "azure"),
            (ProtocolKind::Auto, "graph"),
        ] {
            match start_as(kind, Method::POST, response(200, &[], "{}")) {
                Ok(Started::Done { protocol, .. }) => assert_eq!(protocol.name(), name),
                _ => panic!("expected done"),
            }
        }
    }

    #[test]
    fn an_azure_put_created_without_a_state_is_polled() {
        for body in ["", r#"{"id":"100"}"#] {
            match start_as(ProtocolKind::Azure, Method::PUT, response(201, &[], body)) {
                Ok(Started::Poll {
                    protocol,
                    monitor,
                    status,
                }) => {
                    assert_eq!(protocol.name(), "azure");
                    assert_eq!(monitor.as_str(), "https://api.example/v1/things/1");
                    assert!(status.is_none());
                }
                _ => panic!("expected a poll of the resource"),
            }
        }
        // Not for Auto: a 201 with no body is a plain created resource.
        assert_eq!(
            done_state(start_as(
                ProtocolKind::Auto,
                Method::PUT,
                response(201, &[], "")
            )),
            JobState::Completed
        );
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
    }
}
