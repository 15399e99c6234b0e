//! Resume tokens: an operation that outlives the process.
//!
//! [`Operation::resume_token`](crate::Operation::resume_token) captures what is
//! needed to go on polling elsewhere — the protocol and its settings, the
//! monitor URL, the origin of the start request, the wall-clock start time (so
//! a deadline keeps counting across a resume), the polls so far, when the
//! next poll is due and the backoff's running state (its schedule).
//! [`Operation::resume`](crate::Operation::resume) continues from it, waiting
//! until the next poll is due: resuming is indistinguishable from never
//! stopping. [`OperationBuilder::with_checkpoint`](crate::OperationBuilder::with_checkpoint)
//! hands every new token to the caller's store.
//!
//! A token has a compact string form, `lro1.<base64url JSON>`, and is also
//! serde-serializable. Tokens are versioned: a token from a newer version of
//! the crate is refused with a clear error.
//!
//! **A token can hold a secret**: a monitor URL may carry a credential in its
//! query (`…?tempauth=…`). Store tokens as you would store that credential.
//! The token's `Debug` output redacts the URLs; its string form does not (it
//! could not be resumed otherwise).

mod error;
mod saved;
mod schedule;
mod token;

pub use error::TokenError;
pub use saved::SavedProtocol;
pub(crate) use saved::SavedRequest;
pub(crate) use schedule::SavedSchedule;
pub use token::ResumeToken;
pub(crate) use token::{from_ms, to_ms};
