--
-- Listing pagination: 1,205 objects take two ListObjectsV2 pages.
--
-- EXPLAIN ANALYZE that reads the same on every major: pg_temp.explain_analyze()
\set ECHO none
\i sql/include/explain.sql
\set ECHO all
CREATE FOREIGN TABLE pages (request_id text, s3_key text, input_token_count bigint)
  SERVER s3 OPTIONS (location 's3://pages/p/');
SELECT count(*) AS records, count(DISTINCT s3_key) AS objects, count(DISTINCT request_id) AS requests,
       sum(input_token_count) AS input_tokens,
       (pg_read_file(current_setting('bedlog_test.fixtures') || '/fixtures.manifest.json')::jsonb
         #>> '{buckets,pages,totals,input_tokens}')::bigint AS manifest_input_tokens
  FROM pages;
SELECT * FROM pg_temp.explain_analyze('', $$SELECT count(*) FROM pages$$);
-- a LIMIT stops early: one object read (the next listing page and the next
-- objects were already requested, ahead of their use)
SELECT * FROM pg_temp.explain_analyze('', $$SELECT * FROM pages LIMIT 1$$);
DROP FOREIGN TABLE pages;
