//! Row "poll": each failure on a poll of the monitor.

use crate::{Column, Row};

row!(Row::Poll);

/// A run of unreadable answers (one more than the retry bound) ends the
/// wait with a protocol error that carries a token to go on polling.
#[tokio::test]
async fn a_run_of_unreadable_answers_ends_with_a_token() {
    let server = crate::server::FaultServer::start().await;
    let failing = vec![crate::server::json(200, r#"{"status":"Runn"#); 7];
    crate::script(&server, Row::Poll, failing);
    let notices = crate::Notices::default();
    let got = crate::run_row(&server, Row::Poll, &notices).await;
    let sent = server.seen("GET", "/ops/1");
    assert_eq!(sent.len(), 6, "the default bound: 5 retries");
    crate::assert_gaps("poll run", &sent, crate::FLOOR);
    crate::assert_error(
        "poll run",
        &got,
        crate::Kind::Protocol,
        crate::Token::Resume,
    );
}
