-- apply_events(batch), set-based: one statement per event type over the whole
-- batch instead of a sub-transaction and two statements per event.
--
-- Same contract as 0002 (kept as apply_events_one_by_one): events apply in
-- batch order, each at most once ever, recorded in processed_events in the
-- caller's transaction, one outcome per event:
--   applied, email_taken, cpf_taken, user_exists, user_not_found, invalid.
-- Order within the batch is honoured: a user created earlier in the batch
-- exists for the events after it (not before it); of two sign-ups claiming the
-- same user id, e-mail or CPF the first wins (user id checked before e-mail,
-- e-mail before CPF, as the unique indexes are); the same event twice is
-- applied once, the later copy answered as a replay.
--
-- The outcomes are decided before anything is written, from what the batch
-- holds and what the tables held. Should a statement still be refused (a row
-- another worker wrote meanwhile, a value a column refuses), the batch is
-- applied again the old way, each event in a sub-transaction of its own.

ALTER FUNCTION apply_events(jsonb) RENAME TO apply_events_one_by_one;

-- Fills the temporary table event_batch with the batch, its outcomes, and
-- applies the effects. Raises if a statement is refused (the caller falls back).
CREATE OR REPLACE FUNCTION apply_event_set(batch jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF to_regclass('pg_temp.event_batch') IS NULL THEN
        CREATE TEMP TABLE event_batch (
            n               BIGINT PRIMARY KEY,
            cid             UUID,
            event_type      TEXT,
            user_id         BIGINT,
            nome            TEXT,
            email           TEXT,
            cpf             TEXT,
            data_criacao    TIMESTAMPTZ,
            requested_by    TEXT,
            plano           TEXT,
            inicio          DATE,
            fim             DATE,
            valor           NUMERIC(10,2),
            forma_pagamento TEXT,
            status          TEXT,
            data_pagamento  TIMESTAMPTZ,
            idioma          TEXT,
            notificacoes    BOOLEAN,
            outcome         TEXT,
            replayed        BOOLEAN
        ) ON COMMIT DELETE ROWS;
        CREATE INDEX event_batch_user ON event_batch (user_id);
    END IF;
    DELETE FROM event_batch;  -- a second batch in the same transaction

    -- Replays: seen in an earlier batch (its recorded outcome), or a later copy
    -- of an event of this batch (its outcome is the first copy's, set at the end).
    -- Events a column would refuse (the tables' NOT NULL and CHECK rules) are
    -- invalid now, so that collapsing updates (below) can never hide one.
    INSERT INTO event_batch
    SELECT t.*,
           CASE WHEN p.correlation_id IS NOT NULL THEN p.outcome
                WHEN CASE t.event_type
                    WHEN 'criar_usuario' THEN t.nome IS NOT NULL AND t.email IS NOT NULL
                         AND t.cpf IS NOT NULL AND t.data_criacao IS NOT NULL
                    WHEN 'atualizar_assinatura' THEN t.plano IS NOT NULL
                         AND t.inicio IS NOT NULL AND t.fim IS NOT NULL AND t.fim >= t.inicio
                    WHEN 'pagamento_realizado' THEN t.valor > 0
                         AND t.forma_pagamento IS NOT NULL AND t.status IS NOT NULL
                         AND t.data_pagamento IS NOT NULL
                    WHEN 'atualizar_config' THEN t.idioma IS NOT NULL
                         AND t.notificacoes IS NOT NULL
                    ELSE false END IS NOT TRUE
                THEN 'invalid' END,
           p.correlation_id IS NOT NULL
               OR row_number() OVER (PARTITION BY t.cid ORDER BY t.n) > 1
      FROM (SELECT n, (e->>'correlation_id')::uuid AS cid, e->>'event_type',
                   (e->>'user_id')::bigint AS user_id, e->>'nome', e->>'email', e->>'cpf',
                   (e->>'data_criacao')::timestamptz, e->>'requested_by', e->>'plano',
                   (e->>'inicio')::date AS inicio, (e->>'fim')::date AS fim,
                   (e->>'valor')::numeric(10,2), e->>'forma_pagamento', e->>'status',
                   (e->>'data_pagamento')::timestamptz, e->'preferencias'->>'idioma',
                   (e->'preferencias'->>'notificacoes')::boolean
              FROM jsonb_array_elements(batch) WITH ORDINALITY AS b (e, n))
           AS t (n, cid, event_type, user_id, nome, email, cpf, data_criacao, requested_by,
                 plano, inicio, fim, valor, forma_pagamento, status, data_pagamento,
                 idioma, notificacoes)
      LEFT JOIN processed_events p ON p.correlation_id = t.cid;

    PERFORM decide_sign_ups();

    -- A command applies to a user who existed before the batch, or whom an
    -- earlier event of the batch created.
    UPDATE event_batch b SET outcome = CASE
        WHEN EXISTS (SELECT 1 FROM usuarios u WHERE u.user_id = b.user_id)
          OR EXISTS (SELECT 1 FROM event_batch s
                      WHERE s.user_id = b.user_id AND s.n < b.n AND s.event_type = 'criar_usuario'
                        AND s.outcome = 'applied' AND NOT s.replayed)
        THEN 'applied' ELSE 'user_not_found' END
     WHERE b.outcome IS NULL AND NOT b.replayed;

    INSERT INTO usuarios (user_id, nome, email, cpf, data_criacao, criado_por)
    SELECT user_id, nome, email, cpf, data_criacao, requested_by FROM event_batch
     WHERE event_type = 'criar_usuario' AND outcome = 'applied' AND NOT replayed ORDER BY n;
    -- The last subscription and preferences of a user in the batch are what
    -- applying them one after another leaves.
    INSERT INTO assinaturas AS a (user_id, plano, inicio, fim)
    SELECT DISTINCT ON (user_id) user_id, plano, inicio, fim FROM event_batch
     WHERE event_type = 'atualizar_assinatura' AND outcome = 'applied' AND NOT replayed
     ORDER BY user_id, n DESC
    ON CONFLICT (user_id) DO UPDATE
        SET plano = EXCLUDED.plano, inicio = EXCLUDED.inicio, fim = EXCLUDED.fim,
            atualizado_em = now();
    INSERT INTO pagamentos (user_id, valor, forma_pagamento, status, data_pagamento,
                            correlation_id)
    SELECT user_id, valor, forma_pagamento, status, data_pagamento, cid FROM event_batch
     WHERE event_type = 'pagamento_realizado' AND outcome = 'applied' AND NOT replayed
     ORDER BY n;
    INSERT INTO preferencias AS p (user_id, idioma, notificacoes)
    SELECT DISTINCT ON (user_id) user_id, idioma, notificacoes FROM event_batch
     WHERE event_type = 'atualizar_config' AND outcome = 'applied' AND NOT replayed
     ORDER BY user_id, n DESC
    ON CONFLICT (user_id) DO UPDATE
        SET idioma = EXCLUDED.idioma, notificacoes = EXCLUDED.notificacoes,
            atualizado_em = now();

    INSERT INTO processed_events (correlation_id, event_type, user_id, outcome)
    SELECT cid, event_type, user_id, outcome FROM event_batch WHERE NOT replayed ORDER BY n;

    UPDATE event_batch b SET outcome = f.outcome
      FROM event_batch f
     WHERE b.outcome IS NULL AND b.replayed AND f.cid = b.cid AND NOT f.replayed;
END $$;

-- decide_sign_ups(): the outcome of each new, well-formed sign-up of event_batch.
-- Against the table alone when no two of them claim the same user id, e-mail
-- or CPF (the usual batch); otherwise in batch order, each also against those
-- applied before it in the batch.
CREATE OR REPLACE FUNCTION decide_sign_ups() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    decided text;
    uids bigint[] := '{}';
    emails text[] := '{}';
    cpfs text[] := '{}';
    contested boolean;
BEGIN
    SELECT count(*) > count(DISTINCT user_id) OR count(*) > count(DISTINCT email)
           OR count(*) > count(DISTINCT cpf)
      INTO contested
      FROM event_batch WHERE event_type = 'criar_usuario' AND outcome IS NULL AND NOT replayed;
    IF NOT contested THEN
        UPDATE event_batch b SET outcome = CASE
            WHEN EXISTS (SELECT 1 FROM usuarios u WHERE u.user_id = b.user_id) THEN 'user_exists'
            WHEN EXISTS (SELECT 1 FROM usuarios u WHERE u.email = b.email) THEN 'email_taken'
            WHEN EXISTS (SELECT 1 FROM usuarios u WHERE u.cpf = b.cpf) THEN 'cpf_taken'
            ELSE 'applied' END
         WHERE b.event_type = 'criar_usuario' AND b.outcome IS NULL AND NOT b.replayed;
        RETURN;
    END IF;
    FOR r IN SELECT n, user_id, email, cpf FROM event_batch
              WHERE event_type = 'criar_usuario' AND outcome IS NULL AND NOT replayed
              ORDER BY n
    LOOP
        decided := CASE
            WHEN r.user_id = ANY (uids)
              OR EXISTS (SELECT 1 FROM usuarios u WHERE u.user_id = r.user_id) THEN 'user_exists'
            WHEN r.email = ANY (emails)
              OR EXISTS (SELECT 1 FROM usuarios u WHERE u.email = r.email) THEN 'email_taken'
            WHEN r.cpf = ANY (cpfs)
              OR EXISTS (SELECT 1 FROM usuarios u WHERE u.cpf = r.cpf) THEN 'cpf_taken'
            ELSE 'applied' END;
        UPDATE event_batch SET outcome = decided WHERE n = r.n;
        IF decided = 'applied' THEN
            uids := uids || r.user_id;
            emails := emails || r.email;
            cpfs := cpfs || r.cpf;
        END IF;
    END LOOP;
END $$;

CREATE OR REPLACE FUNCTION apply_events(batch jsonb)
RETURNS TABLE (correlation_id uuid, outcome text, replayed boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    BEGIN
        PERFORM apply_event_set(batch);
    EXCEPTION WHEN integrity_constraint_violation OR data_exception THEN
        RETURN QUERY SELECT * FROM apply_events_one_by_one(batch);
        RETURN;
    END;
    RETURN QUERY SELECT b.cid, b.outcome, b.replayed FROM event_batch b ORDER BY b.n;
END $$;
