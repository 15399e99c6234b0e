//! Why a resume token cannot be used.

use std::fmt;

/// Why a resume token cannot be used: damaged, from a newer version, or
/// holding a URL the crate does not follow. It converts into
/// [`BuildError::InvalidToken`](crate::BuildError::InvalidToken).
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
