//! Resume an operation of your own protocol in a second `Operation`.
//!
//! The example starts a loopback blob store (see `header_status.rs`), starts
//! a copy with the `BlobCopy` protocol, reads its first status, writes the
//! operation's resume token to a file and drops the operation (as a process
//! would when it stops). A second `Operation`, built from the token read back
//! from the file and the same protocol, finishes the job: the poll count and
//! the deadline go on from the first.
//!
//! ```sh
//! cargo run --example custom_resume --features reqwest,tokio
//! ```

#[path = "support/blob.rs"]
mod blob;
#[path = "support/blob_copy.rs"]
mod blob_copy;

use blob_copy::{BlobCopy, CopyProgress};
use futures::StreamExt;
use lro_poller::bytes::Bytes;
use lro_poller::transport::ReqwestTransport;
use lro_poller::{Operation, ResumeToken, http};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = blob::start().await?;
    println!("blob store stand-in listening on {base}");
    let token_file = std::env::temp_dir().join(format!("lro-copy-{}.token", std::process::id()));

    // The first process: start the copy, see it running, keep a token.
    {
        let request = http::Request::put(format!("{base}/backups/disk.img"))
            .header("x-blob-copy-source", "/inbox/disk.img")
            .body(Bytes::new())?;
        let mut copy = Operation::start(ReqwestTransport::default(), request)
            .with_protocol(BlobCopy)
            .build()?;
        let first = copy.next().await.ok_or("the copy ended at once")??;
        let progress = first
            .details::<CopyProgress>()
            .copied()
            .unwrap_or(CopyProgress {
                copied: 0,
                total: 0,
            });
        println!(
            "first operation: {} ({} of {} bytes); stopping",
            first.status, progress.copied, progress.total
        );
        let token = copy.resume_token().ok_or("the protocol saves itself")?;
        std::fs::write(&token_file, token.to_string())?;
        println!("token written to {}", token_file.display());
    } // dropped: polling stops here

    // Later, perhaps another process: read the token, go on.
    let token: ResumeToken = std::fs::read_to_string(&token_file)?.parse()?;
    std::fs::remove_file(&token_file)?;
    println!("resuming a `{}` operation", token.protocol.name());
    let mut copy = Operation::resume(ReqwestTransport::default(), token)
        .with_protocol(BlobCopy)
        .build()?;
    while let Some(status) = copy.next().await {
        let status = status?;
        println!(
            "second operation: {:<11} {:>5.1}%",
            status.status,
            status.percentage_complete.unwrap_or(0.0)
        );
    }
    let outcome = copy.outcome().await?;
    println!(
        "copy finished: {} after {} polls in all, {:.1?} since it started",
        outcome.status().status,
        outcome.polls(),
        outcome.elapsed()
    );
    Ok(())
}
