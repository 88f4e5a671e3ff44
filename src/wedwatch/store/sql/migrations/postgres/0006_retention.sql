-- Retention (issue 19): what pruning needs (store/retention.py, store/pruning.py). Keep in step
-- with ../sqlite/0006_retention.sql.

-- Named leases: the replica holding the `prune` lease runs the pruning pass, the others skip it.
-- A lease lapses at expires_at on its own, so a replica that dies mid-pass holds it for at most
-- a minute; the holder renews it in every batch's transaction and stops when it lost it. Times
-- come from the holder's wall clock, as every instant in the store.
CREATE TABLE store_leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT        NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);

-- Probe aggregates are kept per phase: untracked weddings' (planning, month) for less time than
-- tracked ones'. A prune on an index of bucket_start alone would walk every tracked row between
-- the two windows to find the untracked ones, on every batch (tens of millions of rows at 50,000
-- weddings); on (phase, bucket_start) each phase's old rows are one range, read in order up to the
-- batch's LIMIT. The index on bucket_start alone served only list_probe_aggregates (tests), so it
-- is replaced rather than joined: the exporter's writes keep the same number of indexes.
-- Building it takes minutes per hundred million rows, blocks the exporter's writes to the table,
-- and keeps the process applying it (and any other starting meanwhile) from serving until it is
-- done: on a large database create it beforehand with CREATE INDEX CONCURRENTLY under this name,
-- and this statement does nothing (docs/store.md).
CREATE INDEX IF NOT EXISTS wedding_performance_metrics_phase_bucket ON wedding_performance_metrics (phase, bucket_start);
DROP INDEX IF EXISTS wedding_performance_metrics_bucket;

-- Critical-path samples are pruned by age; the only index was (wedding_id, observed_at).
CREATE INDEX IF NOT EXISTS critical_path_metrics_observed ON critical_path_metrics (observed_at);
