-- PostgreSQL-only queries and overrides of sql/queries.sql.

-- name: create_schema_migrations
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT        NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL
);

-- name: lock_migrations
-- Held until the migrating transaction ends, so two processes starting at once take turns;
-- the key is a constant shared by every wedwatch process on this database.
SELECT pg_advisory_xact_lock(hashtext('wedwatch.schema_migrations'));

-- name: claim_actions
-- SKIP LOCKED lets concurrent workers take disjoint rows instead of queueing on each other;
-- the CTE keeps the LIMIT applied once, before the update.
WITH picked AS (
    SELECT id FROM action_outbox
    WHERE (status = 'pending' AND not_before <= :now)
       OR (status = 'running' AND lease_until < :now)
    ORDER BY not_before, id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
)
UPDATE action_outbox AS o SET
    status = 'running',
    claimed_by = :worker_id,
    lease_until = :lease_until,
    attempts = o.attempts + 1,
    started_at = :now
FROM picked
WHERE o.id = picked.id
RETURNING o.*;

-- name: describe_schema
SELECT table_name::text AS table_name, column_name::text AS column_name, data_type::text AS data_type
FROM information_schema.columns
WHERE table_schema = current_schema()
ORDER BY table_name, ordinal_position;

-- name: lock_actions
-- Held until the gating transaction ends: replicas take turns spending the budget.
SELECT pg_advisory_xact_lock(hashtext('wedwatch.action_outbox.gate'));
