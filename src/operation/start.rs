//! Sending the caller's start request and reading its answer.

use super::*;

/// The caller's initial request, not sent yet.
pub(super) struct PendingStart {
    pub(super) request: http::Request<Bytes>,
    pub(super) choice: Choice,
    pub(super) final_state: Option<FinalStateVia>,
    pub(super) retry: StartRetry,
    /// Why this is a retry, when it is one.
    pub(super) notice: Option<Box<StartRetryNotice>>,
}

/// What reading the start response needs.
pub(super) struct StartSetup {
    pub(super) method: http::Method,
    pub(super) choice: Choice,
    pub(super) final_state: Option<FinalStateVia>,
    /// A copy of the request to send again, when the retry rule allows it.
    pub(super) replay: Option<http::Request<Bytes>>,
    pub(super) retry: StartRetry,
    pub(super) notice: Option<Box<StartRetryNotice>>,
}

impl Operation {
    pub(super) fn send_start(&mut self, start: Box<PendingStart>) {
        let PendingStart {
            mut request,
            choice,
            final_state,
            retry,
            notice,
        } = *start;
        let replay = retry.allows(&request).then(|| request.clone());
        request
            .extensions_mut()
            .insert(RequestMeta::new(RequestKind::Start, true, true));
        let method = request.method().clone();
        self.state = State::Starting {
            flight: self.in_flight(request),
            setup: Box::new(StartSetup {
                method,
                choice,
                final_state,
                replay,
                retry,
                notice,
            }),
        };
    }

    /// Reads the start response; returns a status to yield, if any.
    pub(super) fn on_start(
        &mut self,
        answer: Result<http::Response<Bytes>, TransportError>,
        method: &http::Method,
        choice: Choice,
        final_state: Option<FinalStateVia>,
    ) -> bool {
        let response = match answer {
            Ok(response) => response,
            Err(source) => {
                self.fail(Error::Transport {
                    kind: RequestKind::Start,
                    attempts: 1,
                    source,
                    resume: None,
                });
                return false;
            }
        };
        let code = response.status();
        if code.is_client_error() || code.is_server_error() {
            let error = HttpError::new(
                code,
                RequestKind::Start,
                redact(self.origin()),
                response.body(),
            );
            self.fail(Error::Http(Box::new(error)));
            return false;
        }
        let retry_after = self.retry_after(&response);
        let origin = self.origin().clone();
        match detect(choice, final_state, method, &origin, &response) {
            Err(error) => {
                self.fail(error);
                false
            }
            Ok(Started::Poll {
                protocol,
                monitor,
                status,
            }) => {
                #[cfg(feature = "tracing")]
                {
                    self.span.record("protocol", protocol.name());
                    self.span
                        .record("monitor", tracing::field::display(redact(&monitor)));
                    tracing::debug!(parent: &self.span, retry_after = ?retry_after, "started");
                }
                self.protocol = protocol;
                if let Err(error) = self.follow(&monitor) {
                    self.fail(error);
                    return false;
                }
                self.set_monitor(monitor);
                let has_status = status.is_some();
                if has_status {
                    self.last_status = status;
                }
                self.start_polling(retry_after);
                has_status
            }
            Ok(Started::Done { protocol, reading }) => {
                #[cfg(feature = "tracing")]
                self.span.record("protocol", protocol.name());
                self.protocol = protocol;
                self.on_reading(reading, None);
                true
            }
        }
    }
}
