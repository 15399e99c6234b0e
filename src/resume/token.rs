//! The token itself: its fields, its string form, its checks.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use url::Url;

use super::error::TokenError;
use super::saved::{SavedProtocol, SavedRequest, redact_text};
use super::schedule::SavedSchedule;

/// The token format this version writes and reads.
pub(crate) const TOKEN_VERSION: u32 = 1;

const PREFIX: &str = "lro";

/// The most bytes a token string may have (tokens are small; this bounds the
/// work done on untrusted input).
pub(crate) const MAX_TOKEN_LEN: usize = 16 * 1024;

fn token_url(text: &str) -> Result<Url, TokenError> {
    let url = Url::parse(text).map_err(|e| TokenError::new(format!("bad URL in token: {e}")))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(TokenError::new(format!(
            "URL with scheme `{other}` in token"
        ))),
    }
}

/// What is needed to go on polling an operation, in another process or later.
///
/// ```
/// use lro_poller::{ResumeToken};
/// use lro_poller::protocol::SavedProtocol;
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
    /// The format version (1 for now).
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
    pub(crate) request: Option<SavedRequest>,
    /// The URL of the final result, once the job has succeeded and only its
    /// result is left to fetch; `None` while the job may still run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) result: Option<String>,
    /// When the next poll is due, in milliseconds since the Unix epoch (UTC);
    /// `None`: at once (a poll was in flight, or a token of 0.1.0).
    #[serde(default, rename = "due_ms", skip_serializing_if = "Option::is_none")]
    pub(crate) next_poll_at_ms: Option<u64>,
    /// The schedule's running state; `None`: it starts over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) schedule: Option<SavedSchedule>,
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
            result: None,
            next_poll_at_ms: None,
            schedule: None,
        }
    }

    /// The same token, for a job that has succeeded and whose result is at
    /// `result`, still to fetch.
    pub(crate) fn with_result(mut self, result: &Url) -> Self {
        self.result = Some(result.to_string());
        self
    }

    /// Where the final result is, when the job has succeeded and only its
    /// result is left to fetch; `None` while the job may still run.
    pub fn result_url(&self) -> Result<Option<Url>, TokenError> {
        self.result.as_deref().map(token_url).transpose()
    }

    /// The monitor URL (it can hold a credential).
    pub fn monitor_url(&self) -> Result<Url, TokenError> {
        token_url(&self.monitor)
    }

    /// The request each poll re-sends (to the monitor URL), for an operation
    /// that polls by re-sending its start request; `None` when it polls a
    /// monitor. Credentials (`Authorization`, `Cookie`) are never kept.
    pub fn request(&self) -> Result<Option<http::Request<bytes::Bytes>>, TokenError> {
        match &self.request {
            Some(saved) => saved.to_request(&self.monitor_url()?).map(Some),
            None => Ok(None),
        }
    }

    /// The origin URL.
    pub fn origin_url(&self) -> Result<Url, TokenError> {
        token_url(&self.origin)
    }

    /// When the operation started.
    pub fn started_at(&self) -> SystemTime {
        from_ms(self.started_at_ms)
    }

    /// When the next poll is due, on the wall clock (UTC): a resumed
    /// operation waits until then (never sooner than the policy's floor after
    /// the last poll, never past its deadline). `None` when the token was
    /// taken with a poll in flight, or by lro-poller 0.1.0: the resumed
    /// operation polls after its initial delay.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::{Duration, SystemTime};
    /// use futures::StreamExt;
    /// use lro_poller::Operation;
    /// use lro_poller::policy::{ConstantBuilder, PollPolicy};
    /// use lro_poller::testing::{ScriptedTransport, VirtualTimer};
    ///
    /// let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    /// let transport = ScriptedTransport::new().with_json(202, r#"{"status":"inProgress"}"#);
    /// let mut operation = Operation::monitor(transport, "https://api.example/monitor/1")
    ///     .with_policy(PollPolicy::new(ConstantBuilder::new(Duration::from_secs(30))))
    ///     .with_timer(VirtualTimer::with_wall_clock(wall))
    ///     .build()
    ///     .unwrap();
    /// futures::executor::block_on(operation.next()).unwrap().unwrap();
    /// let token = operation.resume_token().unwrap();
    /// assert_eq!(token.next_poll_at(), Some(wall + Duration::from_secs(30)));
    /// # }
    /// ```
    pub fn next_poll_at(&self) -> Option<SystemTime> {
        self.next_poll_at_ms.map(from_ms)
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
        self.result_url()?;
        Ok(())
    }
}

/// `ms` milliseconds after the Unix epoch (the epoch itself when the
/// platform's clock cannot hold that time: a token is untrusted input).
pub(crate) fn from_ms(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH
        .checked_add(Duration::from_millis(ms))
        .unwrap_or(SystemTime::UNIX_EPOCH)
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
            .field("result", &self.result.as_deref().map(redact_text))
            .field("next_poll_at_ms", &self.next_poll_at_ms)
            .field("schedule", &self.schedule.is_some())
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
    fn a_result_left_to_fetch_round_trips_and_is_checked() {
        let plain = azure();
        assert_eq!(plain.result_url().unwrap(), None);
        assert!(!plain.to_string().is_empty());
        let result = Url::parse("https://api.example/things/1?sig=SECRET").unwrap();
        let token = azure().with_result(&result);
        assert_eq!(token.result_url().unwrap(), Some(result));
        let back: ResumeToken = token.to_string().parse().unwrap();
        assert_eq!(back, token);
        let shown = format!("{token:?}");
        assert!(
            !shown.contains("SECRET") && shown.contains("things/1"),
            "{shown}"
        );
        // A token without the field reads as before; a bad one is refused.
        let mut bad = azure();
        bad.result = Some("ftp://api.example/x".into());
        assert!(bad.validate().is_err());
        assert!(bad.to_string().parse::<ResumeToken>().is_err());
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
            crate::BuildError::from(error),
            crate::BuildError::InvalidToken(_)
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
        // Text that is not a URL is hidden whole, not shown as a bad URL.
        assert!(
            shown.contains(r#""body": String("…")"#) && !shown.contains("invalid URL"),
            "{shown}"
        );
    }
}
