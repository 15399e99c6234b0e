-- The table of operations a fleet of workers polls. Times are milliseconds
-- since the Unix epoch (UTC). A row is `running` until its outcome is
-- recorded, once: `succeeded`, `failed` (the service's error) or `error`.
CREATE TABLE fleet_operations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    key             TEXT    NOT NULL UNIQUE,
    state           TEXT    NOT NULL DEFAULT 'running'
                    CHECK (state IN ('running', 'succeeded', 'failed', 'error')),
    token           TEXT,
    next_due_ms     BIGINT  NOT NULL,
    progress        DOUBLE PRECISION,
    last_status     TEXT,
    last_error      TEXT,
    result          TEXT,
    polls           BIGINT  NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    lease_until_ms  BIGINT,
    created_ms      BIGINT  NOT NULL,
    updated_ms      BIGINT  NOT NULL
);
CREATE INDEX fleet_operations_due ON fleet_operations (next_due_ms) WHERE state = 'running';
