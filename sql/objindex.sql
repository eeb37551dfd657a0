--
-- The object index: bedlog_index_refresh records what each object holds;
-- scans then skip objects that cannot match on model, operation or time.
-- Fixture: s3://month/m/ (a month of hourly logs).
--
SET timezone = 'UTC';
-- the S3 proxy's counters: pg_temp.s3_reset(), pg_temp.s3_stats()
\set ECHO none
\i sql/include/s3_proxy.sql
\i sql/include/explain.sql
\set ECHO all
CREATE FUNCTION pg_temp.fetched_keys() RETURNS SETOF text LANGUAGE sql AS $$
  SELECT substring(k FROM '^month/(.*)$')
    FROM jsonb_object_keys(pg_temp.s3_stats() -> 'get_keys') k $$;

CREATE FOREIGN TABLE month_ix (
  "timestamp" timestamptz, model_id text, operation text, input_token_count bigint, s3_key text
) SERVER s3 OPTIONS (location 's3://month/m/');

-- the truth, from a full scan: which objects hold records of a rare model
SET bedlog_fdw.enable_pushdown = off;
CREATE TEMP TABLE holds_nova_pro AS
  SELECT DISTINCT s3_key FROM month_ix WHERE model_id = 'amazon.nova-pro-v1:0';
CREATE TEMP TABLE truth AS
  SELECT count(*) AS n, sum(input_token_count) AS tokens FROM month_ix WHERE model_id = 'amazon.nova-pro-v1:0';
RESET bedlog_fdw.enable_pushdown;
SELECT (SELECT count(*) FROM holds_nova_pro) AS objects_with_the_model, n, tokens FROM truth;

-- before the index exists, a model condition reads every object
SELECT pg_temp.s3_reset();
SELECT count(*) AS n FROM month_ix WHERE model_id = 'amazon.nova-pro-v1:0';
SELECT count(*) AS objects_fetched FROM pg_temp.fetched_keys();

-- build it: every object is read once; a second refresh reads nothing
SELECT bedlog_index_refresh('month_ix') AS objects_read;
SELECT bedlog_index_refresh('month_ix') AS objects_read_again;
SELECT count(*) AS entries, sum(records) AS records,
       (pg_read_file(current_setting('bedlog_test.fixtures') || '/month.manifest.json')::jsonb
         #>> '{totals,records}')::bigint AS manifest_records,
       min(min_timestamp), max(max_timestamp)
  FROM bedlog_object_index WHERE ftrelid = 'month_ix'::regclass;

-- with the index, WHERE model_id = 'x' over the month fetches only the
-- objects that contain x, and the answer is the same
SELECT pg_temp.s3_reset();
SELECT count(*) AS n, sum(input_token_count) AS tokens FROM month_ix WHERE model_id = 'amazon.nova-pro-v1:0';
SELECT (SELECT count(*) FROM pg_temp.fetched_keys()) AS objects_fetched,
       NOT EXISTS (SELECT * FROM pg_temp.fetched_keys() EXCEPT SELECT s3_key FROM holds_nova_pro)
       AND NOT EXISTS (SELECT s3_key FROM holds_nova_pro EXCEPT SELECT * FROM pg_temp.fetched_keys())
         AS exactly_those_objects;
SELECT * FROM pg_temp.explain_analyze('', $$
  SELECT count(*) FROM month_ix WHERE model_id = 'amazon.nova-pro-v1:0'$$);
-- and with an operation and a time range too
SELECT pg_temp.s3_reset();
SELECT count(*) AS n FROM month_ix
 WHERE model_id LIKE 'amazon.%' AND operation = 'Converse' AND "timestamp" >= '2026-11-20';
SELECT count(*) AS objects_fetched FROM pg_temp.fetched_keys();
SET bedlog_fdw.enable_pushdown = off;
SELECT count(*) AS n_without_pushdown FROM month_ix
 WHERE model_id LIKE 'amazon.%' AND operation = 'Converse' AND "timestamp" >= '2026-11-20';
RESET bedlog_fdw.enable_pushdown;

-- an object that changes is read again; one that is gone leaves the index
CREATE TEMP TABLE two AS
  SELECT key FROM bedlog_object_index WHERE ftrelid = 'month_ix'::regclass ORDER BY key LIMIT 2;
DO $$
DECLARE k1 text; k2 text;
BEGIN
  SELECT min(key), max(key) INTO k1, k2 FROM two;
  -- rewrite the first with the bytes of the second (another ETag), then
  -- delete the second: signed requests through the test endpoint, which
  -- any S3 server behind it accepts (the radosgw stage too)
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L',
    format('cat >/dev/null; /usr/bin/python3 -c ''import sys, botocore.session, botocore.config as bc; '
           'c = botocore.session.get_session().create_client("s3", region_name="us-east-1", '
           'endpoint_url="http://127.0.0.1:45712", aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER", '
           'config=bc.Config(s3={"addressing_style": "path"})); '
           'b = c.get_object(Bucket="month", Key=sys.argv[2])["Body"].read(); '
           'c.put_object(Bucket="month", Key=sys.argv[1], Body=b, ContentType="application/gzip"); '
           'c.delete_object(Bucket="month", Key=sys.argv[2])'' %s %s >/dev/null', k1, k2));
END $$;
SELECT bedlog_index_refresh('month_ix') AS objects_read_after_change;
SELECT count(*) AS entries FROM bedlog_object_index WHERE ftrelid = 'month_ix'::regclass;
SELECT count(*) AS gone_entry_left FROM bedlog_object_index
 WHERE ftrelid = 'month_ix'::regclass AND key = (SELECT max(key) FROM two);

-- who may do what: refreshing needs SELECT on the table; the index table
-- itself is the extension's
SELECT bedlog_index_refresh('pg_class');
CREATE ROLE regress_ix_user;
SET ROLE regress_ix_user;
SELECT bedlog_index_refresh('month_ix');
SELECT count(*) FROM bedlog_object_index;
RESET ROLE;
DROP ROLE regress_ix_user;
DROP FOREIGN TABLE month_ix;
