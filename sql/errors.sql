--
-- Errors: S3 failures, the network, bad data.  Each names what failed.
-- Fixtures: bucket "bad", one prefix per case (see tools/genlogs.py).
-- Verbosity is terse where a message would quote libcurl's own words.
--
\set VERBOSITY default

-- missing bucket
CREATE FOREIGN TABLE err_nobucket (model_id text) SERVER s3
  OPTIONS (location 's3://no-such-bucket/logs/');
SELECT * FROM err_nobucket;

-- access denied: an access key the server does not know
CREATE SERVER s3_badkey FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712');
CREATE USER MAPPING FOR CURRENT_USER SERVER s3_badkey
  OPTIONS (access_key_id 'AKIAWRONGKEY', secret_access_key 'Sup3rS3cretValue/xyz', session_token 'TokenSecretValue');
CREATE FOREIGN TABLE err_denied (model_id text) SERVER s3_badkey
  OPTIONS (location 's3://logs/bedrock/');
SELECT * FROM err_denied;
-- and an object S3 refuses
CREATE FOREIGN TABLE err_403 (model_id text) SERVER s3
  OPTIONS (location 's3://bad/fault-403/');
SELECT * FROM err_403;

-- unknown key: listed, then gone
CREATE FOREIGN TABLE err_404 (model_id text) SERVER s3
  OPTIONS (location 's3://bad/fault-404/');
SELECT * FROM err_404;

-- an object rewritten between its listing and its GET: refused, not read
-- as another version than the one listed
CREATE FOREIGN TABLE err_changed (model_id text) SERVER s3
  OPTIONS (location 's3://bad/fault-changed/');
SELECT * FROM err_changed;

-- server error: retried (max_retries, 4 by default), then reported
CREATE FOREIGN TABLE err_500 (model_id text) SERVER s3
  OPTIONS (location 's3://bad/fault-500/');
SELECT * FROM err_500;

-- transient failures are retried with backoff: twice 503 SlowDown, then
-- the object; and a connection reset half way through a body resumes at
-- the byte where it stopped (a Range request), each row exactly once
CREATE FUNCTION pg_temp.retries(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF line ~ 'S3 Retries' THEN
      RETURN trim(line);
    END IF;
  END LOOP;
  RETURN 'no retries';
END $$;
CREATE FOREIGN TABLE flaky (request_id text, s3_line bigint) SERVER s3
  OPTIONS (location 's3://bad/fault-flaky/');
SELECT pg_temp.retries('SELECT * FROM flaky');
SELECT count(*), count(DISTINCT request_id), max(s3_line) FROM flaky;
CREATE FOREIGN TABLE cut (request_id text, s3_line bigint) SERVER s3
  OPTIONS (location 's3://bad/fault-cut/');
SELECT pg_temp.retries('SELECT * FROM cut');
SELECT count(*), count(DISTINCT request_id), min(s3_line), max(s3_line) FROM cut;
-- with retries off, the first failure is the answer
CREATE SERVER s3_noretry FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER s3_noretry
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
CREATE FOREIGN TABLE err_500_once (model_id text) SERVER s3_noretry
  OPTIONS (location 's3://bad/fault-500/');
SELECT * FROM err_500_once;
ALTER SERVER s3_noretry OPTIONS (SET max_retries '21');

-- wrong region: the bucket lives in eu-west-1
CREATE FOREIGN TABLE err_region (model_id text) SERVER s3
  OPTIONS (location 's3://eu-logs/x/');
SELECT * FROM err_region;
CREATE SERVER s3_eu FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712', aws_region 'eu-west-1');
CREATE USER MAPPING FOR CURRENT_USER SERVER s3_eu
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
CREATE FOREIGN TABLE ok_region (model_id text) SERVER s3_eu
  OPTIONS (location 's3://eu-logs/x/');
SELECT count(*) FROM ok_region;

-- endpoint unreachable
CREATE SERVER s3_down FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:1', max_retries '1');
CREATE FOREIGN TABLE err_down (model_id text) SERVER s3_down
  OPTIONS (location 's3://logs/bedrock/');
\set VERBOSITY terse
SELECT * FROM err_down;
\set VERBOSITY default

-- a transfer that stalls: the low-speed timeout ends it
CREATE SERVER s3_slow FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712', low_speed_timeout '1', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER s3_slow
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
CREATE FOREIGN TABLE err_stall (model_id text) SERVER s3_slow
  OPTIONS (location 's3://bad/fault-stall/');
SELECT count(*) FROM err_stall;
CREATE FOREIGN TABLE err_noheaders (model_id text) SERVER s3_slow
  OPTIONS (location 's3://bad/fault-slowheaders/');
SELECT count(*) FROM err_noheaders;

-- statement_timeout stops a scan in the middle of a body, promptly
CREATE FOREIGN TABLE stall (model_id text) SERVER s3
  OPTIONS (location 's3://bad/fault-stall/');
SET statement_timeout = '1s';
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM stall;
RESET statement_timeout;
SELECT clock_timestamp() - :'t0'::timestamptz < interval '3 seconds' AS stopped_promptly;

-- so does a query cancel (pg_cancel_backend from another session)
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT dblink_connect('canceller',
  format('dbname=%s port=%s host=%s', current_database(), current_setting('port'),
         split_part(current_setting('unix_socket_directories'), ',', 1)));
SELECT dblink_send_query('canceller',
  format('SELECT pg_sleep(0.5), pg_cancel_backend(%s)', pg_backend_pid()));
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM stall;
SELECT clock_timestamp() - :'t0'::timestamptz < interval '3 seconds' AS stopped_promptly;
SELECT dblink_disconnect('canceller');

-- corrupt and truncated gzip, non-gzip objects
CREATE FOREIGN TABLE bad_gzip (model_id text) SERVER s3
  OPTIONS (location 's3://bad/corrupt-gzip/');
SELECT * FROM bad_gzip;
CREATE FOREIGN TABLE bad_trunc (model_id text) SERVER s3
  OPTIONS (location 's3://bad/truncated-gzip/');
SELECT count(*) FROM bad_trunc;
CREATE FOREIGN TABLE bad_binary (model_id text) SERVER s3
  OPTIONS (location 's3://bad/binary/');
SELECT count(*) FROM bad_binary;
-- a plain (not gzipped) object is read as plain NDJSON
CREATE FOREIGN TABLE plain (model_id text, s3_line bigint) SERVER s3
  OPTIONS (location 's3://bad/plain/');
SELECT * FROM plain ORDER BY s3_line;

-- malformed JSON, a line that is not an object, bytes that are not UTF-8
CREATE FOREIGN TABLE bad_json (model_id text, s3_line bigint) SERVER s3
  OPTIONS (location 's3://bad/bad-json/');
SELECT count(*) FROM bad_json;
CREATE FOREIGN TABLE bad_notobj (model_id text) SERVER s3
  OPTIONS (location 's3://bad/not-object/');
SELECT count(*) FROM bad_notobj;
CREATE FOREIGN TABLE bad_utf8 (model_id text) SERVER s3
  OPTIONS (location 's3://bad/bad-utf8/');
SELECT count(*) FROM bad_utf8;

-- values that do not fit their column
CREATE FOREIGN TABLE bad_int (input_token_count bigint) SERVER s3
  OPTIONS (location 's3://bad/bad-int/');
SELECT sum(input_token_count) FROM bad_int;
CREATE FOREIGN TABLE big_int (input_token_count bigint) SERVER s3
  OPTIONS (location 's3://bad/big-int/');
SELECT sum(input_token_count) FROM big_int;
CREATE FOREIGN TABLE bad_ts ("timestamp" timestamptz) SERVER s3
  OPTIONS (location 's3://bad/bad-ts/');
SELECT * FROM bad_ts;

-- deep nesting and a huge record are read, not refused
CREATE FOREIGN TABLE deep (model_id text, input_body jsonb) SERVER s3
  OPTIONS (location 's3://bad/deep/');
SELECT model_id, input_body IS NOT NULL AS has_body FROM deep;
SELECT model_id FROM deep;
CREATE FOREIGN TABLE huge (model_id text, input_body jsonb, s3_line bigint) SERVER s3
  OPTIONS (location 's3://bad/huge-line/');
SELECT model_id, octet_length(input_body::text) > 10000000 AS over_10mb, s3_line FROM huge;

-- credentials appear in no message and no EXPLAIN output
CREATE FUNCTION pg_temp.leaks(q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  line text;
  found boolean := false;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, VERBOSE, COSTS, SETTINGS, BUFFERS) ' || q LOOP
    found := found OR line ~ '(Sup3rS3cret|TokenSecret|S3RVER|AKIAWRONGKEY|Signature|Credential)';
  END LOOP;
  RETURN found;
EXCEPTION WHEN OTHERS THEN
  DECLARE
    msg text; det text; hint text; ctx text;
  BEGIN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
    RETURN concat_ws(' ', msg, det, hint, ctx)
           ~ '(Sup3rS3cret|TokenSecret|S3RVER|AKIAWRONGKEY|Signature|Credential)';
  END;
END $$;
SELECT pg_temp.leaks('SELECT * FROM err_denied') AS leaks_on_failure,
       pg_temp.leaks('SELECT * FROM ok_region') AS leaks_on_success,
       pg_temp.leaks('SELECT * FROM err_404') AS leaks_on_404;

-- many failing scans in one session leak neither sockets nor memory
CREATE FUNCTION pg_temp.open_fds() RETURNS int LANGUAGE sql AS $$
  SELECT count(*)::int FROM pg_ls_dir('/proc/' || pg_backend_pid() || '/fd') $$;
CREATE FUNCTION pg_temp.rss_kb() RETURNS bigint LANGUAGE sql AS $$
  SELECT substring(pg_read_file('/proc/' || pg_backend_pid() || '/status')
                   FROM 'VmRSS:\s+(\d+)')::bigint $$;
CREATE FUNCTION pg_temp.fail_many(n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  failures int := 0;
  t text;
BEGIN
  FOR i IN 1..n LOOP
    FOREACH t IN ARRAY ARRAY['err_nobucket', 'err_404', 'bad_gzip', 'bad_json', 'err_down', 'bad_int'] LOOP
      BEGIN
        EXECUTE format('SELECT count(x) FROM (SELECT %I AS x FROM %I) s', t, t);
      EXCEPTION WHEN OTHERS THEN
        failures := failures + 1;
      END;
    END LOOP;
  END LOOP;
  RETURN failures;
END $$;
SELECT pg_temp.fail_many(20) AS warmup_failures;
-- (the connections kept for the next query closed, before both counts)
SELECT bedlog_fdw_disconnect_all() AS ignored \gset
SELECT pg_temp.open_fds() AS fds0, pg_temp.rss_kb() AS rss0 \gset
SELECT pg_temp.fail_many(100) AS failures;
SELECT bedlog_fdw_disconnect_all() AS ignored \gset
SELECT pg_temp.open_fds() - :fds0 AS new_fds,
       pg_temp.rss_kb() - :rss0 < 4096 AS rss_grew_under_4mb;

-- nor in the server log, with DEBUG messages on
SET log_min_messages = debug2;
SELECT pg_temp.leaks('SELECT * FROM err_denied'), pg_temp.leaks('SELECT * FROM ok_region');
RESET log_min_messages;
SELECT pg_read_file(current_setting('bedlog_test.server_log'))
       ~ '(Sup3rS3cret|TokenSecret|AKIAWRONGKEY|Signature=|Credential=)' AS secret_in_server_log;

-- HTTPS: the certificate is verified, against the system's CAs by default
CREATE SERVER s3_tls FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'https://127.0.0.1:45713');
CREATE USER MAPPING FOR CURRENT_USER SERVER s3_tls
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
CREATE FOREIGN TABLE tls_logs (model_id text) SERVER s3_tls
  OPTIONS (location 's3://logs/bedrock/AWSLogs/111111111111/BedrockModelInvocationLogs/eu-west-1/');
\set VERBOSITY terse
SELECT count(*) FROM tls_logs;
\set VERBOSITY default
-- and against a private CA when the superuser names one
ALTER SERVER s3_tls OPTIONS (ADD ca_bundle 'relative/ca.pem');
DO $$ BEGIN
  EXECUTE format('ALTER SERVER s3_tls OPTIONS (ADD ca_bundle %L)',
                 current_setting('bedlog_test.fixtures') || '/test-ca.crt');
END $$;
SELECT count(*) FROM tls_logs;
-- a certificate for another name is refused even by a trusted CA
ALTER SERVER s3_tls OPTIONS (SET endpoint 'https://other.localhost:45713');
\set VERBOSITY terse
SELECT count(*) FROM tls_logs;
\set VERBOSITY default
DROP SERVER s3_tls CASCADE;

-- virtual-host addressing (bucket.host), signed and verified like path style
CREATE SERVER s3_virtual FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://localhost:45712', addressing_style 'virtual');
CREATE USER MAPPING FOR CURRENT_USER SERVER s3_virtual
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER', session_token 'FQoGZXIvYXdzEXAMPLETOKEN');
CREATE FOREIGN TABLE virtual_logs (account_id text) SERVER s3_virtual
  OPTIONS (location 's3://logs/bedrock/');
SELECT account_id, count(*) FROM virtual_logs GROUP BY 1 ORDER BY 1;
DROP SERVER s3_virtual CASCADE;
