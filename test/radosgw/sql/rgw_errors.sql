--
-- Errors a real S3 server answers by itself (the radosgw stage; the fault
-- proxy's cases are in errors.sql): a missing bucket, an access key it
-- does not know, a signature made with the wrong secret, and the bad data
-- of bucket "bad", all read through the proxy in pass-through mode.
--
\set VERBOSITY default

-- missing bucket
CREATE FOREIGN TABLE err_nobucket (model_id text) SERVER s3
  OPTIONS (location 's3://no-such-bucket/logs/');
SELECT * FROM err_nobucket;

-- access denied: an access key the server does not know
CREATE SERVER s3_badkey FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712');
CREATE USER MAPPING FOR CURRENT_USER SERVER s3_badkey
  OPTIONS (access_key_id 'AKIAWRONGKEY', secret_access_key 'Sup3rS3cretValue/xyz');
CREATE FOREIGN TABLE err_denied (model_id text) SERVER s3_badkey
  OPTIONS (location 's3://logs/bedrock/');
SELECT * FROM err_denied;

-- the right access key with the wrong secret: the server checks the signature
CREATE SERVER s3_badsecret FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:45712');
CREATE USER MAPPING FOR CURRENT_USER SERVER s3_badsecret
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'Sup3rS3cretValue/xyz');
CREATE FOREIGN TABLE err_badsig (model_id text) SERVER s3_badsecret
  OPTIONS (location 's3://logs/bedrock/');
SELECT * FROM err_badsig;

-- corrupt and truncated gzip, non-gzip objects
CREATE FOREIGN TABLE bad_gzip (model_id text) SERVER s3
  OPTIONS (location 's3://bad/corrupt-gzip/');
SELECT * FROM bad_gzip;
CREATE FOREIGN TABLE bad_trunc (model_id text) SERVER s3
  OPTIONS (location 's3://bad/truncated-gzip/');
SELECT count(*) FROM bad_trunc;
CREATE FOREIGN TABLE bad_binary (model_id text) SERVER s3
  OPTIONS (location 's3://bad/binary/');
SELECT count(*) FROM bad_binary;
-- a plain (not gzipped) object is read as plain NDJSON
CREATE FOREIGN TABLE plain (model_id text, s3_line bigint) SERVER s3
  OPTIONS (location 's3://bad/plain/');
SELECT * FROM plain ORDER BY s3_line;

-- malformed JSON, a line that is not an object, bytes that are not UTF-8
CREATE FOREIGN TABLE bad_json (model_id text, s3_line bigint) SERVER s3
  OPTIONS (location 's3://bad/bad-json/');
SELECT count(*) FROM bad_json;
CREATE FOREIGN TABLE bad_notobj (model_id text) SERVER s3
  OPTIONS (location 's3://bad/not-object/');
SELECT count(*) FROM bad_notobj;
CREATE FOREIGN TABLE bad_utf8 (model_id text) SERVER s3
  OPTIONS (location 's3://bad/bad-utf8/');
SELECT count(*) FROM bad_utf8;

-- values that do not fit their column
CREATE FOREIGN TABLE bad_int (input_token_count bigint) SERVER s3
  OPTIONS (location 's3://bad/bad-int/');
SELECT sum(input_token_count) FROM bad_int;
CREATE FOREIGN TABLE bad_ts ("timestamp" timestamptz) SERVER s3
  OPTIONS (location 's3://bad/bad-ts/');
SELECT * FROM bad_ts;

-- a huge record is read, not refused
CREATE FOREIGN TABLE huge (model_id text, input_body jsonb, s3_line bigint) SERVER s3
  OPTIONS (location 's3://bad/huge-line/');
SELECT model_id, octet_length(input_body::text) > 10000000 AS over_10mb, s3_line FROM huge;

-- virtual-host addressing (bucket.localhost), signed and verified like
-- path style (radosgw's rgw_dns_name is localhost)
CREATE SERVER s3_virtual FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://localhost:45712', addressing_style 'virtual');
CREATE USER MAPPING FOR CURRENT_USER SERVER s3_virtual
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
CREATE FOREIGN TABLE virtual_logs (account_id text) SERVER s3_virtual
  OPTIONS (location 's3://logs/bedrock/');
SELECT account_id, count(*) FROM virtual_logs GROUP BY 1 ORDER BY 1;

DROP SERVER s3_badkey, s3_badsecret, s3_virtual CASCADE;
DROP FOREIGN TABLE err_nobucket, bad_gzip, bad_trunc, bad_binary, plain, bad_json,
  bad_notobj, bad_utf8, bad_int, bad_ts, huge;
