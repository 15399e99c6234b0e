//! How an Azure operation is followed ([`AzureMode`]) and where its final
//! result comes from ([`FinalStateVia`]).

use std::fmt;

use http::Method;

/// Where the final result of a successful Azure operation comes from
/// (`x-ms-long-running-operation-options.final-state-via`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FinalStateVia {
    /// `GET` the `Location` header of the start response.
    Location,
    /// The final answer of the `Azure-AsyncOperation` monitor.
    AzureAsyncOperation,
    /// `GET` the URL of the start request (the resource that was `PUT`).
    OriginalUri,
    /// The `Operation-Location` monitor: its `resourceLocation` if it has one,
    /// else its `result`, else its final answer.
    OperationLocation,
}

impl FinalStateVia {
    /// The documented default for a start request with `method`: `PUT` and
    /// `PATCH` read the original URI, `POST` the `Location`, others the
    /// monitor's final answer.
    pub fn default_for(method: &Method) -> FinalStateVia {
        if method == Method::PUT || method == Method::PATCH {
            FinalStateVia::OriginalUri
        } else if method == Method::POST {
            FinalStateVia::Location
        } else {
            FinalStateVia::AzureAsyncOperation
        }
    }

    /// The name as written in API specs (`"original-uri"`).
    pub fn as_str(&self) -> &'static str {
        match self {
            FinalStateVia::Location => "location",
            FinalStateVia::AzureAsyncOperation => "azure-async-operation",
            FinalStateVia::OriginalUri => "original-uri",
            FinalStateVia::OperationLocation => "operation-location",
        }
    }
}

impl fmt::Display for FinalStateVia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for FinalStateVia {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "location" => Ok(FinalStateVia::Location),
            "azure-async-operation" => Ok(FinalStateVia::AzureAsyncOperation),
            "original-uri" => Ok(FinalStateVia::OriginalUri),
            "operation-location" => Ok(FinalStateVia::OperationLocation),
            other => Err(format!(
                "unknown final-state-via `{other}` (expected location, azure-async-operation, original-uri or operation-location)"
            )),
        }
    }
}

/// Which header (or body) an Azure operation is followed through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AzureMode {
    /// `Azure-AsyncOperation` (ARM): a status monitor answering `200`.
    AsyncOperation,
    /// `Operation-Location` (data plane): a status monitor.
    OperationLocation,
    /// `Location` (ARM): `202` while running, then the final response.
    Location,
    /// Body polling: `GET` the original URI until
    /// `properties.provisioningState` is terminal.
    Body,
}
