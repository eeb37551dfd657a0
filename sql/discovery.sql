--
-- Discovery listings reused for discovery_ttl: a table whose location is
-- the bucket's prefix above AWSLogs/ discovers its accounts and regions
-- with delimiter listings; a repeated query reuses them, from this
-- backend's memory or from cache_dir, so that a repeated query over a
-- settled day asks S3 nothing at all.  Past the TTL they are listed
-- again; discovery_ttl 0 always lists; another user mapping never gets
-- them; ALTER SERVER and ALTER USER MAPPING drop them.  The S3 side
-- counts the requests it receives (the proxy in front of s3rver).
-- Fixture: s3://month/m/, a month of hourly logs (November 2026) of one
-- account and region.
--
SET timezone = 'UTC';
-- the S3 proxy's counters: pg_temp.s3_reset(), pg_temp.s3_stats()
-- a cache directory of its own, empty: bedlog_test.cache_dir, pg_temp.sh()
\set cache_name discovery-cache
\set ECHO none
\i sql/include/s3_proxy.sql
\i sql/include/cache_dir.sql
\set ECHO all

-- what S3 saw since the last reset: every request, the discovery listings
-- (of m/AWSLogs/ and of .../BedrockModelInvocationLogs/), the other
-- listings, the GETs
CREATE FUNCTION pg_temp.seen(OUT requests int, OUT discovery_lists int,
                             OUT folder_lists int, OUT objects_fetched int)
  LANGUAGE plpgsql AS $$
DECLARE s jsonb := pg_temp.s3_stats();
BEGIN
  requests := (s->>'requests')::int;
  SELECT coalesce(sum(v::int) FILTER (WHERE k ~ '/(AWSLogs|BedrockModelInvocationLogs)/$'), 0),
         coalesce(sum(v::int) FILTER (WHERE k !~ '/(AWSLogs|BedrockModelInvocationLogs)/$'), 0)
    INTO discovery_lists, folder_lists
    FROM jsonb_each_text(s->'list_prefixes') AS e(k, v);
  objects_fetched := (s->'by_kind'->>'get')::int;
END $$;
-- run a query, and tell what S3 saw
CREATE FUNCTION pg_temp.probe(q text)
  RETURNS TABLE (result text, requests int, discovery_lists int, folder_lists int, objects_fetched int)
  LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_temp.s3_reset();
  EXECUTE q INTO result;
  SELECT * INTO requests, discovery_lists, folder_lists, objects_fetched FROM pg_temp.seen();
  RETURN NEXT;
END $$;
-- the listing counters of EXPLAIN ANALYZE of a query
CREATE FUNCTION pg_temp.counters(q text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT JSON) ' || q INTO j;
  RETURN (SELECT jsonb_object_agg(k, v)
            FROM jsonb_each(jsonb_path_query_first(j::jsonb, '$.** ? (@."Node Type" == "Foreign Scan")')) AS e(k, v)
           WHERE k IN ('S3 Listings', 'S3 List Requests', 'Discovery Cache Hits', 'S3 Objects Listed',
                       'S3 Objects Skipped', 'S3 Objects Read', 'Cache Listing Hits', 'Cache Hits',
                       'Folder Listings from Memory'));
END $$;

-- a server with a cache: the location is the bucket's prefix above AWSLogs/
DO $$ BEGIN
  EXECUTE format($f$CREATE SERVER disc_cached FOREIGN DATA WRAPPER bedlog_fdw
    OPTIONS (endpoint 'http://127.0.0.1:45712', cache_dir %L)$f$,
    current_setting('bedlog_test.cache_dir'));
END $$;
CREATE USER MAPPING FOR CURRENT_USER SERVER disc_cached
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
CREATE FOREIGN TABLE month_cached ("timestamp" timestamptz, input_token_count bigint)
  SERVER disc_cached OPTIONS (location 's3://month/m/');

-- a dashboard panel over a settled day (November 10th, 2026)
CREATE TEMP TABLE q AS SELECT $$
  SELECT count(*) || ' rows, ' || sum(input_token_count) || ' tokens' FROM month_cached
   WHERE "timestamp" >= '2026-11-10 00:00+00' AND "timestamp" < '2026-11-11 00:00+00'$$ AS sql;
-- the first run discovers the account and the region, and lists and
-- fetches the day
SELECT * FROM pg_temp.probe((SELECT sql FROM q));
-- the second asks S3 nothing, and answers the same
SELECT * FROM pg_temp.probe((SELECT sql FROM q));
-- EXPLAIN ANALYZE: both discoveries from the cache, no request; and the
-- same keys listed and skipped as the first run
SELECT pg_temp.counters((SELECT sql FROM q));
-- another session of the same user (an empty memory) takes them from
-- cache_dir: still no request
DO $$ BEGIN
  EXECUTE format('COPY (SELECT replace(sql, E''\n'', '' '') FROM q) TO %L',
                 current_setting('bedlog_test.cache_dir') || '/q.sql');
END $$;
CREATE FUNCTION pg_temp.other_session() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_temp.s3_reset();
  PERFORM pg_temp.sh(format('cd %s && psql -X -At -h %s -p %s -U %s -d %s -f q.sql > other-session 2>&1',
    current_setting('bedlog_test.cache_dir'),
    regexp_replace(current_setting('bedlog_test.fixtures'), '/fixtures$', ''),
    current_setting('port'), current_user, quote_ident(current_database())));
  RETURN pg_read_file(current_setting('bedlog_test.cache_dir') || '/other-session');
END $$;
SELECT pg_temp.other_session();
SELECT * FROM pg_temp.seen();
-- a corrupt discovery entry in cache_dir is discarded, and listed again
SELECT pg_temp.sh(format('cd %s && for f in $(grep -l -a discovery listings/*/*); do '
                         'printf X | dd of="$f" bs=1 seek=$(( $(stat -c %%s "$f") - 3 )) conv=notrunc status=none; '
                         'echo "$f"; done | wc -l > corrupted', current_setting('bedlog_test.cache_dir')));
SELECT pg_read_file(current_setting('bedlog_test.cache_dir') || '/corrupted') AS entries_corrupted;
SELECT pg_temp.other_session();
SELECT * FROM pg_temp.seen();
SELECT pg_temp.other_session();
SELECT * FROM pg_temp.seen();
-- discovery_ttl 0 (here on the table) lists them every time, cache or not
ALTER FOREIGN TABLE month_cached OPTIONS (ADD discovery_ttl '0');
SELECT * FROM pg_temp.probe((SELECT sql FROM q));
SELECT pg_temp.counters((SELECT sql FROM q)) ? 'Discovery Cache Hits' AS hits_shown_with_ttl_0;
-- past the TTL a discovery listing, in memory or in cache_dir, is listed again
ALTER FOREIGN TABLE month_cached OPTIONS (SET discovery_ttl '1');
SELECT pg_sleep(1.2);
SELECT * FROM pg_temp.probe((SELECT sql FROM q));

-- a server without a cache: the discoveries, and the listings of settled
-- folders, are kept in memory; the objects are fetched every time.
-- Another role has a user mapping of its own there (with the same keys,
-- even).
CREATE SERVER disc_mem FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712');
CREATE USER MAPPING FOR CURRENT_USER SERVER disc_mem
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
CREATE FOREIGN TABLE month_mem ("timestamp" timestamptz, input_token_count bigint)
  SERVER disc_mem OPTIONS (location 's3://month/m/');
CREATE ROLE regress_disc_user;
GRANT USAGE ON FOREIGN SERVER disc_mem TO regress_disc_user;
GRANT SELECT ON month_mem TO regress_disc_user;
CREATE USER MAPPING FOR regress_disc_user SERVER disc_mem
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
CREATE TEMP TABLE q2 AS SELECT $$
  SELECT count(*) || ' rows, ' || sum(input_token_count) || ' tokens' FROM month_mem
   WHERE "timestamp" >= '2026-11-10 05:00+00' AND "timestamp" < '2026-11-10 07:00+00'$$ AS sql;
SELECT * FROM pg_temp.probe((SELECT sql FROM q2));
SELECT * FROM pg_temp.probe((SELECT sql FROM q2));
-- the same answer as the cached table's
SELECT (pg_temp.probe((SELECT sql FROM q2))).result
     = (pg_temp.probe(replace((SELECT sql FROM q2), 'month_mem', 'month_cached'))).result AS same_answer;
-- EXPLAIN ANALYZE counts the folders listed from memory
SELECT pg_temp.counters((SELECT sql FROM q2)) - 'S3 Objects Read' AS counters;

-- the other role's mapping does not get the first one's discoveries: its
-- first query lists them, its second does not
CREATE FUNCTION pg_temp.other_role_lists() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_temp.s3_reset();
  SET LOCAL ROLE regress_disc_user;
  PERFORM count(*) FROM month_mem
    WHERE "timestamp" >= '2026-11-10 05:00+00' AND "timestamp" < '2026-11-10 07:00+00';
  RESET ROLE;
  RETURN (SELECT discovery_lists FROM pg_temp.seen());
END $$;
SELECT pg_temp.other_role_lists() AS other_mapping_first;
SELECT pg_temp.other_role_lists() AS other_mapping_second;
-- and the first role's are still there
SELECT discovery_lists AS first_mapping_again FROM pg_temp.probe((SELECT sql FROM q2));

-- ALTER USER MAPPING drops the discoveries of that mapping, not another's
ALTER USER MAPPING FOR regress_disc_user SERVER disc_mem
  OPTIONS (SET secret_access_key 'S3RVER');
SELECT pg_temp.other_role_lists() AS altered_mapping;
SELECT discovery_lists AS unaltered_mapping FROM pg_temp.probe((SELECT sql FROM q2));
ALTER USER MAPPING FOR CURRENT_USER SERVER disc_mem
  OPTIONS (SET secret_access_key 'S3RVER');
SELECT discovery_lists AS altered_mapping FROM pg_temp.probe((SELECT sql FROM q2));
SELECT pg_temp.other_role_lists() AS unaltered_mapping;
-- ALTER SERVER drops those of every mapping of that server
ALTER SERVER disc_mem OPTIONS (ADD connect_timeout '11');
SELECT discovery_lists AS after_alter_server FROM pg_temp.probe((SELECT sql FROM q2));
SELECT pg_temp.other_role_lists() AS other_after_alter_server;
SELECT discovery_lists AS then_kept FROM pg_temp.probe((SELECT sql FROM q2));
-- the server's discovery_ttl applies when the table has none
ALTER SERVER disc_mem OPTIONS (ADD discovery_ttl '0');
SELECT discovery_lists AS server_ttl_0 FROM pg_temp.probe((SELECT sql FROM q2));
SELECT discovery_lists AS server_ttl_0_again FROM pg_temp.probe((SELECT sql FROM q2));
-- and the table's wins over it
ALTER FOREIGN TABLE month_mem OPTIONS (ADD discovery_ttl '5 min');
SELECT discovery_lists AS table_ttl_first FROM pg_temp.probe((SELECT sql FROM q2));
SELECT discovery_lists AS table_ttl_second FROM pg_temp.probe((SELECT sql FROM q2));
-- cache_listings 'false' keeps folders out of memory too
ALTER SERVER disc_mem OPTIONS (ADD cache_listings 'false');
SELECT folder_lists AS no_cache_listings_first FROM pg_temp.probe((SELECT sql FROM q2));
SELECT folder_lists AS no_cache_listings_second FROM pg_temp.probe((SELECT sql FROM q2));
ALTER SERVER disc_mem OPTIONS (DROP cache_listings);
SELECT folder_lists AS cache_listings_again_first FROM pg_temp.probe((SELECT sql FROM q2));
SELECT folder_lists AS cache_listings_again_second FROM pg_temp.probe((SELECT sql FROM q2));

-- option checks: an interval from 0 to 1 day, on servers and tables only
CREATE SERVER bad FOREIGN DATA WRAPPER bedlog_fdw OPTIONS (discovery_ttl '2 days');
\set VERBOSITY terse
CREATE SERVER bad FOREIGN DATA WRAPPER bedlog_fdw OPTIONS (discovery_ttl '-1');
CREATE SERVER bad FOREIGN DATA WRAPPER bedlog_fdw OPTIONS (discovery_ttl '86401');
CREATE SERVER bad FOREIGN DATA WRAPPER bedlog_fdw OPTIONS (discovery_ttl 'soon');
CREATE SERVER bad FOREIGN DATA WRAPPER bedlog_fdw OPTIONS (discovery_tl '300');
ALTER USER MAPPING FOR CURRENT_USER SERVER disc_mem OPTIONS (ADD discovery_ttl '300');
CREATE SERVER good FOREIGN DATA WRAPPER bedlog_fdw OPTIONS (discovery_ttl '1 day');
ALTER SERVER good OPTIONS (SET discovery_ttl '300');
ALTER SERVER good OPTIONS (SET discovery_ttl '0.5');
DROP SERVER good;
\set VERBOSITY default

DROP OWNED BY regress_disc_user;
DROP ROLE regress_disc_user;
DROP SERVER disc_cached CASCADE;
DROP SERVER disc_mem CASCADE;
SELECT pg_temp.sh(format('rm -rf %s', current_setting('bedlog_test.cache_dir')));
