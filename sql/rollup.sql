--
-- Hourly rollups (examples/rollup.sql) over a month of hourly logs
-- (s3://month/m/): each run adds exactly the complete hours it has not
-- added yet, reads only their objects, and pg_cron really runs it.  (The
-- rollups start on 2026-11-02: objindex.sql rewrites objects of the first
-- hour.)
--
SET timezone = 'UTC';
CREATE SCHEMA rt;
-- the example, as a user loads it (pg_cron is not in this database: it
-- says how to schedule from the one that has it), and the S3 proxy's
-- counters: pg_temp.s3_reset(), pg_temp.s3_stats()
\set ECHO none
\i examples/rollup.sql
\i sql/include/s3_proxy.sql
\set ECHO all
-- the generator's truth: every object with its write time, requests per hour
CREATE TABLE rt.manifest AS
  SELECT pg_read_file(current_setting('bedlog_test.fixtures') || '/month.manifest.json')::jsonb AS m;
CREATE TABLE rt.month_objects AS
  SELECT o->>'key' AS key,
         to_timestamp(substring(o->>'key' FROM '(\d{8}T\d{9})Z_[0-9a-f]+\.json\.gz$'),
                      'YYYYMMDD"T"HH24MISSMS') AT TIME ZONE 'UTC' AS written
    FROM rt.manifest, jsonb_array_elements(m -> 'objects') o;
CREATE TABLE rt.manifest_hours AS
  SELECT (h || ':00:00+00')::timestamptz AS hour, n::bigint AS requests
    FROM rt.manifest, jsonb_each_text(m -> 'totals' -> 'by_timestamp_hour') AS e(h, n);
SELECT count(*) AS hours, sum(requests) AS requests FROM rt.manifest_hours;

-- do the rolled-up hours in [lo, hi) hold exactly the manifest's requests?
CREATE FUNCTION rt.check_hours(lo timestamptz, hi timestamptz)
  RETURNS TABLE (hours_in_table bigint, requests bigint, hours_differing bigint)
  LANGUAGE sql AS $$
  WITH got AS (SELECT hour, sum(requests) AS n FROM bedlog_hourly
                WHERE hour >= lo AND hour < hi GROUP BY hour),
       want AS (SELECT hour, requests AS n FROM rt.manifest_hours
                 WHERE hour >= lo AND hour < hi)
  SELECT (SELECT count(*) FROM got), (SELECT sum(n)::bigint FROM got),
         (SELECT count(*) FROM got FULL JOIN want USING (hour)
           WHERE got.n IS DISTINCT FROM want.n)
$$;

-- the objects fetched since the last reset: are they exactly those written
-- in [lo, hi + 1 hour] (the hours, and their delivery delay)?
CREATE FUNCTION rt.fetched(lo timestamptz, hi timestamptz)
  RETURNS TABLE (list_requests int, objects_fetched int, exactly_the_window bool)
  LANGUAGE plpgsql AS $$
DECLARE s jsonb := pg_temp.s3_stats();
BEGIN
  list_requests := coalesce((s->'by_kind'->>'list')::int, 0);
  objects_fetched := coalesce((s->'by_kind'->>'get')::int, 0);
  SELECT NOT EXISTS (SELECT substring(k FROM '^month/(.*)$') FROM jsonb_object_keys(s->'get_keys') k
                     EXCEPT
                     SELECT key FROM rt.month_objects WHERE written BETWEEN lo AND hi + interval '1 hour')
     AND NOT EXISTS (SELECT key FROM rt.month_objects WHERE written BETWEEN lo AND hi + interval '1 hour'
                     EXCEPT
                     SELECT substring(k FROM '^month/(.*)$') FROM jsonb_object_keys(s->'get_keys') k)
    INTO exactly_the_window;
  RETURN NEXT;
END $$;

CREATE SCHEMA logs;
IMPORT FOREIGN SCHEMA bedrock FROM SERVER s3 INTO logs OPTIONS (location 's3://month/m/');

-- the boundary: now() less delivery_delay, truncated to the hour
SELECT bedlog_rollup_boundary('logs.model_invocations')
       = date_trunc('hour', now() - interval '1 hour', 'UTC') AS default_boundary;
ALTER FOREIGN TABLE logs.model_invocations OPTIONS (ADD delivery_delay '3 hours');
SELECT bedlog_rollup_boundary('logs.model_invocations')
       = date_trunc('hour', now() - interval '3 hours', 'UTC') AS boundary_with_delay;
ALTER FOREIGN TABLE logs.model_invocations OPTIONS (DROP delivery_delay);

-- run 1: the first, from 2026-11-02 (since) to 2026-11-10 00:00
SELECT pg_temp.s3_reset();
SELECT * FROM bedlog_rollup('logs.model_invocations', up_to => '2026-11-10 00:00+00',
                            since => '2026-11-02 00:00+00');
SELECT * FROM rt.fetched('2026-11-02 00:00+00', '2026-11-10 00:00+00');
SELECT * FROM rt.check_hours('2026-11-02 00:00+00', '2026-11-10 00:00+00');
SELECT source, done_until FROM bedlog_rollup_watermark;
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'bedlog_hourly'::regclass ORDER BY 1 LIMIT 3;
SELECT count(*) AS day_partitions FROM pg_inherits WHERE inhparent = 'bedlog_hourly'::regclass;

-- run 2, six hours later (up_to is truncated to the hour): exactly the six
-- new hours, and only the objects that can hold them (the accounts and
-- regions run 1 discovered are reused: discovery_ttl)
SELECT pg_temp.s3_reset();
SELECT * FROM bedlog_rollup('logs.model_invocations', up_to => '2026-11-10 06:40+00');
SELECT * FROM rt.fetched('2026-11-10 00:00+00', '2026-11-10 06:00+00');
SELECT * FROM rt.check_hours('2026-11-10 00:00+00', '2026-11-10 06:00+00');
SELECT * FROM rt.check_hours('2026-11-02 00:00+00', '2026-11-10 06:00+00');

-- run 2 again: nothing to add, and not one request
SELECT pg_temp.s3_reset();
SELECT * FROM bedlog_rollup('logs.model_invocations', up_to => '2026-11-10 06:00+00');
SELECT * FROM rt.fetched('2026-11-10 06:00+00', '2026-11-10 05:00+00');
SELECT * FROM rt.check_hours('2026-11-02 00:00+00', '2026-11-10 06:00+00');

-- the same aggregate, as a query: its time condition is pushed down
EXPLAIN (COSTS OFF)
  SELECT date_trunc('hour', "timestamp", 'UTC'), model_id, count(*)
    FROM logs.model_invocations
   WHERE "timestamp" >= '2026-11-10 00:00+00' AND "timestamp" < '2026-11-10 06:00+00'
   GROUP BY 1, 2;

-- two runs that overlap: the second waits for the first's watermark,
-- then finds nothing left to do
SET client_min_messages = warning;	-- dblink may be there already
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
SELECT dblink_connect('other', format('host=%s port=%s dbname=%s',
                                      current_setting('unix_socket_directories'),
                                      current_setting('port'), current_database()));
BEGIN;
SELECT rolled_from, rolled_to, requests
  FROM bedlog_rollup('logs.model_invocations', up_to => '2026-11-10 08:00+00');
SELECT dblink_send_query('other',
  $$SELECT * FROM bedlog_rollup('logs.model_invocations', up_to => '2026-11-10 08:00+00')$$);
DO $$
BEGIN
  FOR i IN 1..200 LOOP
    PERFORM pg_stat_clear_snapshot();	-- else the first look stays for the transaction
    EXIT WHEN EXISTS (SELECT 1 FROM pg_stat_activity
                       WHERE wait_event_type = 'Lock' AND query LIKE '%bedlog_rollup(%'
                         AND pid <> pg_backend_pid());
    PERFORM pg_sleep(0.05);
  END LOOP;
END $$;
SELECT count(*) AS runs_waiting FROM pg_stat_activity
 WHERE wait_event_type = 'Lock' AND query LIKE '%bedlog_rollup(%' AND pid <> pg_backend_pid();
COMMIT;
SELECT * FROM dblink_get_result('other')
  AS t(rolled_from timestamptz, rolled_to timestamptz, hourly_rows bigint, requests bigint);
SELECT dblink_disconnect('other');
SELECT * FROM rt.check_hours('2026-11-02 00:00+00', '2026-11-10 08:00+00');

-- pg_cron runs it: a job in this database, from the database pg_cron
-- lives in (cron.database_name); it runs at the next minute
SELECT current_database() AS regdb \gset
\c postgres
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT cron.schedule_in_database('bedlog-rollup-test', '* * * * *',
  $$SELECT * FROM bedlog_rollup('logs.model_invocations', up_to => '2026-11-10 09:00+00')$$,
  :'regdb') AS jobid \gset
SELECT jobname, schedule, command, database = :'regdb' AS in_regdb, active
  FROM cron.job WHERE jobid = :jobid;
SELECT set_config('bedlog_test.jobid', :'jobid', false) IS NOT NULL AS noted;
DO $$
BEGIN
  FOR i IN 1..150 LOOP
    EXIT WHEN EXISTS (SELECT 1 FROM cron.job_run_details
                       WHERE jobid = current_setting('bedlog_test.jobid')::bigint
                         AND status IN ('succeeded', 'failed'));
    PERFORM pg_sleep(0.5);
  END LOOP;
END $$;
SELECT status, return_message FROM cron.job_run_details WHERE jobid = :jobid;
SELECT cron.unschedule('bedlog-rollup-test');
\c :regdb
SET timezone = 'UTC';
-- the scheduled run added the hours up to 09:00
SELECT source, done_until FROM bedlog_rollup_watermark;

-- and everything rolled up equals the same aggregate read in full, row
-- for row (tokens included)
SET bedlog_fdw.enable_pushdown = off;
CREATE TEMP TABLE direct AS
  SELECT date_trunc('hour', "timestamp", 'UTC') AS hour, account_id, region, model_id, operation,
         count(*) AS requests, count(error_code) AS errors,
         coalesce(sum(input_token_count), 0) AS input_tokens,
         coalesce(sum(output_token_count), 0) AS output_tokens,
         coalesce(sum(cache_read_input_token_count), 0) AS cache_read_tokens,
         coalesce(sum(cache_write_input_token_count), 0) AS cache_write_tokens
    FROM logs.model_invocations
   WHERE "timestamp" >= '2026-11-02 00:00+00' AND "timestamp" < '2026-11-10 09:00+00'
   GROUP BY 1, 2, 3, 4, 5;
RESET bedlog_fdw.enable_pushdown;
SELECT (SELECT count(*) FROM direct) AS direct_rows,
       (SELECT count(*) FROM bedlog_hourly) AS hourly_rows,
       (SELECT count(*) FROM (SELECT * FROM direct EXCEPT SELECT * FROM bedlog_hourly) d) AS missing,
       (SELECT count(*) FROM (SELECT * FROM bedlog_hourly EXCEPT SELECT * FROM direct) d) AS extra;
SELECT * FROM rt.check_hours('2026-11-02 00:00+00', '2026-11-10 09:00+00');
SELECT count(*) AS hours_outside FROM bedlog_hourly
 WHERE hour < '2026-11-02 00:00+00' OR hour >= '2026-11-10 09:00+00';
SELECT sum(requests) = (SELECT sum(requests) FROM rt.manifest_hours
                         WHERE hour >= '2026-11-02 00:00+00' AND hour < '2026-11-10 09:00+00')
       AS all_requests FROM bedlog_hourly;

DROP TABLE bedlog_hourly, bedlog_rollup_watermark;
DROP FUNCTION bedlog_rollup, bedlog_rollup_boundary;
DROP SCHEMA logs CASCADE;
DROP SCHEMA rt CASCADE;
