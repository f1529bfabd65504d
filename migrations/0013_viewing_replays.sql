-- apply_viewings, corrected: a pair's change says reenvio whenever one of its
-- applied heartbeats in the batch is a replay, not only when all of them are.
--
-- The crash this mends: a batch applies heartbeat h1 of (user, title) and the
-- worker dies before the title_activity and recommendation_requests derived
-- from it are acknowledged, so its checkpoint stays before h1. Redelivered, h1
-- may now share a batch with a newer heartbeat h2 of the same pair. 0006 then
-- reported the pair as moved by h2 alone (reenvio false, anterior = h1's time);
-- when h2 stays in h1's trending hop, nothing was sent again and trending never
-- heard of that viewer. Now such a change carries reenvio true, so the agent
-- sends what h1 should have sent (trending keeps the latest time, a recompute of
-- recommendations is idempotent: a repeat counts nothing twice).
--
-- Only the reenvio of the upserted pairs differs from 0006_viewings.sql.
CREATE OR REPLACE FUNCTION apply_viewings(batch jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    changes jsonb;
    outcomes jsonb;
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS viewing_batch (
        n           BIGINT,
        cid         UUID,
        user_id     BIGINT,
        conteudo_id INTEGER,
        posicao     NUMERIC(5,2),
        tempo       INTEGER,
        ts          TIMESTAMPTZ,
        outcome     TEXT,
        replayed    BOOLEAN
    ) ON COMMIT DELETE ROWS;

    INSERT INTO viewing_batch (n, cid, user_id, conteudo_id, posicao, tempo, ts)
    SELECT n, (e->>'correlation_id')::uuid, (e->>'user_id')::bigint,
           (e->>'conteudo_id')::integer, (e->>'posicao')::numeric(5,2),
           (e->>'tempo_assistido')::integer, (e->>'timestamp')::timestamptz
      FROM jsonb_array_elements(batch) WITH ORDINALITY AS t (e, n);

    -- Seen before (a redelivery): its recorded outcome, nothing applied.
    UPDATE viewing_batch b SET outcome = p.outcome, replayed = true
      FROM processed_events p WHERE p.correlation_id = b.cid;
    -- The same event twice in one batch: the later copies are replays.
    UPDATE viewing_batch b SET replayed = true
     WHERE b.replayed IS NULL
       AND EXISTS (SELECT 1 FROM viewing_batch o WHERE o.cid = b.cid AND o.n < b.n);
    UPDATE viewing_batch b SET replayed = false,
           outcome = CASE
               WHEN NOT EXISTS (SELECT 1 FROM usuarios u WHERE u.user_id = b.user_id)
                   THEN 'user_not_found'
               WHEN NOT EXISTS (SELECT 1 FROM conteudos c WHERE c.conteudo_id = b.conteudo_id)
                   THEN 'title_not_found'
               ELSE 'applied' END
     WHERE b.replayed IS NULL;
    UPDATE viewing_batch b SET outcome = f.outcome
      FROM viewing_batch f
     WHERE b.outcome IS NULL AND f.cid = b.cid AND NOT f.replayed;

    -- Another worker may have recorded one of them meanwhile (a rebalance):
    -- those are left to it.
    WITH recorded AS (
        INSERT INTO processed_events (correlation_id, event_type, user_id, outcome)
        SELECT cid, 'registrar_visualizacao', user_id, outcome
          FROM viewing_batch WHERE NOT replayed
        ON CONFLICT (correlation_id) DO NOTHING
        RETURNING correlation_id
    )
    UPDATE viewing_batch b SET replayed = true
     WHERE NOT b.replayed AND b.cid NOT IN (SELECT correlation_id FROM recorded);

    WITH fresh AS (
        SELECT * FROM viewing_batch WHERE NOT replayed AND outcome = 'applied'
    ), furthest AS (
        SELECT DISTINCT ON (user_id, conteudo_id) user_id, conteudo_id, posicao, tempo
          FROM fresh ORDER BY user_id, conteudo_id, tempo DESC, posicao DESC, ts DESC
    ), span AS (
        SELECT user_id, conteudo_id, min(ts) AS first_ts, max(ts) AS last_ts
          FROM fresh GROUP BY user_id, conteudo_id
    ), prior AS (
        SELECT v.user_id, v.conteudo_id, v.ultimo_acesso, v.concluido
          FROM visualizacoes v JOIN furthest USING (user_id, conteudo_id)
    ), upserted AS (
        INSERT INTO visualizacoes AS v (user_id, conteudo_id, posicao, tempo_assistido,
                                        concluido, iniciado_em, ultimo_acesso)
        SELECT f.user_id, f.conteudo_id, f.posicao, f.tempo, f.posicao >= 90,
               s.first_ts, s.last_ts
          FROM furthest f JOIN span s USING (user_id, conteudo_id)
         ORDER BY f.user_id, f.conteudo_id
        ON CONFLICT (user_id, conteudo_id) DO UPDATE SET
            posicao = CASE WHEN (EXCLUDED.tempo_assistido, EXCLUDED.posicao)
                                > (v.tempo_assistido, v.posicao)
                           THEN EXCLUDED.posicao ELSE v.posicao END,
            concluido = CASE WHEN (EXCLUDED.tempo_assistido, EXCLUDED.posicao)
                                  > (v.tempo_assistido, v.posicao)
                             THEN EXCLUDED.concluido ELSE v.concluido END,
            tempo_assistido = GREATEST(v.tempo_assistido, EXCLUDED.tempo_assistido),
            iniciado_em = LEAST(v.iniciado_em, EXCLUDED.iniciado_em),
            ultimo_acesso = GREATEST(v.ultimo_acesso, EXCLUDED.ultimo_acesso)
        RETURNING v.user_id, v.conteudo_id, v.ultimo_acesso, v.concluido
    ), replayed_pairs AS (
        SELECT DISTINCT v.user_id, v.conteudo_id, v.ultimo_acesso, v.concluido
          FROM viewing_batch b
          JOIN visualizacoes v USING (user_id, conteudo_id)
         WHERE b.replayed AND b.outcome = 'applied'
           AND NOT EXISTS (SELECT 1 FROM fresh f
                            WHERE f.user_id = b.user_id AND f.conteudo_id = b.conteudo_id)
    )
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'user_id', c.user_id, 'conteudo_id', c.conteudo_id,
               'titulo', t.titulo, 'tipo', t.tipo, 'categoria', t.categoria,
               'ultimo_acesso', c.ultimo_acesso, 'anterior', c.anterior,
               'primeira', c.primeira, 'concluido', c.concluido,
               'concluido_antes', c.concluido_antes, 'reenvio', c.reenvio)), '[]'::jsonb)
      INTO changes
      FROM (SELECT u.user_id, u.conteudo_id, u.ultimo_acesso, p.ultimo_acesso AS anterior,
                   p.user_id IS NULL AS primeira, u.concluido,
                   coalesce(p.concluido, false) AS concluido_antes,
                   EXISTS (SELECT 1 FROM viewing_batch b
                            WHERE b.replayed AND b.outcome = 'applied'
                              AND b.user_id = u.user_id
                              AND b.conteudo_id = u.conteudo_id) AS reenvio
              FROM upserted u LEFT JOIN prior p USING (user_id, conteudo_id)
            UNION ALL
            SELECT r.user_id, r.conteudo_id, r.ultimo_acesso, NULL, false, r.concluido,
                   r.concluido, true
              FROM replayed_pairs r) c
      JOIN conteudos t USING (conteudo_id);

    PERFORM record_first_viewings(changes);

    SELECT jsonb_agg(jsonb_build_array(cid, outcome, replayed) ORDER BY n)
      INTO outcomes FROM viewing_batch;
    RETURN jsonb_build_object('outcomes', coalesce(outcomes, '[]'::jsonb), 'changes', changes);
END $$;
