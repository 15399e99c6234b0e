//! What building an operation can fail with, before anything is sent.

use std::fmt;

use crate::origin::UrlRejection;
use crate::resume::TokenError;

/// Why an operation could not be built: returned by
/// [`OperationBuilder::build`](crate::OperationBuilder::build), and by the
/// first poll (and the awaited result) of an operation made with
/// [`OperationBuilder::into_operation`](crate::OperationBuilder::into_operation)
/// as [`Error::Build`](crate::Error::Build). Nothing was sent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BuildError {
    /// No timer was given and none of the timer features is on (or the
    /// `tokio` feature is on but the operation was built outside a tokio
    /// runtime with `futures-timer` off).
    NoTimer,
    /// The start or monitor URL is not an absolute URL.
    #[non_exhaustive]
    InvalidUrl {
        /// Which URL: `"start"` or `"monitor"`.
        role: &'static str,
        /// Why it does not parse.
        reason: url::ParseError,
    },
    /// The start or monitor URL is not `http` or `https`.
    #[non_exhaustive]
    UnsupportedScheme {
        /// Which URL: `"start"` or `"monitor"`.
        role: &'static str,
        /// The scheme it has.
        scheme: String,
    },
    /// The resume token cannot be used (damaged, from a newer version, or
    /// its protocol's state does not restore).
    InvalidToken(TokenError),
    /// The resume token names a protocol the operation was not given (pass
    /// it with [`OperationBuilder::with_protocol`](crate::OperationBuilder::with_protocol)).
    #[non_exhaustive]
    UnknownProtocol {
        /// The protocol's name in the token.
        name: String,
        /// The names of the protocols the operation knew.
        known: Vec<&'static str>,
    },
    /// The monitor URL (given, or in the token) is one the operation's
    /// [`UrlPolicy`](crate::UrlPolicy) does not follow.
    UrlRejected(UrlRejection),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::NoTimer => f.write_str(
                "invalid configuration: no timer: pass one with with_timer, or enable the `futures-timer` feature (or `tokio`, inside a tokio runtime)",
            ),
            BuildError::InvalidUrl { role, reason } => write!(
                f,
                "invalid configuration: the {role} URL is not a valid absolute URL: {reason}"
            ),
            BuildError::UnsupportedScheme { role, scheme } => write!(
                f,
                "invalid configuration: the {role} URL has scheme `{scheme}`: only http and https are supported"
            ),
            BuildError::InvalidToken(error) => write!(f, "invalid resume token: {error}"),
            BuildError::UnknownProtocol { name, known } => write!(
                f,
                "the resume token is for protocol `{name}`, which this operation was not given (known: {})",
                known.join(", ")
            ),
            BuildError::UrlRejected(rejection) => rejection.fmt(f),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::InvalidUrl { reason, .. } => Some(reason),
            BuildError::InvalidToken(error) => Some(error),
            BuildError::UrlRejected(rejection) => Some(rejection),
            _ => None,
        }
    }
}

impl From<TokenError> for BuildError {
    fn from(error: TokenError) -> Self {
        BuildError::InvalidToken(error)
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_build_error_keeps_its_cause() {
        let parse = url::Url::parse("not a url").unwrap_err();
        let invalid = BuildError::InvalidUrl {
            role: "monitor",
            reason: parse,
        };
        assert_eq!(invalid.source().unwrap().to_string(), parse.to_string());
        let token = "lro1.!".parse::<crate::ResumeToken>().unwrap_err();
        let bad = BuildError::from(token.clone());
        assert_eq!(bad.source().unwrap().to_string(), token.to_string());
        let https = url::Url::parse("https://a.example/start").unwrap();
        let ftp = url::Url::parse("ftp://a.example/m").unwrap();
        let rejection = crate::UrlPolicy::new().check(&https, &ftp).unwrap_err();
        let refused = BuildError::UrlRejected(rejection.clone());
        assert_eq!(refused.source().unwrap().to_string(), rejection.to_string());
        assert_eq!(refused.to_string(), rejection.to_string());
        assert!(BuildError::NoTimer.source().is_none());
        let unknown = BuildError::UnknownProtocol {
            name: "blob-copy".into(),
            known: vec!["graph", "azure"],
        };
        assert!(unknown.source().is_none());
        assert!(
            unknown.to_string().ends_with("(known: graph, azure)"),
            "{unknown}"
        );
    }
}
