--
-- Cancellation with many transfers in flight: a scan of the month's 1,440
-- objects behind a proxy that answers every request 30 ms late (32 GETs
-- in flight) stops within a second of statement_timeout or a cancel.
--
-- dblink: the cancel and the wait events are seen from other sessions
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
CREATE SERVER s3_slow_proxy FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45715');
CREATE USER MAPPING FOR CURRENT_USER SERVER s3_slow_proxy
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
CREATE FOREIGN TABLE slow (model_id text, input_token_count bigint)
  SERVER s3_slow_proxy OPTIONS (location 's3://month/m/');

-- the whole scan completes (a baseline: more than a second of waiting)
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) > 1000 AS many_rows FROM slow;
SELECT clock_timestamp() - :'t0'::timestamptz > interval '1 second' AS takes_over_a_second;

-- statement_timeout in the middle of it
\set VERBOSITY terse
SET statement_timeout = '500ms';
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM slow;
RESET statement_timeout;
SELECT clock_timestamp() - :'t0'::timestamptz < interval '1.5 seconds' AS stopped_within_a_second;

-- a cancel from another session
SELECT dblink_connect('canceller',
  format('dbname=%s port=%s host=%s', current_database(), current_setting('port'),
         split_part(current_setting('unix_socket_directories'), ',', 1)));
SELECT dblink_send_query('canceller',
  format('SELECT pg_sleep(0.5), pg_cancel_backend(%s)', pg_backend_pid()));
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM slow;
SELECT clock_timestamp() - :'t0'::timestamptz < interval '1.5 seconds' AS stopped_within_a_second;
SELECT dblink_disconnect('canceller');
\set VERBOSITY default

-- while its requests are in flight, pg_stat_activity shows the scan waiting
-- on BedlogS3Transfer (PostgreSQL 17 and later; "Extension" before)
\set ECHO none
\i sql/include/waits.sql
\set ECHO all
SELECT format('dbname=%s port=%s host=%s', current_database(), current_setting('port'),
              split_part(current_setting('unix_socket_directories'), ',', 1)) AS here \gset
SELECT dblink_connect('scanner', :'here'), dblink_connect('observer', :'here');
SELECT pid AS scanner_pid FROM dblink('scanner', 'SELECT pg_backend_pid()') AS t(pid int) \gset
SELECT dblink_send_query('scanner', 'SELECT count(*) FROM slow');
SELECT pg_temp.waits_on('observer', :scanner_pid, 'BedlogS3Transfer') AS waits_on_s3;
SELECT n > 1000 AS many_rows FROM dblink_get_result('scanner') AS t(n bigint);
SELECT dblink_disconnect('scanner'), dblink_disconnect('observer');

-- and the session is fine afterwards: no transfer left behind (the
-- connections a scan keeps for the next query closed on both sides)
SELECT bedlog_fdw_disconnect_all() AS ignored \gset
SELECT count(*) AS fds FROM pg_ls_dir('/proc/' || pg_backend_pid() || '/fd') \gset
SELECT count(*) > 1000 AS many_rows FROM slow;
SELECT bedlog_fdw_disconnect_all() AS closed_kept_connections;
SELECT count(*) - :fds <= 0 AS no_new_fds FROM pg_ls_dir('/proc/' || pg_backend_pid() || '/fd');
DROP SERVER s3_slow_proxy CASCADE;
