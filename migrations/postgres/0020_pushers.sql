-- Who pushed: the sender of each `synchronize` delivery (`pushed_to` = `pull/N`) and of each
-- branch `push` delivery (`branch/NAME`), lowercased. git's author and committer fields can
-- name anyone; a push names the account that made it, so no one waives a change they pushed
-- to, before or after its pull request was opened.
CREATE TABLE pushers (
    repo      TEXT    NOT NULL,
    pushed_to TEXT    NOT NULL,
    login     TEXT    NOT NULL,
    pushed_at BIGINT  NOT NULL,
    PRIMARY KEY (repo, pushed_to, login)
);
