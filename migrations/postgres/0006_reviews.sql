-- When a pull request got its first review.
ALTER TABLE pull_requests ADD COLUMN first_review_at BIGINT;
ALTER TABLE merged_pull_requests ADD COLUMN first_review_at BIGINT;
