//! URLs a server hands out: origins, resolution and redaction.
//!
//! Monitor URLs are untrusted input and can carry a credential in their query
//! (`…?tempauth=<token>`). Everything the crate prints (errors, `Debug`) goes
//! through [`redact`], which keeps the scheme, host, port and path and drops the
//! user info, query and fragment.

use std::fmt;

use url::Url;

/// The URL without user info, query or fragment: safe to print or log
/// (`https://u:p@host.example/monitor/1?tempauth=secret#x` is shown as
/// `https://host.example/monitor/1?…`).
pub(crate) fn redact(url: &Url) -> String {
    let mut shown = format!("{}://", url.scheme());
    if let Some(host) = url.host_str() {
        shown.push_str(host);
    }
    if let Some(port) = url.port() {
        shown.push(':');
        shown.push_str(&port.to_string());
    }
    shown.push_str(url.path());
    if url.query().is_some() {
        shown.push_str("?…");
    }
    shown
}

/// Whether two URLs share an origin (scheme, host and port, with default ports
/// filled in), the rule browsers apply to credentials.
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Which server-provided URLs an operation follows.
///
/// Monitor and result URLs come from the server and are untrusted. Whatever
/// the policy, only `http` and `https` are followed. By default:
/// - an `https` start never follows an `http` monitor or result URL (no
///   downgrade), unless [`allow_downgrade`](Self::allow_downgrade);
/// - any host is allowed (Graph monitors live on other hosts than the API);
///   restrict with [`same_origin_only`](Self::same_origin_only) or
///   [`allow_host`](Self::allow_host);
/// - the monitor URL may change at most 10 times
///   ([`with_max_url_changes`](Self::with_max_url_changes)), which ends
///   `Location` loops.
///
/// Credentials never follow a URL to another origin whatever the policy: see
/// [`RequestMeta`](crate::RequestMeta).
///
/// ```
/// use lro_poller::UrlPolicy;
///
/// let policy = UrlPolicy::new()
///     .allow_host("api.example.com")
///     .allow_host(".sharepoint.com") // any subdomain
///     .with_max_url_changes(3);
/// let start = url::Url::parse("https://api.example.com/v1/copy").unwrap();
/// let ok = url::Url::parse("https://contoso.sharepoint.com/monitor/1").unwrap();
/// let bad = url::Url::parse("https://evil.example.net/monitor/1").unwrap();
/// assert!(policy.check(&start, &ok).is_ok());
/// assert!(policy.check(&start, &bad).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UrlPolicy {
    allow_downgrade: bool,
    same_origin_only: bool,
    allowed_hosts: Vec<String>,
    max_url_changes: u32,
}

/// The default bound on monitor URL changes.
pub(crate) const DEFAULT_MAX_URL_CHANGES: u32 = 10;

/// The default policy, shared by operations that keep it.
pub(crate) static DEFAULT_URL_POLICY: UrlPolicy = UrlPolicy {
    allow_downgrade: false,
    same_origin_only: false,
    allowed_hosts: Vec::new(),
    max_url_changes: DEFAULT_MAX_URL_CHANGES,
};

impl Default for UrlPolicy {
    fn default() -> Self {
        DEFAULT_URL_POLICY.clone()
    }
}

impl UrlPolicy {
    /// The default policy.
    pub fn new() -> Self {
        Self::default()
    }

    /// Lets an `https` start follow `http` URLs.
    pub fn allow_downgrade(mut self, allow: bool) -> Self {
        self.allow_downgrade = allow;
        self
    }

    /// Follows only URLs on the start request's origin.
    pub fn same_origin_only(mut self) -> Self {
        self.same_origin_only = true;
        self
    }

    /// Allows `host` (exactly; or, written `.example.com`, any subdomain of
    /// it). Once a host is allowed, URLs on other hosts are refused, except
    /// the start request's own origin.
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        self.allowed_hosts.push(host.into().to_ascii_lowercase());
        self
    }

    /// At most `changes` changes of the monitor URL.
    pub fn with_max_url_changes(mut self, changes: u32) -> Self {
        self.max_url_changes = changes;
        self
    }

    /// The bound on monitor URL changes.
    pub fn max_url_changes(&self) -> u32 {
        self.max_url_changes
    }

    /// Whether `url`, handed out by a server during an operation started at
    /// `origin`, may be followed; why not when it may not.
    pub fn check(&self, origin: &Url, url: &Url) -> Result<(), UrlRejection> {
        let reject = |reason| Err(UrlRejection::new(url, reason));
        if !matches!(url.scheme(), "http" | "https") {
            return reject(Reason::Scheme(url.scheme().to_owned()));
        }
        if !self.allow_downgrade && origin.scheme() == "https" && url.scheme() == "http" {
            return reject(Reason::Downgrade);
        }
        if same_origin(origin, url) {
            return Ok(());
        }
        if self.same_origin_only {
            return reject(Reason::OtherOrigin);
        }
        if self.allowed_hosts.is_empty() {
            return Ok(());
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let allowed = self.allowed_hosts.iter().any(|entry| {
            // `.example.com`: a subdomain, never `example.com` itself.
            if entry.starts_with('.') {
                host.ends_with(entry.as_str())
            } else {
                host == *entry
            }
        });
        if allowed {
            Ok(())
        } else {
            reject(Reason::HostNotAllowed(host))
        }
    }
}

/// A URL a server handed out that the operation's [`UrlPolicy`] does not
/// follow: which (redacted: no query, no user info) and why. Nothing was sent
/// to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlRejection {
    url: String,
    reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Reason {
    Scheme(String),
    Downgrade,
    OtherOrigin,
    HostNotAllowed(String),
    TooManyChanges(u32),
}

impl UrlRejection {
    fn new(url: &Url, reason: Reason) -> Self {
        UrlRejection {
            url: redact(url),
            reason,
        }
    }

    /// The monitor URL changed more than `bound` times.
    pub(crate) fn too_many_changes(url: &Url, bound: u32) -> Self {
        UrlRejection::new(url, Reason::TooManyChanges(bound))
    }

    /// The URL, redacted.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl fmt::Display for UrlRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refused to follow {}: ", self.url)?;
        match &self.reason {
            Reason::Scheme(scheme) => write!(f, "scheme `{scheme}` is not followed"),
            Reason::Downgrade => f.write_str("an https operation does not follow an http URL"),
            Reason::OtherOrigin => {
                f.write_str("only URLs on the start request's origin are followed")
            }
            Reason::HostNotAllowed(host) => write!(f, "host `{host}` is not on the allow-list"),
            Reason::TooManyChanges(bound) => {
                write!(f, "the monitor URL changed more than {bound} times")
            }
        }
    }
}

impl std::error::Error for UrlRejection {}

/// Resolves a URL a server sent in a header against the URL of the request it
/// answered (RFC 9110 §10.2.2), accepting only `http` and `https` results.
pub(crate) fn resolve_header_url(base: &Url, value: &str) -> Result<Url, String> {
    let resolved = base
        .join(value.trim())
        .map_err(|e| format!("unusable URL in header: {e}"))?;
    match resolved.scheme() {
        "http" | "https" => Ok(resolved),
        other => Err(format!(
            "refusing a URL with scheme `{other}`: only http and https are followed"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_on_url_changes_is_the_callers() {
        assert_eq!(UrlPolicy::new().max_url_changes(), 10);
        assert_eq!(
            UrlPolicy::new().with_max_url_changes(3).max_url_changes(),
            3
        );
    }

    #[test]
    fn an_allowed_domain_covers_its_subdomains_only() {
        let https = Url::parse("https://api.example/start").unwrap();
        let policy = UrlPolicy::new().allow_host(".sharepoint.com");
        let ok = |url: &str| policy.check(&https, &Url::parse(url).unwrap()).is_ok();
        assert!(ok("https://contoso.sharepoint.com/m"));
        assert!(ok("https://a.b.sharepoint.com/m"));
        assert!(!ok("https://sharepoint.com/m"));
        assert!(!ok("https://evilsharepoint.com/m"));
        assert!(ok("https://api.example/m"), "the start's own origin");
    }

    #[test]
    fn a_rejection_names_the_redacted_url_and_why() {
        let https = Url::parse("https://api.example/start").unwrap();
        let u = |s: &str| Url::parse(s).unwrap();
        let said = |policy: &UrlPolicy, url: &str| policy.check(&https, &u(url)).unwrap_err();
        let ftp = said(&UrlPolicy::new(), "ftp://api.example/m?sig=SECRET");
        assert_eq!(ftp.url(), "ftp://api.example/m?…");
        assert_eq!(
            ftp.to_string(),
            "refused to follow ftp://api.example/m?…: scheme `ftp` is not followed"
        );
        let down = said(&UrlPolicy::new(), "http://api.example/m");
        assert!(
            down.to_string()
                .ends_with("an https operation does not follow an http URL")
        );
        let other = said(&UrlPolicy::new().same_origin_only(), "https://b.example/m");
        assert!(
            other
                .to_string()
                .ends_with("only URLs on the start request's origin are followed")
        );
        let host = said(
            &UrlPolicy::new().allow_host("a.example"),
            "https://B.example/m",
        );
        assert!(
            host.to_string()
                .ends_with("host `b.example` is not on the allow-list"),
            "{host}"
        );
        let moved = UrlRejection::too_many_changes(&u("https://a.example/m?x=1"), 10);
        assert_eq!(
            moved.to_string(),
            "refused to follow https://a.example/m?…: the monitor URL changed more than 10 times"
        );
        assert_ne!(ftp, down);
    }

    #[test]
    fn url_policy_rules() {
        let https = Url::parse("https://api.example/start").unwrap();
        let u = |s: &str| Url::parse(s).unwrap();
        let default = UrlPolicy::new();
        assert!(default.check(&https, &u("https://other.example/m")).is_ok());
        assert!(default.check(&https, &u("http://api.example/m")).is_err());
        assert!(
            default
                .allow_downgrade(true)
                .check(&https, &u("http://api.example/m"))
                .is_ok()
        );
        assert!(
            UrlPolicy::new()
                .check(&https, &u("ftp://api.example/m"))
                .is_err()
        );
        let same = UrlPolicy::new().same_origin_only();
        assert!(
            same.check(&https, &u("https://api.example:443/m?x"))
                .is_ok()
        );
        assert!(
            same.check(&https, &u("https://api.example:8443/m"))
                .is_err()
        );
        let list = UrlPolicy::new()
            .allow_host(".sharepoint.com")
            .allow_host("Monitor.Example");
        assert!(list.check(&https, &u("https://a.sharepoint.com/m")).is_ok());
        assert!(list.check(&https, &u("https://sharepoint.com/m")).is_err());
        assert!(
            list.check(&https, &u("https://evilsharepoint.com/m"))
                .is_err()
        );
        assert!(list.check(&https, &u("https://monitor.example/m")).is_ok());
        assert!(
            list.check(&https, &u("https://api.example/m")).is_ok(),
            "own origin"
        );
        assert!(list.check(&https, &u("https://x.example/m")).is_err());
    }

    #[test]
    fn redaction_drops_secrets() {
        let url = Url::parse("https://user:pw@x.sharepoint.com:8443/a/b?tempauth=T#frag").unwrap();
        let shown = redact(&url);
        assert_eq!(shown, "https://x.sharepoint.com:8443/a/b?…");
        assert!(!shown.contains("tempauth") && !shown.contains("pw"));
        let plain = Url::parse("http://127.0.0.1:80/m").unwrap();
        assert_eq!(redact(&plain), "http://127.0.0.1/m");
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let a = Url::parse("https://api.example/x").unwrap();
        assert!(same_origin(
            &a,
            &Url::parse("https://api.example:443/y?q").unwrap()
        ));
        assert!(!same_origin(
            &a,
            &Url::parse("http://api.example/x").unwrap()
        ));
        assert!(!same_origin(
            &a,
            &Url::parse("https://other.example/x").unwrap()
        ));
        assert!(!same_origin(
            &a,
            &Url::parse("https://api.example:8443/x").unwrap()
        ));
    }

    #[test]
    fn relative_locations_resolve_against_the_request() {
        let base = Url::parse("https://api.example/v1.0/drive/items/1/copy").unwrap();
        assert_eq!(
            resolve_header_url(&base, "/monitor/7").unwrap().as_str(),
            "https://api.example/monitor/7"
        );
        assert_eq!(
            resolve_header_url(&base, "status/7").unwrap().as_str(),
            "https://api.example/v1.0/drive/items/1/status/7"
        );
        assert!(resolve_header_url(&base, "file:///etc/passwd").is_err());
        assert!(resolve_header_url(&base, "javascript:alert(1)").is_err());
        assert!(resolve_header_url(&base, "http://[::1").is_err());
    }
}
