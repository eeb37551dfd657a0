--
-- Account, region, model and operation: key template levels, discovery,
-- record filters.  Fixtures: s3://logs/bedrock/ (2 accounts x 2 regions,
-- Bedrock's layout) and s3://repart/r/ (a user's own layout by model and
-- operation).
--
SET timezone = 'UTC';
-- the S3 proxy's counters: pg_temp.s3_reset(), pg_temp.s3_stats()
\set ECHO none
\i sql/include/s3_proxy.sql
\i sql/include/explain.sql
\set ECHO all
-- run q twice, without and with pushdown: same answer?  And what S3 saw
-- with pushdown: the listings (prefixes) and the objects fetched.
CREATE FUNCTION pg_temp.compare(q text)
  RETURNS TABLE (same_result bool, result text, lists int, prefixes text, fetched int, fetched_without int)
  LANGUAGE plpgsql AS $$
DECLARE s jsonb; r_off text;
BEGIN
  SET LOCAL bedlog_fdw.enable_pushdown = off;
  PERFORM pg_temp.s3_reset();
  EXECUTE q INTO r_off;
  fetched_without := (pg_temp.s3_stats()->'by_kind'->>'get')::int;
  SET LOCAL bedlog_fdw.enable_pushdown = on;
  PERFORM pg_temp.s3_reset();
  EXECUTE q INTO result;
  s := pg_temp.s3_stats();
  same_result := result IS NOT DISTINCT FROM r_off;
  lists := (s->'by_kind'->>'list')::int;
  -- the first three prefixes listed, in key order
  SELECT string_agg(k, ', ' ORDER BY k)
         || CASE WHEN (SELECT count(*) FROM jsonb_object_keys(s->'list_prefixes')) > 3 THEN ', ...' ELSE '' END
    INTO prefixes
    FROM (SELECT k FROM jsonb_object_keys(s->'list_prefixes') k ORDER BY k LIMIT 3) f;
  fetched := (s->'by_kind'->>'get')::int;
  RETURN NEXT;
END $$;

-- discovery_ttl '0': every query lists its own discoveries, so that the
-- counts below are what each query alone needs (discovery.sql tests
-- their reuse)
CREATE FOREIGN TABLE logs (
  "timestamp" timestamptz, account_id text, region text, model_id text,
  operation text, input_token_count bigint, request_id text
) SERVER s3 OPTIONS (location 's3://logs/bedrock/', discovery_ttl '0');

-- account and region select their template levels directly
SELECT * FROM pg_temp.compare($$SELECT count(*) || ' rows' FROM logs
  WHERE account_id = '222222222222' AND region = 'eu-west-1'$$);
SELECT * FROM pg_temp.compare($$SELECT count(*) || ' rows' FROM logs
  WHERE account_id IN ('111111111111', '222222222222', '333333333333') AND region IN ('us-east-1')$$);
-- without an account, the accounts are discovered with a delimiter listing
SELECT * FROM pg_temp.compare($$SELECT count(*) || ' rows' FROM logs WHERE region = 'us-east-1'$$);
-- and with a time range too: only the folders of those hours
SELECT * FROM pg_temp.compare($$SELECT count(*) || ' rows, ' || sum(input_token_count) || ' tokens' FROM logs
  WHERE region = 'eu-west-1' AND "timestamp" >= '2026-11-01 02:00+00' AND "timestamp" < '2026-11-01 03:00+00'$$);
-- an account that is not there: one discovery, nothing fetched
SELECT * FROM pg_temp.compare($$SELECT count(*) || ' rows' FROM logs WHERE account_id = '999999999999'$$);
-- a prefix LIKE on account prunes the discovered accounts
SELECT * FROM pg_temp.compare($$SELECT count(*) || ' rows' FROM logs
  WHERE account_id LIKE '2%' AND "timestamp" < '2026-11-01 01:00+00'$$);
SELECT * FROM pg_temp.explain_analyze('VERBOSE', $$
  SELECT count(*) FROM logs WHERE region = 'eu-west-1'
     AND "timestamp" >= '2026-11-01 02:00+00' AND "timestamp" < '2026-11-01 03:00+00'$$);

-- model and operation are not in Bedrock's keys: records are rejected
-- before any column is built
SELECT * FROM pg_temp.compare($$SELECT count(*) || ' rows, ' || sum(input_token_count) || ' tokens' FROM logs
  WHERE model_id = 'anthropic.claude-3-5-sonnet-20240620-v1:0' AND operation IN ('Converse', 'InvokeModel')$$);
SELECT * FROM pg_temp.compare($$SELECT count(*) || ' rows' FROM logs
  WHERE model_id LIKE 'us.anthropic.%' AND operation = 'ConverseStream'$$);
SELECT * FROM pg_temp.explain_analyze('', $$
  SELECT count(*) FROM logs WHERE model_id LIKE 'us.anthropic.%' AND operation = 'ConverseStream'$$);
-- a column of another type is not pushed (its conversion must still run)
CREATE FOREIGN TABLE logs_varchar (model_id varchar(100), operation text)
  SERVER s3 OPTIONS (location 's3://logs/bedrock/');
EXPLAIN (COSTS OFF) SELECT count(*) FROM logs_varchar WHERE model_id = 'x' AND operation = 'Converse';
-- a nondeterministic collation is not pushed either
CREATE COLLATION case_insensitive (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
EXPLAIN (COSTS OFF) SELECT count(*) FROM logs WHERE model_id = 'X' COLLATE case_insensitive;
SELECT count(*) FROM logs WHERE model_id = 'AMAZON.NOVA-LITE-V1:0' COLLATE case_insensitive;
DROP COLLATION case_insensitive;

-- a user's own layout, described by key_template
CREATE FOREIGN TABLE repart (
  "timestamp" timestamptz, model_id text, operation text, request_id text, s3_key text
) SERVER s3 OPTIONS (location 's3://repart/r/', discovery_ttl '0',
                     key_template 'model=${model_id}/op=${operation}/${yyyy}-${MM}-${dd}/');
SELECT * FROM pg_temp.compare($$SELECT count(*) || ' rows' FROM repart$$);
SELECT * FROM pg_temp.compare($$SELECT count(*) || ' rows' FROM repart
  WHERE model_id = 'amazon.nova-lite-v1:0' AND operation = 'Converse'$$);
SELECT * FROM pg_temp.compare($$SELECT count(*) || ' rows' FROM repart
  WHERE model_id IN ('amazon.nova-lite-v1:0', 'amazon.nova-pro-v1:0') AND "timestamp" >= '2026-11-02'$$);
SELECT * FROM pg_temp.compare($$SELECT count(*) || ' rows' FROM repart WHERE operation = 'InvokeModel'$$);
SELECT * FROM pg_temp.compare($$SELECT count(*) || ' rows' FROM repart WHERE model_id LIKE 'anthropic.claude-3-5-%'$$);
-- per (model, operation), the rows are those the generator wrote
SELECT count(*) AS groups_differing FROM (
  SELECT model_id || '|' || operation, count(*) FROM repart GROUP BY 1
  EXCEPT
  SELECT key, value::bigint
    FROM jsonb_each_text(pg_read_file(current_setting('bedlog_test.fixtures') || '/fixtures.manifest.json')::jsonb
                         #> '{buckets,repart,totals,by_model_operation}')
) d;
EXPLAIN (COSTS OFF) SELECT * FROM repart WHERE model_id = 'amazon.nova-lite-v1:0' AND operation = 'Converse';

-- key_template validation
ALTER FOREIGN TABLE repart OPTIONS (SET key_template 'model=${model_id}/${yyyy}');
ALTER FOREIGN TABLE repart OPTIONS (SET key_template 'x/${nope}/');
ALTER FOREIGN TABLE repart OPTIONS (SET key_template '${MM}/${yyyy}/');
ALTER FOREIGN TABLE repart OPTIONS (SET key_template '${model_id}${operation}/');
ALTER FOREIGN TABLE repart OPTIONS (SET key_template 'a//b/');
ALTER FOREIGN TABLE repart OPTIONS (SET key_template '${yyyy}/${dd}/');

DROP FOREIGN TABLE logs, logs_varchar, repart;
