//! What a token records of a protocol and of a re-sent request: plain data.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use super::error::TokenError;
use crate::origin::redact;

/// A protocol as a token records it: its [name](crate::protocol::Protocol::name)
/// and the state it [saved](crate::protocol::Protocol::save), a JSON object.
///
/// Plain data: it knows no protocol. Resuming hands the state back to the
/// protocol of that name that the caller supplies (the built-in families are
/// always known). In a token's JSON it is one object, `{"kind": <name>,
/// ...state}`, the form every `lro1` token has had.
///
/// ```
/// use lro_poller::protocol::SavedProtocol;
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
    pub(super) fn redacted(&self) -> SavedProtocol {
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
/// ([`Next::resend`](crate::protocol::Next::resend)): its method, the
/// headers the caller set (never `Authorization`, `Cookie` or
/// `Proxy-Authorization`: the transport adds credentials again) and its body.
/// The URL is the token's monitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SavedRequest {
    /// The method.
    pub(crate) method: String,
    /// Header names and values (values as text; others are not kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) headers: Vec<(String, String)>,
    /// The body, base64url without padding.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) body: String,
}

/// Headers a token never records.
const SECRET_HEADERS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

impl SavedRequest {
    /// Records `request` (see the type's docs for what is kept).
    pub(crate) fn from_request<B: AsRef<[u8]>>(request: &http::Request<B>) -> Self {
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
    pub(crate) fn to_request(&self, url: &Url) -> Result<http::Request<bytes::Bytes>, TokenError> {
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

/// A URL in a token, redacted for `Debug`.
pub(super) fn redact_text(text: &str) -> String {
    Url::parse(text)
        .map(|u| redact(&u))
        .unwrap_or_else(|_| "<invalid URL>".into())
}

#[cfg(test)]
mod tests {
    use super::*;
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
