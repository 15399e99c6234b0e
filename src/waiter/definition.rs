//! Waiter definitions, read from the Smithy JSON AST.
//!
//! A service model publishes its waiters as the `smithy.waiters#waitable`
//! trait of an operation: a map of waiter names to waiters. [`Waiters`] reads
//! that map as it is, or a whole JSON AST model (`{"smithy": "2.0", "shapes":
//! {…}}`) and collects the waiters of every operation in it, so a definition
//! can be pasted from the model unchanged.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::acceptor::{Acceptor, AcceptorState};
use super::error::WaiterError;
use super::model::WireNames;

/// The trait's id in a Smithy model.
const WAITABLE_TRAIT: &str = "smithy.waiters#waitable";

/// The default `minDelay`, in seconds.
const DEFAULT_MIN_DELAY: u64 = 2;
/// The default `maxDelay`, in seconds.
const DEFAULT_MAX_DELAY: u64 = 120;

/// One waiter: ordered acceptors and the bounds of the delay between attempts.
///
/// Reading checks what the specification requires: at least one `success`
/// acceptor, `1 ≤ minDelay ≤ maxDelay` (2 s and 120 s when not given), paths
/// that compile, `booleanEquals` expecting `"true"` or `"false"`. A waiter is
/// read from a model by [`Waiters`]; its acceptors decide inside a
/// [`WaiterProtocol`](super::WaiterProtocol).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "RawWaiter")]
#[non_exhaustive]
pub struct Waiter {
    /// What the waiter waits for (CommonMark).
    #[serde(skip_serializing_if = "Option::is_none")]
    documentation: Option<String>,
    /// The acceptors, tried in order.
    acceptors: Vec<Acceptor>,
    /// The shortest delay between attempts, in seconds.
    min_delay: u64,
    /// The longest delay between attempts, in seconds.
    max_delay: u64,
    /// Whether the service says not to use this waiter any more.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    deprecated: bool,
    /// The service's tags for the waiter.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    /// Where the wire differs from the model (from a whole model only).
    #[serde(skip_serializing_if = "Option::is_none")]
    wire_names: Option<WireNames>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawWaiter {
    #[serde(default)]
    documentation: Option<String>,
    acceptors: Vec<Acceptor>,
    #[serde(default)]
    min_delay: Option<u64>,
    #[serde(default)]
    max_delay: Option<u64>,
    #[serde(default)]
    deprecated: bool,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    wire_names: Option<WireNames>,
}

impl TryFrom<RawWaiter> for Waiter {
    type Error = String;

    fn try_from(raw: RawWaiter) -> Result<Self, String> {
        let waiter = Waiter {
            documentation: raw.documentation,
            acceptors: raw.acceptors,
            min_delay: raw.min_delay.unwrap_or(DEFAULT_MIN_DELAY),
            max_delay: raw.max_delay.unwrap_or(DEFAULT_MAX_DELAY),
            deprecated: raw.deprecated,
            tags: raw.tags,
            wire_names: raw.wire_names,
        };
        waiter.check()?;
        Ok(waiter)
    }
}

impl Waiter {
    /// A waiter with these acceptors and the default delays (2 s, 120 s).
    #[cfg(test)]
    pub(crate) fn new(acceptors: Vec<Acceptor>) -> Self {
        Waiter {
            documentation: None,
            acceptors,
            min_delay: DEFAULT_MIN_DELAY,
            max_delay: DEFAULT_MAX_DELAY,
            deprecated: false,
            tags: Vec::new(),
            wire_names: None,
        }
    }

    /// Sets the delay bounds, in whole seconds (to wait faster or slower than
    /// the model says).
    pub fn with_delays(mut self, min_delay: u64, max_delay: u64) -> Self {
        self.min_delay = min_delay;
        self.max_delay = max_delay;
        self
    }

    /// The acceptors, tried in order.
    pub(crate) fn acceptors(&self) -> &[Acceptor] {
        &self.acceptors
    }

    /// Where the wire differs from the model, when it was read from a whole
    /// model.
    pub(crate) fn wire_names(&self) -> Option<&WireNames> {
        self.wire_names.as_ref()
    }

    /// What the waiter waits for (CommonMark), when the model says.
    pub fn documentation(&self) -> Option<&str> {
        self.documentation.as_deref()
    }

    /// Whether the service says not to use this waiter any more.
    pub fn is_deprecated(&self) -> bool {
        self.deprecated
    }

    /// The service's tags for the waiter.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// `minDelay` as a duration.
    pub fn min_delay(&self) -> Duration {
        Duration::from_secs(self.min_delay)
    }

    /// `maxDelay` as a duration.
    pub fn max_delay(&self) -> Duration {
        Duration::from_secs(self.max_delay)
    }

    /// Checks what the specification requires of a waiter.
    fn check(&self) -> Result<(), String> {
        if !self
            .acceptors
            .iter()
            .any(|acceptor| acceptor.state == AcceptorState::Success)
        {
            return Err("a waiter needs at least one acceptor with state \"success\"".into());
        }
        if self.min_delay < 1 || self.max_delay < 1 {
            return Err(format!(
                "minDelay and maxDelay must be at least 1 second (got {} and {})",
                self.min_delay, self.max_delay
            ));
        }
        if self.min_delay > self.max_delay {
            return Err(format!(
                "minDelay ({}) is greater than maxDelay ({})",
                self.min_delay, self.max_delay
            ));
        }
        Ok(())
    }
}

/// Named waiters, read from a `smithy.waiters#waitable` trait value or from a
/// whole Smithy JSON AST model.
///
/// ```
/// use lro_poller::waiter::Waiters;
///
/// let waiters = Waiters::from_json(r#"{
///   "smithy": "2.0",
///   "shapes": {
///     "com.example#HeadBucket": {
///       "type": "operation",
///       "traits": {
///         "smithy.waiters#waitable": {
///           "BucketExists": {
///             "documentation": "Wait until a bucket exists",
///             "acceptors": [
///               {"state": "success", "matcher": {"success": true}},
///               {"state": "retry", "matcher": {"errorType": "NotFound"}}
///             ]
///           }
///         }
///       }
///     }
///   }
/// }"#)?;
/// let waiter = waiters.get("BucketExists")?;
/// assert_eq!(waiter.min_delay(), std::time::Duration::from_secs(2));
/// assert_eq!(waiter.documentation(), Some("Wait until a bucket exists"));
/// assert_eq!(waiters.operation("BucketExists"), Some("com.example#HeadBucket"));
/// assert!(waiters.get("BucketGone").is_err());
/// # Ok::<(), lro_poller::waiter::WaiterError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Waiters {
    entries: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    operation: Option<String>,
    waiter: Waiter,
}

impl Waiters {
    /// Reads waiters from JSON: a whole model (an object with `shapes`), a
    /// shape's `traits` object, or the trait's value (a map of names to
    /// waiters).
    ///
    /// From a whole model, each waiter also learns where the wire differs
    /// from the model, as the waiters specification asks: members renamed
    /// by `smithy.api#jsonName` (a JSON output's wire names are read back as
    /// member names, so paths name members; not for services that speak
    /// only `awsJson1_0`/`awsJson1_1`, which ignore the trait), and error
    /// codes given by `aws.protocols#awsQueryError` (a code read from an
    /// error answer is named by its error shape, so `errorType` names modeled
    /// errors).
    pub fn from_json(text: &str) -> Result<Waiters, WaiterError> {
        let value: Value = serde_json::from_str(text).map_err(WaiterError::definition)?;
        Waiters::from_value(value)
    }

    /// [`Waiters::from_json`] over a parsed document.
    pub fn from_value(value: Value) -> Result<Waiters, WaiterError> {
        let mut waiters = Waiters::default();
        let Value::Object(mut document) = value else {
            return Err(WaiterError::Definition {
                reason: "expected a JSON object".into(),
            });
        };
        if let Some(shapes) = document.remove("shapes") {
            let Value::Object(shapes) = shapes else {
                return Err(WaiterError::Definition {
                    reason: "\"shapes\" is not an object".into(),
                });
            };
            for (id, shape) in &shapes {
                if let Some(trait_value) = shape.get("traits").and_then(|t| t.get(WAITABLE_TRAIT)) {
                    let wire = WireNames::of(&shapes, id);
                    waiters.add_trait(Some(id), trait_value.clone(), wire)?;
                }
            }
        } else if let Some(trait_value) = document.remove(WAITABLE_TRAIT) {
            waiters.add_trait(None, trait_value, None)?;
        } else {
            waiters.add_trait(None, Value::Object(document), None)?;
        }
        Ok(waiters)
    }

    fn add_trait(
        &mut self,
        operation: Option<&str>,
        value: Value,
        wire: Option<WireNames>,
    ) -> Result<(), WaiterError> {
        let map: BTreeMap<String, Value> =
            serde_json::from_value(value).map_err(|error| WaiterError::Definition {
                reason: format!("{WAITABLE_TRAIT} is a map of waiter names to waiters: {error}"),
            })?;
        for (name, value) in map {
            let mut waiter: Waiter =
                serde_json::from_value(value).map_err(|error| WaiterError::Definition {
                    reason: format!("waiter {name}: {error}"),
                })?;
            waiter.wire_names = wire.clone();
            self.insert(name, operation.map(str::to_owned), waiter)?;
        }
        Ok(())
    }

    /// Adds a waiter by name. Names are unique case-insensitively, as in a
    /// service's closure.
    pub fn insert(
        &mut self,
        name: String,
        operation: Option<String>,
        waiter: Waiter,
    ) -> Result<(), WaiterError> {
        if let Some(taken) = self.names().find(|taken| taken.eq_ignore_ascii_case(&name)) {
            return Err(WaiterError::Definition {
                reason: format!("waiter {name} is defined twice (as {taken})"),
            });
        }
        waiter.check().map_err(|reason| WaiterError::Definition {
            reason: format!("waiter {name}: {reason}"),
        })?;
        self.entries.insert(name, Entry { operation, waiter });
        Ok(())
    }

    /// The waiter named `name` (exact case).
    pub fn get(&self, name: &str) -> Result<&Waiter, WaiterError> {
        self.entries
            .get(name)
            .map(|entry| &entry.waiter)
            .ok_or_else(|| WaiterError::UnknownWaiter {
                name: name.to_owned(),
                known: self.names().map(str::to_owned).collect(),
            })
    }

    /// The id of the operation a waiter belongs to, when it was read from a model.
    pub fn operation(&self, name: &str) -> Option<&str> {
        self.entries.get(name)?.operation.as_deref()
    }

    /// The waiters' names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// How many waiters there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::waiter::acceptor::{Matcher, PathComparator};

    const TABLE: &str = include_str!("../../tests/fixtures/waiters/table_exists.json");
    const INSTANCE: &str = include_str!("../../tests/fixtures/waiters/instance_running.json");
    const BUCKET: &str = include_str!("../../tests/fixtures/waiters/bucket_not_exists.json");

    #[test]
    fn reads_the_table_model() {
        let waiters = Waiters::from_json(TABLE).unwrap();
        assert_eq!(
            waiters.names().collect::<Vec<_>>(),
            ["TableExists", "TableNotExists"]
        );
        let exists = waiters.get("TableExists").unwrap();
        assert_eq!((exists.min_delay, exists.max_delay), (20, 120));
        assert_eq!(exists.acceptors.len(), 2);
        assert_eq!(
            waiters.operation("TableExists"),
            Some("com.example.tables#DescribeTable")
        );
        let gone = waiters.get("TableNotExists").unwrap();
        assert_eq!(gone.acceptors[0].state, AcceptorState::Success);
        assert_eq!(
            gone.acceptors[0].matcher,
            Matcher::ErrorType("com.example.tables#ResourceNotFoundException".into())
        );
    }

    #[test]
    fn reads_the_instance_trait_value() {
        let waiters = Waiters::from_json(INSTANCE).unwrap();
        let running = waiters.get("InstanceRunning").unwrap();
        assert_eq!((running.min_delay, running.max_delay), (15, 120));
        assert_eq!(running.acceptors[0].state, AcceptorState::Success);
        assert!(
            matches!(&running.acceptors[0].matcher, Matcher::Output(m) if m.comparator == PathComparator::AllStringEquals)
        );
        assert!(
            running
                .documentation
                .as_deref()
                .unwrap()
                .contains("running")
        );
        assert_eq!(waiters.operation("InstanceRunning"), None);
        assert!(waiters.get("InstanceStopped").unwrap().deprecated);
    }

    #[test]
    fn reads_the_bucket_model() {
        let waiters = Waiters::from_json(BUCKET).unwrap();
        let gone = waiters.get("BucketNotExists").unwrap();
        assert_eq!((gone.min_delay, gone.max_delay), (5, 120));
        assert_eq!(gone.tags, ["s3"]);
        assert_eq!(waiters.len(), 2);
    }

    #[test]
    fn reads_a_traits_object() {
        let waiters = Waiters::from_json(
            r#"{"smithy.waiters#waitable": {"Done": {"acceptors": [{"state": "success", "matcher": {"success": true}}]}}}"#,
        )
        .unwrap();
        assert_eq!(waiters.names().collect::<Vec<_>>(), ["Done"]);
    }

    #[test]
    fn writes_and_reads_back() {
        let waiters = Waiters::from_json(TABLE).unwrap();
        let waiter = waiters.get("TableExists").unwrap();
        let text = serde_json::to_string(waiter).unwrap();
        assert!(text.contains("\"minDelay\":20"), "{text}");
        let again: Waiter = serde_json::from_str(&text).unwrap();
        assert_eq!(&again, waiter);
    }

    #[test]
    fn accepts_the_bounds_the_specification_allows() {
        let ok = r#"{"state": "success", "matcher": {"success": true}}"#;
        let one = Waiters::from_json(&format!(
            r#"{{"W": {{"acceptors": [{ok}], "minDelay": 1, "maxDelay": 1}}}}"#
        ))
        .unwrap();
        let waiter = one.get("W").unwrap();
        assert_eq!(
            (waiter.min_delay(), waiter.max_delay()),
            (Duration::from_secs(1), Duration::from_secs(1))
        );
        let equal = Waiters::from_json(&format!(
            r#"{{"W": {{"acceptors": [{ok}], "minDelay": 30, "maxDelay": 30}}}}"#
        ))
        .unwrap();
        assert_eq!(equal.get("W").unwrap().max_delay(), Duration::from_secs(30));
        assert!(!equal.is_empty());
        assert!(Waiters::default().is_empty());
        assert!(Waiters::from_json("{}").unwrap().is_empty());
    }

    #[test]
    fn rejects_what_the_specification_forbids() {
        let ok = r#"{"state": "success", "matcher": {"success": true}}"#;
        let retry = r#"{"state": "retry", "matcher": {"success": true}}"#;
        let cases = [
            (format!(r#"{{"W": {{"acceptors": [{retry}]}}}}"#), "success"),
            (r#"{"W": {"acceptors": []}}"#.to_owned(), "success"),
            (
                format!(r#"{{"W": {{"acceptors": [{ok}], "minDelay": 0}}}}"#),
                "at least 1",
            ),
            (
                format!(r#"{{"W": {{"acceptors": [{ok}], "maxDelay": 0}}}}"#),
                "at least 1",
            ),
            (
                format!(r#"{{"W": {{"acceptors": [{ok}], "minDelay": 30, "maxDelay": 10}}}}"#),
                "greater",
            ),
            (
                format!(r#"{{"W": {{"acceptors": [{ok}], "minDelay": -1}}}}"#),
                "W",
            ),
            (r#"{"W": {}}"#.to_owned(), "acceptors"),
            (r#"{"W": 3}"#.to_owned(), "W"),
            (r#"[1]"#.to_owned(), "object"),
            (r#"{"shapes": []}"#.to_owned(), "shapes"),
            (r#"not json"#.to_owned(), ""),
            (
                format!(
                    r#"{{"shapes": {{"a#A": {{"traits": {{"smithy.waiters#waitable": {{"W": {{"acceptors": [{ok}]}}}}}}}}, "a#B": {{"traits": {{"smithy.waiters#waitable": {{"w": {{"acceptors": [{ok}]}}}}}}}}}}}}"#
                ),
                "twice",
            ),
        ];
        for (text, needle) in cases {
            let error = Waiters::from_json(&text).unwrap_err();
            assert!(error.to_string().contains(needle), "{text}: {error}");
        }
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let waiters = Waiters::from_json(TABLE).unwrap();
        let error = waiters.get("tableexists").unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("tableexists") && text.contains("TableExists, TableNotExists"),
            "{text}"
        );
    }
}
