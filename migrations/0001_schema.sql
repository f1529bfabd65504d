-- The contract's four tables, plus the ledger that makes every event apply once.

CREATE TABLE IF NOT EXISTS usuarios (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT      NOT NULL UNIQUE,
    nome         TEXT        NOT NULL,
    email        TEXT        NOT NULL UNIQUE,
    cpf          TEXT        NOT NULL UNIQUE,
    data_criacao TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The API key's name (never the key) that created the user: GET /usuarios/{id}
    -- answers only that caller, or an admin, as for statuses and trails.
    criado_por   TEXT
);

CREATE TABLE IF NOT EXISTS assinaturas (
    id            BIGSERIAL PRIMARY KEY,
    user_id       BIGINT      NOT NULL UNIQUE REFERENCES usuarios (user_id),
    plano         TEXT        NOT NULL,
    inicio        DATE        NOT NULL,
    fim           DATE        NOT NULL CHECK (fim >= inicio),
    atualizado_em TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS pagamentos (
    id              BIGSERIAL PRIMARY KEY,
    user_id         BIGINT        NOT NULL REFERENCES usuarios (user_id),
    valor           NUMERIC(10,2) NOT NULL CHECK (valor > 0),
    forma_pagamento TEXT          NOT NULL,
    status          TEXT          NOT NULL,
    data_pagamento  TIMESTAMPTZ   NOT NULL,
    -- A second guard, besides processed_events, against a replayed payment.
    correlation_id  UUID          NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS pagamentos_user_id_data ON pagamentos (user_id, data_pagamento DESC);

CREATE TABLE IF NOT EXISTS preferencias (
    id            BIGSERIAL PRIMARY KEY,
    user_id       BIGINT      NOT NULL UNIQUE REFERENCES usuarios (user_id),
    idioma        TEXT        NOT NULL,
    notificacoes  BOOLEAN     NOT NULL,
    atualizado_em TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per applied event, written in the same transaction as its effect:
-- a redelivered event finds its row and is answered without being applied again.
CREATE TABLE IF NOT EXISTS processed_events (
    correlation_id UUID        PRIMARY KEY,
    event_type     TEXT        NOT NULL,
    user_id        BIGINT      NOT NULL,
    outcome        TEXT        NOT NULL,
    processed_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Server-assigned user ids are handed out in blocks of 1000 (hi/lo): each
-- nextval reserves [value, value + 999] for one worker, unique across restarts.
CREATE SEQUENCE IF NOT EXISTS user_id_blocks START 1 INCREMENT BY 1000;
