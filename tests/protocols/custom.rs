//! A family the crate has never seen, written with the public API alone:
//! a blob copy whose state lives in response headers, started by a bare
//! `202 Accepted` and polled with `HEAD` on the blob's own URL; a job whose
//! monitor URL is in the start answer's body; and a describe call re-sent
//! until its answer says it is ready. Each talks HTTP to a loopback server
//! through the reqwest transport.

use std::time::Duration;

use crate::support::{Server, reply};
use futures::StreamExt;
use lro_poller::TokenError;
use lro_poller::bytes::Bytes;
use lro_poller::http;
use lro_poller::policy::{ConstantBuilder, PollPolicy};
use lro_poller::protocol::SavedProtocol;
use lro_poller::protocol::{Next, Polled, Protocol, ProtocolError, Reading};
use lro_poller::transport::ReqwestTransport;
use lro_poller::url::Url;
use lro_poller::{
    AsyncJobStatus, BuildError, Error, JobState, Operation, OperationBuilder, ResumeToken,
};

fn fast() -> PollPolicy {
    PollPolicy::new(ConstantBuilder::new(Duration::from_millis(10)))
        .with_min_interval(Duration::ZERO)
}

fn transport() -> ReqwestTransport {
    ReqwestTransport::default()
}

/// Bytes copied of how many, read from `x-blob-copy-progress`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct CopyProgress {
    copied: u64,
    total: u64,
}

/// The blob copy family.
#[derive(Debug, Clone)]
struct BlobCopy;

fn header<'a>(response: &'a http::Response<Bytes>, name: &str) -> Option<&'a str> {
    response.headers().get(name)?.to_str().ok()
}

impl Protocol for BlobCopy {
    fn name(&self) -> &'static str {
        "blob-copy"
    }

    fn read_start(
        &self,
        _request: &http::Request<Bytes>,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Next, ProtocolError> {
        match response.status().as_u16() {
            202 => Ok(Next::poll(url.clone())),
            400..=599 => Ok(Next::refused()),
            _ => Err(ProtocolError::malformed(
                "a copy starts with 202 Accepted",
                url,
                response,
            )),
        }
    }

    fn poll_request(&self, monitor: &Url) -> http::Request<Bytes> {
        http::Request::head(monitor.as_str())
            .body(Bytes::new())
            .expect("a valid request")
    }

    fn read_poll(
        &self,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Polled, ProtocolError> {
        if !response.status().is_success() {
            return Ok(Polled::ReadFailure);
        }
        let state = match header(response, "x-blob-copy-status") {
            Some("pending") => JobState::InProgress,
            Some("success") => JobState::Completed,
            Some("failed") => JobState::Failed,
            Some("aborted") => JobState::Cancelled,
            Some(other) => {
                return Err(ProtocolError::malformed(
                    format!("unknown copy status {other:?}"),
                    url,
                    response,
                ));
            }
            None => {
                return Err(ProtocolError::malformed(
                    "no x-blob-copy-status",
                    url,
                    response,
                ));
            }
        };
        let mut status = AsyncJobStatus::new(state);
        if let Some(description) = header(response, "x-blob-copy-status-description") {
            status = status.with_description(description);
        }
        let progress = header(response, "x-blob-copy-progress")
            .and_then(|text| text.split_once('/'))
            .and_then(|(copied, total)| {
                Some(CopyProgress {
                    copied: copied.parse().ok()?,
                    total: total.parse().ok()?,
                })
            });
        if let Some(p) = progress.filter(|p| p.total > 0 && p.copied <= p.total) {
            status = status.with_percentage(100.0 * p.copied as f64 / p.total as f64);
        }
        let reading = Reading::new(status);
        Ok(Polled::Status(match progress {
            Some(progress) => reading.with_details(progress),
            None => reading,
        }))
    }

    fn save(&self) -> Option<SavedProtocol> {
        Some(SavedProtocol::new(self.name()))
    }

    fn restore(&self, _saved: &SavedProtocol) -> Result<Box<dyn Protocol>, TokenError> {
        Ok(Box::new(BlobCopy))
    }

    fn cancel_requests(&self, monitor: &Url) -> Vec<http::Request<Bytes>> {
        let mut abort = monitor.clone();
        abort.set_query(Some("comp=abort"));
        vec![
            http::Request::delete(abort.as_str())
                .body(Bytes::new())
                .expect("a valid request"),
        ]
    }
}

fn put_copy(server: &Server) -> OperationBuilder {
    let request = http::Request::put(server.url("/photos/cat.jpg"))
        .header("x-blob-copy-source", "/inbox/cat.jpg")
        .body(Bytes::new())
        .unwrap();
    Operation::start(transport(), request)
        .with_protocol(BlobCopy)
        .with_policy(fast())
}

fn pending(copied: u64) -> crate::support::server::Reply {
    reply(200)
        .header("x-blob-copy-status", "pending")
        .header("x-blob-copy-progress", &format!("{copied}/4096"))
}

#[tokio::test]
async fn a_bare_202_starts_head_polling_with_typed_details_and_a_token_resumes_it() {
    let server = Server::start().await;
    server.on("/photos/cat.jpg", vec![reply(202), pending(1024)]);
    let mut copy = put_copy(&server).build().unwrap();
    let first = copy.next().await.unwrap().unwrap();
    assert_eq!(first.status, JobState::InProgress);
    assert_eq!(first.percentage_complete, Some(25.0));
    assert_eq!(
        first.details::<CopyProgress>(),
        Some(&CopyProgress {
            copied: 1024,
            total: 4096
        })
    );
    let answer = first.answer().expect("the raw answer");
    assert_eq!(answer.status(), http::StatusCode::OK);
    assert_eq!(answer.header("x-blob-copy-progress"), Some("1024/4096"));

    // Stop here: the token goes to disk as text.
    let text = copy.resume_token().expect("resumable").to_string();
    drop(copy);
    let token: ResumeToken = text.parse().unwrap();
    assert_eq!(token.protocol.name(), "blob-copy");

    // Without the protocol, the token cannot be resumed: a typed error.
    let unknown = Operation::resume(transport(), token.clone()).build();
    assert!(
        matches!(&unknown, Err(BuildError::UnknownProtocol { name, .. }) if name == "blob-copy"),
        "{unknown:?}"
    );

    server.on(
        "/photos/cat.jpg",
        vec![
            pending(2048),
            reply(200)
                .header("x-blob-copy-status", "success")
                .header("x-blob-copy-progress", "4096/4096"),
        ],
    );
    let mut resumed = Operation::resume(transport(), token)
        .with_protocol(BlobCopy)
        .with_policy(fast())
        .build()
        .unwrap();
    let mut percents = Vec::new();
    while let Some(status) = resumed.next().await {
        percents.push(status.unwrap().percentage_complete);
    }
    assert_eq!(percents, [Some(50.0), Some(100.0)]);
    let outcome = resumed.outcome().await.unwrap();
    assert_eq!(outcome.status().status, JobState::Completed);
    assert_eq!(outcome.polls(), 3, "the poll count goes on from the token");
    assert_eq!(
        outcome.status().details::<CopyProgress>().map(|p| p.copied),
        Some(4096)
    );

    let seen = server.requests_to("/photos/cat.jpg");
    let methods: Vec<_> = seen.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["PUT", "HEAD", "HEAD", "HEAD"]);
    assert_eq!(
        seen[0].headers.get("x-blob-copy-source").unwrap(),
        "/inbox/cat.jpg"
    );
}

#[tokio::test]
async fn an_unreadable_answer_is_the_same_protocol_error_as_the_built_ins() {
    let server = Server::start().await;
    server.on(
        "/photos/cat.jpg",
        vec![
            reply(202),
            reply(200).header("x-blob-copy-status", "exploded"),
        ],
    );
    // Unreadable answers are failed reads, retried within the bound: a run
    // of them ends.
    let error = put_copy(&server)
        .with_error_policy(lro_poller::policy::ErrorPolicy::default().with_max_retries(2))
        .build()
        .unwrap()
        .await
        .unwrap_err();
    let Error::Protocol(details) = &error else {
        panic!("expected a protocol error, got {error:?}");
    };
    assert!(details.message().contains("exploded"), "{error}");
    assert_eq!(error.http_status(), Some(http::StatusCode::OK));
    assert!(details.url().unwrap().ends_with("/photos/cat.jpg"));
    assert!(error.resume_token().is_some(), "a token to go on with");
    assert_eq!(server.requests_to("/photos/cat.jpg").len(), 4);
}

#[tokio::test]
async fn a_failed_copy_keeps_the_answer_and_details_in_the_error() {
    let server = Server::start().await;
    server.on(
        "/photos/cat.jpg",
        vec![
            reply(202),
            reply(200)
                .header("x-blob-copy-status", "failed")
                .header(
                    "x-blob-copy-status-description",
                    "500 InternalError: source read",
                )
                .header("x-blob-copy-progress", "512/4096"),
        ],
    );
    let error = put_copy(&server).build().unwrap().await.unwrap_err();
    let status = error.job_status().expect("the job's own failure");
    assert_eq!(status.status, JobState::Failed);
    assert!(error.to_string().contains("source read"), "{error}");
    assert_eq!(
        status.details::<CopyProgress>(),
        Some(&CopyProgress {
            copied: 512,
            total: 4096
        })
    );
    assert_eq!(
        status.answer().unwrap().header("x-blob-copy-status"),
        Some("failed")
    );
}

#[tokio::test]
async fn an_error_answer_to_the_start_is_refused_with_the_service_error() {
    let server = Server::start().await;
    server.on(
        "/photos/cat.jpg",
        vec![reply(409).json(r#"{"error":{"code":"PendingCopyOperation","message":"busy"}}"#)],
    );
    let error = put_copy(&server).build().unwrap().await.unwrap_err();
    assert_eq!(error.http_status(), Some(http::StatusCode::CONFLICT));
    assert!(
        error.to_string().contains("PendingCopyOperation"),
        "{error}"
    );
    assert_eq!(server.requests_to("/photos/cat.jpg").len(), 1);
}

#[tokio::test]
async fn cancel_goes_through_the_protocol_then_the_copy_ends_aborted() {
    let server = Server::start().await;
    server.on("/photos/cat.jpg", vec![reply(202), pending(1024)]);
    let mut copy = put_copy(&server).build().unwrap();
    copy.next().await.unwrap().unwrap();

    server.on(
        "/photos/cat.jpg",
        vec![
            reply(204),
            reply(200).header("x-blob-copy-status", "aborted"),
        ],
    );
    copy.cancel().await.unwrap();
    let last = copy.next().await.unwrap().unwrap();
    assert_eq!(last.status, JobState::Cancelled);
    assert!(copy.next().await.is_none());
    let error = copy.outcome().await.unwrap_err();
    assert_eq!(error.job_status().unwrap().status, JobState::Cancelled);

    let seen = server.requests_to("/photos/cat.jpg");
    let methods: Vec<_> = seen.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["PUT", "HEAD", "DELETE", "HEAD"]);
    assert_eq!(seen[2].query.as_deref(), Some("comp=abort"));
}

/// A job whose start answers `201 Created` while still running, with its
/// monitor URL in the body: `{"state":"running","monitor":"/jobs/7"}`.
#[derive(Debug)]
struct BodyMonitor;

#[derive(serde::Deserialize)]
struct JobBody {
    state: String,
    monitor: Option<String>,
    result: Option<serde_json::Value>,
}

fn job_status(
    url: &Url,
    response: &http::Response<Bytes>,
) -> Result<(JobBody, JobState), ProtocolError> {
    let body: JobBody = serde_json::from_slice(response.body())
        .map_err(|e| ProtocolError::malformed(format!("not a job: {e}"), url, response))?;
    let state = match body.state.as_str() {
        "running" => JobState::InProgress,
        "done" => JobState::Completed,
        "broken" => JobState::Failed,
        other => JobState::Unknown(other.to_owned()),
    };
    Ok((body, state))
}

impl Protocol for BodyMonitor {
    fn name(&self) -> &'static str {
        "body-monitor"
    }

    fn read_start(
        &self,
        _request: &http::Request<Bytes>,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Next, ProtocolError> {
        if !response.status().is_success() {
            return Ok(Next::refused());
        }
        let (body, state) = job_status(url, response)?;
        let monitor = body
            .monitor
            .ok_or_else(|| ProtocolError::malformed("no monitor in the job", url, response))?;
        let monitor = url
            .join(&monitor)
            .map_err(|e| ProtocolError::malformed(format!("bad monitor: {e}"), url, response))?;
        Ok(Next::poll(monitor).with_status(AsyncJobStatus::new(state)))
    }

    fn read_poll(
        &self,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Polled, ProtocolError> {
        if !response.status().is_success() {
            return Ok(Polled::ReadFailure);
        }
        let (body, state) = job_status(url, response)?;
        let mut reading = Reading::new(AsyncJobStatus::new(state));
        if let Some(result) = body.result {
            reading = reading.with_result_body(Bytes::from(result.to_string()));
        }
        Ok(Polled::Status(reading))
    }
}

#[tokio::test]
async fn a_running_201_with_its_monitor_in_the_body_is_polled_there() {
    let server = Server::start().await;
    server.on(
        "/jobs",
        vec![reply(201).json(r#"{"state":"running","monitor":"/jobs/7"}"#)],
    );
    server.on(
        "/jobs/7",
        vec![
            reply(200).json(r#"{"state":"running"}"#),
            reply(200).json(r#"{"state":"done","result":{"rows":42}}"#),
        ],
    );
    let request = http::Request::post(server.url("/jobs"))
        .body(Bytes::from_static(br#"{"query":"count"}"#))
        .unwrap();
    let mut job = Operation::start(transport(), request)
        .with_protocol(BodyMonitor)
        .with_policy(fast())
        .build()
        .unwrap();
    let mut states = Vec::new();
    while let Some(status) = job.next().await {
        states.push(status.unwrap().status);
    }
    assert_eq!(
        states,
        [
            JobState::InProgress,
            JobState::InProgress,
            JobState::Completed
        ]
    );
    assert!(
        job.resume_token().is_none(),
        "a protocol that does not save itself is not resumable"
    );
    let outcome = job.outcome().await.unwrap();
    assert_eq!(
        outcome.json::<serde_json::Value>().unwrap()["rows"],
        serde_json::json!(42)
    );
    assert_eq!(server.requests_to("/jobs").len(), 1);
    let polls = server.requests_to("/jobs/7");
    assert_eq!(polls.len(), 2);
    assert!(polls.iter().all(|r| r.method == http::Method::GET));
}

/// A describe call re-sent until the answer says `ready`.
#[derive(Debug, Clone)]
struct Describe;

impl Protocol for Describe {
    fn name(&self) -> &'static str {
        "describe"
    }

    fn read_start(
        &self,
        _request: &http::Request<Bytes>,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Next, ProtocolError> {
        match self.read_poll(url, response)? {
            Polled::Status(reading) if reading.status.status.is_terminal() => {
                Ok(Next::done(reading))
            }
            Polled::Status(reading) => Ok(Next::resend().with_reading(reading)),
            _ => Ok(Next::refused()),
        }
    }

    fn read_poll(
        &self,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Polled, ProtocolError> {
        if !response.status().is_success() {
            return Ok(Polled::ReadFailure);
        }
        let body: serde_json::Value = serde_json::from_slice(response.body())
            .map_err(|e| ProtocolError::malformed(format!("not JSON: {e}"), url, response))?;
        let state = match body["Table"]["TableStatus"].as_str() {
            Some("ACTIVE") => JobState::Completed,
            Some(_) => JobState::InProgress,
            None => return Err(ProtocolError::malformed("no TableStatus", url, response)),
        };
        Ok(Polled::Status(Reading::new(AsyncJobStatus::new(state))))
    }

    fn save(&self) -> Option<SavedProtocol> {
        Some(SavedProtocol::new(self.name()))
    }

    fn restore(&self, _saved: &SavedProtocol) -> Result<Box<dyn Protocol>, TokenError> {
        Ok(Box::new(Describe))
    }
}

#[tokio::test]
async fn a_resent_request_is_replayed_byte_for_byte_also_after_a_resume() {
    let server = Server::start().await;
    let creating = r#"{"Table":{"TableStatus":"CREATING"}}"#;
    server.on(
        "/",
        vec![reply(200).json(creating), reply(200).json(creating)],
    );
    let body = r#"{"TableName":"orders"}"#;
    let request = http::Request::post(server.url("/?Action=DescribeTable"))
        .header("x-amz-target", "DynamoDB_20120810.DescribeTable")
        .header("authorization", "AWS4-HMAC-SHA256 secret")
        .body(Bytes::from_static(body.as_bytes()))
        .unwrap();
    let mut wait = Operation::start(transport(), request)
        .with_protocol(Describe)
        .with_policy(fast())
        .build()
        .unwrap();
    assert_eq!(
        wait.next().await.unwrap().unwrap().status,
        JobState::InProgress
    );
    assert_eq!(
        wait.next().await.unwrap().unwrap().status,
        JobState::InProgress
    );
    let token = wait.resume_token().unwrap();
    drop(wait);
    let saved = token.request().unwrap().expect("the request to re-send");
    assert_eq!(saved.method(), http::Method::POST);
    assert!(
        !token.to_string().contains("secret")
            && saved
                .headers()
                .iter()
                .all(|(name, _)| name != "authorization"),
        "no credential in the token"
    );

    server.on(
        "/",
        vec![reply(200).json(r#"{"Table":{"TableStatus":"ACTIVE"}}"#)],
    );
    let token: ResumeToken = token.to_string().parse().unwrap();
    let outcome = Operation::resume(transport(), token)
        .with_protocol(Describe)
        .with_policy(fast())
        .build()
        .unwrap()
        .await
        .unwrap();
    assert_eq!(outcome.status().status, JobState::Completed);

    let seen = server.requests_to("/");
    assert_eq!(seen.len(), 3);
    for request in &seen {
        assert_eq!(request.method, http::Method::POST);
        assert_eq!(request.body.as_ref(), body.as_bytes());
        assert_eq!(request.query.as_deref(), Some("Action=DescribeTable"));
        assert_eq!(
            request.headers.get("x-amz-target").unwrap(),
            "DynamoDB_20120810.DescribeTable"
        );
    }
    assert!(seen[1].headers.contains_key("authorization"));
    assert!(
        !seen[2].headers.contains_key("authorization"),
        "the token does not carry the credential"
    );
}
