//! A job the service reports failed or cancelled: exit status 1 with the
//! service's own error.

mod support;

use serde_json::Value;

use support::run::lro_json;
use support::server::{Server, reply};

#[test]
fn a_failed_job_exits_1_with_the_service_error() {
    let server = Server::start(|seen| match seen.hit {
        0 => reply(200, r#"{"status":"inProgress","percentageComplete":10}"#),
        _ => reply(
            200,
            r#"{"status":"Failed","statusDescription":"Completed 0/1 files",
                "error":{"code":"nameAlreadyExists","message":"an item with that name exists"}}"#,
        ),
    });
    let run = lro_json(&["watch", &server.url("/monitor/1")]);
    assert_eq!(run.code, 1, "{}", run.everything());
    let last = run.last();
    assert_eq!(last["event"], "outcome");
    assert_eq!(last["outcome"], "failed");
    assert_eq!(last["status"], "failed");
    assert_eq!(last["result"], Value::Null);
    assert_eq!(last["error"]["code"], "nameAlreadyExists");
    assert_eq!(last["error"]["message"], "an item with that name exists");
}

#[test]
fn a_failure_given_as_error_code_and_description_is_shown_too() {
    let server = Server::start(|_| {
        reply(
            200,
            r#"{"status":"deleteFailed","errorCode":"accessDenied","statusDescription":"locked"}"#,
        )
    });
    let run = lro_json(&["watch", &server.url("/monitor/1")]);
    assert_eq!(run.code, 1, "{}", run.everything());
    let last = run.last();
    assert_eq!(last["outcome"], "failed");
    assert_eq!(last["status"], "deleteFailed");
    assert_eq!(last["error"]["code"], "accessDenied");
    assert_eq!(last["error"]["message"], "locked");
}

#[test]
fn a_cancelled_job_exits_1_as_canceled() {
    let server = Server::start(|_| reply(200, r#"{"status":"cancelled"}"#));
    let run = lro_json(&["watch", &server.url("/monitor/1")]);
    assert_eq!(run.code, 1, "{}", run.everything());
    let last = run.last();
    assert_eq!(last["outcome"], "canceled");
    assert_eq!(last["status"], "cancelled");
}

#[test]
fn google_operation_error_and_cancellation_exit_1() {
    for (error, outcome, code, message) in [
        (
            r#"{"code":9,"message":"quota exceeded"}"#,
            "failed",
            "9",
            "quota exceeded",
        ),
        (
            r#"{"code":1,"message":"cancelled by user"}"#,
            "canceled",
            "1",
            "cancelled by user",
        ),
    ] {
        let body = format!(r#"{{"name":"operations/x","done":true,"error":{error}}}"#);
        let server = Server::start(move |_| reply(200, &body));
        let run = lro_json(&[
            "watch",
            &server.url("/v1/operations/x"),
            "--protocol",
            "google",
        ]);
        assert_eq!(run.code, 1, "{}", run.everything());
        let last = run.last();
        assert_eq!(last["outcome"], outcome);
        assert_eq!(last["error"]["code"], code);
        assert_eq!(last["error"]["message"], message);
    }
}
