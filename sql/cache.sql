--
-- The local cache (server option cache_dir): objects keyed by key and
-- ETag, listings of past time folders, corrupt entries, eviction,
-- concurrent fillers, and who may set it.  The S3 side counts the
-- requests it receives (the proxy in front of s3rver).
-- Fixture: s3://month/m/, a month of hourly logs (2 files an hour); a
-- small bucket this test writes itself.
--
SET timezone = 'UTC';
-- the S3 proxy's counters: pg_temp.s3_reset(), pg_temp.s3_stats()
-- the cache lives beside the fixtures, in the test cluster's directory:
-- bedlog_test.cache_dir, pg_temp.sh(); and a second one beside it
\set cache_name cache
\set ECHO none
\i sql/include/s3_proxy.sql
\i sql/include/cache_dir.sql
\set ECHO all
SELECT pg_temp.sh(format('rm -rf %s-2', current_setting('bedlog_test.cache_dir')));

-- the entry files of a cache directory: (relative path, size)
CREATE FUNCTION pg_temp.cache_files(root text DEFAULT current_setting('bedlog_test.cache_dir'))
  RETURNS TABLE (path text, size bigint) LANGUAGE sql AS $$
  SELECT d1 || '/' || d2 || '/' || f, (pg_stat_file(root || '/' || d1 || '/' || d2 || '/' || f)).size
    FROM unnest(ARRAY['objects', 'listings']) d1,
         LATERAL pg_ls_dir(root || '/' || d1, true, false) d2,
         LATERAL pg_ls_dir(root || '/' || d1 || '/' || d2, true, false) f $$;

-- run a query, and tell what S3 saw
CREATE FUNCTION pg_temp.probe(q text)
  RETURNS TABLE (result text, list_requests int, objects_fetched int)
  LANGUAGE plpgsql AS $$
DECLARE s jsonb;
BEGIN
  PERFORM pg_temp.s3_reset();
  EXECUTE q INTO result;
  s := pg_temp.s3_stats();
  list_requests := (s->'by_kind'->>'list')::int;
  objects_fetched := (s->'by_kind'->>'get')::int;
  RETURN NEXT;
END $$;

-- the cache's EXPLAIN ANALYZE counters of a query
CREATE FUNCTION pg_temp.cache_counters(q text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT JSON) ' || q INTO j;
  RETURN (SELECT jsonb_object_agg(k, v)
            FROM jsonb_each(jsonb_path_query_first(j::jsonb, '$.** ? (@."Node Type" == "Foreign Scan")')) AS e(k, v)
           WHERE k LIKE 'Cache%' OR k IN ('S3 List Requests', 'S3 Objects Read',
                                         'Folder Listings from Memory'));
END $$;

DO $$ BEGIN
  EXECUTE format($f$CREATE SERVER s3cache FOREIGN DATA WRAPPER bedlog_fdw
    OPTIONS (endpoint 'http://127.0.0.1:45712', cache_dir %L)$f$,
    current_setting('bedlog_test.cache_dir'));
END $$;
CREATE USER MAPPING FOR CURRENT_USER SERVER s3cache
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');

-- the location fixes the account and region: only time folders are listed
CREATE FOREIGN TABLE month_cached (
  "timestamp" timestamptz, request_id text, model_id text,
  input_token_count bigint, output_token_count bigint, s3_key text, s3_line bigint
) SERVER s3cache OPTIONS (location 's3://month/m/AWSLogs/111111111111/BedrockModelInvocationLogs/us-east-1/');
CREATE FOREIGN TABLE month_live (
  "timestamp" timestamptz, request_id text, model_id text,
  input_token_count bigint, output_token_count bigint, s3_key text, s3_line bigint
) SERVER s3 OPTIONS (location 's3://month/m/AWSLogs/111111111111/BedrockModelInvocationLogs/us-east-1/');

-- a dashboard panel: hourly tokens over five past hours
CREATE TEMP TABLE q AS SELECT $$
  SELECT string_agg(h || ' ' || n || ' ' || t, ', ' ORDER BY h) FROM (
    SELECT date_trunc('hour', "timestamp") AS h, count(*) AS n,
           sum(input_token_count + output_token_count) AS t
      FROM month_cached
     WHERE "timestamp" >= '2026-11-15 10:00+00' AND "timestamp" < '2026-11-15 15:00+00'
     GROUP BY 1) s$$ AS sql;

-- the first run fills the cache: every object and folder comes from S3
SELECT * FROM pg_temp.probe((SELECT sql FROM q));
SELECT count(*) > 0 AS objects_stored FROM pg_temp.cache_files() WHERE path LIKE 'objects/%';
SELECT count(*) AS listings_stored FROM pg_temp.cache_files() WHERE path LIKE 'listings/%';
-- the second asks S3 nothing, and answers the same
SELECT * FROM pg_temp.probe((SELECT sql FROM q));
-- the same as without the cache
SELECT (pg_temp.probe(replace((SELECT sql FROM q), 'month_cached', 'month_live'))).result
     = (pg_temp.probe((SELECT sql FROM q))).result AS same_as_live;
SELECT pg_temp.cache_counters((SELECT sql FROM q)) - 'Cache Bytes Read'
       || jsonb_build_object('Cache Bytes Read > 0',
                             (pg_temp.cache_counters((SELECT sql FROM q)) ->> 'Cache Bytes Read')::bigint > 0)
       AS warm_counters;
-- every row, line by line, equal to the uncached table's
SELECT count(*) AS rows_compared,
       count(*) FILTER (WHERE l IS DISTINCT FROM c) AS rows_differing
  FROM (SELECT s3_key, s3_line, row(l.*)::text AS l
          FROM month_live l
         WHERE "timestamp" >= '2026-11-15 10:00+00' AND "timestamp" < '2026-11-15 15:00+00') a
  FULL JOIN (SELECT s3_key, s3_line, row(c.*)::text AS c
          FROM month_cached c
         WHERE "timestamp" >= '2026-11-15 10:00+00' AND "timestamp" < '2026-11-15 15:00+00') b
 USING (s3_key, s3_line);

-- a folder's listing is stored for the delivery_delay of the table that
-- listed it: a table with delivery_delay '0' lists the folders again
-- (were it the first, a table with the default delay would not take its
-- listings as complete), while the objects are shared
CREATE FOREIGN TABLE month_cached_nodelay (
  "timestamp" timestamptz, request_id text, model_id text,
  input_token_count bigint, output_token_count bigint, s3_key text, s3_line bigint
) SERVER s3cache OPTIONS (location 's3://month/m/AWSLogs/111111111111/BedrockModelInvocationLogs/us-east-1/',
                          delivery_delay '0');
SELECT list_requests > 0 AS lists_again, objects_fetched
  FROM pg_temp.probe(replace((SELECT sql FROM q), 'month_cached', 'month_cached_nodelay'));
SELECT list_requests, objects_fetched
  FROM pg_temp.probe(replace((SELECT sql FROM q), 'month_cached', 'month_cached_nodelay'));

-- a corrupt entry (a byte changed) and a short one (truncated) are
-- discarded and read from S3 again, with the right rows
SELECT pg_temp.sh(format('cd %s && f=$(ls objects/*/* | sort | head -n 2) && set -- $f && '
                         'printf X | dd of="$1" bs=1 seek=200 conv=notrunc status=none && '
                         'truncate -s -10 "$2"', current_setting('bedlog_test.cache_dir')));
SELECT pg_temp.cache_counters((SELECT sql FROM q)) - 'Cache Bytes Read' AS after_corruption;
SELECT * FROM pg_temp.probe((SELECT sql FROM q));
SELECT (pg_temp.probe(replace((SELECT sql FROM q), 'month_cached', 'month_live'))).result
     = (pg_temp.probe((SELECT sql FROM q))).result AS same_as_live;

-- a scan stopped early (LIMIT) or by an error leaves no temporary file
SELECT count(*) FROM (SELECT request_id FROM month_cached
                       WHERE "timestamp" >= '2026-11-16 10:00+00' AND "timestamp" < '2026-11-16 12:00+00' LIMIT 1) s;
SELECT 1 / (input_token_count * 0) FROM month_cached
 WHERE "timestamp" >= '2026-11-17 10:00+00' AND "timestamp" < '2026-11-17 12:00+00';
SELECT count(*) FILTER (WHERE path LIKE '%.tmp.%') AS temp_files FROM pg_temp.cache_files();

-- recent folders are always listed live: a window ending now lists
-- again (the folders that ended more than delivery_delay ago do not)
CREATE TEMP TABLE recent AS
  SELECT * FROM pg_temp.probe($$SELECT count(*)::text FROM month_cached
                                WHERE "timestamp" >= now() - interval '3 hours' AND "timestamp" <= now()$$);
CREATE TEMP TABLE recent2 AS
  SELECT * FROM pg_temp.probe($$SELECT count(*)::text FROM month_cached
                                WHERE "timestamp" >= now() - interval '3 hours' AND "timestamp" <= now()$$);
SELECT r2.list_requests > 0 AS lists_again, r2.list_requests < r1.list_requests AS fewer_than_first,
       r2.objects_fetched = 0 AS no_object_again
  FROM recent r1, recent2 r2;

-- a changed object has a new ETag: it is read again, never served stale.
-- (a listing of the whole location is never cached)
CREATE FUNCTION pg_temp.s3_put(bucket text, key text, lines text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('COPY (SELECT unnest(%L::text[])) TO PROGRAM %L', lines,
    '/usr/bin/python3 -c ''import sys, botocore.session, botocore.config as bc; '
    'c = botocore.session.get_session().create_client("s3", region_name="us-east-1", '
    'endpoint_url="http://127.0.0.1:45711", aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER", '
    'config=bc.Config(s3={"addressing_style": "path"})); '
    'b, k = sys.argv[1:3]; '
    '[c.create_bucket(Bucket=b) for _ in [0] if b not in [x["Name"] for x in c.list_buckets()["Buckets"]]]; '
    'c.put_object(Bucket=b, Key=k, Body=sys.stdin.buffer.read())'' '
    || quote_ident(bucket) || ' ' || key);
END $$;
CREATE FUNCTION pg_temp.rec(id text, tokens int) RETURNS text LANGUAGE sql AS $$
  SELECT json_build_object('schemaType', 'ModelInvocationLog', 'schemaVersion', '1.0',
    'timestamp', '2026-11-20T05:10:00Z', 'accountId', '222222222222', 'region', 'us-east-1',
    'requestId', id, 'operation', 'Converse', 'modelId', 'anthropic.claude-3-haiku-20240307-v1:0',
    'input', json_build_object('inputTokenCount', tokens),
    'output', json_build_object('outputTokenCount', 1))::text $$;
SELECT pg_temp.s3_put('cachetest',
  'AWSLogs/222222222222/BedrockModelInvocationLogs/us-east-1/2026/11/20/05/20261120T051500000Z_0123456789abcdef.json.gz',
  ARRAY[pg_temp.rec('v1-a', 10), pg_temp.rec('v1-b', 20)]);
CREATE FOREIGN TABLE changing (request_id text, input_token_count bigint)
  SERVER s3cache OPTIONS (location 's3://cachetest/');
SELECT * FROM pg_temp.probe($$SELECT string_agg(request_id || ':' || input_token_count, ' ' ORDER BY request_id) FROM changing$$);
SELECT * FROM pg_temp.probe($$SELECT string_agg(request_id || ':' || input_token_count, ' ' ORDER BY request_id) FROM changing$$);
SELECT pg_temp.s3_put('cachetest',
  'AWSLogs/222222222222/BedrockModelInvocationLogs/us-east-1/2026/11/20/05/20261120T051500000Z_0123456789abcdef.json.gz',
  ARRAY[pg_temp.rec('v2-a', 30), pg_temp.rec('v2-b', 40), pg_temp.rec('v2-c', 50)]);
SELECT * FROM pg_temp.probe($$SELECT string_agg(request_id || ':' || input_token_count, ' ' ORDER BY request_id) FROM changing$$);
SELECT * FROM pg_temp.probe($$SELECT string_agg(request_id || ':' || input_token_count, ' ' ORDER BY request_id) FROM changing$$);

-- an object of a cached folder listing is deleted (a lifecycle rule) after
-- its own entry left the cache (evicted): the scan that finds it gone
-- fails, naming it, and forgets the folder's listing; the next one lists
-- the folder again and reads what is left
SELECT pg_temp.s3_put('cachetest',
  'AWSLogs/222222222222/BedrockModelInvocationLogs/us-east-1/2026/11/20/05/20261120T053000000Z_fedcba9876543210.json.gz',
  ARRAY[pg_temp.rec('expiring', 60)]);
-- a lifecycle rule expires the object; then the query of q3, twice: the
-- first fails (its error message as the result), the second answers
CREATE FUNCTION pg_temp.after_expiry()
  RETURNS TABLE (result text, list_requests int, objects_fetched int)
  LANGUAGE plpgsql AS $f$
BEGIN
  COPY (SELECT 1) TO PROGRAM '/usr/bin/python3 -c ''import botocore.session, botocore.config as bc; botocore.session.get_session().create_client("s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:45711", aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER", config=bc.Config(s3={"addressing_style": "path"})).delete_object(Bucket="cachetest", Key="AWSLogs/222222222222/BedrockModelInvocationLogs/us-east-1/2026/11/20/05/20261120T053000000Z_fedcba9876543210.json.gz")'' >/dev/null';
  BEGIN
    RETURN QUERY SELECT * FROM pg_temp.probe((SELECT sql FROM q3));
  EXCEPTION WHEN fdw_error OR fdw_table_not_found THEN
    result := 'ERROR: ' || SQLERRM;
    list_requests := NULL;
    objects_fetched := NULL;
    RETURN NEXT;
  END;
  RETURN QUERY SELECT * FROM pg_temp.probe((SELECT sql FROM q3));
END $f$;
CREATE FOREIGN TABLE expiring (request_id text, "timestamp" timestamptz)
  SERVER s3cache OPTIONS (location 's3://cachetest/AWSLogs/222222222222/BedrockModelInvocationLogs/us-east-1/');
CREATE TEMP TABLE q3 AS SELECT $$
  SELECT string_agg(request_id, ' ' ORDER BY request_id) FROM expiring
   WHERE "timestamp" >= '2026-11-20 05:00+00' AND "timestamp" < '2026-11-20 06:00+00'$$ AS sql;
SELECT * FROM pg_temp.probe((SELECT sql FROM q3));
SELECT * FROM pg_temp.probe((SELECT sql FROM q3));
SELECT pg_temp.sh(format('rm -rf %s/objects', current_setting('bedlog_test.cache_dir')));
SELECT * FROM pg_temp.after_expiry();
DROP FOREIGN TABLE expiring;
-- the same without cache_dir: the folder's listing kept in memory
-- (discovery_ttl) is dropped as well when an object of it is found gone
SELECT pg_temp.s3_put('cachetest',
  'AWSLogs/222222222222/BedrockModelInvocationLogs/us-east-1/2026/11/20/05/20261120T053000000Z_fedcba9876543210.json.gz',
  ARRAY[pg_temp.rec('expiring', 60)]);
CREATE FOREIGN TABLE expiring (request_id text, "timestamp" timestamptz)
  SERVER s3 OPTIONS (location 's3://cachetest/AWSLogs/222222222222/BedrockModelInvocationLogs/us-east-1/');
SELECT * FROM pg_temp.probe((SELECT sql FROM q3));
SELECT * FROM pg_temp.probe((SELECT sql FROM q3));
SELECT * FROM pg_temp.after_expiry();
DROP FOREIGN TABLE expiring;

-- two sessions filling an empty cache at once: same answers, every entry
-- sound, no temporary file left
DO $$ BEGIN
  EXECUTE format($f$CREATE SERVER s3cache2 FOREIGN DATA WRAPPER bedlog_fdw
    OPTIONS (endpoint 'http://127.0.0.1:45712', cache_dir %L)$f$,
    current_setting('bedlog_test.cache_dir') || '-2');
END $$;
CREATE USER MAPPING FOR CURRENT_USER SERVER s3cache2
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
CREATE FOREIGN TABLE public.month_shared (
  "timestamp" timestamptz, request_id text, input_token_count bigint, output_token_count bigint
) SERVER s3cache2 OPTIONS (location 's3://month/m/');
CREATE TEMP TABLE q2 AS SELECT
  $$SELECT count(*) || ' ' || sum(input_token_count) || ' ' || count(DISTINCT request_id) FROM public.month_shared WHERE "timestamp" >= '2026-11-10 00:00+00' AND "timestamp" < '2026-11-11 00:00+00'$$ AS sql;
SELECT pg_temp.sh(format('mkdir -p %s-2', current_setting('bedlog_test.cache_dir')));
DO $$ BEGIN
  EXECUTE format('COPY (SELECT sql FROM q2) TO %L', current_setting('bedlog_test.cache_dir') || '-2/q2.sql');
END $$;
SELECT pg_temp.sh(format(
  'cd %s-2 && for i in 1 2 3; do psql -X -At -h %s -p %s -d %s -f q2.sql > concurrent.$i 2>&1 & done; wait',
  current_setting('bedlog_test.cache_dir'),
  regexp_replace(current_setting('bedlog_test.fixtures'), '/fixtures$', ''),
  current_setting('port'), quote_ident(current_database())));
SELECT count(DISTINCT pg_read_file(current_setting('bedlog_test.cache_dir') || '-2/concurrent.' || i))
         AS distinct_answers,
       min(pg_read_file(current_setting('bedlog_test.cache_dir') || '-2/concurrent.' || i))
         = (SELECT result FROM pg_temp.probe(replace((SELECT sql FROM q2), 'public.month_shared', 'month_live'))) || E'\n'
         AS answers_right
  FROM generate_series(1, 3) i;
SELECT count(*) FILTER (WHERE path LIKE '%.tmp.%') AS temp_files,
       count(*) FILTER (WHERE path LIKE 'objects/%') > 0 AS objects_stored
  FROM pg_temp.cache_files(current_setting('bedlog_test.cache_dir') || '-2');
SELECT pg_temp.cache_counters((SELECT sql FROM q2)) - 'Cache Bytes Read' - 'S3 List Requests' AS from_shared_cache;

-- a cap small enough to force eviction: the directory stays under it
ALTER SERVER s3cache2 OPTIONS (ADD cache_max_size '200kB');
SELECT (pg_temp.cache_counters($$SELECT count(*) FROM public.month_shared$$) ->> 'Cache Entries Evicted')::int > 0
       AS evicted;
SELECT sum(size) <= 200 * 1024 AS under_cap, count(*) > 10 AS entries_kept
  FROM pg_temp.cache_files(current_setting('bedlog_test.cache_dir') || '-2');
-- and what is left still serves the right answer
SELECT (SELECT count(*) FROM public.month_shared) = (SELECT count(*) FROM month_live) AS same_count;

-- a cache directory that cannot be written: one WARNING, the query works
CREATE SERVER s3badcache FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712', cache_dir '/dev/null/bedlog-cache');
CREATE USER MAPPING FOR CURRENT_USER SERVER s3badcache
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
CREATE FOREIGN TABLE month_badcache ("timestamp" timestamptz, input_token_count bigint)
  SERVER s3badcache OPTIONS (location 's3://month/m/');
\set VERBOSITY terse
SELECT count(*), sum(input_token_count) FROM month_badcache
 WHERE "timestamp" >= '2026-11-15 10:00+00' AND "timestamp" < '2026-11-15 12:00+00';
SELECT count(*), sum(input_token_count) FROM month_live
 WHERE "timestamp" >= '2026-11-15 10:00+00' AND "timestamp" < '2026-11-15 12:00+00';

-- option checks; only superusers may set cache_dir and cache_max_size
CREATE SERVER bad FOREIGN DATA WRAPPER bedlog_fdw OPTIONS (cache_dir 'relative/dir');
CREATE SERVER bad FOREIGN DATA WRAPPER bedlog_fdw OPTIONS (cache_dir '/tmp/x', cache_max_size '10 parsecs');
CREATE SERVER bad FOREIGN DATA WRAPPER bedlog_fdw OPTIONS (cache_dir '/tmp/x', cache_max_size '1kB');
CREATE SERVER bad FOREIGN DATA WRAPPER bedlog_fdw OPTIONS (cache_listings 'maybe');
CREATE SERVER bad FOREIGN DATA WRAPPER bedlog_fdw OPTIONS (cache_dri '/tmp/x');
CREATE SERVER good FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (cache_dir '/tmp/x/', cache_max_size '2GB', cache_listings 'off');
DROP SERVER good;
CREATE ROLE bedlog_cache_user;
GRANT USAGE ON FOREIGN DATA WRAPPER bedlog_fdw TO bedlog_cache_user;
SET ROLE bedlog_cache_user;
CREATE SERVER mine FOREIGN DATA WRAPPER bedlog_fdw OPTIONS (cache_dir '/tmp/x');
CREATE SERVER mine FOREIGN DATA WRAPPER bedlog_fdw OPTIONS (cache_listings 'false');
ALTER SERVER mine OPTIONS (ADD cache_max_size '1GB');
ALTER SERVER mine OPTIONS (ADD cache_dir '/tmp/x');
DROP SERVER mine;
RESET ROLE;
REVOKE USAGE ON FOREIGN DATA WRAPPER bedlog_fdw FROM bedlog_cache_user;
DROP ROLE bedlog_cache_user;
\set VERBOSITY default

-- entries are kept apart by credentials: what the server's own identity
-- (use_instance_credentials) fetched is not served to a server without
-- credentials that shares the directory
DO $$ BEGIN
  EXECUTE format($f$CREATE SERVER cache_inst FOREIGN DATA WRAPPER bedlog_fdw
    OPTIONS (endpoint 'http://127.0.0.1:45712', use_instance_credentials 'true', cache_dir %L)$f$,
    current_setting('bedlog_test.cache_dir'));
  EXECUTE format($f$CREATE SERVER cache_anon FOREIGN DATA WRAPPER bedlog_fdw
    OPTIONS (endpoint 'http://127.0.0.1:45712', cache_dir %L)$f$,
    current_setting('bedlog_test.cache_dir'));
END $$;
CREATE FOREIGN TABLE examples_inst (request_id text) SERVER cache_inst OPTIONS (location 's3://examples/logs/');
CREATE FOREIGN TABLE examples_anon (request_id text) SERVER cache_anon OPTIONS (location 's3://examples/logs/');
SELECT pg_temp.cache_counters('SELECT * FROM examples_inst') - 'Cache Bytes Read' AS instance_fills;
SELECT pg_temp.cache_counters('SELECT * FROM examples_inst') - 'Cache Bytes Read' AS instance_hits;
SELECT pg_temp.cache_counters('SELECT * FROM examples_anon') - 'Cache Bytes Read' AS anonymous_fills_its_own;
DROP FOREIGN TABLE examples_inst, examples_anon;
DROP SERVER cache_inst, cache_anon;

-- large bodies are cached too, under their URI: a repeated query over
-- offloaded bodies (some in another bucket) fetches nothing the second time,
-- and reads the same bodies
CREATE SCHEMA lbc;
IMPORT FOREIGN SCHEMA bedrock FROM SERVER s3cache INTO lbc OPTIONS (location 's3://bodies/good/');
CREATE SCHEMA lb_live;
IMPORT FOREIGN SCHEMA bedrock FROM SERVER s3 INTO lb_live OPTIONS (location 's3://bodies/good/');
CREATE FUNCTION pg_temp.bodies_digest() RETURNS text LANGUAGE sql AS $$
  SELECT md5(string_agg(concat_ws('|', request_id, input_body, output_body), ',' ORDER BY request_id))
    FROM lbc.model_invocations $$;
SELECT pg_temp.s3_reset();
CREATE TEMP TABLE bodies_first AS
  SELECT pg_temp.bodies_digest() AS digest, (pg_temp.s3_stats()->'by_kind'->>'get')::int AS gets;
SELECT pg_temp.s3_reset();
CREATE TEMP TABLE bodies_second AS
  SELECT pg_temp.bodies_digest() AS digest, (pg_temp.s3_stats()->'by_kind'->>'get')::int AS gets;
SELECT f.gets = (SELECT count(DISTINCT s3_key) + count(DISTINCT input_body_s3_path)
                        + count(DISTINCT output_body_s3_path)
                   FROM lb_live.model_invocations) AS first_fetched_objects_and_bodies,
       s.gets AS second_gets, s.digest = f.digest AS same_bodies,
       f.digest = (SELECT md5(string_agg(concat_ws('|', request_id, input_body, output_body), ','
                                         ORDER BY request_id))
                     FROM lb_live.model_invocations) AS same_as_uncached
  FROM bodies_first f, bodies_second s;
DROP SCHEMA lbc, lb_live CASCADE;

DROP FOREIGN TABLE public.month_shared;
DROP SERVER s3cache CASCADE;
DROP SERVER s3cache2 CASCADE;
DROP SERVER s3badcache CASCADE;
SELECT pg_temp.sh(format('rm -rf %s %s-2', current_setting('bedlog_test.cache_dir'),
                                           current_setting('bedlog_test.cache_dir')));
