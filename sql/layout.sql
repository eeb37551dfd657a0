--
-- The key layout: several accounts and regions under one location, the
-- objects that are not log files, gzip members, line endings, and
-- locations that go deeper.  The expected figures come from the
-- generator's manifest (tools/genlogs.py), computed without bedlog_fdw.
--
-- EXPLAIN ANALYZE that reads the same on every major: pg_temp.explain_analyze()
\set ECHO none
\i sql/include/explain.sql
\set ECHO all
\set VERBOSITY default
CREATE TEMP TABLE manifest AS
  SELECT pg_read_file(current_setting('bedlog_test.fixtures') || '/fixtures.manifest.json')::jsonb
         -> 'buckets' -> 'logs' AS m;

CREATE SCHEMA lay;
IMPORT FOREIGN SCHEMA bedrock FROM SERVER s3 INTO lay OPTIONS (location 's3://logs/bedrock/');
CREATE TEMP TABLE rows AS SELECT * FROM lay.model_invocations;

-- totals against the manifest
SELECT (SELECT count(*) FROM rows) AS records,
       (m->'totals'->>'records')::int AS manifest_records,
       (SELECT sum(input_token_count) FROM rows) AS input_tokens,
       (m->'totals'->>'input_tokens')::int AS manifest_input_tokens,
       (SELECT sum(output_token_count) FROM rows) AS output_tokens,
       (m->'totals'->>'output_tokens')::int AS manifest_output_tokens,
       (SELECT count(*) FROM rows WHERE error_code IS NOT NULL) AS errors,
       (m->'totals'->>'records_with_error')::int AS manifest_errors,
       (SELECT count(*) FROM rows WHERE input_body_s3_path IS NOT NULL) AS offloaded_inputs,
       (m->'totals'->>'offloaded_input')::int AS manifest_offloaded_inputs
  FROM manifest;

-- every account and region under the one location
SELECT account_id, region, count(*),
       (SELECT (m->'totals'->'by_account_region'->account_id->>region)::int FROM manifest) AS manifest
  FROM rows GROUP BY 1, 2 ORDER BY 1, 2;

-- per model, nothing differs from the manifest
SELECT model_id, count(*) AS n, coalesce(sum(input_token_count), 0) AS input_tokens,
       coalesce(sum(output_token_count), 0) AS output_tokens
  FROM rows GROUP BY 1
EXCEPT
SELECT key, (value->>'count')::bigint, (value->>'input_tokens')::numeric, (value->>'output_tokens')::numeric
  FROM manifest, jsonb_each(m->'totals'->'by_model');
SELECT count(DISTINCT model_id) AS models FROM rows;

-- the row's account and region agree with its key
SELECT count(*) AS mismatched FROM rows
 WHERE s3_key NOT LIKE 'bedrock/AWSLogs/' || account_id || '/BedrockModelInvocationLogs/' || region || '/%';

-- records delivered late, into a later hour's folder, are read where they are
SELECT count(*) AS late,
       (SELECT (m->'totals'->>'late_records')::int FROM manifest) AS manifest_late
  FROM rows
 WHERE to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY/MM/DD/HH24') <>
       substring(s3_key FROM '/(\d{4}/\d{2}/\d{2}/\d{2})/[^/]+$');

-- objects read, per object, against the manifest
SELECT count(*) AS objects_differing FROM (
  SELECT s3_key, count(*) FROM rows GROUP BY 1
  EXCEPT
  SELECT o->>'key', (o->>'records')::bigint FROM manifest, jsonb_array_elements(m->'objects') o
) d;

-- concatenated gzip members, a last line without newline, blank lines
SELECT o->>'style' AS style, (o->>'records')::int AS manifest_records,
       (SELECT count(*) FROM rows WHERE s3_key = o->>'key') AS records,
       (SELECT array_agg(s3_line ORDER BY s3_line) FROM rows WHERE s3_key = o->>'key') AS lines
  FROM manifest, jsonb_array_elements(m->'objects') o
 WHERE o ? 'style' ORDER BY 1;

-- what was skipped, and why: none of these keys produced a row
SELECT o->>'kind' AS kind, o->>'key' AS key,
       EXISTS (SELECT 1 FROM rows WHERE s3_key = o->>'key') AS read
  FROM manifest, jsonb_array_elements(m->'other_objects') o ORDER BY 1, 2;
SELECT count(*) AS sidecars_read FROM rows WHERE s3_key LIKE '%/data/%';
SELECT jsonb_array_length(m->'data_objects') AS sidecars_in_bucket FROM manifest;

SELECT * FROM pg_temp.explain_analyze('', $$
  SELECT count(*) FROM lay.model_invocations$$);

-- locations that go deeper fix the account, or the account and region
CREATE FOREIGN TABLE lay_acct (account_id text, region text) SERVER s3
  OPTIONS (location 's3://logs/bedrock/AWSLogs/222222222222/');
SELECT account_id, region, count(*) FROM lay_acct GROUP BY 1, 2 ORDER BY 1, 2;
CREATE FOREIGN TABLE lay_region (account_id text, region text) SERVER s3
  OPTIONS (location 's3://logs/bedrock/AWSLogs/111111111111/BedrockModelInvocationLogs/eu-west-1');
SELECT account_id, region, count(*) FROM lay_region GROUP BY 1, 2 ORDER BY 1, 2;
-- and one that holds nothing, or an empty bucket, is empty, not an error
CREATE FOREIGN TABLE lay_none (account_id text) SERVER s3
  OPTIONS (location 's3://logs/elsewhere/');
SELECT count(*) FROM lay_none;
CREATE FOREIGN TABLE lay_empty (account_id text) SERVER s3
  OPTIONS (location 's3://empty/');
SELECT count(*) FROM lay_empty;

-- a rescan (inner side of a nested loop) reads everything again
SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_material = off;
SELECT count(*) FROM (VALUES (1), (2)) v(x), lay_region;
RESET enable_hashjoin; RESET enable_mergejoin; RESET enable_material;

DROP SCHEMA lay CASCADE;
DROP FOREIGN TABLE lay_acct, lay_region, lay_none, lay_empty;
