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
