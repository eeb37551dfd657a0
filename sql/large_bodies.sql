--
-- Large bodies: a body Bedrock offloaded to a large-data object
-- (input.inputBodyS3Path, output.outputBodyS3Path) is fetched when a query
-- reads it, and only then.  Fixture: bucket bodies (tools/genlogs.py); its
-- manifest holds the JSON of every large body, the reference here, and the
-- proxy in front of s3rver counts the GETs of large-data objects.
--
\set VERBOSITY default
-- the S3 proxy's counters: pg_temp.s3_reset(), pg_temp.s3_stats()
\set ECHO none
\i sql/include/s3_proxy.sql
\i sql/include/explain.sql
\set ECHO all
-- GETs of large-data objects (keys in a data/ folder) since the last reset,
-- by kind of body
CREATE FUNCTION pg_temp.body_gets(OUT inputs bigint, OUT outputs bigint) LANGUAGE sql AS $$
  SELECT coalesce(sum(value::bigint) FILTER (WHERE key LIKE '%/data/%\_input.json.gz'), 0),
         coalesce(sum(value::bigint) FILTER (WHERE key LIKE '%/data/%\_output.json.gz'), 0)
    FROM jsonb_each_text(pg_temp.s3_stats() -> 'get_keys') $$;
-- the EXPLAIN ANALYZE lines about rows and large bodies
CREATE FUNCTION pg_temp.explain_bodies(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN SELECT * FROM pg_temp.explain_analyze('', q) LOOP
    IF l ~ 'Foreign Scan|Large Bodies' THEN RETURN NEXT l; END IF;
  END LOOP;
END $$;

CREATE TEMP TABLE ref AS
  SELECT r->>'location' AS location, r->>'requestId' AS request_id, r->>'kind' AS kind,
         r->>'mode' AS mode, r->>'uri' AS uri, (r->>'line')::int AS line, r->'body' AS body
    FROM jsonb_array_elements(pg_read_file(current_setting('bedlog_test.fixtures')
                                           || '/fixtures.manifest.json')::jsonb
                              #> '{buckets,bodies,large_bodies}') r;
SELECT location, kind, mode, count(*) FROM ref GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;

CREATE SCHEMA lb;
IMPORT FOREIGN SCHEMA bedrock FROM SERVER s3 INTO lb OPTIONS (location 's3://bodies/good/');

-- the bodies of every row: each offloaded one is fetched once, and equals
-- the JSON of its large-data object (gzipped, plain over several lines, in
-- another bucket, an object or an array of stream events)
SELECT pg_temp.s3_reset();
CREATE TEMP TABLE got AS
  SELECT request_id, s3_line, operation, input_body, input_body_s3_path, output_body,
         output_body_s3_path
    FROM lb.model_invocations;
SELECT * FROM pg_temp.body_gets();
SELECT count(*) AS rows, count(input_body) AS input_bodies,
       count(input_body_s3_path) AS offloaded_inputs, count(output_body) AS output_bodies,
       count(output_body_s3_path) AS offloaded_outputs
  FROM got;
SELECT r.kind, r.mode, count(*) AS bodies,
       count(*) FILTER (WHERE CASE r.kind WHEN 'input' THEN g.input_body ELSE g.output_body END
                              = r.body) AS equal,
       count(*) FILTER (WHERE CASE r.kind WHEN 'input' THEN g.input_body_s3_path
                                          ELSE g.output_body_s3_path END = r.uri) AS uri_kept,
       min(jsonb_typeof(r.body)) AS json_type
  FROM ref r JOIN got g ON g.request_id = r.request_id
 WHERE r.location = 'good'
 GROUP BY 1, 2 ORDER BY 1, 2;
-- the bodies that were not offloaded still come from the record
SELECT count(*) FILTER (WHERE input_body_s3_path IS NULL AND input_body IS NOT NULL) AS inline_inputs,
       count(*) FILTER (WHERE output_body_s3_path IS NULL AND output_body IS NOT NULL) AS inline_outputs,
       count(*) FILTER (WHERE input_body IS NULL OR output_body IS NULL) AS rows_without_a_body
  FROM got;
-- the offloaded inputs are large, as Bedrock's are (about 100 KB and more)
SELECT min(octet_length(input_body::text)) > 90000 AS over_90kb
  FROM got WHERE input_body_s3_path IS NOT NULL;

-- a record the pushed-down filter rejects is dropped as it is read ahead:
-- the rows kept are those of the full read, with the same bodies, and
-- only their large bodies are fetched
SELECT pg_temp.s3_reset();
CREATE TEMP TABLE got_converse AS
  SELECT request_id, s3_line, input_body, output_body
    FROM lb.model_invocations WHERE operation = 'Converse';
SELECT count(*) AS converse_rows,
       count(*) = (SELECT count(*) FROM got WHERE operation = 'Converse') AS as_many_as_full_read,
       count(*) FILTER (WHERE c.input_body IS NOT DISTINCT FROM g.input_body AND
                              c.output_body IS NOT DISTINCT FROM g.output_body) AS same_bodies
  FROM got_converse c JOIN got g USING (request_id, s3_line);
SELECT b.inputs = (SELECT count(input_body_s3_path) FROM got WHERE operation = 'Converse') AS input_gets_as_expected,
       b.outputs = (SELECT count(output_body_s3_path) FROM got WHERE operation = 'Converse') AS output_gets_as_expected
  FROM pg_temp.body_gets() b;

-- not reading a body column fetches no large body
SELECT pg_temp.s3_reset();
SELECT count(*) AS rows, count(input_body_s3_path) AS offloaded_inputs,
       count(output_body_s3_path) AS offloaded_outputs
  FROM lb.model_invocations;
SELECT * FROM pg_temp.body_gets();
-- reading one body fetches that kind only
SELECT pg_temp.s3_reset();
SELECT count(input_body) AS input_bodies FROM lb.model_invocations;
SELECT * FROM pg_temp.body_gets();
-- a LIMIT leaves rows read ahead, and their GETs, behind
SELECT count(*) FROM (SELECT input_body FROM lb.model_invocations LIMIT 3) s;
-- and so does a rescan, each time over
SELECT g, (SELECT count(input_body) FROM (SELECT input_body FROM lb.model_invocations
                                            WHERE g > 0 LIMIT 5) s) AS first_five,
       (SELECT count(output_body) FROM lb.model_invocations WHERE g > 0) AS output_bodies
  FROM generate_series(1, 3) g;

-- paths inside a body read the large body too
CREATE FOREIGN TABLE lb.paths (
  request_id text,
  role text OPTIONS (json_path 'input.inputBodyJson.messages[0].role'),
  latency_ms int OPTIONS (json_path 'output.outputBodyJson.metrics.latencyMs'),
  stream_ms int OPTIONS (json_path 'output.outputBodyJson[-1].amazon-bedrock-invocationMetrics.invocationLatency'),
  output_text text OPTIONS (json_path 'output.outputBodyJson'),
  output_body_s3_path text
) SERVER s3 OPTIONS (location 's3://bodies/good/');
SELECT count(*) AS input_bodies,
       count(*) FILTER (WHERE p.role = r.body #>> '{messages,0,role}') AS role_equal
  FROM ref r JOIN lb.paths p ON p.request_id = r.request_id
 WHERE r.location = 'good' AND r.kind = 'input' AND r.body ? 'messages';
SELECT count(*) AS output_bodies,
       count(p.latency_ms) AS latencies,
       count(*) FILTER (WHERE p.latency_ms = (r.body #>> '{metrics,latencyMs}')::int) AS latency_equal,
       count(p.stream_ms) AS stream_latencies,
       count(*) FILTER (WHERE p.stream_ms =
                        (r.body -> -1 #>> '{amazon-bedrock-invocationMetrics,invocationLatency}')::int) AS stream_equal,
       count(*) FILTER (WHERE p.output_text::jsonb = r.body) AS output_text_equal
  FROM ref r JOIN lb.paths p ON p.request_id = r.request_id
 WHERE r.location = 'good' AND r.kind = 'output';

-- EXPLAIN ANALYZE counts them
SELECT * FROM pg_temp.explain_bodies('SELECT count(output_body) FROM lb.model_invocations');
SELECT * FROM pg_temp.explain_bodies('SELECT count(*) FROM lb.model_invocations');

-- resolve_large_bodies 'false': no large body is fetched; the body is NULL
-- and the path column says where it is
ALTER FOREIGN TABLE lb.model_invocations OPTIONS (ADD resolve_large_bodies 'false');
SELECT pg_temp.s3_reset();
SELECT count(*) AS rows,
       count(*) FILTER (WHERE input_body_s3_path IS NOT NULL AND input_body IS NULL) AS offloaded_inputs_null,
       count(*) FILTER (WHERE output_body_s3_path IS NOT NULL AND output_body IS NULL) AS offloaded_outputs_null,
       count(input_body) AS input_bodies, count(output_body) AS output_bodies
  FROM lb.model_invocations;
SELECT * FROM pg_temp.body_gets();
ALTER FOREIGN TABLE lb.model_invocations OPTIONS (SET resolve_large_bodies 'maybe');
ALTER FOREIGN TABLE lb.model_invocations OPTIONS (SET resolve_large_bodies 'on');
SELECT count(input_body) AS input_bodies FROM lb.model_invocations;
ALTER SERVER s3 OPTIONS (ADD resolve_large_bodies 'false');

-- a large-data object that is gone, or in a bucket that is gone: NULL, and
-- one WARNING at the end with the count and the first URIs
CREATE FOREIGN TABLE lb.missing (
  s3_line bigint, input_body jsonb, input_body_s3_path text,
  output_body jsonb, output_body_s3_path text
) SERVER s3 OPTIONS (location 's3://bodies/missing/');
SELECT s3_line, input_body IS NOT NULL AS input_body, input_body_s3_path IS NOT NULL AS input_offloaded,
       output_body IS NOT NULL AS output_body, output_body_s3_path IS NOT NULL AS output_offloaded
  FROM lb.missing ORDER BY s3_line;
SELECT * FROM pg_temp.explain_bodies('SELECT * FROM lb.missing');

-- a corrupt large-data object is an error naming it, and the log line
CREATE FOREIGN TABLE lb.corrupt (
  s3_line bigint, input_body jsonb, output_body jsonb
) SERVER s3 OPTIONS (location 's3://bodies/corrupt/');
SELECT count(*) AS rows_without_bodies FROM lb.corrupt;
SELECT s3_line, input_body IS NOT NULL AS input_body FROM lb.corrupt;
SELECT s3_line, output_body IS NOT NULL AS output_body FROM lb.corrupt;
-- under on_error 'skip' the rows are skipped and counted
ALTER FOREIGN TABLE lb.corrupt OPTIONS (ADD on_error 'skip');
SELECT s3_line, input_body IS NOT NULL AS input_body, output_body IS NOT NULL AS output_body
  FROM lb.corrupt;

DROP SCHEMA lb CASCADE;
