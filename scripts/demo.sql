-- demo.sql: example questions asked of Bedrock invocation logs through bedlog_fdw.
-- Run by scripts/demo.sh after IMPORT FOREIGN SCHEMA created public.model_invocations.
\pset footer off
\pset null '∅'

\echo
\echo '== How many invocations, and over which time span?'
SELECT count(*) AS invocations,
       min("timestamp") AS first_call,
       max("timestamp") AS last_call,
       count(DISTINCT account_id) AS accounts,
       count(DISTINCT region) AS regions
  FROM model_invocations;

\echo
\echo '== Tokens per model (modelId as the caller sent it)'
SELECT model_id,
       count(*) AS calls,
       sum(input_token_count) AS input_tokens,
       sum(output_token_count) AS output_tokens,
       sum(cache_read_input_token_count) AS cache_read_tokens
  FROM model_invocations
 GROUP BY model_id
 ORDER BY coalesce(sum(input_token_count), 0) + coalesce(sum(output_token_count), 0) DESC
 LIMIT 15;

\echo
\echo '== The same, with every form of modelId folded to the base model'
SELECT regexp_replace(regexp_replace(model_id, '^arn:aws:bedrock:[^:]*:[^:]*:(inference-profile|foundation-model)/', ''),
                      '^(us|eu|apac|global)\.', '') AS base_model,
       count(*) AS calls,
       sum(input_token_count) + sum(output_token_count) AS tokens
  FROM model_invocations
 WHERE model_id NOT LIKE '%:application-inference-profile/%'
 GROUP BY 1
 ORDER BY tokens DESC NULLS LAST
 LIMIT 10;

\echo
\echo '== Errors by model and operation'
SELECT model_id, operation,
       count(*) FILTER (WHERE error_code IS NOT NULL) AS errors,
       count(*) AS calls,
       round(100.0 * count(*) FILTER (WHERE error_code IS NOT NULL) / count(*), 1) AS error_pct
  FROM model_invocations
 GROUP BY model_id, operation
HAVING count(*) FILTER (WHERE error_code IS NOT NULL) > 0
 ORDER BY errors DESC, calls DESC
 LIMIT 12;

\echo
\echo '== Errors by code'
SELECT error_code, count(*) AS errors
  FROM model_invocations
 WHERE error_code IS NOT NULL
 GROUP BY error_code
 ORDER BY errors DESC;

\echo
\echo '== Top callers'
SELECT identity_arn,
       count(*) AS calls,
       sum(input_token_count + output_token_count) AS tokens,
       count(DISTINCT model_id) AS models
  FROM model_invocations
 GROUP BY identity_arn
 ORDER BY tokens DESC NULLS LAST
 LIMIT 10;

\echo
\echo '== Tokens per hour, first day (account 111111111111)'
SELECT date_trunc('hour', "timestamp") AS hour,
       count(*) AS calls,
       sum(input_token_count) AS input_tokens,
       sum(output_token_count) AS output_tokens
  FROM model_invocations
 WHERE account_id = '111111111111'
   AND "timestamp" >= '2026-11-01T00:00:00Z' AND "timestamp" < '2026-11-02T00:00:00Z'
 GROUP BY 1
 ORDER BY 1;

\echo
\echo '== Converse latency by model (latency_ms: output body metrics.latencyMs), milliseconds'
SELECT model_id,
       count(*) AS calls,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms)::numeric) AS p50_ms,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)::numeric) AS p95_ms
  FROM model_invocations
 WHERE operation IN ('Converse', 'ConverseStream')
   AND latency_ms IS NOT NULL
 GROUP BY model_id
 ORDER BY calls DESC
 LIMIT 10;

\echo
\echo '== Streaming latency (last stream event: amazon-bedrock-invocationMetrics; stream_latency_ms)'
SELECT operation,
       count(*) AS calls,
       round(avg(stream_latency_ms)) AS avg_latency_ms,
       round(avg((output_body->-1->'amazon-bedrock-invocationMetrics'->>'firstByteLatency')::int)) AS avg_first_byte_ms
  FROM model_invocations
 WHERE operation = 'InvokeModelWithResponseStream'
   AND jsonb_typeof(output_body) = 'array'
 GROUP BY operation;

\echo
\echo '== Cross-region inference: where calls were served'
SELECT region AS called_in,
       coalesce(inference_region, region) AS served_in,
       count(*) AS calls
  FROM model_invocations
 GROUP BY 1, 2
 ORDER BY 1, 3 DESC;

\echo
\echo '== Records delivered late (stamped in one hour, filed in the next hour''s folder)'
SELECT count(*) AS late_records
  FROM model_invocations
 WHERE to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY/MM/DD/HH24') <> substring(s3_key from '/(\d{4}/\d{2}/\d{2}/\d{2})/[^/]*$');

\echo
\echo '== Large bodies: offloaded to data/ by Bedrock, fetched when a query reads them'
SELECT request_id, operation, input_body_s3_path,
       jsonb_typeof(input_body) AS body, octet_length(input_body::text) AS body_bytes,
       input_body->'messages'->0->>'role' AS first_role
  FROM model_invocations
 WHERE input_body_s3_path IS NOT NULL
 ORDER BY "timestamp" LIMIT 5;

\echo
\echo '== What a scan does'
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM model_invocations WHERE operation = 'Converse';

\echo
\echo '== Pruning: one hour of one region reads only that hour''s folders (and the next, for late deliveries)'
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT model_id, count(*), sum(input_token_count) AS input_tokens
  FROM model_invocations
 WHERE region = 'us-east-1'
   AND "timestamp" >= '2026-11-01 10:00+00' AND "timestamp" < '2026-11-01 11:00+00'
 GROUP BY 1;

\echo
\echo '== The object index: after one refresh, a model condition skips objects without that model'
SELECT bedlog_index_refresh('model_invocations') AS objects_indexed;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM model_invocations WHERE model_id = 'amazon.nova-pro-v1:0';

\echo
\echo '== The local cache: the same dashboard query twice; the second run asks S3 nothing'
ALTER SERVER bedrock OPTIONS (ADD cache_dir :'cache_dir', ADD cache_max_size '256MB');
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT date_trunc('hour', "timestamp") AS time, sum(input_token_count) AS input_tokens
  FROM model_invocations
 WHERE account_id = '111111111111' AND region = 'us-east-1'
   AND "timestamp" >= '2026-11-01 06:00+00' AND "timestamp" < '2026-11-01 12:00+00'
 GROUP BY 1;
\g
