--
-- Pushdown never changes an answer: random time ranges (every operator,
-- date and timestamp values, BETWEEN) and random account, region, model
-- and operation conditions, each run with pushdown off and on, over the
-- logs that include records delivered late into the next hour's folder.
--
SET timezone = 'UTC';
CREATE FOREIGN TABLE prop (
  "timestamp" timestamptz, account_id text, region text, model_id text,
  operation text, input_token_count bigint, request_id text
) SERVER s3 OPTIONS (location 's3://logs/bedrock/');

CREATE FUNCTION pg_temp.answer(q text, pushdown bool) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  PERFORM set_config('bedlog_fdw.enable_pushdown', pushdown::text, true);
  EXECUTE 'SELECT count(*) || '' '' || coalesce(sum(input_token_count), 0) || '' '' || '
          'coalesce(md5(string_agg(request_id, '','' ORDER BY request_id)), '''') FROM prop WHERE ' || q
    INTO r;
  RETURN r;
END $$;

CREATE FUNCTION pg_temp.random_condition(trial int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  base timestamptz := '2026-10-31 23:00+00';
  t1 timestamptz := base + random() * interval '8 hours';
  t2 timestamptz := t1 + random() * interval '3 hours';
  ops text[] := ARRAY['<', '<=', '>', '>=', '='];
  conds text[] := '{}';
  x float8;
BEGIN
  x := random();
  IF x < 0.15 THEN
    conds := conds || format('"timestamp" BETWEEN %L AND %L', t1, t2);
  ELSIF x < 0.3 THEN
    conds := conds || format('"timestamp" %s %L::date', ops[1 + floor(random() * 5)::int], t1);
  ELSIF x < 0.45 THEN
    conds := conds || format('"timestamp" %s %L::timestamp', ops[1 + floor(random() * 5)::int],
                             (t1 AT TIME ZONE 'UTC')::text);
  ELSIF x < 0.85 THEN
    conds := conds || format('"timestamp" %s %L', ops[1 + floor(random() * 4)::int], t1);
    IF random() < 0.6 THEN
      conds := conds || format('"timestamp" %s %L', ops[1 + floor(random() * 4)::int], t2);
    END IF;
  END IF;
  IF random() < 0.3 THEN
    conds := conds || format('account_id = %L', (ARRAY['111111111111', '222222222222', '333333333333'])[1 + floor(random() * 3)::int]);
  END IF;
  IF random() < 0.3 THEN
    conds := conds || ('region IN (''us-east-1''' || CASE WHEN random() < 0.5 THEN ', ''eu-west-1'')' ELSE ')' END);
  END IF;
  IF random() < 0.2 THEN
    conds := conds || format('model_id LIKE %L', (ARRAY['anthropic.%', 'us.%', 'amazon.nova-%', 'arn:%', 'x%'])[1 + floor(random() * 5)::int]);
  END IF;
  IF random() < 0.2 THEN
    conds := conds || format('operation = %L', (ARRAY['Converse', 'ConverseStream', 'InvokeModel', 'InvokeModelWithResponseStream'])[1 + floor(random() * 4)::int]);
  END IF;
  IF cardinality(conds) = 0 THEN
    RETURN 'true';
  END IF;
  RETURN array_to_string(conds, ' AND ');
END $$;

SELECT setseed(0.42);
CREATE TEMP TABLE trials AS
  SELECT i, c, pg_temp.answer(c, false) AS without_pushdown, pg_temp.answer(c, true) AS with_pushdown
    FROM generate_series(1, 80) i, LATERAL pg_temp.random_condition(i) c;
SELECT count(*) AS trials,
       count(*) FILTER (WHERE without_pushdown IS DISTINCT FROM with_pushdown) AS differing,
       count(*) FILTER (WHERE split_part(without_pushdown, ' ', 1)::int > 0) AS with_rows,
       count(*) FILTER (WHERE c LIKE '%timestamp%') AS with_time
  FROM trials;
SELECT i, c, without_pushdown, with_pushdown FROM trials
 WHERE without_pushdown IS DISTINCT FROM with_pushdown ORDER BY i;
DROP FOREIGN TABLE prop;
