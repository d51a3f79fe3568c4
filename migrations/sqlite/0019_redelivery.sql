-- How far back GitHub's webhook delivery log has been read for deliveries Keel never took
-- (an outage, a deploy, a full intake): the next read starts a little before it.
CREATE TABLE redelivery_scans (
    id            INTEGER PRIMARY KEY,
    scanned_until INTEGER NOT NULL
);

-- How often Keel asked GitHub to deliver each delivery again: a delivery that keeps failing
-- (a wrong secret) is asked for a few times at most, whatever the reads' windows see.
CREATE TABLE redelivery_asks (
    guid     TEXT NOT NULL PRIMARY KEY,
    asks     INTEGER NOT NULL,
    asked_at INTEGER NOT NULL
);
