//! The command line: what clap parses, and the checks clap cannot make.

use std::io::Read;
use std::time::Duration;

use bytes::Bytes;
use clap::{Args, Parser, Subcommand};
use http::{HeaderName, HeaderValue, Method};
use lro_poller::ResumeToken;
use lro_poller::protocol::{FinalStateVia, ProtocolKind};

/// The most bytes a token may have (the library refuses longer ones).
const MAX_TOKEN_LEN: usize = 16 * 1024;
use url::Url;

use crate::usage::UsageError;

/// Wait on an HTTP long-running operation (202 Accepted + a monitor URL:
/// OneDrive/Microsoft Graph, Azure, Google).
///
/// Exit status: 0 the job succeeded (or, with `start --no-wait`, started;
/// with `cancel`, the service took the cancel request), 1 it failed or was
/// canceled, 2 any other error (HTTP, transport, protocol, deadline, cancel
/// not supported, interrupted), 64 usage (including a bad resume token).
#[derive(Debug, Parser)]
#[command(name = "lro", version, propagate_version = true)]
#[command(subcommand_required = true, arg_required_else_help = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send the initial request, then wait for the operation to end.
    Start(StartArgs),
    /// Wait on an operation that is already running.
    Watch(WatchArgs),
    /// Wait on an operation from a resume token (from `start --no-wait`, an
    /// error or Ctrl-C).
    Resume(ResumeArgs),
    /// Ask the service to cancel an operation, given its resume token. Does
    /// not wait for the end: use `lro resume` with the same token for that.
    Cancel(CancelArgs),
    /// Send a request again and again until a waiter's acceptors (Smithy
    /// `smithy.waiters#waitable`) say success or failure.
    Wait(WaitArgs),
}

/// `lro start`.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// The HTTP method of the initial request.
    #[arg(short = 'X', long, value_name = "METHOD", default_value = "POST")]
    pub method: String,

    /// The request body (JSON); `@FILE` reads it from FILE, `@-` from stdin.
    /// Sets `Content-Type: application/json` unless a -H gives one.
    #[arg(short = 'd', long, value_name = "BODY")]
    pub data: Option<String>,

    /// Where an Azure operation's final result comes from (default: original-uri
    /// for PUT/PATCH, location for POST).
    #[arg(
        long,
        value_name = "location|azure-async-operation|original-uri|operation-location"
    )]
    pub final_state_via: Option<FinalStateVia>,

    /// Also send a POST or PATCH initial request again after a transient
    /// failure (I/O error, 408, 429, 5xx). Without it only requests that are
    /// safe to repeat are: GET, HEAD, OPTIONS, PUT, DELETE, and any request
    /// with an Idempotency-Key or Repeatability-Request-ID and
    /// Repeatability-First-Sent header (-H). The body is sent again as is.
    #[arg(long)]
    pub retry_start: bool,

    /// Do not wait: once the service has answered the initial request, print
    /// the operation's resume token (it can hold a secret) and exit. An
    /// operation that completes at once is reported as usual.
    #[arg(long)]
    pub no_wait: bool,

    #[command(flatten)]
    pub protocol: ProtocolChoice,

    #[command(flatten)]
    pub polling: Polling,

    #[command(flatten)]
    pub common: Common,

    /// The URL of the request that starts the operation.
    #[arg(value_name = "URL")]
    pub url: String,
}

/// `lro wait`.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// The HTTP method of the request (default: GET, or POST with -d).
    #[arg(short = 'X', long, value_name = "METHOD")]
    pub method: Option<String>,

    /// The request body (JSON), re-sent byte for byte with every attempt;
    /// `@FILE` reads it from FILE, `@-` from stdin. Sets `Content-Type:
    /// application/json` unless a -H gives one. `inputOutput` paths see it as
    /// `input`.
    #[arg(short = 'd', long, value_name = "BODY")]
    pub data: Option<String>,

    /// The waiter definitions: a Smithy JSON AST model, or the value of a
    /// `smithy.waiters#waitable` trait.
    #[arg(long = "waiter", value_name = "FILE")]
    pub waiter: std::path::PathBuf,

    /// The waiter to use from FILE.
    #[arg(long, value_name = "NAME")]
    pub name: String,

    #[command(flatten)]
    pub polling: Polling,

    #[command(flatten)]
    pub common: Common,

    /// The URL of the request to send again.
    #[arg(value_name = "URL")]
    pub url: String,
}

/// `lro watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub protocol: ProtocolChoice,

    #[command(flatten)]
    pub polling: Polling,

    #[command(flatten)]
    pub common: Common,

    /// The monitor URL of a running operation (it may hold a token: it is
    /// never printed with its query).
    #[arg(value_name = "MONITOR_URL")]
    pub monitor_url: String,
}

/// `lro resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    #[command(flatten)]
    pub polling: Polling,

    #[command(flatten)]
    pub common: Common,

    /// The resume token (`lro1.…`); `@FILE` reads it from FILE, `-` from
    /// stdin (so it does not show in the process list). It can hold a
    /// secret: it is never printed back. The token's protocol is used.
    #[arg(value_name = "TOKEN")]
    pub token: String,
}

/// `lro cancel`.
#[derive(Debug, Args)]
pub struct CancelArgs {
    #[command(flatten)]
    pub common: Common,

    /// The resume token (`lro1.…`); `@FILE` reads it from FILE, `-` from
    /// stdin. It can hold a secret: it is never printed back.
    #[arg(value_name = "TOKEN")]
    pub token: String,
}

/// `--protocol`, for the subcommands that do not take it from a token.
#[derive(Debug, Args)]
pub struct ProtocolChoice {
    /// The protocol family.
    #[arg(long, value_name = "auto|graph|azure|google", default_value = "auto")]
    pub protocol: ProtocolKind,
}

/// How to poll: for the subcommands that wait.
#[derive(Debug, Args)]
pub struct Polling {
    /// Poll at this fixed interval (fractions allowed; below --min-interval
    /// is refused). A server's Retry-After still applies unless
    /// --ignore-retry-after.
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub interval: Option<Duration>,

    /// The least time between two polls, whatever the interval, the default
    /// policy or the server's Retry-After say (fractions and 0 allowed).
    #[arg(long, value_name = "SECONDS", value_parser = seconds, default_value = "1")]
    pub min_interval: Duration,

    /// Do not read the server's Retry-After.
    #[arg(long)]
    pub ignore_retry_after: bool,

    /// Give up when the operation has not ended after this long. With
    /// `resume`, counted from the operation's original start.
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub timeout: Option<Duration>,
}

/// Options every subcommand takes.
#[derive(Debug, Args)]
pub struct Common {
    /// A request header (repeatable). Sent with the initial request, and with
    /// later requests only when they go to the same origin; Authorization,
    /// Cookie, Proxy-Authorization and API-key headers only where the protocol
    /// wants credentials (not on Graph monitor polls).
    #[arg(short = 'H', long = "header", value_name = "Name: value")]
    pub headers: Vec<String>,

    /// Machine-readable output on stdout, one JSON object per line.
    #[arg(long)]
    pub json: bool,
}

/// A non-negative number of seconds, fractions allowed.
fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| "expected a number of seconds".to_owned())?;
    if !value.is_finite() || value < 0.0 {
        return Err("expected a non-negative number of seconds".into());
    }
    Duration::try_from_secs_f64(value).map_err(|_| "too many seconds".into())
}

/// An absolute `http` or `https` URL. The message never quotes the text: it
/// can hold a token.
pub fn url(text: &str, what: &str) -> Result<Url, UsageError> {
    let url = Url::parse(text.trim())
        .map_err(|e| UsageError::new(format!("{what} is not a valid absolute URL ({e})")))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(UsageError::new(format!(
            "{what} has scheme `{other}`: only http and https are supported"
        ))),
    }
}

/// An HTTP method (case-insensitive: `post` is `POST`).
pub fn method(text: &str) -> Result<Method, UsageError> {
    Method::from_bytes(text.trim().to_ascii_uppercase().as_bytes())
        .map_err(|_| UsageError::new("-X/--method is not a valid HTTP method"))
}

/// The `-H` headers, `Name: value` each (curl's syntax). A malformed one is
/// not quoted back: it may be a credential with a typo.
pub fn headers(raw: &[String]) -> Result<Vec<(HeaderName, HeaderValue)>, UsageError> {
    raw.iter()
        .enumerate()
        .map(|(index, text)| {
            let number = index + 1;
            let Some((name, value)) = text.split_once(':') else {
                return Err(UsageError::new(format!(
                    "-H/--header #{number} is malformed: expected 'Name: value'"
                )));
            };
            let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
                UsageError::new(format!(
                    "-H/--header #{number} is malformed: the name is not a valid header name"
                ))
            })?;
            let value = HeaderValue::from_str(value.trim()).map_err(|_| {
                UsageError::new(format!(
                    "-H/--header #{number} ({name}) is malformed: the value is not a valid header value"
                ))
            })?;
            Ok((name, value))
        })
        .collect()
}

/// The `-d` body: the text itself, or the contents of `@FILE` (`@-`: stdin).
pub fn data(text: &str) -> Result<Bytes, UsageError> {
    let Some(path) = text.strip_prefix('@') else {
        return Ok(Bytes::copy_from_slice(text.as_bytes()));
    };
    if path == "-" {
        let mut body = Vec::new();
        std::io::stdin()
            .read_to_end(&mut body)
            .map_err(|e| UsageError::new(format!("cannot read the body from stdin: {e}")))?;
        return Ok(Bytes::from(body));
    }
    std::fs::read(path)
        .map(Bytes::from)
        .map_err(|e| UsageError::new(format!("cannot read the body from `{path}`: {e}")))
}

/// A resume token: the text itself, or the contents of `@FILE` (`-` or
/// `@-`: stdin). No message quotes the token: it can hold a secret.
pub fn token(text: &str) -> Result<ResumeToken, UsageError> {
    let source = match text {
        "-" | "@-" => None,
        _ => match text.strip_prefix('@') {
            Some(path) => Some(path),
            None => return parse_token(text),
        },
    };
    // One byte more than a token may have: the parser refuses what is longer.
    let limit = u64::try_from(MAX_TOKEN_LEN).unwrap_or(u64::MAX) + 1;
    let mut bytes = Vec::new();
    let read = match source {
        None => std::io::stdin().lock().take(limit).read_to_end(&mut bytes),
        Some(path) => {
            std::fs::File::open(path).and_then(|file| file.take(limit).read_to_end(&mut bytes))
        }
    };
    read.map_err(|e| match source {
        None => UsageError::new(format!("cannot read the resume token from stdin: {e}")),
        Some(path) => UsageError::new(format!("cannot read the resume token from `{path}`: {e}")),
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| UsageError::new("invalid resume token: it is not text"))?;
    parse_token(&text)
}

fn parse_token(text: &str) -> Result<ResumeToken, UsageError> {
    if text.trim().is_empty() {
        return Err(UsageError::new("invalid resume token: it is empty"));
    }
    // The crate's messages never quote the token.
    text.parse().map_err(|e: lro_poller::TokenError| {
        UsageError::new(lro_poller::BuildError::from(e).to_string())
    })
}

/// Whether `arg` looks like a resume token (`lro<version>.…`).
fn looks_like_token(arg: &str) -> bool {
    arg.strip_prefix("lro")
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(version, _)| {
            !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit())
        })
}

/// `text` with every URL of `raw` that carries a query, a fragment or user
/// info replaced by its redacted form, and every resume token by a
/// placeholder (clap quotes arguments in its errors).
pub fn scrub(text: &str, raw: &[String]) -> String {
    let mut text = text.to_owned();
    for arg in raw {
        if looks_like_token(arg) {
            text = text.replace(arg.as_str(), "<resume token>");
            continue;
        }
        let Ok(url) = Url::parse(arg) else { continue };
        let secret = url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some();
        if secret {
            text = text.replace(arg.as_str(), &crate::redact::redact(&url));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn seconds_accept_fractions_and_zero_only() {
        assert_eq!(seconds("0"), Ok(Duration::ZERO));
        assert_eq!(seconds("0.05"), Ok(Duration::from_millis(50)));
        for bad in ["-1", "nan", "inf", "soon", "1e300"] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn headers_follow_curl_syntax() {
        let parsed = headers(&["Authorization: Bearer x".into(), "X-Empty:".into()]).unwrap();
        assert_eq!(parsed[0].0, "authorization");
        assert_eq!(parsed[0].1, "Bearer x");
        assert_eq!(parsed[1].1, "");
        for bad in [
            "Authorization Bearer secret",
            ": value",
            "Bad Name: v",
            "X: a\u{7}b",
        ] {
            let error = headers(&[bad.into()]).unwrap_err();
            assert!(!error.message().contains("secret"), "{}", error.message());
        }
    }

    #[test]
    fn bad_tokens_are_usage_errors_that_do_not_quote_them() {
        for bad in [
            "",
            "  ",
            "SECRET",
            "lro9.SECRET",
            "lro1.SECRET",
            "lro1.!!SECRET",
        ] {
            let error = token(bad).unwrap_err();
            assert!(!error.message().contains("SECRET"), "{}", error.message());
            assert!(error.message().contains("token"), "{}", error.message());
        }
        assert!(token("@/nonexistent/token").is_err());
    }

    #[test]
    fn tokens_are_recognised_for_scrubbing() {
        assert!(looks_like_token("lro1.abc"));
        assert!(looks_like_token("lro12.abc"));
        assert!(!looks_like_token("lro"));
        assert!(!looks_like_token("lrox.abc"));
        assert!(!looks_like_token("http://lro1.example/"));
        let raw = vec!["lro".into(), "lro1.SECRET".into()];
        let text = scrub("unexpected argument 'lro1.SECRET' found", &raw);
        assert!(!text.contains("SECRET"), "{text}");
    }

    #[test]
    fn scrubbing_hides_queries() {
        let raw = vec!["lro".into(), "https://m.example/x?tempauth=SECRET".into()];
        let text = scrub(
            "unexpected argument 'https://m.example/x?tempauth=SECRET'",
            &raw,
        );
        assert!(
            !text.contains("SECRET") && text.contains("m.example"),
            "{text}"
        );
    }
}
