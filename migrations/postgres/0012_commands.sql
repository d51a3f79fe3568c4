-- Comment commands and the decisions they record (issue 18). Times are unix milliseconds.

-- Each comment whose `/keel` lines ran: a redelivered comment does nothing twice, and a
-- retried job posts its one reply once.
CREATE TABLE command_comments (
    repo       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    comment_id BIGINT  NOT NULL,
    replied    BIGINT   NOT NULL DEFAULT 0,
    done_at    BIGINT,
    seen_at    BIGINT  NOT NULL,
    PRIMARY KEY (repo, kind, comment_id)
);

-- Decisions taken on a pull request with `/keel waive|unwaive|link|unlink|debt`, each bound
-- to the head commit it was given on. The latest per (number, topic, subject) counts; an
-- ended one (`unwaive`, a later call) keeps its row: waivers are debt taken on purpose, on
-- the record.
CREATE TABLE decisions (
    repo       TEXT    NOT NULL,
    number     BIGINT  NOT NULL,
    comment_id BIGINT  NOT NULL,
    topic      TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    verb       TEXT    NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    until_day  TEXT,
    given_by   TEXT    NOT NULL,
    head_sha   TEXT    NOT NULL,
    base_ref   TEXT    NOT NULL DEFAULT '',
    permission TEXT    NOT NULL DEFAULT 'none',
    given_at   BIGINT  NOT NULL,
    ended_at   BIGINT,
    ended_by   TEXT,
    PRIMARY KEY (repo, number, comment_id, topic, subject)
);
CREATE INDEX decisions_by_pr ON decisions (repo, number, topic, subject);
CREATE INDEX decisions_by_time ON decisions (repo, topic, given_at);

-- The ids of the criteria that failed at a pull request's last evaluation (what
-- `/keel waive` may name), and the head commit that evaluation judged.
ALTER TABLE pull_requests ADD COLUMN failed_ids TEXT;
ALTER TABLE pull_requests ADD COLUMN failed_head TEXT;
