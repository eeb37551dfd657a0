--
-- Bounded memory: one object of 200 MB of JSON (30 MB of gzip) is
-- streamed, never held whole.  The backend's peak resident size (VmHWM)
-- may grow by buffers and one record, not by the object.
--
CREATE FUNCTION pg_temp.peak_kb() RETURNS bigint LANGUAGE sql AS $$
  SELECT substring(pg_read_file('/proc/' || pg_backend_pid() || '/status')
                   FROM 'VmHWM:\s+(\d+)')::bigint $$;
CREATE FOREIGN TABLE big (model_id text, input_token_count bigint, output_body jsonb, s3_key text)
  SERVER s3 OPTIONS (location 's3://big/');
-- warm up: libraries loaded, first buffers allocated
SELECT count(*) > 0 AS warm FROM (SELECT * FROM big LIMIT 100) s;
SELECT pg_temp.peak_kb() AS peak0 \gset
SELECT count(*) AS records, count(DISTINCT s3_key) AS objects,
       sum(input_token_count) AS input_tokens, count(output_body) AS output_bodies,
       count(*) = (m #>> '{totals,records}')::bigint AS records_as_manifest,
       sum(input_token_count) = (m #>> '{totals,input_tokens}')::bigint AS tokens_as_manifest,
       (m #>> '{totals,json_bytes}')::bigint / (1024 * 1024) AS json_mb
  FROM big,
       (SELECT pg_read_file(current_setting('bedlog_test.fixtures') || '/big.manifest.json')::jsonb AS m) mf
 GROUP BY m;
SELECT pg_temp.peak_kb() - :peak0 < 64 * 1024 AS peak_grew_under_64mb;
DROP FOREIGN TABLE big;
