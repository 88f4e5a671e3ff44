-- wedwatch's queries, called by name from the modules of wedwatch/store/. Placeholders are `:name`
-- (rewritten to `%(name)s` for psycopg). A dialect replaces a query only where the dialects
-- truly differ, in sql/<dialect>/queries.sql. Values follow values.py's conventions: `now` and
-- every other instant come from Python; JSON parameters carry their column's name.

-- name: ping
SELECT 1 AS ok;

-- name: applied_migrations
SELECT version, name, applied_at FROM schema_migrations ORDER BY version;

-- name: record_migration
INSERT INTO schema_migrations (version, name, applied_at) VALUES (:version, :name, :applied_at);

-- name: upsert_wedding
INSERT INTO weddings (id, ceremony_at, timezone, guests, vendors, name, venue, updated_at)
VALUES (:id, :ceremony_at, :timezone, :guests, :vendors, :name, :venue, :updated_at)
ON CONFLICT (id) DO UPDATE SET
    ceremony_at = excluded.ceremony_at,
    timezone = excluded.timezone,
    guests = excluded.guests,
    vendors = excluded.vendors,
    name = excluded.name,
    venue = excluded.venue,
    updated_at = excluded.updated_at;

-- name: list_weddings
-- Exactly the keys wedwatch.calendar.parse_calendar accepts.
SELECT id, ceremony_at, timezone, guests, vendors, name, venue FROM weddings ORDER BY id;

-- name: upsert_probe_aggregate
-- Additive: several exporters (or a retried flush of a partial bucket) sum up. CASE instead
-- of max()/GREATEST() because each dialect has only one of them as a two-argument function.
INSERT INTO wedding_performance_metrics (
    wedding_id, operation, bucket_start, bucket_seconds, tier, phase,
    probes, failures, duration_sum_seconds, duration_max_seconds, last_reason
) VALUES (
    :wedding_id, :operation, :bucket_start, :bucket_seconds, :tier, :phase,
    :probes, :failures, :duration_sum_seconds, :duration_max_seconds, :last_reason
)
ON CONFLICT (wedding_id, operation, bucket_start) DO UPDATE SET
    tier = excluded.tier,
    phase = excluded.phase,
    probes = wedding_performance_metrics.probes + excluded.probes,
    failures = wedding_performance_metrics.failures + excluded.failures,
    duration_sum_seconds = wedding_performance_metrics.duration_sum_seconds + excluded.duration_sum_seconds,
    duration_max_seconds = CASE
        WHEN excluded.duration_max_seconds > wedding_performance_metrics.duration_max_seconds
        THEN excluded.duration_max_seconds
        ELSE wedding_performance_metrics.duration_max_seconds
    END,
    last_reason = COALESCE(excluded.last_reason, wedding_performance_metrics.last_reason);

-- name: list_probe_aggregates
SELECT wedding_id, operation, bucket_start, bucket_seconds, tier, phase, probes, failures,
       duration_sum_seconds, duration_max_seconds, last_reason
FROM wedding_performance_metrics
WHERE bucket_start >= :since
ORDER BY bucket_start, wedding_id, operation;

-- name: insert_critical_path
INSERT INTO critical_path_metrics (
    wedding_id, observed_at, guests_checked_in, guests_expected, next_milestone_delay_seconds,
    vendors_confirmed, vendors_booked, open_incidents, incident_response_seconds
) VALUES (
    :wedding_id, :observed_at, :guests_checked_in, :guests_expected, :next_milestone_delay_seconds,
    :vendors_confirmed, :vendors_booked, :open_incidents, :incident_response_seconds
)
ON CONFLICT (wedding_id, observed_at) DO NOTHING;

-- name: latest_critical_path
SELECT c.* FROM critical_path_metrics c
WHERE c.observed_at = (
    SELECT max(l.observed_at) FROM critical_path_metrics l WHERE l.wedding_id = c.wedding_id
)
ORDER BY c.wedding_id;

-- name: insert_notification
INSERT INTO notifications (dedup_key, group_key, receiver, status, alert_count, received_at, payload)
VALUES (:dedup_key, :group_key, :receiver, :status, :alert_count, :received_at, :payload)
ON CONFLICT (dedup_key) DO NOTHING
RETURNING id;

-- name: get_notification
SELECT * FROM notifications WHERE dedup_key = :dedup_key;

-- name: insert_incident
INSERT INTO performance_alerts (
    fingerprint, starts_at, alertname, status, severity, escalated_severity, strategy,
    wedding_id, operation, labels, annotations, generator_url, ends_at,
    first_seen_at, last_seen_at, resolved_at
) VALUES (
    :fingerprint, :starts_at, :alertname, :status, :severity, :escalated_severity, :strategy,
    :wedding_id, :operation, :labels, :annotations, :generator_url, :ends_at,
    :seen_at, :seen_at, :resolved_at
)
ON CONFLICT (fingerprint, starts_at) DO NOTHING
RETURNING id;

-- name: update_incident
-- The latest delivery wins for status and ends_at; resolved_at keeps the first resolution.
UPDATE performance_alerts SET
    status = :status,
    ends_at = :ends_at,
    last_seen_at = CASE WHEN last_seen_at > :seen_at THEN last_seen_at ELSE :seen_at END,
    resolved_at = CASE WHEN :status = 'resolved' THEN COALESCE(resolved_at, :resolved_at) END
WHERE fingerprint = :fingerprint AND starts_at = :starts_at
RETURNING id;

-- name: get_incident
SELECT * FROM performance_alerts WHERE id = :id;

-- name: list_incidents
SELECT * FROM performance_alerts ORDER BY last_seen_at DESC, id DESC LIMIT :limit;

-- name: list_incidents_by_status
SELECT * FROM performance_alerts WHERE status = :status
ORDER BY last_seen_at DESC, id DESC LIMIT :limit;

-- name: insert_action
INSERT INTO action_outbox (idempotency_key, incident_id, action, target, params, status, attempts, not_before, created_at, priority)
VALUES (:idempotency_key, :incident_id, :action, :target, :params, 'pending', 0, :not_before, :created_at, :priority)
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING id;

-- name: claim_actions
-- SQLite runs this under BEGIN IMMEDIATE, which already excludes every other writer;
-- PostgreSQL overrides it with FOR UPDATE SKIP LOCKED. A running action whose lease expired
-- (its worker died) is due again, ahead of pending ones; pending ones by priority (emergency
-- first, log last), oldest first within one. Each half has its own partial index
-- (action_outbox_leased: migration 0004, action_outbox_pending: 0005) and repeats its condition,
-- so that each walks its index in order and stops at the limit instead of sorting the backlog.
UPDATE action_outbox SET
    status = 'running',
    claimed_by = :worker_id,
    lease_until = :lease_until,
    attempts = attempts + 1,
    started_at = :now
WHERE id IN (
    SELECT id FROM (
        SELECT id FROM (
            SELECT id FROM action_outbox WHERE status = 'running' AND lease_until < :now
            ORDER BY lease_until, id LIMIT :limit
        )
        UNION ALL
        SELECT id FROM (
            SELECT id FROM action_outbox WHERE status = 'pending' AND not_before <= :now
            ORDER BY priority, not_before, id LIMIT :limit
        )
    ) LIMIT :limit
)
RETURNING *;

-- name: finish_action
UPDATE action_outbox SET
    status = :status, finished_at = :now, result = :result, error = :error, lease_until = NULL
WHERE id = :id AND status IN ('pending', 'running');

-- name: release_action
-- Back to pending for a later retry; the attempt already counted when it was claimed.
UPDATE action_outbox SET
    status = 'pending', not_before = :not_before, claimed_by = NULL, lease_until = NULL, error = :error
WHERE id = :id AND status = 'running';

-- name: get_action
SELECT * FROM action_outbox WHERE id = :id;

-- name: list_actions_for_incident
SELECT * FROM action_outbox WHERE incident_id = :incident_id ORDER BY id;

-- name: recent_actions
-- What the cooldown and the hourly budget are computed from.
SELECT id, incident_id, action, target, status, attempts, started_at, finished_at
FROM action_outbox WHERE started_at >= :since ORDER BY started_at, id;

-- name: insert_response
INSERT INTO degradation_responses (incident_id, strategy, severity, wedding_id, decided_at, details)
VALUES (:incident_id, :strategy, :severity, :wedding_id, :decided_at, :details)
ON CONFLICT (incident_id) DO NOTHING
RETURNING id;

-- name: complete_response_action
-- Keeps the earliest completion even when completions are reported out of order.
UPDATE degradation_responses SET first_action_completed_at = :completed_at
WHERE incident_id = :incident_id
  AND (first_action_completed_at IS NULL OR first_action_completed_at > :completed_at);

-- name: get_response
SELECT * FROM degradation_responses WHERE incident_id = :incident_id;

-- name: resolve_response
UPDATE degradation_responses SET
    resolved_at = :resolved_at, resolution_seconds = :resolution_seconds, outcome = :outcome
WHERE incident_id = :incident_id AND resolved_at IS NULL
RETURNING *;

-- name: list_responses
SELECT * FROM degradation_responses ORDER BY decided_at DESC, id DESC LIMIT :limit;

-- name: insert_optimization
INSERT INTO optimization_results (
    idempotency_key, kind, resource, wedding_id, before_value, after_value,
    executed_at, dry_run, outcome, details
) VALUES (
    :idempotency_key, :kind, :resource, :wedding_id, :before_value, :after_value,
    :executed_at, :dry_run, :outcome, :details
)
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING id;

-- name: list_optimizations
SELECT * FROM optimization_results ORDER BY executed_at DESC, id DESC LIMIT :limit;

-- name: insert_prediction_set
INSERT INTO scaling_prediction_sets (
    series, created_at, horizon_start, horizon_end, model, metrics, points, recommendations
) VALUES (
    :series, :created_at, :horizon_start, :horizon_end, :model, :metrics, :points, :recommendations
)
RETURNING id;

-- name: latest_prediction_sets
-- The newest set of each series (ties on created_at go to the later id).
SELECT p.* FROM scaling_prediction_sets p
WHERE NOT EXISTS (
    SELECT 1 FROM scaling_prediction_sets n
    WHERE n.series = p.series
      AND (n.created_at > p.created_at OR (n.created_at = p.created_at AND n.id > p.id))
)
ORDER BY p.series;

-- name: lock_actions
-- Serializes the action gate (budget and cooldown checks plus the claim) across replicas.
-- SQLite's BEGIN IMMEDIATE already excludes other writers; PostgreSQL overrides this.
SELECT 1 AS locked;

-- name: count_actions_run_since
-- Actions that ran (or are running) since :since: what the hourly budget spends. Logging a
-- decision changes nothing on the platform, so the built-in `log` action is free.
SELECT count(*) AS n FROM action_outbox
WHERE started_at >= :since AND status IN ('running', 'done', 'failed') AND action <> 'log';

-- name: count_target_actions_since
-- Runs of one action on one target since :since, other than :id: the cooldown.
SELECT count(*) AS n FROM action_outbox
WHERE action = :action AND target = :target AND id <> :id
  AND started_at >= :since AND status IN ('running', 'done');

-- name: count_incident_starts_since
-- How often an alert (one fingerprint) started firing since :since: flap detection.
SELECT count(*) AS n FROM performance_alerts WHERE fingerprint = :fingerprint AND starts_at >= :since;

-- name: skip_pending_actions
UPDATE action_outbox SET status = 'skipped', error = :reason, finished_at = :now
WHERE incident_id = :incident_id AND status = 'pending';

-- name: list_firing_incidents_since
SELECT * FROM performance_alerts WHERE status = 'firing' AND last_seen_at >= :since
ORDER BY starts_at DESC, id DESC LIMIT :limit;

-- name: count_firing_emergency_incidents
SELECT count(*) AS n FROM performance_alerts
WHERE strategy = 'emergency' AND status = 'firing' AND last_seen_at >= :since;

-- name: last_emergency_resolution
-- Aliased to ends_at so that both back ends decode it as a timestamp.
SELECT max(ends_at) AS ends_at FROM performance_alerts WHERE strategy = 'emergency' AND status = 'resolved';

-- name: enter_emergency
INSERT INTO emergency_events (active, entered_at, incident_id, wedding_id, reason)
VALUES (1, :entered_at, :incident_id, :wedding_id, :reason)
ON CONFLICT (active) DO NOTHING
RETURNING *;

-- name: active_emergency
SELECT * FROM emergency_events WHERE active = 1;

-- name: exit_emergency
UPDATE emergency_events SET active = NULL, exited_at = :exited_at, exit_reason = :reason
WHERE active = 1
RETURNING *;

-- name: list_emergency_events
SELECT * FROM emergency_events ORDER BY entered_at DESC, id DESC LIMIT :limit;

-- name: get_automation
SELECT * FROM automation_state WHERE id = 1;

-- name: set_automation
INSERT INTO automation_state (id, enabled, reason, updated_at, updated_by)
VALUES (1, :enabled, :reason, :updated_at, :updated_by)
ON CONFLICT (id) DO UPDATE SET
    enabled = excluded.enabled, reason = excluded.reason,
    updated_at = excluded.updated_at, updated_by = excluded.updated_by
RETURNING *;

-- Retention (store/retention.py). Each kind of data has `prunable_<kind>`, one batch of the ids
-- it may remove (:cutoff, :limit; each walks an index in order so that it stops at the limit),
-- and `count_prunable_<kind>` with the same condition, for dry runs (tests/store/test_retention.py
-- checks that a dry run counts what a pass removes). The ids go to `delete_<table>` (the dialect's
-- file: it unpacks the row set). Instants are compared strictly: a row exactly at the cutoff stays.

-- name: prunable_notifications
SELECT id FROM notifications WHERE received_at < :cutoff ORDER BY received_at LIMIT :limit;

-- name: count_prunable_notifications
SELECT count(*) AS n FROM notifications WHERE received_at < :cutoff;

-- name: prunable_probe_aggregates_untracked
-- The phases in which a wedding is never tracked; the tracked ones are calendar.phases.TRACKED_PHASES
-- (tests/store/test_retention.py checks that the two lists split config.Phase). Ordered as the
-- index (phase, bucket_start) is, so that each phase is one range read in order.
SELECT id FROM wedding_performance_metrics
WHERE phase IN ('planning', 'month', 'archived') AND bucket_start < :cutoff
ORDER BY phase, bucket_start LIMIT :limit;

-- name: count_prunable_probe_aggregates_untracked
SELECT count(*) AS n FROM wedding_performance_metrics
WHERE phase IN ('planning', 'month', 'archived') AND bucket_start < :cutoff;

-- name: prunable_probe_aggregates_tracked
SELECT id FROM wedding_performance_metrics
WHERE phase IN ('week', 'eve', 'wedding_day', 'ceremony', 'after') AND bucket_start < :cutoff
ORDER BY phase, bucket_start LIMIT :limit;

-- name: count_prunable_probe_aggregates_tracked
SELECT count(*) AS n FROM wedding_performance_metrics
WHERE phase IN ('week', 'eve', 'wedding_day', 'ceremony', 'after') AND bucket_start < :cutoff;

-- name: prunable_critical_path
SELECT id FROM critical_path_metrics WHERE observed_at < :cutoff ORDER BY observed_at LIMIT :limit;

-- name: count_prunable_critical_path
SELECT count(*) AS n FROM critical_path_metrics WHERE observed_at < :cutoff;

-- name: prunable_prediction_sets
-- The newest set of each series stays however old: it is what the receiver exports (wedwatch_forecast)
-- while the forecaster is off.
SELECT p.id FROM scaling_prediction_sets AS p
WHERE p.created_at < :cutoff
  AND EXISTS (
      SELECT 1 FROM scaling_prediction_sets AS n
      WHERE n.series = p.series AND (n.created_at > p.created_at OR (n.created_at = p.created_at AND n.id > p.id))
  )
ORDER BY p.created_at LIMIT :limit;

-- name: count_prunable_prediction_sets
SELECT count(*) AS n FROM scaling_prediction_sets AS p
WHERE p.created_at < :cutoff
  AND EXISTS (
      SELECT 1 FROM scaling_prediction_sets AS n
      WHERE n.series = p.series AND (n.created_at > p.created_at OR (n.created_at = p.created_at AND n.id > p.id))
  );

-- name: prunable_optimization_results
SELECT id FROM optimization_results WHERE executed_at < :cutoff ORDER BY executed_at LIMIT :limit;

-- name: count_prunable_optimization_results
SELECT count(*) AS n FROM optimization_results WHERE executed_at < :cutoff;

-- name: prunable_plan_actions
-- Finished actions no incident asked for (a forecast's pre-ceremony plans); an incident's actions
-- go with their incident. Pending and running rows never go.
SELECT id FROM action_outbox
WHERE incident_id IS NULL AND status IN ('done', 'failed', 'skipped') AND finished_at < :cutoff
LIMIT :limit;

-- name: count_prunable_plan_actions
SELECT count(*) AS n FROM action_outbox
WHERE incident_id IS NULL AND status IN ('done', 'failed', 'skipped') AND finished_at < :cutoff;

-- name: prunable_emergency_periods
-- Closed periods only: the open one (active = 1, exited_at NULL) never goes.
SELECT id FROM emergency_events
WHERE active IS NULL AND exited_at < :cutoff
ORDER BY exited_at LIMIT :limit;

-- name: count_prunable_emergency_periods
SELECT count(*) AS n FROM emergency_events WHERE active IS NULL AND exited_at < :cutoff;

-- name: prunable_incidents
-- Resolved incidents last heard of before :cutoff, with none of their actions pending or running,
-- that no kept emergency period (open, or closed at or after :periods_cutoff) refers to. Their
-- actions and responses go with them, children first (delete_incident_actions, _responses).
-- PostgreSQL overrides this to lock the rows it picks (the condition is the same).
SELECT p.id FROM performance_alerts AS p
WHERE p.status = 'resolved' AND p.last_seen_at < :cutoff
  AND NOT EXISTS (
      SELECT 1 FROM action_outbox AS a WHERE a.incident_id = p.id AND a.status IN ('pending', 'running')
  )
  AND NOT EXISTS (
      SELECT 1 FROM emergency_events AS e
      WHERE e.incident_id = p.id AND (e.exited_at IS NULL OR e.exited_at >= :periods_cutoff)
  )
ORDER BY p.last_seen_at LIMIT :limit;

-- name: count_prunable_incidents
WITH prunable AS (
    SELECT p.id FROM performance_alerts AS p
    WHERE p.status = 'resolved' AND p.last_seen_at < :cutoff
      AND NOT EXISTS (
          SELECT 1 FROM action_outbox AS a WHERE a.incident_id = p.id AND a.status IN ('pending', 'running')
      )
      AND NOT EXISTS (
          SELECT 1 FROM emergency_events AS e
          WHERE e.incident_id = p.id AND (e.exited_at IS NULL OR e.exited_at >= :periods_cutoff)
      )
)
SELECT
    (SELECT count(*) FROM prunable) AS performance_alerts,
    (SELECT count(*) FROM action_outbox WHERE incident_id IN (SELECT id FROM prunable)) AS action_outbox,
    (SELECT count(*) FROM degradation_responses WHERE incident_id IN (SELECT id FROM prunable)) AS degradation_responses;

-- Leases (store/leases.py): times are the holder's wall clock.

-- name: acquire_lease
-- Taken when nobody holds it, when its holder's time ran out, or when the caller already holds it.
INSERT INTO store_leases (name, holder, acquired_at, expires_at)
VALUES (:name, :holder, :now, :expires_at)
ON CONFLICT (name) DO UPDATE SET
    holder = excluded.holder, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
WHERE store_leases.expires_at <= excluded.acquired_at OR store_leases.holder = excluded.holder
RETURNING holder;

-- name: renew_lease
-- Nothing when another holder took it over after it lapsed.
UPDATE store_leases SET expires_at = :expires_at WHERE name = :name AND holder = :holder
RETURNING holder;

-- name: release_lease
DELETE FROM store_leases WHERE name = :name AND holder = :holder;

-- name: get_lease
SELECT * FROM store_leases WHERE name = :name;

-- name: table_rows
-- Every table's row count, for `wedwatch store stats` (a test checks that no table is missing).
SELECT 'action_outbox' AS table_name, count(*) AS n FROM action_outbox
UNION ALL SELECT 'automation_state', count(*) FROM automation_state
UNION ALL SELECT 'critical_path_metrics', count(*) FROM critical_path_metrics
UNION ALL SELECT 'degradation_responses', count(*) FROM degradation_responses
UNION ALL SELECT 'emergency_events', count(*) FROM emergency_events
UNION ALL SELECT 'notifications', count(*) FROM notifications
UNION ALL SELECT 'optimization_results', count(*) FROM optimization_results
UNION ALL SELECT 'performance_alerts', count(*) FROM performance_alerts
UNION ALL SELECT 'scaling_prediction_sets', count(*) FROM scaling_prediction_sets
UNION ALL SELECT 'schema_migrations', count(*) FROM schema_migrations
UNION ALL SELECT 'store_leases', count(*) FROM store_leases
UNION ALL SELECT 'wedding_performance_metrics', count(*) FROM wedding_performance_metrics
UNION ALL SELECT 'weddings', count(*) FROM weddings;

-- Partitions (store/partitions.py): SQLite has none, so these do nothing and list nothing;
-- PostgreSQL's file overrides each of them (migration 0007).

-- name: lock_partitions
SELECT 1 AS locked;

-- name: create_day_partition
SELECT 'unpartitioned' AS outcome;

-- name: drop_partition
SELECT -1 AS n;

-- name: list_partitions
SELECT NULL AS parent, NULL AS name, 0 AS is_default, NULL AS lower_bound, NULL AS upper_bound WHERE 1 = 0;

-- A partition of the probe aggregates goes whole with one kind only when it holds no row of the
-- other (whose window may be longer): rows between :low and :high of the other kind's phases (a
-- range of the (phase, bucket_start) index each). The phases are those of
-- prunable_probe_aggregates_untracked and _tracked (tests/store/test_partitions.py checks).

-- name: other_rows_probe_aggregates_untracked
SELECT EXISTS (
    SELECT 1 FROM wedding_performance_metrics
    WHERE phase IN ('week', 'eve', 'wedding_day', 'ceremony', 'after') AND bucket_start >= :low AND bucket_start < :high
) AS found;

-- name: other_rows_probe_aggregates_tracked
SELECT EXISTS (
    SELECT 1 FROM wedding_performance_metrics
    WHERE phase IN ('planning', 'month', 'archived') AND bucket_start >= :low AND bucket_start < :high
) AS found;
