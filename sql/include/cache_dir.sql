--
-- A cache directory of the test's own, beside the fixtures in the test
-- cluster's directory, emptied: set :cache_name first.  Sets
-- bedlog_test.cache_dir to its path and defines pg_temp.sh(cmd), which runs
-- a shell command as the server's user.  A test includes this file between
-- \set ECHO none and \set ECHO all.
--
SELECT set_config('bedlog_test.cache_dir',
                  regexp_replace(current_setting('bedlog_test.fixtures'), '/fixtures$', '/' || :'cache_name'),
                  false) IS NOT NULL AS cache_dir_set \gset
CREATE FUNCTION pg_temp.sh(cmd text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'cat >/dev/null; ' || cmd);
END $$;
SELECT pg_temp.sh(format('rm -rf %s', current_setting('bedlog_test.cache_dir'))) \gset
