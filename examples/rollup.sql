--
-- rollup.sql: hourly rollups of Bedrock invocation logs into a native
-- partitioned table, kept current by pg_cron.
--
--     psql -d mydb -f examples/rollup.sql
--     SELECT * FROM bedlog_rollup('model_invocations');   -- the backfill
--
-- bedlog_hourly holds one row per hour, account, region, model and
-- operation: requests, errors and token sums.  Dashboards over months read
-- it (a few thousand rows a day) instead of the logs.
--
-- bedlog_rollup(source) aggregates the complete hours that are not rolled
-- up yet: from the table's watermark up to the start of the last complete
-- hour, which is now() less the table's delivery_delay (records can reach
-- S3 that much later than their timestamp), truncated to the hour in UTC.
-- Its time condition is pushed down, so a run lists and reads only the
-- objects of the new hours.  The rows, any new day partitions and the new
-- watermark are written in one transaction: a run that fails leaves
-- nothing, and running it again adds nothing twice.  The watermark's row is
-- locked for the run, so two overlapping runs (a slow backfill and the
-- hourly job) take turns, and the second finds nothing left to do.
--
-- The first run, with no watermark yet, reads everything up to the
-- boundary; pass since => '2026-01-01' to start later.  up_to => ... sets
-- the end instead of the computed boundary (for backfills in steps, and for
-- tests); it is truncated to the hour too.
--
-- The objects are created in the first schema of the search_path, and the
-- functions keep that search_path.
--

CREATE TABLE bedlog_hourly (
  hour               timestamptz NOT NULL,	-- start of the hour (UTC)
  account_id         text NOT NULL,
  region             text NOT NULL,
  model_id           text NOT NULL,
  operation          text NOT NULL,
  requests           bigint NOT NULL,
  errors             bigint NOT NULL,		-- records with an errorCode
  input_tokens       bigint NOT NULL,
  output_tokens      bigint NOT NULL,
  cache_read_tokens  bigint NOT NULL,
  cache_write_tokens bigint NOT NULL,
  PRIMARY KEY (hour, account_id, region, model_id, operation)
) PARTITION BY RANGE (hour);

-- One row per source table: every hour before done_until is rolled up.
CREATE TABLE bedlog_rollup_watermark (
  source     text PRIMARY KEY,				-- the foreign table, qualified
  done_until timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The start of the first hour that may still be incomplete in S3.
CREATE FUNCTION bedlog_rollup_boundary(source regclass)
  RETURNS timestamptz
  LANGUAGE sql STABLE
  SET search_path FROM CURRENT
AS $$
  SELECT date_trunc('hour',
                    now() - coalesce((SELECT o.option_value::interval
                                        FROM pg_foreign_table t,
                                             pg_options_to_table(t.ftoptions) o
                                       WHERE t.ftrelid = source
                                         AND o.option_name = 'delivery_delay'),
                                     interval '1 hour'),
                    'UTC')
$$;

CREATE FUNCTION bedlog_rollup(source regclass,
                              up_to timestamptz DEFAULT NULL,
                              since timestamptz DEFAULT NULL)
  RETURNS TABLE (rolled_from timestamptz, rolled_to timestamptz,
                 hourly_rows bigint, requests bigint)
  LANGUAGE plpgsql
  SET search_path FROM CURRENT
AS $$
DECLARE
  src  text;
  lo   timestamptz;
  hi   timestamptz;
  day  timestamptz;
  part text;
BEGIN
  SELECT format('%I.%I', n.nspname, c.relname) INTO src
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.oid = source;
  hi := date_trunc('hour', coalesce(up_to, bedlog_rollup_boundary(source)), 'UTC');

  -- the watermark, locked until commit: an overlapping run waits here
  INSERT INTO bedlog_rollup_watermark AS w (source, done_until)
    VALUES (src, coalesce(date_trunc('hour', since, 'UTC'), '-infinity'))
    ON CONFLICT ON CONSTRAINT bedlog_rollup_watermark_pkey DO NOTHING;
  SELECT w.done_until INTO lo FROM bedlog_rollup_watermark w
   WHERE w.source = src FOR UPDATE;
  IF hi <= lo THEN
    RETURN QUERY SELECT lo, lo, 0::bigint, 0::bigint;	-- nothing new
    RETURN;
  END IF;

  -- the new hours, in one scan whose time condition prunes the listing
  IF to_regclass('pg_temp.bedlog_rollup_batch') IS NOT NULL THEN
    DROP TABLE pg_temp.bedlog_rollup_batch;		-- an earlier run, same transaction
  END IF;
  EXECUTE format($q$
    CREATE TEMP TABLE bedlog_rollup_batch ON COMMIT DROP AS
    SELECT date_trunc('hour', "timestamp", 'UTC') AS hour,
           coalesce(account_id, '') AS account_id, coalesce(region, '') AS region,
           coalesce(model_id, '') AS model_id, coalesce(operation, '') AS operation,
           count(*) AS requests,
           count(error_code) AS errors,
           coalesce(sum(input_token_count), 0)::bigint AS input_tokens,
           coalesce(sum(output_token_count), 0)::bigint AS output_tokens,
           coalesce(sum(cache_read_input_token_count), 0)::bigint AS cache_read_tokens,
           coalesce(sum(cache_write_input_token_count), 0)::bigint AS cache_write_tokens
      FROM %s
     WHERE "timestamp" >= $1 AND "timestamp" < $2
     GROUP BY 1, 2, 3, 4, 5$q$, src)
    USING lo, hi;

  -- a partition per UTC day; attaching locks the parent only against
  -- other schema changes, not against readers
  FOR day IN SELECT DISTINCT date_trunc('day', b.hour, 'UTC')
               FROM pg_temp.bedlog_rollup_batch b ORDER BY 1
  LOOP
    part := 'bedlog_hourly_' || to_char(day AT TIME ZONE 'UTC', 'YYYYMMDD');
    IF to_regclass(part) IS NULL THEN
      EXECUTE format('CREATE TABLE %I (LIKE bedlog_hourly INCLUDING DEFAULTS)', part);
      EXECUTE format('ALTER TABLE bedlog_hourly ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                     part, day, day + interval '1 day');
    END IF;
  END LOOP;

  INSERT INTO bedlog_hourly SELECT * FROM pg_temp.bedlog_rollup_batch;
  UPDATE bedlog_rollup_watermark w SET done_until = hi, updated_at = now()
   WHERE w.source = src;
  RETURN QUERY SELECT lo, hi, count(*), coalesce(sum(b.requests), 0)::bigint
                 FROM pg_temp.bedlog_rollup_batch b;
END
$$;

-- Schedule it hourly, five minutes past the hour, where pg_cron is
-- installed in this database (cron.database_name); otherwise say how.
DO $$
BEGIN
  IF to_regprocedure('cron.schedule(text,text,text)') IS NOT NULL THEN
    PERFORM cron.schedule('bedlog-rollup', '5 * * * *',
                          'SELECT * FROM bedlog_rollup(''model_invocations'')');
  ELSE
    RAISE NOTICE 'pg_cron is not installed in this database: schedule the rollup from the database that has it'
      USING HINT = format('SELECT cron.schedule_in_database(''bedlog-rollup'', ''5 * * * *'', '
                          '''SELECT * FROM bedlog_rollup(''''model_invocations'''')'', %L);',
                          current_database());
  END IF;
END
$$;
