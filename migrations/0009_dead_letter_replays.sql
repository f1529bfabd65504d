-- Dead letters re-sent to their source topic (`faust -A app dead-letters replay`):
-- one row per dead letter, claimed in the transaction that re-sends it, so a
-- dead letter is replayed once however often (or however concurrently) the
-- command runs. A dead letter is named by its place in the dead-letter topic
-- and its own timestamp: a topic deleted and created again reuses offsets.

CREATE TABLE IF NOT EXISTS dead_letter_replays (
    topic            TEXT        NOT NULL,
    partition        INTEGER     NOT NULL,
    "offset"         BIGINT      NOT NULL,
    written_at       TIMESTAMPTZ NOT NULL,
    -- The replay count the re-sent event carries, and where it went.
    replays          INTEGER     NOT NULL CHECK (replays > 0),
    resent_topic     TEXT        NOT NULL,
    resent_partition INTEGER,
    resent_offset    BIGINT,
    replayed_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition, "offset", written_at)
);
