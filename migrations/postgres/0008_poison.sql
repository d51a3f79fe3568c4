-- Poison jobs end (issue 13). A claim whose lease expired is a crash or a time-out: the job
-- killed its process, or ran longer than its lease without renewing it. Each such re-claim is
-- counted; after the third, the job is buried instead of being claimed again.
ALTER TABLE jobs ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0;

-- Data does not grow forever (issue 13): when Keel learned of a check run or a commit, so
-- that old ones can be pruned. Rows from before this migration count as old.
ALTER TABLE check_runs ADD COLUMN recorded_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE commits ADD COLUMN recorded_at BIGINT NOT NULL DEFAULT 0;

-- Coalescing (issue 13): a job that judges a pull request looks for a newer one of the same
-- pull request queued behind it, among that pull request's queued jobs only.
CREATE INDEX jobs_by_serial ON jobs (serial_key, state, id);
