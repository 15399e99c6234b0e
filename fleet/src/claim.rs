//! Claiming due rows under a lease, in one statement per engine.

use sqlx::AnyPool;
use sqlx::Row as _;

use crate::engine::Engine;

/// A claimed row: its id and the token to resume it with.
#[derive(Debug)]
pub(crate) struct Claimed {
    pub(crate) id: i64,
    pub(crate) token: Option<String>,
}

/// PostgreSQL: rows another worker is claiming are skipped, not waited for.
const POSTGRES: &str = "\
WITH due AS (
    SELECT id FROM fleet_operations
    WHERE state = 'running' AND next_due_ms <= $1
      AND (lease_until_ms IS NULL OR lease_until_ms < $1)
    ORDER BY next_due_ms
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE fleet_operations AS o SET lease_owner = $3, lease_until_ms = $4
FROM due WHERE o.id = due.id
RETURNING o.id, o.token";

/// SQLite: one writer at a time; the statement takes the write lock before
/// it reads, so two workers never claim the same row.
const SQLITE: &str = "\
UPDATE fleet_operations SET lease_owner = $3, lease_until_ms = $4
WHERE id IN (
    SELECT id FROM fleet_operations
    WHERE state = 'running' AND next_due_ms <= $1
      AND (lease_until_ms IS NULL OR lease_until_ms < $1)
    ORDER BY next_due_ms
    LIMIT $2
)
RETURNING id, token";

/// Leases up to `limit` rows due at `now_ms` (and not leased, or whose lease
/// has expired) to `owner` until `until_ms`.
pub(crate) async fn claim(
    pool: &AnyPool,
    engine: Engine,
    owner: &str,
    now_ms: i64,
    until_ms: i64,
    limit: usize,
) -> Result<Vec<Claimed>, sqlx::Error> {
    let sql = match engine {
        Engine::Postgres => POSTGRES,
        Engine::Sqlite => SQLITE,
    };
    let rows = sqlx::query(sql)
        .bind(now_ms)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(owner)
        .bind(until_ms)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Claimed {
                id: row.try_get("id")?,
                token: row.try_get("token")?,
            })
        })
        .collect()
}
