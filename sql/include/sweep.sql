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
