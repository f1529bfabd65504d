-- apply_events(batch): applies a JSON array of validated user events, in order,
-- in the caller's transaction, and returns one outcome code per event.
--
-- One round trip per batch instead of one per event. Each event runs in its own
-- sub-transaction, so one refused event (duplicate e-mail, unknown user) does not
-- undo its neighbours. An event already in processed_events is not applied again;
-- its recorded outcome is returned with replayed = true.
--
-- Outcome codes (turned into Portuguese messages by the processing agent):
--   applied, email_taken, cpf_taken, user_exists, user_not_found, invalid

CREATE OR REPLACE FUNCTION apply_one_event(ev jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    uid bigint := (ev->>'user_id')::bigint;
BEGIN
    CASE ev->>'event_type'
    WHEN 'criar_usuario' THEN
        INSERT INTO usuarios (user_id, nome, email, cpf, data_criacao, criado_por)
        VALUES (uid, ev->>'nome', ev->>'email', ev->>'cpf',
                (ev->>'data_criacao')::timestamptz, ev->>'requested_by');
    WHEN 'atualizar_assinatura' THEN
        INSERT INTO assinaturas (user_id, plano, inicio, fim)
        VALUES (uid, ev->>'plano', (ev->>'inicio')::date, (ev->>'fim')::date)
        ON CONFLICT (user_id) DO UPDATE
            SET plano = EXCLUDED.plano, inicio = EXCLUDED.inicio,
                fim = EXCLUDED.fim, atualizado_em = now();
    WHEN 'pagamento_realizado' THEN
        INSERT INTO pagamentos (user_id, valor, forma_pagamento, status,
                                data_pagamento, correlation_id)
        VALUES (uid, (ev->>'valor')::numeric(10,2), ev->>'forma_pagamento',
                ev->>'status', (ev->>'data_pagamento')::timestamptz,
                (ev->>'correlation_id')::uuid);
    WHEN 'atualizar_config' THEN
        INSERT INTO preferencias (user_id, idioma, notificacoes)
        VALUES (uid, ev->'preferencias'->>'idioma',
                (ev->'preferencias'->>'notificacoes')::boolean)
        ON CONFLICT (user_id) DO UPDATE
            SET idioma = EXCLUDED.idioma, notificacoes = EXCLUDED.notificacoes,
                atualizado_em = now();
    ELSE
        RAISE EXCEPTION USING ERRCODE = 'data_exception',
            MESSAGE = format('unknown event_type %L', ev->>'event_type');
    END CASE;
END $$;

CREATE OR REPLACE FUNCTION apply_events(batch jsonb)
RETURNS TABLE (correlation_id uuid, outcome text, replayed boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    ev jsonb;
    violated text;
BEGIN
    FOR ev IN SELECT e FROM jsonb_array_elements(batch) WITH ORDINALITY AS t (e, n) ORDER BY n
    LOOP
        correlation_id := (ev->>'correlation_id')::uuid;
        SELECT p.outcome INTO outcome
          FROM processed_events p WHERE p.correlation_id = (ev->>'correlation_id')::uuid;
        replayed := FOUND;
        IF NOT replayed THEN
            BEGIN
                PERFORM apply_one_event(ev);
                outcome := 'applied';
            EXCEPTION
                WHEN unique_violation THEN
                    GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
                    outcome := CASE violated
                        WHEN 'usuarios_email_key' THEN 'email_taken'
                        WHEN 'usuarios_cpf_key' THEN 'cpf_taken'
                        WHEN 'usuarios_user_id_key' THEN 'user_exists'
                        ELSE 'invalid' END;
                WHEN foreign_key_violation THEN
                    outcome := 'user_not_found';
                WHEN check_violation OR data_exception OR not_null_violation THEN
                    outcome := 'invalid';
            END;
            INSERT INTO processed_events (correlation_id, event_type, user_id, outcome)
            VALUES ((ev->>'correlation_id')::uuid, ev->>'event_type',
                    (ev->>'user_id')::bigint, outcome);
        END IF;
        RETURN NEXT;
    END LOOP;
END $$;
