//! backon's backoffs drive an operation through the iterator adapter.

use std::time::Duration;

use backon::BackoffBuilder as _;
use lro_poller::policy::{PollPolicy, from_fn};
use lro_poller::{Error, GaveUpCause};

use crate::support::{Server, reply, run, start};

#[tokio::test]
async fn a_backon_exponential_backoff_paces_the_polls_and_ends_them() {
    let server = Server::start().await;
    server.on("/copy", vec![reply(202).header("location", "/m")]);
    server.on("/m", vec![reply(202).json(r#"{"status":"inProgress"}"#)]);
    // 10 ms, 20 ms, 40 ms, then backon gives up.
    let backon = backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(10))
        .with_factor(2.0)
        .with_max_times(3);
    let policy = PollPolicy::new(from_fn(move || backon.build())).with_min_interval(Duration::ZERO);
    let (items, outcome) = run(start("POST", &server.url("/copy"), "{}").with_policy(policy)).await;
    // One poll, then one after each of backon's three delays.
    assert_eq!(server.requests_to("/m").len(), 4);
    assert_eq!(items.iter().filter(|item| item.is_ok()).count(), 4);
    match outcome.unwrap_err() {
        Error::GaveUp(g) => {
            assert_eq!(g.polls(), 4);
            assert_eq!(
                *g.cause(),
                GaveUpCause::BackoffStopped("the backoff ran out of delays after 3".into())
            );
        }
        other => panic!("{other:?}"),
    }
}
