//! Asking the service to cancel the job.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use url::Url;

use crate::error::{Error, RequestError};
use crate::origin::redact;
use crate::transport::{RequestKind, RequestMeta, Transport};

use super::core::{Operation, State};

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
        Box::pin(async move {
            let count = requests.len();
            for (i, request) in requests.into_iter().enumerate() {
                let response = transport.send(request).await.map_err(|source| {
                    let error = RequestError::transport(RequestKind::Cancel, url.clone(), source);
                    Error::Request(Box::new(error))
                })?;
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
                return Err(Error::Request(Box::new(RequestError::answer(
                    RequestKind::Cancel,
                    url,
                    code,
                    response.body(),
                ))));
            }
            Err(Error::CancelUnsupported {
                protocol,
                http_status: None,
            })
        })
    }
}
