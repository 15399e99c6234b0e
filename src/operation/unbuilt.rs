//! An operation that could not be built, made anyway: its build error is
//! the first thing it yields and what it ends with (the way reqwest defers a
//! request builder's error to `send`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use url::Url;

use crate::build_error::BuildError;
use crate::error::Error;
use crate::origin::UrlPolicy;
use crate::policy::{ErrorPolicy, PollPolicy};
use crate::protocol::{Polled, Protocol, ProtocolError};
use crate::timer::{Sleep, Timer};
use crate::transport::Transport;

use super::clock::Clock;
use super::core::{End, Operation, State};
use super::monitor::Monitor;
use super::schedule::Schedule;

/// The protocol of an operation that was never built: it reads nothing,
/// saves nothing (no resume token) and cancels nothing.
#[derive(Debug)]
struct Unbuilt;

impl Protocol for Unbuilt {
    fn name(&self) -> &'static str {
        "unbuilt"
    }

    fn read_poll(
        &self,
        url: &Url,
        _response: &http::Response<Bytes>,
    ) -> Result<Polled, ProtocolError> {
        Err(ProtocolError::new("the operation was not built").with_url(url))
    }
}

impl Timer for Unbuilt {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, _duration: Duration) -> Sleep {
        Box::pin(futures::future::pending())
    }
}

impl Operation {
    /// An operation that ends with `error` before it sends anything.
    pub(super) fn unbuilt(transport: Arc<dyn Transport>, error: BuildError) -> Operation {
        let error = Error::from(error);
        let timer: Arc<dyn Timer> = Arc::new(Unbuilt);
        let protocol: Box<dyn Protocol> = Box::new(Unbuilt);
        let monitor = Url::parse("about:blank").expect("a constant, valid URL");
        let monitor = Monitor::new(monitor, None, UrlPolicy::default(), None, &*protocol);
        let schedule = Schedule::new(&PollPolicy::default(), ErrorPolicy::default(), 0, false);
        let mut operation = Operation::assemble(
            transport,
            protocol,
            Clock::new(timer, Duration::ZERO),
            schedule,
            monitor,
            None,
        );
        operation.set_end(End::Failed(error.clone()));
        operation.set_state(State::Failing(Box::new(error)));
        operation
    }
}
