-- Who created each user (the API key's name, never the key): GET /usuarios/{id}
-- answers only that caller, or an admin, as for statuses and trails.

ALTER TABLE usuarios ADD COLUMN IF NOT EXISTS criado_por TEXT;

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
