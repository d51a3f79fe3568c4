-- Who pushed to each pull request: the sender of its `synchronize` deliveries, lowercased.
-- git's author and committer fields can name anyone; a push names the account that made it,
-- so no one waives a change they pushed to.
CREATE TABLE pushers (
    repo      TEXT    NOT NULL,
    number    INTEGER  NOT NULL,
    login     TEXT    NOT NULL,
    pushed_at INTEGER  NOT NULL,
    PRIMARY KEY (repo, number, login)
);
