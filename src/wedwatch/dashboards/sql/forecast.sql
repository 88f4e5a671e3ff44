-- The Forecast dashboard's panels on the store (wedwatch/dashboards/forecast.py), by name.
-- `latest` is each series' newest prediction set (the id breaks a tie of created_at); Grafana
-- expands $__timeFilter(column) over the dashboard's time range.

-- name: forecast_over_the_horizon
WITH latest AS (
    SELECT DISTINCT ON (series) *
    FROM scaling_prediction_sets
    ORDER BY series, created_at DESC, id DESC
)
SELECT (p.point->>'ts')::timestamptz AS "time", l.series || ' ' || b.name AS metric,
       (p.point->>b.key)::double precision AS value
FROM latest l
CROSS JOIN LATERAL jsonb_array_elements(l.points) AS p(point)
CROSS JOIN (VALUES ('yhat', 'yhat'), ('lower', 'yhat_lower'), ('upper', 'yhat_upper')) AS b(name, key)
WHERE $__timeFilter((p.point->>'ts')::timestamptz)
ORDER BY 1;

-- name: scaling_recommendations
WITH latest AS (
    SELECT DISTINCT ON (series) *
    FROM scaling_prediction_sets
    ORDER BY series, created_at DESC, id DESC
)
SELECT l.series, l.created_at, l.model, l.horizon_end, r.value::text AS recommendation
FROM latest l
CROSS JOIN LATERAL jsonb_array_elements(l.recommendations) AS r(value)
ORDER BY l.series;

-- name: model_accuracy
WITH latest AS (
    SELECT DISTINCT ON (series) *
    FROM scaling_prediction_sets
    ORDER BY series, created_at DESC, id DESC
)
SELECT series, model, created_at, horizon_start, horizon_end, metrics::text AS metrics
FROM latest
ORDER BY series;

-- name: capacity_changes_executed
SELECT executed_at AS "time",
       kind || ' ' || resource || CASE WHEN dry_run THEN ' (dry run)' ELSE '' END AS metric,
       after_value AS value
FROM optimization_results
WHERE after_value IS NOT NULL AND $__timeFilter(executed_at)
ORDER BY 1;

-- name: optimizations
SELECT executed_at, kind, resource, wedding_id, before_value, after_value, dry_run, outcome
FROM optimization_results
WHERE $__timeFilter(executed_at)
ORDER BY executed_at DESC
LIMIT 100;
