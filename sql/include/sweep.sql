--
-- The secrets sweep of the credential tests (credentials.sql, sts.sql,
-- cwlogs.sql): pg_temp.sweep(what, query) runs EXPLAIN (ANALYZE, VERBOSE,
-- ...) of query, or catches its error, and records in table swept whether
-- the text (plan, or message, detail, hint and context) matches
-- pg_temp.secret_re(), which the test defines first, and whether there
-- was anything to look at.  A test includes this file between
-- \set ECHO none and \set ECHO all.
--
CREATE TEMP TABLE swept (what text, leaked boolean, looked boolean);
CREATE FUNCTION pg_temp.sweep(what text, q text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  line text;
  lines text := '';
  msg text; det text; hint text; ctx text;
BEGIN
  BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, VERBOSE, COSTS, SETTINGS, BUFFERS, WAL, TIMING, SUMMARY) ' || q LOOP
      lines := lines || line || E'\n';
    END LOOP;
    INSERT INTO swept VALUES (what || ': explain', lines ~ pg_temp.secret_re(), lines ~ 'Foreign Scan');
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
    lines := concat_ws(E'\n', msg, det, hint, ctx);
    INSERT INTO swept VALUES (what || ': error', lines ~ pg_temp.secret_re(), msg <> '');
  END;
END $$;
-- pg_temp.sweep_begin() notes where the server log ends and turns on
-- DEBUG5 logging with plan dumps; pg_temp.sweep_end(failures) turns them
-- off and tells what the log gained since: plan dumps, DEBUG lines, the
-- failures (a regular expression), and whether a secret is among them
CREATE TEMP TABLE sweep_log (log_before bigint);
CREATE FUNCTION pg_temp.sweep_begin() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO sweep_log SELECT (pg_stat_file(current_setting('bedlog_test.server_log'))).size;
  SET log_min_messages = debug5;
  SET client_min_messages = notice;
  SET debug_print_plan = on;
END $$;
CREATE FUNCTION pg_temp.sweep_end(failures text,
    OUT log_has_plan_dumps boolean, OUT log_has_debug boolean,
    OUT log_has_the_failures boolean, OUT secret_in_log boolean)
  LANGUAGE plpgsql AS $$
DECLARE
  path text := current_setting('bedlog_test.server_log');
  b bigint := (SELECT log_before FROM sweep_log);
  t text;
BEGIN
  RESET debug_print_plan;
  RESET client_min_messages;
  RESET log_min_messages;
  t := pg_read_file(path, b, (pg_stat_file(path)).size - b);
  log_has_plan_dumps := t ~ ':commandType 1';
  log_has_debug := t ~ 'DEBUG';
  log_has_the_failures := t ~ failures;
  secret_in_log := t ~ pg_temp.secret_re();
END $$;
