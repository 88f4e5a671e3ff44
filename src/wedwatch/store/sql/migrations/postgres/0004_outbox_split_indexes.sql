-- The claim, measured during an alert storm (bench/receiver.py, 30,000 pending actions): with
-- one index on (not_before, id) WHERE status IN ('pending', 'running'), the planner read the
-- claim's `(pending AND due) OR (running AND lease expired)` as a few rows, took every row of
-- the index through a bitmap scan and sorted them: 17-45 ms per claim instead of 0.05 ms. Two
-- indexes, one per half of the claim, let each half walk its index in claim order and stop
-- at its LIMIT, whatever the statistics say.
DROP INDEX action_outbox_claimable;
CREATE INDEX action_outbox_pending ON action_outbox (not_before, id) WHERE status = 'pending';
CREATE INDEX action_outbox_leased ON action_outbox (lease_until, id) WHERE status = 'running';

-- The budget and cooldown count actions that started since some time: rows that never
-- started are never counted. Leaving them out of both indexes spares each queued action two
-- index insertions on the ingest path (every notification queues one row per alert).
DROP INDEX action_outbox_started;
CREATE INDEX action_outbox_started ON action_outbox (started_at) WHERE started_at IS NOT NULL;
DROP INDEX action_outbox_target;
CREATE INDEX action_outbox_target ON action_outbox (action, target, started_at) WHERE started_at IS NOT NULL;

-- A notification's payload is the webhook body as received (tens of KB for a large group),
-- compressed when stored: lz4 costs about a third of the CPU of the default pglz there
-- (bench/receiver.py). A server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE notifications ALTER COLUMN payload SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available on this server; notifications.payload keeps pglz';
END
$$;
