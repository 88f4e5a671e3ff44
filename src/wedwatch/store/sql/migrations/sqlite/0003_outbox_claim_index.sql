-- The worker claims due actions oldest first (claim_actions). With an index on (status,
-- not_before) it had to read and sort every due row on each round: during an alert storm the
-- backlog is tens of thousands of rows, and each round cost tens of milliseconds of database
-- CPU. This index holds only the rows a claim can take, in claim order, so a round reads about
-- as many rows as it claims. claim_actions repeats the index's condition so that the planner
-- (SQLite's in particular) knows the index applies. The old index served only the claim.
DROP INDEX action_outbox_due;
CREATE INDEX action_outbox_claimable ON action_outbox (not_before, id) WHERE status IN ('pending', 'running');
