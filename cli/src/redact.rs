//! URLs as the tool prints them.

use lro_poller::url::Url;

/// The URL without user info, query or fragment: safe to print
/// (`https://host.example/monitor/1?…`).
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
