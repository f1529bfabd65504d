-- Checkpoints of every agent that must see every event, not only processing.
-- The logging agents consume user_events too, in the same consumer group when
-- one worker runs every stage: a checkpoint is therefore keyed by the agent as
-- well, or one agent's progress would hide the events another one skipped.
-- next_offset is the offset after the last batch the agent finished.

CREATE TABLE IF NOT EXISTS agent_checkpoints (
    group_id    TEXT    NOT NULL,
    agent       TEXT    NOT NULL,
    topic       TEXT    NOT NULL,
    partition   INTEGER NOT NULL,
    next_offset BIGINT  NOT NULL,
    PRIMARY KEY (group_id, agent, topic, partition)
);

-- The processing agent carries on from where it was.
INSERT INTO agent_checkpoints (group_id, agent, topic, partition, next_offset)
SELECT group_id, 'processing', topic, partition, next_offset FROM processing_checkpoints
ON CONFLICT DO NOTHING;

-- processing_checkpoints stays for workers of the previous version still
-- running during a rolling restart (a missing table would make them fail every
-- batch); a later migration drops it.
