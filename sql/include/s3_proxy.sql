--
-- The counters of the S3 proxy (test/s3/proxy.js, in front of s3rver),
-- for the tests that count what a query lists and fetches:
--   pg_temp.s3_reset([port])  zeroes them;
--   pg_temp.s3_stats([port])  returns them as jsonb (requests by kind,
--                             get_keys, list_prefixes, bytes, ...).
-- port defaults to 45712, the proxy the test server "s3" uses.  A test
-- includes this file between \set ECHO none and \set ECHO all, so that
-- the expected files do not repeat it.
--
CREATE TEMP TABLE s3_stats_raw (line text);
CREATE FUNCTION pg_temp.s3_reset(port int DEFAULT 45712) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L',
                 format('cat >/dev/null; curl -s -o /dev/null -X POST http://127.0.0.1:%s/__bedlog/reset', port));
END $$;
CREATE FUNCTION pg_temp.s3_stats(port int DEFAULT 45712) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE j jsonb;
BEGIN
  TRUNCATE s3_stats_raw;
  EXECUTE format('COPY s3_stats_raw FROM PROGRAM %L',
                 format('curl -s http://127.0.0.1:%s/__bedlog/stats | tr -d ''\n''', port));
  SELECT line::jsonb INTO j FROM s3_stats_raw;
  RETURN j;
END $$;
