--
-- The real records of the format examples: every canonical column must
-- equal its JSON source.  The reference is read from the fixture files
-- themselves and parsed by PostgreSQL's own jsonb input, independently of
-- bedlog_fdw's decoder.
--
\set VERBOSITY default
CREATE SERVER s3 FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712', aws_region 'us-east-1');
CREATE USER MAPPING FOR CURRENT_USER SERVER s3
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
CREATE SCHEMA ex;
IMPORT FOREIGN SCHEMA bedrock FROM SERVER s3 INTO ex
  OPTIONS (location 's3://examples/logs/');

CREATE TEMP TABLE ref AS
  SELECT f AS file,
         pg_read_file(current_setting('bedlog_test.fixtures') || '/examples/' || f)::jsonb AS j
    FROM pg_ls_dir(current_setting('bedlog_test.fixtures') || '/examples') AS f
   WHERE f LIKE '%.json';
SELECT count(*) AS reference_records FROM ref;

CREATE TEMP TABLE got AS SELECT * FROM ex.model_invocations;
SELECT count(*) AS rows_read, count(DISTINCT request_id) AS distinct_requests FROM got;

-- every record was read once, and matched to its source
SELECT r.file FROM ref r LEFT JOIN got g ON g.request_id = r.j->>'requestId'
 WHERE g.request_id IS NULL;

-- JSON null and a missing member are both SQL NULL
CREATE FUNCTION pg_temp.jnull(v jsonb) RETURNS jsonb
  LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN v = 'null'::jsonb THEN NULL ELSE v END $$;

CREATE TEMP TABLE cmp AS
SELECT r.file, c.col, c.ok, c.present
  FROM got g JOIN ref r ON r.j->>'requestId' = g.request_id
  CROSS JOIN LATERAL (VALUES
    ('timestamp', g."timestamp" IS NOT DISTINCT FROM (r.j->>'timestamp')::timestamptz, g."timestamp" IS NOT NULL),
    ('account_id', g.account_id IS NOT DISTINCT FROM r.j->>'accountId', g.account_id IS NOT NULL),
    ('region', g.region IS NOT DISTINCT FROM r.j->>'region', g.region IS NOT NULL),
    ('inference_region', g.inference_region IS NOT DISTINCT FROM r.j->>'inferenceRegion', g.inference_region IS NOT NULL),
    ('request_id', g.request_id IS NOT DISTINCT FROM r.j->>'requestId', g.request_id IS NOT NULL),
    ('operation', g.operation IS NOT DISTINCT FROM r.j->>'operation', g.operation IS NOT NULL),
    ('model_id', g.model_id IS NOT DISTINCT FROM r.j->>'modelId', g.model_id IS NOT NULL),
    ('identity_arn', g.identity_arn IS NOT DISTINCT FROM r.j#>>'{identity,arn}', g.identity_arn IS NOT NULL),
    ('request_metadata', g.request_metadata IS NOT DISTINCT FROM pg_temp.jnull(r.j->'requestMetadata'), g.request_metadata IS NOT NULL),
    ('error_code', g.error_code IS NOT DISTINCT FROM r.j->>'errorCode', g.error_code IS NOT NULL),
    ('input_content_type', g.input_content_type IS NOT DISTINCT FROM r.j#>>'{input,inputContentType}', g.input_content_type IS NOT NULL),
    ('input_body', g.input_body IS NOT DISTINCT FROM pg_temp.jnull(r.j#>'{input,inputBodyJson}'), g.input_body IS NOT NULL),
    ('input_body_s3_path', g.input_body_s3_path IS NOT DISTINCT FROM r.j#>>'{input,inputBodyS3Path}', g.input_body_s3_path IS NOT NULL),
    ('input_token_count', g.input_token_count IS NOT DISTINCT FROM (r.j#>>'{input,inputTokenCount}')::bigint, g.input_token_count IS NOT NULL),
    ('cache_read_input_token_count', g.cache_read_input_token_count IS NOT DISTINCT FROM (r.j#>>'{input,cacheReadInputTokenCount}')::bigint, g.cache_read_input_token_count IS NOT NULL),
    ('cache_write_input_token_count', g.cache_write_input_token_count IS NOT DISTINCT FROM (r.j#>>'{input,cacheWriteInputTokenCount}')::bigint, g.cache_write_input_token_count IS NOT NULL),
    ('output_content_type', g.output_content_type IS NOT DISTINCT FROM r.j#>>'{output,outputContentType}', g.output_content_type IS NOT NULL),
    ('output_body', g.output_body IS NOT DISTINCT FROM pg_temp.jnull(r.j#>'{output,outputBodyJson}'), g.output_body IS NOT NULL),
    ('output_body_s3_path', g.output_body_s3_path IS NOT DISTINCT FROM r.j#>>'{output,outputBodyS3Path}', g.output_body_s3_path IS NOT NULL),
    ('output_token_count', g.output_token_count IS NOT DISTINCT FROM (r.j#>>'{output,outputTokenCount}')::bigint, g.output_token_count IS NOT NULL),
    ('latency_ms', g.latency_ms IS NOT DISTINCT FROM (r.j#>>'{output,outputBodyJson,metrics,latencyMs}')::int, g.latency_ms IS NOT NULL),
    ('stream_latency_ms', g.stream_latency_ms IS NOT DISTINCT FROM
       ((r.j#>'{output,outputBodyJson}')->-1#>>'{amazon-bedrock-invocationMetrics,invocationLatency}')::int, g.stream_latency_ms IS NOT NULL),
    ('schema_type', g.schema_type IS NOT DISTINCT FROM r.j->>'schemaType', g.schema_type IS NOT NULL),
    ('schema_version', g.schema_version IS NOT DISTINCT FROM r.j->>'schemaVersion', g.schema_version IS NOT NULL),
    ('record', g.record IS NOT DISTINCT FROM r.j, g.record IS NOT NULL),
    ('s3_key', g.s3_key LIKE 'logs/AWSLogs/%/BedrockModelInvocationLogs/' || (r.j->>'region') || '/____/__/__/__/%.json.gz', g.s3_key IS NOT NULL),
    ('s3_line', g.s3_line = 1, g.s3_line IS NOT NULL)
  ) AS c(col, ok, present);

-- no column of any record differs from its source
SELECT file, col FROM cmp WHERE ok IS NOT TRUE ORDER BY 1, 2;
-- and the comparison is not vacuous: how many non-null values each column had
SELECT col, count(*) FILTER (WHERE ok) AS equal, count(*) FILTER (WHERE present) AS not_null
  FROM cmp GROUP BY col ORDER BY col;

-- spot checks written out, as a person reads them
SELECT "timestamp", operation, model_id, inference_region, input_token_count,
       cache_write_input_token_count AS cache_write, output_token_count,
       input_body_s3_path IS NOT NULL AS offloaded
  FROM got ORDER BY "timestamp";
SELECT request_id, output_body->'metrics'->>'latencyMs' AS latency_ms,
       jsonb_typeof(output_body) AS body_type,
       output_body->-1->'amazon-bedrock-invocationMetrics'->>'invocationLatency' AS stream_latency
  FROM got ORDER BY "timestamp";
SELECT request_metadata FROM got WHERE request_metadata IS NOT NULL;

-- The latency columns IMPORT makes (those of the Grafana dashboard's latency
-- panels), per operation, against figures taken from the fixture files by
-- Python rather than by PostgreSQL:
--   python3 -c '
--   import json, glob, collections
--   t = collections.defaultdict(lambda: [0, 0, 0, 0])
--   for f in glob.glob("test/fixtures/examples/*.json"):
--       r = json.load(open(f)); b = r["output"].get("outputBodyJson"); s = t[r["operation"]]
--       l = b.get("metrics", {}).get("latencyMs") if isinstance(b, dict) else None
--       e = b[-1] if isinstance(b, list) and b else None
--       m = e.get("amazon-bedrock-invocationMetrics", {}).get("invocationLatency") if isinstance(e, dict) else None
--       s[0] += l is not None; s[1] += l or 0; s[2] += m is not None; s[3] += m or 0
--   for k in sorted(t): print(k, *t[k])'
-- prints (count and sum of latencyMs, then of invocationLatency):
--   Converse 2 5549 0 0
--   ConverseStream 2 1436 0 0
--   InvokeModel 0 0 0 0
--   InvokeModelWithResponseStream 0 0 1 3848
-- Converse records carry metrics.latencyMs (but for the documentation's
-- example); ConverseStream logs hold the assembled answer, an object with
-- metrics.latencyMs, not the stream's events; the one complete
-- InvokeModelWithResponseStream stream ends with the invocation metrics,
-- while the other's body was cut by its source to one string.
CREATE TEMP TABLE latency_expected (operation text, latencies int, latency_sum int,
                                    stream_latencies int, stream_latency_sum int);
INSERT INTO latency_expected VALUES ('Converse', 2, 5549, 0, 0), ('ConverseStream', 2, 1436, 0, 0),
  ('InvokeModel', 0, 0, 0, 0), ('InvokeModelWithResponseStream', 0, 0, 1, 3848);
SELECT g.operation, count(g.latency_ms) AS latencies, sum(g.latency_ms) AS latency_sum,
       count(g.stream_latency_ms) AS stream_latencies, sum(g.stream_latency_ms) AS stream_latency_sum,
       (count(g.latency_ms), coalesce(sum(g.latency_ms), 0),
        count(g.stream_latency_ms), coalesce(sum(g.stream_latency_ms), 0)) =
         (e.latencies, e.latency_sum, e.stream_latencies, e.stream_latency_sum) AS as_computed
  FROM got g JOIN latency_expected e USING (operation)
 GROUP BY g.operation, e.latencies, e.latency_sum, e.stream_latencies, e.stream_latency_sum
 ORDER BY 1;

DROP SCHEMA ex CASCADE;
