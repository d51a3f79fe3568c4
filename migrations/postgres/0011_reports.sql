-- Reports from wherever CI makes them (issue 17). Times are unix milliseconds.

-- When Keel first waited for a head commit's reports: with no run that could bring them
-- queued or running, it waits `[reports] timeout` from then, not forever.
CREATE TABLE report_waits (
    repo     TEXT    NOT NULL,
    head_sha TEXT    NOT NULL,
    since    BIGINT NOT NULL,
    PRIMARY KEY (repo, head_sha)
);

-- Tokens `keel upload` presents, one per repository, stored as their SHA-256 only.
CREATE TABLE upload_tokens (
    repo       TEXT    PRIMARY KEY,
    token_hash TEXT    NOT NULL,
    created_at BIGINT NOT NULL
);

-- Reports archives sent with `keel upload` (CI outside GitHub Actions), read like an
-- artifact. A name sent again for the same commit replaces the earlier archive.
CREATE TABLE uploads (
    repo        TEXT    NOT NULL,
    head_sha    TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    archive     BYTEA    NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (repo, head_sha, name)
);
