-- The worker claims by priority (emergency 0, urgent 1, standard 2, log 3; oldest first within
-- each): during a storm a live wedding's emergency action must not wait behind thousands of
-- `log` actions queued before it. The priority is stored on the row (outbox.action_priority
-- computes it at insert) so that the claim walks one partial index in claim order and stops at
-- its LIMIT, as it did since migration 0004. Every existing row gets the priority its
-- strategy (params.strategy) gives, the rule of action_priority; rows no incident asked for
-- (a forecast's plan) are standard.
ALTER TABLE action_outbox ADD COLUMN priority SMALLINT NOT NULL DEFAULT 2;
UPDATE action_outbox SET priority = CASE
    WHEN action = 'log' THEN 3
    WHEN params ->> 'strategy' = 'emergency' THEN 0
    WHEN params ->> 'strategy' = 'urgent' THEN 1
    WHEN params ->> 'strategy' = 'log' THEN 3
    ELSE 2
END;
DROP INDEX action_outbox_pending;
CREATE INDEX action_outbox_pending ON action_outbox (priority, not_before, id) WHERE status = 'pending';
