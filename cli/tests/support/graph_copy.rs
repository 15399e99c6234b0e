//! A Graph copy service, the scenario most tests start from.

use super::server::{Server, reply};

/// A Graph copy: `POST /copy` → `202` + relative `Location: /monitor/1`,
/// then `notStarted`, `inProgress` 27.8 (202), 63.5 (200), and `303`
/// completed with the item's id.
pub fn graph_copy(monitor_query: &'static str) -> Server {
    Server::start(move |seen| {
        match (seen.path.as_str(), seen.hit) {
        ("/copy", _) => reply(202, "").header("location", format!("/monitor/1{monitor_query}")),
        ("/monitor/1", 0) => reply(202, r#"{"operation":"ItemCopy","status":"notStarted"}"#),
        ("/monitor/1", 1) => reply(
            202,
            r#"{"operation":"ItemCopy","percentageComplete":27.8,"status":"inProgress"}"#,
        ),
        ("/monitor/1", 2) => reply(
            200,
            r#"{"operation":"ItemCopy","percentageComplete":63.5,"status":"inProgress"}"#,
        ),
        ("/monitor/1", _) => reply(
            303,
            r#"{"percentageComplete":100.0,"resourceId":"01MOWKALTXPSWA4NCTOJE3R7KMMEZ3SZO6","status":"completed"}"#,
        )
        .header("location", "/items/01MOWKALTXPSWA4NCTOJE3R7KMMEZ3SZO6"),
        _ => reply(404, r#"{"error":{"code":"itemNotFound","message":"no such path"}}"#),
    }
    })
}
