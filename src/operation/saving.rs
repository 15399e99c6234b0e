//! Saving each new token before the operation goes on: the state that waits
//! behind the caller's [`Checkpoint`](super::checkpoint::Checkpoint).

use std::task::{Context, Poll, ready};

use crate::error::GaveUpCause;

use super::checkpoint::Saving;
use super::core::{Operation, State};

impl Operation {
    /// Begins saving the newest token, if there is a store, the operation
    /// goes on and it has a token: the state waits behind the save.
    /// `yield_status`: a status is yielded once it is kept. Returns whether
    /// a save began.
    pub(super) fn begin_checkpoint(&mut self, yield_status: bool) -> bool {
        let Some(store) = self.checkpoint().cloned() else {
            return false;
        };
        if matches!(self.state(), State::Done | State::Failing(_)) {
            return false;
        }
        let Some(token) = self.resume_token() else {
            return false;
        };
        let save: Saving = Box::pin(async move { store.save(&token).await });
        let then = self.set_state(State::Done);
        self.set_state(State::Saving {
            save,
            then: Box::new(then),
            yield_status,
        });
        true
    }

    /// Drives a save: once it is done, the operation goes on (`Some(true)`:
    /// with a status to yield); a failed save ends it.
    pub(super) fn poll_checkpoint(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        let State::Saving { save, .. } = self.state_mut() else {
            return Poll::Ready(false);
        };
        let saved = ready!(save.as_mut().poll(cx));
        let State::Saving {
            then, yield_status, ..
        } = self.set_state(State::Done)
        else {
            return Poll::Ready(false);
        };
        match saved {
            Ok(()) => {
                self.set_state(*then);
                Poll::Ready(yield_status)
            }
            Err(error) => {
                // The token the store refused, due time and all.
                self.set_state(*then);
                let failed = self.gave_up(
                    GaveUpCause::Checkpoint(error.to_string().into()),
                    self.elapsed(),
                );
                self.fail(failed);
                Poll::Ready(false)
            }
        }
    }
}
