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
-- SKIP LOCKED lets concurrent workers take disjoint rows instead of queueing on each other.
-- Expired leases first, then due pending actions by priority, each half walking its own partial
-- index in order (see the shared query); the CTEs are read lazily, so `picked` stops both at the limit.
WITH leased AS (
    SELECT id FROM action_outbox WHERE status = 'running' AND lease_until < :now
    ORDER BY lease_until, id LIMIT :limit
    FOR UPDATE SKIP LOCKED
), due AS (
    SELECT id FROM action_outbox WHERE status = 'pending' AND not_before <= :now
    ORDER BY priority, not_before, id LIMIT :limit
    FOR UPDATE SKIP LOCKED
), picked AS (
    SELECT id FROM leased UNION ALL SELECT id FROM due LIMIT :limit
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
-- Tables, not their partitions (migration 0007): a partitioned table is described once.
SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, c.data_type::text AS data_type
FROM information_schema.columns AS c
WHERE c.table_schema = current_schema()
  AND NOT EXISTS (
      SELECT 1 FROM pg_class AS r JOIN pg_namespace AS n ON n.oid = r.relnamespace
      WHERE n.nspname = c.table_schema AND r.relname = c.table_name AND r.relispartition
  )
ORDER BY c.table_name, c.ordinal_position;

-- name: lock_actions
-- Held until the gating transaction ends: replicas take turns spending the budget.
SELECT pg_advisory_xact_lock(hashtext('wedwatch.action_outbox.gate'));

-- Row sets (values.py): :rows is a JSONB array of row parameters; jsonb_array_elements() yields
-- its elements in order (WITH ORDINALITY numbers them), `->>` reads a field as text, cast to
-- the column's type; `->` keeps a JSON column's value as JSONB. Inserting in the array's order
-- (sorted by the caller) keeps the order in which replicas wait on each other's keys stable.

-- name: find_incidents
-- A notification's incidents (:rows of fingerprint, starts_at), and every incident of its
-- fingerprints that started since :since (what flap gating counts). Each side is a LATERAL
-- subquery with LIMIT / OFFSET so that it stays one index lookup per alert whatever the
-- statistics: a prepared statement keeps its plan, and one made while the table was small
-- (a hash join over all of it) made every later notification read the whole table.
SELECT p.id, p.fingerprint, p.starts_at
FROM jsonb_array_elements(:rows) AS e(r)
CROSS JOIN LATERAL (
    SELECT id, fingerprint, starts_at FROM performance_alerts
    WHERE fingerprint = e.r ->> 'fingerprint' AND starts_at = (e.r ->> 'starts_at')::timestamptz
    LIMIT 1
) AS p
UNION
SELECT p.id, p.fingerprint, p.starts_at
FROM (SELECT DISTINCT e.r ->> 'fingerprint' AS fingerprint FROM jsonb_array_elements(:rows) AS e(r)) AS f
CROSS JOIN LATERAL (
    SELECT id, fingerprint, starts_at FROM performance_alerts
    WHERE fingerprint = f.fingerprint AND starts_at >= :since
    OFFSET 0
) AS p;

-- name: insert_incidents
INSERT INTO performance_alerts (
    fingerprint, starts_at, alertname, status, severity, escalated_severity, strategy,
    wedding_id, operation, labels, annotations, generator_url, ends_at,
    first_seen_at, last_seen_at, resolved_at
)
SELECT
    e.r ->> 'fingerprint', (e.r ->> 'starts_at')::timestamptz, e.r ->> 'alertname',
    e.r ->> 'status', e.r ->> 'severity', e.r ->> 'escalated_severity',
    e.r ->> 'strategy', e.r ->> 'wedding_id', e.r ->> 'operation',
    e.r -> 'labels', e.r -> 'annotations', e.r ->> 'generator_url',
    (e.r ->> 'ends_at')::timestamptz, (e.r ->> 'seen_at')::timestamptz, (e.r ->> 'seen_at')::timestamptz,
    (e.r ->> 'resolved_at')::timestamptz
FROM jsonb_array_elements(:rows) WITH ORDINALITY AS e(r, n)
ORDER BY e.n
ON CONFLICT (fingerprint, starts_at) DO NOTHING
RETURNING id, fingerprint, starts_at;

-- name: insert_responses
INSERT INTO degradation_responses (incident_id, strategy, severity, wedding_id, decided_at, details, first_action_completed_at)
SELECT
    (e.r ->> 'incident_id')::bigint, e.r ->> 'strategy', e.r ->> 'severity',
    e.r ->> 'wedding_id', (e.r ->> 'decided_at')::timestamptz, e.r -> 'details',
    (e.r ->> 'first_action_completed_at')::timestamptz
FROM jsonb_array_elements(:rows) WITH ORDINALITY AS e(r, n)
ORDER BY e.n
ON CONFLICT (incident_id) DO NOTHING;

-- name: insert_actions
-- A row is pending, or already final (a `log` action recorded at decision time: status,
-- attempts, started_at, finished_at, result and error given).
INSERT INTO action_outbox (
    idempotency_key, incident_id, action, target, params, status, attempts, not_before, created_at,
    priority, started_at, finished_at, result, error
)
SELECT
    e.r ->> 'idempotency_key', (e.r ->> 'incident_id')::bigint, e.r ->> 'action',
    e.r ->> 'target', e.r -> 'params', e.r ->> 'status', (e.r ->> 'attempts')::integer,
    (e.r ->> 'not_before')::timestamptz, (e.r ->> 'created_at')::timestamptz,
    (e.r ->> 'priority')::smallint, (e.r ->> 'started_at')::timestamptz, (e.r ->> 'finished_at')::timestamptz,
    NULLIF(e.r -> 'result', 'null'::jsonb), e.r ->> 'error'
FROM jsonb_array_elements(:rows) WITH ORDINALITY AS e(r, n)
ORDER BY e.n
ON CONFLICT (idempotency_key) DO NOTHING;

-- name: complete_responses
-- complete_response_action for a row set (incident_id, completed_at) in one statement: the
-- responses of `log` actions recorded done at decision time (store/outbox.py).
UPDATE degradation_responses AS d SET first_action_completed_at = (e.r ->> 'completed_at')::timestamptz
FROM jsonb_array_elements(:rows) AS e(r)
WHERE d.incident_id = (e.r ->> 'incident_id')::bigint
  AND (d.first_action_completed_at IS NULL OR d.first_action_completed_at > (e.r ->> 'completed_at')::timestamptz);

-- Retention (store/retention.py): a batch's ids (:rows of {id}) removed from one table. `= ANY(ARRAY(…))`
-- makes the ids one array computed first, then walks the primary key (or the incident index) once
-- per id: with `IN (SELECT …)` the planner hashes the batch and scans the whole table when it
-- expects a few thousand rows.

-- name: delete_notifications
DELETE FROM notifications
WHERE id = ANY(ARRAY(SELECT (e.r ->> 'id')::bigint FROM jsonb_array_elements(:rows) AS e(r)));

-- name: delete_probe_aggregates
DELETE FROM wedding_performance_metrics
WHERE id = ANY(ARRAY(SELECT (e.r ->> 'id')::bigint FROM jsonb_array_elements(:rows) AS e(r)));

-- name: delete_critical_path
DELETE FROM critical_path_metrics
WHERE id = ANY(ARRAY(SELECT (e.r ->> 'id')::bigint FROM jsonb_array_elements(:rows) AS e(r)));

-- name: delete_prediction_sets
DELETE FROM scaling_prediction_sets
WHERE id = ANY(ARRAY(SELECT (e.r ->> 'id')::bigint FROM jsonb_array_elements(:rows) AS e(r)));

-- name: delete_optimization_results
DELETE FROM optimization_results
WHERE id = ANY(ARRAY(SELECT (e.r ->> 'id')::bigint FROM jsonb_array_elements(:rows) AS e(r)));

-- name: delete_actions
DELETE FROM action_outbox
WHERE id = ANY(ARRAY(SELECT (e.r ->> 'id')::bigint FROM jsonb_array_elements(:rows) AS e(r)));

-- name: delete_emergency_periods
DELETE FROM emergency_events
WHERE id = ANY(ARRAY(SELECT (e.r ->> 'id')::bigint FROM jsonb_array_elements(:rows) AS e(r)));

-- name: delete_incident_actions
DELETE FROM action_outbox
WHERE incident_id = ANY(ARRAY(SELECT (e.r ->> 'id')::bigint FROM jsonb_array_elements(:rows) AS e(r)));

-- name: delete_incident_responses
DELETE FROM degradation_responses
WHERE incident_id = ANY(ARRAY(SELECT (e.r ->> 'id')::bigint FROM jsonb_array_elements(:rows) AS e(r)));

-- name: delete_incidents
DELETE FROM performance_alerts
WHERE id = ANY(ARRAY(SELECT (e.r ->> 'id')::bigint FROM jsonb_array_elements(:rows) AS e(r)));

-- name: prunable_incidents
-- The shared query's condition, and the rows it picks locked until the batch commits, so that a
-- delivery re-firing one of them cannot slip in between the pick and the delete (it waits for the
-- batch, then finds the incident gone). SKIP LOCKED: a row a delivery holds is left for the next pass.
SELECT p.id FROM performance_alerts AS p
WHERE p.status = 'resolved' AND p.last_seen_at < :cutoff
  AND NOT EXISTS (
      SELECT 1 FROM action_outbox AS a WHERE a.incident_id = p.id AND a.status IN ('pending', 'running')
  )
  AND NOT EXISTS (
      SELECT 1 FROM emergency_events AS e
      WHERE e.incident_id = p.id AND (e.exited_at IS NULL OR e.exited_at >= :periods_cutoff)
  )
ORDER BY p.last_seen_at LIMIT :limit
FOR UPDATE OF p SKIP LOCKED;

-- name: table_bytes
-- Bytes per table with its indexes and TOAST (pg_total_relation_size); a partitioned table is the
-- sum of its partitions (pg_partition_tree), which are not listed themselves.
SELECT c.relname::text AS table_name,
       CASE WHEN c.relkind = 'p'
            THEN (SELECT coalesce(sum(pg_total_relation_size(t.relid)), 0) FROM pg_partition_tree(c.oid) AS t)
            ELSE pg_total_relation_size(c.oid)
       END::bigint AS bytes
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition;

-- name: database_bytes
SELECT pg_database_size(current_database()) AS bytes;

-- name: insert_notification
-- On a table partitioned by received_at (migration 0007) the dedup key cannot be a unique index:
-- wedwatch_insert_notification makes it unique with an advisory lock and a lookup. No row when the
-- key is known, as the shared query's ON CONFLICT DO NOTHING.
SELECT n.id FROM wedwatch_insert_notification(
    :dedup_key, :group_key, :receiver, :status, :alert_count, :received_at, :payload
) AS n (id)
WHERE n.id IS NOT NULL;

-- Partitions (store/partitions.py, migration 0007): one per UTC day of each partitioned table,
-- created ahead and dropped whole when past retention by the functions of migration 0007. These
-- override the shared file's, which do nothing (SQLite has no partitions).

-- name: lock_partitions
-- Held until the transaction ends: processes creating partitions take turns.
SELECT pg_advisory_xact_lock(hashtext('wedwatch.partitions')) AS locked;

-- name: create_day_partition
SELECT wedwatch_create_day_partition(:parent, :time_column, :day, :lock_timeout_ms) AS outcome;

-- name: drop_partition
SELECT wedwatch_drop_partition(:name, :lock_timeout_ms) AS n;

-- name: list_partitions
-- Every partition of this schema's partitioned tables with its bounds, read back from the catalog's
-- text of them (NULL for MINVALUE; is_default for the DEFAULT partition), oldest first per table.
SELECT p.relname::text AS parent, c.relname::text AS name,
       coalesce(pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', false) AS is_default,
       (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']*)''\)'))[1]::timestamptz AS lower_bound,
       (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']*)''\)'))[1]::timestamptz AS upper_bound
FROM pg_inherits AS i
JOIN pg_class AS c ON c.oid = i.inhrelid
JOIN pg_class AS p ON p.oid = i.inhparent
JOIN pg_namespace AS n ON n.oid = p.relnamespace
WHERE n.nspname = current_schema() AND p.relkind = 'p'
ORDER BY p.relname, upper_bound NULLS LAST, c.relname;

-- A kind's batch on a partitioned table: the ids its prunable_<kind> query picked, and the time
-- bound, which prunes the partitions (the planner leaves out every partition from the cutoff on;
-- without it each id is looked up in every partition's index).

-- name: delete_notifications_before
DELETE FROM notifications
WHERE received_at < :cutoff
  AND id = ANY(ARRAY(SELECT (e.r ->> 'id')::bigint FROM jsonb_array_elements(:rows) AS e(r)));

-- name: delete_probe_aggregates_before
DELETE FROM wedding_performance_metrics
WHERE bucket_start < :cutoff
  AND id = ANY(ARRAY(SELECT (e.r ->> 'id')::bigint FROM jsonb_array_elements(:rows) AS e(r)));

-- name: delete_critical_path_before
DELETE FROM critical_path_metrics
WHERE observed_at < :cutoff
  AND id = ANY(ARRAY(SELECT (e.r ->> 'id')::bigint FROM jsonb_array_elements(:rows) AS e(r)));
