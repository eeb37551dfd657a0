--
-- Credentials: the user mapping's keys; else, only on a server where a
-- superuser turned use_instance_credentials on, the server process's own
-- AWS identity, in the SDKs' order: environment variables, shared
-- credentials file and profile, container endpoint, EC2 instance metadata.
-- The test cluster's server process has all four (scripts/lib.sh
-- pg_start: fixtures in test/s3/aws/, metadata.js on 127.0.0.1:45716); a
-- second cluster on 45717 has instance metadata alone.  The fault proxy
-- checks every signature and session token and refuses unsigned requests
-- to the bucket private-logs; its counters say which key signed.
--
\set VERBOSITY default
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;

-- get_json(), post(), copy_hours() (the rig's HTTP side)
\set ECHO none
\i sql/include/rig_http.sql
\set ECHO all
CREATE FUNCTION pg_temp.reset() RETURNS void LANGUAGE sql AS $$
  SELECT pg_temp.post('http://127.0.0.1:45712/__bedlog/reset');
  SELECT pg_temp.post('http://127.0.0.1:45716/__meta/reset') $$;
-- the access keys the proxy verified since the last reset, by kind
CREATE FUNCTION pg_temp.signed_by() RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(DISTINCT
           regexp_replace(k, '^(ASIA(CTNR|IMDS))\d{4}X\d+$', '\1...'), ', '), 'nobody')
    FROM jsonb_object_keys(pg_temp.get_json('http://127.0.0.1:45712/__bedlog/stats')->'by_access_key') k $$;
CREATE FUNCTION pg_temp.meta() RETURNS jsonb LANGUAGE sql AS $$
  SELECT pg_temp.get_json('http://127.0.0.1:45716/__meta/stats') $$;
-- run q and show its error, the test cluster's directory left out
CREATE FUNCTION pg_temp.try(q text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE msg text; det text; hint text;
BEGIN
  EXECUTE q;
  RAISE NOTICE 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  RAISE NOTICE E'%\nDETAIL:  %\nHINT:  %', msg,
    regexp_replace(det, '"/tmp/[^"]*/aws/', '"<dir>/aws/', 'g'), hint;
END $$;

-- the bucket private-logs: six hours of one account and region copied from
-- the bucket logs, and three of them again below fault-delay/ (whose GETs
-- the proxy answers 400 ms late)
SELECT pg_temp.copy_hours('private-logs');
CREATE FOREIGN TABLE cred_source (request_id text, s3_key text) SERVER s3
  OPTIONS (location 's3://logs/bedrock/AWSLogs/111111111111/BedrockModelInvocationLogs/us-east-1/');
SELECT count(*) AS rows_expected FROM cred_source \gset
SELECT count(*) AS delay_rows_expected FROM cred_source
  WHERE s3_key ~ '/2026/11/01/0[012]/' \gset
SELECT :rows_expected > 10 AS enough_rows, :delay_rows_expected > 2 AS enough_delay_rows;

--
-- 1. Off (the default): without keys in the mapping, requests go unsigned,
-- even for a superuser, and the private bucket refuses them
--
CREATE SERVER cred_off FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712');
CREATE FOREIGN TABLE off_logs (request_id text) SERVER cred_off
  OPTIONS (location 's3://private-logs/');
SELECT pg_temp.reset();
SELECT count(*) FROM off_logs;
CREATE USER MAPPING FOR CURRENT_USER SERVER cred_off;
SELECT count(*) FROM off_logs;
SELECT pg_temp.signed_by(),
       pg_temp.get_json('http://127.0.0.1:45712/__bedlog/stats')->'anonymous_rejects' AS unsigned_refused,
       pg_temp.meta() AS metadata_asked;

--
-- 2. The chain, in order.  Environment variables first, although the
-- shared file's default profile and the container endpoint also have keys
--
CREATE SERVER cred_chain FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712', use_instance_credentials 'true');
CREATE FOREIGN TABLE chain_logs (request_id text) SERVER cred_chain
  OPTIONS (location 's3://private-logs/');
SELECT pg_temp.reset();
SELECT count(*) = :rows_expected AS all_rows FROM chain_logs;
SELECT pg_temp.signed_by();
-- the mapping's keys always win over the chain
CREATE USER MAPPING FOR CURRENT_USER SERVER cred_chain
  OPTIONS (access_key_id 'AKIABEDLOGMAPKEY0001',
           secret_access_key 'MapSecretMapping4Rf7Tg1Yh5Uj9Ik',
           session_token 'MapTokenMappingZ8x6C4v2B0n8M6q4W2e0');
SELECT pg_temp.reset();
SELECT count(*) = :rows_expected AS all_rows FROM chain_logs;
SELECT pg_temp.signed_by();
-- wrong mapping keys are not replaced by the chain: they fail
ALTER USER MAPPING FOR CURRENT_USER SERVER cred_chain
  OPTIONS (SET session_token 'MapTokenWrong');
SELECT count(*) FROM chain_logs;
-- a mapping without keys means the chain (the server allows it)
ALTER USER MAPPING FOR CURRENT_USER SERVER cred_chain
  OPTIONS (DROP access_key_id, DROP secret_access_key, DROP session_token);
SELECT pg_temp.reset();
SELECT count(*) = :rows_expected AS all_rows FROM chain_logs;
SELECT pg_temp.signed_by();
DROP USER MAPPING FOR CURRENT_USER SERVER cred_chain;

-- an explicit profile skips the environment, as in the SDKs: the shared
-- credentials file (with a session token in this profile)
CREATE SERVER cred_file FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712', use_instance_credentials 'on',
           aws_profile 'bedlog');
CREATE FOREIGN TABLE file_logs (request_id text) SERVER cred_file
  OPTIONS (location 's3://private-logs/');
SELECT pg_temp.reset();
SELECT count(*) = :rows_expected AS all_rows FROM file_logs;
SELECT pg_temp.signed_by();
ALTER SERVER cred_file OPTIONS (SET aws_profile 'default');
SELECT pg_temp.reset();
SELECT count(*) = :rows_expected AS all_rows FROM file_logs;
SELECT pg_temp.signed_by();
-- a profile that lacks its secret is an error naming the file and profile
ALTER SERVER cred_file OPTIONS (SET aws_profile 'broken');
SELECT pg_temp.try('SELECT count(*) FROM file_logs');

-- a profile the file lacks passes on: the container endpoint (EKS Pod
-- Identity: a full URI and a token file), not instance metadata
ALTER SERVER cred_file OPTIONS (SET aws_profile 'not-in-the-file');
SELECT pg_temp.reset();
SELECT count(*) = :rows_expected AS all_rows FROM file_logs;
SELECT pg_temp.signed_by(), pg_temp.meta();
-- cached: asked once per backend, not per query
SELECT count(*) = :rows_expected AS all_rows FROM file_logs;
SELECT pg_temp.meta()->'container' AS container_asked;
-- a failing source is an error naming it; it does not pass on
ALTER SERVER cred_file OPTIONS (SET aws_profile 'container-fails');
SELECT pg_temp.post('http://127.0.0.1:45716/__meta/config?container_status=500');
SELECT count(*) FROM file_logs;
SELECT pg_temp.meta()->'imds_token' AS imds_asked;
SELECT pg_temp.post('http://127.0.0.1:45716/__meta/reset');
-- an endpoint that never answers does not delay a cancel
ALTER SERVER cred_file OPTIONS (SET aws_profile 'container-hangs');
SELECT pg_temp.post('http://127.0.0.1:45716/__meta/config?container_status=0');
SET statement_timeout = '1s';
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM file_logs;
RESET statement_timeout;
SELECT clock_timestamp() - :'t0'::timestamptz < interval '3 seconds' AS stopped_promptly,
       pg_temp.meta()->'container' AS container_asked;
SELECT pg_temp.post('http://127.0.0.1:45716/__meta/reset');

--
-- 3. Refresh: credentials that live 3 seconds, a scan of 400 ms objects one
-- at a time.  The keys are fetched again before they expire, between the
-- requests of the scan; the proxy refuses expired keys, and refused none.
--
CREATE SERVER cred_refresh FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712', use_instance_credentials 'true',
           aws_profile 'refresh', max_concurrency '1', max_retries '0');
CREATE FOREIGN TABLE refresh_logs (request_id text) SERVER cred_refresh
  OPTIONS (location 's3://private-logs/fault-delay/');
SELECT pg_temp.reset();
SELECT pg_temp.post('http://127.0.0.1:45716/__meta/config?lifetime=3');
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) = :delay_rows_expected AS all_rows FROM refresh_logs;
SELECT clock_timestamp() - :'t0'::timestamptz > interval '3 seconds' AS scan_outlived_the_keys,
       (pg_temp.meta()->>'container')::int >= 2 AS refreshed_during_the_scan,
       (SELECT count(*) FROM jsonb_object_keys(
          pg_temp.get_json('http://127.0.0.1:45712/__bedlog/stats')->'by_access_key') k
         WHERE k LIKE 'ASIACTNR%') >= 2 AS signed_with_several_keys,
       pg_temp.get_json('http://127.0.0.1:45712/__bedlog/stats')->'expired_rejects' AS expired_refused;
-- and between queries: past their expiry, the next query fetches new keys
SELECT pg_sleep(3);
SELECT (pg_temp.meta()->>'container')::int AS before \gset
SELECT count(*) = :delay_rows_expected AS all_rows FROM refresh_logs;
SELECT (pg_temp.meta()->>'container')::int > :before AS fetched_again,
       pg_temp.get_json('http://127.0.0.1:45712/__bedlog/stats')->'expired_rejects' AS expired_refused;
SELECT pg_temp.post('http://127.0.0.1:45716/__meta/reset');
-- a refresh that fails while the keys still work: they are used until
-- they expire (6-second keys, due for refresh after 3)
ALTER SERVER cred_refresh OPTIONS (SET aws_profile 'keep-old', SET max_concurrency '8');
ALTER FOREIGN TABLE refresh_logs OPTIONS (SET location 's3://private-logs/');
SELECT pg_temp.reset();
SELECT pg_temp.post('http://127.0.0.1:45716/__meta/config?lifetime=6');
SELECT count(*) = :rows_expected AS all_rows FROM refresh_logs;
SELECT pg_temp.post('http://127.0.0.1:45716/__meta/config?container_status=500');
SELECT pg_sleep(3.5);
SELECT count(*) = :rows_expected AS all_rows_with_the_old_keys FROM refresh_logs;
SELECT (pg_temp.meta()->>'container')::int > 1 AS refresh_was_tried,
       (SELECT count(*) FROM jsonb_object_keys(
          pg_temp.get_json('http://127.0.0.1:45712/__bedlog/stats')->'by_access_key') k) AS keys_used;
SELECT pg_temp.post('http://127.0.0.1:45716/__meta/reset');
ALTER FOREIGN TABLE refresh_logs OPTIONS (SET location 's3://private-logs/fault-delay/');

--
-- 4. EC2 instance metadata (IMDSv2), in the second cluster, whose server
-- process has no other source
--
SELECT dblink_connect('aux',
  format('host=%s port=45717 dbname=postgres user=postgres',
         split_part(current_setting('unix_socket_directories'), ',', 1)));
SELECT dblink_exec('aux', $$CREATE EXTENSION bedlog_fdw$$);
-- one backend (parallel workers would each fetch), logging everything
SELECT dblink_exec('aux', $$SET max_parallel_workers_per_gather = 0$$);
SELECT dblink_exec('aux', $$SET log_min_messages = debug5$$);
SELECT dblink_exec('aux', $$SET debug_print_plan = on$$);
SELECT dblink_exec('aux', $$CREATE SERVER imds FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712', use_instance_credentials 'true')$$);
SELECT dblink_exec('aux', $$CREATE FOREIGN TABLE imds_logs (request_id text) SERVER imds
  OPTIONS (location 's3://private-logs/')$$);
SELECT pg_temp.reset();
SELECT n = :rows_expected AS all_rows FROM dblink('aux', 'SELECT count(*) FROM imds_logs') AS t(n bigint);
SELECT pg_temp.signed_by(), pg_temp.meta();
-- the metadata endpoints want the session token
TRUNCATE rig_raw;
COPY rig_raw FROM PROGRAM 'curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:45716/latest/meta-data/iam/security-credentials/';
SELECT line AS without_token FROM rig_raw;
TRUNCATE rig_raw;
-- no role attached: nothing anywhere
SELECT dblink_exec('aux', $$ALTER SERVER imds OPTIONS (ADD aws_profile 'no-role')$$);
SELECT pg_temp.post('http://127.0.0.1:45716/__meta/config?imds_role=0');
SELECT pg_temp.try($$SELECT * FROM dblink('aux', 'SELECT count(*) FROM imds_logs') AS t(n bigint)$$);
-- metadata that fails is an error naming it
SELECT dblink_exec('aux', $$ALTER SERVER imds OPTIONS (SET aws_profile 'imds-fails')$$);
SELECT pg_temp.post('http://127.0.0.1:45716/__meta/reset');
SELECT pg_temp.post('http://127.0.0.1:45716/__meta/config?imds_status=500');
SELECT pg_temp.try($$SELECT * FROM dblink('aux', 'SELECT count(*) FROM imds_logs') AS t(n bigint)$$);
SELECT pg_temp.post('http://127.0.0.1:45716/__meta/reset');
-- a backend fetching credentials waits on BedlogCredentials (PostgreSQL 17
-- and later; "Extension" before): metadata answering a second late, seen
-- from another session
\set ECHO none
\i sql/include/waits.sql
\set ECHO all
SELECT dblink_exec('aux', $$ALTER SERVER imds OPTIONS (DROP aws_profile)$$);
SELECT pg_temp.post('http://127.0.0.1:45716/__meta/config?delay_ms=1000');
SELECT dblink_connect('aux_scan',
  format('host=%s port=45717 dbname=postgres user=postgres',
         split_part(current_setting('unix_socket_directories'), ',', 1)));
SELECT pid AS aux_scan_pid FROM dblink('aux_scan', 'SELECT pg_backend_pid()') AS t(pid int) \gset
SELECT dblink_send_query('aux_scan', 'SELECT count(*) FROM imds_logs');
SELECT pg_temp.waits_on('aux', :aux_scan_pid, 'BedlogCredentials') AS waits_on_credentials;
SELECT n = :rows_expected AS all_rows FROM dblink_get_result('aux_scan') AS t(n bigint);
SELECT dblink_disconnect('aux_scan');
SELECT pg_temp.post('http://127.0.0.1:45716/__meta/reset');
SELECT dblink_exec('aux', $$DROP EXTENSION bedlog_fdw CASCADE$$);
SELECT dblink_disconnect('aux');

--
-- 5. Who may do what.  Non-superusers set none of the options that choose
-- the host, what is trusted, or the server's own files and identity;
-- with USAGE on a server they make their own mappings and tables.
--
ALTER SERVER cred_off OPTIONS (ADD use_instance_credentials 'maybe');  -- bad
ALTER SERVER cred_off OPTIONS (ADD aws_profile 'my profile');          -- bad
ALTER SERVER cred_off OPTIONS (ADD use_instance_credential 'true');    -- typo
CREATE ROLE regress_cred_user LOGIN;
GRANT USAGE ON FOREIGN DATA WRAPPER bedlog_fdw TO regress_cred_user;
GRANT USAGE ON FOREIGN SERVER cred_off TO regress_cred_user;
GRANT CREATE ON SCHEMA public TO regress_cred_user;
SET ROLE regress_cred_user;
CREATE SERVER user_s FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (use_instance_credentials 'true');                       -- superuser only
CREATE SERVER user_s FOREIGN DATA WRAPPER bedlog_fdw;
ALTER SERVER user_s OPTIONS (ADD use_instance_credentials 'true');  -- superuser only
ALTER SERVER user_s OPTIONS (ADD aws_profile 'default');           -- superuser only
ALTER SERVER user_s OPTIONS (ADD endpoint 'http://127.0.0.1:45712'); -- superuser only
ALTER SERVER user_s OPTIONS (ADD ca_bundle '/etc/ssl/certs/ca-certificates.crt'); -- superuser only
ALTER SERVER cred_off OPTIONS (ADD use_instance_credentials 'true'); -- not the owner
CREATE USER MAPPING FOR CURRENT_USER SERVER cred_off
  OPTIONS (access_key_id 'AKIABEDLOGMAPKEY0001',
           secret_access_key 'MapSecretMapping4Rf7Tg1Yh5Uj9Ik',
           session_token 'MapTokenMappingZ8x6C4v2B0n8M6q4W2e0');
CREATE FOREIGN TABLE user_logs (request_id text) SERVER cred_off
  OPTIONS (location 's3://private-logs/');
RESET ROLE;
SELECT pg_temp.reset();
SET ROLE regress_cred_user;
SELECT count(*) = :rows_expected AS all_rows FROM user_logs;
RESET ROLE;
SELECT pg_temp.signed_by();
-- without keys, on a server where the chain is off: unsigned, refused
SET ROLE regress_cred_user;
ALTER USER MAPPING FOR CURRENT_USER SERVER cred_off
  OPTIONS (DROP access_key_id, DROP secret_access_key, DROP session_token);
SELECT count(*) FROM user_logs;
RESET ROLE;
SELECT pg_temp.signed_by();
-- where a superuser turned it on, USAGE on the server lends its identity
GRANT USAGE ON FOREIGN SERVER cred_chain TO regress_cred_user;
SET ROLE regress_cred_user;
CREATE FOREIGN TABLE user_chain_logs (request_id text) SERVER cred_chain
  OPTIONS (location 's3://private-logs/');
RESET ROLE;
SELECT pg_temp.reset();
SET ROLE regress_cred_user;
SELECT count(*) = :rows_expected AS all_rows FROM user_chain_logs;
RESET ROLE;
SELECT pg_temp.signed_by();

--
-- 6. No secret anywhere: error fields, EXPLAIN with every option,
-- pg_stat_activity, and the server log at DEBUG5 with plan dumps, after
-- failing and succeeding queries with every kind of key.  (The pattern is
-- assembled at run time, so that no statement text holds a secret.)
--
CREATE FUNCTION pg_temp.secret_re() RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(w || s, '|')
    FROM unnest(ARRAY['Map', 'Env', 'File', 'Tmp', 'Pod']) w,
         unnest(ARRAY['Secret', 'Token']) s $$;
\set ECHO none
\i sql/include/sweep.sql
\set ECHO all
CREATE FOREIGN TABLE chain_missing (request_id text) SERVER cred_chain
  OPTIONS (location 's3://no-such-bucket/');
SELECT pg_temp.sweep_begin();
CREATE USER MAPPING FOR CURRENT_USER SERVER cred_refresh
  OPTIONS (access_key_id 'AKIABEDLOGMAPKEY0001',
           secret_access_key 'MapSecretMapping4Rf7Tg1Yh5Uj9Ik',
           session_token 'MapTokenWrong');
SELECT pg_temp.sweep('mapping, wrong token', 'SELECT * FROM refresh_logs');
SELECT count(*) FROM refresh_logs;    -- and at top level, so that it is logged
ALTER USER MAPPING FOR CURRENT_USER SERVER cred_refresh
  OPTIONS (SET session_token 'MapTokenMappingZ8x6C4v2B0n8M6q4W2e0');
SELECT pg_temp.sweep('mapping', 'SELECT * FROM refresh_logs');
SELECT pg_temp.sweep('environment', 'SELECT * FROM chain_logs');
ALTER SERVER cred_file OPTIONS (SET aws_profile 'bedlog');
SELECT pg_temp.sweep('file', 'SELECT * FROM file_logs');
ALTER SERVER cred_file OPTIONS (SET aws_profile 'container-sweep');
SELECT pg_temp.sweep('container', 'SELECT * FROM file_logs');
ALTER SERVER cred_file OPTIONS (SET aws_profile 'container-sweep-fails');
SELECT pg_temp.post('http://127.0.0.1:45716/__meta/config?container_status=403');
SELECT pg_temp.sweep('container fails', 'SELECT * FROM file_logs');
SELECT count(*) FROM file_logs;
SELECT pg_temp.post('http://127.0.0.1:45716/__meta/reset');
SELECT pg_temp.sweep('unsigned', 'SELECT * FROM off_logs');
SELECT pg_temp.sweep('missing bucket', 'SELECT * FROM chain_missing');
-- the log since the sweep began: the plan dumps, the DEBUG lines and the
-- failures, and no secret
SELECT * FROM pg_temp.sweep_end('InvalidToken');
SELECT what, leaked, looked FROM swept ORDER BY what;
SELECT count(*) AS activity_leaks FROM pg_stat_activity WHERE query ~ pg_temp.secret_re();
-- nor in the second cluster's log
SELECT pg_read_file(regexp_replace(current_setting('bedlog_test.server_log'), '[^/]*$', 'aux.log'))
       ~ pg_temp.secret_re() AS secret_in_aux_log;

-- clean up
SET client_min_messages = warning;
DROP SERVER cred_off, cred_chain, cred_file, cred_refresh, user_s CASCADE;
DROP FOREIGN TABLE cred_source;
REVOKE ALL ON FOREIGN DATA WRAPPER bedlog_fdw FROM regress_cred_user;
REVOKE ALL ON SCHEMA public FROM regress_cred_user;
DROP ROLE regress_cred_user;
RESET client_min_messages;
