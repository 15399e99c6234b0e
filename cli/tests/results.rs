//! The result in the final line: where each family fetches it from, and a
//! result that is not JSON.

mod support;

use serde_json::json;

use support::run::{final_line, lro_json, percentages};
use support::server::{Server, reply};

#[test]
fn azure_operation_location_result_is_fetched_from_location() {
    let server = Server::start(|seen| match (seen.path.as_str(), seen.hit) {
        ("/translate", _) => reply(202, "")
            .header("operation-location", "/operations/7")
            .header("location", "/results/7")
            .header("retry-after", "0"),
        ("/operations/7", 0) => reply(200, r#"{"id":"7","status":"NotStarted"}"#),
        ("/operations/7", 1) => reply(200, r#"{"id":"7","status":"Running","percentComplete":60}"#),
        ("/operations/7", _) => reply(200, r#"{"id":"7","status":"Succeeded"}"#),
        ("/results/7", _) => reply(200, r#"{"id":"doc-7","words":1234}"#),
        _ => reply(404, ""),
    });
    let run = lro_json(&["start", &server.url("/translate"), "-d", "{}"]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(percentages(&run), [60.0]);
    let last = run.last();
    assert_eq!(last["outcome"], "succeeded");
    assert_eq!(last["result"], json!({"id": "doc-7", "words": 1234}));
    assert_eq!(server.seen_at("/results/7").len(), 1);
}

#[test]
fn azure_put_result_comes_from_the_original_uri() {
    let server = Server::start(
        |seen| match (seen.method.as_str(), seen.path.as_str(), seen.hit) {
            ("PUT", "/vaults/v1", _) => reply(
                201,
                r#"{"id":"/vaults/v1","properties":{"provisioningState":"Creating"}}"#,
            )
            .header("azure-asyncoperation", "/operations/v1"),
            (_, "/operations/v1", 0) => reply(200, r#"{"status":"InProgress"}"#),
            (_, "/operations/v1", _) => reply(200, r#"{"status":"Succeeded"}"#),
            ("GET", "/vaults/v1", _) => reply(
                200,
                r#"{"id":"/vaults/v1","properties":{"provisioningState":"Succeeded"}}"#,
            ),
            _ => reply(405, ""),
        },
    );
    let run = lro_json(&[
        "start",
        "-X",
        "put",
        &server.url("/vaults/v1"),
        "-d",
        r#"{"location":"westeurope"}"#,
    ]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(
        run.last()["result"]["properties"]["provisioningState"],
        "Succeeded"
    );
    let methods: Vec<_> = server
        .seen()
        .iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(methods.first().map(String::as_str), Some("PUT /vaults/v1"));
    assert_eq!(methods.last().map(String::as_str), Some("GET /vaults/v1"));
}

#[test]
fn google_operation_runs_to_its_response() {
    let server = Server::start(|seen| match (seen.path.as_str(), seen.hit) {
        ("/v1/projects/p/instances", _) => reply(
            200,
            r#"{"name":"operations/op-1","done":false,"metadata":{"progressPercent":10}}"#,
        ),
        ("/v1/operations/op-1", 0) => reply(
            200,
            r#"{"name":"operations/op-1","done":false,"metadata":{"progressPercent":55}}"#,
        ),
        ("/v1/operations/op-1", _) => reply(
            200,
            r#"{"name":"operations/op-1","done":true,"metadata":{"progressPercent":100},
                "response":{"name":"projects/p/instances/i-1","state":"READY"}}"#,
        ),
        _ => reply(404, ""),
    });
    let run = lro_json(&["start", &server.url("/v1/projects/p/instances"), "-d", "{}"]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(percentages(&run), [10.0, 55.0, 100.0]);
    let last = run.last();
    assert_eq!(last["resourceId"], "projects/p/instances/i-1");
    assert_eq!(last["result"]["state"], "READY");
}

#[test]
fn a_result_that_is_not_json_is_a_json_string() {
    let server = Server::start(|seen| match seen.path.as_str() {
        "/start" => reply(202, "")
            .header("operation-location", "/operations/1")
            .header("location", "/results/1"),
        "/operations/1" => reply(200, r#"{"status":"Succeeded"}"#),
        _ => reply(200, "plain text result"),
    });
    let run = lro_json(&["start", &server.url("/start")]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(run.last()["result"], "plain text result");
}

#[test]
fn a_result_that_is_not_json_is_said_to_be_text() {
    let server = Server::start(|seen| match (seen.method.as_str(), seen.path.as_str()) {
        ("PUT", "/r/1") => reply(201, "").header("azure-asyncoperation", "/ops/r1"),
        ("GET", "/ops/r1") => reply(200, r#"{"status":"Succeeded"}"#),
        ("GET", "/r/1") => reply(
            200,
            r#"{ "properties": { "provisioningState": "Succeeded"}"#,
        ),
        _ => reply(405, ""),
    });
    let run = lro_json(&["start", "-X", "PUT", &server.url("/r/1")]);
    assert_eq!(run.code, 0, "{}", run.everything());
    let last = final_line(&run);
    assert_eq!(last["outcome"], "succeeded");
    assert_eq!(last["resultFormat"], "text");
    assert_eq!(
        last["result"],
        r#"{ "properties": { "provisioningState": "Succeeded"}"#
    );
}
