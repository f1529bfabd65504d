-- What people watch: the latest state of each (user, title), co-viewing, and
-- apply_viewings(batch), which applies a batch of player heartbeats exactly once.

-- One row per (user, title), not per heartbeat: a player sends the same
-- viewing's progress many times; the row keeps the furthest state reached
-- (tempo_assistido grows while a viewing goes on, so it orders heartbeats: a
-- late, older one never rewinds the row). ultimo_acesso is the latest heartbeat's time.
CREATE TABLE IF NOT EXISTS visualizacoes (
    user_id         BIGINT       NOT NULL REFERENCES usuarios (user_id),
    conteudo_id     INTEGER      NOT NULL REFERENCES conteudos (conteudo_id),
    posicao         NUMERIC(5,2) NOT NULL CHECK (posicao BETWEEN 0 AND 100),
    tempo_assistido INTEGER      NOT NULL CHECK (tempo_assistido >= 0),
    concluido       BOOLEAN      NOT NULL,
    iniciado_em     TIMESTAMPTZ  NOT NULL,
    ultimo_acesso   TIMESTAMPTZ  NOT NULL,
    PRIMARY KEY (user_id, conteudo_id)
);
-- History and "continue watching", newest first, page by page.
CREATE INDEX IF NOT EXISTS visualizacoes_user_recent
    ON visualizacoes (user_id, ultimo_acesso DESC, conteudo_id DESC);
-- Recounting trending from the state (tests, audits): viewers since a moment.
CREATE INDEX IF NOT EXISTS visualizacoes_recent ON visualizacoes (ultimo_acesso);

-- "Who watched X also watched Y": how many users watched both, per direction.
-- Grown in the same transaction as a user's first viewing of a title, so each
-- pair is counted once; a periodic prune keeps each title's strongest neighbours.
CREATE TABLE IF NOT EXISTS co_visualizacoes (
    conteudo_id INTEGER NOT NULL REFERENCES conteudos (conteudo_id),
    vizinho_id  INTEGER NOT NULL REFERENCES conteudos (conteudo_id),
    vezes       INTEGER NOT NULL CHECK (vezes > 0),
    PRIMARY KEY (conteudo_id, vizinho_id)
);

-- apply_viewings(batch): applies a JSON array of validated heartbeats, each at
-- most once ever (processed_events), in the caller's transaction. Returns
--   {"outcomes": [[correlation_id, outcome, replayed], ...]}  in batch order, and
--   {"changes": [{user_id, conteudo_id, titulo, tipo, categoria, ultimo_acesso, anterior,
--                 primeira, concluido, concluido_antes, reenvio}, ...]}
-- one per (user, title) whose state this batch moved (anterior: the previous
-- ultimo_acesso, null for a first viewing), plus the current state of pairs
-- only replayed (reenvio: true), so that what the caller derives from changes
-- is sent again after a crash. Outcomes: applied, user_not_found, title_not_found.
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
                   coalesce(p.concluido, false) AS concluido_antes, false AS reenvio
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

-- record_first_viewings(changes): for each first viewing of a title Y by a user,
-- count the pair with each of that user's 20 most recently watched other titles
-- X, both ways, and one more viewer of Y. A pair of titles both first watched in
-- this batch is counted once (from the higher id), not twice.
CREATE OR REPLACE FUNCTION record_first_viewings(changes jsonb) RETURNS void
LANGUAGE sql AS $$
    WITH firsts AS (
        SELECT (c->>'user_id')::bigint AS user_id, (c->>'conteudo_id')::integer AS conteudo_id
          FROM jsonb_array_elements(changes) AS c
         WHERE (c->>'primeira')::boolean
    ), pairs AS (
        SELECT f.conteudo_id AS a, r.conteudo_id AS b
          FROM firsts f
          CROSS JOIN LATERAL (
              SELECT v.conteudo_id FROM visualizacoes v
               WHERE v.user_id = f.user_id AND v.conteudo_id <> f.conteudo_id
                 AND NOT EXISTS (SELECT 1 FROM firsts g
                                  WHERE g.user_id = f.user_id
                                    AND g.conteudo_id = v.conteudo_id
                                    AND g.conteudo_id > f.conteudo_id)
               ORDER BY v.ultimo_acesso DESC LIMIT 20) r
    ), both_ways AS (
        SELECT a, b FROM pairs UNION ALL SELECT b, a FROM pairs
    ), counted AS (
        INSERT INTO co_visualizacoes AS c (conteudo_id, vizinho_id, vezes)
        SELECT a, b, count(*) FROM both_ways GROUP BY a, b ORDER BY a, b
        ON CONFLICT (conteudo_id, vizinho_id) DO UPDATE SET vezes = c.vezes + EXCLUDED.vezes
        RETURNING 1
    )
    UPDATE conteudos t SET visualizacoes = t.visualizacoes + f.viewers
      FROM (SELECT conteudo_id, count(*) AS viewers FROM firsts GROUP BY conteudo_id) f
     WHERE t.conteudo_id = f.conteudo_id;
$$;

-- prune_co_viewings(keep): each title keeps its `keep` strongest neighbours
-- (ties: the lower id). Returns how many pairs were dropped.
CREATE OR REPLACE FUNCTION prune_co_viewings(keep integer) RETURNS bigint
LANGUAGE sql AS $$
    WITH ranked AS (
        SELECT conteudo_id, vizinho_id,
               row_number() OVER (PARTITION BY conteudo_id
                                  ORDER BY vezes DESC, vizinho_id) AS rank
          FROM co_visualizacoes
    ), dropped AS (
        DELETE FROM co_visualizacoes c USING ranked r
         WHERE c.conteudo_id = r.conteudo_id AND c.vizinho_id = r.vizinho_id AND r.rank > keep
        RETURNING 1
    )
    SELECT count(*) FROM dropped;
$$;
