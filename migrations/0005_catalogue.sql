-- The catalogue: the titles that viewings, recommendations and the cache paths
-- refer to. Ids 1000-9999 hold the demo catalogue (app/catalogue.py), inserted
-- by the worker after migrating; the original's clients drew title ids from
-- that range.

CREATE TABLE IF NOT EXISTS conteudos (
    conteudo_id     INTEGER      PRIMARY KEY CHECK (conteudo_id > 0),
    titulo          TEXT         NOT NULL CHECK (length(btrim(titulo)) BETWEEN 1 AND 200),
    tipo            TEXT         NOT NULL CHECK (tipo IN ('filme', 'série', 'documentário')),
    -- The main genre; generos lists every genre, the main one included. Genres
    -- are open (a catalogue grows new ones), so they are not an enumeration.
    categoria       TEXT         NOT NULL CHECK (length(btrim(categoria)) BETWEEN 1 AND 60),
    generos         TEXT[]       NOT NULL CHECK (
                                     categoria = ANY (generos)
                                     AND array_position(generos, NULL) IS NULL),
    descricao       TEXT         NOT NULL,
    -- A film's or documentary's length; a series' typical episode.
    duracao_minutos INTEGER      NOT NULL CHECK (duracao_minutos BETWEEN 1 AND 1000),
    ano_lancamento  SMALLINT     NOT NULL CHECK (ano_lancamento BETWEEN 1888 AND 2100),
    classificacao   TEXT         NOT NULL
                                 CHECK (classificacao IN ('Livre', '10', '12', '14', '16', '18')),
    avaliacao       NUMERIC(2,1) NOT NULL CHECK (avaliacao BETWEEN 0 AND 5),
    disponivel      BOOLEAN      NOT NULL DEFAULT true,
    -- Series only. coalesce: a CHECK that evaluates to NULL would pass.
    temporadas      SMALLINT     CHECK (CASE WHEN tipo = 'série'
                                             THEN coalesce(temporadas >= 1, false)
                                             ELSE temporadas IS NULL END),
    -- How many times the title was watched: 0 until the viewing stream's agent
    -- maintains it (it is the only writer).
    visualizacoes   BIGINT       NOT NULL DEFAULT 0 CHECK (visualizacoes >= 0)
);

-- GET /conteudos pages by conteudo_id (keyset) within a filter: each index
-- hands a filtered page over in id order, without sorting the whole match.
CREATE INDEX IF NOT EXISTS conteudos_tipo_id ON conteudos (tipo, conteudo_id);
CREATE INDEX IF NOT EXISTS conteudos_categoria_id ON conteudos (categoria, conteudo_id);

-- No index for q (titulo ILIKE '%...%'): over the 9,000 demo titles the scan
-- it needs takes about 4 ms at worst. A pg_trgm GIN index measured 0.05 ms for
-- a rare word, but the extension is not worth its privileges and upkeep at
-- this size; reconsider beyond some 100,000 titles.
