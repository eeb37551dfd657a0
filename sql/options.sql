--
-- Options: where each belongs, how bad values are refused, who may set what.
--
\set VERBOSITY default

-- the extension itself (pg_regress --load-extension created it)
SELECT extname, extversion FROM pg_extension WHERE extname = 'bedlog_fdw';
SELECT fdwname, fdwhandler::regproc, fdwvalidator::regproc
  FROM pg_foreign_data_wrapper WHERE fdwname = 'bedlog_fdw';

-- server options
CREATE SERVER opt_s FOREIGN DATA WRAPPER bedlog_fdw;
ALTER SERVER opt_s OPTIONS (ADD aws_region 'eu-west-1');
ALTER SERVER opt_s OPTIONS (SET aws_region 'EU_WEST');           -- bad
ALTER SERVER opt_s OPTIONS (SET aws_region '');                  -- bad
ALTER SERVER opt_s OPTIONS (ADD addressing_style 'path');
ALTER SERVER opt_s OPTIONS (SET addressing_style 'dns');         -- bad
ALTER SERVER opt_s OPTIONS (ADD endpoint 'https://minio.internal:9000');
ALTER SERVER opt_s OPTIONS (SET endpoint 'http://[::1]:9000/');
ALTER SERVER opt_s OPTIONS (SET endpoint 'ftp://example.com');   -- bad scheme
ALTER SERVER opt_s OPTIONS (SET endpoint 'https://host/path');   -- bad: path
ALTER SERVER opt_s OPTIONS (SET endpoint 'https://user:pw@host'); -- bad: user info
ALTER SERVER opt_s OPTIONS (SET endpoint 'https://host:99999');  -- bad port
ALTER SERVER opt_s OPTIONS (ADD connect_timeout '5');
ALTER SERVER opt_s OPTIONS (SET connect_timeout '0');            -- bad
ALTER SERVER opt_s OPTIONS (SET connect_timeout '5s');           -- bad
ALTER SERVER opt_s OPTIONS (ADD low_speed_timeout '600');
ALTER SERVER opt_s OPTIONS (ADD ca_bundle '/etc/ssl/certs/ca-certificates.crt');
ALTER SERVER opt_s OPTIONS (SET low_speed_timeout '86401');      -- bad
ALTER SERVER opt_s OPTIONS (ADD aws_regoin 'us-east-1');         -- typo: hint
ALTER SERVER opt_s OPTIONS (ADD location 's3://bucket/');        -- table option
SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'opt_s';

-- secrets belong on user mappings, and only there
ALTER SERVER opt_s OPTIONS (ADD secret_access_key 'x');
CREATE USER MAPPING FOR CURRENT_USER SERVER opt_s
  OPTIONS (access_key_id 'AKIDEXAMPLE', secret_access_key 'wJalrXUtnFEMI', session_token 'tok');
CREATE USER MAPPING FOR PUBLIC SERVER opt_s OPTIONS (aws_region 'us-east-1');  -- bad
CREATE FOREIGN TABLE opt_t1 (a text) SERVER opt_s
  OPTIONS (location 's3://bucket/p/', access_key_id 'x');         -- bad

-- table options: location is required and must be an S3 location
CREATE FOREIGN TABLE opt_t2 (a text) SERVER opt_s;
CREATE FOREIGN TABLE opt_t2 (a text) SERVER opt_s OPTIONS (location 'https://bucket/p/');
CREATE FOREIGN TABLE opt_t2 (a text) SERVER opt_s OPTIONS (location 's3://b/p/');
CREATE FOREIGN TABLE opt_t2 (a text) SERVER opt_s OPTIONS (location 's3://bucket!/p/');
CREATE FOREIGN TABLE opt_t2 (a text) SERVER opt_s OPTIONS (locaton 's3://bucket/p/');
CREATE FOREIGN TABLE opt_t2 (a text) SERVER opt_s OPTIONS (location 's3://bucket');
ALTER FOREIGN TABLE opt_t2 OPTIONS (SET location 's3://bucket/deeper/AWSLogs/123456789012/');
ALTER FOREIGN TABLE opt_t2 OPTIONS (DROP location);                -- required
ALTER FOREIGN TABLE opt_t2 OPTIONS (ADD aws_region 'us-east-1');   -- server option

-- column option json_path
ALTER FOREIGN TABLE opt_t2 ALTER COLUMN a OPTIONS (ADD json_path 'output.outputBodyJson[-1].amazon-bedrock-invocationMetrics.invocationLatency');
ALTER FOREIGN TABLE opt_t2 ALTER COLUMN a OPTIONS (SET json_path 'requestMetadata."team.name"');
ALTER FOREIGN TABLE opt_t2 ALTER COLUMN a OPTIONS (SET json_path '$');
ALTER FOREIGN TABLE opt_t2 ALTER COLUMN a OPTIONS (SET json_path 'a..b');     -- bad
ALTER FOREIGN TABLE opt_t2 ALTER COLUMN a OPTIONS (SET json_path 'a[1');      -- bad
ALTER FOREIGN TABLE opt_t2 ALTER COLUMN a OPTIONS (SET json_path 'a[x]');     -- bad
ALTER FOREIGN TABLE opt_t2 ALTER COLUMN a OPTIONS (SET json_path 'a."b');     -- bad
ALTER FOREIGN TABLE opt_t2 ALTER COLUMN a OPTIONS (SET json_path '');         -- bad
ALTER FOREIGN TABLE opt_t2 ALTER COLUMN a OPTIONS (ADD jsonpath 'a');         -- typo
SELECT attname, attfdwoptions FROM pg_attribute
  WHERE attrelid = 'opt_t2'::regclass AND attnum > 0;

-- options of the wrapper itself: there are none
ALTER FOREIGN DATA WRAPPER bedlog_fdw OPTIONS (ADD endpoint 'http://x');

-- who may set what: endpoint changes which host is contacted, so only
-- superusers set it; others with USAGE make their own mappings and tables
CREATE ROLE regress_bedlog_user LOGIN;
GRANT USAGE ON FOREIGN SERVER opt_s TO regress_bedlog_user;
GRANT CREATE ON SCHEMA public TO regress_bedlog_user;
SET ROLE regress_bedlog_user;
CREATE SERVER opt_user_s FOREIGN DATA WRAPPER bedlog_fdw;          -- no USAGE on the FDW
CREATE USER MAPPING FOR CURRENT_USER SERVER opt_s
  OPTIONS (access_key_id 'AKIDUSER', secret_access_key 'usersecret');
CREATE FOREIGN TABLE opt_user_t (model_id text) SERVER opt_s
  OPTIONS (location 's3://user-bucket/logs/');
RESET ROLE;
GRANT USAGE ON FOREIGN DATA WRAPPER bedlog_fdw TO regress_bedlog_user;
SET ROLE regress_bedlog_user;
CREATE SERVER opt_user_s FOREIGN DATA WRAPPER bedlog_fdw OPTIONS (aws_region 'eu-west-1');
CREATE SERVER opt_user_s2 FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint 'http://127.0.0.1:9000');                       -- superuser only
ALTER SERVER opt_user_s OPTIONS (ADD endpoint 'http://127.0.0.1:9000');  -- superuser only
ALTER SERVER opt_user_s OPTIONS (ADD ca_bundle '/etc/ssl/certs/ca-certificates.crt');  -- superuser only
ALTER SERVER opt_s OPTIONS (SET aws_region 'us-east-1');            -- not the owner
-- another user's mapping, with its secrets, is not shown to this user
SELECT srvname, usename, umoptions IS NULL AS hidden
  FROM pg_user_mappings WHERE srvname = 'opt_s' ORDER BY usename;
RESET ROLE;

DROP FOREIGN TABLE opt_user_t;
DROP SERVER opt_user_s CASCADE;
DROP USER MAPPING FOR regress_bedlog_user SERVER opt_s;
REVOKE ALL ON FOREIGN DATA WRAPPER bedlog_fdw FROM regress_bedlog_user;
REVOKE ALL ON FOREIGN SERVER opt_s FROM regress_bedlog_user;
REVOKE ALL ON SCHEMA public FROM regress_bedlog_user;
DROP ROLE regress_bedlog_user;
DROP SERVER opt_s CASCADE;
