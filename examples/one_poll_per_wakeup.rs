//! One poll per wake-up: nothing is kept in memory between polls.
//!
//! A worker run by a job queue, a cron or a serverless function cannot keep
//! an `Operation` alive between polls. Here each wake-up reads the operation's
//! state from a file (its resume token, which records when the next poll is
//! due), resumes, takes one status, writes the token and the due time back,
//! drops everything, and sleeps until the due time — as a scheduler would
//! wake it. The job is a copy on the loopback OneDrive stand-in this example
//! starts itself (`support/onedrive.rs`).
//!
//! ```sh
//! cargo run --example one_poll_per_wakeup --features reqwest,tokio
//! ```

#[path = "support/onedrive.rs"]
mod onedrive;

use std::time::SystemTime;

use futures::StreamExt;
use lro_poller::bytes::Bytes;
use lro_poller::transport::ReqwestTransport;
use lro_poller::{Operation, ResumeToken, http};

/// The transport a worker builds on each wake-up (credentials go to the
/// start request's origin only).
fn transport() -> ReqwestTransport {
    ReqwestTransport::default().with_credentials(|headers| {
        headers.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Bearer example-token"),
        );
    })
}

/// One wake-up: one status. Returns when to wake up again, or `None` when
/// the job is over.
async fn wake_up(
    state: &std::path::Path,
    base: &str,
) -> Result<Option<SystemTime>, Box<dyn std::error::Error>> {
    let mut operation = match std::fs::read_to_string(state) {
        // The token knows when its poll is due: resuming early just waits.
        Ok(text) => {
            let token: ResumeToken = text.lines().last().unwrap_or_default().parse()?;
            Operation::resume(transport(), token).build()?
        }
        // The first wake-up starts the job.
        Err(_) => {
            let request = http::Request::post(format!("{base}/v1.0/me/drive/items/01DOC/copy"))
                .header("content-type", "application/json")
                .body(Bytes::from_static(br#"{"name":"Copy of report.docx"}"#))?;
            Operation::start(transport(), request).build()?
        }
    };
    let status = operation.next().await.ok_or("the job ended")??;
    println!(
        "  {:<11} {:>5.1}%  after {} polls",
        status.status,
        status.percentage_complete.unwrap_or(0.0),
        operation.polls()
    );
    let (Some(due), Some(token)) = (operation.next_poll_at(), operation.resume_token()) else {
        let outcome = operation.outcome().await?;
        println!("copied: new item {}", outcome.resource_id().unwrap_or("?"));
        std::fs::remove_file(state).ok();
        return Ok(None);
    };
    // Token and due time, written back (a database row would hold both).
    let due_ms = due.duration_since(SystemTime::UNIX_EPOCH)?.as_millis();
    std::fs::write(state, format!("{due_ms}\n{token}"))?;
    Ok(Some(due))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = onedrive::start().await?;
    println!("OneDrive stand-in listening on {base}");
    let state = std::env::temp_dir().join(format!("lro-wakeup-{}.token", std::process::id()));
    let mut wake_ups = 0;
    while let Some(due) = wake_up(&state, &base).await? {
        wake_ups += 1;
        // Nothing is kept: the next wake-up reads everything from the file.
        let wait = due.duration_since(SystemTime::now()).unwrap_or_default();
        println!("  next poll due in {wait:.1?}; sleeping");
        tokio::time::sleep(wait).await;
    }
    println!("done after {} wake-ups", wake_ups + 1);
    Ok(())
}
