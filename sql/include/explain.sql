--
-- EXPLAIN ANALYZE as every supported major prints it, for the tests that
-- show plans with their actual row counts:
--   SELECT * FROM pg_temp.explain_analyze('VERBOSE', $$SELECT ...$$);
-- runs EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF
-- [, opts]) and returns its lines under the same heading.  PostgreSQL 18
-- prints actual rows with two decimals ("rows=474.00"); they are rounded
-- back to the whole numbers that 14 to 17 print.  The line "S3 Connections
-- Opened" (VERBOSE) is left out: it depends on the connections that earlier
-- queries of the session left open (connections.sql counts them itself).
-- A test includes this file
-- between \set ECHO none and \set ECHO all.
--
CREATE FUNCTION pg_temp.explain_analyze(opts text, query text)
RETURNS TABLE ("QUERY PLAN" text) LANGUAGE plpgsql AS $$
DECLARE
  l text;
  m text[];
BEGIN
  FOR l IN EXECUTE format('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF%s) %s',
                          CASE WHEN opts = '' THEN '' ELSE ', ' || opts END, query) LOOP
    CONTINUE WHEN l ~ '^\s*S3 Connections Opened: ';
    LOOP
      m := regexp_match(l, 'rows=(\d+\.\d+)');
      EXIT WHEN m IS NULL;
      l := regexp_replace(l, 'rows=\d+\.\d+', 'rows=' || round(m[1]::numeric));
    END LOOP;
    "QUERY PLAN" := l;
    RETURN NEXT;
  END LOOP;
END $$;
