-- What Keel remembers between deliveries, so that later events find earlier ones and repeated
-- evaluations skip calls they already made. Times are unix milliseconds.

-- Repositories the App is installed on (installation / installation_repositories events).
CREATE TABLE installations (
    repo            TEXT    PRIMARY KEY,
    installation_id INTEGER NOT NULL,
    added_at        INTEGER NOT NULL
);
CREATE INDEX installations_by_id ON installations (installation_id);

-- Open pull requests by head commit (a fork's workflow run names no pull request) and the
-- sticky comment Keel keeps on each (so it is edited without being searched for).
CREATE TABLE pull_requests (
    repo            TEXT    NOT NULL,
    number          INTEGER NOT NULL,
    head_sha        TEXT    NOT NULL,
    installation_id INTEGER NOT NULL,
    comment_id      INTEGER,
    comment_digest  TEXT,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (repo, number)
);
CREATE INDEX pull_requests_by_head ON pull_requests (repo, head_sha);

-- Merge queue commits waiting for their reports.
CREATE TABLE merge_groups (
    repo            TEXT    NOT NULL,
    head_sha        TEXT    NOT NULL,
    base_sha        TEXT    NOT NULL,
    installation_id INTEGER NOT NULL,
    PRIMARY KEY (repo, head_sha)
);

-- Keel's check run per commit.
CREATE TABLE check_runs (
    repo         TEXT    NOT NULL,
    head_sha     TEXT    NOT NULL,
    check_run_id INTEGER NOT NULL,
    PRIMARY KEY (repo, head_sha)
);

-- Finished workflow runs per commit: where the reports artifact may be.
CREATE TABLE workflow_runs (
    repo         TEXT    NOT NULL,
    run_id       INTEGER NOT NULL,
    head_sha     TEXT    NOT NULL,
    workflow     TEXT    NOT NULL,
    completed_at INTEGER NOT NULL,
    PRIMARY KEY (repo, run_id)
);
CREATE INDEX workflow_runs_by_head ON workflow_runs (repo, head_sha);

-- Metrics of default-branch commits (JSON), the baselines pull requests are compared with.
CREATE TABLE baselines (
    repo        TEXT    NOT NULL,
    sha         TEXT    NOT NULL,
    metrics     BLOB    NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (repo, sha)
);

-- Default-branch history from pushes: a base commit without metrics of its own is compared
-- with its nearest recorded ancestor.
CREATE TABLE commits (
    repo       TEXT NOT NULL,
    sha        TEXT NOT NULL,
    parent_sha TEXT NOT NULL,
    PRIMARY KEY (repo, sha)
);
