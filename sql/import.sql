--
-- IMPORT FOREIGN SCHEMA bedrock: the canonical table.
--
\set VERBOSITY default
CREATE SERVER imp_s FOREIGN DATA WRAPPER bedlog_fdw;
CREATE SCHEMA imp;

IMPORT FOREIGN SCHEMA bedrock FROM SERVER imp_s INTO imp;          -- no location
IMPORT FOREIGN SCHEMA logs FROM SERVER imp_s INTO imp
  OPTIONS (location 's3://bucket/prefix/');                          -- no such schema
IMPORT FOREIGN SCHEMA bedrock FROM SERVER imp_s INTO imp
  OPTIONS (location 'bucket/prefix');                                -- bad location
IMPORT FOREIGN SCHEMA bedrock FROM SERVER imp_s INTO imp
  OPTIONS (location 's3://bucket/prefix', bogus 'x');               -- bad option

IMPORT FOREIGN SCHEMA bedrock FROM SERVER imp_s INTO imp
  OPTIONS (location 's3://bucket/prefix');
\d imp.model_invocations
SELECT ftoptions FROM pg_foreign_table WHERE ftrelid = 'imp.model_invocations'::regclass;

-- LIMIT TO and EXCEPT
DROP FOREIGN TABLE imp.model_invocations;
IMPORT FOREIGN SCHEMA bedrock EXCEPT (model_invocations) FROM SERVER imp_s INTO imp
  OPTIONS (location 's3://bucket/prefix/');
SELECT count(*) FROM pg_class WHERE relnamespace = 'imp'::regnamespace;
IMPORT FOREIGN SCHEMA bedrock LIMIT TO (other_table) FROM SERVER imp_s INTO imp
  OPTIONS (location 's3://bucket/prefix/');
SELECT count(*) FROM pg_class WHERE relnamespace = 'imp'::regnamespace;
IMPORT FOREIGN SCHEMA bedrock LIMIT TO (model_invocations) FROM SERVER imp_s INTO imp
  OPTIONS (location 's3://bucket/prefix/');
SELECT relname FROM pg_class WHERE relnamespace = 'imp'::regnamespace;

-- EXPLAIN shows the location scanned, without contacting S3
EXPLAIN (COSTS OFF) SELECT model_id FROM imp.model_invocations;
EXPLAIN (COSTS OFF, VERBOSE) SELECT model_id FROM imp.model_invocations WHERE operation = 'Converse';

DROP SCHEMA imp CASCADE;
DROP SERVER imp_s;
