-- wedwatch schema, PostgreSQL dialect. Keep in step with ../sqlite/0001_initial.sql: the same
-- tables, columns and constraints. Conventions (wedwatch/store/values.py): timestamps are
-- TIMESTAMPTZ, JSON columns JSONB. Never use the server's clock: `now` comes from Python.

CREATE TABLE weddings (
    id          TEXT PRIMARY KEY,
    -- Local wall time in `timezone` (2027-06-12T15:00), exactly as a calendar file holds it:
    -- an instant would lose the intent when a zone's rules change.
    ceremony_at TEXT        NOT NULL,
    timezone    TEXT        NOT NULL,
    guests      INTEGER     NOT NULL CHECK (guests >= 0),
    vendors     INTEGER     NOT NULL DEFAULT 0 CHECK (vendors >= 0),
    name        TEXT,
    venue       TEXT,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- No foreign key to weddings: the calendar may come from a file or the platform's API.
CREATE TABLE wedding_performance_metrics (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wedding_id           TEXT             NOT NULL,
    operation            TEXT             NOT NULL,
    bucket_start         TIMESTAMPTZ      NOT NULL,
    bucket_seconds       INTEGER          NOT NULL CHECK (bucket_seconds > 0),
    tier                 TEXT             NOT NULL,
    phase                TEXT             NOT NULL,
    probes               BIGINT           NOT NULL DEFAULT 0 CHECK (probes >= 0),
    failures             BIGINT           NOT NULL DEFAULT 0 CHECK (failures >= 0),
    duration_sum_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
    duration_max_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
    last_reason          TEXT,
    UNIQUE (wedding_id, operation, bucket_start)
);
CREATE INDEX wedding_performance_metrics_bucket ON wedding_performance_metrics (bucket_start);

CREATE TABLE critical_path_metrics (
    id                           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    UNIQUE (wedding_id, observed_at)
);

CREATE TABLE notifications (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedup_key   TEXT        NOT NULL UNIQUE,
    group_key   TEXT        NOT NULL,
    receiver    TEXT        NOT NULL,
    status      TEXT        NOT NULL,
    alert_count INTEGER     NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    payload     JSONB       NOT NULL
);
CREATE INDEX notifications_received ON notifications (received_at);

-- The incidents: one row per (fingerprint, starts_at), DESIGN.md section 4.
CREATE TABLE performance_alerts (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fingerprint        TEXT        NOT NULL,
    starts_at          TIMESTAMPTZ NOT NULL,
    alertname          TEXT        NOT NULL,
    status             TEXT        NOT NULL CHECK (status IN ('firing', 'resolved')),
    severity           TEXT        NOT NULL,
    escalated_severity TEXT,
    strategy           TEXT,
    wedding_id         TEXT,
    operation          TEXT,
    labels             JSONB       NOT NULL,
    annotations        JSONB       NOT NULL,
    generator_url      TEXT,
    ends_at            TIMESTAMPTZ,
    first_seen_at      TIMESTAMPTZ NOT NULL,
    last_seen_at       TIMESTAMPTZ NOT NULL,
    resolved_at        TIMESTAMPTZ,
    UNIQUE (fingerprint, starts_at)
);
CREATE INDEX performance_alerts_status ON performance_alerts (status, last_seen_at);
CREATE INDEX performance_alerts_wedding ON performance_alerts (wedding_id, status);

CREATE TABLE action_outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key TEXT        NOT NULL UNIQUE,
    -- NULL for actions no incident asked for (a forecast's pre-ceremony plan).
    incident_id     BIGINT REFERENCES performance_alerts (id) ON DELETE CASCADE,
    action          TEXT        NOT NULL,
    params          JSONB       NOT NULL,
    status          TEXT        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'running', 'done', 'failed', 'skipped')),
    attempts        INTEGER     NOT NULL DEFAULT 0,
    not_before      TIMESTAMPTZ NOT NULL,
    claimed_by      TEXT,
    lease_until     TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    started_at      TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ,
    result          JSONB,
    error           TEXT
);
CREATE INDEX action_outbox_due ON action_outbox (status, not_before);
CREATE INDEX action_outbox_incident ON action_outbox (incident_id);
CREATE INDEX action_outbox_started ON action_outbox (started_at);

CREATE TABLE degradation_responses (
    id                        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id               BIGINT      NOT NULL UNIQUE
                              REFERENCES performance_alerts (id) ON DELETE CASCADE,
    strategy                  TEXT        NOT NULL,
    severity                  TEXT        NOT NULL,
    wedding_id                TEXT,
    decided_at                TIMESTAMPTZ NOT NULL,
    first_action_completed_at TIMESTAMPTZ,
    resolved_at               TIMESTAMPTZ,
    resolution_seconds        DOUBLE PRECISION,
    outcome                   TEXT,
    details                   JSONB       NOT NULL
);
CREATE INDEX degradation_responses_decided ON degradation_responses (decided_at);

CREATE TABLE optimization_results (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL allowed: several NULLs never conflict, so keyless rows always insert.
    idempotency_key TEXT UNIQUE,
    kind            TEXT             NOT NULL,
    resource        TEXT             NOT NULL,
    wedding_id      TEXT,
    before_value    DOUBLE PRECISION,
    after_value     DOUBLE PRECISION,
    executed_at     TIMESTAMPTZ      NOT NULL,
    dry_run         BOOLEAN          NOT NULL DEFAULT FALSE,
    outcome         TEXT             NOT NULL,
    details         JSONB            NOT NULL
);
CREATE INDEX optimization_results_executed ON optimization_results (executed_at);

CREATE TABLE scaling_prediction_sets (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    series          TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    horizon_start   TIMESTAMPTZ NOT NULL,
    horizon_end     TIMESTAMPTZ NOT NULL,
    model           TEXT        NOT NULL,
    metrics         JSONB       NOT NULL,
    points          JSONB       NOT NULL,
    recommendations JSONB       NOT NULL
);
CREATE INDEX scaling_prediction_sets_series ON scaling_prediction_sets (series, created_at);
