//! Writing a batch's results back: one statement, guarded by state and lease.

use sqlx::AnyPool;
use sqlx::Row as _;

use crate::poll::Written;
use crate::row::State;

/// Columns of one written row, in bind order.
const COLUMNS: usize = 8;

/// Writes every result back in one statement and releases the leases.
/// A row is written only while it is still `running` and leased to `owner`:
/// an outcome is recorded once, and a worker whose lease expired and was
/// taken over writes nothing. Returns the rows written, with their new state.
pub(crate) async fn write_back(
    pool: &AnyPool,
    owner: &str,
    now_ms: i64,
    batch: Vec<Written>,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let values = (0..batch.len())
        .map(|row| {
            let n = 3 + row * COLUMNS;
            // Typed casts: PostgreSQL cannot infer a VALUES column's type from a bind.
            format!(
                "(CAST(${} AS BIGINT), CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS BIGINT), \
                 CAST(${} AS DOUBLE PRECISION), CAST(${} AS TEXT), CAST(${} AS TEXT), CAST(${} AS TEXT))",
                n,
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6,
                n + 7
            )
        })
        .collect::<Vec<_>>()
        .join(",\n");
    let sql = format!(
        "WITH v (v_id, v_state, v_token, v_due, v_progress, v_status, v_error, v_result) AS (
             VALUES {values}
         )
         UPDATE fleet_operations AS o SET
             state = v_state,
             token = v_token,
             next_due_ms = v_due,
             progress = COALESCE(v_progress, o.progress),
             last_status = COALESCE(v_status, o.last_status),
             last_error = v_error,
             result = v_result,
             polls = o.polls + 1,
             lease_owner = NULL,
             lease_until_ms = NULL,
             updated_ms = $1
         FROM v
         WHERE o.id = v_id AND o.state = 'running' AND o.lease_owner = $2
         RETURNING id, state"
    );
    // Not prepared once and reused: a bind's type follows its value (a NULL
    // progress is typed otherwise than a number), and PostgreSQL would keep
    // the first call's types for every later one.
    let mut query = sqlx::query(&sql)
        .persistent(false)
        .bind(now_ms)
        .bind(owner.to_owned());
    for row in batch {
        query = query
            .bind(row.id)
            .bind(State::as_str(row.state))
            .bind(row.token)
            .bind(row.next_due_ms)
            .bind(row.progress)
            .bind(row.last_status)
            .bind(row.last_error)
            .bind(row.result);
    }
    let rows = query.fetch_all(pool).await?;
    rows.iter()
        .map(|row| Ok((row.try_get("id")?, row.try_get("state")?)))
        .collect()
}

/// Gives back every lease `owner` holds on a running row (a worker shutting down).
pub(crate) async fn release(pool: &AnyPool, owner: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE fleet_operations SET lease_owner = NULL, lease_until_ms = NULL \
         WHERE lease_owner = $1 AND state = 'running'",
    )
    .bind(owner.to_owned())
    .execute(pool)
    .await?;
    Ok(())
}
