//! A protocol of your own: a blob copy whose state lives in response headers.
//!
//! The example starts a loopback blob store that copies in the background
//! (`PUT` answers a bare `202 Accepted`; `HEAD` on the blob answers
//! `x-blob-copy-status` and `x-blob-copy-progress`), then waits on two copies
//! through the reqwest transport with the `BlobCopy` protocol of
//! `support/blob_copy.rs`: one that succeeds, printing the bytes copied as
//! they arrive (the protocol's typed details), and one whose source is broken,
//! printing the service's own reason.
//!
//! ```sh
//! cargo run --example header_status --features reqwest,tokio
//! ```

#[path = "support/blob.rs"]
mod blob;
#[path = "support/blob_copy.rs"]
mod blob_copy;

use blob_copy::{BlobCopy, CopyProgress};
use futures::StreamExt;
use lro_poller::bytes::Bytes;
use lro_poller::transport::ReqwestTransport;
use lro_poller::{Error, Operation, http};

/// Copies `source` to `target` and prints the progress; returns the outcome.
async fn copy(base: &str, source: &str, target: &str) -> Result<(), Error> {
    let request = http::Request::put(format!("{base}{target}"))
        .header("x-blob-copy-source", source)
        .body(Bytes::new())
        .expect("a valid request");
    let mut copy = Operation::start(ReqwestTransport::default(), request)
        .with_protocol(BlobCopy)
        .build()?;
    while let Some(status) = copy.next().await {
        let status = status?;
        let copied = status
            .details::<CopyProgress>()
            .map(|p| format!("{:>7} of {} bytes", p.copied, p.total))
            .unwrap_or_default();
        let answer = status.answer().map(|a| a.status().as_u16()).unwrap_or(0);
        println!("  {:<11} {copied}  (HEAD answered {answer})", status.status);
    }
    let outcome = copy.outcome().await?;
    println!(
        "copied {source} to {target} in {:.1?} with {} polls",
        outcome.elapsed(),
        outcome.polls()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = blob::start().await?;
    println!("blob store stand-in listening on {base}");

    copy(&base, "/inbox/cat.jpg", "/photos/cat.jpg").await?;

    match copy(&base, "/inbox/broken.jpg", "/photos/dog.jpg").await {
        Err(error) => {
            let status = error.job_status().ok_or("expected the copy to fail")?;
            println!("the second copy ended {}: {error}", status.status);
        }
        Ok(()) => return Err("the broken copy should have failed".into()),
    }
    Ok(())
}
