--
-- Parallel query: the participants share the objects; each is read by
-- exactly one of them (counted at the S3 side), and answers are those of
-- a serial scan.
--
SET timezone = 'UTC';
CREATE TEMP TABLE s3_stats_raw (line text);
CREATE FUNCTION pg_temp.s3_reset() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  COPY (SELECT 1) TO PROGRAM 'cat >/dev/null; curl -s -o /dev/null -X POST http://127.0.0.1:45712/__bedlog/reset';
END $$;
CREATE FUNCTION pg_temp.s3_stats() RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE j jsonb;
BEGIN
  TRUNCATE s3_stats_raw;
  COPY s3_stats_raw FROM PROGRAM 'curl -s http://127.0.0.1:45712/__bedlog/stats | tr -d ''\n''';
  SELECT line::jsonb INTO j FROM s3_stats_raw;
  RETURN j;
END $$;

CREATE FOREIGN TABLE par (
  "timestamp" timestamptz, model_id text, operation text, input_token_count bigint, s3_key text
) SERVER s3 OPTIONS (location 's3://month/m/');

-- serial
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial AS
  SELECT model_id, count(*) AS n, sum(input_token_count) AS tokens FROM par GROUP BY 1;

-- parallel (made cheap so that the planner picks it on this small data)
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
EXPLAIN (COSTS OFF)
  SELECT model_id, count(*), sum(input_token_count) FROM par GROUP BY 1;
SELECT pg_temp.s3_reset();
CREATE TEMP TABLE parallel AS
  SELECT model_id, count(*) AS n, sum(input_token_count) AS tokens FROM par GROUP BY 1;
SELECT count(*) AS objects_fetched,
       count(*) FILTER (WHERE value::int <> 1) AS fetched_more_than_once
  FROM jsonb_each_text(pg_temp.s3_stats() -> 'get_keys');
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
