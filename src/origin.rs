//! URLs a server hands out: origins, resolution and redaction.
//!
//! Monitor URLs are untrusted input and can carry a credential in their query
//! (`…?tempauth=<token>`). Everything the crate prints (errors, `Debug`) goes
//! through [`redact`], which keeps the scheme, host, port and path and drops the
//! user info, query and fragment.

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
    /// `origin`, may be followed; the reason when not.
    pub fn check(&self, origin: &Url, url: &Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("scheme `{}` is not followed", url.scheme()));
        }
        if !self.allow_downgrade && origin.scheme() == "https" && url.scheme() == "http" {
            return Err("an https operation does not follow an http URL".into());
        }
        if same_origin(origin, url) {
            return Ok(());
        }
        if self.same_origin_only {
            return Err("only URLs on the start request's origin are followed".into());
        }
        if self.allowed_hosts.is_empty() {
            return Ok(());
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let allowed = self
            .allowed_hosts
            .iter()
            .any(|entry| match entry.strip_prefix('.') {
                Some(domain) => host.len() > domain.len() + 1 && host.ends_with(entry.as_str()),
                None => host == *entry,
            });
        if allowed {
            Ok(())
        } else {
            Err(format!("host `{host}` is not on the allow-list"))
        }
    }
}

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
