-- Two upload tokens per repository. The pull request token (every CI build holds it) sends
-- reports that judge pull requests; only the baseline token, kept by the default branch's
-- pipeline alone, sends reports that become a default-branch commit's baseline. A token from
-- before this migration is a pull request token: issue a baseline token for baselines.
ALTER TABLE upload_tokens ADD COLUMN baseline_hash TEXT;
-- Whether an archive came with the baseline token. One that did is never replaced by one
-- sent with the pull request token.
ALTER TABLE uploads ADD COLUMN baseline BIGINT NOT NULL DEFAULT 0;
