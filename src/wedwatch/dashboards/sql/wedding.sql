-- The Wedding dashboard's panels on the store (wedwatch/dashboards/wedding.py), by name.
-- '$wedding_id' is the dashboard's variable, which Grafana replaces before the query runs;
-- $__timeFilter(column) is its macro over the dashboard's time range.

-- name: open_platform_incidents
SELECT observed_at AS "time", open_incidents AS "open incidents",
       incident_response_seconds AS "response time"
FROM critical_path_metrics
WHERE wedding_id = '$wedding_id' AND $__timeFilter(observed_at)
ORDER BY 1;

-- name: mean_probe_duration_per_operation
SELECT bucket_start AS "time", operation AS metric,
       sum(duration_sum_seconds) / NULLIF(sum(probes), 0) AS value
FROM wedding_performance_metrics
WHERE wedding_id = '$wedding_id' AND $__timeFilter(bucket_start)
GROUP BY bucket_start, operation
ORDER BY 1;

-- name: incidents_and_responses
SELECT a.starts_at AS "started", a.alertname, a.severity, a.escalated_severity, a.status,
       r.strategy, r.first_action_completed_at, a.resolved_at, r.resolution_seconds
FROM performance_alerts a
LEFT JOIN degradation_responses r ON r.incident_id = a.id
WHERE a.wedding_id = '$wedding_id' AND $__timeFilter(a.starts_at)
ORDER BY a.starts_at DESC
LIMIT 100;
