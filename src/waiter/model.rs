//! Wire versus model: what a whole Smithy model says about how an
//! operation's answers differ on the wire from the shapes its waiters name.
//!
//! Acceptor paths name the *members* of the modeled output shape, and
//! `errorType` names a *modeled error shape*. Two traits of the model bridge
//! the gap:
//!
//! - `smithy.api#jsonName` renames a member on the wire (a member `State`
//!   sent as `"state"`): a JSON output read over the wire has its members
//!   renamed back, along the output shape, before any path sees it (and the
//!   input, for `inputOutput` paths). Ignored when the model's services speak
//!   only the `awsJson1_0`/`awsJson1_1` protocols, which do not honour it.
//! - `aws.protocols#awsQueryError` gives a modeled error its wire code (the
//!   shape `NoSuchEntityException` sent as code `NoSuchEntity`): a code read
//!   from an error answer is named by its shape before `errorType` acceptors
//!   compare it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

const JSON_NAME: &str = "smithy.api#jsonName";
const QUERY_ERROR: &str = "aws.protocols#awsQueryError";
const AWS_JSON: [&str; 2] = ["aws.protocols#awsJson1_0", "aws.protocols#awsJson1_1"];
const REST_JSON: &str = "aws.protocols#restJson1";

/// How deep a shape is followed; deeper members keep their wire names.
const MAX_DEPTH: usize = 32;

/// An operation's wire names, from a whole model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireNames {
    /// The output shape's renamed members, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    output: Option<Schema>,
    /// The input shape's renamed members, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    input: Option<Schema>,
    /// Wire error codes → modeled error shape names.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    errors: BTreeMap<String, String>,
}

/// The part of a shape where wire names differ: only what leads to a
/// renamed member is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Schema {
    /// A structure or union: by wire name, the member's name and shape.
    Structure(BTreeMap<String, Member>),
    /// A list or set: its members' shape.
    List(Box<Schema>),
    /// A map: its values' shape.
    Map(Box<Schema>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Member {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shape: Option<Schema>,
}

impl WireNames {
    /// The wire names of `operation` in a model's `shapes`; `None` when the
    /// wire says what the model says.
    pub(crate) fn of(shapes: &Map<String, Value>, operation: &str) -> Option<WireNames> {
        let shape = shapes.get(operation)?;
        let target = |io: &str| shape.get(io)?.get("target")?.as_str();
        let json_names = honours_json_name(shapes);
        let schema = |io: &str| {
            json_names
                .then(|| target(io))
                .flatten()
                .and_then(|id| schema(shapes, id, &mut Vec::new()))
        };
        let names = WireNames {
            output: schema("output"),
            input: schema("input"),
            errors: query_errors(shapes),
        };
        (names != WireNames::default()).then_some(names)
    }

    /// A JSON output as the model names its members.
    pub(crate) fn output(&self, value: Value) -> Value {
        rename(self.output.as_ref(), value)
    }

    /// A JSON input as the model names its members.
    pub(crate) fn input(&self, value: Value) -> Value {
        rename(self.input.as_ref(), value)
    }

    /// The modeled error shape a wire code stands for, when the model maps it.
    pub(crate) fn error(&self, code: &str) -> Option<&str> {
        self.errors.get(code).map(String::as_str)
    }
}

/// Whether the model's services may send `jsonName`d members: not when
/// every protocol they declare is an `awsJson` one.
fn honours_json_name(shapes: &Map<String, Value>) -> bool {
    let protocols: Vec<&str> = shapes
        .values()
        .filter(|shape| shape.get("type").and_then(Value::as_str) == Some("service"))
        .filter_map(|service| service.get("traits")?.as_object())
        .flat_map(|traits| traits.keys().map(String::as_str))
        .collect();
    let aws_json = protocols.iter().any(|p| AWS_JSON.contains(p));
    !aws_json || protocols.contains(&REST_JSON)
}

/// The renames under the shape `id`; `None` when there are none.
fn schema<'a>(
    shapes: &'a Map<String, Value>,
    id: &'a str,
    path: &mut Vec<&'a str>,
) -> Option<Schema> {
    if path.contains(&id) || path.len() >= MAX_DEPTH {
        return None;
    }
    let shape = shapes.get(id)?;
    path.push(id);
    let target = |member: &'a Value| member.get("target")?.as_str();
    let found = match shape.get("type").and_then(Value::as_str)? {
        "structure" | "union" => {
            let mut members = BTreeMap::new();
            for (name, member) in shape.get("members")?.as_object()? {
                let wire = member
                    .get("traits")
                    .and_then(|traits| traits.get(JSON_NAME))
                    .and_then(Value::as_str)
                    .unwrap_or(name);
                let inner = target(member).and_then(|id| schema(shapes, id, path));
                if wire != name || inner.is_some() {
                    let member = Member {
                        name: name.clone(),
                        shape: inner,
                    };
                    members.insert(wire.to_owned(), member);
                }
            }
            (!members.is_empty()).then_some(Schema::Structure(members))
        }
        "list" | "set" => shape
            .get("member")
            .and_then(target)
            .and_then(|id| schema(shapes, id, path))
            .map(|inner| Schema::List(Box::new(inner))),
        "map" => shape
            .get("value")
            .and_then(target)
            .and_then(|id| schema(shapes, id, path))
            .map(|inner| Schema::Map(Box::new(inner))),
        _ => None,
    };
    path.pop();
    found
}

/// Every `awsQueryError` code in the model → its shape's name.
fn query_errors(shapes: &Map<String, Value>) -> BTreeMap<String, String> {
    shapes
        .iter()
        .filter_map(|(id, shape)| {
            let code = shape
                .get("traits")?
                .get(QUERY_ERROR)?
                .get("code")?
                .as_str()?;
            let name = id.rsplit_once('#').map_or(id.as_str(), |(_, name)| name);
            Some((code.to_owned(), name.to_owned()))
        })
        .collect()
}

/// `value` with the wire names under `schema` replaced by member names.
fn rename(schema: Option<&Schema>, value: Value) -> Value {
    match (schema, value) {
        (Some(Schema::Structure(members)), Value::Object(object)) => Value::Object(
            object
                .into_iter()
                .map(|(key, value)| match members.get(&key) {
                    Some(member) => (member.name.clone(), rename(member.shape.as_ref(), value)),
                    None => (key, value),
                })
                .collect(),
        ),
        (Some(Schema::List(inner)), Value::Array(items)) => Value::Array(
            items
                .into_iter()
                .map(|item| rename(Some(inner), item))
                .collect(),
        ),
        (Some(Schema::Map(inner)), Value::Object(object)) => Value::Object(
            object
                .into_iter()
                .map(|(key, value)| (key, rename(Some(inner), value)))
                .collect(),
        ),
        (_, value) => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::JobState;
    use crate::protocol::{Polled, Protocol, Reading};
    use crate::waiter::{Attempt, WaiterProtocol, Waiters};
    use bytes::Bytes;
    use serde_json::json;

    fn waiter(model: &str, name: &str) -> WaiterProtocol {
        WaiterProtocol::named(&Waiters::from_json(model).unwrap(), name).unwrap()
    }

    fn url() -> url::Url {
        url::Url::parse("https://api.example/").unwrap()
    }

    fn answer(code: u16, body: &str) -> http::Response<Bytes> {
        http::Response::builder()
            .status(code)
            .body(Bytes::from(body.to_owned()))
            .unwrap()
    }

    fn status_of(p: &WaiterProtocol, code: u16, body: &str) -> Reading {
        match p.read_poll(&url(), &answer(code, body)).unwrap() {
            Polled::Status(reading) => reading,
            Polled::ReadFailure => panic!("a failure to read"),
        }
    }

    fn shapes(model: Value) -> Map<String, Value> {
        match model {
            Value::Object(mut model) => match model.remove("shapes") {
                Some(Value::Object(shapes)) => shapes,
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    /// A restJson service whose output renames `Table` to `table`, and in
    /// it `TableStatus` to `status` — inside a list and a map too.
    fn renamed() -> Map<String, Value> {
        shapes(json!({"smithy": "2.0", "shapes": {
            "ex#Service": {"type": "service", "operations": [{"target": "ex#Describe"}],
                "traits": {"aws.protocols#restJson1": {}}},
            "ex#Describe": {"type": "operation",
                "input": {"target": "ex#In"}, "output": {"target": "ex#Out"}},
            "ex#In": {"type": "structure", "members": {
                "TableName": {"target": "smithy.api#String", "traits": {"smithy.api#jsonName": "name"}}}},
            "ex#Out": {"type": "structure", "members": {
                "Table": {"target": "ex#Table", "traits": {"smithy.api#jsonName": "table"}},
                "Replicas": {"target": "ex#Tables"},
                "ByRegion": {"target": "ex#TableMap"},
                "Note": {"target": "smithy.api#String"}}},
            "ex#Tables": {"type": "list", "member": {"target": "ex#Table"}},
            "ex#TableMap": {"type": "map", "key": {"target": "smithy.api#String"}, "value": {"target": "ex#Table"}},
            "ex#Table": {"type": "structure", "members": {
                "TableStatus": {"target": "smithy.api#String", "traits": {"smithy.api#jsonName": "status"}},
                "Parent": {"target": "ex#Table"}}}
        }}))
    }

    #[test]
    fn json_names_are_renamed_back_to_member_names() {
        let names = WireNames::of(&renamed(), "ex#Describe").unwrap();
        let wire = json!({
            "table": {"status": "ACTIVE", "Parent": {"status": "x"}},
            "Replicas": [{"status": "CREATING"}],
            "ByRegion": {"eu": {"status": "ACTIVE"}},
            "Note": "kept", "unknown": {"status": "kept"}
        });
        assert_eq!(
            names.output(wire),
            json!({
                "Table": {"TableStatus": "ACTIVE", "Parent": {"status": "x"}},
                "Replicas": [{"TableStatus": "CREATING"}],
                "ByRegion": {"eu": {"TableStatus": "ACTIVE"}},
                "Note": "kept", "unknown": {"status": "kept"}
            })
        );
        assert_eq!(
            names.input(json!({"name": "Music"})),
            json!({"TableName": "Music"})
        );
        // Not an object where a structure is expected: left as it is.
        assert_eq!(names.output(json!(["table"])), json!(["table"]));
    }

    #[test]
    fn aws_json_services_ignore_json_names() {
        let mut model = renamed();
        model.insert(
            "ex#Service".into(),
            json!({"type": "service", "traits": {"aws.protocols#awsJson1_1": {}}}),
        );
        assert_eq!(WireNames::of(&model, "ex#Describe"), None);
    }

    #[test]
    fn query_error_codes_name_their_shapes() {
        let model = shapes(json!({"smithy": "2.0", "shapes": {
            "ex#GetUser": {"type": "operation", "errors": [{"target": "ex#NoSuchEntityException"}]},
            "ex#NoSuchEntityException": {"type": "structure", "members": {},
                "traits": {"smithy.api#error": "client",
                           "aws.protocols#awsQueryError": {"code": "NoSuchEntity", "httpResponseCode": 404}}}
        }}));
        let names = WireNames::of(&model, "ex#GetUser").unwrap();
        assert_eq!(names.error("NoSuchEntity"), Some("NoSuchEntityException"));
        assert_eq!(names.error("NoSuchEntityException"), None);
        // Nothing differs: no names to keep.
        assert_eq!(WireNames::of(&model, "ex#Other"), None);
    }

    #[test]
    fn round_trips_through_a_token() {
        let names = WireNames::of(&renamed(), "ex#Describe").unwrap();
        let text = serde_json::to_string(&names).unwrap();
        assert_eq!(serde_json::from_str::<WireNames>(&text).unwrap(), names);
    }

    /// A restJson model whose output members go over the wire renamed.
    const JSON_NAMES: &str = r#"{"smithy": "2.0", "shapes": {
        "ex#Tables": {"type": "service", "traits": {"aws.protocols#restJson1": {}}},
        "ex#GetTable": {"type": "operation", "output": {"target": "ex#GetTableOutput"},
            "traits": {"smithy.waiters#waitable": {"TableActive": {"acceptors": [
                {"state": "success", "matcher": {"output": {"path": "Table.TableStatus",
                    "expected": "ACTIVE", "comparator": "stringEquals"}}}]}}}},
        "ex#GetTableOutput": {"type": "structure", "members": {
            "Table": {"target": "ex#Table", "traits": {"smithy.api#jsonName": "table"}}}},
        "ex#Table": {"type": "structure", "members": {
            "TableStatus": {"target": "smithy.api#String", "traits": {"smithy.api#jsonName": "status"}}}}
    }}"#;

    #[test]
    fn a_models_json_names_let_paths_name_members() {
        let p = waiter(JSON_NAMES, "TableActive");
        let creating = r#"{"table": {"status": "CREATING"}}"#;
        let active = r#"{"table": {"status": "ACTIVE"}}"#;
        assert_eq!(
            status_of(&p, 200, creating).status.status,
            JobState::InProgress
        );
        assert_eq!(
            status_of(&p, 200, active).status.status,
            JobState::Completed
        );
        // Through a resume token too.
        let restored = p.restore(&p.save().unwrap()).unwrap();
        assert!(matches!(
            restored.read_poll(&url(), &answer(200, active)).unwrap(),
            Polled::Status(r) if r.status.status == JobState::Completed
        ));
        // The trait alone, without the model's shapes, sees no `Table`: it
        // would retry for ever.
        let model: Value = serde_json::from_str(JSON_NAMES).unwrap();
        let traits = &model["shapes"]["ex#GetTable"]["traits"];
        let alone = waiter(&traits.to_string(), "TableActive");
        assert_eq!(
            status_of(&alone, 200, active).status.status,
            JobState::InProgress
        );
    }

    /// An awsQuery model whose error goes over the wire as another code.
    const QUERY_ERRORS: &str = r#"{"smithy": "2.0", "shapes": {
        "ex#Identity": {"type": "service", "traits": {"aws.protocols#awsQuery": {}}},
        "ex#GetUser": {"type": "operation", "errors": [{"target": "ex#NoSuchEntityException"}],
            "traits": {"smithy.waiters#waitable": {"UserExists": {"acceptors": [
                {"state": "success", "matcher": {"success": true}},
                {"state": "retry", "matcher": {"errorType": "NoSuchEntityException"}}]}}}},
        "ex#NoSuchEntityException": {"type": "structure", "members": {},
            "traits": {"smithy.api#error": "client",
                "aws.protocols#awsQueryError": {"code": "NoSuchEntity", "httpResponseCode": 404}}}
    }}"#;

    #[test]
    fn a_models_query_error_codes_name_modeled_errors() {
        let p = waiter(QUERY_ERRORS, "UserExists");
        let missing = "<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code>\
                       <Message>no user</Message></Error></ErrorResponse>";
        let not_yet = status_of(&p, 404, missing);
        assert_eq!(not_yet.status.status, JobState::InProgress);
        let attempt = not_yet.details.get::<Attempt>().unwrap();
        assert_eq!(attempt.acceptor, Some(1));
        assert_eq!(attempt.error_type.as_deref(), Some("NoSuchEntityException"));
        // Another code is still a failure.
        let denied = "<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>";
        assert_eq!(status_of(&p, 403, denied).status.status, JobState::Failed);
        // The trait alone cannot know the code: the wait fails at once.
        let model: Value = serde_json::from_str(QUERY_ERRORS).unwrap();
        let traits = &model["shapes"]["ex#GetUser"]["traits"];
        let alone = waiter(&traits.to_string(), "UserExists");
        assert_eq!(
            status_of(&alone, 404, missing).status.status,
            JobState::Failed
        );
    }
}
