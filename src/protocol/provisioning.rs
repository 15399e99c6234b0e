//! Azure's resource bodies: the state in `properties.provisioningState`.

use super::read::is_blank;
use crate::status::{AsyncJobStatus, JobState};

/// Reads `properties.provisioningState` (absent: `Succeeded`) from a resource
/// body; used for body polling and for the start response of a `PUT`.
pub(super) fn provisioning_status(body: &[u8]) -> Result<AsyncJobStatus, String> {
    if is_blank(body) {
        return Ok(AsyncJobStatus::new(JobState::Completed));
    }
    resource_status(body).map(|(status, _)| status)
}

/// The status a resource body gives (`properties.provisioningState`, absent:
/// `Succeeded`), and whether the body had a provisioning state at all.
pub(super) fn resource_status(body: &[u8]) -> Result<(AsyncJobStatus, bool), String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the resource is not JSON: {e}"))?;
    let (state, explicit) = match value.pointer("/properties/provisioningState") {
        None | Some(serde_json::Value::Null) => (JobState::Completed, false),
        Some(serde_json::Value::String(text)) => (JobState::parse(text), true),
        Some(_) => return Err("properties.provisioningState is not a string".into()),
    };
    let mut status = AsyncJobStatus::new(state);
    status.resource_id = value
        .get("id")
        .and_then(|id| id.as_str())
        .map(str::to_owned);
    if let Some(error) = value
        .get("error")
        .or_else(|| value.pointer("/properties/error"))
        .filter(|e| !e.is_null())
    {
        status.error = Some(crate::status::ServiceError::from_json_value(error));
    }
    Ok((status, explicit))
}
