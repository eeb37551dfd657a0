--
-- Scale-out: three clusters on loopback.  The test cluster is the
-- coordinator (postgres_fdw, examples/scale_out.sql) and the single node to
-- compare with; the clusters on 45717 and 45719 (scripts/lib.sh,
-- pg_start_aux) are the two nodes, each with a database of its own and a
-- table over the month of logs (s3://month/m/) with shard '0/2' or '1/2'.
-- The nodes sign with two different mapping keys, so the proxy's GET
-- counters by access key tell what each node read.
--
SET timezone = 'UTC';
\set VERBOSITY default
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
RESET client_min_messages;
\set ECHO none
\i sql/include/s3_proxy.sql
\i examples/scale_out.sql
\set ECHO all

-- the option: shard i of n, 0 <= i < n <= 1024
CREATE FOREIGN TABLE shard_t (s3_key text, s3_shard int) SERVER s3
  OPTIONS (location 's3://month/m/', shard '2/2');                  -- bad
CREATE FOREIGN TABLE shard_t (s3_key text, s3_shard int) SERVER s3
  OPTIONS (location 's3://month/m/', shard '0/0');                  -- bad
CREATE FOREIGN TABLE shard_t (s3_key text, s3_shard int) SERVER s3
  OPTIONS (location 's3://month/m/', shard '1');                    -- bad
CREATE FOREIGN TABLE shard_t (s3_key text, s3_shard int) SERVER s3
  OPTIONS (location 's3://month/m/', shard '0/1025');               -- bad
CREATE FOREIGN TABLE shard_t (s3_key text, s3_shard int) SERVER s3
  OPTIONS (location 's3://month/m/', shard ' 0/2');                 -- bad
CREATE FOREIGN TABLE shard_t (s3_key text, s3_shard int) SERVER s3
  OPTIONS (location 's3://month/m/', shard '2/3');
EXPLAIN (COSTS OFF) SELECT * FROM shard_t;

-- the documented hash, written again in SQL: FNV-1a 32-bit of the key's
-- bytes, modulo n
CREATE FUNCTION pg_temp.fnv1a(key text) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE h bigint := 2166136261; b bytea := convert_to(key, 'UTF8');
BEGIN
  FOR i IN 0 .. length(b) - 1 LOOP
    h := ((h # get_byte(b, i)) * 16777619) % 4294967296;
  END LOOP;
  RETURN h;
END $$;
-- the month's objects as S3 holds them now (objindex.sql, when it runs
-- before, rewrites one and deletes another), each with that hash
CREATE FOREIGN TABLE month_keys (s3_key text) SERVER s3 OPTIONS (location 's3://month/m/');
CREATE TEMP TABLE month_objects AS
  SELECT DISTINCT s3_key AS key, pg_temp.fnv1a(s3_key) AS h FROM month_keys;
DROP FOREIGN TABLE month_keys;
SELECT count(*) >= 1439 AS the_month,
       count(*) FILTER (WHERE h % 2 = 0) BETWEEN 0.35 * count(*) AND 0.65 * count(*) AS two_balanced_shards
  FROM month_objects;
-- the table reads the objects of its shard and no other, and s3_shard is
-- the hash modulo n of each row's object
SELECT count(DISTINCT s3_key) > 400 AS objects_enough,
       count(DISTINCT s3_key) = (SELECT count(*) FROM month_objects WHERE h % 3 = 2) AS all_of_shard_2,
       bool_and(s3_shard = 2) AS s3_shard_2,
       bool_and(s3_shard = (SELECT h % 3 FROM month_objects WHERE key = s3_key)) AS the_documented_hash
  FROM shard_t;
-- within the shard: parallel workers, ANALYZE and the object index see
-- its objects alone, each once
CREATE FUNCTION pg_temp.gets_in_shard() RETURNS TABLE (objects bigint, all_in_shard_2 bool, none_twice bool)
  LANGUAGE sql AS $$
  SELECT count(*), coalesce(bool_and(o.h % 3 = 2), false), coalesce(bool_and(g.value::int = 1), false)
    FROM jsonb_each_text(pg_temp.s3_stats()->'get_keys') g
    JOIN month_objects o ON 'month/' || o.key = g.key $$;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
EXPLAIN (COSTS OFF) SELECT count(*) FROM shard_t;
SELECT pg_temp.s3_reset();
SELECT count(*) AS parallel_rows FROM shard_t \gset
SELECT objects = (SELECT count(*) FROM month_objects WHERE h % 3 = 2) AS all_of_shard_2_read,
       all_in_shard_2, none_twice FROM pg_temp.gets_in_shard();
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
SELECT count(*) = :parallel_rows AS parallel_rows_equal_serial FROM shard_t;
SELECT pg_temp.s3_reset();
ANALYZE shard_t;
SELECT objects > 10 AS sampled_enough, all_in_shard_2, none_twice FROM pg_temp.gets_in_shard();
SELECT bedlog_index_refresh('shard_t') = (SELECT count(*) FROM month_objects WHERE h % 3 = 2)
       AS all_of_shard_2_indexed;
SELECT count(*) = (SELECT count(*) FROM month_objects WHERE h % 3 = 2) AS entries_of_shard_2,
       bool_and(o.h % 3 = 2) AS all_in_shard_2
  FROM bedlog_object_index i JOIN month_objects o ON o.key = i.key
 WHERE i.ftrelid = 'shard_t'::regclass;
-- without the option, s3_shard is 0
CREATE FOREIGN TABLE unsharded_t (s3_shard int, "timestamp" timestamptz) SERVER s3
  OPTIONS (location 's3://month/m/');
SELECT DISTINCT s3_shard FROM unsharded_t WHERE "timestamp" >= '2026-11-20' AND "timestamp" < '2026-11-20 03:00';
DELETE FROM bedlog_object_index WHERE ftrelid = 'shard_t'::regclass;
DROP FOREIGN TABLE shard_t, unsharded_t;

--
-- The nodes: a database of their own on each aux cluster, the extension,
-- the server, a mapping with the node's own keys, and IMPORT with shard
--
CREATE FUNCTION pg_temp.node_setup(port int, shard text, key_id text, secret text, token text)
  RETURNS void LANGUAGE plpgsql AS $$
DECLARE c text := format('host=127.0.0.1 port=%s dbname=postgres user=postgres', port);
BEGIN
  PERFORM dblink_exec(c, 'DROP DATABASE IF EXISTS bedlog_shard');
  PERFORM dblink_exec(c, 'CREATE DATABASE bedlog_shard');
  c := format('host=127.0.0.1 port=%s dbname=bedlog_shard user=postgres', port);
  PERFORM dblink_exec(c, 'CREATE EXTENSION bedlog_fdw');
  PERFORM dblink_exec(c, $q$CREATE SERVER s3 FOREIGN DATA WRAPPER bedlog_fdw
    OPTIONS (endpoint 'http://127.0.0.1:45712', aws_region 'us-east-1')$q$);
  PERFORM dblink_exec(c, format('CREATE USER MAPPING FOR postgres SERVER s3
    OPTIONS (access_key_id %L, secret_access_key %L, session_token %L)', key_id, secret, token));
  PERFORM dblink_exec(c, format($q$IMPORT FOREIGN SCHEMA bedrock FROM SERVER s3 INTO public
    OPTIONS (location 's3://month/m/', discovery_ttl '0', shard %L)$q$, shard));
  PERFORM dblink_exec(c, 'ALTER DATABASE bedlog_shard SET max_parallel_workers_per_gather = 0');
END $$;
SELECT pg_temp.node_setup(45717, '0/2', 'AKIABEDLOGMAPKEY0001', 'MapSecretMapping4Rf7Tg1Yh5Uj9Ik',
                          'MapTokenMappingZ8x6C4v2B0n8M6q4W2e0');
SELECT pg_temp.node_setup(45719, '1/2', 'AKIABEDLOGPROCKEY001', 'ProcSecretProcess2Wd8Fj4Lk6Zq0Mn',
                          'ProcTokenProcessR5t7Y9u1I3o5P7a9S1d3');

--
-- The coordinator: a postgres_fdw server per node, and the partitioned
-- table of examples/scale_out.sql
--
CREATE SERVER node0 FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host '127.0.0.1', port '45717', dbname 'bedlog_shard');
CREATE SERVER node1 FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host '127.0.0.1', port '45719', dbname 'bedlog_shard');
CREATE USER MAPPING FOR CURRENT_USER SERVER node0 OPTIONS (user 'postgres');
CREATE USER MAPPING FOR CURRENT_USER SERVER node1 OPTIONS (user 'postgres');
-- the servers in the wrong order: refused
\set SHOW_CONTEXT never
SELECT bedlog_scale_out('month_all', ARRAY['node1', 'node0']);
\set SHOW_CONTEXT errors
SELECT bedlog_scale_out('month_all', ARRAY['node0', 'node1']);
-- partitioned by s3_shard, the node table's columns, a foreign partition a node
SELECT pg_get_partkeydef('month_all'::regclass) AS partition_key,
       (SELECT string_agg(attname, ', ' ORDER BY attnum) FROM pg_attribute
         WHERE attrelid = 'month_all'::regclass AND attnum > 0) AS columns;
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound, s.srvname, ft.ftoptions
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  JOIN pg_foreign_table ft ON ft.ftrelid = c.oid JOIN pg_foreign_server s ON s.oid = ft.ftserver
 WHERE i.inhparent = 'month_all'::regclass ORDER BY 1;

-- the single node to compare with: this cluster's own table, all shards
CREATE FOREIGN TABLE month_one (
  "timestamp" timestamptz, account_id text, region text, model_id text,
  operation text, input_token_count bigint, output_token_count bigint,
  request_id text, s3_key text, s3_shard int
) SERVER s3 OPTIONS (location 's3://month/m/', discovery_ttl '0');

--
-- Answers: the coordinator's equal the single node's
--
CREATE FUNCTION pg_temp.same(q text, min_rows int) RETURNS TABLE (enough_rows bool, same_answer bool)
  LANGUAGE plpgsql AS $$
DECLARE a text; b text;
BEGIN
  EXECUTE format('SELECT string_agg(t::text, %L ORDER BY t::text) FROM (%s) t', E'\n',
                 replace(q, 'FROM month', 'FROM month_one')) INTO a;
  EXECUTE format('SELECT string_agg(t::text, %L ORDER BY t::text) FROM (%s) t', E'\n',
                 replace(q, 'FROM month', 'FROM month_all')) INTO b;
  enough_rows := coalesce(array_length(string_to_array(a, E'\n'), 1), 0) >= min_rows;
  same_answer := a IS NOT NULL AND a = b;
  RETURN NEXT;
END $$;
-- counts
SELECT * FROM pg_temp.same($$SELECT count(*), count(DISTINCT request_id) FROM month$$, 1);
-- sums per model
SELECT * FROM pg_temp.same($$SELECT model_id, count(*), sum(input_token_count), sum(output_token_count)
  FROM month GROUP BY model_id$$, 100);
-- a time window
SELECT * FROM pg_temp.same($$SELECT request_id, "timestamp", input_token_count FROM month
  WHERE "timestamp" >= '2026-11-10 06:00+00' AND "timestamp" < '2026-11-12 18:00+00'$$, 200);
-- a model filter
SELECT * FROM pg_temp.same($$SELECT date_trunc('day', "timestamp") AS day, count(*), sum(input_token_count)
  FROM month WHERE model_id = 'anthropic.claude-3-haiku-20240307-v1:0' GROUP BY 1$$, 25);
-- and these answers are not empty or alike
SELECT count(*) > 2000 AS records_enough, count(DISTINCT model_id) > 100 AS models_enough FROM month_one;
SELECT count(*) > 100 AS window_rows_enough FROM month_one
  WHERE "timestamp" >= '2026-11-10 06:00+00' AND "timestamp" < '2026-11-12 18:00+00';
SELECT count(*) > 50 AS model_rows_enough FROM month_one
  WHERE model_id = 'anthropic.claude-3-haiku-20240307-v1:0';

--
-- What S3 saw: the nodes' GETs, by the key each signs with, add up to the
-- objects a single node reads, without overlap; each node's are exactly
-- its shard's
--
CREATE FUNCTION pg_temp.gets(s jsonb, key_id text) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT substring(k FROM '^month/(.*)$')
    FROM jsonb_object_keys(coalesce(s->'get_keys_by_access_key'->key_id, '{}')) k $$;
CREATE FUNCTION pg_temp.split(q text)
  RETURNS TABLE (single_node int, node0 int, node1 int, add_up bool, overlap int,
                 node0_share numeric, node1_share numeric, each_its_shard bool)
  LANGUAGE plpgsql AS $$
DECLARE s jsonb;
BEGIN
  PERFORM pg_temp.s3_reset();
  EXECUTE replace(q, 'FROM month', 'FROM month_one');
  s := pg_temp.s3_stats();
  CREATE TEMP TABLE one_gets AS SELECT pg_temp.gets(s, 'S3RVER') AS key;
  PERFORM pg_temp.s3_reset();
  EXECUTE replace(q, 'FROM month', 'FROM month_all');
  s := pg_temp.s3_stats();
  CREATE TEMP TABLE node_gets AS
    SELECT 0 AS node, pg_temp.gets(s, 'AKIABEDLOGMAPKEY0001') AS key
    UNION ALL SELECT 1, pg_temp.gets(s, 'AKIABEDLOGPROCKEY001');
  single_node := (SELECT count(*) FROM one_gets);
  node0 := (SELECT count(*) FROM node_gets WHERE node = 0);
  node1 := (SELECT count(*) FROM node_gets WHERE node = 1);
  add_up := NOT EXISTS (SELECT key FROM one_gets EXCEPT SELECT key FROM node_gets)
        AND NOT EXISTS (SELECT key FROM node_gets EXCEPT SELECT key FROM one_gets)
        AND node0 + node1 = single_node;
  overlap := (SELECT count(*) FROM (SELECT key FROM node_gets WHERE node = 0
                                    INTERSECT SELECT key FROM node_gets WHERE node = 1) x);
  node0_share := round(node0::numeric / nullif(single_node, 0), 2);
  node1_share := round(node1::numeric / nullif(single_node, 0), 2);
  each_its_shard := NOT EXISTS (SELECT FROM node_gets g JOIN month_objects o USING (key)
                                WHERE o.h % 2 <> g.node);
  DROP TABLE one_gets, node_gets;
  RETURN NEXT;
END $$;
-- the whole month
SELECT single_node = (SELECT count(*) FROM month_objects) AS single_node_reads_all,
       add_up, overlap, node0_share, node1_share, each_its_shard
  FROM pg_temp.split($$SELECT count(*) FROM month$$);
-- a time window: each node still prunes by time
SELECT * FROM pg_temp.split($$SELECT count(*) FROM month
  WHERE "timestamp" >= '2026-11-10 06:00+00' AND "timestamp" < '2026-11-12 18:00+00'$$);

-- the same checks fail when a node reads every object: node 1's table
-- without its shard option reads node 0's objects again
SELECT dblink_exec('host=127.0.0.1 port=45719 dbname=bedlog_shard user=postgres',
                   'ALTER FOREIGN TABLE model_invocations OPTIONS (DROP shard)');
SELECT * FROM pg_temp.split($$SELECT count(*) FROM month
  WHERE "timestamp" >= '2026-11-10 06:00+00' AND "timestamp" < '2026-11-12 18:00+00'$$);
SELECT dblink_exec('host=127.0.0.1 port=45719 dbname=bedlog_shard user=postgres',
                   $$ALTER FOREIGN TABLE model_invocations OPTIONS (ADD shard '1/2')$$);

-- a node's own EXPLAIN ANALYZE: its shard, and the objects of the other
-- one passed over after the listing, before any GET
SELECT l AS node0_plan FROM dblink('host=127.0.0.1 port=45717 dbname=bedlog_shard user=postgres',
  $$EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT count(*) FROM model_invocations
    WHERE "timestamp" >= '2026-11-10 06:00+00' AND "timestamp" < '2026-11-12 18:00+00'$$) AS t(l text)
  WHERE l ~ 'S3 (Shard|Objects)';

--
-- The plans: both nodes at once (Async Foreign Scan), the conditions sent
-- to them (Remote SQL), so each node prunes by time and model
--
CREATE FUNCTION pg_temp.plan(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
    RETURN NEXT l;
  END LOOP;
END $$;
SELECT * FROM pg_temp.plan($$SELECT count(*) FROM month_all
  WHERE "timestamp" >= '2026-11-10 06:00+00' AND "timestamp" < '2026-11-12 18:00+00'
    AND model_id = 'anthropic.claude-3-haiku-20240307-v1:0'$$);
-- account, region, operation, model prefixes and Grafana's forms are sent too
SELECT p AS plan FROM pg_temp.plan($$SELECT count(*) FROM month_all
  WHERE "timestamp" BETWEEN '2026-11-10T06:00:00Z' AND '2026-11-12T18:00:00Z'
    AND account_id = '111111111111' AND region IN ('us-east-1', 'eu-west-1')
    AND operation = 'Converse' AND model_id LIKE 'anthropic.%'$$) p
  WHERE p ~ 'Remote SQL|Filter';
-- and the node prunes with each of them, as written in the Remote SQL
SELECT l AS node0_plan FROM dblink('host=127.0.0.1 port=45717 dbname=bedlog_shard user=postgres',
  $$EXPLAIN (COSTS OFF) SELECT NULL FROM public.model_invocations WHERE (("timestamp" >= '2026-11-10 06:00:00+00'))
      AND (("timestamp" <= '2026-11-12 18:00:00+00')) AND ((region = ANY ('{us-east-1,eu-west-1}'::text[])))
      AND ((model_id ~~ 'anthropic.%')) AND ((account_id = '111111111111')) AND ((operation = 'Converse'))$$)
  AS t(l text);
-- now()-relative bounds are not sent (postgres_fdw sends only immutable
-- functions): the nodes would read every object
SELECT p AS plan FROM pg_temp.plan($$SELECT count(*) FROM month_all
  WHERE "timestamp" >= now() - interval '1 day'$$) p
  WHERE p ~ 'Remote SQL|Filter';
-- a bound computed before the query, as a parameter, is sent: $1
PREPARE recent(timestamptz) AS SELECT count(*) FROM month_all WHERE "timestamp" >= $1;
SET plan_cache_mode = force_generic_plan;
SELECT p AS plan FROM pg_temp.plan($$EXECUTE recent(now() - interval '1 day')$$) p
  WHERE p ~ 'Remote SQL|Filter';
RESET plan_cache_mode;
DEALLOCATE recent;

--
-- Several shards a node, to use more of its cores (a node runs what
-- postgres_fdw sends it in a cursor, without parallel workers): four
-- shards, two tables on each node, reached through a server each
--
SELECT dblink_exec(format('host=127.0.0.1 port=%s dbname=bedlog_shard user=postgres', port),
         format($q$CREATE FOREIGN TABLE %I (model_id text, input_token_count bigint, "timestamp" timestamptz,
                   s3_shard int) SERVER s3 OPTIONS (location 's3://month/m/', discovery_ttl '0', shard %L)$q$,
                'q' || i, i || '/4'))
  FROM (VALUES (45717, 0), (45719, 1), (45717, 2), (45719, 3)) v(port, i);
CREATE SERVER node0b FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host '127.0.0.1', port '45717', dbname 'bedlog_shard');
CREATE SERVER node1b FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host '127.0.0.1', port '45719', dbname 'bedlog_shard');
CREATE USER MAPPING FOR CURRENT_USER SERVER node0b OPTIONS (user 'postgres');
CREATE USER MAPPING FOR CURRENT_USER SERVER node1b OPTIONS (user 'postgres');
SELECT bedlog_scale_out('quarters', ARRAY['node0', 'node1', 'node0b', 'node1b'],
                        remote_tables => ARRAY['q0', 'q1', 'q2', 'q3']);
SELECT pg_temp.s3_reset();
SELECT (SELECT array[count(*), sum(input_token_count)] FROM quarters
         WHERE "timestamp" >= '2026-11-10 06:00+00' AND "timestamp" < '2026-11-12 18:00+00')
     = (SELECT array[count(*), sum(input_token_count)] FROM month_one
         WHERE "timestamp" >= '2026-11-10 06:00+00' AND "timestamp" < '2026-11-12 18:00+00')
       AS same_answer;
-- node 0 read shards 0 and 2, node 1 shards 1 and 3, and nothing twice
SELECT g.node, string_agg(DISTINCT (o.h % 4)::text, ', ') AS shards_read, count(*) AS objects,
       sum(g.n) AS gets
  FROM (SELECT 0 AS node, k, v::int AS n
          FROM jsonb_each_text(pg_temp.s3_stats()->'get_keys_by_access_key'->'AKIABEDLOGMAPKEY0001') e(k, v)
        UNION ALL
        SELECT 1, k, v::int
          FROM jsonb_each_text(pg_temp.s3_stats()->'get_keys_by_access_key'->'AKIABEDLOGPROCKEY001') e(k, v)) g
  JOIN month_objects o ON 'month/' || o.key = g.k
 GROUP BY 1 ORDER BY 1;
SELECT count(*) AS async_scans FROM pg_temp.plan($$SELECT count(*) FROM quarters$$) p
 WHERE p ~ 'Async Foreign Scan';
DROP TABLE quarters;

--
-- Aggregates: postgres_fdw pushes whole aggregates, never partial ones.
-- Grouped by model alone, every row travels to the coordinator (the scans
-- still async); with partition-wise aggregation on, the same query gets
-- partial aggregates on the coordinator, and the scans below them are no
-- longer async
--
SELECT p AS plan FROM pg_temp.plan($$SELECT model_id, count(*), sum(input_token_count)
  FROM month_all GROUP BY model_id$$) p
  WHERE p ~ 'Async|Remote SQL|Aggregate';
SET enable_partitionwise_aggregate = on;
SELECT p AS plan FROM pg_temp.plan($$SELECT model_id, count(*), sum(input_token_count)
  FROM month_all GROUP BY model_id$$) p
  WHERE p ~ 'Async|Remote SQL|Aggregate';
-- grouped by s3_shard first, each node computes its groups and sends them
SELECT p AS plan FROM pg_temp.plan($$SELECT s3_shard, model_id, count(*), sum(input_token_count)
  FROM month_all GROUP BY s3_shard, model_id$$) p
  WHERE p ~ 'Async|Remote SQL|Aggregate|Relations';
-- the same answer as the single node's, re-aggregated on the coordinator
SELECT * FROM pg_temp.same($$SELECT model_id, sum(n), sum(tokens) FROM (
  SELECT s3_shard, model_id, count(*) AS n, sum(input_token_count) AS tokens
    FROM month GROUP BY s3_shard, model_id) g GROUP BY model_id$$, 100);
-- what the coordinator receives, rows and bytes (as text, postgres_fdw's
-- format), for the month: the remote queries run on the nodes by hand
CREATE FUNCTION pg_temp.received(remote text) RETURNS TABLE (rows bigint, bytes bigint)
  LANGUAGE sql AS $$
  SELECT sum(r), sum(b) FROM (
    SELECT r, b FROM dblink('host=127.0.0.1 port=45717 dbname=bedlog_shard user=postgres',
      format('SELECT count(*), sum(octet_length(t::text)) FROM (%s) t', remote)) AS x(r bigint, b bigint)
    UNION ALL
    SELECT r, b FROM dblink('host=127.0.0.1 port=45719 dbname=bedlog_shard user=postgres',
      format('SELECT count(*), sum(octet_length(t::text)) FROM (%s) t', remote)) AS x(r bigint, b bigint)) s $$;
-- (doc/scale-out.md gives the figures over the month as generated)
SELECT r.rows = (SELECT count(*) FROM month_one) AS by_model_every_record,
       g.rows < 2 * (SELECT count(DISTINCT model_id) FROM month_one) AS by_shard_and_model_the_groups,
       r.bytes > 5 * g.bytes AS over_five_times_fewer_bytes
  FROM pg_temp.received('SELECT model_id, input_token_count FROM public.model_invocations') r,
       pg_temp.received('SELECT s3_shard, model_id, count(*), sum(input_token_count)
                           FROM public.model_invocations GROUP BY 1, 2') g;
RESET enable_partitionwise_aggregate;

DROP TABLE month_all;
DROP FOREIGN TABLE month_one;
SET client_min_messages = warning;
DROP SERVER node0, node1, node0b, node1b CASCADE;
RESET client_min_messages;
SELECT dblink_exec('host=127.0.0.1 port=45717 dbname=postgres user=postgres', 'DROP DATABASE bedlog_shard WITH (FORCE)');
SELECT dblink_exec('host=127.0.0.1 port=45719 dbname=postgres user=postgres', 'DROP DATABASE bedlog_shard WITH (FORCE)');
