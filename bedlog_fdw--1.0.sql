/* bedlog_fdw--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION bedlog_fdw" to load this file. \quit

CREATE FUNCTION bedlog_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FUNCTION bedlog_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

CREATE FOREIGN DATA WRAPPER bedlog_fdw
  HANDLER bedlog_fdw_handler
  VALIDATOR bedlog_fdw_validator;

COMMENT ON FOREIGN DATA WRAPPER bedlog_fdw
  IS 'AWS Bedrock model invocation logs in S3';

-- The object index: what each log object holds (see bedlog_index_refresh).
-- Scans of a table with conditions on time, model or operation skip the
-- objects whose entry, for the same ETag, proves that nothing can match.
CREATE TABLE bedlog_object_index (
  ftrelid       oid NOT NULL,          -- the foreign table
  bucket        text NOT NULL,
  key           text NOT NULL,
  etag          text NOT NULL,         -- of the object when it was indexed
  size          bigint NOT NULL,
  records       bigint NOT NULL,
  min_timestamp timestamptz,           -- least and greatest record timestamp
  max_timestamp timestamptz,
  model_ids     text[] NOT NULL,       -- distinct modelId values
  operations    text[] NOT NULL,       -- distinct operation values
  indexed_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (ftrelid, bucket, key)
);
REVOKE ALL ON bedlog_object_index FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('bedlog_object_index', '');

CREATE FUNCTION bedlog_index_refresh(foreign_table regclass)
RETURNS bigint
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION bedlog_index_refresh(regclass)
  IS 'index the log objects of a bedlog_fdw table not indexed yet; returns how many were read';
