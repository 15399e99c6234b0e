//! Reading the answer to the caller's initial request: which protocol, which
//! monitor, or a result right away.

use bytes::Bytes;
use http::{Method, StatusCode};
use url::Url;

use super::azure::provisioning_status;
use super::google::{looks_like_operation, read_operation};
use super::{
    Azure, AzureMode, FinalStateVia, Google, Graph, Interpretation, Protocol, ProtocolKind,
    ResultSource, is_blank, url_header,
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
            (true, Some(monitor)) => Ok(Started::Poll {
                protocol: Box::new(Graph),
                monitor,
                status: None,
            }),
            (true, None) => Err(no_monitor()),
            (false, location) => Ok(Started::Done {
                protocol: Box::new(Graph),
                reading: completed(body, location),
            }),
        },
        Choice::Kind(ProtocolKind::Google) => google(),
        Choice::Kind(kind @ (ProtocolKind::Azure | ProtocolKind::Auto)) => {
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
                return Ok(Started::Poll {
                    protocol: Box::new(Graph),
                    monitor,
                    status: None,
                });
            }
            if let Some(status) = azure_body_polling() {
                return Ok(azure(AzureMode::Body, url.clone(), Some(status)));
            }
            if kind == ProtocolKind::Azure && (method == Method::PUT || method == Method::PATCH) {
                // A finished PUT: its provisioning state says how it ended.
                if let Ok(status) = provisioning_status(body) {
                    let mut reading = completed(body, location);
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
