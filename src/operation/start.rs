//! The start request: the caller's request waiting to be sent (or sent
//! again), sending it, and letting the protocol read its answer
//! ([`Protocol::read_start`]).

use bytes::Bytes;

use crate::error::{Error, RequestError};
use crate::origin::redact;
use crate::protocol::{ProtocolError, Route};
use crate::transport::{RequestKind, TransportError};

use super::core::{Operation, State};
use super::flight::InFlight;
use super::start_request::PendingStart;

impl Operation {
    pub(super) fn send_start(&mut self, start: Box<PendingStart>) {
        let (request, setup) = start.send(self.family().prefers_respond_async());
        let flight = InFlight::send(self.transport(), request);
        self.set_state(State::Starting {
            flight,
            setup: Box::new(setup),
        });
    }

    /// Reads the start response; returns whether there is a status to yield.
    pub(super) fn on_start(
        &mut self,
        answer: Result<http::Response<Bytes>, TransportError>,
        request: http::Request<Bytes>,
    ) -> bool {
        let response = match answer {
            Ok(response) => response,
            Err(source) => {
                let error = RequestError::transport(
                    RequestKind::Start,
                    redact(self.watch().origin()),
                    source,
                );
                self.fail(Error::Request(Box::new(error)));
                return false;
            }
        };
        let origin = self.watch().origin().clone();
        let started = match self.family().read_start(&request, &origin, &response) {
            Ok(started) => started,
            Err(error) => {
                self.fail(error.into());
                return false;
            }
        };
        let retry_after = self.retry_after(&response);
        let (next, first, protocol) = started.into_parts();
        if let Some(protocol) = protocol {
            self.set_family(protocol);
        }
        #[cfg(feature = "tracing")]
        self.span().record("protocol", self.family().name());
        let monitor = match next {
            Route::Refused => {
                let error = RequestError::answer(
                    RequestKind::Start,
                    redact(&origin),
                    response.status(),
                    response.body(),
                );
                self.fail(Error::Request(Box::new(error)));
                return false;
            }
            Route::Done(reading) => {
                if !reading.status.status.is_terminal() {
                    self.fail(Error::from(ProtocolError::with_parts(
                        format!(
                            "protocol `{}` said the job was over with the running status `{}`",
                            self.family().name(),
                            reading.status.status
                        ),
                        Some(response.status()),
                        Some(redact(&origin)),
                        response.body(),
                    )));
                    return false;
                }
                self.on_reading(reading, response, None);
                return true;
            }
            Route::Poll(monitor) => monitor,
            Route::Resend => {
                self.watch_mut().0.resend_with(request);
                origin
            }
        };
        #[cfg(feature = "tracing")]
        {
            self.span()
                .record("monitor", tracing::field::display(redact(&monitor)));
            tracing::debug!(parent: self.span(), retry_after = ?retry_after, "started");
        }
        if monitor != *self.watch().url() {
            if let Err(error) = self.watch().follow(&monitor) {
                self.fail(error);
                return false;
            }
            let (watch, protocol) = self.watch_mut();
            watch.move_to(monitor, protocol);
        }
        let has_status = first.is_some();
        if let Some(mut reading) = first {
            Operation::attach(&mut reading, response);
            *self.last_status_mut() = Some(reading.status);
        }
        self.start_polling(retry_after);
        has_status
    }
}
