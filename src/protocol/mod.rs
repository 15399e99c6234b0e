//! What the service's answers mean: the start, each poll, the saved state.
//!
//! The flow, and the words for it: **start → poll → read → next**. A
//! [`Protocol`] owns the conversation with one family of services. It reads
//! the answer to the start request ([`Protocol::read_start`] → a [`Next`]: done
//! now, poll a monitor, poll by re-sending the request, or refused), builds
//! each poll ([`Protocol::poll_request`], any method), reads each poll's
//! answer ([`Protocol::read_poll`] → [`Polled::Status`] with a [`Reading`] —
//! what one answer says — or [`Polled::ReadFailure`], a failure to read the
//! status that the [`ErrorPolicy`](crate::policy::ErrorPolicy) judges), says
//! whether the start asks for `Prefer: respond-async`
//! ([`Protocol::prefers_respond_async`]), saves and restores its own state for resume tokens
//! ([`Protocol::save`], [`Protocol::restore`]) and says how to cancel
//! ([`Protocol::cancel_requests`]). Protocols own no timing and do no I/O;
//! the [`Operation`](crate::Operation) state machine does both.
//!
//! The families:
//! - [`Auto`] (the default): tells the family from the start answer, or reads
//!   a monitor of unknown family;
//! - [`Graph`]: the OneDrive / Microsoft Graph `asyncJobStatus` monitor;
//! - [`Azure`]: `Azure-AsyncOperation`, `Operation-Location`, `Location` and
//!   body polling on `provisioningState`, with [`FinalStateVia`];
//! - [`Google`]: AIP-151 `google.longrunning.Operation`.
//!
//! They use nothing a protocol of your own cannot: the trait, [`Next`] (and
//! [`Next::from_headers`], the default reading of a start answer),
//! [`Reading`], [`Polled`], [`ProtocolError::malformed`] and
//! [`SavedProtocol`]. A protocol that wraps a built-in one keeps reading
//! every poll: only detection ([`Auto`]) switches protocols after the start.
//!
//! # Writing a protocol
//!
//! Say a storage service copies a blob in the background: the start (`PUT`)
//! answers a bare `202 Accepted`, and the copy's state lives in the headers
//! of the blob's own URL — `x-copy-status: pending|success|failed|aborted`
//! and `x-copy-progress: <bytes>/<total>` — read with `HEAD`. No monitor
//! URL, no body: nothing a built-in family understands. Four methods make it
//! a family of the crate:
//!
//! 1. **[`read_start`](Protocol::read_start)** reads the start answer: here a `202`
//!    means "poll the blob's own URL" ([`Next::poll`]); an error answer is
//!    [`Next::refused`] (the operation ends with the service's error). Other
//!    families say [`Next::done`] (a synchronous answer), [`Next::resend`]
//!    (poll by re-sending the request), or carry a first status and go on with
//!    another protocol ([`Next::with_status`], [`Next::with_protocol`]).
//! 2. **[`poll_request`](Protocol::poll_request)** builds each poll: a `HEAD`.
//! 3. **[`read_poll`](Protocol::read_poll)** reads each answer into an
//!    [`AsyncJobStatus`](crate::AsyncJobStatus) (the state decides the end: `completed` succeeds,
//!    `failed`/`cancelled` fail with the status as [`Error::Failed`](crate::Error::Failed)),
//!    attaches typed [details](Reading::with_details) for the caller,
//!    answers [`Polled::ReadFailure`] for an error status (retried per the
//!    error policy) and [`ProtocolError::malformed`] for an answer it cannot read.
//! 4. **[`save`](Protocol::save) / [`restore`](Protocol::restore)** make it
//!    resumable: the token records the name and the saved state; resuming
//!    hands the state back to the protocol the caller passes with
//!    [`OperationBuilder::with_protocol`](crate::OperationBuilder::with_protocol).
//!
//! ```
//! # #[cfg(feature = "test-util")] {
//! use futures::StreamExt;
//! use lro_poller::protocol::{Reading, Protocol, ProtocolError, Polled, Next};
//! use lro_poller::TokenError;
//! use lro_poller::{AsyncJobStatus, Error, JobState, Operation, bytes::Bytes};
//! use lro_poller::protocol::SavedProtocol;
//! use lro_poller::url::Url;
//! use lro_poller::testing::{ScriptedTransport, VirtualTimer};
//!
//! /// What the caller can read from each status: bytes copied of how many.
//! #[derive(Debug, Clone, Copy, PartialEq)]
//! pub struct CopyProgress { pub copied: u64, pub total: u64 }
//!
//! #[derive(Debug, Clone)]
//! struct BlobCopy;
//!
//! impl Protocol for BlobCopy {
//!     fn name(&self) -> &'static str { "blob-copy" }
//!
//!     fn read_start(&self, _request: &http::Request<Bytes>, url: &Url, response: &http::Response<Bytes>)
//!         -> Result<Next, ProtocolError> {
//!         match response.status().as_u16() {
//!             202 => Ok(Next::poll(url.clone())), // the blob's own URL
//!             400..=599 => Ok(Next::refused()),
//!             _ => Err(ProtocolError::malformed("expected 202 Accepted", url, response)),
//!         }
//!     }
//!
//!     fn poll_request(&self, monitor: &Url) -> http::Request<Bytes> {
//!         http::Request::head(monitor.as_str()).body(Bytes::new()).unwrap()
//!     }
//!
//!     fn read_poll(&self, url: &Url, response: &http::Response<Bytes>) -> Result<Polled, ProtocolError> {
//!         if !response.status().is_success() {
//!             return Ok(Polled::ReadFailure);
//!         }
//!         let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok());
//!         let state = match header("x-copy-status") {
//!             Some("pending") => JobState::InProgress,
//!             Some("success") => JobState::Completed,
//!             Some("failed") => JobState::Failed,
//!             Some("aborted") => JobState::Cancelled,
//!             _ => return Err(ProtocolError::malformed("no usable x-copy-status", url, response)),
//!         };
//!         let mut status = AsyncJobStatus::new(state);
//!         let progress = header("x-copy-progress")
//!             .and_then(|p| p.split_once('/'))
//!             .and_then(|(c, t)| Some(CopyProgress { copied: c.parse().ok()?, total: t.parse().ok()? }));
//!         if let Some(p) = progress.filter(|p| p.total > 0 && p.copied <= p.total) {
//!             status = status.with_percentage(100.0 * p.copied as f64 / p.total as f64);
//!         }
//!         let reading = Reading::new(status);
//!         Ok(Polled::Status(match progress {
//!             Some(progress) => reading.with_details(progress),
//!             None => reading,
//!         }))
//!     }
//!
//!     fn save(&self) -> Option<SavedProtocol> { Some(SavedProtocol::new(self.name())) }
//!
//!     fn restore(&self, _saved: &SavedProtocol) -> Result<Box<dyn Protocol>, TokenError> {
//!         Ok(Box::new(BlobCopy))
//!     }
//! }
//!
//! # futures::executor::block_on(async {
//! let transport = ScriptedTransport::new();
//! transport.push_response(202, &[], "");
//! transport.push_response(200, &[("x-copy-status", "pending"), ("x-copy-progress", "1024/4096")], "");
//! transport.push_response(200, &[("x-copy-status", "success"), ("x-copy-progress", "4096/4096")], "");
//! let request = http::Request::put("https://blobs.example/photos/cat.jpg")
//!     .header("x-copy-source", "https://blobs.example/inbox/cat.jpg")
//!     .body(Bytes::new()).unwrap();
//! let mut copy = Operation::start(transport.clone(), request)
//!     .with_protocol(BlobCopy)
//!     .with_timer(VirtualTimer::new())
//!     .build()?;
//! let first = copy.next().await.unwrap()?;
//! assert_eq!(first.percentage_complete, Some(25.0));
//! assert_eq!(first.details::<CopyProgress>(), Some(&CopyProgress { copied: 1024, total: 4096 }));
//! assert_eq!(first.answer().unwrap().header("x-copy-status"), Some("pending"));
//! let token = copy.resume_token().unwrap();      // `lro1.…`: store it, resume later
//! assert_eq!(token.protocol.name(), "blob-copy");
//! let outcome = copy.await?;
//! assert_eq!(outcome.status().status, JobState::Completed);
//! assert_eq!(transport.requests()[1].method, http::Method::HEAD);
//! # Ok::<(), Error>(())
//! # }).unwrap();
//! # }
//! ```
//!
//! `examples/header_status.rs` runs this protocol against a loopback server,
//! and `examples/custom_resume.rs` stops an operation, writes its token and
//! finishes the job from it in a second operation.

mod auto;
mod azure;
mod azure_modes;
mod google;
mod graph;
mod provisioning;
mod read;
mod reading;
mod seam;

use std::fmt;

use url::Url;

pub use crate::protocol_error::ProtocolError;
pub use crate::resume::SavedProtocol;
pub use auto::Auto;
pub use azure::Azure;
pub use azure_modes::{AzureMode, FinalStateVia};
pub use google::{Google, OperationDetails};
pub use graph::Graph;
pub(crate) use read::get_json;
pub(crate) use reading::ResultSource;
pub use reading::{Polled, Reading};
pub(crate) use seam::Route;
pub use seam::{Next, Protocol};

use crate::build_error::BuildError;

/// The protocol a resume token's `saved` state stands for: the first of
/// `protocols` (the caller's) with the saved name, else the built-in family of
/// that name, restored from the state ([`Protocol::restore`]). A name nobody
/// knows is [`BuildError::UnknownProtocol`].
pub(crate) fn restore(
    saved: &SavedProtocol,
    protocols: &[Box<dyn Protocol>],
) -> Result<Box<dyn Protocol>, BuildError> {
    if let Some(protocol) = protocols.iter().find(|p| p.name() == saved.name()) {
        return Ok(protocol.restore(saved)?);
    }
    Ok(match saved.name() {
        "graph" => Graph::new().restore(saved)?,
        "auto" => Auto::new().restore(saved)?,
        "google" => Google.restore(saved)?,
        "azure" => Azure::from_saved(saved)?,
        name => {
            let mut known: Vec<&'static str> = protocols.iter().map(|p| p.name()).collect();
            known.extend(["graph", "azure", "google", "auto"]);
            return Err(BuildError::UnknownProtocol {
                name: name.to_owned(),
                known,
            });
        }
    })
}

/// Which protocol family to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ProtocolKind {
    /// Detect it. From a start response: `Azure-AsyncOperation` or
    /// `Operation-Location` → Azure; a body that is a Google `Operation` →
    /// Google; `202` + `Location` → Azure's Location pattern when the response
    /// carries ARM's `x-ms-request-id` or `x-ms-correlation-request-id`, else
    /// Graph; a `PUT`/`PATCH` answered `200`/`201` with a running
    /// `properties.provisioningState` → Azure body polling; any other `2xx` → a
    /// completed operation. For a monitor URL: [`Auto`].
    #[default]
    Auto,
    /// [`Graph`].
    Graph,
    /// [`Azure`].
    Azure,
    /// [`Google`].
    Google,
}

impl ProtocolKind {
    /// The name (`"auto"`, `"graph"`, `"azure"`, `"google"`).
    pub fn as_str(&self) -> &'static str {
        match self {
            ProtocolKind::Auto => "auto",
            ProtocolKind::Graph => "graph",
            ProtocolKind::Azure => "azure",
            ProtocolKind::Google => "google",
        }
    }

    /// The protocol that reads the start answer: [`Auto`] (with
    /// `final_state`), [`Auto::azure_only`], [`Graph`] or [`Google`];
    /// `final_state` applies to a detected Azure operation.
    pub fn for_start(&self, final_state: Option<FinalStateVia>) -> Box<dyn Protocol> {
        let detect = |detect: Auto| match final_state {
            Some(via) => detect.with_final_state_via(via),
            None => detect,
        };
        match (self, final_state) {
            (ProtocolKind::Auto, _) => Box::new(detect(Auto::new())),
            (ProtocolKind::Azure, _) => Box::new(detect(Auto::new().azure_only())),
            (ProtocolKind::Graph, _) => Box::new(Graph::new()),
            (ProtocolKind::Google, _) => Box::new(Google),
        }
    }

    /// The protocol that reads answers of a monitor URL given directly.
    /// Azure's status monitors speak the same language as Graph's for this
    /// purpose (the vocabularies are merged in [`crate::JobState`]), but
    /// request credentials on polls.
    pub fn for_monitor(&self, monitor: &Url) -> Box<dyn Protocol> {
        match self {
            ProtocolKind::Auto => Box::new(Auto::new()),
            ProtocolKind::Graph => Box::new(Graph::new()),
            ProtocolKind::Azure => Box::new(Azure::new(
                AzureMode::AsyncOperation,
                FinalStateVia::AzureAsyncOperation,
                monitor.clone(),
                None,
            )),
            ProtocolKind::Google => Box::new(Google),
        }
    }
}

impl fmt::Display for ProtocolKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ProtocolKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(ProtocolKind::Auto),
            "graph" | "onedrive" => Ok(ProtocolKind::Graph),
            "azure" => Ok(ProtocolKind::Azure),
            "google" => Ok(ProtocolKind::Google),
            other => Err(format!(
                "unknown protocol `{other}` (expected auto, graph, azure or google)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resume::TokenError;

    #[derive(Debug)]
    struct Mine(&'static str);

    impl Protocol for Mine {
        fn name(&self) -> &'static str {
            self.0
        }
        fn read_poll(
            &self,
            _url: &Url,
            _response: &http::Response<bytes::Bytes>,
        ) -> Result<Polled, ProtocolError> {
            Ok(Polled::ReadFailure)
        }
        fn restore(&self, saved: &SavedProtocol) -> Result<Box<dyn Protocol>, TokenError> {
            assert_eq!(saved.state()["v"], 1);
            Ok(Box::new(Mine("restored")))
        }
    }

    #[test]
    fn restore_prefers_the_callers_protocols_then_the_built_ins() {
        let mine: Vec<Box<dyn Protocol>> = vec![Box::new(Mine("graph")), Box::new(Mine("mine"))];
        let saved = SavedProtocol::new("mine").with("v", 1);
        assert_eq!(restore(&saved, &mine).unwrap().name(), "restored");
        // A caller's protocol may take a built-in name.
        let graph = SavedProtocol::new("graph").with("v", 1);
        assert_eq!(restore(&graph, &mine).unwrap().name(), "restored");
        for name in ["graph", "auto", "google"] {
            assert_eq!(
                restore(&SavedProtocol::new(name), &[]).unwrap().name(),
                name
            );
        }
        let error = restore(&SavedProtocol::new("azure"), &[]).unwrap_err();
        assert!(matches!(error, BuildError::InvalidToken(_)), "{error}");
        let error = restore(&SavedProtocol::new("blob"), &mine).unwrap_err();
        let BuildError::UnknownProtocol { name, known } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(name, "blob");
        assert_eq!(
            known,
            &["graph", "mine", "graph", "azure", "google", "auto"]
        );
        assert!(!crate::Error::from(error).job_may_still_run());
    }

    #[test]
    fn a_protocol_that_does_not_save_itself_cannot_be_restored() {
        #[derive(Debug)]
        struct Plain;
        impl Protocol for Plain {
            fn name(&self) -> &'static str {
                "plain"
            }
            fn read_poll(
                &self,
                _url: &Url,
                _response: &http::Response<bytes::Bytes>,
            ) -> Result<Polled, ProtocolError> {
                Ok(Polled::ReadFailure)
            }
        }
        assert!(Plain.save().is_none());
        let boxed: Box<dyn Protocol> = Box::new(Plain);
        let error = boxed.restore(&SavedProtocol::new("plain")).unwrap_err();
        assert!(error.to_string().contains("`plain`"), "{error}");
        assert!(
            boxed
                .cancel_requests(&Url::parse("https://a.example/").unwrap())
                .is_empty()
        );
        assert!(boxed.wants_credentials(crate::RequestKind::Poll));
    }

    #[test]
    fn a_boxed_protocol_answers_as_the_protocol_inside() {
        let url = Url::parse("https://a.example/operations/1").unwrap();
        let graph: Box<dyn Protocol> = Box::new(Graph::new());
        assert!(!graph.wants_credentials(crate::RequestKind::Poll));
        assert!(graph.wants_credentials(crate::RequestKind::Start));
        let google: Box<Box<dyn Protocol>> = Box::new(Box::new(Google));
        assert_eq!(google.name(), "google");
        assert_eq!(google.cancel_requests(&url).len(), 1);
        assert_eq!(google.poll_request(&url).method(), http::Method::GET);
        assert_eq!(google.save().unwrap().name(), "google");
        assert_eq!(
            google
                .restore(&SavedProtocol::new("google"))
                .unwrap()
                .name(),
            "google"
        );
    }

    #[test]
    fn kinds_make_their_protocols() {
        for (kind, start, monitor) in [
            (ProtocolKind::Auto, "auto", "auto"),
            (ProtocolKind::Azure, "auto", "azure"),
            (ProtocolKind::Graph, "graph", "graph"),
            (ProtocolKind::Google, "google", "google"),
        ] {
            assert_eq!(kind.for_start(None).name(), start);
            let url = Url::parse("https://a.example/m").unwrap();
            assert_eq!(kind.for_monitor(&url).name(), monitor);
            assert_eq!(kind.as_str().parse::<ProtocolKind>().unwrap(), kind);
        }
    }
}
