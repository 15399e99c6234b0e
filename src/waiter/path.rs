//! Path expressions: JMESPath, compiled once when a waiter is read.
//!
//! Acceptors select what they compare with a [JMESPath] expression
//! (`"Table.TableStatus"`, `"Reservations[].Instances[].State.Name"`,
//! `"length(input.groups) == length(output.groups)"`). The whole language is
//! supported, through the `jmespath` crate (the JMESPath project's own Rust
//! implementation, which runs the specification's compliance suite); a path
//! that does not compile is an error when the waiter is read, not when the
//! first answer arrives.
//!
//! [JMESPath]: https://jmespath.org/specification.html

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::error::WaiterError;

/// A compiled JMESPath expression.
///
/// Reads from and writes to JSON as the expression's text.
#[derive(Clone)]
pub(crate) struct Path {
    compiled: jmespath::Expression<'static>,
}

impl Path {
    /// Compiles `expression`; a syntax error is [`WaiterError::Path`].
    pub(crate) fn new(expression: &str) -> Result<Path, WaiterError> {
        jmespath::compile(expression)
            .map(|compiled| Path { compiled })
            .map_err(|error| WaiterError::Path {
                path: expression.to_owned(),
                reason: error.to_string(),
            })
    }

    /// The expression's text.
    pub(crate) fn as_str(&self) -> &str {
        self.compiled.as_str()
    }

    /// Evaluates the expression over `data`.
    ///
    /// What JMESPath calls an error at run time (a function given an argument
    /// of the wrong type, such as `length(5)`) yields `null`, which no
    /// comparator matches: a path that cannot be evaluated never decides.
    pub(crate) fn search(&self, data: &Value) -> Value {
        self.compiled
            .search(data)
            .ok()
            .and_then(|found| serde_json::to_value(&*found).ok())
            .unwrap_or(Value::Null)
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Path").field(&self.as_str()).finish()
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for Path {
    fn eq(&self, other: &Path) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Serialize for Path {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Path {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Path::new(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn search(path: &str, data: Value) -> Value {
        Path::new(path).unwrap().search(&data)
    }

    #[test]
    fn the_specifications_examples() {
        // From the JMESPath specification and tutorial.
        assert_eq!(search("a", json!({"a": "foo", "b": "bar"})), json!("foo"));
        assert_eq!(
            search("a.b.c", json!({"a": {"b": {"c": "value"}}})),
            json!("value")
        );
        assert_eq!(search("a.b.c", json!({"a": {"b": 1}})), Value::Null);
        assert_eq!(search("[1]", json!(["a", "b", "c"])), json!("b"));
        assert_eq!(search("[-1]", json!(["a", "b", "c"])), json!("c"));
        assert_eq!(
            search(
                "people[*].first",
                json!({"people": [{"first": "James"}, {"first": "Jacob"}, {"x": 1}]})
            ),
            json!(["James", "Jacob"])
        );
        assert_eq!(
            search(
                "reservations[].instances[].state",
                json!({"reservations": [
                    {"instances": [{"state": "running"}, {"state": "stopped"}]},
                    {"instances": [{"state": "terminated"}]}
                ]})
            ),
            json!(["running", "stopped", "terminated"])
        );
        assert_eq!(
            search(
                "machines[?state=='running'].name",
                json!({"machines": [
                    {"name": "a", "state": "running"}, {"name": "b", "state": "stopped"}
                ]})
            ),
            json!(["a"])
        );
        assert_eq!(search("length(a)", json!({"a": [1, 2, 3]})), json!(3));
        assert_eq!(search("a || b", json!({"b": "x"})), json!("x"));
    }

    #[test]
    fn the_waiters_specifications_input_output_example() {
        let path = Path::new("length(input.groups) == length(output.groups)").unwrap();
        assert_eq!(
            path.search(
                &json!({"input": {"groups": ["a", "b"]}, "output": {"groups": ["x", "y"]}})
            ),
            json!(true)
        );
        assert_eq!(
            path.search(&json!({"input": {"groups": ["a", "b"]}, "output": {"groups": ["x"]}})),
            json!(false)
        );
    }

    #[test]
    fn a_run_time_error_is_null() {
        assert_eq!(search("length(a)", json!({"a": 5})), Value::Null);
    }

    #[test]
    fn a_syntax_error_names_the_path() {
        let error = Path::new("a.[").unwrap_err();
        assert!(error.to_string().contains("a.["), "{error}");
        let parsed: Result<Path, _> = serde_json::from_str(r#""foo[""#);
        assert!(parsed.is_err());
    }

    #[test]
    fn round_trips_as_its_text() {
        let path: Path = serde_json::from_str(r#""Table.TableStatus""#).unwrap();
        assert_eq!(path.as_str(), "Table.TableStatus");
        assert_eq!(
            serde_json::to_string(&path).unwrap(),
            r#""Table.TableStatus""#
        );
        assert_eq!(format!("{path:?}"), r#"Path("Table.TableStatus")"#);
        assert_eq!(path.to_string(), "Table.TableStatus");
        assert_eq!(path, Path::new("Table.TableStatus").unwrap());
        assert_ne!(path, Path::new("Table.Other").unwrap());
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Path>();
    }
}
