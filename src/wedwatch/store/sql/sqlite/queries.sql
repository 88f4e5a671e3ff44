-- SQLite-only queries and overrides of sql/queries.sql.

-- name: create_schema_migrations
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
);

-- name: lock_migrations
-- Nothing to do: migrations run under BEGIN IMMEDIATE, which already holds the write lock.
SELECT 1;

-- name: describe_schema
SELECT m.name AS table_name, c.name AS column_name, lower(c.type) AS data_type
FROM sqlite_schema AS m JOIN pragma_table_info(m.name) AS c
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
ORDER BY m.name, c.cid;

-- Row sets (values.py): :rows is a JSON array of row parameters; json_each() yields its elements
-- in order (`key` is the index), `->>` reads a field as SQL text, number or NULL, `->` a JSON
-- column's value as its JSON text. INSERT ... SELECT needs a WHERE before ON CONFLICT (SQLite's
-- parsing rule), hence `WHERE true`.

-- name: find_incidents
-- A notification's incidents (:rows of fingerprint, starts_at), and every incident of its
-- fingerprints that started since :since (what flap gating counts): two index lookups.
SELECT p.id, p.fingerprint, p.starts_at
FROM json_each(:rows) AS r
JOIN performance_alerts AS p
  ON p.fingerprint = r.value ->> '$.fingerprint' AND p.starts_at = r.value ->> '$.starts_at'
UNION
SELECT p.id, p.fingerprint, p.starts_at
FROM performance_alerts AS p
WHERE p.fingerprint IN (SELECT r.value ->> '$.fingerprint' FROM json_each(:rows) AS r)
  AND p.starts_at >= :since;

-- name: insert_incidents
INSERT INTO performance_alerts (
    fingerprint, starts_at, alertname, status, severity, escalated_severity, strategy,
    wedding_id, operation, labels, annotations, generator_url, ends_at,
    first_seen_at, last_seen_at, resolved_at
)
SELECT
    r.value ->> '$.fingerprint', r.value ->> '$.starts_at', r.value ->> '$.alertname',
    r.value ->> '$.status', r.value ->> '$.severity', r.value ->> '$.escalated_severity',
    r.value ->> '$.strategy', r.value ->> '$.wedding_id', r.value ->> '$.operation',
    r.value -> '$.labels', r.value -> '$.annotations', r.value ->> '$.generator_url',
    r.value ->> '$.ends_at', r.value ->> '$.seen_at', r.value ->> '$.seen_at', r.value ->> '$.resolved_at'
FROM json_each(:rows) AS r
WHERE true
ORDER BY r.key
ON CONFLICT (fingerprint, starts_at) DO NOTHING
RETURNING id, fingerprint, starts_at;

-- name: insert_responses
INSERT INTO degradation_responses (incident_id, strategy, severity, wedding_id, decided_at, details, first_action_completed_at)
SELECT
    r.value ->> '$.incident_id', r.value ->> '$.strategy', r.value ->> '$.severity',
    r.value ->> '$.wedding_id', r.value ->> '$.decided_at', r.value -> '$.details',
    r.value ->> '$.first_action_completed_at'
FROM json_each(:rows) AS r
WHERE true
ORDER BY r.key
ON CONFLICT (incident_id) DO NOTHING;

-- name: insert_actions
-- A row is pending, or already final (a `log` action recorded at decision time: status,
-- attempts, started_at, finished_at, result and error given).
INSERT INTO action_outbox (
    idempotency_key, incident_id, action, target, params, status, attempts, not_before, created_at,
    priority, started_at, finished_at, result, error
)
SELECT
    r.value ->> '$.idempotency_key', r.value ->> '$.incident_id', r.value ->> '$.action',
    r.value ->> '$.target', r.value -> '$.params', r.value ->> '$.status', r.value ->> '$.attempts',
    r.value ->> '$.not_before', r.value ->> '$.created_at',
    r.value ->> '$.priority', r.value ->> '$.started_at', r.value ->> '$.finished_at',
    CASE WHEN r.value ->> '$.result' IS NULL THEN NULL ELSE r.value -> '$.result' END, r.value ->> '$.error'
FROM json_each(:rows) AS r
WHERE true
ORDER BY r.key
ON CONFLICT (idempotency_key) DO NOTHING;

-- name: complete_responses
-- complete_response_action for a row set (incident_id, completed_at) in one statement: the
-- responses of `log` actions recorded done at decision time (store/outbox.py).
UPDATE degradation_responses SET first_action_completed_at = r.value ->> '$.completed_at'
FROM json_each(:rows) AS r
WHERE degradation_responses.incident_id = r.value ->> '$.incident_id'
  AND (first_action_completed_at IS NULL OR first_action_completed_at > r.value ->> '$.completed_at');

-- Retention (store/retention.py): a batch's ids (:rows of {id}) removed from one table. SQLite's
-- foreign keys are enforced (PRAGMA foreign_keys = ON): an incident's actions and response go first.

-- name: delete_notifications
DELETE FROM notifications WHERE id IN (SELECT r.value ->> '$.id' FROM json_each(:rows) AS r);

-- name: delete_probe_aggregates
DELETE FROM wedding_performance_metrics WHERE id IN (SELECT r.value ->> '$.id' FROM json_each(:rows) AS r);

-- name: delete_critical_path
DELETE FROM critical_path_metrics WHERE id IN (SELECT r.value ->> '$.id' FROM json_each(:rows) AS r);

-- name: delete_prediction_sets
DELETE FROM scaling_prediction_sets WHERE id IN (SELECT r.value ->> '$.id' FROM json_each(:rows) AS r);

-- name: delete_optimization_results
DELETE FROM optimization_results WHERE id IN (SELECT r.value ->> '$.id' FROM json_each(:rows) AS r);

-- name: delete_actions
DELETE FROM action_outbox WHERE id IN (SELECT r.value ->> '$.id' FROM json_each(:rows) AS r);

-- name: delete_emergency_periods
DELETE FROM emergency_events WHERE id IN (SELECT r.value ->> '$.id' FROM json_each(:rows) AS r);

-- name: delete_incident_actions
DELETE FROM action_outbox WHERE incident_id IN (SELECT r.value ->> '$.id' FROM json_each(:rows) AS r);

-- name: delete_incident_responses
DELETE FROM degradation_responses WHERE incident_id IN (SELECT r.value ->> '$.id' FROM json_each(:rows) AS r);

-- name: delete_incidents
DELETE FROM performance_alerts WHERE id IN (SELECT r.value ->> '$.id' FROM json_each(:rows) AS r);

-- The partitioned tables' batches on PostgreSQL (postgres/queries.sql); SQLite's tables are not
-- partitioned and use delete_<table>, but the bound does no harm.

-- name: delete_notifications_before
DELETE FROM notifications
WHERE received_at < :cutoff AND id IN (SELECT r.value ->> '$.id' FROM json_each(:rows) AS r);

-- name: delete_probe_aggregates_before
DELETE FROM wedding_performance_metrics
WHERE bucket_start < :cutoff AND id IN (SELECT r.value ->> '$.id' FROM json_each(:rows) AS r);

-- name: delete_critical_path_before
DELETE FROM critical_path_metrics
WHERE observed_at < :cutoff AND id IN (SELECT r.value ->> '$.id' FROM json_each(:rows) AS r);

-- name: table_bytes
-- Bytes per table, its indexes included (as PostgreSQL's pg_total_relation_size), from the dbstat
-- virtual table: Python's SQLite is usually built with it (SQLITE_ENABLE_DBSTAT_VTAB); without it
-- this fails and `store stats` reports no bytes (store/stats.py). It reads every page of the file.
SELECT m.tbl_name AS table_name, sum(s.pgsize) AS bytes
FROM dbstat AS s JOIN sqlite_schema AS m ON m.name = s.name
WHERE s.aggregate = 1 AND m.tbl_name NOT LIKE 'sqlite_%'
GROUP BY m.tbl_name;

-- name: database_bytes
SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size();
