/*-------------------------------------------------------------------------
 *
 * bedlog_fdw.h
 *		Shared declarations of bedlog_fdw, grouped by the file that
 *		defines them.
 *
 * The pieces, from the network inwards: s3_client.c talks HTTP(S) to S3
 * with libcurl (signing every request with sigv4.c); listing.c turns
 * ListObjectsV2 answers into the log objects of a location; reader.c
 * inflates one object and cuts it into lines; decode.c turns a line into a
 * row, using the JSON scanner of jsonscan.c; option.c validates and
 * resolves options.  bedlog_fdw.c holds the FDW callbacks and EXPLAIN.
 * Only the PostgreSQL-facing functions here raise errors; the library
 * wrappers below them record a status and a message.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BEDLOG_FDW_H
#define BEDLOG_FDW_H

#include "postgres.h"

#include "access/attnum.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/palloc.h"
#include "utils/relcache.h"

#include "jsonscan.h"
#include "sigv4.h"

#define BEDLOG_USER_AGENT "bedlog_fdw/1.0"

/*
 * option.c
 */

/* Options of one foreign table, resolved from table, server and mapping. */
typedef struct BedlogOptions
{
	char	   *aws_region;		/* signing region */
	char	   *endpoint;		/* scheme://host[:port], no trailing slash */
	bool		path_style;		/* path-style rather than virtual-host URLs */
	int			connect_timeout;	/* seconds to establish a connection */
	int			low_speed_timeout;	/* seconds a transfer may stall */
	char	   *ca_bundle;		/* PEM file of trusted CAs, or NULL */
	char	   *location;		/* the location option as given */
	char	   *bucket;			/* bucket of location */
	char	   *prefix;			/* key prefix of location: "" or ends in '/' */
	char	   *access_key_id;	/* NULL: unsigned (anonymous) requests */
	char	   *secret_access_key;
	char	   *session_token;	/* NULL if none */
} BedlogOptions;

/* Where a column's value comes from. */
typedef enum BedlogColumnSource
{
	BEDLOG_SRC_JSON,			/* a path into the record */
	BEDLOG_SRC_S3_KEY,			/* virtual: key of the object */
	BEDLOG_SRC_S3_LINE			/* virtual: line number in the object */
} BedlogColumnSource;

/* A column of the canonical model_invocations table. */
typedef struct BedlogCanonicalColumn
{
	const char *name;			/* column name */
	const char *type;			/* SQL type used by IMPORT FOREIGN SCHEMA */
	const char *json_path;		/* path into the record; NULL if virtual */
	BedlogColumnSource source;
} BedlogCanonicalColumn;

extern const BedlogCanonicalColumn bedlog_canonical_columns[];
extern const int bedlog_ncanonical_columns;

extern void bedlog_get_options(Oid foreigntableid, Oid userid,
							   BedlogOptions *opts);
extern void bedlog_parse_location(const char *location, char **bucket,
								  char **prefix);
extern char *bedlog_column_json_path(Oid relid, AttrNumber attnum,
									 const char *attname,
									 BedlogColumnSource *source);

/*
 * s3_client.c
 */

/* Counters shown by EXPLAIN ANALYZE. */
typedef struct BedlogS3Stats
{
	int64		requests;		/* HTTP requests sent */
	int64		list_requests;	/* of which ListObjectsV2 */
	int64		bytes_received; /* body bytes received, all requests */
} BedlogS3Stats;

typedef struct BedlogS3Client BedlogS3Client;

extern void bedlog_s3_global_init(void);
extern BedlogS3Client *bedlog_s3_client_create(const BedlogOptions *opts,
											   MemoryContext cxt);
extern void bedlog_s3_list(BedlogS3Client *client, const SigV4Param *params,
						   int nparams, StringInfo body);
extern void bedlog_s3_get_start(BedlogS3Client *client, const char *key);
extern size_t bedlog_s3_get_read(BedlogS3Client *client, const char **data);
extern void bedlog_s3_get_abort(BedlogS3Client *client);
extern const BedlogS3Stats *bedlog_s3_stats(BedlogS3Client *client);
extern char *bedlog_s3_object_uri(const BedlogOptions *opts, const char *key);

/*
 * listing.c
 */

/* One entry of a listing page. */
typedef struct BedlogObject
{
	char	   *key;			/* object key, decoded */
	int64		size;			/* bytes */
	char	   *etag;			/* ETag without quotes */
} BedlogObject;

/* One parsed ListObjectsV2 page. */
typedef struct BedlogListPage
{
	List	   *objects;		/* BedlogObject *, in key order */
	List	   *common_prefixes;	/* char *, with delimiter listings */
	bool		truncated;		/* more pages follow */
	char	   *next_token;		/* NextContinuationToken, if truncated */
} BedlogListPage;

/* What a key says about the record file it names. */
typedef struct BedlogKeyParts
{
	const char *account;		/* points into the key */
	int			account_len;
	const char *region;
	int			region_len;
	int			year;
	int			month;
	int			day;
	int			hour;
} BedlogKeyParts;

/* Why a listed object is not read. */
typedef enum BedlogKeyVerdict
{
	BEDLOG_KEY_LOG,				/* a log file: read it */
	BEDLOG_KEY_EMPTY,			/* zero bytes */
	BEDLOG_KEY_MARKER,			/* permission-check marker */
	BEDLOG_KEY_LARGE_DATA,		/* data/ sidecar of a large body */
	BEDLOG_KEY_OTHER			/* not in the Bedrock log layout */
} BedlogKeyVerdict;

extern void bedlog_parse_list_page(const char *xml, size_t len,
								   BedlogListPage *page);
extern bool bedlog_parse_s3_error(const char *xml, size_t len, char **code,
								  char **message, char **region);
extern const char *bedlog_layout_base(const char *prefix, int *baselen);
extern BedlogKeyVerdict bedlog_classify_key(const char *key, int64 size,
											int baselen,
											BedlogKeyParts *parts);

/*
 * reader.c
 */

/* Per-object counters. */
typedef struct BedlogReaderStats
{
	int64		bytes_in;		/* compressed bytes consumed */
	int64		bytes_out;		/* bytes after inflating */
} BedlogReaderStats;

typedef struct BedlogReader BedlogReader;

extern BedlogReader *bedlog_reader_create(BedlogS3Client *client,
										  MemoryContext cxt);
extern void bedlog_reader_open(BedlogReader *reader, const char *key,
							   const char *uri);
extern bool bedlog_reader_next_line(BedlogReader *reader, const char **line,
									size_t *len, int64 *lineno);
extern void bedlog_reader_close(BedlogReader *reader);
extern const BedlogReaderStats *bedlog_reader_stats(BedlogReader *reader);

/*
 * decode.c
 */

typedef struct BedlogDecoder BedlogDecoder;

/* Where the row being decoded comes from, for error context. */
typedef struct BedlogDecodePosition
{
	const char *uri;			/* s3://bucket/key of the object */
	int64		line;			/* line number, from 1; 0 outside a line */
	const char *column;			/* column being converted, or NULL */
} BedlogDecodePosition;

extern BedlogDecoder *bedlog_decoder_create(Relation rel, List *attnums,
											MemoryContext cxt);
extern void bedlog_decode_line(BedlogDecoder *dec, const char *line,
							   size_t len, const char *key, int64 lineno,
							   BedlogDecodePosition *pos,
							   Datum *values, bool *nulls);
extern void bedlog_check_json_path(const char *path);

#endif							/* BEDLOG_FDW_H */
