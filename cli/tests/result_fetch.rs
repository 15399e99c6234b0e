//! The final result's `GET` fails after the job succeeded: it is retried
//! (each retry a `retry` line naming `result`), then the run ends with a
//! token; `lro resume` of that token prints the result without sending the
//! start request (or a poll) again.

mod support;

use support::run::lro_json;
use support::server::{Server, reply};

const VM: &str = r#"{"id":"vm1","properties":{"provisioningState":"Succeeded"}}"#;

#[test]
fn a_failed_result_fetch_ends_with_a_token_that_fetches_the_result() {
    // `hit` counts requests to a path: the PUT is hit 0 on /vms/1, then the
    // result GETs; the first six of them fail.
    let server = Server::start(|seen| match (seen.method.as_str(), seen.path.as_str()) {
        ("PUT", "/vms/1") => reply(
            201,
            r#"{"id":"vm1","properties":{"provisioningState":"Creating"}}"#,
        )
        .header("azure-asyncoperation", "/ops/1"),
        ("GET", "/ops/1") => reply(200, r#"{"status":"Succeeded"}"#),
        ("GET", "/vms/1") if seen.hit <= 6 => reply(
            503,
            r#"{"error":{"code":"ServerBusy","message":"try later"}}"#,
        ),
        ("GET", "/vms/1") => reply(200, VM),
        _ => reply(405, ""),
    });
    let run = lro_json(&["start", "-X", "PUT", &server.url("/vms/1"), "-d", "{}"]);
    assert_eq!(run.code, 2, "{}", run.everything());
    let retries = run.retries();
    assert_eq!(retries.len(), 5, "{}", run.stdout);
    for retry in &retries {
        assert_eq!(retry["request"], "result", "{retry}");
        assert_eq!(retry["httpStatus"], 503, "{retry}");
    }
    let last = run.last();
    assert_eq!(last["event"], "error");
    assert_eq!(last["kind"], "http");
    assert_eq!(last["httpStatus"], 503);
    let token = last["token"].as_str().expect("a token").to_owned();
    assert!(
        run.stderr.contains(&format!("lro resume {token}")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("the job succeeded"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("may still be running"),
        "{}",
        run.stderr
    );
    assert_eq!(server.seen_at("/vms/1").len(), 7, "the PUT, then 6 GETs");

    let resumed = lro_json(&["resume", &token]);
    assert_eq!(resumed.code, 0, "{}", resumed.everything());
    let outcome = resumed.last();
    assert_eq!(outcome["event"], "outcome");
    assert_eq!(outcome["outcome"], "succeeded");
    assert_eq!(outcome["result"]["id"], "vm1");
    let puts = server.seen().iter().filter(|s| s.method == "PUT").count();
    assert_eq!(puts, 1, "no new start request");
    assert_eq!(server.seen_at("/ops/1").len(), 1, "no new poll");
    assert_eq!(
        server.seen_at("/vms/1").len(),
        8,
        "one more GET: the result"
    );
}
