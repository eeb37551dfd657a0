--
-- Scale-out over several PostgreSQL nodes with postgres_fdw.
--
-- Each node has bedlog_fdw and a table over the same location with its
-- own table option shard 'i/n' (IMPORT FOREIGN SCHEMA bedrock ... OPTIONS
-- (location '...', shard 'i/n')), so that node i reads only the objects of
-- shard i: the objects whose key hashes to i modulo n (doc/options.md).
-- The coordinator needs postgres_fdw only, one foreign server per node and
-- a user mapping for each, and this function:
--
--   SELECT bedlog_scale_out('model_invocations', ARRAY['node0', 'node1']);
--
-- creates in the current schema a table partitioned BY LIST (s3_shard)
-- whose partition i is a postgres_fdw foreign table (async_capable) on the
-- i-th server, over the node's table (public.model_invocations unless
-- told otherwise; remote_tables names one a server).  The columns are the
-- node's own, read from the first node, so custom json_path columns come
-- along.  Before creating anything, it checks on every node that the table
-- has the shard option i/n that its place in the list gives it: a node
-- with another shard, or none, would make the coordinator's answers
-- silently wrong.
--
-- A node runs what postgres_fdw sends it in a cursor, and PostgreSQL plans
-- no parallel workers for a cursor: a node reads its shard on one core.
-- To use more cores of a node, give it several shards, each its own table
-- and its own postgres_fdw server (servers are connections; the async
-- scans of one connection run one after another):
--
--   SELECT bedlog_scale_out('model_invocations',
--            ARRAY['node0_a', 'node1_a', 'node0_b', 'node1_b'],
--            remote_tables => ARRAY['shard0', 'shard1', 'shard2', 'shard3']);
--
-- Queries on the coordinator then run on all nodes at once (Async Foreign
-- Scan); postgres_fdw sends each node the conditions on built-in types and
-- operators, so each node still prunes its listings by time, account,
-- region and model.  See README.md, "Scale out", and doc/scale-out.md.
--
CREATE OR REPLACE FUNCTION bedlog_scale_out(
	local_table text,
	nodes text[],
	remote_table text DEFAULT 'model_invocations',
	remote_schema text DEFAULT 'public',
	remote_tables text[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET client_min_messages = warning
AS $fn$
DECLARE
	n int := coalesce(array_length(nodes, 1), 0);
	staging text := 'bedlog_scale_out_' || pg_backend_pid();
	i int;
	opts text[];
	tables text[];
BEGIN
	IF n = 0 THEN
		RAISE EXCEPTION 'bedlog_scale_out needs at least one node server';
	END IF;
	IF remote_tables IS NULL THEN
		tables := array_fill(remote_table, ARRAY[n]);
	ELSIF coalesce(array_length(remote_tables, 1), 0) <> n THEN
		RAISE EXCEPTION 'bedlog_scale_out needs one remote table a server';
	ELSE
		tables := remote_tables;
	END IF;
	EXECUTE format('CREATE SCHEMA %I', staging);

	-- each node's table must read shard i/n (and a single node, all)
	FOR i IN 1 .. n LOOP
		EXECUTE format($q$CREATE FOREIGN TABLE %1$I.ft%2$s (ftrelid oid, ftoptions text[])
			SERVER %3$I OPTIONS (schema_name 'pg_catalog', table_name 'pg_foreign_table');
			CREATE FOREIGN TABLE %1$I.cl%2$s (oid oid, relname name, relnamespace oid)
			SERVER %3$I OPTIONS (schema_name 'pg_catalog', table_name 'pg_class');
			CREATE FOREIGN TABLE %1$I.ns%2$s (oid oid, nspname name)
			SERVER %3$I OPTIONS (schema_name 'pg_catalog', table_name 'pg_namespace')$q$,
			staging, i, nodes[i]);
		EXECUTE format($q$SELECT ft.ftoptions FROM %1$I.ft%2$s ft
			JOIN %1$I.cl%2$s c ON c.oid = ft.ftrelid
			JOIN %1$I.ns%2$s s ON s.oid = c.relnamespace
			WHERE s.nspname = $1 AND c.relname = $2$q$, staging, i)
			INTO opts USING remote_schema, tables[i];
		IF opts IS NULL THEN
			RAISE EXCEPTION 'server "%" has no foreign table %.%', nodes[i], remote_schema, tables[i];
		END IF;
		IF n > 1 AND NOT (format('shard=%s/%s', i - 1, n) = ANY (opts)) THEN
			RAISE EXCEPTION 'the table %.% of server "%" does not read shard %/%',
				remote_schema, tables[i], nodes[i], i - 1, n
				USING HINT = format('Give it OPTIONS (ADD shard %L): the i-th server of the list reads shard i - 1.',
									format('%s/%s', i - 1, n));
		END IF;
		IF n = 1 AND EXISTS (SELECT FROM unnest(opts) o WHERE o LIKE 'shard=%') THEN
			RAISE EXCEPTION 'the table %.% of server "%" reads one shard only', remote_schema, tables[i], nodes[i];
		END IF;
	END LOOP;

	-- the columns: the first node's table's own
	EXECUTE format('IMPORT FOREIGN SCHEMA %I LIMIT TO (%I) FROM SERVER %I INTO %I',
				   remote_schema, tables[1], nodes[1], staging);
	IF NOT EXISTS (SELECT FROM pg_attribute
				   WHERE attrelid = format('%I.%I', staging, tables[1])::regclass
					 AND attname = 's3_shard' AND NOT attisdropped) THEN
		RAISE EXCEPTION 'the table %.% of server "%" has no column s3_shard',
			remote_schema, tables[1], nodes[1]
			USING HINT = 'Add the virtual column s3_shard int to the nodes'' tables: the coordinator''s table is partitioned by it.';
	END IF;
	EXECUTE format('CREATE TABLE %I (LIKE %I.%I) PARTITION BY LIST (s3_shard)',
				   local_table, staging, tables[1]);
	FOR i IN 1 .. n LOOP
		EXECUTE format($q$CREATE FOREIGN TABLE %I PARTITION OF %I FOR VALUES IN (%s)
			SERVER %I OPTIONS (schema_name %L, table_name %L,
							   async_capable 'true', fetch_size '1000')$q$,
			local_table || '_shard' || (i - 1), local_table, i - 1, nodes[i],
			remote_schema, tables[i]);
	END LOOP;
	EXECUTE format('DROP SCHEMA %I CASCADE', staging);
END
$fn$;
