-- When a pull request got its first review.
ALTER TABLE pull_requests ADD COLUMN first_review_at INTEGER;
ALTER TABLE merged_pull_requests ADD COLUMN first_review_at INTEGER;
