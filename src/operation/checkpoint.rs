//! The checkpoint hook: every new token handed to the caller's store before
//! the operation goes on.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::resume::ResumeToken;

/// Why a store could not keep a token: any error.
pub(super) type SaveError = Box<dyn std::error::Error + Send + Sync>;

/// A save on its way.
pub(super) type Saving = Pin<Box<dyn Future<Output = Result<(), SaveError>> + Send>>;

/// Where an operation keeps its newest [`ResumeToken`]: a file, a database
/// row, a workflow engine's state
/// ([`OperationBuilder::with_checkpoint`](crate::OperationBuilder::with_checkpoint)).
///
/// The operation hands it every new token — after the start request is
/// answered, after each poll (with the new monitor when it moved) — and
/// waits for the save before it goes on: a status is yielded once its token
/// is kept, so a process that dies at any point finds a token no older than
/// the last status it saw. No token is saved after the end (a terminal
/// status or an error): the outcome is the caller's to record.
///
/// What a failed save means is the store's choice: an `Err` ends the
/// operation with [`Error::GaveUp`](crate::Error::GaveUp) (cause
/// [`GaveUpCause::Checkpoint`](crate::GaveUpCause::Checkpoint)), which still carries the token
/// ([`Error::resume_token`](crate::Error::resume_token)); a store that would
/// rather go on reports the failure its own way and returns `Ok(())`.
///
/// A closure `Fn(&ResumeToken) -> Result<(), E>` is a store (a synchronous
/// one); implement the trait for an asynchronous one.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::sync::{Arc, Mutex};
/// use futures::StreamExt;
/// use lro_poller::{Checkpoint, Operation, ResumeToken};
/// use lro_poller::testing::{ScriptedTransport, VirtualTimer};
///
/// /// An asynchronous store (a database, say).
/// struct Row(Arc<Mutex<Option<String>>>);
///
/// #[lro_poller::async_trait]
/// impl Checkpoint for Row {
///     async fn save(&self, token: &ResumeToken) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
///         *self.0.lock().unwrap() = Some(token.to_string());
///         Ok(())
///     }
/// }
///
/// let row = Arc::new(Mutex::new(None));
/// let transport = ScriptedTransport::new()
///     .with_json(202, r#"{"status":"inProgress"}"#)
///     .with_json(200, r#"{"status":"completed"}"#);
/// let mut operation = Operation::monitor(transport, "https://api.example/monitor/1")
///     .with_checkpoint(Row(Arc::clone(&row)))
///     .with_timer(VirtualTimer::new())
///     .build()
///     .unwrap();
/// futures::executor::block_on(operation.next());
/// let kept: ResumeToken = row.lock().unwrap().as_deref().unwrap().parse().unwrap();
/// assert_eq!(kept.polls, 1);
///
/// // A closure is a synchronous store; this one goes on when a save fails.
/// let lenient = |token: &ResumeToken| -> Result<(), std::io::Error> {
///     if let Err(error) = std::fs::write("/nonexistent/dir/token", token.to_string()) {
///         eprintln!("token not saved: {error}");
///     }
///     Ok(())
/// };
/// let _ = Operation::monitor(ScriptedTransport::new(), "https://api.example/monitor/1")
///     .with_checkpoint(lenient);
/// # }
/// ```
#[async_trait::async_trait]
pub trait Checkpoint: Send + Sync {
    /// Keeps `token`, the operation's newest. An `Err` ends the operation
    /// (see the trait's documentation).
    async fn save(&self, token: &ResumeToken) -> Result<(), SaveError>;
}

#[async_trait::async_trait]
impl<F, E> Checkpoint for F
where
    F: Fn(&ResumeToken) -> Result<(), E> + Send + Sync,
    E: Into<SaveError>,
{
    async fn save(&self, token: &ResumeToken) -> Result<(), SaveError> {
        self(token).map_err(Into::into)
    }
}

/// The store, shared by the operation.
pub(super) type Store = Arc<dyn Checkpoint>;
