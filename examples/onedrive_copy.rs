//! Copy a folder the way the OneDrive API does it, and watch the copy.
//!
//! The example starts a loopback server that behaves like OneDrive's copy
//! action (`202 Accepted` + a monitor URL, progress rising over a few seconds,
//! `Retry-After` on every `202`, then `303 See Other`), starts a copy through
//! the reqwest transport with `Prefer: respond-async`, prints the progress as
//! it arrives, and prints the id of the new item.
//!
//! ```sh
//! cargo run --example onedrive_copy --features reqwest,tokio
//! ```

#[path = "support/onedrive.rs"]
mod onedrive;

use bytes::Bytes;
use futures::StreamExt;
use lro_poller::Operation;
use lro_poller::transport::ReqwestTransport;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The loopback "OneDrive".
    let base = onedrive::start().await?;
    println!("OneDrive stand-in listening on {base}");

    // The caller's side: a reqwest transport that adds the token wherever the
    // crate allows credentials (the start request; not the monitor).
    let transport = ReqwestTransport::default().with_credentials(|headers| {
        headers.insert(
            http::header::AUTHORIZATION,
            "Bearer example-token".parse().unwrap(),
        );
    });
    let request = http::Request::post(format!("{base}/v1.0/me/drive/items/01FOLDER/copy"))
        .header("content-type", "application/json")
        .body(Bytes::from_static(
            br#"{"parentReference":{"path":"/drive/root:/Documents"},"name":"Copy of LargeFolder1"}"#,
        ))?;

    let mut copy = Operation::start(transport, request).build()?;
    while let Some(status) = copy.next().await {
        let status = status?;
        let percent = status.percentage_complete.unwrap_or(0.0);
        println!(
            "  {:<11} {percent:>5.1}%  (monitor {})",
            status.status,
            copy.monitor_url().path()
        );
    }
    let outcome = copy.outcome().await?;
    println!(
        "copied in {:.1?} with {} polls: new item {}",
        outcome.elapsed(),
        outcome.polls(),
        outcome.resource_id().unwrap_or("(unknown)")
    );
    Ok(())
}
