--
-- CloudWatch Logs tables (option log_group), against the rig's responder
-- (test/cwlogs/responder.py on 127.0.0.1:45730), which checks every
-- signature and every request body with botocore and counts what it is
-- asked.  Its group bedrock/logs holds the records of the bucket logs, one
-- event per record: a table over each must give the same answers.
--
\set VERBOSITY default
\set ECHO none
\i sql/include/rig_http.sql
\i sql/include/explain.sql
CREATE FUNCTION pg_temp.cw_put(grp text, events jsonb, replace boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('COPY (SELECT %L) TO PROGRAM %L',
                 translate(encode(convert_to(events::text, 'UTF8'), 'base64'), E'\n', ''),
                 format('base64 -d | curl -s -o /dev/null -X POST --data-binary @- ''http://127.0.0.1:45730/__cw/put?group=%s&replace=%s''',
                        grp, CASE WHEN replace THEN '1' ELSE '0' END));
END $$;
-- the responder's counters; read without COPY's text escapes, since the
-- filter patterns it keeps hold backslashes
CREATE FUNCTION pg_temp.cw_stats() RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE j jsonb;
BEGIN
  TRUNCATE rig_raw;
  EXECUTE format('COPY rig_raw FROM PROGRAM %L WITH (FORMAT csv, QUOTE %L, DELIMITER %L)',
                 'curl -s http://127.0.0.1:45730/__cw/stats | tr -d ''\n''', E'\x01', E'\x02');
  SELECT line::jsonb INTO j FROM rig_raw;
  RETURN j;
END $$;
\set ECHO all
SELECT pg_temp.post('http://127.0.0.1:45730/__cw/reset');

CREATE SERVER cw FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712', aws_region 'us-east-1',
           logs_endpoint 'http://127.0.0.1:45730', max_retries '3');
CREATE USER MAPPING FOR CURRENT_USER SERVER cw
  OPTIONS (access_key_id 'AKIABEDLOGMAPKEY0001',
           secret_access_key 'MapSecretMapping4Rf7Tg1Yh5Uj9Ik',
           session_token 'MapTokenMappingZ8x6C4v2B0n8M6q4W2e0');
CREATE SCHEMA cwl;
IMPORT FOREIGN SCHEMA bedrock FROM SERVER cw INTO cwl
  OPTIONS (log_group 'bedrock/logs');
CREATE SCHEMA s3l;
IMPORT FOREIGN SCHEMA bedrock FROM SERVER cw INTO s3l
  OPTIONS (location 's3://logs/bedrock/');

-- the columns: the canonical ones, then log_stream, event_id, ingestion_time
SELECT attname, format_type(atttypid, atttypmod)
FROM pg_attribute WHERE attrelid = 'cwl.model_invocations'::regclass AND attnum > 0
  AND attname NOT IN (SELECT attname FROM pg_attribute
                      WHERE attrelid = 's3l.model_invocations'::regclass)
ORDER BY attnum;
SELECT attname FROM pg_attribute
WHERE attrelid = 's3l.model_invocations'::regclass AND attnum > 0
  AND attname NOT IN (SELECT attname FROM pg_attribute
                      WHERE attrelid = 'cwl.model_invocations'::regclass);

-- options: one of location and log_group, both not at once
CREATE FOREIGN TABLE cw_bad (x int) SERVER cw
  OPTIONS (location 's3://logs/', log_group 'g');
CREATE FOREIGN TABLE cw_bad (x int) SERVER cw OPTIONS (log_group 'bad group!');
-- nor shard, which divides an S3 location's objects
CREATE FOREIGN TABLE cw_bad (x int) SERVER cw OPTIONS (log_group 'g', shard '0/2');
-- logs_endpoint, like endpoint, is a superuser's to set
CREATE ROLE regress_cw_user;
GRANT USAGE ON FOREIGN DATA WRAPPER bedlog_fdw TO regress_cw_user;
SET ROLE regress_cw_user;
CREATE SERVER cw_user FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (logs_endpoint 'http://127.0.0.1:45730');
CREATE SERVER cw_user FOREIGN DATA WRAPPER bedlog_fdw OPTIONS (aws_region 'eu-west-1');
ALTER SERVER cw_user OPTIONS (ADD logs_endpoint 'http://127.0.0.1:45730');
RESET ROLE;
DROP SERVER cw_user;
REVOKE ALL ON FOREIGN DATA WRAPPER bedlog_fdw FROM regress_cw_user;
DROP ROLE regress_cw_user;
-- EXPLAIN alone: the group, what each condition becomes, and the request
EXPLAIN (COSTS OFF)
SELECT count(*) FROM cwl.model_invocations
WHERE timestamp >= '2026-11-01 03:00+00' AND timestamp < '2026-11-01 04:00+00'
  AND model_id = 'm1' AND region LIKE 'us-%';
-- a generic plan: the request is made from the parameters' values
PREPARE cwq(timestamptz, text) AS
  SELECT count(*) FROM cwl.model_invocations WHERE timestamp >= $1 AND model_id = $2;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE cwq('2026-11-01 05:00+00', 'amazon.nova-pro-v1:0');
SELECT * FROM pg_temp.explain_analyze('', $$
EXECUTE cwq('2026-11-01 05:00+00', 'amazon.nova-pro-v1:0')$$);
RESET plan_cache_mode;
DEALLOCATE cwq;

-- the same records: counts and sums equal the S3 table's
CREATE TEMP TABLE agg_s3 AS
SELECT model_id, operation, count(*) AS n, sum(input_token_count) AS tin,
       sum(output_token_count) AS tout, count(error_code) AS errors,
       min(timestamp) AS first, max(timestamp) AS last
FROM s3l.model_invocations GROUP BY 1, 2;
CREATE TEMP TABLE agg_cw AS
SELECT model_id, operation, count(*) AS n, sum(input_token_count) AS tin,
       sum(output_token_count) AS tout, count(error_code) AS errors,
       min(timestamp) AS first, max(timestamp) AS last
FROM cwl.model_invocations GROUP BY 1, 2;
SELECT (SELECT sum(n) FROM agg_s3) AS s3_rows, (SELECT sum(n) FROM agg_cw) AS cw_rows,
       (SELECT count(*) FROM agg_s3) AS groups;
(SELECT * FROM agg_s3 EXCEPT SELECT * FROM agg_cw)
UNION ALL
(SELECT * FROM agg_cw EXCEPT SELECT * FROM agg_s3);
-- the request: no time range, no pattern; every request signed and valid
SELECT j->'signatures_verified' = j->'requests' AS all_signed,
       j->'validation_rejects' AS validation_rejects,
       (j->'last'->-1) - 'operation' AS last_request
FROM pg_temp.cw_stats() j;
-- the virtual columns
SELECT count(DISTINCT event_id) = count(*) AS ids_unique,
       bool_and(log_stream = 'aws/bedrock/modelinvocations') AS one_stream,
       bool_and(ingestion_time = timestamp + interval '1.5 s') AS ingested
FROM cwl.model_invocations;

-- ANALYZE samples objects: a CloudWatch table has none, and is skipped
ANALYZE cwl.model_invocations;

-- pushdown: a time window, equality and IN become the request
SELECT * FROM pg_temp.explain_analyze('', $$
SELECT count(*) FROM cwl.model_invocations
WHERE timestamp >= '2026-11-01 01:00:00+00' AND timestamp < '2026-11-01 02:00:00+00'
  AND operation IN ('Converse', 'InvokeModel')
  AND account_id = '111111111111'$$);
SELECT (j->'last'->-1) - 'operation' AS last_request
FROM pg_temp.cw_stats() j;
SELECT (SELECT count(*) FROM cwl.model_invocations
        WHERE timestamp >= '2026-11-01 01:00:00+00' AND timestamp < '2026-11-01 02:00:00+00'
          AND operation IN ('Converse', 'InvokeModel') AND account_id = '111111111111') AS cw,
       (SELECT count(*) FROM s3l.model_invocations
        WHERE timestamp >= '2026-11-01 01:00:00+00' AND timestamp < '2026-11-01 02:00:00+00'
          AND operation IN ('Converse', 'InvokeModel') AND account_id = '111111111111') AS s3;
SELECT m AS model, (SELECT count(*) FROM cwl.model_invocations WHERE model_id = m) AS cw,
       (SELECT count(*) FROM s3l.model_invocations WHERE model_id = m) AS s3
FROM (SELECT DISTINCT model_id AS m FROM agg_s3 WHERE model_id IS NOT NULL ORDER BY 1 LIMIT 3) s;
SELECT j->'last'->-1->>'filterPattern' AS pattern
FROM pg_temp.cw_stats() j;
-- identity_arn and error_code IS NOT NULL too
SELECT (SELECT count(*) FROM cwl.model_invocations WHERE error_code IS NOT NULL) AS cw_errors,
       (SELECT count(*) FROM s3l.model_invocations WHERE error_code IS NOT NULL) AS s3_errors;
SELECT j->'last'->-1->>'filterPattern' AS pattern FROM pg_temp.cw_stats() j;
SELECT i AS identity, (SELECT count(*) FROM cwl.model_invocations WHERE identity_arn = i) AS cw,
       (SELECT count(*) FROM s3l.model_invocations WHERE identity_arn = i) AS s3
FROM (SELECT DISTINCT identity_arn AS i FROM s3l.model_invocations ORDER BY 1 LIMIT 2) s;
SELECT j->'last'->-1->>'filterPattern' AS pattern FROM pg_temp.cw_stats() j;
SELECT * FROM pg_temp.explain_analyze('', $$
SELECT count(*) FROM cwl.model_invocations
WHERE identity_arn IN ('arn:aws:iam::111111111111:user/alice', 'arn:aws:iam::111111111111:user/bob')
  AND error_code IS NOT NULL AND region = 'us-east-1'$$);
SELECT count(*) FROM s3l.model_invocations
WHERE identity_arn IN ('arn:aws:iam::111111111111:user/alice', 'arn:aws:iam::111111111111:user/bob')
  AND error_code IS NOT NULL AND region = 'us-east-1';
-- a value the pattern syntax does not carry plainly: filtered here only
SELECT count(*) FROM cwl.model_invocations WHERE model_id = 'a"b';
SELECT j->'last'->-1 ? 'filterPattern' AS pushed
FROM pg_temp.cw_stats() j;
-- a condition that matches nothing sends nothing
SELECT pg_temp.post('http://127.0.0.1:45730/__cw/reset');
SELECT count(*) FROM cwl.model_invocations WHERE model_id = NULL;
SELECT count(*) FROM cwl.model_invocations
WHERE timestamp > '2026-11-02' AND timestamp < '2026-11-01';
SELECT j->'requests' AS requests FROM pg_temp.cw_stats() j;

-- the pricing view of the README (sql/pricing.sql) and the rollup example,
-- unchanged, over the CloudWatch table: the same figures as over S3
SET search_path = cwl, public;
\set ECHO none
\i sql/include/cost_view.sql
\set ECHO all
SET search_path = s3l, public;
\set ECHO none
\i sql/include/cost_view.sql
\set ECHO all
RESET search_path;
SELECT (SELECT count(*) FROM cwl.model_invocation_costs) AS cw_rows,
       (SELECT sum(total_cost) FROM cwl.model_invocation_costs) =
       (SELECT sum(total_cost) FROM s3l.model_invocation_costs) AS same_cost,
       (SELECT sum(total_cost) > 0 FROM cwl.model_invocation_costs) AS has_cost;
CREATE SCHEMA rl;
SET search_path = rl, public;
\set ECHO none
SET client_min_messages = warning;
\i examples/rollup.sql
RESET client_min_messages;
\set ECHO all
SELECT rolled_from, rolled_to, hourly_rows > 0 AS has_rows, requests
FROM bedlog_rollup('cwl.model_invocations', up_to => '2026-11-02 00:00+00',
                   since => '2026-11-01 00:00+00');
SELECT count(*) AS hours_differing FROM (
  (SELECT hour, account_id, region, model_id, operation, requests, errors, input_tokens, output_tokens
     FROM bedlog_hourly
   EXCEPT
   SELECT date_trunc('hour', "timestamp", 'UTC'), coalesce(account_id, ''), coalesce(region, ''),
          coalesce(model_id, ''), coalesce(operation, ''), count(*), count(error_code),
          coalesce(sum(input_token_count), 0), coalesce(sum(output_token_count), 0)
     FROM s3l.model_invocations
    WHERE "timestamp" >= '2026-11-01 00:00+00' AND "timestamp" < '2026-11-02 00:00+00'
    GROUP BY 1, 2, 3, 4, 5)
  UNION ALL
  (SELECT date_trunc('hour', "timestamp", 'UTC'), coalesce(account_id, ''), coalesce(region, ''),
          coalesce(model_id, ''), coalesce(operation, ''), count(*), count(error_code),
          coalesce(sum(input_token_count), 0), coalesce(sum(output_token_count), 0)
     FROM s3l.model_invocations
    WHERE "timestamp" >= '2026-11-01 00:00+00' AND "timestamp" < '2026-11-02 00:00+00'
    GROUP BY 1, 2, 3, 4, 5
   EXCEPT
   SELECT hour, account_id, region, model_id, operation, requests, errors, input_tokens, output_tokens
     FROM bedlog_hourly)) d;
RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA rl CASCADE;
RESET client_min_messages;

-- millisecond boundaries: events 1 ms apart around 12:00:00.000
SELECT pg_temp.cw_put('bedrock/ms', (
  SELECT jsonb_agg(jsonb_build_object(
    'timestamp', 1793534400000 + d,
    'message', jsonb_build_object('schemaType', 'ModelInvocationLog', 'schemaVersion', '1.0',
      'timestamp', to_char((timestamptz '2026-11-01 12:00:00+00' + d * interval '1 ms') AT TIME ZONE 'UTC',
                           'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') ,
      'accountId', '111111111111', 'region', 'us-east-1', 'requestId', 'r' || d,
      'operation', 'Converse', 'modelId', 'm1',
      'input', jsonb_build_object('inputTokenCount', 10 + d))::text))
  FROM generate_series(-2, 2) d), true);
CREATE FOREIGN TABLE cw_ms (timestamp timestamptz, request_id text,
  input_token_count bigint, event_id text, ingestion_time timestamptz)
  SERVER cw OPTIONS (log_group 'bedrock/ms');
SELECT pg_temp.post('http://127.0.0.1:45730/__cw/reset');
SELECT request_id FROM cw_ms WHERE timestamp >= '2026-11-01 12:00:00+00' ORDER BY 1;
SELECT request_id FROM cw_ms WHERE timestamp > '2026-11-01 12:00:00+00' ORDER BY 1;
SELECT request_id FROM cw_ms WHERE timestamp <= '2026-11-01 12:00:00+00' ORDER BY 1;
SELECT request_id FROM cw_ms WHERE timestamp < '2026-11-01 12:00:00+00' ORDER BY 1;
SELECT request_id FROM cw_ms
WHERE timestamp BETWEEN '2026-11-01 11:59:59.999+00' AND '2026-11-01 12:00:00.001+00' ORDER BY 1;
SELECT request_id FROM cw_ms WHERE timestamp = '2026-11-01 12:00:00.0005+00';
SELECT x->>'startTime' AS start_time, x->>'endTime' AS end_time
FROM pg_temp.cw_stats() j, jsonb_array_elements(j->'last') x;

-- a late-ingested event: found by its own time, whenever it came in
SELECT pg_temp.cw_put('bedrock/ms', jsonb_build_array(jsonb_build_object(
  'timestamp', 1793534399000, 'ingestionTime', 1793545200000,
  'message', '{"timestamp":"2026-11-01T11:59:59.000Z","requestId":"late","operation":"Converse","modelId":"m1"}')));
SELECT request_id, timestamp, ingestion_time, ingestion_time - timestamp AS lag
FROM cw_ms WHERE timestamp >= '2026-11-01 11:59:59+00' AND timestamp < '2026-11-01 11:59:59.5+00';

-- paging: pages of 7, and an empty page before each, as the service may send
SELECT pg_temp.post('http://127.0.0.1:45730/__cw/reset');
SELECT pg_temp.post('http://127.0.0.1:45730/__cw/config?page_size=7&empty_pages=1');
SELECT count(*) = (SELECT sum(n) FROM agg_s3) AS all_rows FROM cwl.model_invocations;
SELECT (j->>'pages')::int = 2 * ceil((SELECT sum(n) FROM agg_s3) / 7.0) AS pages_of_7,
       j->'validation_rejects' AS validation_rejects
FROM pg_temp.cw_stats() j;

-- throttling and 503s are tried again, with backoff
SELECT pg_temp.post('http://127.0.0.1:45730/__cw/reset');
SELECT pg_temp.post('http://127.0.0.1:45730/__cw/config?page_size=0&empty_pages=0&throttle=2&fail5xx=1');
SELECT * FROM pg_temp.explain_analyze('', $$
SELECT count(*) FROM cw_ms$$);
SELECT j->'throttled' AS throttled, j->'failed5xx' AS failed5xx
FROM pg_temp.cw_stats() j;
-- more than max_retries: the error names the group, and the throttling
SELECT pg_temp.post('http://127.0.0.1:45730/__cw/config?throttle=10');
SELECT count(*) FROM cw_ms;
SELECT pg_temp.post('http://127.0.0.1:45730/__cw/config?throttle=0');

-- a cancel (here statement_timeout) interrupts a request in flight at once
SELECT pg_temp.post('http://127.0.0.1:45730/__cw/config?delay_ms=3000');
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '300ms';
SELECT count(*) FROM cw_ms;
RESET statement_timeout;
SELECT clock_timestamp() - :'t0' < interval '2 s' AS cancelled_at_once;
SELECT pg_temp.post('http://127.0.0.1:45730/__cw/config?delay_ms=0');
SELECT count(*) FROM cw_ms;

-- errors: an unknown group, a wrong secret
CREATE FOREIGN TABLE cw_none (request_id text) SERVER cw OPTIONS (log_group 'no/such/group');
SELECT count(*) FROM cw_none;
CREATE SERVER cw_wrong FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (logs_endpoint 'http://127.0.0.1:45730');
CREATE USER MAPPING FOR CURRENT_USER SERVER cw_wrong
  OPTIONS (access_key_id 'AKIABEDLOGMAPKEY0001',
           secret_access_key 'WrongSecretWrongSecretWrongSecret00',
           session_token 'MapTokenMappingZ8x6C4v2B0n8M6q4W2e0');
CREATE FOREIGN TABLE cw_wrong_t (request_id text) SERVER cw_wrong OPTIONS (log_group 'bedrock/ms');
SELECT count(*) FROM cw_wrong_t;

-- bad JSON in an event: an error naming the event, or skipped under on_error
SELECT pg_temp.cw_put('bedrock/bad', jsonb_build_array(
  jsonb_build_object('timestamp', 1793534400000, 'message', '{"timestamp":"2026-11-01T12:00:00.000Z","requestId":"good1"}'),
  jsonb_build_object('timestamp', 1793534400001, 'message', '{"timestamp":"2026-11-01T12:00:00.001Z","requestId":'),
  jsonb_build_object('timestamp', 1793534400002, 'message', '{"timestamp":"2026-11-01T12:00:00.002Z","requestId":"good2"}')), true);
CREATE FOREIGN TABLE cw_bad_t (request_id text) SERVER cw OPTIONS (log_group 'bedrock/bad');
SELECT request_id FROM cw_bad_t;
ALTER FOREIGN TABLE cw_bad_t OPTIONS (ADD on_error 'skip');
SELECT request_id FROM cw_bad_t ORDER BY 1;

-- large bodies resolve from S3, as for the S3 table: every offloaded body
-- a CloudWatch row reads is there, and the same as the S3 table's
SELECT count(*) FILTER (WHERE c.input_body_s3_path IS NOT NULL) AS inputs_offloaded,
       count(*) FILTER (WHERE c.input_body_s3_path IS NOT NULL AND c.input_body IS NOT NULL
                          AND c.input_body = s.input_body) AS inputs_same,
       count(*) FILTER (WHERE c.output_body_s3_path IS NOT NULL) AS outputs_offloaded,
       count(*) FILTER (WHERE c.output_body_s3_path IS NOT NULL AND c.output_body IS NOT NULL
                          AND c.output_body = s.output_body) AS outputs_same
FROM cwl.model_invocations c JOIN s3l.model_invocations s USING (request_id);

-- the roles of the credentials: the mapping's keys assume a role at the
-- rig's STS, whose keys sign the CloudWatch requests
CREATE SERVER cw_role FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (logs_endpoint 'http://127.0.0.1:45730', sts_endpoint 'http://127.0.0.1:45714');
CREATE USER MAPPING FOR CURRENT_USER SERVER cw_role
  OPTIONS (access_key_id 'AKIABEDLOGMAPKEY0001',
           secret_access_key 'MapSecretMapping4Rf7Tg1Yh5Uj9Ik',
           session_token 'MapTokenMappingZ8x6C4v2B0n8M6q4W2e0',
           role_arn 'arn:aws:iam::222222222222:role/bedlog-log-reader');
CREATE FOREIGN TABLE cw_role_t (request_id text) SERVER cw_role OPTIONS (log_group 'bedrock/ms');
SELECT pg_temp.post('http://127.0.0.1:45714/__sts/reset');
SELECT count(*) FROM cw_role_t;
SELECT (pg_temp.get_json('http://127.0.0.1:45714/__sts/stats')->>'assume_role')::int > 0 AS role_assumed;

-- no secret anywhere: error fields, EXPLAIN, pg_stat_activity and the
-- server log at DEBUG5 with plan dumps (the pattern is assembled at run
-- time, so that no statement text holds a secret)
CREATE FUNCTION pg_temp.secret_re() RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(w || s, '|')
    FROM unnest(ARRAY['Map', 'Sts', 'Wrong']) w, unnest(ARRAY['Secret', 'Token']) s $$;
\set ECHO none
\i sql/include/sweep.sql
\set ECHO all
SELECT pg_temp.sweep_begin();
SELECT pg_temp.sweep('mapping', 'SELECT * FROM cw_ms');
SELECT pg_temp.sweep('wrong secret', 'SELECT * FROM cw_wrong_t');
SELECT count(*) FROM cw_wrong_t;    -- and at top level, so that it is logged
SELECT pg_temp.sweep('role', 'SELECT * FROM cw_role_t');
SELECT pg_temp.post('http://127.0.0.1:45730/__cw/config?throttle=10');
SELECT pg_temp.sweep('throttled', 'SELECT * FROM cw_role_t');
SELECT pg_temp.post('http://127.0.0.1:45730/__cw/config?throttle=0');
SELECT pg_temp.sweep('bad record', 'SELECT * FROM cw_bad_t');
-- the log since the sweep began: the plan dumps, the DEBUG lines and the
-- failures, and no secret
SELECT * FROM pg_temp.sweep_end('InvalidSignatureException');
SELECT what, leaked, looked FROM swept ORDER BY what;
SELECT count(*) AS activity_leaks FROM pg_stat_activity WHERE query ~ pg_temp.secret_re();

SET client_min_messages = warning;
DROP SERVER cw, cw_wrong, cw_role CASCADE;
RESET client_min_messages;
DROP SCHEMA cwl, s3l CASCADE;
