-- Delivery facts for the weekly summary. Times are unix milliseconds.
ALTER TABLE merged_pull_requests ADD COLUMN opened_at INTEGER;
ALTER TABLE merged_pull_requests ADD COLUMN first_commit_at INTEGER;
ALTER TABLE merged_pull_requests ADD COLUMN merge_sha TEXT;
-- The pull request a revert pull request reverts.
ALTER TABLE merged_pull_requests ADD COLUMN reverts INTEGER;

-- Deployments with their latest status (success, failure, error, in_progress, …).
CREATE TABLE deployments (
    repo          TEXT    NOT NULL,
    deployment_id INTEGER NOT NULL,
    sha           TEXT    NOT NULL,
    environment   TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (repo, deployment_id)
);

-- Issues with labels (incidents are those with the configured label).
CREATE TABLE issues (
    repo       TEXT    NOT NULL,
    number     INTEGER NOT NULL,
    labels     TEXT    NOT NULL,
    opened_at  INTEGER NOT NULL,
    closed_at  INTEGER,
    root_cause TEXT,
    PRIMARY KEY (repo, number)
);

CREATE TABLE releases (
    repo         TEXT    NOT NULL,
    release_id   INTEGER NOT NULL,
    published_at INTEGER NOT NULL,
    PRIMARY KEY (repo, release_id)
);

-- The summary issue of each week, so a re-run edits it.
CREATE TABLE summaries (
    repo         TEXT    NOT NULL,
    week         TEXT    NOT NULL,
    issue_number INTEGER NOT NULL,
    PRIMARY KEY (repo, week)
);
