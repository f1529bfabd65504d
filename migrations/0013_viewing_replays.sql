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
-- 0006's function is kept as it is, renamed; the new apply_viewings calls it and
-- then marks those pairs, reading its batch table (viewing_batch, a temporary
-- table of the same transaction).
ALTER FUNCTION apply_viewings(jsonb) RENAME TO apply_viewings_each_once;

CREATE FUNCTION apply_viewings(batch jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    applied jsonb := apply_viewings_each_once(batch);
BEGIN
    RETURN jsonb_set(applied, '{changes}', (
        SELECT coalesce(jsonb_agg(
                   CASE WHEN EXISTS (SELECT 1 FROM viewing_batch b
                                      WHERE b.replayed AND b.outcome = 'applied'
                                        AND b.user_id = (c->>'user_id')::bigint
                                        AND b.conteudo_id = (c->>'conteudo_id')::integer)
                        THEN jsonb_set(c, '{reenvio}', 'true')
                        ELSE c END
                   ORDER BY n), '[]'::jsonb)
          FROM jsonb_array_elements(applied->'changes') WITH ORDINALITY AS t (c, n)));
END $$;
