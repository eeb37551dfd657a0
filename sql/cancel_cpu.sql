--
-- Cancellation during CPU-only work: a scan whose every record fails the
-- pushed-down filter returns no row until it ends, and over an object the
-- cache holds it waits on nothing; the reader and the cache check for
-- interrupts themselves, so statement_timeout stops it within half a
-- second.  Without the cache, the same.
-- Fixture: s3://cpu/, one object of 4 GB of JSON (a few records repeated,
-- 32 MB of gzip), made by scripts/test.sh.
--
SET timezone = 'UTC';
-- the S3 proxy's counters: pg_temp.s3_reset(), pg_temp.s3_stats()
-- a cache of its own, beside the fixtures, empty: bedlog_test.cache_dir,
-- pg_temp.sh()
\set cache_name cache-cpu
\set ECHO none
\i sql/include/s3_proxy.sql
\i sql/include/cache_dir.sql
\set ECHO all
-- the backend's descriptors open on files under the cache directory (a
-- count of all descriptors would also see the catalog and temp-table files
-- PostgreSQL itself opens and closes)
CREATE TEMP TABLE fd_links (link text);
CREATE FUNCTION pg_temp.cache_fds() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE fd_links;
  EXECUTE format('COPY fd_links FROM PROGRAM %L',
                 format('find /proc/%s/fd/ -mindepth 1 -lname %s 2>/dev/null',
                        pg_backend_pid(), quote_literal(current_setting('bedlog_test.cache_dir') || '/*')));
  RETURN (SELECT count(*) FROM fd_links);
END $$;
DO $$ BEGIN
  EXECUTE format($f$CREATE SERVER s3cpu FOREIGN DATA WRAPPER bedlog_fdw
    OPTIONS (endpoint 'http://127.0.0.1:45712', cache_dir %L)$f$,
    current_setting('bedlog_test.cache_dir'));
END $$;
CREATE USER MAPPING FOR CURRENT_USER SERVER s3cpu
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
CREATE FOREIGN TABLE cpu_cached (model_id text) SERVER s3cpu OPTIONS (location 's3://cpu/');
CREATE FOREIGN TABLE cpu_live (model_id text) SERVER s3 OPTIONS (location 's3://cpu/');

-- the whole scan, which fills the cache: no row, after seconds (a check
-- that the object is still large enough for what follows to mean much)
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM cpu_cached WHERE model_id = 'no.such-model-v1:0';
SELECT clock_timestamp() - :'t0'::timestamptz > interval '1.5 seconds' AS takes_seconds;

-- while a scan reads the cached object, its entry is open (so that the
-- count below can see one left open)
SELECT pg_temp.cache_fds() AS cache_files_open_while_reading FROM cpu_cached LIMIT 1;

-- statement_timeout over the cached object: the object is not fetched
SELECT pg_temp.s3_reset();
\set VERBOSITY terse
SET statement_timeout = '300ms';
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM cpu_cached WHERE model_id = 'no.such-model-v1:0';
RESET statement_timeout;
\set VERBOSITY default
SELECT clock_timestamp() - :'t0'::timestamptz < interval '800 ms' AS stopped_within_half_a_second;
SELECT coalesce((pg_temp.s3_stats()->'by_kind'->>'get')::int, 0) AS objects_fetched;
-- the cache entry is closed again
SELECT pg_temp.cache_fds() AS cache_files_open;

-- and without the cache, the object streaming from S3
\set VERBOSITY terse
SET statement_timeout = '300ms';
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM cpu_live WHERE model_id = 'no.such-model-v1:0';
RESET statement_timeout;
\set VERBOSITY default
SELECT clock_timestamp() - :'t0'::timestamptz < interval '800 ms' AS stopped_within_half_a_second;

DROP SERVER s3cpu CASCADE;
DROP FOREIGN TABLE cpu_live;
SELECT pg_temp.sh(format('rm -rf %s', current_setting('bedlog_test.cache_dir')));
