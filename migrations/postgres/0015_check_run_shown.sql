-- What Keel's check run on a head last showed. GitHub never moves a completed check run back
-- to in progress nor changes its conclusion, so a head whose verdict changes after its run
-- completed gets a new run; Keel must know which it has. Rows from before this migration are
-- `unknown`: treated as completed with a conclusion Keel cannot rely on.
ALTER TABLE check_runs ADD COLUMN shown TEXT NOT NULL DEFAULT 'unknown';

-- The state of the pull request (its `state_digest`) a verdict was made for. A pull request
-- that changed since (moved to another base, edited) counts as not judged yet, so the head
-- cannot stay green on a verdict made for another state. Verdicts from before are taken to be
-- for the state Keel last tracked (as they counted until now), so no head waits after the
-- upgrade for a pull request nothing will judge again.
ALTER TABLE head_verdicts ADD COLUMN state_digest TEXT;
UPDATE head_verdicts SET state_digest = (SELECT p.state_digest FROM pull_requests p
    WHERE p.repo = head_verdicts.repo AND p.number = head_verdicts.number)
    WHERE number <> 0;
