//! The blob copy family as a protocol of one's own, written with the crate's
//! public API alone: a bare `202 Accepted` starts it, each poll is a `HEAD`
//! of the blob's own URL, and the state lives in response headers.

use lro_poller::TokenError;
use lro_poller::bytes::Bytes;
use lro_poller::http;
use lro_poller::protocol::SavedProtocol;
use lro_poller::protocol::{Next, Polled, Protocol, ProtocolError, Reading};
use lro_poller::url::Url;
use lro_poller::{AsyncJobStatus, JobState};

/// What each status carries for the caller: bytes copied of how many.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CopyProgress {
    /// Bytes copied so far.
    pub copied: u64,
    /// Bytes in all.
    pub total: u64,
}

/// The protocol.
#[derive(Debug, Clone, Copy, Default)]
pub struct BlobCopy;

fn header<'a>(response: &'a http::Response<Bytes>, name: &str) -> Option<&'a str> {
    response.headers().get(name)?.to_str().ok()
}

impl Protocol for BlobCopy {
    fn name(&self) -> &'static str {
        "blob-copy"
    }

    /// A bare `202`: poll the blob itself.
    fn read_start(
        &self,
        _request: &http::Request<Bytes>,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Next, ProtocolError> {
        match response.status().as_u16() {
            202 => Ok(Next::poll(url.clone())),
            400..=599 => Ok(Next::refused()),
            _ => Err(ProtocolError::malformed(
                "a copy starts with 202 Accepted",
                url,
                response,
            )),
        }
    }

    fn poll_request(&self, monitor: &Url) -> http::Request<Bytes> {
        let mut request = http::Request::new(Bytes::new());
        *request.method_mut() = http::Method::HEAD;
        if let Ok(uri) = monitor.as_str().parse() {
            *request.uri_mut() = uri;
        }
        request
    }

    fn read_poll(
        &self,
        url: &Url,
        response: &http::Response<Bytes>,
    ) -> Result<Polled, ProtocolError> {
        if !response.status().is_success() {
            return Ok(Polled::ReadFailure);
        }
        let state = match header(response, "x-blob-copy-status") {
            Some("pending") => JobState::InProgress,
            Some("success") => JobState::Completed,
            Some("failed") => JobState::Failed,
            Some("aborted") => JobState::Cancelled,
            _ => {
                return Err(ProtocolError::malformed(
                    "no usable x-blob-copy-status",
                    url,
                    response,
                ));
            }
        };
        let mut status = AsyncJobStatus::new(state);
        if let Some(description) = header(response, "x-blob-copy-status-description") {
            status = status.with_description(description);
        }
        let progress = header(response, "x-blob-copy-progress")
            .and_then(|text| text.split_once('/'))
            .and_then(|(copied, total)| {
                Some(CopyProgress {
                    copied: copied.parse().ok()?,
                    total: total.parse().ok()?,
                })
            })
            .filter(|p| p.total > 0 && p.copied <= p.total);
        let Some(progress) = progress else {
            return Ok(Polled::Status(Reading::new(status)));
        };
        status = status.with_percentage(100.0 * progress.copied as f64 / progress.total as f64);
        Ok(Polled::Status(Reading::new(status).with_details(progress)))
    }

    fn save(&self) -> Option<SavedProtocol> {
        Some(SavedProtocol::new(self.name()))
    }

    fn restore(&self, _saved: &SavedProtocol) -> Result<Box<dyn Protocol>, TokenError> {
        Ok(Box::new(BlobCopy))
    }

    fn cancel_requests(&self, monitor: &Url) -> Vec<http::Request<Bytes>> {
        let mut abort = monitor.clone();
        abort.set_query(Some("comp=abort"));
        let mut request = http::Request::new(Bytes::new());
        *request.method_mut() = http::Method::DELETE;
        if let Ok(uri) = abort.as_str().parse() {
            *request.uri_mut() = uri;
        }
        vec![request]
    }
}
