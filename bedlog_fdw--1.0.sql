/* bedlog_fdw--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION bedlog_fdw" to load this file. \quit

CREATE FUNCTION bedlog_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FUNCTION bedlog_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER bedlog_fdw
  HANDLER bedlog_fdw_handler
  VALIDATOR bedlog_fdw_validator;

COMMENT ON FOREIGN DATA WRAPPER bedlog_fdw
  IS 'AWS Bedrock model invocation logs in S3';

-- The object index: what each log object holds (see bedlog_index_refresh).
-- Scans of a table with conditions on time, model or operation skip the
-- objects whose entry, for the same ETag, proves that nothing can match.
CREATE TABLE bedlog_object_index (
  ftrelid       oid NOT NULL,          -- the foreign table
  bucket        text NOT NULL,
  key           text NOT NULL,
  etag          text NOT NULL,         -- of the object when it was indexed
  size          bigint NOT NULL,
  records       bigint NOT NULL,
  min_timestamp timestamptz,           -- least and greatest record timestamp
  max_timestamp timestamptz,
  model_ids     text[] NOT NULL,       -- distinct modelId values
  operations    text[] NOT NULL,       -- distinct operation values
  indexed_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (ftrelid, bucket, key)
);
REVOKE ALL ON bedlog_object_index FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('bedlog_object_index', '');

CREATE FUNCTION bedlog_index_refresh(foreign_table regclass)
RETURNS bigint
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION bedlog_index_refresh(regclass)
  IS 'index the log objects of a bedlog_fdw table not indexed yet; returns how many were read';

-- Prices and cost.
--
-- bedlog_price holds a price per 1,000 tokens for each priced model and the
-- UTC date it applies from; a lookup for a record takes, for the record's
-- model, the row with the latest effective_from on or before the record's
-- date.  model_key is what bedlog_model_key() returns: the base model id
-- (anthropic.claude-3-5-sonnet-20240620-v1:0) for every form a caller may
-- send.  Rows the extension ships have shipped = true and are recreated by
-- CREATE EXTENSION; rows you add (shipped = false, the default) are what
-- pg_dump saves.  To change a price, add a row with the date it changes.
CREATE TABLE bedlog_price (
  model_key          text NOT NULL,     -- as bedlog_model_key() returns it
  effective_from     date NOT NULL,     -- UTC date from which this row applies
  input_per_1k       numeric NOT NULL CHECK (input_per_1k >= 0),   -- uncached input tokens
  output_per_1k      numeric NOT NULL CHECK (output_per_1k >= 0),
  cache_read_per_1k  numeric CHECK (cache_read_per_1k >= 0),       -- NULL: no prompt cache
  cache_write_per_1k numeric CHECK (cache_write_per_1k >= 0),
  note               text,
  shipped            boolean NOT NULL DEFAULT false,   -- a row of this script
  PRIMARY KEY (model_key, effective_from)
);
GRANT SELECT ON bedlog_price TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('bedlog_price', 'WHERE NOT shipped');

COMMENT ON TABLE bedlog_price
  IS 'model prices per 1,000 tokens, by the UTC date they apply from (illustrative: keep them current)';

-- ILLUSTRATIVE PRICES.  On-demand prices in USD per 1,000 tokens as AWS
-- listed them for us-east-1 in October 2025 (standard tier, context up to
-- 200K tokens).  Other regions, batch, provisioned throughput, long-context
-- tiers and later changes differ.  They apply from '-infinity' so that every
-- record finds a price; add your own rows, with the date each price took
-- effect, and keep them current: the extension cannot know your contract.
INSERT INTO bedlog_price (model_key, effective_from, input_per_1k, output_per_1k,
                          cache_read_per_1k, cache_write_per_1k, note, shipped)
SELECT v.model_key, '-infinity', v.i, v.o, v.cr, v.cw,
       'illustrative: AWS on-demand list price, us-east-1, October 2025', true
  FROM (VALUES
    ('anthropic.claude-3-haiku-20240307-v1:0',     0.00025,  0.00125, 0.00003,    0.0003),
    ('anthropic.claude-3-sonnet-20240229-v1:0',    0.003,    0.015,   NULL,       NULL),
    ('anthropic.claude-3-opus-20240229-v1:0',      0.015,    0.075,   NULL,       NULL),
    ('anthropic.claude-3-5-haiku-20241022-v1:0',   0.0008,   0.004,   0.00008,    0.001),
    ('anthropic.claude-3-5-sonnet-20240620-v1:0',  0.003,    0.015,   0.0003,     0.00375),
    ('anthropic.claude-3-5-sonnet-20241022-v2:0',  0.003,    0.015,   0.0003,     0.00375),
    ('anthropic.claude-3-7-sonnet-20250219-v1:0',  0.003,    0.015,   0.0003,     0.00375),
    ('anthropic.claude-sonnet-4-20250514-v1:0',    0.003,    0.015,   0.0003,     0.00375),
    ('anthropic.claude-sonnet-4-5-20250929-v1:0',  0.003,    0.015,   0.0003,     0.00375),
    ('anthropic.claude-haiku-4-5-20251001-v1:0',   0.001,    0.005,   0.0001,     0.00125),
    ('anthropic.claude-opus-4-20250514-v1:0',      0.015,    0.075,   0.0015,     0.01875),
    ('anthropic.claude-opus-4-1-20250805-v1:0',    0.015,    0.075,   0.0015,     0.01875),
    ('amazon.nova-micro-v1:0',                     0.000035, 0.00014, 0.00000875, 0),
    ('amazon.nova-lite-v1:0',                      0.00006,  0.00024, 0.000015,   0),
    ('amazon.nova-pro-v1:0',                       0.0008,   0.0032,  0.0002,     0),
    ('amazon.nova-premier-v1:0',                   0.0025,   0.0125,  0.000625,   0),
    ('amazon.titan-text-express-v1',               0.0002,   0.0006,  NULL,       NULL),
    ('amazon.titan-text-lite-v1',                  0.00015,  0.0002,  NULL,       NULL),
    ('amazon.titan-text-premier-v1:0',             0.0005,   0.0015,  NULL,       NULL),
    ('amazon.titan-embed-text-v1',                 0.0001,   0,       NULL,       NULL),
    ('amazon.titan-embed-text-v2:0',               0.00002,  0,       NULL,       NULL),
    ('meta.llama3-8b-instruct-v1:0',               0.0003,   0.0006,  NULL,       NULL),
    ('meta.llama3-70b-instruct-v1:0',              0.00265,  0.0035,  NULL,       NULL),
    ('meta.llama3-1-8b-instruct-v1:0',             0.00022,  0.00022, NULL,       NULL),
    ('meta.llama3-1-70b-instruct-v1:0',            0.00072,  0.00072, NULL,       NULL),
    ('meta.llama3-1-405b-instruct-v1:0',           0.0024,   0.0024,  NULL,       NULL),
    ('meta.llama3-2-1b-instruct-v1:0',             0.0001,   0.0001,  NULL,       NULL),
    ('meta.llama3-2-3b-instruct-v1:0',             0.00015,  0.00015, NULL,       NULL),
    ('meta.llama3-2-11b-instruct-v1:0',            0.00016,  0.00016, NULL,       NULL),
    ('meta.llama3-2-90b-instruct-v1:0',            0.00072,  0.00072, NULL,       NULL),
    ('meta.llama3-3-70b-instruct-v1:0',            0.00072,  0.00072, NULL,       NULL),
    ('mistral.mistral-7b-instruct-v0:2',           0.00015,  0.0002,  NULL,       NULL),
    ('mistral.mixtral-8x7b-instruct-v0:1',         0.00045,  0.0007,  NULL,       NULL),
    ('mistral.mistral-small-2402-v1:0',            0.001,    0.003,   NULL,       NULL),
    ('mistral.mistral-large-2402-v1:0',            0.004,    0.012,   NULL,       NULL),
    ('mistral.mistral-large-2407-v1:0',            0.002,    0.006,   NULL,       NULL),
    ('cohere.command-r-v1:0',                      0.0005,   0.0015,  NULL,       NULL),
    ('cohere.command-r-plus-v1:0',                 0.003,    0.015,   NULL,       NULL),
    ('cohere.embed-english-v3',                    0.0001,   0,       NULL,       NULL),
    ('cohere.embed-multilingual-v3',               0.0001,   0,       NULL,       NULL)
  ) AS v(model_key, i, o, cr, cw);

-- The priced model behind any form of modelId:
--   anthropic.claude-3-5-sonnet-20240620-v1:0                    itself
--   us.anthropic.claude-3-5-sonnet-20240620-v1:0                 without the geography
--     (us, us-gov, eu, apac, ca, jp, au, global)
--   arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic...   the id, as above
--   arn:aws:bedrock:us-east-1::foundation-model/anthropic...     the id
--   anthropic.claude-3-haiku-20240307-v1:0:200k                  without the context size
-- An application inference profile, a provisioned or custom model, or a
-- prompt router is an ARN whose model cannot be told from the ARN alone: it
-- comes back unchanged, so give it a price row of its own under that ARN.
CREATE FUNCTION bedlog_model_key(model_id text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT regexp_replace(
           regexp_replace(
             regexp_replace(model_id,
               '^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:[0-9]*:(foundation-model|inference-profile)/', ''),
             '^(us|us-gov|eu|apac|ca|jp|au|global)\.', ''),
           ':[0-9]+k$', '')
$$;

COMMENT ON FUNCTION bedlog_model_key(text)
  IS 'the priced model id behind a Bedrock modelId (profile ids and ARNs resolved)';

-- The estimated cost of one request: the price in effect for its model on
-- its UTC date, times each kind of token.  One row, always: with no price,
-- price_from is NULL and a kind of token that was counted costs NULL (a
-- kind not counted costs 0, so failed requests cost 0).  A set-returning SQL
-- function, so that the planner inlines it into the calling query (a
-- LATERAL join with the price table's primary key), and conditions on the
-- foreign table still prune its scan.
CREATE FUNCTION bedlog_request_cost(
  model_id text, ts timestamptz,
  input_tokens bigint, output_tokens bigint,
  cache_read_tokens bigint DEFAULT 0, cache_write_tokens bigint DEFAULT 0)
RETURNS TABLE (model_key text, price_from date,
               input_cost numeric, output_cost numeric,
               cache_read_cost numeric, cache_write_cost numeric,
               total_cost numeric)
LANGUAGE sql STABLE PARALLEL SAFE ROWS 1
AS $$
  SELECT k.key, p.effective_from, c.i, c.o, c.cr, c.cw, c.i + c.o + c.cr + c.cw
    FROM (SELECT @extschema@.bedlog_model_key(model_id) AS key) k
    LEFT JOIN LATERAL (
      SELECT p.effective_from, p.input_per_1k, p.output_per_1k,
             p.cache_read_per_1k, p.cache_write_per_1k
        FROM @extschema@.bedlog_price p
       WHERE p.model_key = k.key
         AND p.effective_from <= (ts AT TIME ZONE 'UTC')::date
       ORDER BY p.effective_from DESC
       LIMIT 1) p ON true
    CROSS JOIN LATERAL (SELECT
      CASE WHEN coalesce(input_tokens, 0) = 0 THEN 0
           ELSE input_tokens * p.input_per_1k / 1000 END AS i,
      CASE WHEN coalesce(output_tokens, 0) = 0 THEN 0
           ELSE output_tokens * p.output_per_1k / 1000 END AS o,
      CASE WHEN coalesce(cache_read_tokens, 0) = 0 THEN 0
           ELSE cache_read_tokens * p.cache_read_per_1k / 1000 END AS cr,
      CASE WHEN coalesce(cache_write_tokens, 0) = 0 THEN 0
           ELSE cache_write_tokens * p.cache_write_per_1k / 1000 END AS cw) c
$$;

COMMENT ON FUNCTION bedlog_request_cost(text, timestamptz, bigint, bigint, bigint, bigint)
  IS 'estimated cost of one request from bedlog_price, by kind of token';
