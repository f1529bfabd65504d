-- Every request's final status, kept by the status agent beside the status table.
--
-- GET /status answers from a worker's copy of the RocksDB table first; when that
-- copy lacks a final status (the worker is recovering, the owner of the id is
-- down, the copy lost an entry) the status is read from here, from any worker,
-- instead of answering 503 or "pendente". One row per correlation id: a later
-- replay of a dead letter (replays > 0) replaces the earlier attempt's status.
-- Pruned with the ledger (app/ledger_retention.py).
CREATE TABLE IF NOT EXISTS request_outcomes (
    correlation_id uuid PRIMARY KEY,
    record jsonb NOT NULL,
    replays integer NOT NULL DEFAULT 0,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
