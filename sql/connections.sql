--
-- Connections kept between queries (connection.c): a second query on the
-- same server and user mapping opens no connection, over HTTP or TLS;
-- ALTER SERVER and ALTER USER MAPPING, in this session or another, drop
-- them; a mapping's connections carry its own keys and no other's.  The S3
-- proxy counts the connections that carried a request since its counters
-- were reset, the TLS handshakes among them, and the access key of every
-- request, per connection.  max_concurrency 1 keeps the number of
-- connections a query needs the same from one run to the next.
--
SET timezone = 'UTC';
\set ECHO none
\i sql/include/s3_proxy.sql
\set ECHO all
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;

CREATE FUNCTION pg_temp.conns(OUT requests int, OUT connections int,
                              OUT tls_handshakes int, OUT tls_resumed int,
                              OUT mixed_key_connections int, OUT keys text)
LANGUAGE sql AS $$
  SELECT (j->>'requests')::int, (j->>'connections')::int,
         (j->>'tls_handshakes')::int, (j->>'tls_resumed')::int,
         (j->>'mixed_key_connections')::int,
         (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(j->'by_key') k)
    FROM pg_temp.s3_stats() j $$;

CREATE SERVER s3conn FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712');
CREATE USER MAPPING FOR CURRENT_USER SERVER s3conn
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
CREATE FOREIGN TABLE conn_ex (request_id text) SERVER s3conn
  OPTIONS (location 's3://examples/logs/', max_concurrency '1');

-- the first query opens connections, the next ones reuse them
SELECT pg_temp.s3_reset();
SELECT count(*) FROM conn_ex;
SELECT requests > 1 AS requested, connections > 0 AS connected FROM pg_temp.conns();
SELECT pg_temp.s3_reset();
SELECT count(*) FROM conn_ex;
SELECT count(*) FROM conn_ex;
SELECT requests > 2 AS requested, connections AS connections_opened FROM pg_temp.conns();
-- EXPLAIN (ANALYZE, VERBOSE) says so too
CREATE FUNCTION pg_temp.opened(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF l ~ 'S3 Connections Opened' THEN RETURN btrim(l); END IF;
  END LOOP;
  RETURN NULL;
END $$;
SELECT pg_temp.opened('SELECT count(*) FROM conn_ex');

-- ALTER SERVER drops them: the next query connects again, the one after
-- reuses
ALTER SERVER s3conn OPTIONS (ADD connect_timeout '9');
SELECT pg_temp.s3_reset();
SELECT count(*) FROM conn_ex;
SELECT connections > 0 AS connected_again FROM pg_temp.conns();
SELECT pg_temp.opened('SELECT count(*) FROM conn_ex');
-- and so does ALTER USER MAPPING (the same keys, set again)
ALTER USER MAPPING FOR CURRENT_USER SERVER s3conn
  OPTIONS (SET secret_access_key 'S3RVER');
SELECT pg_temp.s3_reset();
SELECT count(*) FROM conn_ex;
SELECT connections > 0 AS connected_again FROM pg_temp.conns();
SELECT pg_temp.opened('SELECT count(*) FROM conn_ex');
-- also when another session makes the change
SELECT format('dbname=%s port=%s host=%s', current_database(), current_setting('port'),
              split_part(current_setting('unix_socket_directories'), ',', 1)) AS here \gset
SELECT dblink_exec(:'here', 'ALTER SERVER s3conn OPTIONS (SET connect_timeout ''8'')');
SELECT pg_temp.s3_reset();
SELECT count(*) FROM conn_ex;
SELECT connections > 0 AS connected_again FROM pg_temp.conns();
SELECT pg_temp.opened('SELECT count(*) FROM conn_ex');

-- another role's mapping, with other keys: its own connections, and no
-- connection carries the keys of both
CREATE ROLE bedlog_conn_other;
GRANT USAGE ON FOREIGN SERVER s3conn TO bedlog_conn_other;
GRANT SELECT ON conn_ex TO bedlog_conn_other;
CREATE USER MAPPING FOR bedlog_conn_other SERVER s3conn
  OPTIONS (access_key_id 'AKIABEDLOGMAPKEY0001',
           secret_access_key 'MapSecretMapping4Rf7Tg1Yh5Uj9Ik',
           session_token 'MapTokenMappingZ8x6C4v2B0n8M6q4W2e0');
SELECT pg_temp.s3_reset();
SET ROLE bedlog_conn_other;
SELECT count(*) FROM conn_ex;
RESET ROLE;
-- its first query connected (the other mapping's idle connections were
-- not lent to it), and only its key signed
SELECT connections > 0 AS connected, keys FROM pg_temp.conns();
-- (the GRANT on the server changed its catalog row: this mapping's
-- connections were dropped too)
SELECT pg_temp.s3_reset();
SELECT count(*) FROM conn_ex;
SELECT connections > 0 AS connected_again, keys FROM pg_temp.conns();
-- taking turns: every query reuses its own mapping's connections
SELECT pg_temp.s3_reset();
SET ROLE bedlog_conn_other;
SELECT count(*) FROM conn_ex;
RESET ROLE;
SELECT count(*) FROM conn_ex;
SET ROLE bedlog_conn_other;
SELECT count(*) FROM conn_ex;
RESET ROLE;
SELECT count(*) FROM conn_ex;
SELECT connections AS connections_opened, mixed_key_connections, keys FROM pg_temp.conns();

-- what the session keeps, listed and closed as postgres_fdw's are
SELECT server_name, user_name, valid, in_use FROM bedlog_fdw_get_connections() ORDER BY 1, 2;
SELECT bedlog_fdw_disconnect_all();
SELECT count(*) AS kept FROM bedlog_fdw_get_connections();
SELECT pg_temp.s3_reset();
SELECT count(*) FROM conn_ex;
SELECT connections > 0 AS connected_again FROM pg_temp.conns();
-- a changed mapping shows as not valid until its next use
SET ROLE bedlog_conn_other;
SELECT count(*) FROM conn_ex;
RESET ROLE;
ALTER USER MAPPING FOR bedlog_conn_other SERVER s3conn
  OPTIONS (SET secret_access_key 'MapSecretMapping4Rf7Tg1Yh5Uj9Ik');
SELECT server_name, user_name, valid FROM bedlog_fdw_get_connections() ORDER BY 1, 2;

-- two scans of the same server and mapping at once (a join) each have
-- their own connections, and both are kept
SELECT count(*) FROM conn_ex a JOIN conn_ex b USING (request_id);
SELECT count(*) AS kept, bool_and(valid AND NOT in_use) AS idle
  FROM bedlog_fdw_get_connections() WHERE server_name = 's3conn' AND user_name = current_user;
-- while a scan runs, its connections show as in use
SELECT bool_or(c.in_use) AS in_use_while_scanning
  FROM (SELECT request_id FROM conn_ex LIMIT 1) x,
       LATERAL (SELECT in_use FROM bedlog_fdw_get_connections()) c;

-- many queries leave no more sockets or epoll sets open than the first
CREATE TEMP TABLE fd_links (link text);
-- the distinct lines a shell command prints, with their counts
CREATE FUNCTION pg_temp.sh_lines(cmd text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE fd_links;
  EXECUTE format('COPY fd_links FROM PROGRAM %L', cmd);
  RETURN (SELECT string_agg(format('%s %s', n, link), ', ' ORDER BY link)
            FROM (SELECT link, count(*) AS n FROM fd_links GROUP BY link) s);
END $$;
CREATE FUNCTION pg_temp.fds(pattern text) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE fd_links;
  EXECUTE format('COPY fd_links FROM PROGRAM %L',
                 format('find /proc/%s/fd/ -mindepth 1 -lname %s 2>/dev/null',
                        pg_backend_pid(), quote_literal(pattern)));
  RETURN (SELECT count(*) FROM fd_links);
END $$;
SELECT pg_temp.fds('socket:*') AS sockets, pg_temp.fds('anon_inode:*eventpoll*') AS epolls \gset
DO $$ BEGIN
  FOR i IN 1..20 LOOP
    PERFORM count(*) FROM conn_ex;
  END LOOP;
END $$;
SELECT pg_temp.fds('socket:*') <= :sockets AS no_new_sockets,
       pg_temp.fds('anon_inode:*eventpoll*') <= :epolls AS no_new_epoll_sets;

-- the kept connections are closed on exec: a program the backend starts
-- (this COPY's own) does not inherit them.  The backend's sockets connected
-- to the proxy's port (45712 = 0xB290, from /proc/<pid>/net/tcp), and
-- whether O_CLOEXEC (02000000) is in their flags (/proc/<pid>/fdinfo).
SELECT count(*) FROM conn_ex;
SELECT s ~ 'closed-on-exec' AS some_seen, s !~ 'inherited' AS none_inherited
  FROM pg_temp.sh_lines(replace(
  'for l in /proc/PID/fd/*; do '
  '  t=$(readlink $l); case $t in socket:*) ;; *) continue ;; esac; '
  '  i=${t#socket:[}; i=${i%]}; '
  '  awk -v i=$i ''$10 == i && $3 ~ /:B290$/ { f = 1 } END { exit !f }'' /proc/PID/net/tcp /proc/PID/net/tcp6 || continue; '
  '  f=$(awk ''/^flags:/ { print $2 }'' /proc/PID/fdinfo/${l##*/}); '
  '  if [ $((f & 02000000)) -ne 0 ]; then echo closed-on-exec; else echo inherited; fi; '
  'done', 'PID', pg_backend_pid()::text)) AS s;

-- over TLS: no handshake on the second query
CREATE SERVER s3conn_tls FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'https://127.0.0.1:45713');
DO $$ BEGIN
  EXECUTE format('ALTER SERVER s3conn_tls OPTIONS (ADD ca_bundle %L)',
                 current_setting('bedlog_test.fixtures') || '/test-ca.crt');
END $$;
CREATE USER MAPPING FOR CURRENT_USER SERVER s3conn_tls
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
CREATE FOREIGN TABLE conn_tls (request_id text) SERVER s3conn_tls
  OPTIONS (location 's3://examples/logs/', max_concurrency '1');
SELECT pg_temp.s3_reset();
SELECT count(*) FROM conn_tls;
SELECT connections > 0 AS connected, tls_handshakes > 0 AS handshakes FROM pg_temp.conns();
SELECT pg_temp.s3_reset();
SELECT count(*) FROM conn_tls;
SELECT count(*) FROM conn_tls;
SELECT requests > 2 AS requested, connections AS connections_opened,
       tls_handshakes, tls_resumed FROM pg_temp.conns();

DROP SERVER s3conn, s3conn_tls CASCADE;
DROP ROLE bedlog_conn_other;
