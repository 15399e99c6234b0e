//! The handle on the table: open, submit, read.

use std::sync::Arc;

use lro_poller::{ResumeToken, Transport};
use sqlx::AnyPool;

use crate::clock::{now_ms, to_ms};
use crate::engine::{Engine, connect};
use crate::error::FleetError;
use crate::row::Row;
use crate::worker::Worker;

const COLUMNS: &str =
    "id, key, state, token, next_due_ms, progress, last_status, last_error, result, polls";

/// A table of operations in a database: SQLite (`sqlite:PATH`, created if
/// missing) or PostgreSQL (`postgres://…`). Cheap to clone; clones share
/// one connection pool.
///
/// ```no_run
/// # async fn demo(token: lro_poller::ResumeToken) -> Result<(), lro_fleet::FleetError> {
/// let fleet = lro_fleet::Fleet::open("sqlite:operations.db").await?;
/// let id = fleet.submit(&token, "copy-report-2024").await?;
/// let row = fleet.get(id).await?;
/// # let _ = row; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Fleet {
    pool: AnyPool,
    engine: Engine,
}

impl Fleet {
    /// Connects to the database at `url` and applies the schema's
    /// migrations (versioned; those already applied are skipped).
    pub async fn open(url: &str) -> Result<Fleet, FleetError> {
        let (pool, engine) = connect(url).await?;
        Ok(Fleet { pool, engine })
    }

    /// Stores the operation `token` resumes under the caller's `key`, due
    /// when the token says (now if it does not), and returns its id.
    /// Idempotent by key: submitting the same key again stores nothing and
    /// returns the first id.
    pub async fn submit(&self, token: &ResumeToken, key: &str) -> Result<i64, FleetError> {
        let now = now_ms();
        let due = token.next_poll_at().map(to_ms).unwrap_or(now);
        sqlx::query(
            "INSERT INTO fleet_operations (key, token, next_due_ms, created_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(token.to_string())
        .bind(due)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?;
        let id: i64 = sqlx::query_scalar("SELECT id FROM fleet_operations WHERE key = $1")
            .bind(key)
            .fetch_one(&self.pool)
            .await?;
        Ok(id)
    }

    /// The row with `id`, if there is one.
    pub async fn get(&self, id: i64) -> Result<Option<Row>, FleetError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM fleet_operations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(Row::read).transpose()
    }

    /// Every row, oldest first.
    pub async fn list(&self) -> Result<Vec<Row>, FleetError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM fleet_operations ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Row::read).collect()
    }

    /// A worker that polls this table's due operations through `transport`
    /// (which adds credentials per origin: the table holds none).
    pub fn worker<T: Transport + 'static>(&self, transport: T) -> Worker<T> {
        Worker::new(self.pool.clone(), self.engine, Arc::new(transport))
    }
}
