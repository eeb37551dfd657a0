/* bedlog_fdw--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION bedlog_fdw UPDATE TO '1.1'" to load this file. \quit

-- The S3 connections a backend keeps between queries, per foreign server
-- and user mapping (as postgres_fdw_get_connections lists its own).
CREATE FUNCTION bedlog_fdw_get_connections(OUT server_name text,
                                           OUT user_name text,
                                           OUT valid boolean,
                                           OUT in_use boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT PARALLEL RESTRICTED;

-- Close them, but for those a running scan holds.
CREATE FUNCTION bedlog_fdw_disconnect_all()
RETURNS boolean
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT PARALLEL RESTRICTED;
