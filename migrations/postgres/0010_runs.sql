-- A workflow run judges again only the verdicts that watch for it (issue 13): the configured
-- workflow file (`ci.yml`), any run while reports or checks are awaited (`*`), or none
-- (''). Rows from before: any run.
ALTER TABLE head_verdicts ADD COLUMN watch TEXT;

-- "Run R has no artifact A", so later evaluations of the commit skip the question.
CREATE TABLE run_artifacts (
    repo        TEXT    NOT NULL,
    run_id      BIGINT    NOT NULL,
    artifact    TEXT    NOT NULL,
    recorded_at BIGINT    NOT NULL,
    PRIMARY KEY (repo, run_id, artifact)
);

-- When each repository's weekly summary is next worth checking (issue 13): the hourly check
-- skips a repository until then, without an API call. A push to the default branch (which may
-- change the schedule) clears it.
CREATE TABLE summary_checks (
    repo    TEXT PRIMARY KEY,
    next_at BIGINT NOT NULL
);
