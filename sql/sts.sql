--
-- Roles: a user mapping's role_arn is assumed through STS (AssumeRole)
-- with the mapping's keys or the server process's own; a web identity
-- token file in the server's environment (EKS IRSA) is exchanged for a
-- role's keys (AssumeRoleWithWebIdentity); profiles of the shared config
-- file (test/s3/aws/config) assume roles, chain them, read a web identity
-- token file or run a credential_process.  sts.py on 127.0.0.1:45714
-- stands in for STS: it checks every AssumeRole signature with botocore's
-- signer and issues short-lived keys; the fault proxy serves the bucket
-- role-logs to those keys only (--role-bucket), checking their session
-- token and expiry.  A third cluster on 45719 has a web identity alone.
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
  SELECT pg_temp.post('http://127.0.0.1:45714/__sts/reset') $$;
CREATE FUNCTION pg_temp.sts() RETURNS jsonb LANGUAGE sql AS $$
  SELECT pg_temp.get_json('http://127.0.0.1:45714/__sts/stats') $$;
CREATE FUNCTION pg_temp.proxy() RETURNS jsonb LANGUAGE sql AS $$
  SELECT pg_temp.get_json('http://127.0.0.1:45712/__bedlog/stats') $$;
-- the access keys the proxy verified since the last reset, by kind
CREATE FUNCTION pg_temp.signed_by() RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(DISTINCT
           regexp_replace(k, '^(ASIA(CTNR|IMDS|ROLE|WEBI))\d{4}X\d+$', '\1...'), ', '), 'nobody')
    FROM jsonb_object_keys(pg_temp.proxy()->'by_access_key') k $$;
-- how many different keys of a kind signed
CREATE FUNCTION pg_temp.keys_of(kind text) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM jsonb_object_keys(pg_temp.proxy()->'by_access_key') k
   WHERE k LIKE 'ASIA' || kind || '%' $$;
-- run q and show its error, the cluster's directory and times left out
CREATE FUNCTION pg_temp.try(q text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE msg text; det text; hint text;
BEGIN
  EXECUTE q;
  RAISE NOTICE 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  RAISE NOTICE E'%\nDETAIL:  %\nHINT:  %', msg,
    regexp_replace(regexp_replace(det, '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', '<time>', 'g'),
                   '"/tmp/[^"]*/aws/', '"<dir>/aws/', 'g'),
    regexp_replace(hint, '"/tmp/[^"]*/aws/', '"<dir>/aws/', 'g');
END $$;

-- the bucket role-logs: six hours of one account and region copied from
-- the bucket logs, and three of them again below fault-delay/ (whose GETs
-- the proxy answers 400 ms late)
SELECT pg_temp.copy_hours('role-logs');
CREATE FOREIGN TABLE sts_source (request_id text, s3_key text) SERVER s3
  OPTIONS (location 's3://logs/bedrock/AWSLogs/111111111111/BedrockModelInvocationLogs/us-east-1/');
SELECT count(*) AS rows_expected FROM sts_source \gset
SELECT count(*) AS delay_rows_expected FROM sts_source
  WHERE s3_key ~ '/2026/11/01/0[012]/' \gset
SELECT :rows_expected > 10 AS enough_rows, :delay_rows_expected > 2 AS enough_delay_rows;

--
-- 1. The mapping's keys assume the log account's role.  The keys alone
-- may not read its bucket; the role's may.
--
CREATE SERVER sts_map FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712', sts_endpoint 'http://127.0.0.1:45714');
CREATE FOREIGN TABLE role_logs (request_id text) SERVER sts_map
  OPTIONS (location 's3://role-logs/');
CREATE USER MAPPING FOR CURRENT_USER SERVER sts_map
  OPTIONS (access_key_id 'AKIABEDLOGMAPKEY0001',
           secret_access_key 'MapSecretMapping4Rf7Tg1Yh5Uj9Ik',
           session_token 'MapTokenMappingZ8x6C4v2B0n8M6q4W2e0');
SELECT pg_temp.reset();
SELECT count(*) FROM role_logs;
SELECT pg_temp.proxy()->'role_rejects' AS refused_without_the_role;
ALTER USER MAPPING FOR CURRENT_USER SERVER sts_map
  OPTIONS (ADD role_arn 'arn:aws:iam::222222222222:role/bedlog-log-reader');
SELECT pg_temp.reset();
SELECT count(*) = :rows_expected AS all_rows FROM role_logs;
SELECT pg_temp.signed_by(),
       s->'assume_role' AS assume_role_calls, s->'signatures_verified' AS signatures_verified,
       s->'callers' AS callers, s->'session_names' AS session_names, s->'durations' AS durations
  FROM pg_temp.sts() s;
-- kept: the next query asks STS nothing
SELECT count(*) = :rows_expected AS all_rows FROM role_logs;
SELECT pg_temp.sts()->'assume_role' AS assume_role_calls;
-- a session name and a duration of one's own
ALTER USER MAPPING FOR CURRENT_USER SERVER sts_map
  OPTIONS (ADD role_session_name 'grafana-reader', ADD role_duration '20 minutes');
SELECT count(*) = :rows_expected AS all_rows FROM role_logs;
SELECT s->'session_names' AS session_names, s->'durations' AS durations FROM pg_temp.sts() s;
-- longer than the role allows: STS's words, and a hint
ALTER USER MAPPING FOR CURRENT_USER SERVER sts_map
  OPTIONS (SET role_duration '2 hours');
SELECT pg_temp.try('SELECT count(*) FROM role_logs');
ALTER USER MAPPING FOR CURRENT_USER SERVER sts_map
  OPTIONS (DROP role_session_name, DROP role_duration);

--
-- 2. Refused: an identity the role does not trust, a wrong external ID,
-- a missing one.  The error names the role and the identity that called.
--
ALTER USER MAPPING FOR CURRENT_USER SERVER sts_map
  OPTIONS (SET access_key_id 'AKIABEDLOGMAPKEY0002',
           SET secret_access_key 'MapSecretOutsider8Hn3Kd6Qw1Ze5Xp',
           DROP session_token);
SELECT pg_temp.try('SELECT count(*) FROM role_logs');
ALTER USER MAPPING FOR CURRENT_USER SERVER sts_map
  OPTIONS (SET access_key_id 'AKIABEDLOGMAPKEY0001',
           SET secret_access_key 'MapSecretMapping4Rf7Tg1Yh5Uj9Ik',
           ADD session_token 'MapTokenMappingZ8x6C4v2B0n8M6q4W2e0',
           SET role_arn 'arn:aws:iam::222222222222:role/bedlog-partner',
           ADD external_id 'bedlog-partner-0000');
SELECT pg_temp.try('SELECT count(*) FROM role_logs');
ALTER USER MAPPING FOR CURRENT_USER SERVER sts_map OPTIONS (DROP external_id);
SELECT pg_temp.try('SELECT count(*) FROM role_logs');
ALTER USER MAPPING FOR CURRENT_USER SERVER sts_map
  OPTIONS (ADD external_id 'bedlog-partner-7731');
SELECT pg_temp.reset();
SELECT count(*) = :rows_expected AS all_rows FROM role_logs;
SELECT pg_temp.signed_by(), pg_temp.sts()->'access_denied' AS denied;
-- wrong keys of the mapping: STS refuses the signature
ALTER USER MAPPING FOR CURRENT_USER SERVER sts_map
  OPTIONS (SET secret_access_key 'MapSecretMapping4Rf7Tg1Yh5UjXXX');
SELECT pg_temp.try('SELECT count(*) FROM role_logs');
SELECT pg_temp.sts()->'signature_rejects' AS bad_signatures;
-- an STS that does not answer well: the error says so
ALTER USER MAPPING FOR CURRENT_USER SERVER sts_map
  OPTIONS (SET secret_access_key 'MapSecretMapping4Rf7Tg1Yh5Uj9Ik', ADD role_session_name 'sts-down');
SELECT pg_temp.post('http://127.0.0.1:45714/__sts/config?status=500');
SELECT pg_temp.try('SELECT count(*) FROM role_logs');
SELECT pg_temp.post('http://127.0.0.1:45714/__sts/reset');
-- a role without any keys to assume it with
CREATE SERVER sts_nokeys FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712', sts_endpoint 'http://127.0.0.1:45714');
CREATE FOREIGN TABLE nokeys_logs (request_id text) SERVER sts_nokeys
  OPTIONS (location 's3://role-logs/');
CREATE USER MAPPING FOR CURRENT_USER SERVER sts_nokeys
  OPTIONS (role_arn 'arn:aws:iam::222222222222:role/bedlog-log-reader');
SELECT pg_temp.try('SELECT count(*) FROM nokeys_logs');
SELECT pg_temp.sts()->'assume_role' AS assume_role_calls;

--
-- 3. The server process's own identity assumes the role (the chain: its
-- environment variables here)
--
CREATE SERVER sts_chain FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712', sts_endpoint 'http://127.0.0.1:45714',
           use_instance_credentials 'true');
CREATE FOREIGN TABLE chain_role_logs (request_id text) SERVER sts_chain
  OPTIONS (location 's3://role-logs/');
CREATE USER MAPPING FOR CURRENT_USER SERVER sts_chain
  OPTIONS (role_arn 'arn:aws:iam::222222222222:role/bedlog-log-reader');
SELECT pg_temp.reset();
SELECT count(*) = :rows_expected AS all_rows FROM chain_role_logs;
SELECT pg_temp.signed_by(), pg_temp.sts()->'callers' AS callers;

--
-- 4. Refresh: role keys that live 3 seconds, a scan of 400 ms objects one
-- at a time.  The role is assumed again before its keys expire, in the
-- middle of the scan; the proxy refuses expired keys, and refused none.
--
CREATE SERVER sts_refresh FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712', sts_endpoint 'http://127.0.0.1:45714',
           max_concurrency '1', max_retries '0');
CREATE FOREIGN TABLE refresh_role_logs (request_id text) SERVER sts_refresh
  OPTIONS (location 's3://role-logs/fault-delay/');
CREATE USER MAPPING FOR CURRENT_USER SERVER sts_refresh
  OPTIONS (access_key_id 'AKIABEDLOGMAPKEY0001',
           secret_access_key 'MapSecretMapping4Rf7Tg1Yh5Uj9Ik',
           session_token 'MapTokenMappingZ8x6C4v2B0n8M6q4W2e0',
           role_arn 'arn:aws:iam::222222222222:role/bedlog-log-reader',
           role_session_name 'refresh-test');
SELECT pg_temp.reset();
SELECT pg_temp.post('http://127.0.0.1:45714/__sts/config?lifetime=3');
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) = :delay_rows_expected AS all_rows FROM refresh_role_logs;
SELECT clock_timestamp() - :'t0'::timestamptz > interval '3 seconds' AS scan_outlived_the_keys,
       (pg_temp.sts()->>'assume_role')::int >= 2 AS assumed_again_during_the_scan,
       pg_temp.keys_of('ROLE') >= 2 AS signed_with_several_keys,
       pg_temp.proxy()->'expired_rejects' AS expired_refused;
-- and between queries: past their expiry, the next query assumes it again
SELECT pg_sleep(3);
SELECT (pg_temp.sts()->>'assume_role')::int AS before \gset
SELECT count(*) = :delay_rows_expected AS all_rows FROM refresh_role_logs;
SELECT (pg_temp.sts()->>'assume_role')::int > :before AS assumed_again,
       pg_temp.proxy()->'expired_rejects' AS expired_refused;
SELECT pg_temp.post('http://127.0.0.1:45714/__sts/reset');

--
-- 5. A web identity (EKS IRSA), in the third cluster: its server process
-- has AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN and AWS_ROLE_SESSION_NAME
-- and nothing else.  The token file is read again at each refresh.
--
CREATE FUNCTION pg_temp.set_web_token(suffix text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('COPY (SELECT %L) TO %L', 'WebId' || 'Token' || suffix,
                 regexp_replace(current_setting('bedlog_test.server_log'), '[^/]*$', 'aws/web-identity-token'));
END $$;
SELECT dblink_connect('webid',
  format('host=%s port=45719 dbname=postgres user=postgres',
         split_part(current_setting('unix_socket_directories'), ',', 1)));
SELECT dblink_exec('webid', $$CREATE EXTENSION bedlog_fdw$$);
SELECT dblink_exec('webid', $$SET max_parallel_workers_per_gather = 0$$);
SELECT dblink_exec('webid', $$SET log_min_messages = debug5$$);
SELECT dblink_exec('webid', $$SET debug_print_plan = on$$);
SELECT dblink_exec('webid', $$CREATE SERVER eks FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712', sts_endpoint 'http://127.0.0.1:45714',
           use_instance_credentials 'true')$$);
SELECT dblink_exec('webid', $$CREATE FOREIGN TABLE eks_logs (request_id text) SERVER eks
  OPTIONS (location 's3://role-logs/')$$);
SELECT pg_temp.reset();
SELECT pg_temp.set_web_token('OK-first');
SELECT n = :rows_expected AS all_rows FROM dblink('webid', 'SELECT count(*) FROM eks_logs') AS t(n bigint);
SELECT pg_temp.signed_by(), s->'web_identity' AS web_identity_calls,
       s->'session_names' AS session_names, s->'web_tokens_seen' AS tokens_seen
  FROM pg_temp.sts() s;
-- 3-second keys, and a rotated token: each refresh reads the file again
SELECT pg_temp.post('http://127.0.0.1:45714/__sts/config?lifetime=3');
SELECT dblink_exec('webid', $$ALTER SERVER eks OPTIONS (ADD aws_profile 'rotated')$$);
SELECT n = :rows_expected AS all_rows FROM dblink('webid', 'SELECT count(*) FROM eks_logs') AS t(n bigint);
SELECT pg_temp.set_web_token('OK-second');
SELECT pg_sleep(3);
SELECT n = :rows_expected AS all_rows FROM dblink('webid', 'SELECT count(*) FROM eks_logs') AS t(n bigint);
SELECT (s->>'web_identity')::int >= 3 AS asked_again, s->'web_tokens_seen' AS tokens_seen,
       pg_temp.proxy()->'expired_rejects' AS expired_refused
  FROM pg_temp.sts() s;
-- an expired token: STS's words, and a hint about the file
SELECT pg_temp.set_web_token('Old-expired');
SELECT pg_sleep(3);
SELECT pg_temp.try($$SELECT * FROM dblink('webid', 'SELECT count(*) FROM eks_logs') AS t(n bigint)$$);
SELECT pg_temp.set_web_token('OK-third');
SELECT pg_temp.post('http://127.0.0.1:45714/__sts/reset');

--
-- 6. Who may set what.  Options are checked; a non-superuser may give
-- their own mapping a role and an external ID, never a server its STS.
--
ALTER USER MAPPING FOR CURRENT_USER SERVER sts_map OPTIONS (SET role_arn 'arn:aws:s3:::role-logs');
ALTER USER MAPPING FOR CURRENT_USER SERVER sts_map OPTIONS (SET role_session_name 'a b');
ALTER USER MAPPING FOR CURRENT_USER SERVER sts_map OPTIONS (ADD role_duration '10 minutes');
ALTER USER MAPPING FOR CURRENT_USER SERVER sts_map OPTIONS (SET external_id 'x');
ALTER SERVER sts_map OPTIONS (SET sts_endpoint 'http://127.0.0.1:45714/path');
ALTER SERVER sts_map OPTIONS (ADD role_arn 'arn:aws:iam::222222222222:role/bedlog-log-reader');
CREATE ROLE regress_sts_user LOGIN;
GRANT USAGE ON FOREIGN DATA WRAPPER bedlog_fdw TO regress_sts_user;
GRANT USAGE ON FOREIGN SERVER sts_map TO regress_sts_user;
GRANT CREATE ON SCHEMA public TO regress_sts_user;
SET ROLE regress_sts_user;
CREATE SERVER user_sts FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (sts_endpoint 'http://127.0.0.1:45714');                 -- superuser only
CREATE SERVER user_proc FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (allow_credential_process 'true');                       -- superuser only
CREATE USER MAPPING FOR CURRENT_USER SERVER sts_map
  OPTIONS (access_key_id 'AKIABEDLOGMAPKEY0001',
           secret_access_key 'MapSecretMapping4Rf7Tg1Yh5Uj9Ik',
           session_token 'MapTokenMappingZ8x6C4v2B0n8M6q4W2e0',
           role_arn 'arn:aws:iam::222222222222:role/bedlog-partner',
           external_id 'bedlog-partner-7731');
CREATE FOREIGN TABLE user_role_logs (request_id text) SERVER sts_map
  OPTIONS (location 's3://role-logs/');
RESET ROLE;
SELECT pg_temp.reset();
SET ROLE regress_sts_user;
SELECT count(*) = :rows_expected AS all_rows FROM user_role_logs;
RESET ROLE;
SELECT pg_temp.signed_by(), s->'session_names' AS session_names FROM pg_temp.sts() s;
-- another user's mapping is not theirs to change
SET ROLE regress_sts_user;
ALTER USER MAPPING FOR postgres SERVER sts_map OPTIONS (SET external_id 'bedlog-partner-0000');
RESET ROLE;

--
-- 7. Shared config profiles (AWS_CONFIG_FILE: test/s3/aws/config), named
-- by aws_profile on a server with use_instance_credentials: a role whose
-- caller is a source_profile (the credentials file's profile bedlog), a
-- chain of two roles, a credential_source, a web identity token file,
-- a loop, and a credential_process, which only a server whose superuser
-- allowed it runs.
--
CREATE SERVER sts_prof FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712', sts_endpoint 'http://127.0.0.1:45714',
           use_instance_credentials 'true', aws_profile 'to-reader');
CREATE FOREIGN TABLE prof_logs (request_id text) SERVER sts_prof
  OPTIONS (location 's3://role-logs/');
CREATE FOREIGN TABLE prof_plain (request_id text) SERVER sts_prof
  OPTIONS (location 's3://logs/bedrock/AWSLogs/111111111111/BedrockModelInvocationLogs/us-east-1/');
SELECT pg_temp.reset();
SELECT count(*) = :rows_expected AS all_rows FROM prof_logs;
SELECT pg_temp.signed_by(), s->'callers' AS callers, s->'session_names' AS session_names
  FROM pg_temp.sts() s;
-- two hops: to-reader's role assumes bedlog-chain-reader, which trusts
-- only an assumed role (a nested "s3 =" block's role_arn is not the
-- profile's)
ALTER SERVER sts_prof OPTIONS (SET aws_profile 'chained');
SELECT pg_temp.reset();
SELECT count(*) = :rows_expected AS all_rows FROM prof_logs;
SELECT pg_temp.signed_by(), s->'assume_role' AS assume_role_calls, s->'callers' AS callers,
       s->'session_names' AS session_names, s->'durations' AS durations
  FROM pg_temp.sts() s;
-- credential_source Environment, with the profile's external_id; without
-- it, STS refuses, and the error names the profile and its caller
ALTER SERVER sts_prof OPTIONS (SET aws_profile 'env-role');
SELECT pg_temp.reset();
SELECT count(*) = :rows_expected AS all_rows FROM prof_logs;
SELECT pg_temp.signed_by(), s->'callers' AS callers, s->'session_names' AS session_names
  FROM pg_temp.sts() s;
ALTER SERVER sts_prof OPTIONS (SET aws_profile 'env-role-no-external-id');
SELECT pg_temp.try('SELECT count(*) FROM prof_logs');
-- a web identity token file of the profile's own
SELECT pg_temp.set_web_token('OK-profile');
ALTER SERVER sts_prof OPTIONS (SET aws_profile 'webid');
SELECT pg_temp.reset();
SELECT count(*) = :rows_expected AS all_rows FROM prof_logs;
SELECT pg_temp.signed_by(), s->'web_identity' AS web_identity_calls,
       s->'session_names' AS session_names
  FROM pg_temp.sts() s;
-- source_profile settings that loop
ALTER SERVER sts_prof OPTIONS (SET aws_profile 'loop-a');
SELECT pg_temp.try('SELECT count(*) FROM prof_logs');
-- credential_process: refused unless the server allows it
ALTER SERVER sts_prof OPTIONS (SET aws_profile 'process');
SELECT pg_temp.reset();
SELECT pg_temp.try('SELECT count(*) FROM prof_plain');
SELECT pg_temp.signed_by();
ALTER SERVER sts_prof OPTIONS (ADD allow_credential_process 'true');
SELECT count(*) = :rows_expected AS all_rows FROM prof_plain;
SELECT pg_temp.signed_by();
-- its keys assume a role
ALTER SERVER sts_prof OPTIONS (SET aws_profile 'process-role');
SELECT pg_temp.reset();
SELECT count(*) = :rows_expected AS all_rows FROM prof_logs;
SELECT pg_temp.signed_by(), s->'callers' AS callers FROM pg_temp.sts() s;
-- a process that fails: its exit status, never its output
ALTER SERVER sts_prof OPTIONS (SET aws_profile 'process-fails');
SELECT pg_temp.try('SELECT count(*) FROM prof_plain');
-- one that hangs: the cancel (statement_timeout) kills it
ALTER SERVER sts_prof OPTIONS (SET aws_profile 'process-hangs');
SET statement_timeout = '2s';
SELECT count(*) FROM prof_plain;
RESET statement_timeout;
CREATE TEMP TABLE hung (state text);
SELECT format('COPY hung FROM PROGRAM %L',
  format('pid=$(cat %s) && if kill -0 "$pid" 2>/dev/null; then echo alive; else echo gone; fi',
         regexp_replace(current_setting('bedlog_test.server_log'), '[^/]*$', 'aws/process-hangs.pid')))
  AS copy_hung \gset
:copy_hung;
SELECT state AS hung_process FROM hung;

--
-- 8. No secret anywhere: error fields, EXPLAIN, pg_stat_activity and the
-- server logs at DEBUG5 with plan dumps, after failing and succeeding
-- role queries; the role's secret keys and session tokens, the web
-- identity token and a credential_process's keys (and what a failing one
-- printed) included, and the signature of a call to STS.  (The pattern
-- is assembled at run time.)
--
CREATE FUNCTION pg_temp.secret_re() RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(w || s, '|') || '|WebId' || 'Token'
         || '|Signa' || 'ture=|Creden' || 'tial=|X-Amz-Security' || '-Token'
    FROM unnest(ARRAY['Map', 'Env', 'File', 'Tmp', 'Pod', 'Sts', 'Proc']) w,
         unnest(ARRAY['Secret', 'Token']) s $$;
\set ECHO none
\i sql/include/sweep.sql
\set ECHO all
SELECT pg_temp.sweep_begin();
SELECT pg_temp.sweep('role', 'SELECT * FROM role_logs');
SELECT pg_temp.sweep('role from the chain', 'SELECT * FROM chain_role_logs');
ALTER USER MAPPING FOR CURRENT_USER SERVER sts_map OPTIONS (SET external_id 'bedlog-partner-0000');
SELECT pg_temp.sweep('role refused', 'SELECT * FROM role_logs');
SELECT count(*) FROM role_logs;     -- and at top level, so that it is logged
SELECT pg_temp.post('http://127.0.0.1:45714/__sts/config?lifetime=3');
SELECT pg_sleep(3);
SELECT pg_temp.sweep('role refreshed', 'SELECT * FROM refresh_role_logs');
ALTER SERVER sts_prof OPTIONS (SET aws_profile 'chained');
SELECT pg_temp.sweep('profile chain', 'SELECT * FROM prof_logs');
ALTER SERVER sts_prof OPTIONS (SET aws_profile 'webid');
SELECT pg_temp.sweep('profile web identity', 'SELECT * FROM prof_logs');
ALTER SERVER sts_prof OPTIONS (SET aws_profile 'process-role');
SELECT pg_temp.sweep('profile credential_process', 'SELECT * FROM prof_logs');
ALTER SERVER sts_prof OPTIONS (SET aws_profile 'process-fails');
SELECT pg_temp.sweep('profile credential_process fails', 'SELECT * FROM prof_plain');
SELECT count(*) FROM prof_plain;     -- and at top level, so that it is logged
SELECT pg_temp.post('http://127.0.0.1:45714/__sts/reset');
-- the log since the sweep began: the plan dumps, the DEBUG lines and the
-- failures, and no secret
SELECT * FROM pg_temp.sweep_end('AccessDenied');
SELECT what, leaked, looked FROM swept ORDER BY what;
SELECT count(*) AS activity_leaks FROM pg_stat_activity WHERE query ~ pg_temp.secret_re();
-- nor in the web identity cluster's log (DEBUG5, plan dumps, an expired token)
WITH l AS (SELECT pg_read_file(regexp_replace(current_setting('bedlog_test.server_log'), '[^/]*$', 'webid.log')) AS t)
SELECT t ~ ':commandType 1' AS log_has_plan_dumps,
       t ~ 'ExpiredTokenException' AS log_has_the_failure,
       t ~ pg_temp.secret_re() AS secret_in_webid_log
  FROM l;

-- clean up
SELECT dblink_exec('webid', $$DROP EXTENSION bedlog_fdw CASCADE$$);
SELECT dblink_disconnect('webid');
SET client_min_messages = warning;
DROP SERVER sts_map, sts_nokeys, sts_chain, sts_refresh, sts_prof CASCADE;
DROP FOREIGN TABLE sts_source;
REVOKE ALL ON FOREIGN DATA WRAPPER bedlog_fdw FROM regress_sts_user;
REVOKE ALL ON SCHEMA public FROM regress_sts_user;
DROP ROLE regress_sts_user;
RESET client_min_messages;
