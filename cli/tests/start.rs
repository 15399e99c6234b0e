//! `lro start`: the request it sends, every status in order, and the outcome.

mod support;

use serde_json::Value;

use support::graph_copy::graph_copy;
use support::run::{lro_json, percentages};
use support::server::{Server, reply};

#[test]
fn graph_copy_reports_each_status_in_order_then_the_new_item() {
    let server = graph_copy("");
    let run = lro_json(&[
        "start",
        &server.url("/copy"),
        "-d",
        r#"{"name":"copy.txt"}"#,
    ]);
    assert_eq!(run.code, 0, "{}", run.everything());
    let states: Vec<_> = run
        .statuses()
        .iter()
        .map(|s| s["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        states,
        ["notStarted", "inProgress", "inProgress", "completed"]
    );
    assert_eq!(percentages(&run), [27.8, 63.5, 100.0]);
    assert_eq!(run.statuses()[1]["operation"], "ItemCopy");
    let last = run.last();
    assert_eq!(last["event"], "outcome");
    assert_eq!(last["outcome"], "succeeded");
    assert_eq!(last["status"], "completed");
    assert_eq!(last["resourceId"], "01MOWKALTXPSWA4NCTOJE3R7KMMEZ3SZO6");
    assert_eq!(last["error"], Value::Null);
    let start = &server.seen_at("/copy")[0];
    assert_eq!(start.method, "POST");
    assert_eq!(start.header("prefer"), Some("respond-async"));
    assert_eq!(start.header("content-type"), Some("application/json"));
    // Nothing is sent after the terminal status.
    assert_eq!(server.seen_at("/monitor/1").len(), 4);
}

#[test]
fn a_synchronous_answer_is_a_completed_operation() {
    let server = Server::start(|_| reply(201, r#"{"id":"item-1","name":"copy.txt"}"#));
    let run = lro_json(&["start", &server.url("/copy")]);
    assert_eq!(run.code, 0, "{}", run.everything());
    let last = run.last();
    assert_eq!(last["outcome"], "succeeded");
    assert_eq!(last["resourceId"], "item-1");
    assert_eq!(last["result"]["name"], "copy.txt");
}

#[test]
fn a_body_from_a_file_arrives_at_the_server() {
    let server = Server::start(|seen| match seen.path.as_str() {
        "/copy" => reply(202, "").header("location", "/monitor/1"),
        _ => reply(200, r#"{"status":"completed","resourceId":"x"}"#),
    });
    let dir = std::env::temp_dir().join(format!("lro-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("body.json");
    let body = r#"{"parentReference":{"id":"folder-1"},"name":"copy.txt"}"#;
    std::fs::write(&file, body).unwrap();
    let arg = format!("@{}", file.display());
    let run = lro_json(&[
        "start",
        &server.url("/copy"),
        "-d",
        &arg,
        "-H",
        "Content-Type: application/vnd.custom+json",
    ]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(run.code, 0, "{}", run.everything());
    let start = &server.seen_at("/copy")[0];
    assert_eq!(start.body, body.as_bytes());
    // A -H Content-Type wins over the default, and is sent once.
    let types: Vec<_> = start.headers.get_all("content-type").iter().collect();
    assert_eq!(types, ["application/vnd.custom+json"]);
    // The body's headers stay on the start request.
    for poll in server.seen_at("/monitor/1") {
        assert_eq!(poll.header("content-type"), None);
        assert!(poll.body.is_empty());
    }
}

#[test]
fn cookies_from_the_start_come_back_on_polls() {
    let server = Server::start(|seen| match seen.path.as_str() {
        "/copy" => reply(202, "")
            .header("location", "/monitor/1")
            .header("set-cookie", "ARRAffinity=node-3; Path=/"),
        _ if seen.hit == 0 => reply(202, r#"{"status":"inProgress"}"#),
        _ => reply(303, r#"{"status":"completed"}"#),
    });
    let run = lro_json(&["start", &server.url("/copy")]);
    assert_eq!(run.code, 0, "{}", run.everything());
    let polls = server.seen_at("/monitor/1");
    assert_eq!(polls.len(), 2);
    for poll in polls {
        assert_eq!(poll.header("cookie"), Some("ARRAffinity=node-3"));
    }
}
