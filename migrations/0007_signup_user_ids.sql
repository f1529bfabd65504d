-- The user id each sign-up sent with an Idempotency-Key was answered with, by
-- the correlation id the key derives: the same sign-up sent again is answered
-- with the same user id (and its event, carrying that id, is a replay for the
-- ledger). Sign-ups without a key never come here.

CREATE TABLE IF NOT EXISTS signup_user_ids (
    correlation_id UUID        PRIMARY KEY,
    user_id        BIGINT      NOT NULL UNIQUE,
    claimed_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
