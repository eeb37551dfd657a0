--
-- Prices and cost: bedlog_model_key, bedlog_price, bedlog_request_cost and
-- the cost view of the README, joined with a foreign table over the
-- hand-written records of test/fixtures/billing/billing.ndjson (bucket
-- billing, prefix b/, one object per record).  Every expected cost below is
-- worked out by hand from those records and the shipped prices (USD per
-- 1,000 tokens), never by the functions under test.
--
SET timezone = 'UTC';

-- every form of modelId, and what it is priced as
SELECT m AS model_id, bedlog_model_key(m) AS model_key
  FROM (VALUES
    ('anthropic.claude-3-5-sonnet-20240620-v1:0'),
    ('us.anthropic.claude-3-5-sonnet-20240620-v1:0'),
    ('eu.anthropic.claude-3-5-sonnet-20240620-v1:0'),
    ('apac.amazon.nova-pro-v1:0'),
    ('global.anthropic.claude-sonnet-4-5-20250929-v1:0'),
    ('us-gov.anthropic.claude-3-haiku-20240307-v1:0'),
    ('arn:aws:bedrock:us-east-1:111111111111:inference-profile/us.meta.llama3-3-70b-instruct-v1:0'),
    ('arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-lite-v1:0'),
    ('arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/amazon.titan-text-express-v1'),
    ('anthropic.claude-3-haiku-20240307-v1:0:200k'),
    ('amazon.nova-pro-v1:0:300k'),
    ('amazon.titan-text-express-v1'),
    ('arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/a1b2c3d4e5f6'),
    ('arn:aws:bedrock:us-east-1:111111111111:provisioned-model/abcdef123456'),
    ('')) v(m);
SELECT bedlog_model_key(NULL) IS NULL AS null_is_null;

-- the shipped prices: keyed by their own model key, marked shipped, and
-- left out of pg_dump (only rows added by users are dumped)
SELECT count(*) >= 40 AS enough_models,
       bool_and(shipped) AS all_shipped,
       bool_and(bedlog_model_key(model_key) = model_key) AS keys_are_normal,
       bool_and(effective_from = '-infinity') AS baseline
  FROM bedlog_price;
SELECT c.relname, e.extcondition[array_position(e.extconfig, c.oid)] AS dump_filter
  FROM pg_extension e JOIN pg_class c ON c.oid = ANY (e.extconfig)
 WHERE e.extname = 'bedlog_fdw' ORDER BY 1;
SELECT has_table_privilege('public', 'bedlog_price', 'SELECT') AS public_reads,
       has_table_privilege('public', 'bedlog_price', 'INSERT') AS public_writes;

-- the foreign table, and the cost view exactly as the README shows it
CREATE SCHEMA bill;
IMPORT FOREIGN SCHEMA bedrock FROM SERVER s3 INTO bill OPTIONS (location 's3://billing/b/');
SET search_path = bill, public;
\set ECHO none
\i sql/include/cost_view.sql
\set ECHO all

SELECT right(request_id, 2) AS rec, model_key, input_token_count AS i, output_token_count AS o,
       cache_read_input_token_count AS cr, cache_write_input_token_count AS cw,
       round(total_cost, 8) AS total_cost
  FROM model_invocation_costs ORDER BY request_id;

-- Hand-computed, shipped prices (input, output, cache read, cache write):
--  01 claude-3-5-sonnet-20240620 (3.0, 15.0, 0.3, 3.75 per 1M)
--     1000*0.003/1000 + 500*0.015/1000                       = 0.003 + 0.0075 = 0.0105
--  02 same, us. profile: 2000*0.003/1000 + 1000*0.015/1000
--     + 4096*0.0003/1000 + 1536*0.00375/1000 = 0.006 + 0.015 + 0.0012288 + 0.00576 = 0.0279888
--  03 claude-sonnet-4-5 via an inference-profile ARN of a global. profile:
--     100*0.003/1000 + 50*0.015/1000                         = 0.0003 + 0.00075 = 0.00105
--  04 nova-lite via a foundation-model ARN: 10000*0.00006/1000 + 2000*0.00024/1000
--                                                            = 0.0006 + 0.00048 = 0.00108
--  05 llama3-3-70b, us. profile: 3000*0.00072/1000 + 1000*0.00072/1000 = 0.00216 + 0.00072 = 0.00288
--  06 nova-pro, apac. profile: 5000*0.0008/1000 + 500*0.0032/1000 + 1000*0.0002/1000 + 0
--                                                            = 0.004 + 0.0016 + 0.0002 = 0.0058
--  07 application inference profile: no price                = NULL
--  08 claude-3-haiku, ThrottlingException, no tokens         = 0
--  09 claude-3-haiku :200k: 4000*0.00025/1000 + 800*0.00125/1000 = 0.001 + 0.001 = 0.002
--  10 titan-embed-text-v2: 1234*0.00002/1000                 = 0.00002468
--  11 claude-3-5-sonnet-20240620 on 2026-11-02: as 01        = 0.0105
--  12 same, eu. profile, 2026-11-01 23:59:59: 1000*0.003/1000 = 0.003
--  13 mistral-large-2407: 2000*0.002/1000 + 1000*0.006/1000  = 0.004 + 0.006 = 0.010
CREATE TEMP TABLE hand (rec text, cost numeric);
INSERT INTO hand VALUES ('01', 0.0105), ('02', 0.0279888), ('03', 0.00105), ('04', 0.00108),
  ('05', 0.00288), ('06', 0.0058), ('07', NULL), ('08', 0), ('09', 0.002), ('10', 0.00002468),
  ('11', 0.0105), ('12', 0.003), ('13', 0.010);
SELECT count(*) AS compared,
       count(*) FILTER (WHERE c.total_cost IS DISTINCT FROM h.cost) AS mismatches
  FROM model_invocation_costs c JOIN hand h ON h.rec = right(c.request_id, 2);

-- Sums.  Total: 0.0105 + 0.0279888 + 0.00105 + 0.00108 + 0.00288 + 0.0058
--   + 0 + 0.002 + 0.00002468 + 0.0105 + 0.003 + 0.010 = 0.07482348 (record 07 unpriced)
-- alice (01-06): 0.0105 + 0.0279888 + 0.00105 + 0.00108 + 0.00288 + 0.0058 = 0.0492988
-- the app role (07-13): 0 + 0.002 + 0.00002468 + 0.0105 + 0.003 + 0.010 = 0.02552468
SELECT sum(total_cost) = 0.07482348 AS total_ok, sum(total_cost) AS total,
       count(*) FILTER (WHERE total_cost IS NULL) AS unpriced
  FROM model_invocation_costs;
SELECT identity_arn, sum(total_cost) AS cost,
       sum(total_cost) = CASE WHEN identity_arn LIKE '%user/alice' THEN 0.0492988 ELSE 0.02552468 END AS ok
  FROM model_invocation_costs GROUP BY 1 ORDER BY 1;
-- by priced model: claude-3-5-sonnet-20240620 is 01 + 02 + 11 + 12
--   = 0.0105 + 0.0279888 + 0.0105 + 0.003 = 0.0519888
SELECT model_key, count(*) AS requests, sum(total_cost) AS cost
  FROM model_invocation_costs GROUP BY 1 ORDER BY 1;
SELECT sum(total_cost) = 0.0519888 AS sonnet_ok FROM model_invocation_costs
 WHERE model_key = 'anthropic.claude-3-5-sonnet-20240620-v1:0';

-- A price change from 2026-11-02 (input 2.0, output 10.0 per 1M): record 11
-- now costs 1000*0.002/1000 + 500*0.01/1000 = 0.002 + 0.005 = 0.007; record
-- 12 (2026-11-01 23:59:59 UTC, filed after midnight) keeps the old price.
-- Total: 0.07482348 - 0.0105 + 0.007 = 0.07132348.
INSERT INTO bedlog_price (model_key, effective_from, input_per_1k, output_per_1k,
                          cache_read_per_1k, cache_write_per_1k, note)
VALUES ('anthropic.claude-3-5-sonnet-20240620-v1:0', '2026-11-02', 0.002, 0.01, 0.0002, 0.0025,
        'test: a price cut');
SELECT right(request_id, 2) AS rec, price_from, total_cost
  FROM model_invocation_costs WHERE model_key = 'anthropic.claude-3-5-sonnet-20240620-v1:0'
 ORDER BY 1;
SELECT sum(total_cost) = 0.07132348 AS total_after_change_ok FROM model_invocation_costs;
-- the effective date is a UTC date, whatever the session's time zone
SET timezone = 'Pacific/Honolulu';
SELECT right(request_id, 2) AS rec, price_from, total_cost
  FROM model_invocation_costs WHERE right(request_id, 2) IN ('11', '12') ORDER BY 1;
SET timezone = 'UTC';

-- An application inference profile is priced by a row under its ARN
-- (here at claude-3-haiku's prices): 100*0.00025/1000 + 100*0.00125/1000
-- = 0.000025 + 0.000125 = 0.00015; the total becomes 0.07147348.
INSERT INTO bedlog_price (model_key, effective_from, input_per_1k, output_per_1k)
VALUES ('arn:aws:bedrock:us-east-1:111111111111:application-inference-profile/a1b2c3d4e5f6',
        '2026-01-01', 0.00025, 0.00125);
SELECT total_cost = 0.00015 AS app_profile_ok FROM model_invocation_costs
 WHERE right(request_id, 2) = '07';
SELECT sum(total_cost) = 0.07147348 AS total_ok, count(*) FILTER (WHERE total_cost IS NULL) AS unpriced
  FROM model_invocation_costs;

-- the user's rows are the ones pg_dump keeps
SELECT model_key, effective_from FROM bedlog_price WHERE NOT shipped ORDER BY 1, 2;

-- A join with the user's own billing tables: who is which team, and what
-- AWS invoiced each team for November.  Estimated per team (as above):
-- research (alice) 0.0492988; platform (the app role) 0.02552468 - 0.0105
-- + 0.007 + 0.00015 = 0.02217468.
CREATE TABLE team_member (identity_arn text PRIMARY KEY, team text NOT NULL);
INSERT INTO team_member VALUES
  ('arn:aws:iam::111111111111:user/alice', 'research'),
  ('arn:aws:sts::111111111111:assumed-role/BedrockAppRole/app-prod-1', 'platform');
CREATE TABLE team_invoice (month date, team text, billed_usd numeric, PRIMARY KEY (month, team));
INSERT INTO team_invoice VALUES ('2026-11-01', 'research', 0.05), ('2026-11-01', 'platform', 0.02);
SELECT i.month, i.team, i.billed_usd, round(e.estimated, 8) AS estimated,
       round(i.billed_usd - e.estimated, 8) AS difference
  FROM team_invoice i
  JOIN (SELECT date_trunc('month', c."timestamp")::date AS month, t.team, sum(c.total_cost) AS estimated
          FROM model_invocation_costs c JOIN team_member t USING (identity_arn)
         WHERE c."timestamp" >= '2026-11-01' AND c."timestamp" < '2026-12-01'
         GROUP BY 1, 2) e USING (month, team)
 ORDER BY 2;
SELECT sum(e.total_cost) FILTER (WHERE t.team = 'research') = 0.0492988 AS research_ok,
       sum(e.total_cost) FILTER (WHERE t.team = 'platform') = 0.02217468 AS platform_ok
  FROM model_invocation_costs e JOIN team_member t USING (identity_arn);

-- The view keeps pruning: one hour reads only that hour's objects (and the
-- next hour's folder, for delivery delay): records 07, 08, 09, 10 and 13.
CREATE FUNCTION pg_temp.scan_counts(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    IF l ~ 'S3 (Objects|Listings)' THEN RETURN NEXT btrim(l); END IF;
  END LOOP;
END $$;
SELECT * FROM pg_temp.scan_counts($$SELECT model_key, sum(total_cost) FROM model_invocation_costs
  WHERE "timestamp" >= '2026-11-01 01:00+00' AND "timestamp" < '2026-11-01 02:00+00' GROUP BY 1$$);
-- 0 + 0.002 + 0.00002468 + 0.010 + 0.00015 = 0.01217468
SELECT sum(total_cost) = 0.01217468 AS hour_ok FROM model_invocation_costs
 WHERE "timestamp" >= '2026-11-01 01:00+00' AND "timestamp" < '2026-11-01 02:00+00';

DROP TABLE team_invoice, team_member;
DROP VIEW model_invocation_costs;
DELETE FROM bedlog_price WHERE NOT shipped;
RESET search_path;
