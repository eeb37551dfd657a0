/*-------------------------------------------------------------------------
 *
 * option.c
 *		Validation and resolution of bedlog_fdw options.
 *
 * As in file_fdw, one table lists every valid option with the catalog it
 * belongs to; the validator rejects unknown names with the closest valid
 * one as a hint, and every bad value with the accepted form.  Secrets are
 * accepted on user mappings only, and options that change which host is
 * contacted, what is trusted, or which of the server's own files and
 * credentials are used are reserved to superusers.  bedlog_get_options merges table,
 * server and user mapping into a BedlogOptions for one scan; it is called
 * at execution, never at planning, so that no secret reaches a plan.
 *
 * What a column reads (its json_path option, or the canonical column of
 * its name) is answered here too, for decode.c and pushdown.c; a json_path
 * is checked with jsonscan.c's own path parser, so this file calls neither
 * of the modules that ask it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/reloptions.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "catalog/pg_attribute.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "bedlog_fdw.h"

/* One valid option: its name and the catalog it may appear in. */
typedef struct BedlogOptionDef
{
	const char *name;			/* option name */
	Oid			catalog;		/* pg_foreign_server etc. */
	bool		superuser_only; /* only superusers may set it */
} BedlogOptionDef;

static const BedlogOptionDef valid_options[] = {
	/* server */
	{"aws_region", ForeignServerRelationId, false},
	{"endpoint", ForeignServerRelationId, true},
	{"addressing_style", ForeignServerRelationId, false},
	{"connect_timeout", ForeignServerRelationId, false},
	{"low_speed_timeout", ForeignServerRelationId, false},
	{"max_concurrency", ForeignServerRelationId, false},
	{"max_retries", ForeignServerRelationId, false},
	{"ca_bundle", ForeignServerRelationId, true},
	{"use_instance_credentials", ForeignServerRelationId, true},
	{"aws_profile", ForeignServerRelationId, true},
	{"cache_dir", ForeignServerRelationId, true},
	{"cache_max_size", ForeignServerRelationId, true},
	{"cache_listings", ForeignServerRelationId, false},
	{"discovery_ttl", ForeignServerRelationId, false},
	{"sts_endpoint", ForeignServerRelationId, true},
	{"allow_credential_process", ForeignServerRelationId, true},
	{"logs_endpoint", ForeignServerRelationId, true},
	/* user mapping: the only home of secrets */
	{"access_key_id", UserMappingRelationId, false},
	{"secret_access_key", UserMappingRelationId, false},
	{"session_token", UserMappingRelationId, false},
	/* the role the mapping's identity assumes (credentials.c) */
	{"role_arn", UserMappingRelationId, false},
	{"external_id", UserMappingRelationId, false},
	{"role_session_name", UserMappingRelationId, false},
	{"role_duration", UserMappingRelationId, false},
	/* foreign table */
	{"location", ForeignTableRelationId, false},
	{"log_group", ForeignTableRelationId, false},
	{"delivery_delay", ForeignTableRelationId, false},
	{"key_template", ForeignTableRelationId, false},
	{"max_concurrency", ForeignTableRelationId, false},
	{"on_error", ForeignTableRelationId, false},
	{"resolve_large_bodies", ForeignTableRelationId, false},
	{"discovery_ttl", ForeignTableRelationId, false},
	{"shard", ForeignTableRelationId, false},
	/* column */
	{"json_path", AttributeRelationId, false},
	{NULL, InvalidOid, false}
};

/*
 * The canonical columns of model_invocations: what IMPORT FOREIGN SCHEMA
 * creates, and what a column without json_path maps to by name.  Two
 * read inside the output body, so that the latency panels of the shipped
 * Grafana dashboard work on an imported table as it is: latency_ms is
 * Converse's and ConverseStream's metrics.latencyMs, stream_latency_ms the
 * invocationLatency of the last event of an InvokeModelWithResponseStream
 * (an object body has no element [-1], so each is NULL where the other
 * applies).
 */
const BedlogCanonicalColumn bedlog_canonical_columns[] = {
	{"timestamp", "timestamptz", "timestamp", BEDLOG_SRC_JSON},
	{"account_id", "text", "accountId", BEDLOG_SRC_JSON},
	{"region", "text", "region", BEDLOG_SRC_JSON},
	{"inference_region", "text", "inferenceRegion", BEDLOG_SRC_JSON},
	{"request_id", "text", "requestId", BEDLOG_SRC_JSON},
	{"operation", "text", "operation", BEDLOG_SRC_JSON},
	{"model_id", "text", "modelId", BEDLOG_SRC_JSON},
	{"identity_arn", "text", "identity.arn", BEDLOG_SRC_JSON},
	{"request_metadata", "jsonb", "requestMetadata", BEDLOG_SRC_JSON},
	{"error_code", "text", "errorCode", BEDLOG_SRC_JSON},
	{"input_content_type", "text", "input.inputContentType", BEDLOG_SRC_JSON},
	{"input_body", "jsonb", "input.inputBodyJson", BEDLOG_SRC_JSON},
	{"input_body_s3_path", "text", "input.inputBodyS3Path", BEDLOG_SRC_JSON},
	{"input_token_count", "bigint", "input.inputTokenCount", BEDLOG_SRC_JSON},
	{"cache_read_input_token_count", "bigint", "input.cacheReadInputTokenCount", BEDLOG_SRC_JSON},
	{"cache_write_input_token_count", "bigint", "input.cacheWriteInputTokenCount", BEDLOG_SRC_JSON},
	{"output_content_type", "text", "output.outputContentType", BEDLOG_SRC_JSON},
	{"output_body", "jsonb", "output.outputBodyJson", BEDLOG_SRC_JSON},
	{"output_body_s3_path", "text", "output.outputBodyS3Path", BEDLOG_SRC_JSON},
	{"output_token_count", "bigint", "output.outputTokenCount", BEDLOG_SRC_JSON},
	{"latency_ms", "int", "output.outputBodyJson.metrics.latencyMs", BEDLOG_SRC_JSON},
	{"stream_latency_ms", "int", "output.outputBodyJson[-1].amazon-bedrock-invocationMetrics.invocationLatency", BEDLOG_SRC_JSON},
	{"schema_type", "text", "schemaType", BEDLOG_SRC_JSON},
	{"schema_version", "text", "schemaVersion", BEDLOG_SRC_JSON},
	{"record", "jsonb", "$", BEDLOG_SRC_JSON},
	{"s3_key", "text", NULL, BEDLOG_SRC_S3_KEY},
	{"s3_line", "bigint", NULL, BEDLOG_SRC_S3_LINE},
	{"s3_shard", "int", NULL, BEDLOG_SRC_S3_SHARD},
};

const int	bedlog_ncanonical_columns = lengthof(bedlog_canonical_columns);

/*
 * The virtual columns of a CloudWatch Logs table (option log_group), in
 * place of s3_key and s3_line: where each event is, and when CloudWatch
 * took it in.
 */
const BedlogCanonicalColumn bedlog_cw_virtual_columns[] = {
	{"log_stream", "text", NULL, BEDLOG_SRC_LOG_STREAM},
	{"event_id", "text", NULL, BEDLOG_SRC_EVENT_ID},
	{"ingestion_time", "timestamptz", NULL, BEDLOG_SRC_INGESTION_TIME},
};

const int	bedlog_ncw_virtual_columns = lengthof(bedlog_cw_virtual_columns);

static void check_region(const char *value);
static void check_endpoint(const char *name, const char *value);
static void check_role_option(const char *name, const char *value);
static int	parse_role_duration(const char *value);
static void check_profile(const char *value);
static void check_json_path(const char *path);
static int	parse_seconds(DefElem *def);
static int64 parse_delay(const char *value);
static int64 parse_discovery_ttl(const char *value);
static int64 parse_interval_usecs(const char *value);
static int	parse_concurrency(const char *value);
static int	parse_retries(const char *value);
static bool parse_bool_option(const char *name, const char *value);
static int64 parse_cache_size(const char *value);
static void parse_shard(const char *value, int *index, int *count);
static const char *closest_option(const char *name, Oid catalog);
static char *valid_option_list(Oid catalog);

PG_FUNCTION_INFO_V1(bedlog_fdw_validator);

/*
 * Validate the options given to a CREATE or ALTER of a bedlog_fdw object.
 * Raises an error for the first bad option; returns void otherwise.
 */
Datum
bedlog_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	bool		have_location = false;
	bool		have_log_group = false;
	bool		have_shard = false;
	ListCell   *cell;

	foreach(cell, options)
	{
		DefElem    *def = (DefElem *) lfirst(cell);
		const BedlogOptionDef *opt;
		char	   *value;

		for (opt = valid_options; opt->name; opt++)
		{
			if (opt->catalog == catalog && strcmp(opt->name, def->defname) == 0)
				break;
		}
		if (opt->name == NULL)
		{
			const char *hint = closest_option(def->defname, catalog);
			char	   *valid = valid_option_list(catalog);

			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("invalid option \"%s\"", def->defname),
					 hint ? errhint("Perhaps you meant the option \"%s\".", hint) :
					 valid[0] ? errhint("Valid options in this context are: %s.", valid) :
					 errhint("There are no valid options in this context.")));
		}
		if (opt->superuser_only && !superuser())
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to set option \"%s\"", def->defname),
					 errdetail("Only roles with the %s attribute may set this option.",
							   "SUPERUSER")));

		value = defGetString(def);
		if (strcmp(def->defname, "aws_region") == 0)
			check_region(value);
		else if (strcmp(def->defname, "endpoint") == 0)
			check_endpoint(def->defname, value);
		else if (strcmp(def->defname, "sts_endpoint") == 0 ||
				 strcmp(def->defname, "logs_endpoint") == 0)
			check_endpoint(def->defname, value);
		else if (strcmp(def->defname, "log_group") == 0)
		{
			/* CloudWatch's rule for log group names */
			if (value[0] == '\0' || strlen(value) > 512 ||
				strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-/.#") != strlen(value))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"log_group\": \"%s\"", value),
						 errhint("Give the name of a CloudWatch Logs group: 1 to 512 letters, digits or characters of _-/.#.")));
			have_log_group = true;
		}
		else if (strcmp(def->defname, "role_arn") == 0 ||
				 strcmp(def->defname, "external_id") == 0 ||
				 strcmp(def->defname, "role_session_name") == 0)
			check_role_option(def->defname, value);
		else if (strcmp(def->defname, "role_duration") == 0)
			(void) parse_role_duration(value);
		else if (strcmp(def->defname, "addressing_style") == 0)
		{
			if (strcmp(value, "virtual") != 0 && strcmp(value, "path") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"addressing_style\": \"%s\"", value),
						 errhint("Valid values are \"virtual\" and \"path\".")));
		}
		else if (strcmp(def->defname, "connect_timeout") == 0 ||
				 strcmp(def->defname, "low_speed_timeout") == 0)
			(void) parse_seconds(def);
		else if (strcmp(def->defname, "max_concurrency") == 0)
			(void) parse_concurrency(value);
		else if (strcmp(def->defname, "max_retries") == 0)
			(void) parse_retries(value);
		else if (strcmp(def->defname, "on_error") == 0)
		{
			if (strcmp(value, "error") != 0 && strcmp(value, "skip") != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"on_error\": \"%s\"", value),
						 errhint("Valid values are \"error\" and \"skip\".")));
		}
		else if (strcmp(def->defname, "resolve_large_bodies") == 0 ||
				 strcmp(def->defname, "use_instance_credentials") == 0 ||
				 strcmp(def->defname, "allow_credential_process") == 0 ||
				 strcmp(def->defname, "cache_listings") == 0)
			(void) parse_bool_option(def->defname, value);
		else if (strcmp(def->defname, "ca_bundle") == 0)
		{
			if (!is_absolute_path(value))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"ca_bundle\": \"%s\"", value),
						 errhint("Give the absolute path of a PEM file of CA certificates on the database server.")));
		}
		else if (strcmp(def->defname, "aws_profile") == 0)
			check_profile(value);
		else if (strcmp(def->defname, "cache_dir") == 0)
		{
			if (!is_absolute_path(value) || strlen(value) >= MAXPGPATH - 128)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"cache_dir\": \"%s\"", value),
						 errhint("Give the absolute path of a directory on the database server that its operating system user may create and write.")));
		}
		else if (strcmp(def->defname, "cache_max_size") == 0)
			(void) parse_cache_size(value);
		else if (strcmp(def->defname, "location") == 0)
		{
			char	   *bucket;
			char	   *prefix;

			bedlog_parse_location(value, &bucket, &prefix);
			have_location = true;
		}
		else if (strcmp(def->defname, "json_path") == 0)
			check_json_path(value);
		else if (strcmp(def->defname, "delivery_delay") == 0)
			(void) parse_delay(value);
		else if (strcmp(def->defname, "discovery_ttl") == 0)
			(void) parse_discovery_ttl(value);
		else if (strcmp(def->defname, "shard") == 0)
		{
			int			index;
			int			count;

			parse_shard(value, &index, &count);
			have_shard = true;
		}
		else if (strcmp(def->defname, "key_template") == 0)
		{
			char	   *msg;

			if (bedlog_template_parse(value, &msg) == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"key_template\": \"%s\"", value),
						 errdetail("%s.", msg),
						 errhint("Give '/'-separated folders with placeholders ${account_id}, ${region}, ${model_id}, ${operation}, ${yyyy}, ${MM}, ${dd}, ${HH}, ending in '/'.")));
		}
		else if (value[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"%s\" must not be empty", def->defname)));
	}

	if (catalog == ForeignTableRelationId && have_location && have_log_group)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options \"location\" and \"log_group\" cannot both be set"),
				 errhint("A table reads either an S3 location or a CloudWatch Logs group.")));
	if (catalog == ForeignTableRelationId && have_shard && have_log_group)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"shard\" cannot be set on a table with \"log_group\""),
				 errhint("Shards divide the objects of an S3 location; a CloudWatch Logs table reads one group.")));
	if (catalog == ForeignTableRelationId && !have_location && !have_log_group)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("option \"location\" is required for a bedlog_fdw foreign table"),
				 errhint("Give the S3 location that holds AWSLogs/, as in location 's3://bucket/prefix/', or a CloudWatch Logs group, as in log_group 'bedrock-invocations'.")));

	PG_RETURN_VOID();
}

/*
 * Return the valid option of this catalog closest to name, or NULL when
 * nothing is close enough to be a plausible typo (as PostgreSQL's own
 * getClosestMatch: more than half of the name would have to change).
 */
static const char *
closest_option(const char *name, Oid catalog)
{
	const BedlogOptionDef *opt;
	const char *best = NULL;
	int			best_dist = -1;
	int			len = strlen(name);

	for (opt = valid_options; opt->name; opt++)
	{
		int			dist;

		if (opt->catalog != catalog)
			continue;
		dist = varstr_levenshtein(name, len, opt->name, strlen(opt->name),
								  1, 1, 1, false);
		if (best_dist < 0 || dist < best_dist)
		{
			best_dist = dist;
			best = opt->name;
		}
	}
	if (best == NULL || best_dist > len / 2)
		return NULL;
	return best;
}

/* The valid options of a catalog as a comma-separated palloc'd list. */
static char *
valid_option_list(Oid catalog)
{
	const BedlogOptionDef *opt;
	StringInfoData buf;

	initStringInfo(&buf);
	for (opt = valid_options; opt->name; opt++)
	{
		if (opt->catalog != catalog)
			continue;
		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "", opt->name);
	}
	return buf.data;
}

/* Raise unless value looks like an AWS region name. */
static void
check_region(const char *value)
{
	const char *p;

	if (value[0] == '\0' || strlen(value) > 64)
		goto bad;
	for (p = value; *p; p++)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			goto bad;
	}
	return;
bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for option \"aws_region\": \"%s\"", value),
			 errhint("Give a region name such as \"us-east-1\".")));
}

/*
 * Raise unless value is http(s)://host[:port][/].  Paths, user names and
 * query strings are refused: S3 endpoints have none, and a URL with a
 * password in it would be a secret outside the user mapping.
 */
static void
check_endpoint(const char *name, const char *value)
{
	const char *p;
	const char *host;

	if (strncmp(value, "https://", 8) == 0)
		host = value + 8;
	else if (strncmp(value, "http://", 7) == 0)
		host = value + 7;
	else
		goto bad;

	p = host;
	if (*p == '[')
	{
		/* IPv6 literal */
		p = strchr(p, ']');
		if (p == NULL || p == host + 1)
			goto bad;
		p++;
	}
	else
	{
		while (*p && (isalnum((unsigned char) *p) || *p == '.' || *p == '-' || *p == '_'))
			p++;
		if (p == host)
			goto bad;
	}
	if (*p == ':')
	{
		const char *digits = ++p;
		long		port;

		while (*p >= '0' && *p <= '9')
			p++;
		if (p == digits || p - digits > 5)
			goto bad;
		port = strtol(digits, NULL, 10);
		if (port < 1 || port > 65535)
			goto bad;
	}
	if (*p == '/')
		p++;
	if (*p != '\0')
		goto bad;
	return;
bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for option \"%s\": \"%s\"", name, value),
			 errhint("Give a URL of the form https://host[:port] or http://host[:port], without a path.")));
}

/*
 * Raise unless value can name a profile of the shared credentials file:
 * letters, digits and - _ . @ + /, at most 64 of them.
 */
static void
check_profile(const char *value)
{
	size_t		len = strlen(value);

	if (len == 0 || len > 64 ||
		strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.@+/") != len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"aws_profile\": \"%s\"", value),
				 errhint("Give the name of a profile of the shared config or credentials file, such as \"default\".")));
}

/*
 * Raise unless value fits STS's rules for the AssumeRole parameter that
 * the option name gives: RoleArn an IAM role ARN, ExternalId 2 to 1224
 * and RoleSessionName 2 to 64 of letters, digits and _+=,.@- (ExternalId
 * also : and /).
 */
static void
check_role_option(const char *name, const char *value)
{
	size_t		len = strlen(value);

	if (strcmp(name, "role_arn") == 0)
	{
		const char *p = value;
		const char *colon;
		int			i;

		/* arn:PARTITION:iam::ACCOUNT:role/PATH/NAME */
		if (strncmp(p, "arn:", 4) != 0 || len > 2048)
			goto bad;
		p += 4;
		colon = strchr(p, ':');
		if (colon == NULL || colon == p || strspn(p, "abcdefghijklmnopqrstuvwxyz-") != (size_t) (colon - p))
			goto bad;
		p = colon + 1;
		if (strncmp(p, "iam::", 5) != 0)
			goto bad;
		p += 5;
		for (i = 0; i < 12; i++)
			if (p[i] < '0' || p[i] > '9')
				goto bad;
		p += 12;
		if (strncmp(p, ":role/", 6) != 0)
			goto bad;
		p += 6;
		if (*p == '\0' || strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+=,.@-/") != strlen(p) ||
			p[strlen(p) - 1] == '/')
			goto bad;
		return;
bad:
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"role_arn\": \"%s\"", value),
				 errhint("Give the ARN of an IAM role, such as \"arn:aws:iam::123456789012:role/bedrock-logs-reader\".")));
	}
	else if (strcmp(name, "external_id") == 0)
	{
		if (len < 2 || len > 1224 ||
			strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+=,.@-:/") != len)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for option \"external_id\""),
					 errhint("Give 2 to 1224 letters, digits or characters of _+=,.@:/-, as the role's trust policy names it in sts:ExternalId.")));
	}
	else if (len < 2 || len > 64 ||
			 strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+=,.@-") != len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", name, value),
				 errhint("Give 2 to 64 letters, digits or characters of _+=,.@-.")));
}

/*
 * Parse role_duration, an interval from 15 minutes to 12 hours (what STS
 * accepts; the role's own maximum may be lower), into whole seconds, or
 * raise.
 */
static int
parse_role_duration(const char *value)
{
	int64		usecs = parse_interval_usecs(value);

	if (usecs < (int64) 900 * USECS_PER_SEC || usecs > (int64) 43200 * USECS_PER_SEC)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"role_duration\": \"%s\"", value),
				 errhint("Give an interval from 15 minutes to 12 hours, such as '1 hour' or '3600' (seconds), within the role's maximum session duration.")));
	return (int) (usecs / USECS_PER_SEC);
}

/*
 * The default RoleSessionName for database user name: "bedlog-" and the
 * name with every character STS refuses replaced by '_', 64 at most, so
 * that CloudTrail shows who read.
 */
static char *
default_session_name(const char *user)
{
	StringInfoData buf;
	const char *p;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "bedlog-");
	for (p = user; *p && buf.len < 64; p++)
		appendStringInfoChar(&buf,
							 (isalnum((unsigned char) *p) || strchr("_+=,.@-", *p)) &&
							 !IS_HIGHBIT_SET(*p) ? *p : '_');
	return buf.data;
}

/*
 * Validate a json_path option value; raises with the parser's message.
 */
static void
check_json_path(const char *path)
{
	BjPath		p;
	BjError		err;

	if (bj_path_parse(path, &p, &err) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"json_path\": \"%s\"", path),
				 errdetail("%s at character %zu.", err.msg, err.offset + 1),
				 errhint("Give a dotted path such as \"output.outputBodyJson.metrics.latencyMs\", with [n] for array elements (negative from the end) and \"$\" for the whole record.")));
	bj_path_free(&p);
}

/*
 * An interval option's value in microseconds, or raise when it is not an
 * interval.  A bare number is seconds, as interval_in reads it; months
 * count as 30 days, as interval comparison does.  The caller checks the
 * range (the sum cannot overflow: interval_in's fields are bounded).
 */
static int64
parse_interval_usecs(const char *value)
{
	Interval   *iv;

	iv = DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(value),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
	if (bedlog_interval_not_finite(iv))
		return -1;
	return iv->time + (int64) iv->day * USECS_PER_DAY +
		(int64) iv->month * DAYS_PER_MONTH * USECS_PER_DAY;
}

/* Parse delivery_delay, an interval, into microseconds, or raise. */
static int64
parse_delay(const char *value)
{
	int64		usecs = parse_interval_usecs(value);

	if (usecs < 0 || usecs > (int64) 366 * USECS_PER_DAY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"delivery_delay\": \"%s\"", value),
				 errhint("Give an interval from 0 to 366 days, such as '1 hour'.")));
	return usecs;
}

/*
 * Parse discovery_ttl, an interval from 0 to one day, into microseconds,
 * or raise.  0 turns the discovery cache off.
 */
static int64
parse_discovery_ttl(const char *value)
{
	int64		usecs = parse_interval_usecs(value);

	if (usecs < 0 || usecs > USECS_PER_DAY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"discovery_ttl\": \"%s\"", value),
				 errhint("Give an interval from 0 to 1 day, such as '5 minutes' or '300' (seconds); 0 turns the cache of discovery listings off.")));
	return usecs;
}

/* Parse the boolean option name, or raise. */
static bool
parse_bool_option(const char *name, const char *value)
{
	bool		result;

	if (!parse_bool(value, &result))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", name, value),
				 errhint("Valid values are \"true\" and \"false\".")));
	return result;
}

/* Parse max_retries, a whole number from 0 to 20, or raise. */
static int
parse_retries(const char *value)
{
	char	   *end;
	long		n;

	errno = 0;
	n = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || n < 0 || n > 20)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"max_retries\": \"%s\"", value),
				 errhint("Give a whole number of retries from 0 to 20.")));
	return (int) n;
}

/* Parse max_concurrency, a whole number from 1 to 256, or raise. */
static int
parse_concurrency(const char *value)
{
	char	   *end;
	long		n;

	errno = 0;
	n = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || n < 1 || n > 256)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"max_concurrency\": \"%s\"", value),
				 errhint("Give a whole number of requests from 1 to 256.")));
	return (int) n;
}

/* Parse a whole number of seconds between 1 and 86400, or raise. */
static int
parse_seconds(DefElem *def)
{
	char	   *value = defGetString(def);
	char	   *end;
	long		n;

	errno = 0;
	n = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || n < 1 || n > 86400)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", def->defname, value),
				 errhint("Give a whole number of seconds from 1 to 86400.")));
	return (int) n;
}

/*
 * Split a location "s3://bucket[/prefix]" into palloc'd bucket and prefix;
 * the prefix is "" or ends in '/'.  Raises on a malformed location.
 */
void
bedlog_parse_location(const char *location, char **bucket, char **prefix)
{
	const char *b;
	const char *slash;
	const char *p;
	size_t		blen;
	StringInfoData buf;

	if (strncmp(location, "s3://", 5) != 0)
		goto bad;
	b = location + 5;
	slash = strchr(b, '/');
	blen = slash ? (size_t) (slash - b) : strlen(b);
	/* S3 bucket names: 3 to 63 of lower-case letters, digits, '.', '-' */
	if (blen < 3 || blen > 63)
		goto bad;
	for (p = b; p < b + blen; p++)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			  *p == '.' || *p == '-' || *p == '_' || (*p >= 'A' && *p <= 'Z')))
			goto bad;
	}
	*bucket = pnstrdup(b, blen);

	initStringInfo(&buf);
	if (slash)
	{
		const char *k = slash + 1;

		/* a leading run of slashes is not part of the key */
		while (*k == '/')
			k++;
		appendStringInfoString(&buf, k);
		if (buf.len > 0 && buf.data[buf.len - 1] != '/')
			appendStringInfoChar(&buf, '/');
	}
	if (buf.len > 1024)
		goto bad;
	*prefix = buf.data;
	return;
bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for option \"location\": \"%s\"", location),
			 errhint("Give an S3 location of the form s3://bucket/prefix/, the folder that holds AWSLogs/.")));
}

/* Find the DefElem of name in options, or NULL. */
static DefElem *
option_def(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, name) == 0)
			return def;
	}
	return NULL;
}

/* The value of option name in options, or NULL when absent. */
static char *
option_value(List *options, const char *name)
{
	DefElem    *def = option_def(options, name);

	return def ? defGetString(def) : NULL;
}

/*
 * Resolve the options of a foreign table for a scan run as userid, into
 * *opts (palloc'd strings in the current memory context).  The user
 * mapping is optional.  Without keys in it, requests go unsigned, unless
 * the server has use_instance_credentials on: then the server process's
 * own AWS credentials sign them (credentials.c), for every user with
 * USAGE on the server, because a superuser chose so for that server.
 */
void
bedlog_get_options(Oid foreigntableid, Oid userid, BedlogOptions *opts)
{
	ForeignTable *table = GetForeignTable(foreigntableid);
	ForeignServer *server = GetForeignServer(table->serverid);
	UserMapping *mapping = NULL;
	char	   *v;
	DefElem    *def;

	memset(opts, 0, sizeof(*opts));

	/*
	 * GetUserMapping raises when there is none; a missing mapping only
	 * means anonymous access, so look first (as GetUserMapping does: the
	 * user's own mapping, then PUBLIC's) and ask only when there is one.
	 */
	if (SearchSysCacheExists2(USERMAPPINGUSERSERVER,
							  ObjectIdGetDatum(userid),
							  ObjectIdGetDatum(server->serverid)) ||
		SearchSysCacheExists2(USERMAPPINGUSERSERVER,
							  ObjectIdGetDatum(InvalidOid),
							  ObjectIdGetDatum(server->serverid)))
		mapping = GetUserMapping(userid, server->serverid);

	v = option_value(server->options, "aws_region");
	opts->aws_region = pstrdup(v ? v : "us-east-1");

	v = option_value(server->options, "endpoint");
	if (v)
	{
		size_t		len = strlen(v);

		opts->endpoint = pstrdup(v);
		if (len > 0 && opts->endpoint[len - 1] == '/')
			opts->endpoint[len - 1] = '\0';
		opts->path_style = true;
	}
	else
	{
		opts->endpoint = psprintf("https://s3.%s.amazonaws.com", opts->aws_region);
		opts->path_style = false;
	}
	v = option_value(server->options, "addressing_style");
	if (v)
		opts->path_style = (strcmp(v, "path") == 0);

	v = option_value(server->options, "ca_bundle");
	opts->ca_bundle = v ? pstrdup(v) : NULL;
	opts->server_name = pstrdup(server->servername);
	opts->serverid = server->serverid;
	opts->umid = mapping ? mapping->umid : InvalidOid;
	v = option_value(server->options, "use_instance_credentials");
	opts->use_instance_credentials = v ? parse_bool_option("use_instance_credentials", v) : false;
	v = option_value(server->options, "aws_profile");
	opts->aws_profile = v ? pstrdup(v) : NULL;
	v = option_value(server->options, "allow_credential_process");
	opts->allow_credential_process = v ? parse_bool_option("allow_credential_process", v) : false;

	opts->connect_timeout = 10;
	opts->low_speed_timeout = 30;
	if ((def = option_def(server->options, "connect_timeout")) != NULL)
		opts->connect_timeout = parse_seconds(def);
	if ((def = option_def(server->options, "low_speed_timeout")) != NULL)
		opts->low_speed_timeout = parse_seconds(def);
	opts->max_retries = 4;
	if ((v = option_value(server->options, "max_retries")) != NULL)
		opts->max_retries = parse_retries(v);
	/* max_concurrency: the table's, else the server's, else 32 */
	opts->max_concurrency = 32;
	if ((v = option_value(server->options, "max_concurrency")) != NULL)
		opts->max_concurrency = parse_concurrency(v);
	if ((v = option_value(table->options, "max_concurrency")) != NULL)
		opts->max_concurrency = parse_concurrency(v);

	v = option_value(server->options, "cache_dir");
	opts->cache_dir = v ? pstrdup(v) : NULL;
	v = option_value(server->options, "cache_max_size");
	opts->cache_max_size = parse_cache_size(v ? v : "1GB");
	v = option_value(server->options, "cache_listings");
	opts->cache_listings = v ? parse_bool_option("cache_listings", v) : true;
	/* discovery_ttl: the table's, else the server's, else 5 minutes */
	opts->discovery_ttl = (int64) 300 * USECS_PER_SEC;
	if ((v = option_value(server->options, "discovery_ttl")) != NULL)
		opts->discovery_ttl = parse_discovery_ttl(v);
	if ((v = option_value(table->options, "discovery_ttl")) != NULL)
		opts->discovery_ttl = parse_discovery_ttl(v);

	v = option_value(server->options, "logs_endpoint");
	if (v)
	{
		size_t		len = strlen(v);

		opts->logs_endpoint = pstrdup(v);
		if (len > 0 && opts->logs_endpoint[len - 1] == '/')
			opts->logs_endpoint[len - 1] = '\0';
	}
	else
		opts->logs_endpoint = psprintf("https://logs.%s.amazonaws.com", opts->aws_region);
	v = option_value(table->options, "log_group");
	if (v)
	{
		/*
		 * A CloudWatch Logs table: no bucket of its own (large bodies name
		 * theirs); the group stands for the location in messages.
		 */
		opts->log_group = pstrdup(v);
		opts->location = pstrdup(v);
		opts->bucket = pstrdup("");
		opts->prefix = pstrdup("");
	}
	else
	{
		v = option_value(table->options, "location");
		if (v == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
					 errmsg("option \"location\" is required for a bedlog_fdw foreign table")));
		opts->location = pstrdup(v);
		bedlog_parse_location(v, &opts->bucket, &opts->prefix);
	}
	v = option_value(table->options, "on_error");
	opts->skip_bad = (v != NULL && strcmp(v, "skip") == 0);
	v = option_value(table->options, "resolve_large_bodies");
	opts->resolve_bodies = v ? parse_bool_option("resolve_large_bodies", v) : true;
	v = option_value(table->options, "key_template");
	opts->key_template = pstrdup(v ? v : bedlog_default_key_template);
	v = option_value(table->options, "delivery_delay");
	opts->delivery_delay = parse_delay(v ? v : "1 hour");
	opts->shard_index = 0;
	opts->shard_count = 1;
	if ((v = option_value(table->options, "shard")) != NULL)
		parse_shard(v, &opts->shard_index, &opts->shard_count);

	if (mapping)
	{
		v = option_value(mapping->options, "access_key_id");
		opts->access_key_id = v ? pstrdup(v) : NULL;
		v = option_value(mapping->options, "secret_access_key");
		opts->secret_access_key = v ? pstrdup(v) : NULL;
		v = option_value(mapping->options, "session_token");
		opts->session_token = v ? pstrdup(v) : NULL;
		v = option_value(mapping->options, "role_arn");
		opts->role_arn = v ? pstrdup(v) : NULL;
		v = option_value(mapping->options, "external_id");
		opts->external_id = v ? pstrdup(v) : NULL;
		v = option_value(mapping->options, "role_session_name");
		if (v)
			opts->role_session_name = pstrdup(v);
		v = option_value(mapping->options, "role_duration");
		opts->role_duration = parse_role_duration(v ? v : "3600");
	}
	if (opts->role_arn && opts->role_session_name == NULL)
	{
		char	   *user = GetUserNameFromId(userid, true);

		opts->role_session_name = default_session_name(user ? user : "unknown");
	}
	/* STS: the option, else the regional endpoint of aws_region */
	v = option_value(server->options, "sts_endpoint");
	if (v)
	{
		size_t		len = strlen(v);

		opts->sts_endpoint = pstrdup(v);
		if (len > 0 && opts->sts_endpoint[len - 1] == '/')
			opts->sts_endpoint[len - 1] = '\0';
	}
	else
		opts->sts_endpoint = psprintf("https://sts.%s.amazonaws.com", opts->aws_region);
	if ((opts->access_key_id == NULL) != (opts->secret_access_key == NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("user mapping for server \"%s\" must set both \"access_key_id\" and \"secret_access_key\", or neither",
						server->servername)));
}

/*
 * The JSON path a column reads, and where its value comes from: the
 * column's json_path option, else the canonical column of that name, else
 * the top-level member of that name.  Returns a palloc'd path, or NULL for
 * the virtual columns.
 */
char *
bedlog_column_json_path(Oid relid, AttrNumber attnum, const char *attname,
						BedlogColumnSource *source)
{
	List	   *options = GetForeignColumnOptions(relid, attnum);
	char	   *v = option_value(options, "json_path");
	bool		cw = bedlog_is_cw_table(relid);
	int			i;

	*source = BEDLOG_SRC_JSON;
	if (v)
		return pstrdup(v);
	for (i = 0; i < bedlog_ncanonical_columns; i++)
	{
		const BedlogCanonicalColumn *c = &bedlog_canonical_columns[i];

		/* a CloudWatch table has no s3_key nor s3_line */
		if (cw && c->source != BEDLOG_SRC_JSON)
			continue;
		if (strcmp(c->name, attname) == 0)
		{
			*source = c->source;
			return c->json_path ? pstrdup(c->json_path) : NULL;
		}
	}
	for (i = 0; cw && i < bedlog_ncw_virtual_columns; i++)
	{
		const BedlogCanonicalColumn *c = &bedlog_cw_virtual_columns[i];

		if (strcmp(c->name, attname) == 0)
		{
			*source = c->source;
			return NULL;
		}
	}
	/* a member name with '.' or '[' in it must be quoted as a path */
	if (strpbrk(attname, ".[\"\\") != NULL)
	{
		StringInfoData buf;
		const char *p;

		initStringInfo(&buf);
		appendStringInfoChar(&buf, '"');
		for (p = attname; *p; p++)
		{
			if (*p == '"' || *p == '\\')
				appendStringInfoChar(&buf, '\\');
			appendStringInfoChar(&buf, *p);
		}
		appendStringInfoChar(&buf, '"');
		return buf.data;
	}
	return pstrdup(attname);
}

/* Is relid a CloudWatch Logs table (option log_group)? */
bool
bedlog_is_cw_table(Oid relid)
{
	ForeignTable *table = GetForeignTable(relid);

	return option_value(table->options, "log_group") != NULL;
}

/*
 * Parse cache_max_size: a whole number with an optional unit (B, kB, MB,
 * GB, TB: powers of 1024, as in PostgreSQL's settings; case is ignored),
 * from 64kB to 1PB, into bytes; or raise.
 */
static int64
parse_cache_size(const char *value)
{
	static const struct
	{
		const char *unit;
		int64		mult;
	}			units[] = {
		{"", 1}, {"b", 1}, {"kb", INT64CONST(1) << 10}, {"mb", INT64CONST(1) << 20},
		{"gb", INT64CONST(1) << 30}, {"tb", INT64CONST(1) << 40}
	};
	char	   *end;
	long long	n;
	int			i;

	errno = 0;
	n = strtoll(value, &end, 10);
	while (*end == ' ')
		end++;
	if (errno == 0 && end != value && isdigit((unsigned char) value[0]))
	{
		for (i = 0; i < lengthof(units); i++)
		{
			if (pg_strcasecmp(end, units[i].unit) == 0 &&
				n <= (INT64CONST(1) << 50) / units[i].mult &&
				n * units[i].mult >= 64 * 1024)
				return (int64) n * units[i].mult;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for option \"cache_max_size\": \"%s\"", value),
			 errhint("Give a size from 64kB to 1PB, such as '2GB' (units B, kB, MB, GB, TB).")));
	return 0;					/* keep the compiler quiet */
}

/*
 * Parse shard, "i/n" with 0 <= i < n <= BEDLOG_MAX_SHARDS: the table reads
 * the objects of shard i of n (bedlog_key_shard).  Raises on anything else.
 */
static void
parse_shard(const char *value, int *index, int *count)
{
	const char *p = value;
	long		i = 0;
	long		n = 0;
	int			digits;

	for (digits = 0; *p >= '0' && *p <= '9' && digits < 5; p++, digits++)
		i = i * 10 + (*p - '0');
	if (digits == 0 || *p++ != '/')
		goto bad;
	for (digits = 0; *p >= '0' && *p <= '9' && digits < 5; p++, digits++)
		n = n * 10 + (*p - '0');
	if (digits == 0 || *p != '\0' || n < 1 || n > BEDLOG_MAX_SHARDS || i >= n)
		goto bad;
	*index = (int) i;
	*count = (int) n;
	return;
bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for option \"shard\": \"%s\"", value),
			 errhint("Give \"i/n\", shard i of n with 0 <= i < n <= %d, such as \"0/2\" and \"1/2\" for the two nodes of a pair.",
					 BEDLOG_MAX_SHARDS)));
}
