-- The gate holds (issue 12). Times are unix milliseconds.

-- Whether a tracked pull request is still open (a closed one no longer shares its head's
-- verdict), and GitHub's own `updated_at` of the newest state Keel acted on: an older
-- delivery (a retry, a replayed body) never moves the state back.
ALTER TABLE pull_requests ADD COLUMN open BIGINT  NOT NULL DEFAULT 1;
ALTER TABLE pull_requests ADD COLUMN github_updated_at BIGINT ;
-- A digest of that state (head, base, title, description, labels, …): a delivery from the
-- same second with another state is ambiguous, the same state again is not.
ALTER TABLE pull_requests ADD COLUMN state_digest TEXT;

-- One verdict per pull request (number 0: a merge group) at a head commit. The commit's one
-- check run shows the worst of them, so a sibling pull request with a laxer base cannot
-- turn it green. `checks` lists the other check runs the verdict waited for or read (JSON),
-- so that one of them completing judges the head again.
CREATE TABLE head_verdicts (
    repo       TEXT    NOT NULL,
    head_sha   TEXT    NOT NULL,
    number     BIGINT  NOT NULL,
    base_ref   TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    title      TEXT    NOT NULL,
    summary    TEXT    NOT NULL,
    checks     TEXT    NOT NULL,
    judged_at  BIGINT  NOT NULL,
    PRIMARY KEY (repo, head_sha, number)
);

-- Where a workflow run came from, so reports are taken only from the configured workflow
-- file and baselines only from a push run of the repository itself.
ALTER TABLE workflow_runs ADD COLUMN event TEXT NOT NULL DEFAULT '';
ALTER TABLE workflow_runs ADD COLUMN path TEXT NOT NULL DEFAULT '';
ALTER TABLE workflow_runs ADD COLUMN head_repo TEXT NOT NULL DEFAULT '';
ALTER TABLE workflow_runs ADD COLUMN conclusion TEXT NOT NULL DEFAULT '';

-- Pull requests already merged before this migration are closed.
UPDATE pull_requests SET open = 0 WHERE EXISTS (SELECT 1 FROM merged_pull_requests m
    WHERE m.repo = pull_requests.repo AND m.number = pull_requests.number);
