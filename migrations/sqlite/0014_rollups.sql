-- The organisation roll-up (issue 19): each repository's line of each week's summary, as
-- JSON, written when its summary is; the roll-up issue in the organisation's `.github`
-- repository is rendered from every line of the week (and last week's line gives the trend).
CREATE TABLE summary_rows (
    owner TEXT NOT NULL,
    repo  TEXT NOT NULL,
    week  TEXT NOT NULL,
    line  TEXT NOT NULL,
    -- When it was kept, unix ms: lines are pruned after the history retention.
    written_at INTEGER NOT NULL,
    PRIMARY KEY (repo, week)
);
CREATE INDEX summary_rows_by_owner ON summary_rows (owner, week);
