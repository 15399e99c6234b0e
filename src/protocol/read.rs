//! Reading answers: the small pieces every protocol needs — a JSON `GET`, a
//! `:cancel` request, a status report from a body, a URL from a header — public
//! so that a protocol of your own reads answers the way the built-in ones do.

use bytes::Bytes;
use url::Url;

use crate::origin::{redact, resolve_header_url};
use crate::protocol_error::ProtocolError;
use crate::status::AsyncJobStatus;

/// A `GET` of `url` with `Accept: application/json`.
pub(crate) fn get_json(url: &Url) -> http::Request<Bytes> {
    let mut request = http::Request::new(Bytes::new());
    *request.method_mut() = http::Method::GET;
    if let Ok(uri) = url.as_str().parse() {
        *request.uri_mut() = uri;
    }
    // Room for this header and one a transport adds (the first insert into
    // an empty map would reserve room for six, ~600 bytes per poll in flight).
    let mut headers = http::HeaderMap::with_capacity(2);
    headers.insert(
        http::header::ACCEPT,
        http::HeaderValue::from_static("application/json"),
    );
    *request.headers_mut() = headers;
    request
}

/// `POST {url}:cancel`: the custom method of Google's and Azure's newer
/// guidelines, appended to the path (the query is kept).
pub(crate) fn post_cancel(url: &Url) -> http::Request<Bytes> {
    let mut target = url.clone();
    let path = format!("{}:cancel", url.path());
    target.set_path(&path);
    let mut request = http::Request::new(Bytes::new());
    *request.method_mut() = http::Method::POST;
    if let Ok(uri) = target.as_str().parse() {
        *request.uri_mut() = uri;
    }
    request
}

/// Whether a body is empty or only white space.
pub(crate) fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

/// Whether a body claims to be JSON: its `Content-Type` says so
/// (`application/json`, `…+json`), or it starts with `{` or `[`. A protocol
/// that reads such a body and cannot parse it has a garbled answer, never a
/// result to pass on as it is.
pub(crate) fn claims_json(headers: &http::HeaderMap, body: &[u8]) -> bool {
    let declared = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        });
    declared
        || body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'{' || *b == b'[')
}

/// Reads a status report from a monitor's answer. An empty body is read by
/// `when_empty` (a protocol error when it has no meaning for the status
/// code); anything else must be a status report (`what` names the kind).
pub(crate) fn read_status(
    url: &Url,
    response: &http::Response<Bytes>,
    what: &str,
    when_empty: impl FnOnce(http::StatusCode) -> Option<AsyncJobStatus>,
) -> Result<AsyncJobStatus, ProtocolError> {
    let code = response.status();
    let body = response.body();
    if is_blank(body) {
        return when_empty(code).ok_or_else(|| {
            ProtocolError::with_parts(
                format!("empty answer where {what} was expected"),
                Some(code),
                Some(redact(url)),
                body,
            )
        });
    }
    AsyncJobStatus::from_json(body).map_err(|e| {
        ProtocolError::with_parts(
            format!("not {what}: {e}"),
            Some(code),
            Some(redact(url)),
            body,
        )
    })
}

/// A response for unit tests.
#[cfg(test)]
pub(crate) fn test_response(
    code: u16,
    headers: &[(&str, &str)],
    body: &str,
) -> http::Response<Bytes> {
    let mut response = http::Response::new(Bytes::copy_from_slice(body.as_bytes()));
    *response.status_mut() = http::StatusCode::from_u16(code).expect("a valid status");
    for (name, value) in headers {
        response.headers_mut().insert(
            http::HeaderName::from_bytes(name.as_bytes()).expect("a valid name"),
            value.parse().expect("a valid value"),
        );
    }
    response
}

/// The URL in the response header `name`, resolved against `base` (the URL
/// of the request it answered); a protocol error when it is not text or not a
/// URL the crate follows.
pub(crate) fn url_header(
    headers: &http::HeaderMap,
    name: &str,
    base: &Url,
    code: http::StatusCode,
) -> Result<Option<Url>, ProtocolError> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| {
        ProtocolError::with_parts(
            format!("{name} header is not text"),
            Some(code),
            Some(redact(base)),
            b"",
        )
    })?;
    header_url(base, text, code).map(Some)
}

/// Resolves a URL from a header or body against `base`, as a protocol error
/// when it is unusable.
pub(crate) fn header_url(
    base: &Url,
    value: &str,
    code: http::StatusCode,
) -> Result<Url, ProtocolError> {
    resolve_header_url(base, value)
        .map_err(|message| ProtocolError::with_parts(message, Some(code), Some(redact(base)), b""))
}
