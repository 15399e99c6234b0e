//! Which requests carry the `-H` headers and credentials: same origin only, and
//! only where the protocol wants them.

mod support;

use serde_json::json;

use support::graph_copy::graph_copy;
use support::run::lro_json;
use support::server::{Server, reply};

#[test]
fn credentials_reach_the_start_and_same_origin_azure_polls() {
    let server = Server::start(|seen| match (seen.path.as_str(), seen.hit) {
        ("/start", _) => reply(202, "").header("operation-location", "/operations/1"),
        ("/operations/1", 0) => reply(200, r#"{"status":"Running","percentComplete":50}"#),
        ("/operations/1", _) => reply(200, r#"{"status":"Succeeded","result":{"id":"r"}}"#),
        _ => reply(404, ""),
    });
    let run = lro_json(&[
        "start",
        &server.url("/start"),
        "-H",
        "Authorization: Bearer t0ken",
        "-H",
        "X-Trace: abc",
        "--final-state-via",
        "operation-location",
    ]);
    assert_eq!(run.code, 0, "{}", run.everything());
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    for request in &seen {
        assert_eq!(
            request.header("authorization"),
            Some("Bearer t0ken"),
            "{}",
            request.path
        );
        assert_eq!(request.header("x-trace"), Some("abc"), "{}", request.path);
    }
    assert_eq!(run.last()["result"], json!({"id": "r"}));
}

#[test]
fn credentials_do_not_reach_graph_monitor_polls() {
    let server = graph_copy("");
    let run = lro_json(&[
        "start",
        &server.url("/copy"),
        "-H",
        "Authorization: Bearer t0ken",
        "-H",
        "X-Trace: abc",
    ]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(
        server.seen_at("/copy")[0].header("authorization"),
        Some("Bearer t0ken")
    );
    let polls = server.seen_at("/monitor/1");
    assert_eq!(polls.len(), 4);
    for poll in &polls {
        assert_eq!(poll.header("authorization"), None);
        // Same origin: the other headers go along.
        assert_eq!(poll.header("x-trace"), Some("abc"));
    }
}

#[test]
fn no_header_follows_a_monitor_to_another_origin() {
    let monitor = Server::start(|seen| match seen.hit {
        0 => reply(200, r#"{"status":"Running"}"#),
        _ => reply(200, r#"{"status":"Succeeded"}"#),
    });
    let operations = monitor.url("/operations/1");
    let api = Server::start(move |_| reply(202, "").header("azure-asyncoperation", &operations));
    let run = lro_json(&[
        "start",
        &api.url("/start"),
        "-H",
        "Authorization: Bearer t0ken",
        "-H",
        "X-Trace: abc",
        "-H",
        "Cookie: session=s3cret",
        "--final-state-via",
        "azure-async-operation",
    ]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(api.seen()[0].header("authorization"), Some("Bearer t0ken"));
    let polls = monitor.seen();
    assert_eq!(polls.len(), 2);
    for poll in &polls {
        assert_eq!(poll.header("authorization"), None);
        assert_eq!(poll.header("x-trace"), None);
        assert_eq!(poll.header("cookie"), None);
    }
}

#[test]
fn watch_sends_credentials_to_the_monitor_only_when_the_protocol_wants_them() {
    for (protocol, expected) in [("azure", Some("Bearer t0ken")), ("auto", None)] {
        let server = Server::start(|seen| match seen.hit {
            0 => reply(200, r#"{"status":"Running"}"#),
            _ => reply(200, r#"{"status":"Succeeded"}"#),
        });
        let run = lro_json(&[
            "watch",
            &server.url("/operations/1"),
            "--protocol",
            protocol,
            "-H",
            "Authorization: Bearer t0ken",
            "-H",
            "X-Trace: abc",
        ]);
        assert_eq!(run.code, 0, "{}", run.everything());
        let polls = server.seen();
        assert_eq!(polls.len(), 2);
        for poll in polls {
            assert_eq!(poll.header("authorization"), expected, "{protocol}");
            assert_eq!(poll.header("x-trace"), Some("abc"), "{protocol}");
        }
    }
}
