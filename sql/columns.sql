--
-- Columns: custom json_path columns, other types, NULLs, projection.
-- Fixture: s3://types/t/, one object, a full record on line 1, a blank
-- line 2, and a failed call with few members on line 3.
--
\set VERBOSITY default
CREATE FOREIGN TABLE typed (
  "timestamp"   timestamptz,
  ts_plain      timestamp   OPTIONS (json_path 'timestamp'),
  request_id    uuid,
  identity_arn  text,
  temperature   numeric     OPTIONS (json_path 'input.inputBodyJson.inferenceConfig.temperature'),
  top_p         float8      OPTIONS (json_path 'input.inputBodyJson.inferenceConfig.topP'),
  max_tokens    int4        OPTIONS (json_path 'input.inputBodyJson.inferenceConfig.maxTokens'),
  latency_ms    int2        OPTIONS (json_path 'output.outputBodyJson.metrics.latencyMs'),
  prompt        text        OPTIONS (json_path 'input.inputBodyJson.messages[0].content[0].text'),
  last_role     varchar(10) OPTIONS (json_path 'input.inputBodyJson.messages[-1].role'),
  team          text        OPTIONS (json_path 'requestMetadata.team'),
  cost_center   int4        OPTIONS (json_path 'requestMetadata."cost.center"'),
  flag          bool        OPTIONS (json_path 'requestMetadata.flag'),
  yes           bool        OPTIONS (json_path 'custom.yes'),
  day           date        OPTIONS (json_path 'custom.day'),
  local_time    timestamp   OPTIONS (json_path 'custom.when'),
  list          json        OPTIONS (json_path 'custom.list'),
  list_last     int8        OPTIONS (json_path 'custom.list[-1]'),
  list_too_far  int8        OPTIONS (json_path 'custom.list[-4]'),
  nothing       text        OPTIONS (json_path 'custom.nothing'),
  big           numeric     OPTIONS (json_path 'custom.big'),
  ratio         float4      OPTIONS (json_path 'custom.ratio'),
  meta_as_text  text        OPTIONS (json_path 'requestMetadata'),
  missing       text        OPTIONS (json_path 'no.such.path'),
  custom        jsonb,      -- no json_path: the top-level member of that name
  s3_line       bigint
) SERVER s3 OPTIONS (location 's3://types/t/');

\x on
SELECT * FROM typed ORDER BY s3_line;
\x off

-- the unescaped prompt, byte for byte
SELECT prompt = E'caf\u00e9 \U0001F600 "quoted"\nnew line \\ tab\t日本' AS prompt_ok,
       length(prompt), octet_length(prompt)
  FROM typed WHERE s3_line = 1;

-- a value that does not convert is an error naming the column, object and line
CREATE FOREIGN TABLE typed_bad1 (big int8 OPTIONS (json_path 'custom.big'))
  SERVER s3 OPTIONS (location 's3://types/t/');
SELECT * FROM typed_bad1;
CREATE FOREIGN TABLE typed_bad2 (model_id varchar(5)) SERVER s3 OPTIONS (location 's3://types/t/');
SELECT * FROM typed_bad2;
CREATE FOREIGN TABLE typed_bad3 (custom int4) SERVER s3 OPTIONS (location 's3://types/t/');
SELECT * FROM typed_bad3;
-- the AWS documentation's example requestId is not a UUID
CREATE FOREIGN TABLE typed_bad4 (request_id uuid) SERVER s3 OPTIONS (location 's3://examples/logs/');
SELECT count(*) FROM typed_bad4;
SELECT count(request_id) FROM typed_bad4;

-- only the columns a query uses are decoded: "bad" would fail to convert
CREATE FOREIGN TABLE projected (
  request_id text,
  bad        int4 OPTIONS (json_path 'modelId'),
  s3_line    bigint
) SERVER s3 OPTIONS (location 's3://types/t/');
SELECT request_id, s3_line FROM projected ORDER BY s3_line;
SELECT count(*) FROM projected;
SELECT count(*) FROM projected WHERE request_id LIKE '5f0e%';
SELECT bad FROM projected;                         -- now it is decoded
SELECT count(*) FROM projected WHERE bad > 0;      -- and here, for the filter
SELECT projected FROM projected;                   -- whole row: every column
EXPLAIN (COSTS OFF, VERBOSE) SELECT request_id FROM projected WHERE s3_line > 1;

DROP FOREIGN TABLE typed, typed_bad1, typed_bad2, typed_bad3, typed_bad4, projected;
