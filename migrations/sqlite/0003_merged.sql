-- The last evaluation of each open pull request, and every merged pull request with it: what
-- the debt capacity share and the weekly summary count. Times are unix milliseconds.
ALTER TABLE pull_requests ADD COLUMN title TEXT;
ALTER TABLE pull_requests ADD COLUMN author TEXT;
ALTER TABLE pull_requests ADD COLUMN changed_lines INTEGER;
-- Roadmap item ids, comma-separated.
ALTER TABLE pull_requests ADD COLUMN roadmap_items TEXT;
-- reduced | added | mixed | neutral | overridden
ALTER TABLE pull_requests ADD COLUMN debt TEXT;
-- success | failure
ALTER TABLE pull_requests ADD COLUMN dod TEXT;

CREATE TABLE merged_pull_requests (
    repo          TEXT    NOT NULL,
    number        INTEGER NOT NULL,
    title         TEXT,
    author        TEXT,
    merged_at     INTEGER NOT NULL,
    changed_lines INTEGER,
    roadmap_items TEXT,
    debt          TEXT,
    dod           TEXT,
    PRIMARY KEY (repo, number)
);
CREATE INDEX merged_pull_requests_by_time ON merged_pull_requests (repo, merged_at);
