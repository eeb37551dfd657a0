--
-- ANALYZE: rows sampled from objects spread over the whole location, a
-- total extrapolated from sizes, and statistics the planner then uses.
-- Fixture: s3://month/m/, a month of hourly logs (1,440 objects, 2,850
-- records; the generator's manifest has the truth).
--
SET timezone = 'UTC';
CREATE SCHEMA an;
-- the S3 proxy's counters: pg_temp.s3_reset(), pg_temp.s3_stats()
\set ECHO none
\i sql/include/s3_proxy.sql
\set ECHO all
-- the objects fetched since the last reset: how many, from how many days
CREATE FUNCTION an.fetched_days(OUT objects int, OUT days int, OUT first_day text, OUT last_day text)
  LANGUAGE sql AS $$
  WITH s AS (SELECT pg_temp.s3_stats() AS j),
       k AS (SELECT substring(k FROM '/(\d{4}/\d{2}/\d{2})/\d{2}/') AS day
               FROM s, jsonb_object_keys(s.j->'get_keys') k)
  SELECT (SELECT (j->'by_kind'->>'get')::int FROM s), (SELECT count(DISTINCT day)::int FROM k),
         (SELECT min(day) FROM k), (SELECT max(day) FROM k)
$$;
-- ANALYZE, and what bedlog_fdw's sampler says of it (the line ANALYZE
-- VERBOSE shows, at DEBUG2 without VERBOSE), read back from the server log:
-- the INFO lines PostgreSQL's own ANALYZE VERBOSE prints around it differ
-- between majors
CREATE FUNCTION pg_temp.analyze_report(rel text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  log_at bigint := (pg_stat_file(current_setting('bedlog_test.server_log'))).size;
  msg text;
BEGIN
  SET LOCAL log_min_messages = debug2;
  EXECUTE 'ANALYZE ' || rel;
  SELECT substring(l FROM 'DEBUG:  (.*)$') INTO msg
    FROM regexp_split_to_table(
           pg_read_file(current_setting('bedlog_test.server_log'), log_at,
                        (pg_stat_file(current_setting('bedlog_test.server_log'))).size - log_at),
           E'\n') AS l
   WHERE l ~ ('\[' || pg_backend_pid() || '\] DEBUG:  .* S3 objects \(')
   LIMIT 1;
  RETURN msg;
END $$;
-- the planner's row estimate for a query
CREATE FUNCTION an.plan_rows(q text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE p json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO p;
  RETURN (p->0->'Plan'->>'Plan Rows')::numeric;
END $$;
CREATE TABLE an.truth AS
  SELECT pg_read_file(current_setting('bedlog_test.fixtures') || '/month.manifest.json')::jsonb
         -> 'totals' AS t;
SELECT (t->>'records')::int AS records,
       (SELECT count(*) FROM jsonb_object_keys(t->'by_model')) AS models
  FROM an.truth;

IMPORT FOREIGN SCHEMA bedrock FROM SERVER s3 INTO an OPTIONS (location 's3://month/m/');

-- never analyzed: the planner assumes 100,000 rows
SELECT relpages FROM pg_class WHERE oid = 'an.model_invocations'::regclass;
SELECT an.plan_rows('SELECT * FROM an.model_invocations') AS estimate_before;

-- statistics target 10: 3,000 sample rows wanted, one object per 100, so
-- 30 objects, spread over the month: one from each day, not the first 30
SET default_statistics_target = 10;
SELECT pg_temp.s3_reset();
SELECT pg_temp.analyze_report('an.model_invocations');
SELECT * FROM an.fetched_days();
SELECT relpages, reltuples, reltuples BETWEEN 2850 * 0.8 AND 2850 * 1.25 AS near_the_truth
  FROM pg_class WHERE oid = 'an.model_invocations'::regclass;

-- the default target: 300 objects of 1,440
RESET default_statistics_target;
SELECT pg_temp.s3_reset();
SELECT pg_temp.analyze_report('an.model_invocations');
SELECT * FROM an.fetched_days();
SELECT reltuples BETWEEN 2850 * 0.9 AND 2850 * 1.1 AS near_the_truth
  FROM pg_class WHERE oid = 'an.model_invocations'::regclass;

-- pg_stats: distinct values, most common values, and the share of errors (4.5% of records)
SELECT attname, n_distinct, array_length(most_common_vals::text::text[], 1) AS mcvs
  FROM pg_stats WHERE schemaname = 'an' AND tablename = 'model_invocations'
   AND attname IN ('operation', 'account_id', 'region', 'request_id')
 ORDER BY attname;
SELECT 1 - null_frac BETWEEN 0.01 AND 0.2 AS some_errors, n_distinct >= 3 AS error_codes
  FROM pg_stats WHERE schemaname = 'an' AND tablename = 'model_invocations' AND attname = 'error_code';
-- most of the 113 model ids (a few are rare), a dozen or more common ones
SELECT n_distinct BETWEEN 80 AND 113 AS models_sampled,
       array_length(most_common_vals::text::text[], 1) >= 10 AS common_models
  FROM pg_stats WHERE schemaname = 'an' AND tablename = 'model_invocations' AND attname = 'model_id';
-- the most common operations, in the order of their true counts
SELECT most_common_vals::text::text[] AS operations_by_sample,
       (SELECT array_agg(key ORDER BY value::int DESC) FROM jsonb_each_text(t->'by_operation'))
         AS operations_by_truth
  FROM pg_stats, an.truth
 WHERE schemaname = 'an' AND tablename = 'model_invocations' AND attname = 'operation';
-- the timestamp histogram covers the month
SELECT (histogram_bounds::text::timestamptz[])[1] < '2026-11-02' AS starts_early,
       (histogram_bounds::text::timestamptz[])[array_length(histogram_bounds::text::text[], 1)]
         > '2026-11-29' AS ends_late
  FROM pg_stats WHERE schemaname = 'an' AND tablename = 'model_invocations' AND attname = 'timestamp';

-- the planner uses them: a table-wide estimate near 2,850, one day near
-- 95, one model near its share
SELECT an.plan_rows('SELECT * FROM an.model_invocations') BETWEEN 2850 * 0.9 AND 2850 * 1.1 AS whole,
       an.plan_rows($$SELECT * FROM an.model_invocations
                      WHERE "timestamp" >= '2026-11-15' AND "timestamp" < '2026-11-16'$$)
         BETWEEN 50 AND 190 AS one_day,
       an.plan_rows($$SELECT * FROM an.model_invocations
                      WHERE model_id = 'anthropic.claude-3-5-sonnet-20240620-v1:0'$$)
         BETWEEN 80 AND 400 AS one_model;

-- a location with bad data: ANALYZE fails naming the object and line,
-- or under on_error 'skip' passes over it with one WARNING
CREATE FOREIGN TABLE an.bad_json ("timestamp" timestamptz, model_id text)
  SERVER s3 OPTIONS (location 's3://bad/bad-json/');
\set VERBOSITY default
ANALYZE an.bad_json;
ALTER FOREIGN TABLE an.bad_json OPTIONS (ADD on_error 'skip');
ANALYZE an.bad_json;
SELECT reltuples FROM pg_class WHERE oid = 'an.bad_json'::regclass;

-- an empty location: no rows, and no failure
CREATE FOREIGN TABLE an.empty (model_id text) SERVER s3 OPTIONS (location 's3://empty/');
SELECT pg_temp.analyze_report('an.empty');
SELECT relpages, reltuples FROM pg_class WHERE oid = 'an.empty'::regclass;
SELECT an.plan_rows('SELECT * FROM an.empty') AS estimate_empty;

DROP SCHEMA an CASCADE;
