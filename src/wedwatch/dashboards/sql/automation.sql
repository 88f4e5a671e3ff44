-- The Automation dashboard's panels on the store (wedwatch/dashboards/automation.py), by name.
-- Grafana runs them as written through its PostgreSQL datasource: $__timeFilter(column) and
-- $__timeGroupAlias(column, interval) are its macros, expanded over the dashboard's time range.

-- name: action_outbox_by_status
SELECT action, status, count(*) AS actions, max(attempts) AS max_attempts
FROM action_outbox
WHERE $__timeFilter(created_at)
GROUP BY action, status
ORDER BY action, status;

-- name: actions_waiting_or_failed
SELECT created_at, action, status, attempts, not_before, lease_until, incident_id, error
FROM action_outbox
WHERE status IN ('pending', 'running', 'failed')
ORDER BY created_at DESC
LIMIT 100;

-- name: action_run_time
SELECT $__timeGroupAlias(finished_at, '5m'), action AS metric,
       avg(EXTRACT(EPOCH FROM finished_at - started_at)) AS value
FROM action_outbox
WHERE finished_at IS NOT NULL AND started_at IS NOT NULL AND $__timeFilter(finished_at)
GROUP BY 1, 2
ORDER BY 1;

-- name: responses_by_strategy
SELECT $__timeGroupAlias(decided_at, '1h'), strategy AS metric, count(*) AS value
FROM degradation_responses
WHERE $__timeFilter(decided_at)
GROUP BY 1, 2
ORDER BY 1;

-- name: effectiveness_by_strategy
SELECT strategy, count(*) AS responses, count(resolved_at) AS resolved,
       count(first_action_completed_at) AS acted,
       avg(resolution_seconds) AS mean_resolution,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY resolution_seconds) AS p90_resolution
FROM degradation_responses
WHERE $__timeFilter(decided_at)
GROUP BY strategy
ORDER BY strategy;

-- name: recent_responses
SELECT r.decided_at, a.alertname, r.severity, r.strategy, r.wedding_id,
       r.first_action_completed_at, r.resolved_at, r.resolution_seconds, r.outcome
FROM degradation_responses r
JOIN performance_alerts a ON a.id = r.incident_id
WHERE $__timeFilter(r.decided_at)
ORDER BY r.decided_at DESC
LIMIT 100;

-- name: incidents
SELECT starts_at, alertname, status, severity, escalated_severity, strategy, wedding_id,
       operation, ends_at, first_seen_at, last_seen_at
FROM performance_alerts
WHERE $__timeFilter(starts_at)
ORDER BY starts_at DESC
LIMIT 200;
