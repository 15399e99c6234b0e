//! An operation that could not be built, made anyway: its build error is
//! the first thing it yields and what it ends with (the way reqwest defers a
//! request builder's error to `send`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use url::Url;

use crate::build_error::BuildError;
use crate::error::Error;
use crate::protocol::{Polled, Protocol, ProtocolError};
use crate::timer::{Sleep, Timer};
use crate::transport::{RequestKind, RequestMeta, Transport};

use super::core::{End, Operation, State};

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
        Operation {
            transport,
            protocol: Box::new(Unbuilt),
            started: timer.now(),
            carried: Duration::ZERO,
            polls: 0,
            #[cfg(feature = "tracing")]
            span: tracing::Span::none(),
            timer,
            pacer: crate::policy::PollPolicy::default().start(),
            origin: None,
            extra: None,
            monitor: Url::parse("about:blank").expect("a constant, valid URL"),
            url_changes: 0,
            poll_meta: RequestMeta::new(RequestKind::Poll, false, false),
            failures: 0,
            previous_delay: None,
            last_status: None,
            from_job_start: false,
            start: None,
            end: Some(Box::new(End::Failed(error.clone()))),
            state: State::Failing(Box::new(error)),
        }
    }
}
