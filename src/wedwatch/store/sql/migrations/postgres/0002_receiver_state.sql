-- Receiver state shared by every replica: action targets (cooldowns), emergency mode, the
-- kill switch. Keep in step with ../sqlite/0002_receiver_state.sql.

-- What an action acts on (a wedding id, or `platform`): the cooldown is per action and target.
ALTER TABLE action_outbox ADD COLUMN target TEXT;
CREATE INDEX action_outbox_target ON action_outbox (action, target, started_at);

-- One row per emergency period. `active` is 1 while the period lasts and NULL afterwards, so
-- the UNIQUE constraint admits at most one open period however many replicas enter it.
CREATE TABLE emergency_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    active      INTEGER UNIQUE CHECK (active = 1),
    entered_at  TIMESTAMPTZ NOT NULL,
    exited_at   TIMESTAMPTZ,
    incident_id BIGINT REFERENCES performance_alerts (id) ON DELETE SET NULL,
    wedding_id  TEXT,
    reason      TEXT        NOT NULL,
    exit_reason TEXT
);
CREATE INDEX emergency_events_entered ON emergency_events (entered_at);

-- The kill switch set through the API; a single row.
CREATE TABLE automation_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    enabled    BOOLEAN     NOT NULL,
    reason     TEXT,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT
);
