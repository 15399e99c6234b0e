//! Row "result": each failure on the `GET` of the final result, after the
//! job succeeded.

use crate::{Column, Row};

row!(Row::Result);

/// A run of `503`s on the result ends with an error whose token records
/// that the job succeeded and where its result is; resuming it fetches the
/// result without sending the start (or a poll) again.
#[tokio::test]
async fn a_run_of_failures_ends_with_a_token_that_fetches_the_result() {
    use lro_poller::Operation;

    let server = crate::server::FaultServer::start().await;
    let failing = vec![crate::server::json(503, "").header("retry-after", "0"); 6];
    crate::script(&server, Row::Result, failing);
    let notices = crate::Notices::default();
    let got = crate::run_row(&server, Row::Result, &notices).await;
    assert_eq!(
        server.seen("GET", "/vms/1").len(),
        6,
        "5 retries, then the end"
    );
    crate::assert_error(
        "result run",
        &got,
        crate::Kind::Http(503),
        crate::Token::Result,
    );
    let token = got.unwrap_err().resume_token().cloned().unwrap();
    let resumed = Operation::resume(crate::transport(), token)
        .with_policy(crate::policy())
        .build()
        .unwrap();
    let outcome = resumed.outcome().await.unwrap();
    assert_eq!(outcome.body().unwrap().as_ref(), crate::VM.as_bytes());
    assert_eq!(
        server.seen("PUT", "/vms/1").len(),
        1,
        "no new start request"
    );
    assert_eq!(server.seen("GET", "/ops/1").len(), 1, "no new poll");
    assert_eq!(server.seen("GET", "/vms/1").len(), 7);
}
