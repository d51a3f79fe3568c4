-- The durable job queue. A webhook delivery is a job row (unique on its delivery id), so
-- storing the delivery and its job is one atomic insert. Times are unix milliseconds.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL,
    delivery_id  TEXT    UNIQUE,
    dedupe_key   TEXT    UNIQUE,
    serial_key   TEXT,
    payload      BLOB    NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'queued',
    attempts     INTEGER NOT NULL DEFAULT 0,
    run_at       INTEGER NOT NULL,
    locked_until INTEGER,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX jobs_ready ON jobs (state, run_at, id);
-- At most one running job per serial key (one pull request, one repository's summary).
CREATE UNIQUE INDEX jobs_one_running ON jobs (serial_key) WHERE state = 'running';
