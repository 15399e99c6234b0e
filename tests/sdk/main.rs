//! Embedding in an SDK, written as an SDK author would: the SDK's own
//! operation type with no hand-forwarding, the new item fetched without a
//! protocol of its own, a wrapped built-in protocol that keeps its wrapper,
//! an infallible `copy`, and `Prefer: respond-async` only where the
//! protocol asks for it.

#[path = "../support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use futures::StreamExt;
use lro_poller::protocol::{Graph, Next, Polled, Protocol, ProtocolError};
use lro_poller::url::Url;
use lro_poller::{BuildError, Error, JobState, Mapped, Operation};

use support::{Server, TOKEN, auth, fast, reply, request, transport};

/// The SDK's own types.
mod drive {
    use super::*;

    /// A drive item.
    #[derive(Debug, PartialEq, serde::Deserialize)]
    pub struct DriveItem {
        pub id: String,
        pub name: String,
    }

    /// The SDK's error.
    #[derive(Debug)]
    pub enum DriveError {
        /// The copy failed at the service, with its code.
        Failed(String),
        /// Anything else.
        Other(String),
    }

    /// The SDK's copy: a `Stream` of percentages, awaited for the new item,
    /// with `resume_token` and `cancel` — a type alias, nothing forwarded.
    pub type CopyOperation = Mapped<DriveItem, DriveError, f64, DriveError>;

    /// The SDK's client.
    pub struct Drive {
        pub base: String,
    }

    fn convert(error: Error) -> DriveError {
        match error.job_status() {
            Some(status) => DriveError::Failed(status.failure_summary().unwrap_or_default()),
            None => DriveError::Other(error.to_string()),
        }
    }

    impl Drive {
        /// Copies `item`: cannot fail here; a bad setup is the first thing
        /// the copy yields.
        pub fn copy(&self, item: &str) -> CopyOperation {
            let url = format!("{}/v1.0/drive/items/{item}/copy", self.base);
            Operation::start(transport(), request("POST", &url, "{}"))
                .with_protocol(Graph::new().with_item_fetch())
                .with_policy(fast())
                .into_operation()
                .map_status(|status| status.percentage_complete.unwrap_or(0.0))
                .map_err(convert)
                .then(|end| async move {
                    let outcome = end?;
                    outcome
                        .json::<DriveItem>()
                        .map_err(|e| DriveError::Other(e.to_string()))
                })
        }
    }
}

#[tokio::test]
async fn an_sdk_copy_streams_its_progress_and_ends_with_the_new_item() {
    let server = Server::start().await;
    server.on(
        "/v1.0/drive/items/01A/copy",
        vec![reply(202).header("location", "/monitor/1")],
    );
    server.on(
        "/monitor/1",
        vec![
            reply(202).json(r#"{"status":"inProgress","percentageComplete":40}"#),
            reply(303).header("location", "/v1.0/drive/items/01NEW"),
        ],
    );
    server.on(
        "/v1.0/drive/items/01NEW",
        vec![reply(200).json(r#"{"id":"01NEW","name":"report (copy).docx"}"#)],
    );
    let drive = drive::Drive {
        base: server.base().to_owned(),
    };
    let mut copy: drive::CopyOperation = drive.copy("01A");
    assert_eq!(copy.next().await.unwrap().unwrap(), 40.0);
    let token = copy.resume_token().expect("a token while it runs");
    assert_eq!(token.protocol.name(), "graph");
    let item = copy.await.unwrap();
    assert_eq!(
        item,
        drive::DriveItem {
            id: "01NEW".into(),
            name: "report (copy).docx".into()
        }
    );
    // The item was fetched with the caller's credentials (same origin); the
    // monitor was polled without them.
    let fetched = server.requests_to("/v1.0/drive/items/01NEW");
    assert_eq!(fetched.len(), 1);
    assert_eq!(auth(&fetched[0]).as_deref(), Some(TOKEN));
    assert!(
        server
            .requests_to("/monitor/1")
            .iter()
            .all(|s| auth(s).is_none())
    );
}

#[tokio::test]
async fn an_sdk_copy_that_cannot_be_built_fails_at_its_first_poll_and_when_awaited() {
    let server = Server::start().await;
    let drive = drive::Drive {
        base: "ftp://files.example".into(),
    };
    let mut copy = drive.copy("01A");
    match copy.next().await {
        Some(Err(drive::DriveError::Other(message))) => {
            assert!(message.contains("scheme `ftp`"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(copy.next().await.is_none());
    let again = drive.copy("01B");
    assert!(matches!(again.await, Err(drive::DriveError::Other(_))));
    assert!(server.requests().is_empty());
    // The same error, typed, from the fallible `build`.
    let built = Operation::monitor(transport(), "ftp://files.example/m").build();
    assert!(matches!(built, Err(BuildError::UnsupportedScheme { .. })));
}

/// A protocol that wraps Graph and counts the answers it reads.
#[derive(Debug, Clone)]
struct Counted {
    inner: Graph,
    polls: Arc<AtomicUsize>,
}

impl Protocol for Counted {
    fn name(&self) -> &'static str {
        "counted-graph"
    }
    fn prefers_respond_async(&self) -> bool {
        self.inner.prefers_respond_async()
    }
    fn read_start(
        &self,
        request: &http::Request<Bytes>,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Next, ProtocolError> {
        self.inner.read_start(request, url, response)
    }
    fn wants_credentials(&self, kind: lro_poller::RequestKind) -> bool {
        self.inner.wants_credentials(kind)
    }
    fn read_poll(
        &self,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Polled, ProtocolError> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        self.inner.read_poll(url, response)
    }
}

#[tokio::test]
async fn a_wrapped_built_in_protocol_keeps_its_wrapper_for_every_poll() {
    let server = Server::start().await;
    server.on("/copy", vec![reply(202).header("location", "/monitor/w")]);
    server.on(
        "/monitor/w",
        vec![
            reply(202).json(r#"{"status":"inProgress"}"#),
            reply(202).json(r#"{"status":"inProgress"}"#),
            reply(200).json(r#"{"status":"completed","resourceId":"01W"}"#),
        ],
    );
    let polls = Arc::new(AtomicUsize::new(0));
    let protocol = Counted {
        inner: Graph::new(),
        polls: Arc::clone(&polls),
    };
    let mut operation = Operation::start(transport(), request("POST", &server.url("/copy"), "{}"))
        .with_protocol(protocol)
        .with_policy(fast())
        .build()
        .unwrap();
    let mut states = Vec::new();
    while let Some(status) = operation.next().await {
        states.push(status.unwrap().status);
    }
    assert_eq!(operation.protocol(), "counted-graph");
    assert_eq!(
        polls.load(Ordering::SeqCst),
        3,
        "the wrapper read every poll"
    );
    assert_eq!(states.last(), Some(&JobState::Completed));
}

/// A protocol of the SDK's own that says nothing about `Prefer`.
#[derive(Debug)]
struct Quiet;

impl Protocol for Quiet {
    fn name(&self) -> &'static str {
        "quiet"
    }
    fn read_poll(
        &self,
        _url: &Url,
        _response: &http::Response<Bytes>,
    ) -> Result<Polled, ProtocolError> {
        Ok(Polled::ReadFailure)
    }
}

#[tokio::test]
async fn only_a_protocol_that_asks_sends_prefer_respond_async() {
    let server = Server::start().await;
    server.on("/sync", vec![reply(200).json(r#"{"id":"1"}"#)]);
    let quiet = Operation::start(transport(), request("PUT", &server.url("/sync"), "{}"))
        .with_protocol(Quiet)
        .with_policy(fast())
        .build()
        .unwrap();
    quiet.await.unwrap();
    let graph = Operation::start(transport(), request("PUT", &server.url("/sync"), "{}"))
        .with_protocol(Graph::new())
        .with_policy(fast())
        .build()
        .unwrap();
    graph.await.unwrap();
    let seen = server.requests_to("/sync");
    assert_eq!(seen.len(), 2);
    assert!(
        seen[0].headers.get("prefer").is_none(),
        "the custom protocol did not ask"
    );
    assert_eq!(seen[1].headers["prefer"], "respond-async");
}

#[tokio::test]
async fn a_failed_sdk_copy_ends_with_the_services_code_in_the_sdks_error() {
    let server = Server::start().await;
    server.on(
        "/v1.0/drive/items/01F/copy",
        vec![reply(202).header("location", "/monitor/f")],
    );
    server.on(
        "/monitor/f",
        vec![reply(200).json(r#"{"status":"failed","error":{"code":"nameAlreadyExists"}}"#)],
    );
    let drive = drive::Drive {
        base: server.base().to_owned(),
    };
    match drive.copy("01F").await {
        Err(drive::DriveError::Failed(code)) => assert_eq!(code, "nameAlreadyExists"),
        other => panic!("{other:?}"),
    }
}
