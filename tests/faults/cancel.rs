//! Row "cancel": each failure on `POST {operation}:cancel` (a cancel is
//! idempotent: it is sent again after a transient failure).

use crate::{Column, Row};

row!(Row::Cancel);

/// A run of `503`s on a cancel ends with the last answer's error, after
/// the bounded retries.
#[tokio::test]
async fn a_run_of_failures_ends_the_cancel() {
    let server = crate::server::FaultServer::start().await;
    let failing = vec![crate::server::json(503, ""); 7];
    crate::script(&server, Row::Cancel, failing);
    let notices = crate::Notices::default();
    let got = crate::run_row(&server, Row::Cancel, &notices).await;
    let sent = server.seen("POST", "/v1/operations/op1:cancel");
    assert_eq!(sent.len(), 6, "the default bound: 5 retries");
    crate::assert_gaps("cancel run", &sent, crate::FLOOR);
    crate::assert_error(
        "cancel run",
        &got,
        crate::Kind::Http(503),
        crate::Token::None,
    );
    assert_eq!(notices.all().len(), 5);
}
