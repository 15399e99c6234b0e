//! Every new token reaches the caller's store before the operation goes on;
//! the store chooses what a failed save means.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use lro_poller::policy::{ConstantBuilder, PollPolicy};
use lro_poller::transport::ReqwestTransport;
use lro_poller::{Checkpoint, Error, GaveUpCause, JobState, Operation, ResumeToken};

use crate::support::{Server, reply};

/// A Graph-style job on a loopback server: `POST /jobs` answers `202` with a
/// monitor, which says `inProgress` `running_for` times, then `completed`.
async fn job_server(running_for: u32) -> Server {
    let server = Server::start().await;
    server.on(
        "/jobs",
        vec![reply(202).header("location", "{base}/monitor/7?tempauth=x")],
    );
    let mut answers: Vec<_> = (1..=running_for)
        .map(|n| {
            reply(202).json(&format!(
                r#"{{"status":"inProgress","percentageComplete":{}}}"#,
                n * 10
            ))
        })
        .collect();
    answers.push(reply(200).json(r#"{"status":"completed","resourceId":"R7"}"#));
    server.on("/monitor/7", answers);
    server
}

/// The polls the server saw.
fn polls(server: &Server) -> usize {
    server.requests_to("/monitor/7").len()
}

fn quick() -> PollPolicy {
    PollPolicy::new(ConstantBuilder::new(Duration::from_millis(20)))
        .with_min_interval(Duration::from_millis(20))
}

fn start(base: &str) -> http::Request<bytes::Bytes> {
    http::Request::post(format!("{base}/jobs"))
        .body(bytes::Bytes::new())
        .unwrap()
}

/// A store that writes each token to a file atomically (a temporary file,
/// then a rename) and counts its saves.
#[derive(Clone)]
struct FileStore {
    path: PathBuf,
    saves: Arc<Mutex<u32>>,
}

impl FileStore {
    fn in_temp_dir(name: &str) -> FileStore {
        let dir = std::env::temp_dir().join(format!("lro-schedule-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        FileStore {
            path: dir.join("operation.token"),
            saves: Arc::default(),
        }
    }

    fn read(&self) -> ResumeToken {
        std::fs::read_to_string(&self.path)
            .unwrap()
            .parse()
            .unwrap()
    }

    fn saves(&self) -> u32 {
        *self.saves.lock().unwrap()
    }
}

fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, path)
}

#[lro_poller::async_trait]
impl Checkpoint for FileStore {
    async fn save(
        &self,
        token: &ResumeToken,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        // An asynchronous store: a moment passes before the write.
        tokio::time::sleep(Duration::from_millis(1)).await;
        write_atomically(&self.path, &token.to_string())?;
        *self.saves.lock().unwrap() += 1;
        Ok(())
    }
}

#[tokio::test]
async fn every_status_is_yielded_once_its_token_is_on_disk() {
    let server = job_server(3).await;
    let base = server.base().to_owned();
    let store = FileStore::in_temp_dir("every");
    let mut operation = Operation::start(ReqwestTransport::default(), start(&base))
        .with_policy(quick())
        .with_checkpoint(store.clone())
        .build()
        .unwrap();
    while let Some(status) = operation.next().await {
        let status = status.unwrap();
        if status.status.is_terminal() {
            break;
        }
        // The file already holds this status's token: its polls, its
        // monitor, and when the next poll is due.
        let kept = store.read();
        assert_eq!(kept.polls, operation.polls());
        assert_eq!(kept.monitor_url().unwrap().path(), "/monitor/7");
        let (kept_due, due) = (
            kept.next_poll_at().unwrap(),
            operation.next_poll_at().unwrap(),
        );
        let apart = kept_due
            .duration_since(due)
            .unwrap_or_else(|e| e.duration());
        assert!(apart <= Duration::from_millis(5), "{kept_due:?} vs {due:?}");
    }
    // One save after the start was answered, one per running status; none
    // after the end.
    assert_eq!(store.saves(), 1 + 3);
    assert_eq!(polls(&server), 4);
    let outcome = operation.outcome().await.unwrap();
    assert_eq!(outcome.resource_id(), Some("R7"));
}

#[tokio::test]
async fn a_process_that_dies_goes_on_from_the_file() {
    let server = job_server(3).await;
    let base = server.base().to_owned();
    let store = FileStore::in_temp_dir("dies");
    {
        let mut operation = Operation::start(ReqwestTransport::default(), start(&base))
            .with_policy(quick())
            .with_checkpoint(store.clone())
            .build()
            .unwrap();
        operation.next().await.unwrap().unwrap();
    } // the process dies here: nothing but the file is left
    let token = store.read();
    assert_eq!(token.polls, 1);
    let outcome = Operation::resume(ReqwestTransport::default(), token)
        .with_policy(quick())
        .with_checkpoint(store.clone())
        .build()
        .unwrap()
        .await
        .unwrap();
    assert_eq!(outcome.status().status, JobState::Completed);
    assert_eq!(outcome.polls(), 4, "no poll lost or repeated");
    assert_eq!(polls(&server), 4);
    assert_eq!(store.read().polls, 3, "the last running status's token");
}

#[tokio::test]
async fn a_failed_save_ends_the_operation_with_the_token_it_could_not_keep() {
    let server = job_server(3).await;
    let base = server.base().to_owned();
    let full_disk = |_: &ResumeToken| -> Result<(), std::io::Error> {
        Err(std::io::Error::other("no space left on device"))
    };
    let mut operation = Operation::start(ReqwestTransport::default(), start(&base))
        .with_policy(quick())
        .with_checkpoint(full_disk)
        .build()
        .unwrap();
    let error = operation.next().await.unwrap().unwrap_err();
    let Error::GaveUp(gave_up) = &error else {
        panic!("{error:?}")
    };
    let GaveUpCause::Checkpoint(reason) = gave_up.cause() else {
        panic!("{error:?}")
    };
    assert!(reason.contains("no space left"), "{reason}");
    assert!(error.to_string().contains("could not be saved"), "{error}");
    assert!(operation.next().await.is_none(), "nothing goes on");
    // Nothing was polled: the save after the start failed first.
    assert_eq!(polls(&server), 0);
    // The token it could not keep goes on elsewhere.
    let token = error.resume_token().expect("the error carries the token");
    assert!(token.next_poll_at().is_some());
    let outcome = Operation::resume(ReqwestTransport::default(), token.clone())
        .with_policy(quick())
        .build()
        .unwrap()
        .await
        .unwrap();
    assert_eq!(outcome.resource_id(), Some("R7"));
}

#[tokio::test]
async fn a_store_may_go_on_after_a_failed_save_and_report_it() {
    let server = job_server(2).await;
    let base = server.base().to_owned();
    let failures = Arc::new(Mutex::new(Vec::new()));
    let noted = Arc::clone(&failures);
    let missing = std::env::temp_dir().join(format!("lro-no-such-dir-{}", std::process::id()));
    let lenient = move |token: &ResumeToken| -> Result<(), std::io::Error> {
        if let Err(error) = write_atomically(&missing.join("t"), &token.to_string()) {
            // Reported its own way, and the operation goes on.
            noted.lock().unwrap().push((token.polls, error.kind()));
        }
        Ok(())
    };
    let outcome = Operation::start(ReqwestTransport::default(), start(&base))
        .with_policy(quick())
        .with_checkpoint(lenient)
        .build()
        .unwrap()
        .await
        .unwrap();
    assert_eq!(outcome.status().status, JobState::Completed);
    let not_found = std::io::ErrorKind::NotFound;
    assert_eq!(
        *failures.lock().unwrap(),
        [(0, not_found), (1, not_found), (2, not_found)]
    );
}
