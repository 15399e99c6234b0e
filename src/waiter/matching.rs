//! Matching one answer against the acceptors, in order.
//!
//! The first acceptor whose matcher matches decides. When none matches, a
//! successful answer means `retry` and an error answer means `failure` (the
//! specification's two implicit acceptors).

use serde::Serialize;
use serde_json::{Value, json};

use super::acceptor::{Acceptor, AcceptorState, Matcher, PathComparator, PathMatcher};

/// What one call returned, as the acceptors see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Reply<'a> {
    /// A successful answer and its output (`null` when it had no body).
    Output(&'a Value),
    /// An error answer and its error type, when one could be read.
    Error(Option<&'a str>),
}

/// What the acceptors decided about one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Decision {
    /// Where the waiter goes.
    pub(crate) state: AcceptorState,
    /// The position of the acceptor that matched in the waiter's list;
    /// `None` when no acceptor matched and the implicit rule decided.
    pub(crate) acceptor: Option<usize>,
    /// The readable reason the matching acceptor's `message` path selected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<String>,
}

impl Decision {
    /// The decision when no acceptor matched: `retry` on a successful answer,
    /// `failure` on an error answer.
    fn implicit(reply: &Reply<'_>) -> Decision {
        let state = match reply {
            Reply::Output(_) => AcceptorState::Retry,
            Reply::Error(_) => AcceptorState::Failure,
        };
        Decision {
            state,
            acceptor: None,
            message: None,
        }
    }
}

/// Decides about one answer: the first matching acceptor, else the implicit rule.
///
/// `input` is the operation's input, seen by `inputOutput` paths as `input`.
pub(crate) fn decide(acceptors: &[Acceptor], input: &Value, reply: &Reply<'_>) -> Decision {
    acceptors
        .iter()
        .enumerate()
        .find(|(_, acceptor)| matches(&acceptor.matcher, input, reply))
        .map(|(index, acceptor)| Decision {
            state: acceptor.state,
            acceptor: Some(index),
            message: message(acceptor, reply),
        })
        .unwrap_or_else(|| Decision::implicit(reply))
}

/// Whether one matcher matches an answer.
fn matches(matcher: &Matcher, input: &Value, reply: &Reply<'_>) -> bool {
    match (matcher, reply) {
        (Matcher::Success(wanted), reply) => *wanted == matches!(reply, Reply::Output(_)),
        (Matcher::ErrorType(wanted), Reply::Error(Some(found))) => {
            shape_name(wanted) == shape_name(found)
        }
        (Matcher::ErrorType(_), _) => false,
        (Matcher::Output(path), Reply::Output(output)) => compare(path, &path.path.search(output)),
        (Matcher::InputOutput(path), Reply::Output(output)) => {
            let both = json!({ "input": input, "output": output });
            compare(path, &path.path.search(&both))
        }
        (Matcher::Output(_) | Matcher::InputOutput(_), Reply::Error(_)) => false,
    }
}

/// Compares a path's result with what the matcher expects; a result of the
/// wrong JSON type never matches.
fn compare(matcher: &PathMatcher, found: &Value) -> bool {
    let expected = matcher.expected.as_str();
    let is_expected = |value: &Value| value.as_str() == Some(expected);
    match matcher.comparator {
        PathComparator::StringEquals => is_expected(found),
        PathComparator::BooleanEquals => match (found, expected) {
            (Value::Bool(value), "true") => *value,
            (Value::Bool(value), "false") => !*value,
            _ => false,
        },
        PathComparator::AllStringEquals => match found {
            Value::Array(items) => !items.is_empty() && items.iter().all(is_expected),
            _ => false,
        },
        PathComparator::AnyStringEquals => match found {
            Value::Array(items) => items.iter().any(is_expected),
            _ => false,
        },
    }
}

/// The name part of a shape id (`com.example#NotFound` → `NotFound`).
fn shape_name(id: &str) -> &str {
    id.rsplit_once('#').map_or(id, |(_, name)| name)
}

/// The matching acceptor's readable reason: its `message` path over the
/// output, a string or the strings of an array joined with `"; "`.
fn message(acceptor: &Acceptor, reply: &Reply<'_>) -> Option<String> {
    let (Some(path), Reply::Output(output)) = (&acceptor.message, reply) else {
        return None;
    };
    match path.search(output) {
        Value::String(text) => Some(text),
        Value::Array(items) => {
            let texts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            (!texts.is_empty()).then(|| texts.join("; "))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::waiter::path::Path;
    use proptest::prelude::*;

    fn path_matcher(path: &str, comparator: PathComparator, expected: &str) -> PathMatcher {
        PathMatcher::new(Path::new(path).unwrap(), comparator, expected)
    }

    fn output(path: &str, comparator: PathComparator, expected: &str) -> Matcher {
        Matcher::Output(path_matcher(path, comparator, expected))
    }

    fn on(matcher: &Matcher, body: Value) -> bool {
        matches(matcher, &Value::Null, &Reply::Output(&body))
    }

    #[test]
    fn string_equals() {
        let m = output("Table.TableStatus", PathComparator::StringEquals, "ACTIVE");
        assert!(on(&m, json!({"Table": {"TableStatus": "ACTIVE"}})));
        assert!(!on(&m, json!({"Table": {"TableStatus": "CREATING"}})));
        // Case matters: the specification compares strings exactly.
        assert!(!on(&m, json!({"Table": {"TableStatus": "active"}})));
        assert!(!on(&m, json!({"Table": {}})));
        assert!(!on(&m, Value::Null));
    }

    #[test]
    fn boolean_equals() {
        let yes = output("ready", PathComparator::BooleanEquals, "true");
        let no = output("ready", PathComparator::BooleanEquals, "false");
        assert!(on(&yes, json!({"ready": true})));
        assert!(!on(&yes, json!({"ready": false})));
        assert!(on(&no, json!({"ready": false})));
        assert!(!on(&no, json!({"ready": true})));
        // A missing value is null, not false.
        assert!(!on(&no, json!({})));
    }

    #[test]
    fn all_string_equals() {
        let m = output("r[].state", PathComparator::AllStringEquals, "running");
        assert!(on(
            &m,
            json!({"r": [{"state": "running"}, {"state": "running"}]})
        ));
        assert!(!on(
            &m,
            json!({"r": [{"state": "running"}, {"state": "pending"}]})
        ));
        // An empty list does not match.
        assert!(!on(&m, json!({"r": []})));
        assert!(!on(&m, json!({})));
        // A non-string element spoils the list.
        let direct = output("a", PathComparator::AllStringEquals, "x");
        assert!(!on(&direct, json!({"a": ["x", 1]})));
        assert!(on(&direct, json!({"a": ["x"]})));
    }

    #[test]
    fn any_string_equals() {
        let m = output("a", PathComparator::AnyStringEquals, "failed");
        assert!(on(&m, json!({"a": ["ok", "failed"]})));
        assert!(!on(&m, json!({"a": ["ok", "pending"]})));
        assert!(!on(&m, json!({"a": []})));
        assert!(on(&m, json!({"a": [1, null, "failed"]})));
    }

    #[test]
    fn type_mismatches_never_match() {
        let cases = [
            (PathComparator::StringEquals, "5", json!(5)),
            (PathComparator::StringEquals, "true", json!(true)),
            (PathComparator::StringEquals, "x", json!(["x"])),
            (PathComparator::StringEquals, "null", Value::Null),
            (PathComparator::BooleanEquals, "true", json!("true")),
            (PathComparator::BooleanEquals, "false", json!(0)),
            (PathComparator::BooleanEquals, "false", json!([])),
            (PathComparator::AllStringEquals, "x", json!("x")),
            (PathComparator::AllStringEquals, "1", json!([1])),
            (PathComparator::AnyStringEquals, "x", json!("x")),
            (PathComparator::AnyStringEquals, "x", json!({"x": "x"})),
            (PathComparator::AnyStringEquals, "true", json!([true])),
        ];
        for (comparator, expected, value) in cases {
            let m = output("v", comparator, expected);
            assert!(
                !on(&m, json!({ "v": value })),
                "{comparator:?} {expected} {value}"
            );
        }
    }

    #[test]
    fn input_output_sees_both() {
        let m = Matcher::InputOutput(path_matcher(
            "length(input.groups) == length(output.groups)",
            PathComparator::BooleanEquals,
            "true",
        ));
        let input = json!({"groups": ["a", "b"]});
        assert!(matches(
            &m,
            &input,
            &Reply::Output(&json!({"groups": [1, 2]}))
        ));
        assert!(!matches(
            &m,
            &input,
            &Reply::Output(&json!({"groups": [1]}))
        ));
        let named = Matcher::InputOutput(path_matcher(
            "output.name",
            PathComparator::StringEquals,
            "x",
        ));
        assert!(matches(
            &named,
            &input,
            &Reply::Output(&json!({"name": "x"}))
        ));
        let by_input = Matcher::InputOutput(path_matcher(
            "input.groups[0]",
            PathComparator::StringEquals,
            "a",
        ));
        assert!(matches(&by_input, &input, &Reply::Output(&Value::Null)));
        // Checked only on a successful answer.
        assert!(!matches(&by_input, &input, &Reply::Error(Some("X"))));
    }

    #[test]
    fn path_matchers_ignore_error_answers() {
        let m = output("status", PathComparator::StringEquals, "failed");
        assert!(!matches(&m, &Value::Null, &Reply::Error(None)));
    }

    #[test]
    fn success_matches_by_the_kind_of_answer() {
        let body = json!({});
        let yes = Matcher::Success(true);
        let no = Matcher::Success(false);
        assert!(matches(&yes, &Value::Null, &Reply::Output(&body)));
        assert!(!matches(&yes, &Value::Null, &Reply::Error(Some("X"))));
        assert!(matches(&no, &Value::Null, &Reply::Error(Some("X"))));
        assert!(matches(&no, &Value::Null, &Reply::Error(None)));
        assert!(!matches(&no, &Value::Null, &Reply::Output(&body)));
    }

    #[test]
    fn error_type_compares_shape_names() {
        let m = Matcher::ErrorType("ResourceNotFoundException".into());
        let absolute =
            Matcher::ErrorType("com.amazonaws.dynamodb#ResourceNotFoundException".into());
        for matcher in [&m, &absolute] {
            assert!(matches(
                matcher,
                &Value::Null,
                &Reply::Error(Some("ResourceNotFoundException"))
            ));
            assert!(matches(
                matcher,
                &Value::Null,
                &Reply::Error(Some(
                    "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
                ))
            ));
            assert!(!matches(
                matcher,
                &Value::Null,
                &Reply::Error(Some("ValidationException"))
            ));
            assert!(!matches(matcher, &Value::Null, &Reply::Error(None)));
            assert!(!matches(
                matcher,
                &Value::Null,
                &Reply::Output(&json!({"__type": "ResourceNotFoundException"}))
            ));
        }
    }

    fn acceptor(state: AcceptorState, matcher: Matcher) -> Acceptor {
        Acceptor::new(state, matcher)
    }

    #[test]
    fn the_first_match_wins() {
        let acceptors = [
            acceptor(
                AcceptorState::Failure,
                output("status", PathComparator::StringEquals, "failed"),
            ),
            acceptor(AcceptorState::Success, Matcher::Success(true)),
            acceptor(AcceptorState::Failure, Matcher::Success(true)),
        ];
        let failed = json!({"status": "failed"});
        let d = decide(&acceptors, &Value::Null, &Reply::Output(&failed));
        assert_eq!((d.state, d.acceptor), (AcceptorState::Failure, Some(0)));
        let other = json!({"status": "ok"});
        let d = decide(&acceptors, &Value::Null, &Reply::Output(&other));
        assert_eq!((d.state, d.acceptor), (AcceptorState::Success, Some(1)));
        // The same acceptors in the other order decide otherwise.
        let reversed: Vec<Acceptor> = acceptors.iter().rev().cloned().collect();
        let d = decide(&reversed, &Value::Null, &Reply::Output(&failed));
        assert_eq!((d.state, d.acceptor), (AcceptorState::Failure, Some(0)));
        let d = decide(&reversed[1..], &Value::Null, &Reply::Output(&failed));
        assert_eq!((d.state, d.acceptor), (AcceptorState::Success, Some(0)));
    }

    #[test]
    fn no_match_retries_a_success_and_fails_an_error() {
        let acceptors = [acceptor(
            AcceptorState::Success,
            output("status", PathComparator::StringEquals, "done"),
        )];
        let running = json!({"status": "running"});
        assert_eq!(
            decide(&acceptors, &Value::Null, &Reply::Output(&running)),
            Decision {
                state: AcceptorState::Retry,
                acceptor: None,
                message: None
            }
        );
        assert_eq!(
            decide(&acceptors, &Value::Null, &Reply::Error(Some("Throttled"))),
            Decision {
                state: AcceptorState::Failure,
                acceptor: None,
                message: None
            }
        );
        assert_eq!(
            decide(&[], &Value::Null, &Reply::Error(None)).state,
            AcceptorState::Failure
        );
    }

    #[test]
    fn an_error_type_acceptor_turns_an_error_into_success_or_retry() {
        let not_exists = [
            acceptor(AcceptorState::Retry, Matcher::Success(true)),
            acceptor(
                AcceptorState::Success,
                Matcher::ErrorType("NotFound".into()),
            ),
        ];
        let d = decide(&not_exists, &Value::Null, &Reply::Error(Some("NotFound")));
        assert_eq!((d.state, d.acceptor), (AcceptorState::Success, Some(1)));
        let d = decide(
            &not_exists,
            &Value::Null,
            &Reply::Error(Some("AccessDenied")),
        );
        assert_eq!((d.state, d.acceptor), (AcceptorState::Failure, None));
        let d = decide(&not_exists, &Value::Null, &Reply::Output(&json!({})));
        assert_eq!((d.state, d.acceptor), (AcceptorState::Retry, Some(0)));
    }

    #[test]
    fn the_message_path_gives_the_reason() {
        let acceptors = [acceptor(
            AcceptorState::Failure,
            output("state", PathComparator::StringEquals, "failed"),
        )
        .with_message(Path::new("reasons").unwrap())];
        let one = json!({"state": "failed", "reasons": "disk full"});
        let many = json!({"state": "failed", "reasons": ["disk full", 3, "quota"]});
        let none = json!({"state": "failed", "reasons": 3});
        let d = |body: &Value| decide(&acceptors, &Value::Null, &Reply::Output(body)).message;
        assert_eq!(d(&one).as_deref(), Some("disk full"));
        assert_eq!(d(&many).as_deref(), Some("disk full; quota"));
        assert_eq!(d(&none), None);
    }

    fn state() -> impl Strategy<Value = AcceptorState> {
        prop_oneof![
            Just(AcceptorState::Success),
            Just(AcceptorState::Failure),
            Just(AcceptorState::Retry)
        ]
    }

    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("a".to_owned()),
            Just("b".to_owned()),
            Just("c".to_owned())
        ]
    }

    fn matcher() -> impl Strategy<Value = Matcher> {
        let comparator = prop_oneof![
            Just(PathComparator::StringEquals),
            Just(PathComparator::AllStringEquals),
            Just(PathComparator::AnyStringEquals),
        ];
        prop_oneof![
            any::<bool>().prop_map(Matcher::Success),
            word().prop_map(Matcher::ErrorType),
            (comparator, word()).prop_map(|(c, w)| output("v", c, &w)),
            any::<bool>().prop_map(|b| output("f", PathComparator::BooleanEquals, &b.to_string())),
        ]
    }

    fn reply_value() -> impl Strategy<Value = Option<Value>> {
        let leaf = prop_oneof![
            word().prop_map(Value::String),
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
            (0..3u8).prop_map(|n| json!(n)),
        ];
        let v = prop_oneof![
            leaf.clone(),
            proptest::collection::vec(leaf.clone(), 0..4).prop_map(Value::Array),
        ];
        prop_oneof![
            (v, leaf).prop_map(|(v, f)| Some(json!({"v": v, "f": f}))),
            Just(None),
        ]
    }

    proptest! {
        /// For any acceptors and any answer, the decision is the first acceptor
        /// that matches on its own, or the implicit rule.
        #[test]
        fn decide_is_the_first_match_or_the_implicit_rule(
            list in proptest::collection::vec((state(), matcher()), 0..6),
            body in reply_value(),
            error in proptest::option::of(word()),
        ) {
            let acceptors: Vec<Acceptor> = list.into_iter().map(|(s, m)| acceptor(s, m)).collect();
            let reply = match &body {
                Some(body) => Reply::Output(body),
                None => Reply::Error(error.as_deref()),
            };
            let decision = decide(&acceptors, &Value::Null, &reply);
            let first = acceptors.iter().position(|a| matches(&a.matcher, &Value::Null, &reply));
            prop_assert_eq!(decision.acceptor, first);
            match first {
                Some(index) => prop_assert_eq!(decision.state, acceptors[index].state),
                None => prop_assert_eq!(
                    decision.state,
                    if body.is_some() { AcceptorState::Retry } else { AcceptorState::Failure }
                ),
            }
        }

        /// allStringEquals matches exactly the non-empty arrays of the expected string;
        /// anyStringEquals exactly the arrays holding it.
        #[test]
        fn list_comparators_follow_their_definition(items in proptest::collection::vec(prop_oneof![word().prop_map(Value::String), any::<bool>().prop_map(Value::Bool)], 0..5)) {
            let all = path_matcher("@", PathComparator::AllStringEquals, "a");
            let any_ = path_matcher("@", PathComparator::AnyStringEquals, "a");
            let value = Value::Array(items.clone());
            let a = Value::String("a".into());
            prop_assert_eq!(compare(&all, &value), !items.is_empty() && items.iter().all(|i| *i == a));
            prop_assert_eq!(compare(&any_, &value), items.contains(&a));
        }
    }
}
