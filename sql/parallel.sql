--
-- Parallel query: the participants share the objects; each is read by
-- exactly one of them (counted at the S3 side), and answers are those of
-- a serial scan.
--
SET timezone = 'UTC';
-- the S3 proxy's counters: pg_temp.s3_reset(), pg_temp.s3_stats()
\set ECHO none
\i sql/include/s3_proxy.sql
\set ECHO all

CREATE FOREIGN TABLE par (
  "timestamp" timestamptz, model_id text, operation text, input_token_count bigint, s3_key text
) SERVER s3 OPTIONS (location 's3://month/m/');

-- serial
SET max_parallel_workers_per_gather = 0;
SELECT pg_temp.s3_reset();
CREATE TEMP TABLE serial AS
  SELECT model_id, count(*) AS n, sum(input_token_count) AS tokens FROM par GROUP BY 1;
CREATE TEMP TABLE serial_lists AS
  SELECT (pg_temp.s3_stats() -> 'by_kind' ->> 'list')::int AS n;

-- parallel (made cheap so that the planner picks it on this small data)
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
EXPLAIN (COSTS OFF)
  SELECT model_id, count(*), sum(input_token_count) FROM par GROUP BY 1;
SELECT pg_temp.s3_reset();
CREATE TEMP TABLE parallel AS
  SELECT model_id, count(*) AS n, sum(input_token_count) AS tokens FROM par GROUP BY 1;
-- each object is fetched once, and the listing is done once, for all
-- participants: as many list requests as the serial scan made
CREATE TEMP TABLE par_stats AS SELECT pg_temp.s3_stats() AS j;
SELECT count(*) AS objects_fetched,
       count(*) FILTER (WHERE value::int <> 1) AS fetched_more_than_once
  FROM par_stats, jsonb_each_text(j -> 'get_keys');
SELECT (j -> 'by_kind' ->> 'list')::int = (SELECT n FROM serial_lists) AS listed_once,
       (SELECT n FROM serial_lists) > 0 AS serial_listed
  FROM par_stats;
SELECT (SELECT count(*) FROM (TABLE serial EXCEPT TABLE parallel) a) +
       (SELECT count(*) FROM (TABLE parallel EXCEPT TABLE serial) b) AS groups_differing,
       (SELECT sum(n) FROM parallel) AS records;
-- workers really run (how the objects split between them varies)
CREATE FUNCTION pg_temp.workers_launched(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF line ~ 'Workers Launched' THEN
      RETURN trim(line);
    END IF;
  END LOOP;
  RETURN 'no workers';
END $$;
SELECT pg_temp.workers_launched($$SELECT count(*) FROM par
  WHERE "timestamp" >= '2026-11-10' AND "timestamp" < '2026-11-12'$$);

-- a rescan of a parallel scan (the inner side of a nested loop, run once
-- per outer row) lists and reads everything again each time
CREATE TEMP TABLE outer_rows AS SELECT g FROM generate_series(1, 3) g;
SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_material = off;
-- (p's column o.g makes the small table the outer side: p depends on it)
-- the plan's join, scans and Gather (the aggregation above them differs
-- between majors)
CREATE FUNCTION pg_temp.plan_shape(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    IF l ~ '(Nested Loop|Scan on|Gather|Workers Planned)' THEN
      RETURN NEXT regexp_replace(l, '^\s*(->\s*)?', '');
    END IF;
  END LOOP;
END $$;
SELECT * FROM pg_temp.plan_shape($$SELECT o.g, count(p.*) AS rows
  FROM outer_rows o
  JOIN LATERAL (SELECT model_id, o.g FROM par
                 WHERE "timestamp" >= '2026-11-10' AND "timestamp" < '2026-11-11'
                 OFFSET 0) p ON true
 GROUP BY o.g ORDER BY o.g$$);
SELECT o.g, count(p.*) AS rows
  FROM outer_rows o
  JOIN LATERAL (SELECT model_id, o.g FROM par
                 WHERE "timestamp" >= '2026-11-10' AND "timestamp" < '2026-11-11'
                 OFFSET 0) p ON true
 GROUP BY o.g ORDER BY o.g;
RESET enable_hashjoin; RESET enable_mergejoin; RESET enable_material;
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS serial_rows FROM par
 WHERE "timestamp" >= '2026-11-10' AND "timestamp" < '2026-11-11';
SET max_parallel_workers_per_gather = 2;

-- with pushed-down conditions and a generic plan: parameters reach the workers
SET plan_cache_mode = force_generic_plan;
PREPARE pq(timestamptz, timestamptz, text) AS
  SELECT count(*), sum(input_token_count) FROM par
   WHERE "timestamp" >= $1 AND "timestamp" < $2 AND operation = $3;
EXPLAIN (COSTS OFF) EXECUTE pq('2026-11-10', '2026-11-12', 'Converse');
EXECUTE pq('2026-11-10', '2026-11-12', 'Converse');
SET max_parallel_workers_per_gather = 0;
EXECUTE pq('2026-11-10', '2026-11-12', 'Converse');
DEALLOCATE pq;
RESET plan_cache_mode;

RESET max_parallel_workers_per_gather; RESET parallel_setup_cost; RESET parallel_tuple_cost;
DROP FOREIGN TABLE par;
