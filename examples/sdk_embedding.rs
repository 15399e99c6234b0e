//! How an SDK embeds the crate: a tiny `DriveClient` whose `copy(item, dest)`
//! returns the SDK's own `CopyOperation` — a `Stream` of the SDK's progress
//! type that awaits to `Result<DriveItem, DriveError>` — with no lro-poller
//! type in its public API. Runs against the loopback OneDrive stand-in.
//!
//! ```sh
//! cargo run --example sdk_embedding --features reqwest,tokio
//! ```

#[path = "support/onedrive.rs"]
mod onedrive;

/// The SDK crate, as its users see it.
mod drive_sdk {
    use std::future::{Future, IntoFuture};
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use bytes::Bytes;
    use futures::Stream;
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

    /// A copy in progress: stream it for progress, await it for the item.
    pub struct CopyOperation {
        inner: Mapped<DriveItem, DriveError>,
    }

    impl Stream for CopyOperation {
        type Item = Result<CopyProgress, DriveError>;

        fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Pin::new(&mut self.get_mut().inner)
                .poll_next(cx)
                .map(|item| {
                    item.map(|status| {
                        status
                            .map(|s| CopyProgress {
                                state: s.status.to_string(),
                                percent: s.percentage_complete,
                            })
                            .map_err(convert)
                    })
                })
        }
    }

    impl IntoFuture for CopyOperation {
        type Output = Result<DriveItem, DriveError>;
        type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

        fn into_future(self) -> Self::IntoFuture {
            self.inner.into_future()
        }
    }

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

        /// Copies `item` into the folder `dest`.
        pub fn copy(&self, item: &str, dest: &str) -> Result<CopyOperation, DriveError> {
            let body = serde_json::json!({ "parentReference": { "path": dest } }).to_string();
            let request =
                http::Request::post(format!("{}/v1.0/me/drive/items/{item}/copy", self.base))
                    .header("content-type", "application/json")
                    .body(Bytes::from(body))
                    .map_err(|e| DriveError::Service(e.to_string()))?;
            let operation = Operation::start(self.transport.clone(), request)
                .build()
                .map_err(|error| convert(error.into()))?;
            Ok(CopyOperation {
                inner: operation.map_outcome(|outcome| {
                    let outcome = outcome.map_err(convert)?;
                    let id = outcome.resource_id().ok_or_else(|| {
                        DriveError::Service("the copy did not say what it made".into())
                    })?;
                    Ok(DriveItem { id: id.to_owned() })
                }),
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
    let item = drive.copy("01REPORT", "/drive/root:/Archive")?.await?;
    println!("awaited: copied to {}", item.id);

    // Use 2: follow the progress, then take the result.
    let mut copy = drive.copy("01PHOTOS", "/drive/root:/Backup")?;
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
