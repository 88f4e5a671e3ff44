-- Time partitioning (issue 19) is PostgreSQL's alone (../postgres/0007_partitions.sql): SQLite has
-- no partitions, and its tables keep their rows in one B-tree each, pruned in small batches with
-- the file's pages handed back by incremental vacuum (0006, store/pruning.py). Nothing changes
-- here; the migration exists so that both dialects number their migrations alike.
SELECT 1;
