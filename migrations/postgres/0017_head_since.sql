-- When a pull request got the head it is at (GitHub's `updated_at` of the event that brought
-- it, unix ms; NULL when unknown). A `/keel waive` written before then was written about an
-- earlier commit, whatever the pull request shows when the command runs.
ALTER TABLE pull_requests ADD COLUMN head_since BIGINT;
