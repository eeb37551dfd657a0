--
-- Predicate pushdown: what a query lists and fetches, counted by the S3
-- side (the proxy in front of s3rver counts every request it receives).
-- Fixture: s3://month/m/, a month of hourly logs (2 files an hour, some
-- records delivered late into the next hour's folder), and the generator's
-- manifest of every object.
--
SET timezone = 'UTC';
-- the S3 proxy's counters: pg_temp.s3_reset(), pg_temp.s3_stats()
\set ECHO none
\i sql/include/s3_proxy.sql
\i sql/include/explain.sql
\set ECHO all
-- the write time in a Bedrock file name
CREATE FUNCTION pg_temp.write_time(key text) RETURNS timestamptz LANGUAGE sql AS $$
  SELECT to_timestamp(substring(key FROM '(\d{8}T\d{9})Z_[0-9a-f]+\.json\.gz$'),
                      'YYYYMMDD"T"HH24MISSMS') AT TIME ZONE 'UTC' $$;
CREATE TEMP TABLE month_objects AS
  SELECT o->>'key' AS key, pg_temp.write_time(o->>'key') AS written
    FROM jsonb_array_elements(pg_read_file(current_setting('bedlog_test.fixtures')
                                           || '/month.manifest.json')::jsonb -> 'objects') o;
SELECT count(*) AS objects, min(written), max(written) FROM month_objects;

-- discovery_ttl '0': every query lists its own discoveries, so that the
-- counts below are what each query alone needs (discovery.sql tests
-- their reuse)
CREATE FOREIGN TABLE month (
  "timestamp" timestamptz, account_id text, region text, model_id text,
  operation text, input_token_count bigint, request_id text, s3_key text
) SERVER s3 OPTIONS (location 's3://month/m/', discovery_ttl '0');

-- run a query, and tell what S3 saw: list requests, fetched objects, and
-- whether the fetched objects are exactly those written in [lo, hi + 1 hour]
CREATE FUNCTION pg_temp.probe(q text, lo timestamptz, hi timestamptz)
  RETURNS TABLE (result text, list_requests int, objects_fetched int, exactly_the_window bool)
  LANGUAGE plpgsql AS $$
DECLARE s jsonb;
BEGIN
  PERFORM pg_temp.s3_reset();
  EXECUTE q INTO result;
  s := pg_temp.s3_stats();
  list_requests := (s->'by_kind'->>'list')::int;
  objects_fetched := (s->'by_kind'->>'get')::int;
  SELECT NOT EXISTS (SELECT substring(k FROM '^month/(.*)$') FROM jsonb_object_keys(s->'get_keys') k
                     EXCEPT
                     SELECT key FROM month_objects WHERE written BETWEEN lo AND hi + interval '1 hour')
     AND NOT EXISTS (SELECT key FROM month_objects WHERE written BETWEEN lo AND hi + interval '1 hour'
                     EXCEPT
                     SELECT substring(k FROM '^month/(.*)$') FROM jsonb_object_keys(s->'get_keys') k)
    INTO exactly_the_window;
  RETURN NEXT;
END $$;

-- the truth, without pushdown: every object is read
SET bedlog_fdw.enable_pushdown = off;
SELECT * FROM pg_temp.probe($$SELECT count(*) || ' rows, ' || sum(input_token_count) || ' tokens'
  FROM month WHERE "timestamp" >= '2026-11-15 10:00+00' AND "timestamp" < '2026-11-15 11:00+00'$$,
  '2026-11-15 10:00+00', '2026-11-15 11:00+00');
RESET bedlog_fdw.enable_pushdown;

-- one hour: the hour's folder and the next (delivery delay), nothing else
SELECT * FROM pg_temp.probe($$SELECT count(*) || ' rows, ' || sum(input_token_count) || ' tokens'
  FROM month WHERE "timestamp" >= '2026-11-15 10:00+00' AND "timestamp" < '2026-11-15 11:00+00'$$,
  '2026-11-15 10:00+00', '2026-11-15 11:00+00');
SELECT * FROM pg_temp.explain_analyze('VERBOSE', $$
  SELECT count(*) FROM month
   WHERE "timestamp" >= '2026-11-15 10:00+00' AND "timestamp" < '2026-11-15 11:00+00'$$);

-- Grafana's forms: $__timeFilter as BETWEEN with ISO literals, and epochs
SELECT * FROM pg_temp.probe($$SELECT count(*) || ' rows, ' || sum(input_token_count) || ' tokens'
  FROM month WHERE "timestamp" BETWEEN '2026-11-15T10:00:00Z' AND '2026-11-15T11:00:00Z'$$,
  '2026-11-15 10:00+00', '2026-11-15 11:00+00');
SELECT * FROM pg_temp.probe($$SELECT count(*) || ' rows, ' || sum(input_token_count) || ' tokens'
  FROM month WHERE "timestamp" >= to_timestamp(1794736800) AND "timestamp" <= to_timestamp(1794740400)$$,
  '2026-11-15 10:00+00', '2026-11-15 11:00+00');

-- a prepared statement with a generic plan: values arrive at execution
SET plan_cache_mode = force_generic_plan;
PREPARE hour_q(timestamptz, timestamptz) AS
  SELECT count(*) || ' rows, ' || sum(input_token_count) || ' tokens'
    FROM month WHERE "timestamp" >= $1 AND "timestamp" < $2;
SELECT * FROM pg_temp.probe($$EXECUTE hour_q('2026-11-15 10:00+00', '2026-11-15 11:00+00')$$,
  '2026-11-15 10:00+00', '2026-11-15 11:00+00');
EXPLAIN (COSTS OFF) EXECUTE hour_q('2026-11-15 10:00+00', '2026-11-15 11:00+00');
SELECT * FROM pg_temp.probe($$EXECUTE hour_q('2026-11-20 23:30+00', '2026-11-21 00:30+00')$$,
  '2026-11-20 23:30+00', '2026-11-21 00:30+00');
DEALLOCATE hour_q;
RESET plan_cache_mode;

-- stable expressions, evaluated when the scan starts: now()-relative
-- ranges (written so that they land on the fixture's fixed month)
SELECT * FROM pg_temp.probe($$SELECT count(*) || ' rows, ' || sum(input_token_count) || ' tokens'
  FROM month WHERE "timestamp" >= now() - (now() - '2026-11-15 11:00+00') - interval '1 hour'
               AND "timestamp" < now() - (now() - '2026-11-15 11:00+00')$$,
  '2026-11-15 10:00+00', '2026-11-15 11:00+00');
SELECT * FROM pg_temp.probe($$SELECT count(*) || ' rows'
  FROM month WHERE "timestamp" >= date_trunc('day', now()) - (date_trunc('day', now()) - '2026-11-15')$$,
  '2026-11-15 00:00+00', '2026-12-31 00:00+00');
-- and the real now(): whatever today is, the last hour takes the two
-- discovery listings and at most two more, and reads what it must
SELECT list_requests <= 4 AS few_lists, exactly_the_window
  FROM pg_temp.probe($$SELECT count(*)::text FROM month WHERE "timestamp" >= now() - interval '1 hour'$$,
                     now() - interval '1 hour', 'infinity');

-- date and timestamp values compare as PostgreSQL compares them: in the
-- session's time zone
SET timezone = 'Asia/Tokyo';
SELECT * FROM pg_temp.probe($$SELECT count(*) || ' rows' FROM month WHERE "timestamp" >= '2026-11-16'::date
  AND "timestamp" < '2026-11-16 02:00'::timestamp$$,
  '2026-11-15 15:00+00', '2026-11-15 17:00+00');
SET bedlog_fdw.enable_pushdown = off;
SELECT count(*) || ' rows' AS without_pushdown FROM month WHERE "timestamp" >= '2026-11-16'::date
  AND "timestamp" < '2026-11-16 02:00'::timestamp;
RESET bedlog_fdw.enable_pushdown;
SET timezone = 'UTC';

-- a range over many folders: one listing with start-after, stopping early
SELECT * FROM pg_temp.probe($$SELECT count(*) || ' rows' FROM month
  WHERE "timestamp" >= '2026-11-03 05:30+00' AND "timestamp" < '2026-11-08 00:00+00'$$,
  '2026-11-03 05:30+00', '2026-11-08 00:00+00');
SELECT * FROM pg_temp.explain_analyze('VERBOSE', $$SELECT count(*) FROM month
  WHERE "timestamp" >= '2026-11-03 05:30+00' AND "timestamp" < '2026-11-08 00:00+00'$$);
-- open ranges: from a time on, and up to a time
SELECT * FROM pg_temp.probe($$SELECT count(*) || ' rows' FROM month WHERE "timestamp" > '2026-11-29 12:00+00'$$,
  '2026-11-29 12:00+00', 'infinity');
SELECT * FROM pg_temp.probe($$SELECT count(*) || ' rows' FROM month WHERE "timestamp" <= '2026-11-01 03:00+00'$$,
  '-infinity', '2026-11-01 03:00+00');
-- nothing can match: no request at all
SELECT * FROM pg_temp.probe($$SELECT count(*) || ' rows' FROM month
  WHERE "timestamp" > '2026-11-10' AND "timestamp" < '2026-11-09'$$, 'infinity', '-infinity');
SELECT * FROM pg_temp.probe($$SELECT count(*) || ' rows' FROM month WHERE "timestamp" = NULL$$,
  'infinity', '-infinity');

-- delivery_delay widens the window
ALTER FOREIGN TABLE month OPTIONS (ADD delivery_delay '3 hours');
SELECT list_requests, result FROM pg_temp.probe($$SELECT count(*) || ' rows' FROM month
  WHERE "timestamp" >= '2026-11-15 10:00+00' AND "timestamp" < '2026-11-15 11:00+00'$$,
  '2026-11-15 10:00+00', '2026-11-15 11:00+00');
ALTER FOREIGN TABLE month OPTIONS (SET delivery_delay '-1 hour');
ALTER FOREIGN TABLE month OPTIONS (SET delivery_delay 'soon');
ALTER FOREIGN TABLE month OPTIONS (DROP delivery_delay);

-- planner estimates shrink with the pruned range
EXPLAIN SELECT * FROM month;
EXPLAIN SELECT * FROM month WHERE "timestamp" >= '2026-11-15 10:00+00' AND "timestamp" < '2026-11-15 11:00+00';

-- the foreign table need not come first in the query: a join with a
-- billing table prunes the same way
CREATE TEMP TABLE price (model_id text, usd_per_1k_input numeric);
INSERT INTO price VALUES ('amazon.nova-pro-v1:0', 0.0008), ('anthropic.claude-3-haiku-20240307-v1:0', 0.00025);
SELECT * FROM pg_temp.probe($$SELECT string_agg(model_id || ' ' || n || ' ' || usd, ', ' ORDER BY model_id) FROM (
  SELECT p.model_id, count(*) AS n, round(sum(m.input_token_count) * p.usd_per_1k_input / 1000, 6) AS usd
    FROM price p JOIN month m ON m.model_id = p.model_id
   WHERE m."timestamp" >= '2026-11-15 00:00+00' AND m."timestamp" < '2026-11-16 00:00+00'
   GROUP BY p.model_id, p.usd_per_1k_input) s$$,
  '2026-11-15 00:00+00', '2026-11-16 00:00+00');
EXPLAIN (COSTS OFF)
  SELECT p.model_id, count(*) FROM price p JOIN month m ON m.model_id = p.model_id
   WHERE m."timestamp" >= '2026-11-15 00:00+00' AND m."timestamp" < '2026-11-16 00:00+00'
   GROUP BY 1;
