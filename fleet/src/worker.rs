//! A worker: claim due rows, poll each once, write the batch back.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::FutureExt;
use futures::future::join_all;
use lro_poller::Transport;
use lro_poller::policy::PollPolicy;
use sqlx::AnyPool;

use crate::claim::claim;
use crate::clock::now_ms;
use crate::engine::Engine;
use crate::error::FleetError;
use crate::hosts::HostLimits;
use crate::poll::poll_once;
use crate::row::State;
use crate::write_back::{release, write_back};

/// What one [`Worker::run_once`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Batch {
    /// Rows claimed (each polled once).
    pub claimed: usize,
    /// Rows whose results were written back (a row whose lease was lost
    /// meanwhile is not).
    pub written: usize,
    /// Ids of the rows whose outcome this batch recorded (succeeded, failed
    /// or error): each id appears in exactly one batch of the whole fleet.
    pub ended: Vec<i64>,
}

/// Polls a fleet's due operations, made by [`Fleet::worker`](crate::Fleet::worker).
///
/// Each poll resumes the row's token, so each operation keeps its own
/// schedule and the crate's floor between two polls of its monitor; the
/// worker also caps its concurrent requests per host. Credentials come from
/// the transport (per origin), never from the table.
#[derive(Debug)]
pub struct Worker<T> {
    pool: AnyPool,
    engine: Engine,
    transport: Arc<T>,
    owner: String,
    batch_size: usize,
    lease: Duration,
    idle: Duration,
    policy: Option<PollPolicy>,
    hosts: HostLimits,
}

impl<T: Transport + 'static> Worker<T> {
    pub(crate) fn new(pool: AnyPool, engine: Engine, transport: Arc<T>) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let owner = format!(
            "{}-{}-{}",
            std::process::id(),
            now_ms(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        Worker {
            pool,
            engine,
            transport,
            owner,
            batch_size: 64,
            lease: Duration::from_secs(60),
            idle: Duration::from_millis(500),
            policy: None,
            hosts: HostLimits::new(8),
        }
    }

    /// How many due rows one batch claims (default 64).
    pub fn with_batch_size(mut self, rows: usize) -> Self {
        self.batch_size = rows.max(1);
        self
    }

    /// How long a claim lasts (default 60 s): longer than a batch's polls
    /// take, since a row whose lease expires may be claimed by another worker.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long [`Worker::run`] sleeps when nothing is due (default 500 ms).
    pub fn with_idle_wait(mut self, idle: Duration) -> Self {
        self.idle = idle;
        self
    }

    /// The polling policy every resumed operation runs with (default: the
    /// crate's [`PollPolicy::default`]).
    pub fn with_policy(mut self, policy: PollPolicy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// The most requests in flight at once to one host (default 8).
    pub fn with_per_host_limit(mut self, requests: usize) -> Self {
        self.hosts = HostLimits::new(requests);
        self
    }

    /// The name this worker's leases carry.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Claims a batch of due rows, polls each once, and writes every result
    /// back in one statement. A batch with nothing due claims nothing.
    pub async fn run_once(&self) -> Result<Batch, FleetError> {
        let now = now_ms();
        let until = now.saturating_add(i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX));
        let claimed = claim(
            &self.pool,
            self.engine,
            &self.owner,
            now,
            until,
            self.batch_size,
        )
        .await?;
        if claimed.is_empty() {
            return Ok(Batch::default());
        }
        let count = claimed.len();
        let polls = claimed.into_iter().map(|row| {
            poll_once(
                self.transport.clone(),
                self.policy.clone(),
                &self.hosts,
                row.id,
                row.token,
            )
        });
        let results = join_all(polls).await;
        let written = write_back(&self.pool, &self.owner, now_ms(), results).await?;
        let ended = written
            .iter()
            .filter(|(_, state)| state != State::Running.as_str())
            .map(|(id, _)| *id)
            .collect();
        Ok(Batch {
            claimed: count,
            written: written.len(),
            ended,
        })
    }

    /// Runs batches until `until` completes, sleeping while nothing is due.
    /// Shutdown is graceful: a batch in flight finishes and is written back,
    /// then any lease this worker still holds is released.
    pub async fn run(&self, until: impl Future<Output = ()>) -> Result<(), FleetError> {
        let mut until = pin!(until.fuse());
        let outcome = loop {
            if until.as_mut().now_or_never().is_some() {
                break Ok(());
            }
            match self.run_once().await {
                Ok(batch) if batch.claimed == 0 => {
                    tokio::select! {
                        () = &mut until => break Ok(()),
                        () = tokio::time::sleep(self.idle) => {}
                    }
                }
                Ok(_) => {}
                Err(e) => break Err(e),
            }
        };
        release(&self.pool, &self.owner).await?;
        outcome
    }
}
