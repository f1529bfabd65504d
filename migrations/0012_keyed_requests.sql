-- When each request sent with an Idempotency-Key was first accepted, by the
-- correlation id the key derives. Such an id carries no issue time (a UUIDv7
-- does): this row is its age, so GET /status can tell a request still in
-- flight (pendente) from one whose status has expired everywhere (404).
-- Written before the 202; a request sent again keeps its first time. Pruned
-- with the ledger (agents/ledger_retention.py): once gone, the key names a new
-- request, as a keyed sign-up's claim (signup_user_ids) does.
CREATE TABLE IF NOT EXISTS keyed_requests (
    correlation_id uuid PRIMARY KEY,
    accepted_at timestamptz NOT NULL DEFAULT now()
);
