//! Asking the service to cancel the job.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use url::Url;

use crate::error::Error;
use crate::origin::redact;
use crate::transport::{RequestKind, RequestMeta};

use super::core::{Operation, State};
use super::retry::request_error;

/// The future of [`Operation::cancel`].
pub(crate) type CancelFuture = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

impl Operation {
    /// Asks the service to cancel the job, where the protocol has a way
    /// (Azure `Operation-Location`: `POST {monitor}:cancel`, then
    /// `DELETE {monitor}`; Google: `POST {operation}:cancel`). For a protocol
    /// without one it returns [`Error::CancelUnsupported`] without sending
    /// anything; a service that answers `404`/`405` to every way gives the
    /// same error with its status.
    ///
    /// Each cancel request follows the operation's failure rule: after a
    /// transient failure (I/O, `408`, `429`, `5xx`) it is sent again — a
    /// cancel is idempotent — within the error policy's bound, the polling
    /// policy's wait and the deadline.
    ///
    /// Cancelling is a request, not an end: keep polling the operation (or
    /// await it) until the service reports a terminal status — usually
    /// `cancelled`, but the job may also complete first. To stop polling
    /// without asking the service, drop the operation.
    ///
    /// The returned future does not borrow the operation.
    pub fn cancel(&self) -> CancelFuture {
        let protocol = self.family().name();
        if self.pending_start().is_some() || matches!(self.state(), State::Starting { .. }) {
            return Box::pin(async move {
                Err(Error::CancelUnsupported {
                    protocol,
                    http_status: None,
                })
            });
        }
        let mut requests = self.family().cancel_requests(self.watch().url());
        for request in &mut requests {
            let meta = match Url::parse(&request.uri().to_string()) {
                Ok(url) => self.meta(RequestKind::Cancel, &url),
                Err(_) => RequestMeta::new(RequestKind::Cancel, false, false),
            };
            request.extensions_mut().insert(meta);
        }
        let transport = Arc::clone(self.transport());
        let url = redact(self.watch().url());
        let mut retrier = self.retrier(RequestKind::Cancel, None);
        Box::pin(async move {
            let count = requests.len();
            for (i, request) in requests.into_iter().enumerate() {
                let (answer, attempts) = retrier
                    .send(Arc::clone(&transport), request, url.clone())
                    .await?;
                let response = match answer {
                    Ok(response) => response,
                    failed => {
                        return Err(request_error(RequestKind::Cancel, url, failed, attempts));
                    }
                };
                let code = response.status();
                if code.is_success() {
                    return Ok(());
                }
                let unsupported = matches!(code.as_u16(), 404 | 405);
                if unsupported && i + 1 < count {
                    continue;
                }
                if unsupported {
                    return Err(Error::CancelUnsupported {
                        protocol,
                        http_status: Some(code),
                    });
                }
                return Err(request_error(
                    RequestKind::Cancel,
                    url,
                    Ok(response),
                    attempts,
                ));
            }
            Err(Error::CancelUnsupported {
                protocol,
                http_status: None,
            })
        })
    }
}
