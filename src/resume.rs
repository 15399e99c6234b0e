//! Resume tokens: an operation that outlives the process.
//!
//! [`Operation::resume_token`](crate::Operation::resume_token) captures what is
//! needed to go on polling elsewhere — the protocol and its settings, the
//! monitor URL, the origin of the start request, the wall-clock start time (so
//! a deadline keeps counting across a resume) and the polls so far.
//! [`Operation::resume`](crate::Operation::resume) continues from it.
//!
//! A token has a compact string form, `lro1.<base64url JSON>`, and is also
//! serde-serializable. Tokens are versioned: a token from a newer version of
//! the crate is refused with a clear error.
//!
//! **A token can hold a secret**: a monitor URL may carry a credential in its
//! query (`…?tempauth=…`). Store tokens as you would store that credential.
//! The token's `Debug` output redacts the URLs; its string form does not (it
//! could not be resumed otherwise).

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use crate::origin::redact;

/// The token format this version writes and reads.
pub const TOKEN_VERSION: u32 = 1;

const PREFIX: &str = "lro";

/// The most bytes a token string may have (tokens are small; this bounds the
/// work done on untrusted input).
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Why a resume token cannot be used: damaged, from a newer version, or
/// holding a URL the crate does not follow. It converts into
/// [`Error::InvalidToken`](crate::Error::InvalidToken).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError(String);

impl TokenError {
    /// An error saying `message`.
    pub fn new(message: impl Into<String>) -> Self {
        TokenError(message.into())
    }

    /// What is wrong with the token.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TokenError {}

/// A protocol as a token records it: its [name](crate::protocol::Protocol::name)
/// and the state it [saved](crate::protocol::Protocol::save), a JSON object.
///
/// Plain data: it knows no protocol. Resuming hands the state back to the
/// protocol of that name that the caller supplies (the built-in families are
/// always known). In a token's JSON it is one object, `{"kind": <name>,
/// ...state}`, the form every `lro1` token has had.
///
/// ```
/// use lro_poller::SavedProtocol;
///
/// let saved = SavedProtocol::new("blob-copy").with("container", "photos");
/// assert_eq!(saved.name(), "blob-copy");
/// assert_eq!(saved.state()["container"], "photos");
/// let json = serde_json::to_string(&saved).unwrap();
/// assert_eq!(json, r#"{"kind":"blob-copy","container":"photos"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedProtocol {
    name: String,
    state: serde_json::Map<String, serde_json::Value>,
}

impl SavedProtocol {
    /// A protocol named `name` with no state.
    pub fn new(name: impl Into<String>) -> Self {
        SavedProtocol {
            name: name.into(),
            state: serde_json::Map::new(),
        }
    }

    /// A protocol named `name` whose state is `state` (a struct or map that
    /// serializes to a JSON object; anything else is an error).
    pub fn from_state(name: impl Into<String>, state: &impl Serialize) -> Result<Self, TokenError> {
        match serde_json::to_value(state) {
            Ok(serde_json::Value::Object(state)) => Ok(SavedProtocol {
                name: name.into(),
                state,
            }),
            Ok(serde_json::Value::Null) => Ok(SavedProtocol::new(name)),
            Ok(_) => Err(TokenError::new(
                "a protocol's saved state must be a JSON object",
            )),
            Err(e) => Err(TokenError::new(format!(
                "the protocol's state cannot be saved: {e}"
            ))),
        }
    }

    /// Adds one field to the state.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.state.insert(key.into(), value.into());
        self
    }

    /// The protocol's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The protocol's state.
    pub fn state(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.state
    }

    /// The state read into `T` (the protocol's own type).
    pub fn state_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, TokenError> {
        serde_json::from_value(serde_json::Value::Object(self.state.clone())).map_err(|e| {
            TokenError::new(format!(
                "the saved state of protocol `{}` is damaged: {e}",
                self.name
            ))
        })
    }

    /// The state with every string that parses as a URL redacted.
    fn redacted(&self) -> SavedProtocol {
        let state = self
            .state
            .iter()
            .map(|(key, value)| {
                let value = match value {
                    serde_json::Value::String(text) if Url::parse(text).is_ok() => {
                        serde_json::Value::String(redact_text(text))
                    }
                    serde_json::Value::String(_)
                    | serde_json::Value::Object(_)
                    | serde_json::Value::Array(_) => serde_json::Value::String("…".into()),
                    other => other.clone(),
                };
                (key.clone(), value)
            })
            .collect();
        SavedProtocol {
            name: self.name.clone(),
            state,
        }
    }
}

impl Serialize for SavedProtocol {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.state.len() + 1))?;
        map.serialize_entry("kind", &self.name)?;
        for (key, value) in &self.state {
            if key != "kind" {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for SavedProtocol {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut state = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        match state.remove("kind") {
            Some(serde_json::Value::String(name)) => Ok(SavedProtocol { name, state }),
            _ => Err(serde::de::Error::custom(
                "a saved protocol needs a string `kind`",
            )),
        }
    }
}

/// A request a token records so that polls can re-send it
/// ([`Start::resend`](crate::protocol::Start::resend)): its method, the
/// headers the caller set (never `Authorization`, `Cookie` or
/// `Proxy-Authorization`: the transport adds credentials again) and its body.
/// The URL is the token's monitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SavedRequest {
    /// The method.
    pub method: String,
    /// Header names and values (values as text; others are not kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// The body, base64url without padding.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
}

/// Headers a token never records.
const SECRET_HEADERS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

impl SavedRequest {
    /// Records `request` (see the type's docs for what is kept).
    pub fn from_request<B: AsRef<[u8]>>(request: &http::Request<B>) -> Self {
        SavedRequest {
            method: request.method().as_str().to_owned(),
            headers: request
                .headers()
                .iter()
                .filter(|(name, _)| !SECRET_HEADERS.contains(&name.as_str()))
                .filter_map(|(name, value)| {
                    Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
                })
                .collect(),
            body: URL_SAFE_NO_PAD.encode(request.body().as_ref()),
        }
    }

    /// The request again, sent to `url`.
    pub fn to_request(&self, url: &Url) -> Result<http::Request<bytes::Bytes>, TokenError> {
        let damaged = |what: &str| TokenError::new(format!("the token's request has a bad {what}"));
        let body = URL_SAFE_NO_PAD
            .decode(&self.body)
            .map_err(|_| damaged("body"))?;
        let mut request = http::Request::new(bytes::Bytes::from(body));
        *request.method_mut() =
            http::Method::from_bytes(self.method.as_bytes()).map_err(|_| damaged("method"))?;
        *request.uri_mut() = url.as_str().parse().map_err(|_| damaged("URL"))?;
        for (name, value) in &self.headers {
            let name =
                http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| damaged("header"))?;
            let value = http::HeaderValue::from_str(value).map_err(|_| damaged("header"))?;
            request.headers_mut().append(name, value);
        }
        Ok(request)
    }
}

fn token_url(text: &str) -> Result<Url, TokenError> {
    let url = Url::parse(text).map_err(|e| TokenError::new(format!("bad URL in token: {e}")))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(TokenError::new(format!(
            "URL with scheme `{other}` in token"
        ))),
    }
}

fn redact_text(text: &str) -> String {
    Url::parse(text)
        .map(|u| redact(&u))
        .unwrap_or_else(|_| "<invalid URL>".into())
}

/// What is needed to go on polling an operation, in another process or later.
///
/// ```
/// use lro_poller::{ResumeToken, SavedProtocol};
///
/// let monitor = url::Url::parse("https://api.example/monitor/1?tempauth=secret").unwrap();
/// let token = ResumeToken::new(SavedProtocol::new("graph"), monitor);
/// let text = token.to_string();
/// assert!(text.starts_with("lro1."));
/// let back: ResumeToken = text.parse().unwrap();
/// assert_eq!(back, token);
/// assert!(!format!("{token:?}").contains("secret"));
/// assert!("lro1.garbage".parse::<ResumeToken>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResumeToken {
    /// The format version ([`TOKEN_VERSION`]).
    #[serde(rename = "v")]
    pub version: u32,
    /// The protocol and its settings.
    pub protocol: SavedProtocol,
    /// The URL to poll.
    pub monitor: String,
    /// The URL whose origin counts as "same origin" for credentials.
    pub origin: String,
    /// When the operation started, in milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    /// Polls sent so far.
    #[serde(default)]
    pub polls: u32,
    /// The request each poll re-sends, for an operation that polls by
    /// re-sending its start request; `None` when it polls a monitor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<SavedRequest>,
}

impl ResumeToken {
    /// A token for polling `monitor` with `protocol`, started now.
    pub fn new(protocol: SavedProtocol, monitor: Url) -> Self {
        ResumeToken {
            version: TOKEN_VERSION,
            protocol,
            origin: monitor.to_string(),
            monitor: monitor.to_string(),
            started_at_ms: to_ms(SystemTime::now()),
            polls: 0,
            request: None,
        }
    }

    /// The monitor URL (it can hold a credential).
    pub fn monitor_url(&self) -> Result<Url, TokenError> {
        token_url(&self.monitor)
    }

    /// The origin URL.
    pub fn origin_url(&self) -> Result<Url, TokenError> {
        token_url(&self.origin)
    }

    /// When the operation started.
    pub fn started_at(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(self.started_at_ms)
    }

    /// Checks the version and the URLs.
    pub fn validate(&self) -> Result<(), TokenError> {
        if self.version > TOKEN_VERSION {
            return Err(TokenError::new(format!(
                "this token was made by a newer version of lro-poller (format {}; this version reads up to {TOKEN_VERSION})",
                self.version
            )));
        }
        if self.version == 0 {
            return Err(TokenError::new("token format 0 does not exist"));
        }
        self.monitor_url()?;
        self.origin_url()?;
        Ok(())
    }
}

pub(crate) fn to_ms(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl fmt::Debug for ResumeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResumeToken")
            .field("version", &self.version)
            .field("protocol", &self.protocol.redacted())
            .field("monitor", &redact_text(&self.monitor))
            .field("origin", &redact_text(&self.origin))
            .field("started_at_ms", &self.started_at_ms)
            .field("polls", &self.polls)
            .field("request", &self.request.as_ref().map(|r| &r.method))
            .finish()
    }
}

impl fmt::Display for ResumeToken {
    /// The compact string form, `lro1.<base64url JSON>`. It contains the
    /// monitor URL unredacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = serde_json::to_vec(self).map_err(|_| fmt::Error)?;
        write!(
            f,
            "{PREFIX}{}.{}",
            self.version,
            URL_SAFE_NO_PAD.encode(json)
        )
    }
}

impl FromStr for ResumeToken {
    type Err = TokenError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.len() > MAX_TOKEN_LEN {
            return Err(TokenError::new(format!(
                "the token is longer than {MAX_TOKEN_LEN} bytes"
            )));
        }
        let rest = text
            .strip_prefix(PREFIX)
            .ok_or_else(|| TokenError::new("not a resume token (it should start with `lro`)"))?;
        let (version, payload) = rest
            .split_once('.')
            .ok_or_else(|| TokenError::new("not a resume token (no `.` after the version)"))?;
        let version: u32 = version
            .parse()
            .map_err(|_| TokenError::new("not a resume token (bad version)"))?;
        if version > TOKEN_VERSION {
            return Err(TokenError::new(format!(
                "this token was made by a newer version of lro-poller (format {version}; this version reads up to {TOKEN_VERSION})"
            )));
        }
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|e| TokenError::new(format!("the token is damaged: {e}")))?;
        let token: ResumeToken = serde_json::from_slice(&json)
            .map_err(|e| TokenError::new(format!("the token is damaged: {e}")))?;
        if token.version != version {
            return Err(TokenError::new("the token's versions disagree"));
        }
        token.validate()?;
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn azure() -> ResumeToken {
        let mut token = ResumeToken::new(
            SavedProtocol::new("azure")
                .with("mode", "operation-location")
                .with("final_state_via", "original-uri")
                .with("original_uri", "https://api.example/things/1?sig=SECRET")
                .with("start_location", "https://api.example/results/1"),
            Url::parse("https://api.example/ops/1?token=SECRET").unwrap(),
        );
        token.polls = 7;
        token
    }

    #[test]
    fn round_trips_through_its_string_form() {
        let token = azure();
        let text = token.to_string();
        assert!(text.starts_with("lro1."));
        assert!(!text.contains('+') && !text.contains('/') && !text.contains('='));
        let back: ResumeToken = text.parse().unwrap();
        assert_eq!(back, token);
        assert_eq!(back.polls, 7);
    }

    #[test]
    fn debug_redacts_the_urls() {
        let shown = format!("{:?}", azure());
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("api.example/ops/1"));
    }

    #[test]
    fn a_newer_version_is_a_clear_error() {
        let mut token = azure();
        token.version = 2;
        let json = serde_json::to_vec(&token).unwrap();
        let text = format!("lro2.{}", URL_SAFE_NO_PAD.encode(json));
        let error = text.parse::<ResumeToken>().unwrap_err();
        assert!(error.to_string().contains("newer version"), "{error}");
        assert!(matches!(
            crate::Error::from(error),
            crate::Error::InvalidToken(_)
        ));
        let error = "lro9.xyz".parse::<ResumeToken>().unwrap_err();
        assert!(error.to_string().contains("newer version"), "{error}");
    }

    #[test]
    fn garbage_is_refused() {
        for bad in [
            "",
            "lro",
            "lro1",
            "lro1.",
            "lro1.!!!",
            "lrox.abc",
            "http://x",
            "lro1.e30",
            "lro18446744073709551616.x",
        ] {
            assert!(bad.parse::<ResumeToken>().is_err(), "{bad:?}");
        }
        let file_url = ResumeToken {
            monitor: "file:///etc/passwd".into(),
            ..azure()
        };
        assert!(file_url.to_string().parse::<ResumeToken>().is_err());
        assert!(
            "x".repeat(MAX_TOKEN_LEN + 1)
                .parse::<ResumeToken>()
                .is_err()
        );
    }

    #[test]
    fn a_saved_protocol_is_one_object_with_its_kind() {
        let legacy = r#"{"kind":"azure","mode":"body","final_state_via":"original-uri","original_uri":"https://a.example/x"}"#;
        let saved: SavedProtocol = serde_json::from_str(legacy).unwrap();
        assert_eq!(saved.name(), "azure");
        assert_eq!(saved.state().len(), 3);
        assert_eq!(saved.state()["mode"], "body");
        let again = serde_json::to_value(&saved).unwrap();
        assert_eq!(
            again,
            serde_json::from_str::<serde_json::Value>(legacy).unwrap()
        );

        for bad in [r#"{"mode":"body"}"#, r#"{"kind":7}"#, r#""graph""#, "[]"] {
            assert!(serde_json::from_str::<SavedProtocol>(bad).is_err(), "{bad}");
        }
        // A state field named `kind` cannot shadow the name.
        let odd = SavedProtocol::new("mine").with("kind", "other");
        let back: SavedProtocol =
            serde_json::from_value(serde_json::to_value(&odd).unwrap()).unwrap();
        assert_eq!(back.name(), "mine");
    }

    #[test]
    fn a_state_must_be_an_object() {
        #[derive(Serialize, serde::Deserialize, PartialEq, Debug)]
        struct State {
            queue: String,
            depth: u32,
        }
        let saved = SavedProtocol::from_state(
            "q",
            &State {
                queue: "a".into(),
                depth: 2,
            },
        )
        .unwrap();
        assert_eq!(
            saved.state_as::<State>().unwrap(),
            State {
                queue: "a".into(),
                depth: 2
            }
        );
        assert!(
            SavedProtocol::from_state("q", &())
                .unwrap()
                .state()
                .is_empty()
        );
        let error = SavedProtocol::from_state("q", &5).unwrap_err();
        assert!(error.message().contains("JSON object"), "{error}");
        let error = SavedProtocol::new("q").state_as::<State>().unwrap_err();
        assert!(error.to_string().contains("`q`"), "{error}");
    }

    #[test]
    fn debug_redacts_urls_in_a_saved_state() {
        let token = ResumeToken::new(
            SavedProtocol::new("mine")
                .with("source", "https://a.example/x?sig=SECRET")
                .with("body", "SECRET")
                .with("count", 3),
            Url::parse("https://a.example/m").unwrap(),
        );
        let shown = format!("{token:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(
            shown.contains("a.example/x") && shown.contains('3'),
            "{shown}"
        );
    }

    #[test]
    fn a_saved_request_keeps_all_but_credentials() {
        let request = http::Request::post("https://a.example/describe?x=1")
            .header("content-type", "application/json")
            .header("Authorization", "Bearer SECRET")
            .header("cookie", "s=SECRET")
            .header("proxy-authorization", "Basic SECRET")
            .header("x-amz-target", "Describe")
            .body(bytes::Bytes::from_static(b"{\"Name\":\"t\"}\n\x00\xff"))
            .unwrap();
        let saved = SavedRequest::from_request(&request);
        assert_eq!(saved.method, "POST");
        let names: Vec<_> = saved.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["content-type", "x-amz-target"]);
        let url = Url::parse("https://a.example/describe?x=1").unwrap();
        let again = saved.to_request(&url).unwrap();
        assert_eq!(again.method(), http::Method::POST);
        assert_eq!(again.uri(), "https://a.example/describe?x=1");
        assert_eq!(again.body(), request.body());
        assert_eq!(again.headers()["x-amz-target"], "Describe");
        assert!(again.headers().get("authorization").is_none());

        let damaged = |change: fn(&mut SavedRequest)| {
            let mut bad = saved.clone();
            change(&mut bad);
            bad.to_request(&url).unwrap_err()
        };
        assert!(damaged(|r| r.body = "!!".into()).message().contains("body"));
        assert!(
            damaged(|r| r.method = "BAD METHOD".into())
                .message()
                .contains("method")
        );
        assert!(
            damaged(|r| r.headers.push(("bad name".into(), "v".into())))
                .message()
                .contains("header")
        );
        assert!(
            damaged(|r| r.headers.push(("x".into(), "bad\nvalue".into())))
                .message()
                .contains("header")
        );
    }
}
