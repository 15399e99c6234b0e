//! Azure's long-running operation patterns (REST API guidelines and ARM).

use bytes::Bytes;
use http::{Method, StatusCode};
use url::Url;

use super::azure_modes::{AzureMode, FinalStateVia};
use super::provisioning::{provisioning_status, resource_status};
use super::read::{claims_json, header_url, is_blank, post_cancel, read_status, url_header};
use super::reading::{Polled, Reading, ResultSource};
use super::seam::Protocol;
use crate::origin::redact;
use crate::protocol_error::ProtocolError;
use crate::resume::SavedProtocol;
use crate::resume::TokenError;
use crate::status::{AsyncJobStatus, JobState};

/// How a resume token records an [`Azure`] protocol (the `lro1` form).
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedAzure {
    mode: AzureMode,
    final_state_via: FinalStateVia,
    original_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start_location: Option<String>,
}

/// The Azure protocol, in one of its [`AzureMode`]s.
///
/// Status monitors answer `{"status", "percentComplete", "error", …}` with
/// `NotStarted | Running | Succeeded | Failed | Canceled` (case-insensitive;
/// anything else is kept and not terminal). A `4xx`/`5xx` on a monitor is a
/// failure to *read* the status, not a failed operation. When the job
/// succeeds, the final result is found per [`FinalStateVia`].
#[derive(Debug, Clone)]
pub struct Azure {
    mode: AzureMode,
    final_state: FinalStateVia,
    original_uri: Url,
    start_location: Option<Url>,
}

impl Azure {
    /// An Azure operation followed in `mode`, started by a request to
    /// `original_uri`, whose start response had `start_location` as its
    /// `Location` header.
    pub fn new(
        mode: AzureMode,
        final_state: FinalStateVia,
        original_uri: Url,
        start_location: Option<Url>,
    ) -> Self {
        Azure {
            mode,
            final_state,
            original_uri,
            start_location,
        }
    }

    /// The mode.
    pub fn mode(&self) -> AzureMode {
        self.mode
    }

    /// Where the final result comes from.
    pub fn final_state_via(&self) -> FinalStateVia {
        self.final_state
    }

    /// The URL of the start request.
    pub fn original_uri(&self) -> &Url {
        &self.original_uri
    }

    /// The `Location` of the start response, if any.
    pub fn start_location(&self) -> Option<&Url> {
        self.start_location.as_ref()
    }

    fn monitor_header(&self) -> Option<&'static str> {
        match self.mode {
            AzureMode::AsyncOperation => Some("azure-asyncoperation"),
            AzureMode::OperationLocation => Some("operation-location"),
            AzureMode::Location => Some("location"),
            AzureMode::Body => None,
        }
    }

    fn status_monitor(
        &self,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Polled, ProtocolError> {
        let code = response.status();
        let body = response.body();
        let status = read_status(url, response, "an Azure operation status", |code| {
            (code == StatusCode::ACCEPTED).then(|| AsyncJobStatus::new(JobState::InProgress))
        })?;
        let mut reading = Reading::new(status);
        if reading.status.status.is_success() {
            let resource = reading
                .status
                .resource_location
                .as_deref()
                .map(|location| header_url(url, location, code))
                .transpose()?;
            let result = match self.final_state {
                FinalStateVia::Location => match &self.start_location {
                    Some(location) => ResultSource::Fetch(location.clone()),
                    None => ResultSource::None,
                },
                FinalStateVia::OriginalUri => ResultSource::Fetch(self.original_uri.clone()),
                FinalStateVia::AzureAsyncOperation => ResultSource::Body(body.clone()),
                FinalStateVia::OperationLocation => match &resource {
                    Some(location) => ResultSource::Fetch(location.clone()),
                    None => ResultSource::Body(result_field(body).unwrap_or_else(|| body.clone())),
                },
            };
            if let ResultSource::Fetch(location) = &result {
                reading = reading.with_result_location(location.clone());
            } else if let Some(location) = resource {
                reading = reading.with_result_location(location);
            }
            reading = reading.with_result(result);
        }
        Ok(Polled::Status(reading))
    }

    fn location(
        &self,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Polled, ProtocolError> {
        let code = response.status();
        if code == StatusCode::ACCEPTED {
            return Ok(Polled::Status(Reading::new(AsyncJobStatus::new(
                JobState::InProgress,
            ))));
        }
        if !code.is_success() {
            return Err(ProtocolError::with_parts(
                "unexpected status from an Azure Location monitor",
                Some(code),
                Some(redact(url)),
                response.body(),
            ));
        }
        let body = response.body();
        if is_blank(body) {
            return Ok(Polled::Status(
                Reading::new(AsyncJobStatus::new(JobState::Completed))
                    .with_result_location(url.clone()),
            ));
        }
        // The final answer is the resource; a provisioning state in it (ARM
        // DELETE, say) is the operation's state. A JSON body that cannot be
        // read could hide a `Failed`: it is an error, never a success.
        let mut status = AsyncJobStatus::new(JobState::Completed);
        if claims_json(response.headers(), body) {
            let (read, _) = resource_status(body).map_err(|message| {
                ProtocolError::with_parts(message, Some(code), Some(redact(url)), body)
            })?;
            status = read;
        }
        let mut reading = Reading::new(status);
        if reading.status.status.is_success() {
            reading = reading
                .with_result_location(url.clone())
                .with_result(ResultSource::Body(body.clone()));
        }
        Ok(Polled::Status(reading))
    }

    fn body(&self, url: &Url, response: &http::Response<Bytes>) -> Result<Polled, ProtocolError> {
        let code = response.status();
        if is_blank(response.body()) {
            return match code {
                StatusCode::ACCEPTED => Ok(Polled::Status(Reading::new(AsyncJobStatus::new(
                    JobState::InProgress,
                )))),
                StatusCode::NO_CONTENT => Ok(Polled::Status(Reading::new(AsyncJobStatus::new(
                    JobState::Completed,
                )))),
                // No state and no resource: nothing says the job succeeded,
                // and there is nothing to return.
                _ => Err(ProtocolError::with_parts(
                    "the resource answered with no body: no provisioning state and no resource to return",
                    Some(code),
                    Some(redact(url)),
                    b"",
                )),
            };
        }
        let status = provisioning_status(response.body()).map_err(|message| {
            ProtocolError::with_parts(message, Some(code), Some(redact(url)), response.body())
        })?;
        let mut reading = Reading::new(status);
        if reading.status.status.is_success() {
            reading = reading
                .with_result_location(url.clone())
                .with_result(ResultSource::Body(response.body().clone()));
        }
        Ok(Polled::Status(reading))
    }
}

impl Azure {
    /// The protocol a token saved ([`Protocol::save`]).
    pub(crate) fn from_saved(saved: &SavedProtocol) -> Result<Box<dyn Protocol>, TokenError> {
        let state: SavedAzure = saved.state_as()?;
        let url = |text: &str| -> Result<Url, TokenError> {
            match Url::parse(text) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(url),
                _ => Err(TokenError::new(format!(
                    "the Azure protocol's saved URL {:?} is not an http(s) URL",
                    Url::parse(text).map(|u| redact(&u)).unwrap_or_default()
                ))),
            }
        };
        Ok(Box::new(Azure::new(
            state.mode,
            state.final_state_via,
            url(&state.original_uri)?,
            state.start_location.as_deref().map(url).transpose()?,
        )))
    }
}

impl Protocol for Azure {
    fn name(&self) -> &'static str {
        "azure"
    }

    fn prefers_respond_async(&self) -> bool {
        true
    }

    fn save(&self) -> Option<SavedProtocol> {
        SavedProtocol::from_state(
            self.name(),
            &SavedAzure {
                mode: self.mode,
                final_state_via: self.final_state,
                original_uri: self.original_uri.to_string(),
                start_location: self.start_location.as_ref().map(Url::to_string),
            },
        )
        .ok()
    }

    fn restore(&self, saved: &SavedProtocol) -> Result<Box<dyn Protocol>, TokenError> {
        Azure::from_saved(saved)
    }

    /// `Operation-Location` monitors: `POST {monitor}:cancel` (newer
    /// guidelines), then `DELETE {monitor}` (older ones) if the first is not
    /// found or not allowed. ARM's patterns have no cancel.
    fn cancel_requests(&self, monitor: &Url) -> Vec<http::Request<Bytes>> {
        match self.mode {
            AzureMode::OperationLocation => {
                let mut delete = http::Request::new(Bytes::new());
                *delete.method_mut() = Method::DELETE;
                if let Ok(uri) = monitor.as_str().parse() {
                    *delete.uri_mut() = uri;
                }
                vec![post_cancel(monitor), delete]
            }
            _ => Vec::new(),
        }
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
        let mut reading = match self.mode {
            AzureMode::AsyncOperation | AzureMode::OperationLocation => {
                self.status_monitor(url, response)?
            }
            AzureMode::Location => self.location(url, response)?,
            AzureMode::Body => self.body(url, response)?,
        };
        // A new monitor header on a running answer replaces the monitor.
        if let (Polled::Status(interpretation), Some(name)) = (&mut reading, self.monitor_header())
        {
            if !interpretation.status.status.is_terminal() {
                let next = url_header(response.headers(), name, url, code)?;
                interpretation.next_monitor = next.filter(|next| next != url);
            }
        }
        Ok(reading)
    }
}

/// The `result` member of a status body, if any.
fn result_field(body: &[u8]) -> Option<Bytes> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let result = value.get("result")?;
    serde_json::to_vec(result).ok().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::read::test_response as response;

    fn azure(mode: AzureMode, via: FinalStateVia) -> Azure {
        Azure::new(
            mode,
            via,
            Url::parse("https://management.example/sub/rg/vm1").unwrap(),
            Some(Url::parse("https://management.example/results/9").unwrap()),
        )
    }

    fn read(azure: &Azure, response: http::Response<Bytes>) -> Reading {
        let url = Url::parse("https://management.example/ops/1").unwrap();
        match azure.read_poll(&url, &response).unwrap() {
            Polled::Status(i) => i,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn status_monitor_vocabulary() {
        let az = azure(
            AzureMode::AsyncOperation,
            FinalStateVia::AzureAsyncOperation,
        );
        for (text, state) in [
            ("NotStarted", JobState::NotStarted),
            ("Running", JobState::InProgress),
            ("succeeded", JobState::Completed),
            ("Failed", JobState::Failed),
            ("Canceled", JobState::Cancelled),
            ("Deleting", JobState::Unknown("Deleting".into())),
        ] {
            let body = format!(r#"{{"id":"1","status":"{text}","percentComplete":40}}"#);
            let reading = read(&az, response(200, &[], &body));
            assert_eq!(reading.status.status, state);
            assert_eq!(reading.status.percentage_complete, Some(40.0));
        }
    }

    #[test]
    fn final_state_via_picks_the_result() {
        let done =
            r#"{"status":"Succeeded","result":{"answer":42},"resourceLocation":"/things/7"}"#;
        let via = |v| {
            read(
                &azure(AzureMode::OperationLocation, v),
                response(200, &[], done),
            )
            .result
        };
        assert_eq!(
            via(FinalStateVia::Location),
            ResultSource::Fetch(Url::parse("https://management.example/results/9").unwrap())
        );
        assert_eq!(
            via(FinalStateVia::OriginalUri),
            ResultSource::Fetch(Url::parse("https://management.example/sub/rg/vm1").unwrap())
        );
        assert_eq!(
            via(FinalStateVia::OperationLocation),
            ResultSource::Fetch(Url::parse("https://management.example/things/7").unwrap())
        );
        assert_eq!(
            via(FinalStateVia::AzureAsyncOperation),
            ResultSource::Body(Bytes::from_static(done.as_bytes()))
        );
        let no_location = r#"{"status":"Succeeded","result":{"answer":42}}"#;
        let reading = read(
            &azure(
                AzureMode::OperationLocation,
                FinalStateVia::OperationLocation,
            ),
            response(200, &[], no_location),
        );
        assert_eq!(
            reading.result,
            ResultSource::Body(Bytes::from_static(br#"{"answer":42}"#))
        );
    }

    #[test]
    fn failed_monitor_keeps_the_error() {
        let az = azure(
            AzureMode::AsyncOperation,
            FinalStateVia::AzureAsyncOperation,
        );
        let reading = read(
            &az,
            response(
                200,
                &[],
                r#"{"status":"Failed","error":{"code":"Conflict","message":"busy"}}"#,
            ),
        );
        assert_eq!(reading.status.status, JobState::Failed);
        assert_eq!(
            reading.status.error.unwrap().code.as_deref(),
            Some("Conflict")
        );
        assert_eq!(reading.result, ResultSource::None);
    }

    #[test]
    fn location_mode() {
        let az = azure(AzureMode::Location, FinalStateVia::Location);
        let running = read(&az, response(202, &[("location", "/ops/2")], ""));
        assert_eq!(running.status.status, JobState::InProgress);
        assert_eq!(
            running.next_monitor.unwrap().as_str(),
            "https://management.example/ops/2"
        );
        let done = read(&az, response(200, &[], r#"{"name":"vm1"}"#));
        assert_eq!(done.status.status, JobState::Completed);
        assert_eq!(
            done.result,
            ResultSource::Body(Bytes::from_static(br#"{"name":"vm1"}"#))
        );
        let empty = read(&az, response(204, &[], ""));
        assert_eq!(empty.status.status, JobState::Completed);
        // A provisioning state in the final answer is the operation's state.
        let failed = read(
            &az,
            response(200, &[], r#"{"properties":{"provisioningState":"Failed"}}"#),
        );
        assert_eq!(failed.status.status, JobState::Failed);
        assert_eq!(failed.result, ResultSource::None);
        let deleting = read(
            &az,
            response(
                200,
                &[],
                r#"{"properties":{"provisioningState":"Deleting"}}"#,
            ),
        );
        assert!(!deleting.status.status.is_terminal());
        // Garbled JSON is an error; a body that is not JSON is the result.
        let url = Url::parse("https://management.example/ops/1").unwrap();
        let garbled = response(200, &[("content-type", "application/json")], r#"{"a":"#);
        assert!(az.read_poll(&url, &garbled).is_err());
        let text = read(
            &az,
            response(200, &[("content-type", "text/csv")], "a,b\n1,2"),
        );
        assert_eq!(text.status.status, JobState::Completed);
        assert_eq!(
            text.result,
            ResultSource::Body(Bytes::from_static(b"a,b\n1,2"))
        );
        let url = Url::parse("https://management.example/ops/1").unwrap();
        assert!(matches!(
            az.read_poll(&url, &response(500, &[], "")),
            Ok(Polled::ReadFailure)
        ));
    }

    #[test]
    fn body_mode() {
        let az = azure(AzureMode::Body, FinalStateVia::OriginalUri);
        let creating = read(
            &az,
            response(
                200,
                &[],
                r#"{"properties":{"provisioningState":"Creating"}}"#,
            ),
        );
        assert_eq!(creating.status.status, JobState::Unknown("Creating".into()));
        let done = read(&az, response(200, &[], r#"{"id":"/vm1","properties":{}}"#));
        assert_eq!(done.status.status, JobState::Completed);
        assert_eq!(done.status.resource_id.as_deref(), Some("/vm1"));
        let failed = read(
            &az,
            response(200, &[], r#"{"properties":{"provisioningState":"Failed"}}"#),
        );
        assert_eq!(failed.status.status, JobState::Failed);
        let url = Url::parse("https://management.example/ops/1").unwrap();
        assert!(az.read_poll(&url, &response(200, &[], "<html>")).is_err());
        // No body: no state and no resource, so no success; 204 is done.
        assert!(az.read_poll(&url, &response(200, &[], "")).is_err());
        assert!(az.read_poll(&url, &response(201, &[], " ")).is_err());
        assert_eq!(
            read(&az, response(204, &[], "")).status.status,
            JobState::Completed
        );
        assert_eq!(
            read(&az, response(202, &[], "")).status.status,
            JobState::InProgress
        );
    }

    #[test]
    fn final_state_via_parses_and_defaults() {
        assert_eq!(
            "Original-URI".parse::<FinalStateVia>().unwrap(),
            FinalStateVia::OriginalUri
        );
        assert!("nope".parse::<FinalStateVia>().is_err());
        assert_eq!(
            FinalStateVia::default_for(&Method::PUT),
            FinalStateVia::OriginalUri
        );
        assert_eq!(
            FinalStateVia::default_for(&Method::PATCH),
            FinalStateVia::OriginalUri
        );
        assert_eq!(
            FinalStateVia::default_for(&Method::POST),
            FinalStateVia::Location
        );
        assert_eq!(
            FinalStateVia::default_for(&Method::DELETE),
            FinalStateVia::AzureAsyncOperation
        );
    }
}
