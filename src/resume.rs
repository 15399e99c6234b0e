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
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::Error;
use crate::origin::redact;
use crate::protocol::{Auto, Azure, AzureMode, FinalStateVia, Google, Graph, Protocol};

/// The token format this version writes and reads.
pub const TOKEN_VERSION: u32 = 1;

const PREFIX: &str = "lro";

/// The most bytes a token string may have (tokens are small; this bounds the
/// work done on untrusted input).
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// A protocol as a token records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SavedProtocol {
    /// [`Graph`].
    Graph,
    /// [`Auto`].
    Auto,
    /// [`Google`].
    Google,
    /// [`Azure`] with its settings.
    Azure {
        /// The mode.
        mode: AzureMode,
        /// Where the final result comes from.
        final_state_via: FinalStateVia,
        /// The URL of the start request.
        original_uri: String,
        /// The `Location` of the start response.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start_location: Option<String>,
    },
}

impl SavedProtocol {
    /// The protocol to poll with.
    pub fn to_protocol(&self) -> Result<Box<dyn Protocol>, Error> {
        Ok(match self {
            SavedProtocol::Graph => Box::new(Graph),
            SavedProtocol::Auto => Box::new(Auto),
            SavedProtocol::Google => Box::new(Google),
            SavedProtocol::Azure {
                mode,
                final_state_via,
                original_uri,
                start_location,
            } => Box::new(Azure::new(
                *mode,
                *final_state_via,
                token_url(original_uri)?,
                start_location.as_deref().map(token_url).transpose()?,
            )),
        })
    }

    fn redacted(&self) -> SavedProtocol {
        match self {
            SavedProtocol::Azure {
                mode,
                final_state_via,
                original_uri,
                start_location,
            } => SavedProtocol::Azure {
                mode: *mode,
                final_state_via: *final_state_via,
                original_uri: redact_text(original_uri),
                start_location: start_location.as_deref().map(redact_text),
            },
            other => other.clone(),
        }
    }
}

fn token_url(text: &str) -> Result<Url, Error> {
    let url =
        Url::parse(text).map_err(|e| Error::InvalidToken(format!("bad URL in token: {e}")))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(Error::InvalidToken(format!(
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
/// let token = ResumeToken::new(SavedProtocol::Graph, monitor);
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
        }
    }

    /// The monitor URL (it can hold a credential).
    pub fn monitor_url(&self) -> Result<Url, Error> {
        token_url(&self.monitor)
    }

    /// The origin URL.
    pub fn origin_url(&self) -> Result<Url, Error> {
        token_url(&self.origin)
    }

    /// When the operation started.
    pub fn started_at(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(self.started_at_ms)
    }

    /// Checks the version and the URLs.
    pub fn validate(&self) -> Result<(), Error> {
        if self.version > TOKEN_VERSION {
            return Err(Error::InvalidToken(format!(
                "this token was made by a newer version of lro-poller (format {}; this version reads up to {TOKEN_VERSION})",
                self.version
            )));
        }
        if self.version == 0 {
            return Err(Error::InvalidToken("token format 0 does not exist".into()));
        }
        self.monitor_url()?;
        self.origin_url()?;
        self.protocol.to_protocol().map(|_| ())
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
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.len() > MAX_TOKEN_LEN {
            return Err(Error::InvalidToken(format!(
                "the token is longer than {MAX_TOKEN_LEN} bytes"
            )));
        }
        let rest = text.strip_prefix(PREFIX).ok_or_else(|| {
            Error::InvalidToken("not a resume token (it should start with `lro`)".into())
        })?;
        let (version, payload) = rest.split_once('.').ok_or_else(|| {
            Error::InvalidToken("not a resume token (no `.` after the version)".into())
        })?;
        let version: u32 = version
            .parse()
            .map_err(|_| Error::InvalidToken("not a resume token (bad version)".into()))?;
        if version > TOKEN_VERSION {
            return Err(Error::InvalidToken(format!(
                "this token was made by a newer version of lro-poller (format {version}; this version reads up to {TOKEN_VERSION})"
            )));
        }
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|e| Error::InvalidToken(format!("the token is damaged: {e}")))?;
        let token: ResumeToken = serde_json::from_slice(&json)
            .map_err(|e| Error::InvalidToken(format!("the token is damaged: {e}")))?;
        if token.version != version {
            return Err(Error::InvalidToken("the token's versions disagree".into()));
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
            SavedProtocol::Azure {
                mode: AzureMode::OperationLocation,
                final_state_via: FinalStateVia::OriginalUri,
                original_uri: "https://api.example/things/1?sig=SECRET".into(),
                start_location: Some("https://api.example/results/1".into()),
            },
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
        assert!(matches!(error, Error::InvalidToken(_)));
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
}
