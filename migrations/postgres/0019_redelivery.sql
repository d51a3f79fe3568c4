-- How far back GitHub's webhook delivery log has been read for deliveries Keel never took
-- (an outage, a deploy, a full intake): the next read starts a little before it.
CREATE TABLE redelivery_scans (
    id            BIGINT PRIMARY KEY,
    scanned_until BIGINT NOT NULL
);
