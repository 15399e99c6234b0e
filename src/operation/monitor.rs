//! Where the operation polls: the monitor URL, the origin that counts as
//! "same origin" for credentials, the URL policy, and the request re-sent
//! when the operation polls by re-sending its start request.

use bytes::Bytes;
use url::Url;

use crate::error::Error;
use crate::origin::{DEFAULT_URL_POLICY, UrlPolicy, UrlRejection, same_origin};
use crate::protocol::Protocol;
use crate::transport::{RequestKind, RequestMeta};

/// The monitor and what following it needs.
pub(super) struct Monitor {
    url: Url,
    /// The start request's URL, kept only once the monitor URL differs from
    /// it (until then it is `url`).
    origin: Option<Box<Url>>,
    changes: u32,
    /// The marker of poll requests (recomputed when the monitor moves).
    poll_meta: RequestMeta,
    /// What few operations need, out of line (`None` for most: no
    /// allocation, and one pointer in the operation).
    rare: Option<Box<Rare>>,
}

/// What few monitors need.
#[derive(Default)]
struct Rare {
    /// The request each poll re-sends ([`crate::protocol::Next::resend`]).
    resend: Option<http::Request<Bytes>>,
    /// `None`: the default URL policy (shared).
    urls: Option<UrlPolicy>,
}

impl Monitor {
    /// Polls `url`; `origin` (when it differs) counts as the start's.
    pub(super) fn new(
        url: Url,
        origin: Option<Url>,
        urls: UrlPolicy,
        resend: Option<http::Request<Bytes>>,
        protocol: &dyn Protocol,
    ) -> Self {
        let urls = (urls != UrlPolicy::default()).then_some(urls);
        let rare = (resend.is_some() || urls.is_some()).then(|| Box::new(Rare { resend, urls }));
        let mut monitor = Monitor {
            origin: origin.filter(|origin| *origin != url).map(Box::new),
            url,
            changes: 0,
            poll_meta: RequestMeta::new(RequestKind::Poll, true, false),
            rare,
        };
        monitor.poll_meta = monitor.meta(RequestKind::Poll, &monitor.url, protocol);
        monitor
    }

    /// The URL polled now.
    pub(super) fn url(&self) -> &Url {
        &self.url
    }

    /// The URL whose origin counts as "same origin".
    pub(super) fn origin(&self) -> &Url {
        self.origin.as_deref().unwrap_or(&self.url)
    }

    /// The URL policy.
    pub(super) fn urls(&self) -> &UrlPolicy {
        self.rare
            .as_ref()
            .and_then(|rare| rare.urls.as_ref())
            .unwrap_or(&DEFAULT_URL_POLICY)
    }

    /// The request each poll re-sends, if the operation polls that way.
    pub(super) fn resend(&self) -> Option<&http::Request<Bytes>> {
        self.rare.as_ref().and_then(|rare| rare.resend.as_ref())
    }

    /// Polls by re-sending `request` from now on.
    pub(super) fn resend_with(&mut self, request: http::Request<Bytes>) {
        self.rare.get_or_insert_with(Box::default).resend = Some(request);
    }

    /// The marker of a request of `kind` to `url`.
    pub(super) fn meta(
        &self,
        kind: RequestKind,
        url: &Url,
        protocol: &dyn Protocol,
    ) -> RequestMeta {
        RequestMeta::new(
            kind,
            same_origin(self.origin(), url),
            protocol.wants_credentials(kind),
        )
    }

    /// The next poll: the re-sent request or the protocol's, marked.
    pub(super) fn poll_request(&self, protocol: &dyn Protocol) -> http::Request<Bytes> {
        let mut request = match self.resend() {
            Some(request) => request.clone(),
            None => protocol.poll_request(&self.url),
        };
        request.extensions_mut().insert(self.poll_meta);
        request
    }

    /// Checks a URL the server handed out against the URL policy.
    pub(super) fn follow(&self, url: &Url) -> Result<(), Error> {
        self.urls()
            .check(self.origin(), url)
            .map_err(|rejection| Error::UrlRejected(Box::new(rejection)))
    }

    /// Moves to `next`, a monitor URL a status handed out, when the URL
    /// policy allows and the changes stay within its bound.
    pub(super) fn change_to(&mut self, next: Url, protocol: &dyn Protocol) -> Result<(), Error> {
        self.changes = self.changes.saturating_add(1);
        if self.changes > self.urls().max_url_changes() {
            return Err(Error::UrlRejected(Box::new(
                UrlRejection::too_many_changes(&next, self.urls().max_url_changes()),
            )));
        }
        self.follow(&next)?;
        self.move_to(next, protocol);
        Ok(())
    }

    /// Moves to a new monitor URL, keeping the origin.
    pub(super) fn move_to(&mut self, url: Url, protocol: &dyn Protocol) {
        if self.origin.is_none() {
            self.origin = Some(Box::new(self.url.clone()));
        }
        self.url = url;
        self.poll_meta = self.meta(RequestKind::Poll, &self.url, protocol);
    }
}
