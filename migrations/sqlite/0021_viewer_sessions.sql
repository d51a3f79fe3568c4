-- Who is signed in to the dashboard. The cookie holds a random 256-bit id; only its SHA-256
-- is stored, so reading this table gives no one a session. `repos` is the JSON list of the
-- repositories GitHub said the viewer can read when they signed in (no token is kept), and
-- the row lasts only until `expires_at`: then the viewer signs in again and GitHub is asked
-- again. `user_id` is GitHub's numeric id (a login can be renamed); revoking Keel's
-- authorisation deletes that user's rows. Ended rows go within the hour (`store::retention`),
-- and a user keeps at most a few live sessions.
CREATE TABLE viewer_sessions (
    id_hash    TEXT    PRIMARY KEY,
    user_id    INTEGER  NOT NULL,
    login      TEXT    NOT NULL,
    repos      TEXT    NOT NULL,
    created_at INTEGER  NOT NULL,
    expires_at INTEGER  NOT NULL
);
CREATE INDEX viewer_sessions_user ON viewer_sessions (user_id);
CREATE INDEX viewer_sessions_expiry ON viewer_sessions (expires_at);
