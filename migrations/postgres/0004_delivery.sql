-- Delivery facts for the weekly summary. Times are unix milliseconds.
ALTER TABLE merged_pull_requests ADD COLUMN opened_at BIGINT;
ALTER TABLE merged_pull_requests ADD COLUMN first_commit_at BIGINT;
ALTER TABLE merged_pull_requests ADD COLUMN merge_sha TEXT;
-- The pull request a revert pull request reverts.
ALTER TABLE merged_pull_requests ADD COLUMN reverts BIGINT;

-- Deployments with their latest status (success, failure, error, in_progress, …).
CREATE TABLE deployments (
    repo          TEXT    NOT NULL,
    deployment_id BIGINT  NOT NULL,
    sha           TEXT    NOT NULL,
    environment   TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    updated_at    BIGINT  NOT NULL,
    PRIMARY KEY (repo, deployment_id)
);

-- Issues with labels (incidents are those with the configured label).
CREATE TABLE issues (
    repo       TEXT    NOT NULL,
    number     BIGINT  NOT NULL,
    labels     TEXT    NOT NULL,
    opened_at  BIGINT  NOT NULL,
    closed_at  BIGINT,
    root_cause TEXT,
    PRIMARY KEY (repo, number)
);

CREATE TABLE releases (
    repo         TEXT    NOT NULL,
    release_id   BIGINT  NOT NULL,
    published_at BIGINT  NOT NULL,
    PRIMARY KEY (repo, release_id)
);

-- The summary issue of each week, so a re-run edits it.
CREATE TABLE summaries (
    repo         TEXT    NOT NULL,
    week         TEXT    NOT NULL,
    issue_number BIGINT  NOT NULL,
    PRIMARY KEY (repo, week)
);
