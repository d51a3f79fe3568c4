-- Organisation policy (issue 18): the last good `.github/keel-org.toml` of each organisation,
-- used for at most an hour when the file cannot be read or is invalid. A push to the
-- organisation's `.github` repository marks it stale (read again at the next evaluation).
CREATE TABLE org_policies (
    org        TEXT    PRIMARY KEY,
    text       TEXT    NOT NULL,
    version    TEXT    NOT NULL,
    fetched_at BIGINT  NOT NULL,
    stale      BIGINT  NOT NULL DEFAULT 0
);
