//! Sending the caller's start request and letting the protocol read its
//! answer ([`Protocol::read_start`]).

use bytes::Bytes;

use crate::error::{Error, RequestError};
use crate::origin::redact;
use crate::protocol::Protocol;
use crate::protocol::ProtocolError;
use crate::transport::{RequestKind, RequestMeta, TransportError};

use super::core::{Operation, PendingStart, StartSetup, State};
use crate::protocol::Route;

/// `Prefer: respond-async`, added to a start request that has no `Prefer`
/// when the protocol asks for it.
const RESPOND_ASYNC: http::HeaderValue = http::HeaderValue::from_static("respond-async");

impl Operation {
    pub(super) fn send_start(&mut self, start: Box<PendingStart>) {
        let PendingStart {
            mut request,
            retry,
            notice,
        } = *start;
        if self.protocol.prefers_respond_async() && !request.headers().contains_key("prefer") {
            request.headers_mut().insert("prefer", RESPOND_ASYNC);
        }
        let may_repeat = retry.allows(&request);
        let kept = request.clone();
        request
            .extensions_mut()
            .insert(RequestMeta::new(RequestKind::Start, true, true));
        self.state = State::Starting {
            flight: self.in_flight(request),
            setup: Box::new(StartSetup {
                request: kept,
                may_repeat,
                retry,
                notice,
            }),
        };
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
                let error =
                    RequestError::transport(RequestKind::Start, redact(self.origin()), source);
                self.fail(Error::Request(Box::new(error)));
                return false;
            }
        };
        let origin = self.origin().clone();
        let started = match self.protocol.read_start(&request, &origin, &response) {
            Ok(started) => started,
            Err(error) => {
                self.fail(error.into());
                return false;
            }
        };
        let retry_after = self.retry_after(&response);
        let (next, first, protocol) = started.into_parts();
        if let Some(protocol) = protocol {
            self.protocol = protocol;
        }
        #[cfg(feature = "tracing")]
        self.span.record("protocol", self.protocol.name());
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
                            self.protocol.name(),
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
                self.extra_mut().resend = Some(request);
                origin
            }
        };
        #[cfg(feature = "tracing")]
        {
            self.span
                .record("monitor", tracing::field::display(redact(&monitor)));
            tracing::debug!(parent: &self.span, retry_after = ?retry_after, "started");
        }
        if monitor != self.monitor {
            if let Err(error) = self.follow(&monitor) {
                self.fail(error);
                return false;
            }
            self.set_monitor(monitor);
        }
        let has_status = first.is_some();
        if let Some(mut reading) = first {
            Operation::attach(&mut reading, response);
            self.last_status = Some(reading.status);
        }
        self.start_polling(retry_after);
        has_status
    }
}
