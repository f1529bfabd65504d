-- Where each consumer group's processing agent has got to, per partition of
-- user_events: the next offset after the last batch it answered. Kafka's own
-- committed offset can pass events Faust skipped around a rebalance (make
-- chaos, scenario 5); an event arriving beyond this checkpoint means the
-- offsets in between were never seen, and the agent reads them back first.

CREATE TABLE IF NOT EXISTS processing_checkpoints (
    group_id    TEXT    NOT NULL,
    topic       TEXT    NOT NULL,
    partition   INTEGER NOT NULL,
    next_offset BIGINT  NOT NULL,
    PRIMARY KEY (group_id, topic, partition)
);
