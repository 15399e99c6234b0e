//! `lro watch`: following an operation that is already running.

mod support;

use support::run::{lro_json, percentages};
use support::server::{Server, reply};

#[test]
fn watch_follows_a_running_operation() {
    let server = Server::start(|seen| match seen.hit {
        0 => reply(202, r#"{"status":"inProgress","percentageComplete":40}"#),
        _ => reply(200, r#"{"status":"completed","resourceId":"item-9"}"#),
    });
    let run = lro_json(&["watch", &server.url("/monitor/9")]);
    assert_eq!(run.code, 0, "{}", run.everything());
    assert_eq!(percentages(&run), [40.0]);
    assert_eq!(run.last()["resourceId"], "item-9");
    assert!(server.seen().iter().all(|s| s.method == "GET"));
}
