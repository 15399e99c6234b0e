//! How an SDK embeds the crate: a tiny `DriveClient` whose `copy(item, dest)`
//! returns the SDK's own `CopyOperation` — a `Stream` of the SDK's progress
//! type that awaits to `Result<DriveItem, DriveError>`, with `resume_token`
//! and `cancel` — as a type alias of `lro_poller::Mapped`: nothing forwarded
//! by hand, and `copy` cannot fail (a bad request is the copy's first item).
//! Runs against the loopback OneDrive stand-in.
//!
//! ```sh
//! cargo run --example sdk_embedding --features reqwest,tokio
//! ```

#[path = "support/onedrive.rs"]
mod onedrive;

/// The SDK crate, as its users see it.
mod drive_sdk {
    use bytes::Bytes;
    use lro_poller::transport::ReqwestTransport;
    use lro_poller::{Mapped, Operation};

    /// A copied item.
    #[derive(Debug, Clone, PartialEq)]
    pub struct DriveItem {
        /// Its id.
        pub id: String,
    }

    /// Progress of a copy.
    #[derive(Debug, Clone, PartialEq)]
    pub struct CopyProgress {
        /// The service's state name.
        pub state: String,
        /// Percent done, when known.
        pub percent: Option<f64>,
    }

    /// Everything that can go wrong, in the SDK's terms.
    #[derive(Debug)]
    pub enum DriveError {
        /// The service said the copy failed.
        CopyFailed {
            code: Option<String>,
            message: String,
        },
        /// The service could not be reached or answered nonsense.
        Service(String),
    }

    impl std::fmt::Display for DriveError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                DriveError::CopyFailed { code, message } => {
                    write!(f, "copy failed ({code:?}): {message}")
                }
                DriveError::Service(message) => write!(f, "service error: {message}"),
            }
        }
    }

    impl std::error::Error for DriveError {}

    fn convert(error: lro_poller::Error) -> DriveError {
        match error.job_status() {
            Some(status) => DriveError::CopyFailed {
                code: status
                    .error
                    .as_ref()
                    .and_then(|e| e.code.clone())
                    .or(status.error_code.clone()),
                message: status
                    .failure_summary()
                    .unwrap_or_else(|| status.status.to_string()),
            },
            None => DriveError::Service(error.to_string()),
        }
    }

    /// A copy in progress: stream it for progress, await it for the item;
    /// `resume_token()` and `cancel()` too. A type alias: nothing forwarded
    /// by hand.
    pub type CopyOperation = Mapped<DriveItem, DriveError, CopyProgress, DriveError>;

    /// The SDK's client.
    pub struct DriveClient {
        base: String,
        transport: ReqwestTransport,
    }

    impl DriveClient {
        /// A client for the drive at `base`, authorized with `token`.
        pub fn new(base: impl Into<String>, token: &str) -> Self {
            let bearer: http::HeaderValue =
                format!("Bearer {token}").parse().expect("a valid token");
            DriveClient {
                base: base.into(),
                transport: ReqwestTransport::default().with_credentials(move |headers| {
                    headers.insert(http::header::AUTHORIZATION, bearer.clone());
                }),
            }
        }

        /// Copies `item` into the folder `dest`. It cannot fail here: a
        /// request that cannot be made is the first thing the copy yields.
        pub fn copy(&self, item: &str, dest: &str) -> CopyOperation {
            let body = serde_json::json!({ "parentReference": { "path": dest } }).to_string();
            let mut request = http::Request::new(Bytes::from(body));
            *request.method_mut() = http::Method::POST;
            if let Ok(uri) = format!("{}/v1.0/me/drive/items/{item}/copy", self.base).parse() {
                *request.uri_mut() = uri;
            }
            request.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            Operation::start(self.transport.clone(), request)
                .into_operation()
                .map_status(|s| CopyProgress {
                    state: s.status.to_string(),
                    percent: s.percentage_complete,
                })
                .map_err(convert)
                .map_outcome(|outcome| {
                    let id = outcome?.resource_id().map(str::to_owned).ok_or_else(|| {
                        DriveError::Service("the copy did not say what it made".into())
                    })?;
                    Ok(DriveItem { id })
                })
        }
    }
}

use drive_sdk::DriveClient;
use futures::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = onedrive::start().await?;
    let drive = DriveClient::new(base, "example-token");

    // Use 1: just await the result.
    let item = drive.copy("01REPORT", "/drive/root:/Archive").await?;
    println!("awaited: copied to {}", item.id);

    // Use 2: follow the progress, then take the result.
    let mut copy = drive.copy("01PHOTOS", "/drive/root:/Backup");
    while let Some(progress) = copy.next().await {
        let progress = progress?;
        println!(
            "  {} {:.1}%",
            progress.state,
            progress.percent.unwrap_or(0.0)
        );
    }
    let item = copy.await?;
    println!("streamed: copied to {}", item.id);
    Ok(())
}
