//! A command line that cannot be run, and how it is reported.

use crate::json::{ErrorLine, print_json};

/// A command line that cannot be run.
#[derive(Debug)]
pub struct UsageError {
    message: String,
    /// Printed as it is (clap's own rendering), not after `lro: `.
    verbatim: bool,
}

impl UsageError {
    /// An error saying `message`.
    pub fn new(message: impl Into<String>) -> Self {
        UsageError {
            message: message.into(),
            verbatim: false,
        }
    }

    /// An error already rendered (by clap).
    pub fn rendered(text: impl Into<String>) -> Self {
        UsageError {
            message: text.into(),
            verbatim: true,
        }
    }

    /// What is wrong.
    #[cfg(test)]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prints it: on stderr, and as an `error` event on stdout with `--json`.
    pub fn report(&self, json: bool) {
        if self.verbatim {
            eprintln!("{}", self.message);
        } else {
            eprintln!("lro: {}", self.message);
        }
        if json {
            print_json(&ErrorLine {
                event: "error",
                kind: "usage",
                message: self
                    .message
                    .strip_prefix("error: ")
                    .unwrap_or(&self.message)
                    .to_owned(),
                http_status: None,
                error: None,
                token: None,
            });
        }
    }
}
