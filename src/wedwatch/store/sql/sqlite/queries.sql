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
