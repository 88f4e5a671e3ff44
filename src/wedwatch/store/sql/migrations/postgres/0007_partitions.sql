-- Time partitioning of the append-heavy tables (issue 19), PostgreSQL only: SQLite stays
-- unpartitioned (../sqlite/0007_partitions.sql). docs/store.md, "Partitions", says why each choice.
--
--   wedding_performance_metrics  by bucket_start    critical_path_metrics  by observed_at
--   notifications                by received_at
--
-- Native declarative partitioning (PARTITION BY RANGE), one partition per UTC day, named
-- <table>_pYYYYMMDD, plus a DEFAULT partition (<table>_default) that catches rows no day partition
-- covers (a pruning schedule that stopped for longer than the days created ahead, a clock far off):
-- without it such an insert fails, and a receiver would answer every webhook with an error. Day
-- partitions are created ahead (store/partitions.py: at every start and every pruning pass) and
-- dropped whole once every row of theirs is past its retention window (store/retention.py).
--
-- A partitioned table's primary and unique keys must hold the partition column: `id` is unique
-- with its time, (id, <time>), as a unique index (the tables have no other primary key). The
-- probe aggregates' and critical-path samples' own unique keys already hold their time, so their
-- upserts (ON CONFLICT) are unchanged. A notification's dedup key does not: no unique index can
-- span partitions, so dedup takes an advisory lock on the key and looks the key up in every
-- partition (wedwatch_insert_notification below).
--
-- Converting an existing table copies nothing: the old table is renamed <table>_legacy and, when it
-- has rows, attached as the partition of everything before the day after its newest row (FROM
-- MINVALUE). Its rows are pruned like any others and it is dropped whole once all of them are
-- past their windows. Attaching reads the old table once (to check the bound) and builds the
-- indexes it lacks, (id, <time>) and, for notifications, (dedup_key): seconds per million rows.
-- On a large database build those beforehand with CREATE INDEX CONCURRENTLY (docs/store.md,
-- "Upgrading a large database") and the attach finds them.

-- The functions the store calls by name (store/partitions.py). DDL cannot take bound parameters,
-- so identifiers and bounds go through format() with %I and %L, never by concatenating SQL.

-- Renames the table (its identity sequence dropped: ids come from the new table's) to <table>_legacy.
CREATE FUNCTION wedwatch_retire_table(parent text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %I RENAME TO %I', parent, parent || '_legacy');
    EXECUTE format('ALTER TABLE %I ALTER COLUMN id DROP IDENTITY', parent || '_legacy');
END
$$;

-- The retired table as the partition of everything before the day after its newest row, or dropped
-- when empty; ids of new rows continue after its largest. 'attached' or 'dropped'.
CREATE FUNCTION wedwatch_adopt_legacy(parent text, time_column text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    legacy text := parent || '_legacy';
    newest timestamptz;
    top bigint;
BEGIN
    EXECUTE format('SELECT max(%I), max(id) FROM %I', time_column, legacy) INTO newest, top;
    IF newest IS NULL THEN
        EXECUTE format('DROP TABLE %I', legacy);
        RETURN 'dropped';
    END IF;
    -- 24 hours, not '1 day': a day's length in the session's time zone may differ around DST.
    EXECUTE format(
        'ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%L)',
        parent, legacy, date_trunc('day', newest, 'UTC') + interval '24 hours'
    );
    EXECUTE format('ALTER TABLE %I ALTER COLUMN id RESTART WITH %s', parent, top + 1);
    RETURN 'attached';
END
$$;

-- The partition of one UTC day, created beside the table and then attached: ATTACH takes only a
-- SHARE UPDATE EXCLUSIVE lock on the parent (CREATE TABLE ... PARTITION OF takes an ACCESS
-- EXCLUSIVE one, which would hold up every insert). It does take an ACCESS EXCLUSIVE lock on the
-- DEFAULT partition, which it scans for rows of that day, until the transaction ends; waiting for
-- that lock is bounded by lock_timeout_ms. A day the default partition already holds rows of is
-- left to it (its rows are pruned in batches like any others). Returns 'created', 'exists',
-- 'default_has_rows', 'overlaps' (another partition, the legacy one, covers part of the day) or
-- 'busy' (a lock not granted in time); nothing is left behind but a created partition.
CREATE FUNCTION wedwatch_create_day_partition(parent text, time_column text, day date, lock_timeout_ms integer)
RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    part text := parent || '_p' || to_char(day, 'YYYYMMDD');
    low timestamptz := day::timestamp AT TIME ZONE 'UTC';
    high timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
    previous text := current_setting('lock_timeout');
    taken boolean;
BEGIN
    IF to_regclass(format('%I', part)) IS NOT NULL THEN
        RETURN 'exists';
    END IF;
    -- Through the parent: with no partition for the day, only the default (and the legacy
    -- partition) are read, by their time index, without the lock ATTACH would take to scan.
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I >= %L AND %I < %L)', parent, time_column, low, time_column, high)
        INTO taken;
    IF taken THEN
        RETURN 'default_has_rows';
    END IF;
    PERFORM set_config('lock_timeout', lock_timeout_ms || 'ms', true);
    EXECUTE format(
        'CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)',
        part, parent
    );
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, part, low, high);
    PERFORM set_config('lock_timeout', previous, true);
    RETURN 'created';
EXCEPTION
    -- The block's subtransaction rolled back: the new table and the setting with it.
    WHEN check_violation THEN
        RETURN 'default_has_rows';
    WHEN invalid_object_definition THEN
        RETURN 'overlaps';
    WHEN lock_not_available THEN
        RETURN 'busy';
END
$$;

-- Drops one partition and returns how many rows it held, or -1 when a lock was not granted
-- within lock_timeout_ms (nothing done; the caller removes its rows in batches instead).
-- Dropping a partition takes an ACCESS EXCLUSIVE lock on its parent until the transaction ends:
-- inserts wait for it, and it waits for transactions already using the parent. The timeout bounds
-- that wait, so an ack never queues behind it for longer (a long query on the table makes the
-- drop give up, not the acks wait). The rows are counted first, under a SHARE lock on the
-- partition alone (no row can be added meanwhile; the parent stays free).
CREATE FUNCTION wedwatch_drop_partition(part text, lock_timeout_ms integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    previous text := current_setting('lock_timeout');
    n bigint;
BEGIN
    PERFORM set_config('lock_timeout', lock_timeout_ms || 'ms', true);
    EXECUTE format('LOCK TABLE %I IN SHARE MODE', part);
    EXECUTE format('SELECT count(*) FROM %I', part) INTO n;
    EXECUTE format('DROP TABLE %I', part);
    PERFORM set_config('lock_timeout', previous, true);
    RETURN n;
EXCEPTION WHEN lock_not_available THEN
    -- The block's subtransaction rolled back, the setting with it.
    RETURN -1;
END
$$;

-- A notification unless a delivery of its dedup key is stored already; its id, or NULL. No unique
-- index can span partitions, so the key is made unique here: the advisory lock, held until the
-- transaction ends, makes a concurrent delivery of the same key (an HA pair, a retry) wait for the
-- first one's transaction; the lookup that follows is a new statement with a new snapshot (READ
-- COMMITTED, a VOLATILE function), so it then sees the row and nothing is inserted. The lookup reads
-- each partition's dedup_key index. The two-key lock form keeps these apart from the single-key
-- locks (lock_migrations, lock_actions). One round trip for the receiver, as the unique insert was.
CREATE FUNCTION wedwatch_insert_notification(
    p_dedup_key text, p_group_key text, p_receiver text, p_status text, p_alert_count bigint,
    p_received_at timestamptz, p_payload jsonb
) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('wedwatch.notifications'), hashtext(p_dedup_key));
    IF EXISTS (SELECT 1 FROM notifications WHERE dedup_key = p_dedup_key) THEN
        RETURN NULL;
    END IF;
    INSERT INTO notifications (dedup_key, group_key, receiver, status, alert_count, received_at, payload)
    VALUES (p_dedup_key, p_group_key, p_receiver, p_status, p_alert_count, p_received_at, p_payload)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

-- Probe aggregates. Columns and checks as in 0001, the checks named as 0001's were (ATTACH matches
-- the legacy table's CHECK constraints by name; a new name would be _check1); the unique key and the (phase, bucket_start) index match the legacy
-- table's, which the attach adopts instead of building them again.
SELECT wedwatch_retire_table('wedding_performance_metrics');
CREATE TABLE wedding_performance_metrics (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY,
    wedding_id           TEXT             NOT NULL,
    operation            TEXT             NOT NULL,
    bucket_start         TIMESTAMPTZ      NOT NULL,
    bucket_seconds       INTEGER          NOT NULL
                         CONSTRAINT wedding_performance_metrics_bucket_seconds_check CHECK (bucket_seconds > 0),
    tier                 TEXT             NOT NULL,
    phase                TEXT             NOT NULL,
    probes               BIGINT           NOT NULL DEFAULT 0
                         CONSTRAINT wedding_performance_metrics_probes_check CHECK (probes >= 0),
    failures             BIGINT           NOT NULL DEFAULT 0
                         CONSTRAINT wedding_performance_metrics_failures_check CHECK (failures >= 0),
    duration_sum_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
    duration_max_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
    last_reason          TEXT,
    CONSTRAINT wedding_performance_metrics_bucket_key UNIQUE (wedding_id, operation, bucket_start)
) PARTITION BY RANGE (bucket_start);
CREATE UNIQUE INDEX wedding_performance_metrics_id_time ON wedding_performance_metrics (id, bucket_start);
CREATE INDEX wedding_performance_metrics_phase_time ON wedding_performance_metrics (phase, bucket_start);
CREATE TABLE wedding_performance_metrics_default PARTITION OF wedding_performance_metrics DEFAULT;
SELECT wedwatch_adopt_legacy('wedding_performance_metrics', 'bucket_start');

-- Critical-path samples.
SELECT wedwatch_retire_table('critical_path_metrics');
CREATE TABLE critical_path_metrics (
    id                           BIGINT GENERATED ALWAYS AS IDENTITY,
    wedding_id                   TEXT        NOT NULL,
    observed_at                  TIMESTAMPTZ NOT NULL,
    guests_checked_in            INTEGER,
    guests_expected              INTEGER,
    next_milestone_delay_seconds DOUBLE PRECISION,
    vendors_confirmed            INTEGER,
    vendors_booked               INTEGER,
    open_incidents               INTEGER,
    incident_response_seconds    DOUBLE PRECISION,
    -- A retried write of the same observation is a no-op.
    CONSTRAINT critical_path_metrics_sample_key UNIQUE (wedding_id, observed_at)
) PARTITION BY RANGE (observed_at);
CREATE UNIQUE INDEX critical_path_metrics_id_time ON critical_path_metrics (id, observed_at);
CREATE INDEX critical_path_metrics_observed_at ON critical_path_metrics (observed_at);
CREATE TABLE critical_path_metrics_default PARTITION OF critical_path_metrics DEFAULT;
SELECT wedwatch_adopt_legacy('critical_path_metrics', 'observed_at');

-- Notifications: dedup_key is indexed, not unique (see above).
SELECT wedwatch_retire_table('notifications');
CREATE TABLE notifications (
    id          BIGINT GENERATED ALWAYS AS IDENTITY,
    dedup_key   TEXT        NOT NULL,
    group_key   TEXT        NOT NULL,
    receiver    TEXT        NOT NULL,
    status      TEXT        NOT NULL,
    alert_count INTEGER     NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    payload     JSONB       NOT NULL
) PARTITION BY RANGE (received_at);
-- As in 0004: lz4 where the server has it. Partitions take it from the table (LIKE ... INCLUDING COMPRESSION).
DO $$
BEGIN
    ALTER TABLE notifications ALTER COLUMN payload SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available on this server; notifications.payload keeps pglz';
END
$$;
CREATE UNIQUE INDEX notifications_id_time ON notifications (id, received_at);
CREATE INDEX notifications_dedup ON notifications (dedup_key);
CREATE INDEX notifications_received_at ON notifications (received_at);
CREATE TABLE notifications_default PARTITION OF notifications DEFAULT;
SELECT wedwatch_adopt_legacy('notifications', 'received_at');
