//! Where the next poll goes: a relative monitor URL, a monitor that moves, and
//! a loop of moves that is bounded.

use lro_poller::Error;

use crate::support::{Server, reply, run, start};

const COPY: &str = "/v1.0/drive/items/01FOLDER/copy";

#[tokio::test]
async fn relative_location_resolves_against_the_request_url() {
    let server = Server::start().await;
    server.on(COPY, vec![reply(202).header("location", "status/9")]);
    server.on(
        "/v1.0/drive/items/01FOLDER/status/9",
        vec![reply(200).json(r#"{"status":"completed"}"#)],
    );
    let (_, outcome) = run(start("POST", &server.url(COPY), "{}")).await;
    assert!(outcome.is_ok(), "{outcome:?}");
}

#[tokio::test]
async fn a_new_location_on_a_later_poll_replaces_the_monitor() {
    let server = Server::start().await;
    server.on(COPY, vec![reply(202).header("location", "/monitor/old")]);
    server.on(
        "/monitor/old",
        vec![
            reply(202)
                .header("location", "/monitor/new")
                .json(r#"{"status":"inProgress"}"#),
        ],
    );
    server.on(
        "/monitor/new",
        vec![
            reply(202).json(r#"{"status":"inProgress"}"#),
            reply(200).json(r#"{"status":"completed"}"#),
        ],
    );
    let (_, outcome) = run(start("POST", &server.url(COPY), "{}")).await;
    assert!(outcome.is_ok());
    assert_eq!(server.requests_to("/monitor/old").len(), 1);
    assert_eq!(server.requests_to("/monitor/new").len(), 2);
}

#[tokio::test]
async fn a_location_loop_is_bounded() {
    let server = Server::start().await;
    server.on("/start", vec![reply(202).header("location", "/a")]);
    server.on(
        "/a",
        vec![
            reply(202)
                .header("location", "/b")
                .json(r#"{"status":"inProgress"}"#),
        ],
    );
    server.on(
        "/b",
        vec![
            reply(202)
                .header("location", "/a")
                .json(r#"{"status":"inProgress"}"#),
        ],
    );
    let builder = start("POST", &server.url("/start"), "{}")
        .with_url_policy(lro_poller::UrlPolicy::new().with_max_url_changes(5));
    let (_, outcome) = run(builder).await;
    assert!(matches!(outcome.unwrap_err(), Error::UrlRejected { .. }));
    assert_eq!(server.requests().len(), 1 + 6, "the start, then six polls");
}
