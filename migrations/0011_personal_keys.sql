-- LGPD: each person's key (personal fields in events are sealed with it), and
-- erase_user(), which applies an erasure request exactly once. See docs/privacy.md.

-- One AES-256 key per person, made by the API when it accepts the sign-up
-- (before the user row exists: no foreign key). Deleting the row is the
-- crypto-shredding: every sealed copy of the person's fields, in every topic,
-- changelog and replay, becomes unreadable.
CREATE TABLE IF NOT EXISTS chaves_titulares (
    user_id   BIGINT      PRIMARY KEY,
    chave     BYTEA       NOT NULL CHECK (length(chave) = 32),
    criada_em TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Payments outlive their payer (accounting law, docs/privacy.md): erasure
-- unlinks them (user_id NULL) and dates it, so they no longer point at a user.
-- The foreign key stays (a NULL references nothing): a payment for an unknown
-- user is refused by it (user_not_found in apply_events_one_by_one).
ALTER TABLE pagamentos ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE pagamentos ADD COLUMN IF NOT EXISTS titular_apagado_em TIMESTAMPTZ;

-- erase_user(cid, uid): the erasure request cid of user uid, applied at most
-- once ever (recorded in processed_events in the same transaction, like every
-- other event). Returns {outcome, replayed, removed: {store: rows}, titulos: the
-- titles the person watched (applied now only)}; outcome is
-- applied, or user_not_found for a user that does not exist (or was erased).
CREATE OR REPLACE FUNCTION erase_user(cid uuid, uid bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    seen text;
    removed jsonb := '{}'::jsonb;
    titles jsonb;
    n bigint;
BEGIN
    SELECT outcome INTO seen FROM processed_events WHERE correlation_id = cid;
    IF FOUND THEN
        RETURN jsonb_build_object('outcome', seen, 'replayed', true, 'removed', removed);
    END IF;
    -- Serialises an erasure with a concurrent event of the same user.
    PERFORM 1 FROM usuarios WHERE user_id = uid FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO processed_events (correlation_id, event_type, user_id, outcome)
        VALUES (cid, 'excluir_usuario', uid, 'user_not_found');
        RETURN jsonb_build_object('outcome', 'user_not_found', 'replayed', false,
                                  'removed', removed);
    END IF;
    DELETE FROM chaves_titulares WHERE user_id = uid;
    GET DIAGNOSTICS n = ROW_COUNT;
    removed := removed || jsonb_build_object('chave', n);
    -- The titles watched: trending forgets the person on each (the accounts agent).
    SELECT coalesce(jsonb_agg(DISTINCT conteudo_id), '[]'::jsonb) INTO titles
      FROM visualizacoes WHERE user_id = uid;
    DELETE FROM visualizacoes WHERE user_id = uid;
    GET DIAGNOSTICS n = ROW_COUNT;
    removed := removed || jsonb_build_object('visualizacoes', n);
    DELETE FROM assinaturas WHERE user_id = uid;
    GET DIAGNOSTICS n = ROW_COUNT;
    removed := removed || jsonb_build_object('assinaturas', n);
    DELETE FROM preferencias WHERE user_id = uid;
    GET DIAGNOSTICS n = ROW_COUNT;
    removed := removed || jsonb_build_object('preferencias', n);
    UPDATE pagamentos SET user_id = NULL, titular_apagado_em = now() WHERE user_id = uid;
    GET DIAGNOSTICS n = ROW_COUNT;
    removed := removed || jsonb_build_object('pagamentos_desidentificados', n);
    DELETE FROM usuarios WHERE user_id = uid;
    GET DIAGNOSTICS n = ROW_COUNT;
    removed := removed || jsonb_build_object('usuarios', n);
    INSERT INTO processed_events (correlation_id, event_type, user_id, outcome)
    VALUES (cid, 'excluir_usuario', uid, 'applied');
    RETURN jsonb_build_object('outcome', 'applied', 'replayed', false, 'removed', removed,
                              'titulos', titles);
END $$;
