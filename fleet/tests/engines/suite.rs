//! The behaviours every engine must show, each a function of the database URL.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use lro_fleet::{Fleet, State, Worker};
use lro_poller::policy::{ConstantBuilder, PollPolicy};
use lro_poller::transport::ReqwestTransport;
use lro_poller::{Operation, ResumeToken};

use crate::service::serve;

/// The floor between two polls of one monitor in these tests.
const FLOOR: Duration = Duration::from_millis(100);
/// Slack for the millisecond the table rounds due times to.
const ROUNDING: Duration = Duration::from_millis(2);

fn policy() -> PollPolicy {
    PollPolicy::new(ConstantBuilder::new(FLOOR)).with_min_interval(FLOOR)
}

fn worker(fleet: &Fleet) -> Worker<ReqwestTransport> {
    fleet
        .worker(ReqwestTransport::default())
        .with_policy(policy())
        .with_idle_wait(Duration::from_millis(20))
}

/// Starts a job on the service (`202` + `Location`) and returns the token a
/// request handler would submit.
async fn started(base: &str, polls: u32, ending: &str, name: &str) -> ResumeToken {
    let answer = reqwest::Client::new()
        .post(format!("{base}/start/{polls}/{ending}/{name}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    let location = answer.headers()["location"].to_str().unwrap();
    let monitor = format!("{base}{location}");
    Operation::monitor(ReqwestTransport::default(), monitor)
        .with_policy(policy())
        .build()
        .unwrap()
        .resume_token()
        .expect("a monitored operation has a token")
}

/// Runs `worker` batch after batch until no row runs, collecting the ids
/// each batch recorded an outcome for.
async fn drain(fleet: &Fleet, worker: &Worker<ReqwestTransport>, limit: Duration) -> Vec<i64> {
    let deadline = Instant::now() + limit;
    let mut ended = Vec::new();
    loop {
        let batch = worker.run_once().await.unwrap();
        ended.extend(batch.ended);
        if batch.claimed == 0 {
            let rows = fleet.list().await.unwrap();
            if rows.iter().all(|row| row.state != State::Running) {
                return ended;
            }
            assert!(
                Instant::now() < deadline,
                "operations still running after {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

pub async fn submit_is_idempotent(url: &str) {
    let (base, _seen) = serve().await;
    let fleet = Fleet::open(url).await.unwrap();
    let first = started(&base, 2, "ok", "a").await;
    let other = started(&base, 2, "ok", "b").await;
    let id = fleet.submit(&first, "copy-a").await.unwrap();
    assert_eq!(
        fleet.submit(&first, "copy-a").await.unwrap(),
        id,
        "same key, same id"
    );
    assert_eq!(
        fleet.submit(&other, "copy-a").await.unwrap(),
        id,
        "the key decides, not the token"
    );
    let second = fleet.submit(&other, "copy-b").await.unwrap();
    assert_ne!(second, id);
    let rows = fleet.list().await.unwrap();
    assert_eq!(
        rows.iter().map(|row| row.id).collect::<Vec<_>>(),
        vec![id, second]
    );
    let row = fleet.get(id).await.unwrap().expect("the submitted row");
    assert_eq!(
        (row.key.as_str(), row.state, row.polls),
        ("copy-a", State::Running, 0)
    );
    assert_eq!(
        row.token.expect("a running row has its token").to_string(),
        first.to_string()
    );
    assert!(row.next_due.is_some());
    assert!(fleet.get(second + 1000).await.unwrap().is_none());
    // Opening again applies no migration twice and sees the same rows.
    assert_eq!(
        Fleet::open(url).await.unwrap().list().await.unwrap().len(),
        2
    );
}

pub async fn a_worker_drives_fifty_operations_to_their_ends(url: &str) {
    let (base, seen) = serve().await;
    let fleet = Fleet::open(url).await.unwrap();
    let mut expected = HashMap::new();
    for n in 0..50 {
        let polls = 1 + n % 5;
        let id = fleet
            .submit(
                &started(&base, polls, "ok", &format!("op{n}")).await,
                &format!("k{n}"),
            )
            .await
            .unwrap();
        expected.insert(id, (polls, format!("op{n}")));
    }
    let worker = worker(&fleet).with_batch_size(16);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running =
        tokio::spawn(async move { worker.run(async { stopped.await.ok().unwrap_or(()) }).await });
    let deadline = Instant::now() + Duration::from_secs(20);
    while fleet
        .list()
        .await
        .unwrap()
        .iter()
        .any(|row| row.state == State::Running)
    {
        assert!(
            Instant::now() < deadline,
            "operations still running after 20 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(()).unwrap();
    running.await.unwrap().expect("a graceful shutdown");
    for row in fleet.list().await.unwrap() {
        let (polls, name) = &expected[&row.id];
        assert_eq!(row.state, State::Succeeded, "{row:?}");
        assert_eq!(row.polls, u64::from(*polls), "{row:?}");
        assert_eq!(row.last_status.as_deref(), Some("completed"));
        assert_eq!(row.progress, Some(100.0));
        assert!(
            row.result
                .as_deref()
                .unwrap_or("")
                .contains(&format!("item-{name}")),
            "{row:?}"
        );
        assert!(row.next_due.is_none() && row.token.is_none() && row.last_error.is_none());
    }
    assert_eq!(
        seen.total_polls(),
        expected
            .values()
            .map(|(polls, _)| *polls as usize)
            .sum::<usize>()
    );
    assert_eq!(seen.after_end.load(Ordering::SeqCst), 0);
}

pub async fn a_failed_job_records_the_service_error(url: &str) {
    let (base, _seen) = serve().await;
    let fleet = Fleet::open(url).await.unwrap();
    let id = fleet
        .submit(&started(&base, 2, "fail", "f").await, "f")
        .await
        .unwrap();
    let ok = fleet
        .submit(&started(&base, 1, "ok", "g").await, "g")
        .await
        .unwrap();
    let ended = drain(&fleet, &worker(&fleet), Duration::from_secs(10)).await;
    assert_eq!(ended.len(), 2);
    let row = fleet.get(id).await.unwrap().unwrap();
    assert_eq!(row.state, State::Failed);
    assert_eq!(row.last_status.as_deref(), Some("failed"));
    let error = row.last_error.unwrap_or_default();
    assert!(
        error.contains("nameAlreadyExists") && error.contains("already exists"),
        "{error}"
    );
    assert!(row.result.is_none() && row.token.is_none());
    assert_eq!(row.polls, 2);
    assert_eq!(
        fleet.get(ok).await.unwrap().unwrap().state,
        State::Succeeded
    );
}

pub async fn two_racing_workers_record_each_outcome_once(url: &str) {
    let (base, seen) = serve().await;
    let fleet = Fleet::open(url).await.unwrap();
    let total = 200;
    for n in 0..total {
        let ending = if n % 9 == 0 { "fail" } else { "ok" };
        let token = started(&base, 1 + n % 4, ending, &format!("r{n}")).await;
        fleet.submit(&token, &format!("r{n}")).await.unwrap();
    }
    // Two handles, two pools: as two processes would.
    let other = Fleet::open(url).await.unwrap();
    let (a, b) = tokio::join!(
        async {
            drain(
                &fleet,
                &worker(&fleet).with_batch_size(8),
                Duration::from_secs(30),
            )
            .await
        },
        async {
            drain(
                &other,
                &worker(&other).with_batch_size(8),
                Duration::from_secs(30),
            )
            .await
        },
    );
    assert!(
        !a.is_empty() && !b.is_empty(),
        "both workers took part ({} and {})",
        a.len(),
        b.len()
    );
    let mut recorded: HashMap<i64, usize> = HashMap::new();
    for id in a.iter().chain(&b) {
        *recorded.entry(*id).or_default() += 1;
    }
    assert_eq!(recorded.len(), total as usize, "every outcome recorded");
    assert!(
        recorded.values().all(|&n| n == 1),
        "an outcome recorded twice"
    );
    let ended = seen.ended.lock().unwrap().clone();
    assert_eq!(ended.len(), total as usize);
    assert!(
        ended.values().all(|&n| n == 1),
        "a job answered its end twice"
    );
    assert_eq!(
        seen.after_end.load(Ordering::SeqCst),
        0,
        "a poll after the end"
    );
    let gap = seen
        .shortest_gap()
        .expect("operations polled more than once");
    assert!(
        gap + ROUNDING >= FLOOR,
        "two polls of one operation {gap:?} apart"
    );
    let rows = fleet.list().await.unwrap();
    assert_eq!(
        rows.iter().filter(|row| row.state == State::Failed).count(),
        23
    );
    assert_eq!(
        rows.iter()
            .filter(|row| row.state == State::Succeeded)
            .count(),
        177
    );
}

pub async fn a_dead_workers_rows_are_taken_over_after_its_lease(url: &str) {
    let (base, seen) = serve().await;
    let fleet = Fleet::open(url).await.unwrap();
    for n in 0..10 {
        fleet
            .submit(
                &started(&base, 3, "ok", &format!("d{n}")).await,
                &format!("d{n}"),
            )
            .await
            .unwrap();
    }
    let lease = Duration::from_millis(1500);
    // A worker caught mid-batch, its polls hanging, then killed.
    seen.stall.store(true, Ordering::SeqCst);
    let doomed = worker(&fleet).with_lease(lease).with_per_host_limit(4);
    let dying = tokio::spawn(async move { doomed.run_once().await });
    let claimed_at = Instant::now();
    while seen.stalled.load(Ordering::SeqCst) < 4 {
        assert!(
            claimed_at.elapsed() < Duration::from_secs(10),
            "the first worker never polled"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Ten rows claimed, but no more than four requests at once to the host.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        seen.stalled.load(Ordering::SeqCst),
        4,
        "the per-host cap was exceeded"
    );
    dying.abort();
    assert!(dying.await.unwrap_err().is_cancelled());
    seen.stall.store(false, Ordering::SeqCst);
    let survivor = worker(&fleet).with_lease(lease);
    let batch = survivor.run_once().await.unwrap();
    assert_eq!(
        batch.claimed, 0,
        "rows leased to the dead worker were taken before expiry"
    );
    assert!(
        fleet
            .list()
            .await
            .unwrap()
            .iter()
            .all(|row| row.state == State::Running && row.polls == 0)
    );
    tokio::time::sleep(lease.saturating_sub(claimed_at.elapsed()) + Duration::from_millis(50))
        .await;
    let ended = drain(&fleet, &survivor, Duration::from_secs(10)).await;
    assert_eq!(ended.len(), 10);
    assert!(
        fleet
            .list()
            .await
            .unwrap()
            .iter()
            .all(|row| row.state == State::Succeeded)
    );
    assert_eq!(seen.after_end.load(Ordering::SeqCst), 0);
}

pub async fn nothing_is_polled_after_its_end(url: &str) {
    let (base, seen) = serve().await;
    let fleet = Fleet::open(url).await.unwrap();
    for n in 0..6 {
        let ending = if n % 2 == 0 { "ok" } else { "fail" };
        fleet
            .submit(
                &started(&base, 2, ending, &format!("e{n}")).await,
                &format!("e{n}"),
            )
            .await
            .unwrap();
    }
    let worker = worker(&fleet);
    assert_eq!(
        drain(&fleet, &worker, Duration::from_secs(10)).await.len(),
        6
    );
    let polls = seen.total_polls();
    assert_eq!(polls, 12);
    // Ended rows are never due again, however long workers keep running.
    for _ in 0..5 {
        assert_eq!(worker.run_once().await.unwrap().claimed, 0);
        tokio::time::sleep(FLOOR).await;
    }
    assert_eq!(seen.total_polls(), polls);
    assert_eq!(seen.after_end.load(Ordering::SeqCst), 0);
}
