-- Claims cost O(log n) whatever the backlog's shape, and are fair (issue 13).
--
-- Each serial key (one pull request, one commit, one repository's summary) is a lane: only the
-- lane's head may run, so the jobs waiting behind a running one are not in the claim index at
-- all, and a claim never walks past them. `ready`: 0 waits behind its lane's head; 1 is
-- claimable now, ordered by `fair_at`; 2 is a head whose time has not come (a retry's
-- backoff, a rate limit's reset), moved to 1 when `run_at` passes.
ALTER TABLE jobs ADD COLUMN ready INTEGER NOT NULL DEFAULT 0;
-- The job's place in line: start-time fair queueing per repository, so a repository with a
-- thousand queued jobs does not delay another's one.
ALTER TABLE jobs ADD COLUMN fair_at INTEGER NOT NULL DEFAULT 0;
-- Whose API budget the job spends, and whose share of the queue it takes.
ALTER TABLE jobs ADD COLUMN installation_id INTEGER;
ALTER TABLE jobs ADD COLUMN fair_group TEXT;

-- Which job holds each busy lane (queued as its head, or running). A lane without jobs has
-- no row. Enqueues and releases of one lane lock this row, so on PostgreSQL a job enqueued
-- while its lane's head finishes can never be left behind a lane nobody holds.
CREATE TABLE job_lanes (
    serial_key TEXT PRIMARY KEY,
    head       INTEGER NOT NULL
);

-- Each repository's virtual clock: where its next job goes in line.
CREATE TABLE fair_clocks (
    fair_group      TEXT PRIMARY KEY,
    installation_id INTEGER,
    clock           INTEGER NOT NULL
);
CREATE INDEX fair_clocks_active ON fair_clocks (installation_id, clock);

-- Installations whose API budget is spent, until GitHub's reset.
CREATE TABLE rate_parks (
    installation_id INTEGER PRIMARY KEY,
    until_ms        INTEGER NOT NULL
);

CREATE INDEX jobs_claimable ON jobs (fair_at, id) WHERE state = 'queued' AND ready = 1;
CREATE INDEX jobs_scheduled ON jobs (run_at, id) WHERE state = 'queued' AND ready = 2;
CREATE INDEX jobs_leases ON jobs (locked_until, id) WHERE state = 'running';
CREATE INDEX jobs_parkable ON jobs (installation_id, id) WHERE state = 'queued' AND ready = 1;
DROP INDEX jobs_ready;

-- Lanes of the jobs already queued: a running job holds its lane, else the oldest queued one.
INSERT INTO job_lanes (serial_key, head)
SELECT serial_key, COALESCE(MAX(CASE WHEN state = 'running' THEN id END), MIN(id))
FROM jobs WHERE state IN ('queued', 'running') AND serial_key IS NOT NULL GROUP BY serial_key;
UPDATE jobs SET ready = 2
WHERE state = 'queued' AND (serial_key IS NULL OR id IN (SELECT head FROM job_lanes));
