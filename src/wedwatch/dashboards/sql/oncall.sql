-- The On call dashboard's panels on the store (wedwatch/dashboards/oncall.py), by name.

-- name: open_incidents
SELECT starts_at AS "started", alertname, severity, escalated_severity, strategy,
       wedding_id, operation, last_seen_at
FROM performance_alerts
WHERE status = 'firing'
ORDER BY starts_at DESC
LIMIT 100;
