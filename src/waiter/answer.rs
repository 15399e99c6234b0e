//! Reading an HTTP answer as the acceptors see it: a success and its output,
//! or an error and its type.
//!
//! Any `2xx` answer is a success; its body, parsed as JSON, is the output
//! (`null` when the body is empty). Any other answer is an error; its type is
//! read where the Smithy/AWS protocols put it, first found wins:
//!
//! 1. the `x-amzn-ErrorType` header (`ResourceNotFoundException:http://…`);
//! 2. a JSON body's `__type`, `code`, `Code`, `error.code` or `Error.Code`;
//! 3. an XML body's first `<Code>…</Code>` element (the query and REST-XML
//!    protocols);
//! 4. else the status code's reason phrase without spaces (`404` →
//!    `NotFound`, `409` → `Conflict`), which is how a body-less error such as
//!    the answer to a `HEAD` request is named.
//!
//! A type is reduced to its shape name: the part before a `:` and after a `#`
//! (`com.amazonaws.dynamodb.v20120810#ResourceNotFoundException` →
//! `ResourceNotFoundException`).

use bytes::Bytes;
use serde_json::Value;

/// The most of an error body searched for an XML `<Code>` element.
const XML_SCAN_LIMIT: usize = 64 * 1024;

/// The error type of an error answer, by the rules of this module.
pub(crate) fn error_type(answer: &http::Response<Bytes>) -> Option<String> {
    let from_header = answer
        .headers()
        .get("x-amzn-errortype")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    from_header
        .or_else(|| json_code(answer.body()))
        .or_else(|| xml_code(answer.body()))
        .and_then(|raw| shape_name(&raw))
        .or_else(|| reason_name(answer.status()))
}

/// The output of a successful answer: its body as JSON, `null` when empty.
pub(crate) fn output(body: &[u8]) -> Result<Value, serde_json::Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body)
}

fn json_code(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let candidates = [
        value.get("__type"),
        value.get("code"),
        value.get("Code"),
        value.get("error").and_then(|error| error.get("code")),
        value.get("Error").and_then(|error| error.get("Code")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find_map(|code| code.as_str().map(str::to_owned))
}

fn xml_code(body: &[u8]) -> Option<String> {
    let scanned = &body[..body.len().min(XML_SCAN_LIMIT)];
    let text = String::from_utf8_lossy(scanned);
    let start = text.find("<Code>")? + "<Code>".len();
    let end = text[start..].find("</Code>")? + start;
    Some(text[start..end].to_owned())
}

/// The shape name of a raw error type, `None` when nothing is left.
fn shape_name(raw: &str) -> Option<String> {
    let before_colon = raw.split(':').next().unwrap_or(raw);
    let name = before_colon
        .rsplit_once('#')
        .map_or(before_colon, |(_, name)| name)
        .trim();
    (!name.is_empty()).then(|| name.to_owned())
}

fn reason_name(status: http::StatusCode) -> Option<String> {
    let reason = status.canonical_reason()?;
    Some(
        reason
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> http::Response<Bytes> {
        let mut builder = http::Response::builder().status(status);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Bytes::from(body.to_owned())).unwrap()
    }

    fn read(status: u16, headers: &[(&str, &str)], body: &str) -> Option<String> {
        error_type(&answer(status, headers, body))
    }

    #[test]
    fn reads_the_header_first() {
        assert_eq!(
            read(400, &[("x-amzn-ErrorType", "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazon.coral.validate/")], r#"{"__type":"Other"}"#).as_deref(),
            Some("ResourceNotFoundException")
        );
        assert_eq!(
            read(
                400,
                &[("x-amzn-errortype", "aws.protocoltests#InvalidGreeting")],
                ""
            )
            .as_deref(),
            Some("InvalidGreeting")
        );
    }

    #[test]
    fn reads_json_bodies() {
        assert_eq!(read(400, &[], r#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"x"}"#).as_deref(), Some("ResourceNotFoundException"));
        assert_eq!(
            read(404, &[], r#"{"code":"NoSuchThing"}"#).as_deref(),
            Some("NoSuchThing")
        );
        assert_eq!(
            read(404, &[], r#"{"Code":"NoSuchThing"}"#).as_deref(),
            Some("NoSuchThing")
        );
        assert_eq!(
            read(
                404,
                &[],
                r#"{"error":{"code":"ResourceNotFound","message":"gone"}}"#
            )
            .as_deref(),
            Some("ResourceNotFound")
        );
        assert_eq!(
            read(400, &[], r#"{"Error":{"Code":"Throttling"}}"#).as_deref(),
            Some("Throttling")
        );
        // A code that is not a string is not a type: the status names the error.
        assert_eq!(
            read(404, &[], r#"{"code":404}"#).as_deref(),
            Some("NotFound")
        );
    }

    #[test]
    fn reads_xml_bodies() {
        let ec2 = "<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>The instance ID 'i-1' does not exist</Message></Error></Errors><RequestID>r</RequestID></Response>";
        assert_eq!(
            read(400, &[], ec2).as_deref(),
            Some("InvalidInstanceID.NotFound")
        );
        let s3 =
            "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>m</Message></Error>";
        assert_eq!(read(404, &[], s3).as_deref(), Some("NoSuchBucket"));
        // A code after a long preamble is still found, within the scan limit.
        let long = format!(
            "<Response>{}<Errors><Error><Code>Late</Code></Error></Errors></Response>",
            " ".repeat(4000)
        );
        assert_eq!(read(400, &[], &long).as_deref(), Some("Late"));
        let too_far = format!("{}<Code>TooFar</Code>", " ".repeat(XML_SCAN_LIMIT));
        assert_eq!(read(400, &[], &too_far).as_deref(), Some("BadRequest"));
        // An unterminated element is no code.
        assert_eq!(
            read(409, &[], "<Error><Code>Oops").as_deref(),
            Some("Conflict")
        );
    }

    #[test]
    fn falls_back_to_the_status_reason() {
        assert_eq!(read(404, &[], "").as_deref(), Some("NotFound"));
        assert_eq!(read(403, &[], "denied").as_deref(), Some("Forbidden"));
        assert_eq!(read(500, &[], "{}").as_deref(), Some("InternalServerError"));
        assert_eq!(read(418, &[], "").as_deref(), Some("Imateapot"));
        // A status without a reason phrase has no type.
        assert_eq!(read(599, &[], ""), None);
        // An empty header value is no type.
        assert_eq!(
            read(410, &[("x-amzn-ErrorType", ":x")], "").as_deref(),
            Some("Gone")
        );
    }

    #[test]
    fn output_is_the_json_body_or_null() {
        assert_eq!(output(b"").unwrap(), Value::Null);
        assert_eq!(output(b" \n").unwrap(), Value::Null);
        assert_eq!(output(br#"{"a":1}"#).unwrap(), serde_json::json!({"a": 1}));
        assert!(output(b"<xml/>").is_err());
    }

    proptest! {
        /// Whatever the body and headers, reading an error type never panics and
        /// never yields an empty or `#`/`:`-bearing name.
        #[test]
        fn any_answer_reads_safely(status in 400u16..600, body in proptest::collection::vec(any::<u8>(), 0..200), header in proptest::option::of("[ -~]{0,40}")) {
            let mut builder = http::Response::builder().status(status);
            if let Some(header) = &header {
                builder = builder.header("x-amzn-errortype", header.as_str());
            }
            let answer = builder.body(Bytes::from(body)).unwrap();
            if let Some(name) = error_type(&answer) {
                prop_assert!(!name.is_empty());
                prop_assert!(!name.contains('#') && !name.contains(':'));
            }
        }
    }
}
