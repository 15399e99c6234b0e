//! Sending the start request again: idempotent methods by default, a `POST`
//! only when asked, each retry reported.

mod support;

use support::run::{final_line, lro, lro_json, retries};
use support::server::{Seen, Server, reply};

#[test]
fn an_idempotent_start_is_retried_and_each_retry_reported() {
    let server = Server::start(
        |seen| match (seen.method.as_str(), seen.path.as_str(), seen.hit) {
            ("PUT", "/vaults/v2", 0) => reply(
                500,
                r#"{"error":{"code":"InternalError","message":"try again"}}"#,
            ),
            ("PUT", "/vaults/v2", 1) => reply(503, "").header("retry-after", "0"),
            ("PUT", "/vaults/v2", _) => reply(
                201,
                r#"{"id":"/vaults/v2","properties":{"provisioningState":"Creating"}}"#,
            ),
            ("GET", "/vaults/v2", _) => reply(
                200,
                r#"{"id":"/vaults/v2","properties":{"provisioningState":"Succeeded"}}"#,
            ),
            _ => reply(405, ""),
        },
    );
    let body = r#"{"location":"westeurope","properties":{"sku":"standard"}}"#;
    let run = lro_json(&[
        "start",
        "-X",
        "PUT",
        "--protocol",
        "azure",
        &server.url("/vaults/v2"),
        "-d",
        body,
    ]);
    assert_eq!(run.code, 0, "{}", run.everything());
    let retries = retries(&run);
    assert_eq!(retries.len(), 2, "{}", run.stdout);
    assert_eq!(retries[0]["request"], "start");
    assert_eq!(retries[0]["attempt"], 2);
    assert_eq!(retries[0]["kind"], "http");
    assert_eq!(retries[0]["httpStatus"], 500);
    assert_eq!(retries[0]["error"]["code"], "InternalError");
    assert_eq!(retries[1]["attempt"], 3);
    assert_eq!(retries[1]["httpStatus"], 503);
    assert!(retries[0]["delayMs"].as_u64().is_some());
    let last = final_line(&run);
    assert_eq!(last["outcome"], "succeeded");
    assert_eq!(last["resultFormat"], "json");
    let puts: Vec<_> = server
        .seen_at("/vaults/v2")
        .into_iter()
        .filter(|s| s.method == "PUT")
        .collect();
    assert_eq!(puts.len(), 3);
    for put in &puts {
        assert_eq!(put.body, body.as_bytes(), "the body is sent again as is");
        assert_eq!(put.header("content-type"), Some("application/json"));
    }
}

#[test]
fn a_post_start_is_retried_only_when_asked() {
    let script = |seen: &Seen| match (seen.method.as_str(), seen.path.as_str(), seen.hit) {
        ("POST", "/jobs", 0) => reply(503, "").header("retry-after", "0"),
        ("POST", "/jobs", _) => reply(202, "").header("location", "/monitor/j"),
        (_, "/monitor/j", _) => reply(200, r#"{"status":"completed","resourceId":"j1"}"#),
        _ => reply(405, ""),
    };
    let plain = Server::start(script);
    let run = lro_json(&["start", &plain.url("/jobs"), "-d", "{}"]);
    assert_eq!(run.code, 2, "{}", run.everything());
    assert!(retries(&run).is_empty());
    assert_eq!(final_line(&run)["httpStatus"], 503);
    assert_eq!(plain.seen_at("/jobs").len(), 1, "a POST is not repeated");

    let opted = Server::start(script);
    let run = lro_json(&["start", &opted.url("/jobs"), "-d", "{}", "--retry-start"]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(retries(&run).len(), 1);
    assert_eq!(final_line(&run)["resourceId"], "j1");
    assert_eq!(opted.seen_at("/jobs").len(), 2);

    // An idempotency key makes a POST safe to repeat.
    let keyed = Server::start(script);
    let run = lro_json(&[
        "start",
        &keyed.url("/jobs"),
        "-d",
        "{}",
        "-H",
        "Idempotency-Key: 5b1c0ad3",
    ]);
    assert_eq!(run.code, 0, "{}", run.everything());
    let posts = keyed.seen_at("/jobs");
    assert_eq!(posts.len(), 2);
    assert!(
        posts
            .iter()
            .all(|p| p.header("idempotency-key") == Some("5b1c0ad3"))
    );
}

#[test]
fn a_start_retry_is_told_on_stderr_in_human_mode() {
    let server = Server::start(|seen| match (seen.method.as_str(), seen.hit) {
        ("DELETE", 0) => reply(502, ""),
        ("DELETE", _) => reply(204, ""),
        _ => reply(405, ""),
    });
    let run = lro(&[
        "start",
        "-X",
        "DELETE",
        &server.url("/things/3"),
        "--interval",
        "0.05",
        "--min-interval",
        "0",
    ]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert!(
        run.stderr.contains("sending the start request again in")
            && run.stderr.contains("(attempt 2)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("502"), "{}", run.stderr);
    assert_eq!(server.seen_at("/things/3").len(), 2);
}
