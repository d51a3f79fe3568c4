-- Which criteria failed at a pull request's last evaluation (titles, one per line), and the
-- measured outcomes of roadmap items (`keel outcome`).
ALTER TABLE pull_requests ADD COLUMN failed_criteria TEXT;
ALTER TABLE merged_pull_requests ADD COLUMN failed_criteria TEXT;

CREATE TABLE outcomes (
    repo        TEXT    NOT NULL,
    item        TEXT    NOT NULL,
    value       REAL    NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (repo, item, recorded_at)
);
