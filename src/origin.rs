//! URLs a server hands out: origins, resolution and redaction.
//!
//! Monitor URLs are untrusted input and can carry a credential in their query
//! (`…?tempauth=<token>`). Everything the crate prints (errors, `Debug`) goes
//! through [`redact`], which keeps the scheme, host, port and path and drops the
//! user info, query and fragment.

use url::Url;

/// The URL without user info, query or fragment: safe to print or log.
///
/// ```
/// let url = url::Url::parse("https://u:p@host.example/monitor/1?tempauth=secret#x").unwrap();
/// assert_eq!(lro_poller::redact(&url), "https://host.example/monitor/1?…");
/// ```
pub fn redact(url: &Url) -> String {
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
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
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
