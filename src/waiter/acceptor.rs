//! Acceptors as data: a state to move to and a matcher that says when.
//!
//! The shapes and their JSON names are those of the `smithy.waiters#waitable`
//! trait, so an acceptor reads exactly as a service model publishes it:
//!
//! ```json
//! { "state": "failure",
//!   "matcher": { "output": { "path": "Table.TableStatus",
//!                            "expected": "DELETING",
//!                            "comparator": "stringEquals" } } }
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use super::path::Path;

/// The state an acceptor moves the waiter to when its matcher matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum AcceptorState {
    /// The resource reached the wanted state: stop, successfully.
    Success,
    /// The resource can never reach the wanted state: stop, failed.
    Failure,
    /// Not there yet: wait and send the request again.
    Retry,
}

impl AcceptorState {
    /// Whether the waiter stops in this state (`success` or `failure`).
    pub fn is_terminal(self) -> bool {
        !matches!(self, AcceptorState::Retry)
    }

    /// The state as the specification spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            AcceptorState::Success => "success",
            AcceptorState::Failure => "failure",
            AcceptorState::Retry => "retry",
        }
    }
}

impl fmt::Display for AcceptorState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// How a path's result is compared with the expected value.
///
/// A result of another JSON type than the comparator needs never matches
/// (`stringEquals` on the number `5` with `expected: "5"` does not match).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(clippy::enum_variant_names)] // the specification's names
pub(crate) enum PathComparator {
    /// The result is a string equal to `expected`.
    StringEquals,
    /// The result is a boolean equal to `expected` (`"true"` or `"false"`).
    BooleanEquals,
    /// The result is a non-empty array whose every element is a string equal
    /// to `expected` (an empty array does not match).
    AllStringEquals,
    /// The result is an array with at least one string equal to `expected`.
    AnyStringEquals,
}

/// A path over a JSON document, a comparator and the value it expects
/// (the `output` and `inputOutput` matchers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawPathMatcher")]
pub(crate) struct PathMatcher {
    /// What to select.
    pub(crate) path: Path,
    /// The expected value, always written as a string (`"true"` for a boolean).
    pub(crate) expected: String,
    /// How to compare.
    pub(crate) comparator: PathComparator,
}

#[derive(Deserialize)]
struct RawPathMatcher {
    path: Path,
    expected: String,
    comparator: PathComparator,
}

impl TryFrom<RawPathMatcher> for PathMatcher {
    type Error = String;

    fn try_from(raw: RawPathMatcher) -> Result<Self, String> {
        if raw.comparator == PathComparator::BooleanEquals
            && raw.expected != "true"
            && raw.expected != "false"
        {
            return Err(format!(
                "booleanEquals expects \"true\" or \"false\", not {:?}",
                raw.expected
            ));
        }
        Ok(PathMatcher {
            path: raw.path,
            expected: raw.expected,
            comparator: raw.comparator,
        })
    }
}

impl PathMatcher {
    /// A matcher; `expected` for [`PathComparator::BooleanEquals`] must be
    /// `"true"` or `"false"` (anything else never matches).
    #[cfg(test)]
    pub(crate) fn new(path: Path, comparator: PathComparator, expected: impl Into<String>) -> Self {
        PathMatcher {
            path,
            expected: expected.into(),
            comparator,
        }
    }
}

/// When an acceptor applies: exactly one of the four kinds of the
/// specification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) enum Matcher {
    /// A path over the output of a successful answer.
    Output(PathMatcher),
    /// A path over `{"input": …, "output": …}` of a successful answer.
    InputOutput(PathMatcher),
    /// `true`: the answer is a success; `false`: the answer is an error.
    Success(bool),
    /// The answer is an error of this type (a shape id's name part is
    /// compared: `com.example#NotFound` matches `NotFound`).
    ErrorType(String),
}

/// One acceptor: a state and the matcher that moves the waiter to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Acceptor {
    /// Where the waiter goes when the matcher matches.
    pub(crate) state: AcceptorState,
    /// When.
    pub(crate) matcher: Matcher,
    /// A path over the output giving a readable reason (a string or an array
    /// of strings), for `failure` acceptors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<Path>,
}

impl Acceptor {
    /// An acceptor without a message.
    #[cfg(test)]
    pub(crate) fn new(state: AcceptorState, matcher: Matcher) -> Self {
        Acceptor {
            state,
            matcher,
            message: None,
        }
    }

    /// Sets the path of the readable reason.
    #[cfg(test)]
    pub(crate) fn with_message(mut self, message: Path) -> Self {
        self.message = Some(message);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_matcher_kind_as_the_specification_writes_it() {
        let acceptors: Vec<Acceptor> = serde_json::from_str(
            r#"[
              {"state": "success", "matcher": {"success": true}},
              {"state": "retry", "matcher": {"errorType": "NotFound"}},
              {"state": "failure", "matcher": {"output": {"path": "status", "comparator": "stringEquals", "expected": "failed"}},
               "message": "reason"},
              {"state": "success", "matcher": {"inputOutput": {"path": "length(input.groups) == length(output.groups)", "expected": "true", "comparator": "booleanEquals"}}},
              {"state": "success", "matcher": {"output": {"path": "a[]", "expected": "x", "comparator": "allStringEquals"}}},
              {"state": "success", "matcher": {"output": {"path": "a[]", "expected": "x", "comparator": "anyStringEquals"}}}
            ]"#,
        )
        .unwrap();
        assert_eq!(acceptors[0].matcher, Matcher::Success(true));
        assert_eq!(acceptors[1].state, AcceptorState::Retry);
        assert_eq!(acceptors[1].matcher, Matcher::ErrorType("NotFound".into()));
        assert_eq!(acceptors[2].message.as_ref().unwrap().as_str(), "reason");
        let Matcher::Output(output) = &acceptors[2].matcher else {
            panic!("{:?}", acceptors[2].matcher)
        };
        assert_eq!(output.comparator, PathComparator::StringEquals);
        assert_eq!(output.expected, "failed");
        assert!(
            matches!(&acceptors[3].matcher, Matcher::InputOutput(m) if m.comparator == PathComparator::BooleanEquals)
        );
        assert!(
            matches!(&acceptors[4].matcher, Matcher::Output(m) if m.comparator == PathComparator::AllStringEquals)
        );
        assert!(
            matches!(&acceptors[5].matcher, Matcher::Output(m) if m.comparator == PathComparator::AnyStringEquals)
        );

        let written = serde_json::to_value(&acceptors).unwrap();
        let again: Vec<Acceptor> = serde_json::from_value(written).unwrap();
        assert_eq!(again, acceptors);
    }

    #[test]
    fn rejects_what_the_specification_forbids() {
        let bad = [
            // Two members of the matcher union at once.
            r#"{"state": "success", "matcher": {"success": true, "errorType": "X"}}"#,
            // An unknown state.
            r#"{"state": "done", "matcher": {"success": true}}"#,
            // An unknown comparator.
            r#"{"state": "success", "matcher": {"output": {"path": "a", "expected": "x", "comparator": "numberEquals"}}}"#,
            // A boolean comparator expecting something else than true/false.
            r#"{"state": "success", "matcher": {"output": {"path": "a", "expected": "yes", "comparator": "booleanEquals"}}}"#,
            // A path that does not compile.
            r#"{"state": "success", "matcher": {"output": {"path": "a[", "expected": "x", "comparator": "stringEquals"}}}"#,
            // No matcher.
            r#"{"state": "success"}"#,
        ];
        for text in bad {
            assert!(
                serde_json::from_str::<Acceptor>(text).is_err(),
                "accepted {text}"
            );
        }
    }

    #[test]
    fn only_retry_goes_on() {
        assert!(AcceptorState::Success.is_terminal());
        assert!(AcceptorState::Failure.is_terminal());
        assert!(!AcceptorState::Retry.is_terminal());
        assert_eq!(format!("{:>7}", AcceptorState::Retry), "  retry");
    }
}
