/*-------------------------------------------------------------------------
 *
 * bedlog_fdw.h
 *		Shared declarations of bedlog_fdw, grouped by the file that
 *		defines them.
 *
 * The pieces, from the network inwards: http.c holds the libcurl settings
 * every request shares; connection.c keeps a backend's S3 connections
 * from one query to the next; s3_client.c talks HTTP(S) to S3 with libcurl,
 * signing every request with sigv4.c and the keys credentials.c finds,
 * and serving objects from cache.c's local cache when it holds them;
 * option.c validates and resolves options.  keyspace.c knows the layout
 * of keys and which listings a query needs; listing.c runs them, turning
 * ListObjectsV2 answers (parsed by s3xml.c) into the log objects of a
 * location, and discovery.c keeps their discovery listings for a while;
 * reader.c inflates one object and cuts it into lines; decode.c
 * turns a line into a row, using the JSON scanner of jsonscan.c; bodies.c
 * fetches the bodies Bedrock offloads to large-data objects; objindex.c
 * keeps what each object holds, so that scans can skip some; pushdown.c
 * picks the conditions that narrow a scan.  Then the executor side:
 * scan.c moves a scan from object to object, parallel.c shares the
 * objects among the participants of a parallel scan, readahead.c reads
 * rows ahead so that the GETs of their large bodies overlap, analyze.c
 * samples rows for ANALYZE; bedlog_fdw.c holds the FDW callbacks, EXPLAIN
 * and IMPORT FOREIGN SCHEMA.  No file calls into one that calls it,
 * directly or through others (test/modgraph checks the built objects).
 * compat.h bridges the PostgreSQL majors; jsonscan.h, sigv4.h and s3xml.h
 * are the stand-alone libraries' own headers.
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
#include "utils/dsa.h"
#include "utils/palloc.h"
#include "utils/relcache.h"
#include "datatype/timestamp.h"

#include "compat.h"
#include "jsonscan.h"
#include "sigv4.h"

#define BEDLOG_USER_AGENT "bedlog_fdw/1.0"

/*
 * http.c
 */
extern void bedlog_http_global_init(void);
extern bool bedlog_curl_defaults(void *handle);
extern bool bedlog_http_transient(int rc);
extern void bedlog_http_backoff(int attempts);
extern const char *bedlog_http_attempts_note(int attempts);

/*
 * connection.c
 */
typedef struct BedlogConn BedlogConn;
struct BedlogOptions;

extern BedlogConn *bedlog_conn_acquire(const struct BedlogOptions *opts,
									   long max_host_connections);
extern void bedlog_conn_release(BedlogConn *conn, bool broken);
extern void *bedlog_conn_multi(BedlogConn *conn);
extern void *bedlog_conn_share(BedlogConn *conn);
extern long bedlog_conn_timer_remaining(BedlogConn *conn);
extern void bedlog_conn_act(BedlogConn *conn);
extern struct WaitEventSet *bedlog_conn_wait_set(BedlogConn *conn,
												 MemoryContext cxt);
extern bool bedlog_conn_wait(BedlogConn *conn, struct WaitEventSet *wes);

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
	int			max_concurrency;	/* GETs in flight at once */
	int			max_retries;	/* attempts after the first, per request */
	bool		skip_bad;		/* on_error 'skip' */
	bool		resolve_bodies; /* resolve_large_bodies: fetch offloaded
								 * bodies */
	char	   *ca_bundle;		/* PEM file of trusted CAs, or NULL */
	char	   *key_template;	/* layout of keys below the location */
	int64		delivery_delay; /* microseconds a record may wait to be
								 * written */
	char	   *location;		/* the location option as given */
	char	   *bucket;			/* bucket of location */
	char	   *prefix;			/* key prefix of location: "" or ends in '/' */
	char	   *server_name;	/* the foreign server, for messages */
	Oid			serverid;		/* the foreign server */
	Oid			umid;			/* the user mapping, InvalidOid if none */
	char	   *access_key_id;	/* the mapping's; NULL: none there */
	char	   *secret_access_key;
	char	   *session_token;	/* NULL if none */
	char	   *role_arn;		/* the mapping's role to assume, or NULL */
	char	   *external_id;	/* its ExternalId, or NULL */
	char	   *role_session_name;	/* with role_arn: given or derived */
	int			role_duration;	/* seconds the role's keys are asked for */
	char	   *sts_endpoint;	/* the option's, or the region's */
	bool		use_instance_credentials;	/* without mapping keys, use the
											 * server process's AWS identity */
	char	   *aws_profile;	/* explicit profile of the shared files, or
								 * NULL */
	bool		allow_credential_process;	/* a profile's credential_process
											 * may run */
	char	   *cache_dir;		/* local cache of objects, or NULL */
	int64		cache_max_size; /* bytes the cache may hold */
	bool		cache_listings; /* cache listings of past time folders */
	int64		discovery_ttl;	/* microseconds a discovery listing is
								 * reused; 0: never */
	int			shard_index;	/* shard 'i/n': the objects read are those */
	int			shard_count;	/* of shard i of n; 0 of 1 without it */
	char	   *log_group;		/* a CloudWatch Logs table's group, else
								 * NULL (then location is the group too) */
	char	   *logs_endpoint;	/* the option's, or the region's */
} BedlogOptions;

/* Where a column's value comes from. */
typedef enum BedlogColumnSource
{
	BEDLOG_SRC_JSON,			/* a path into the record */
	BEDLOG_SRC_S3_KEY,			/* virtual: key of the object */
	BEDLOG_SRC_S3_LINE,			/* virtual: line number in the object */
	BEDLOG_SRC_S3_SHARD,		/* virtual: shard of the object */
	BEDLOG_SRC_LOG_STREAM,		/* virtual: CloudWatch Logs stream */
	BEDLOG_SRC_EVENT_ID,		/* virtual: CloudWatch Logs event id */
	BEDLOG_SRC_INGESTION_TIME	/* virtual: CloudWatch Logs ingestion time */
} BedlogColumnSource;

/* The most shards the shard option may divide a location into. */
#define BEDLOG_MAX_SHARDS	1024

/*
 * The shard of an object of key among n: the 32-bit FNV-1a hash of the
 * key's bytes (the whole key, below the bucket, as S3 lists it), modulo
 * n.  It is documented (doc/scale-out.md) so that other tools can divide
 * the same objects the same way: it must never change.
 */
static inline int
bedlog_key_shard(const char *key, int n)
{
	uint32		h = 2166136261u;	/* FNV offset basis */
	const unsigned char *p;

	if (n <= 1)
		return 0;
	for (p = (const unsigned char *) key; *p; p++)
	{
		h ^= *p;
		h *= 16777619u;			/* FNV prime */
	}
	return (int) (h % (uint32) n);
}

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
extern const BedlogCanonicalColumn bedlog_cw_virtual_columns[];
extern const int bedlog_ncw_virtual_columns;

extern void bedlog_get_options(Oid foreigntableid, Oid userid,
							   BedlogOptions *opts);
extern void bedlog_parse_location(const char *location, char **bucket,
								  char **prefix);
extern char *bedlog_column_json_path(Oid relid, AttrNumber attnum,
									 const char *attname,
									 BedlogColumnSource *source);
extern bool bedlog_is_cw_table(Oid relid);

/*
 * credentials.c
 */

/* The keys a request is signed with, and where they came from. */
typedef struct BedlogCredentials
{
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;	/* NULL if none */
	const char *source;			/* "user mapping", "EC2 instance metadata"... */
} BedlogCredentials;

extern const BedlogCredentials *bedlog_credentials_get(const BedlogOptions *opts);

/*
 * cache.c
 */

/* Counters of a scan's use of the cache, for EXPLAIN ANALYZE. */
typedef struct BedlogCacheStats
{
	int64		hits;			/* objects served from the cache */
	int64		misses;			/* objects fetched from S3 */
	int64		bytes_read;		/* object bytes served from the cache */
	int64		stored;			/* objects and listings written */
	int64		discarded;		/* corrupt or unreadable entries removed */
	int64		listing_hits;	/* folder listings served from the cache */
	int64		evicted;		/* entries removed to stay under the cap */
} BedlogCacheStats;

/* How a listing task uses the cache. */
typedef enum BedlogTaskCache
{
	BEDLOG_TASK_CACHE_UNKNOWN = 0,	/* not decided yet */
	BEDLOG_TASK_CACHE_NONE,		/* listed live, not cached */
	BEDLOG_TASK_CACHE_HIT,		/* in the cache: no request */
	BEDLOG_TASK_CACHE_FILL		/* listed live in full, then cached */
} BedlogTaskCache;

typedef struct BedlogCache BedlogCache;
typedef struct BedlogCacheFile BedlogCacheFile;

struct BedlogListTask;

extern BedlogCache *bedlog_cache_create(const BedlogOptions *opts,
										MemoryContext cxt);
extern bool bedlog_cache_probe(BedlogCache *cache, const char *key,
							   const char *etag);
extern BedlogCacheFile *bedlog_cache_open(BedlogCache *cache, const char *key,
										  const char *etag);
extern size_t bedlog_cache_read(BedlogCache *cache, BedlogCacheFile *f,
								const char **data);
extern BedlogCacheFile *bedlog_cache_fill_start(BedlogCache *cache,
												const char *key,
												const char *etag);
extern bool bedlog_cache_fill_write(BedlogCache *cache, BedlogCacheFile *f,
									const char *data, size_t len);
extern void bedlog_cache_fill_commit(BedlogCache *cache, BedlogCacheFile *f);
extern void bedlog_cache_close(BedlogCache *cache, BedlogCacheFile *f);
extern void bedlog_cache_count_miss(BedlogCache *cache);
extern BedlogTaskCache bedlog_cache_listing_state(BedlogCache *cache,
												   const struct BedlogListTask *task);
extern bool bedlog_cache_listing_get(BedlogCache *cache, const char *prefix,
									 List **objects);
extern void bedlog_cache_listing_forget(BedlogCache *cache, const char *key);
extern void bedlog_cache_listing_put(BedlogCache *cache, const char *prefix,
									 List *objects);
extern bool bedlog_cache_discovery_get(BedlogCache *cache, const char *prefix,
									   const char *params, TimestampTz *listed_at,
									   int64 *nobjects, List **prefixes);
extern void bedlog_cache_discovery_put(BedlogCache *cache, const char *prefix,
									   const char *params, TimestampTz listed_at,
									   int64 nobjects, List *prefixes);
extern const BedlogCacheStats *bedlog_cache_stats(BedlogCache *cache);

/*
 * s3_client.c
 */

/* Counters shown by EXPLAIN ANALYZE. */
typedef struct BedlogS3Stats
{
	int64		requests;		/* HTTP requests sent */
	int64		list_requests;	/* of which ListObjectsV2 */
	int64		bytes_received; /* body bytes received, all requests */
	int64		retries;		/* requests attempted again */
	int64		connections;	/* connections opened (not reused) */
} BedlogS3Stats;

typedef struct BedlogS3Client BedlogS3Client;
typedef struct BedlogS3Request BedlogS3Request;

extern BedlogS3Client *bedlog_s3_client_create(const BedlogOptions *opts,
											   MemoryContext cxt);
extern BedlogS3Request *bedlog_s3_get(BedlogS3Client *client, const char *key,
									  const char *etag);
extern BedlogS3Request *bedlog_s3_get_body(BedlogS3Client *client,
										   const char *bucket,
										   const char *key);
extern BedlogS3Request *bedlog_s3_list_start(BedlogS3Client *client,
											 const SigV4Param *params,
											 int nparams);
extern void bedlog_s3_list_finish(BedlogS3Client *client, BedlogS3Request *r,
								  StringInfo body);
extern void bedlog_s3_list(BedlogS3Client *client, const SigV4Param *params,
						   int nparams, StringInfo body);
extern size_t bedlog_s3_read(BedlogS3Client *client, BedlogS3Request *r,
							 const char **data, Node *escontext);
extern void bedlog_s3_release(BedlogS3Client *client, BedlogS3Request *r);
extern const BedlogS3Stats *bedlog_s3_stats(BedlogS3Client *client);
extern BedlogCache *bedlog_s3_cache(BedlogS3Client *client);
extern char *bedlog_s3_object_uri(const BedlogOptions *opts, const char *key);

/*
 * cwlogs.c: the CloudWatch Logs client
 */

/* One log event of a FilterLogEvents page. */
typedef struct BedlogCwEvent
{
	char	   *stream;			/* logStreamName */
	char	   *event_id;		/* eventId */
	int64		timestamp_ms;	/* timestamp, ms since 1970 */
	int64		ingestion_ms;	/* ingestionTime, or -1 */
	char	   *message;		/* the record's JSON line */
	size_t		len;
} BedlogCwEvent;

/* Counters shown by EXPLAIN ANALYZE. */
typedef struct BedlogCwStats
{
	int64		requests;		/* HTTP requests sent, retries included */
	int64		pages;			/* pages received */
	int64		events;			/* events received */
	int64		retries;		/* requests attempted again */
	int64		throttled;		/* of which after a ThrottlingException */
	int64		bytes_received; /* answer bytes of the pages */
} BedlogCwStats;

typedef struct BedlogCwClient BedlogCwClient;

extern BedlogCwClient *bedlog_cw_client_create(const BedlogOptions *opts,
											   MemoryContext cxt);
extern void bedlog_cw_start(BedlogCwClient *c, const char *group,
							int64 start_ms, int64 end_ms, const char *pattern);
extern bool bedlog_cw_next_page(BedlogCwClient *c, BedlogCwEvent **events,
								int *nevents);
extern const BedlogCwStats *bedlog_cw_stats(BedlogCwClient *c);

/*
 * keyspace.c
 */

/* Why a listed object is not read. */
typedef enum BedlogKeyVerdict
{
	BEDLOG_KEY_LOG,				/* a log file: read it */
	BEDLOG_KEY_EMPTY,			/* zero bytes */
	BEDLOG_KEY_MARKER,			/* permission-check marker */
	BEDLOG_KEY_LARGE_DATA,		/* data/ sidecar of a large body */
	BEDLOG_KEY_OTHER			/* not in the Bedrock log layout */
} BedlogKeyVerdict;

/* Placeholders of key templates. */
typedef enum BedlogPlaceholder
{
	BEDLOG_PH_ACCOUNT,			/* ${account_id} */
	BEDLOG_PH_REGION,			/* ${region} */
	BEDLOG_PH_MODEL,			/* ${model_id} */
	BEDLOG_PH_OPERATION,		/* ${operation} */
	BEDLOG_PH_YEAR,				/* ${yyyy}; time placeholders come last */
	BEDLOG_PH_MONTH,			/* ${MM} */
	BEDLOG_PH_DAY,				/* ${dd} */
	BEDLOG_PH_HOUR,				/* ${HH} */
	BEDLOG_PH_COUNT
} BedlogPlaceholder;

#define BEDLOG_NTEXT_PH		4	/* text placeholders come first */
/*
 * Text conditions a CloudWatch Logs table also pushes down (into its
 * filterPattern): identity_arn's, after the placeholders'.
 */
#define BEDLOG_TARGET_IDENTITY	BEDLOG_NTEXT_PH
#define BEDLOG_NTEXT_TARGETS	(BEDLOG_NTEXT_PH + 1)
#define BEDLOG_MAX_SEGMENTS	16
#define BEDLOG_MAX_PIECES	8

/* A literal or a placeholder within a template segment. */
typedef struct BedlogTemplatePiece
{
	int			ph;				/* BedlogPlaceholder, or -1 for literal */
	char	   *literal;		/* literal text */
	int			len;			/* its length */
} BedlogTemplatePiece;

/* One '/'-terminated segment of a key template. */
typedef struct BedlogTemplateSegment
{
	BedlogTemplatePiece pieces[BEDLOG_MAX_PIECES];
	int			npieces;
	bool		has_text;		/* holds a text placeholder */
	bool		has_time;		/* holds a time placeholder */
} BedlogTemplateSegment;

/* A parsed key_template. */
typedef struct BedlogTemplate
{
	char	   *text;			/* as written */
	BedlogTemplateSegment segments[BEDLOG_MAX_SEGMENTS];
	int			nsegments;
	bool		has_placeholder[BEDLOG_PH_COUNT];
	bool		has_time;		/* any time placeholder */
	int			finest_time;	/* finest time placeholder present */
	int			time_tail_start;	/* first segment of the trailing run of
									 * time-only segments, or nsegments */
	bool		bedrock_names;	/* files are named by their write time */
} BedlogTemplate;

/* Placeholder values found in (or chosen for) a key. */
typedef struct BedlogKeyValues
{
	const char *text[BEDLOG_NTEXT_PH];	/* text values (not terminated) */
	int			text_len[BEDLOG_NTEXT_PH];
	int			time[4];		/* year, month, day, hour */
	bool		has[BEDLOG_PH_COUNT];	/* which values are set */
} BedlogKeyValues;

/* What the query allows for one text placeholder. */
typedef struct BedlogTextConstraint
{
	bool		active;			/* constrained at all */
	bool		has_values;		/* only the values listed are allowed */
	List	   *values;			/* allowed values (char *) */
	List	   *prefixes;		/* required prefixes (char *), from LIKE */
} BedlogTextConstraint;

/* Everything the predicates say about keys, evaluated for one scan. */
typedef struct BedlogPrune
{
	BedlogTextConstraint text[BEDLOG_NTEXT_TARGETS];	/* placeholders', then
														 * identity's */
	bool		error_not_null; /* error_code IS NOT NULL (CloudWatch) */
	bool		has_time;		/* a time range applies */
	TimestampTz ts_lo;			/* record timestamps: lower bound */
	TimestampTz ts_hi;			/* upper bound */
	TimestampTz write_lo;		/* file write times that can hold them */
	TimestampTz write_hi;
	bool		empty;			/* nothing can match */
} BedlogPrune;

/* How a listing task lists. */
typedef enum BedlogListKind
{
	BEDLOG_LIST_ALL,			/* everything below prefix */
	BEDLOG_LIST_FOLDER,			/* one time folder */
	BEDLOG_LIST_RANGE,			/* from start_after until past stop_at */
	BEDLOG_LIST_DISCOVER		/* the next level, with a delimiter */
} BedlogListKind;

/* One listing to run. */
typedef struct BedlogListTask
{
	char	   *prefix;			/* prefix parameter */
	BedlogListKind kind;
	int			segment;		/* template segment at prefix's end */
	char	   *start_after;	/* start-after parameter, or NULL */
	char	   *stop_at;		/* stop past keys beyond this, or NULL */
	BedlogKeyValues vals;		/* placeholder values of prefix */
	BedlogS3Request *req;		/* its first page, requested ahead */
	TimestampTz folder_end;		/* FOLDER: end of its time span, else 0 */
	BedlogTaskCache cache_state;	/* its use of the listing cache */
	TimestampTz listed_at;		/* DISCOVER: its first page requested */
	List	   *cached_prefixes;	/* DISCOVER, cache hit: common prefixes */
	int64		cached_objects; /* and objects at that level */
	bool		settled;		/* FOLDER: its span ended delivery_delay ago */
	bool		in_memory;		/* FOLDER, cache hit: cached_listing holds it */
	List	   *cached_listing; /* its objects (BedlogObject) */
} BedlogListTask;

extern const char *const bedlog_default_key_template;
extern const char *bedlog_placeholder_name(int ph);
extern BedlogTemplate *bedlog_template_parse(const char *text, char **errmsg);
extern BedlogTemplate *bedlog_template_from_option(const char *text);
extern BedlogKeyVerdict bedlog_template_match_key(const BedlogTemplate *t,
												  const char *rest,
												  BedlogKeyValues *vals,
												  const char **file);
extern bool bedlog_file_write_time(const char *file, TimestampTz *result);
extern bool bedlog_keyspace_values_ok(const BedlogPrune *prune,
									  const BedlogKeyValues *vals,
									  const char *file);
extern List *bedlog_keyspace_first_tasks(const BedlogTemplate *t,
										 const BedlogPrune *prune, int fixed_segments,
										 const BedlogKeyValues *fixed_vals,
										 const char *location_prefix);
extern void bedlog_keyspace_discovered(const BedlogTemplate *t,
									   const BedlogPrune *prune,
									   const BedlogListTask *task,
									   const char *common_prefix,
									   List **tasks);
extern char *bedlog_keyspace_describe_task(const BedlogListTask *task);
extern bool bedlog_text_constraint_ok(const BedlogTextConstraint *c,
									  const char *v, int len);
extern void bedlog_layout_base(const BedlogTemplate *t, const char *prefix,
							   int *baselen, int *fixed_segments,
							   BedlogKeyValues *fixed_vals);
extern BedlogKeyVerdict bedlog_classify_key(const BedlogTemplate *t,
											const char *key, int64 size,
											int baselen, BedlogKeyValues *vals,
											const char **file);

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

extern void bedlog_parse_list_page(const char *xml, size_t len,
								   BedlogListPage *page);

/* Running listing tasks. */

#define BEDLOG_LISTER_NAMES	8	/* tasks named for EXPLAIN VERBOSE */
#define BEDLOG_LISTER_AHEAD	4	/* tasks whose first page is requested ahead */

/* A listing in progress: the tasks left, and the current page. */
typedef struct BedlogLister
{
	BedlogS3Client *client;		/* sends the requests */
	const BedlogOptions *opts;	/* the scan's, for the discovery cache */
	const BedlogTemplate *template; /* to classify keys */
	const BedlogPrune *prune;	/* to prune discovered levels and keys */
	int			baselen;		/* where the layout starts in keys */
	MemoryContext tasks_cxt;	/* tasks, names */
	MemoryContext page_cxt;		/* reset per page */
	List	   *tasks;			/* BedlogListTask * still to run */
	BedlogListTask *task;		/* task being listed, or NULL */
	bool		task_done;		/* no page of it left to request */
	BedlogS3Request *next_req;	/* the task's next page, requested ahead */
	List	   *page;			/* BedlogObject * of this page (page_cxt) */
	int			page_pos;		/* next entry of page */
	List	   *task_names;		/* first tasks run, for EXPLAIN VERBOSE */
	int64		ntasks[4];		/* tasks run, by BedlogListKind */
	int64		objects_listed; /* keys the listings returned */
	int64		objects_skipped;	/* of which not log files */
	int64		objects_pruned; /* log files outside the conditions */
	int64		objects_other_shards;	/* log files of the other shards */
	int64		discovery_hits; /* discovery tasks answered by discovery.c */
	int64		folder_memory_hits; /* folders listed from memory (discovery.c) */
	MemoryContext fill_cxt;		/* the listing being cached, or NULL */
	List	   *fill_objects;	/* BedlogObject * of it so far (fill_cxt) */
	List	   *fill_prefixes;	/* DISCOVER: char * of it so far (fill_cxt) */
	int64		fill_nobjects;	/* DISCOVER: objects at its level so far */
} BedlogLister;

extern void bedlog_lister_start_all(BedlogLister *l, BedlogS3Client *client,
									const BedlogOptions *opts, BedlogPrune *prune,
									MemoryContext cxt);
extern void bedlog_lister_start(BedlogLister *l, BedlogS3Client *client,
								const BedlogOptions *opts,
								const BedlogTemplate *template,
								const BedlogPrune *prune, int baselen,
								List *tasks, MemoryContext cxt);
extern BedlogObject *bedlog_lister_next(BedlogLister *l);
extern void bedlog_lister_stop(BedlogLister *l);

/*
 * discovery.c
 */
extern bool bedlog_discovery_lookup(const BedlogOptions *opts,
									BedlogCache *cache, const char *prefix,
									const char *params, List **prefixes,
									int64 *nobjects);
extern void bedlog_discovery_store(const BedlogOptions *opts,
								   BedlogCache *cache, const char *prefix,
								   const char *params, TimestampTz listed_at,
								   int64 nobjects, List *prefixes);
extern bool bedlog_folder_kept(const BedlogOptions *opts);
extern bool bedlog_folder_lookup(const BedlogOptions *opts, const char *prefix,
								 List **objects);
extern void bedlog_folder_store(const BedlogOptions *opts, const char *prefix,
								TimestampTz listed_at, List *objects);
extern void bedlog_folder_forget(const BedlogOptions *opts, const char *key);

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
							   const char *uri, BedlogS3Request *req);
extern bool bedlog_reader_next_line(BedlogReader *reader, const char **line,
									size_t *len, int64 *lineno);
extern bool bedlog_reader_next_line_safe(BedlogReader *reader,
										 const char **line, size_t *len,
										 int64 *lineno, Node *escontext);
extern void bedlog_reader_close(BedlogReader *reader);
extern const BedlogReaderStats *bedlog_reader_stats(BedlogReader *reader);

/*
 * decode.c
 */

typedef struct BedlogDecoder BedlogDecoder;

/* What bedlog_decode_scan made of a line. */
typedef enum BedlogLineVerdict
{
	BEDLOG_LINE_BAD,			/* not UTF-8, malformed JSON, or not an object */
	BEDLOG_LINE_REJECTED,		/* a record the filters reject */
	BEDLOG_LINE_ROW				/* a record to build */
} BedlogLineVerdict;

/* Where the row being decoded comes from, for error context. */
typedef struct BedlogDecodePosition
{
	const char *uri;			/* s3://bucket/key of the object */
	int64		line;			/* line number, from 1; 0 outside a line */
	const char *column;			/* column being converted, or NULL */
	const char *event_id;		/* CloudWatch Logs: the event (uri is then
								 * the log group), else NULL */
} BedlogDecodePosition;

extern BedlogDecoder *bedlog_decoder_create(Relation rel, List *attnums,
											MemoryContext cxt);
extern bool bedlog_decode_line(BedlogDecoder *dec, const char *line,
							   size_t len, const char *key, int64 lineno,
							   BedlogDecodePosition *pos,
							   Datum *values, bool *nulls, Node *escontext);
extern BedlogLineVerdict bedlog_decode_scan(BedlogDecoder *dec,
											const char *line, size_t len,
											int64 lineno,
											BedlogDecodePosition *pos,
											BjValue *slots, bool raise);
extern bool bedlog_decode_build(BedlogDecoder *dec, const BjValue *slots,
								const char *key, int64 lineno,
								BedlogDecodePosition *pos,
								Datum *values, bool *nulls, Node *escontext);
extern int	bedlog_decoder_nslots(BedlogDecoder *dec);
extern void bedlog_decoder_set_shards(BedlogDecoder *dec, int shard_count);
extern void bedlog_decoder_set_events(BedlogDecoder *dec,
									  const BedlogCwEvent *events, int nevents);

/* The two bodies of a record that may be offloaded to large-data objects. */
typedef enum BedlogBody
{
	BEDLOG_BODY_NONE = -1,		/* not a body, nor inside one */
	BEDLOG_BODY_INPUT,			/* input.inputBodyJson, inputBodyS3Path */
	BEDLOG_BODY_OUTPUT,			/* output.outputBodyJson, outputBodyS3Path */
	BEDLOG_NBODIES				/* how many there are */
} BedlogBody;

extern int	bedlog_decoder_bodies(BedlogDecoder *dec);
extern char *bedlog_decode_body_uri(BedlogDecoder *dec, const BjValue *slots,
									int body);
extern bool bedlog_decode_body(BedlogDecoder *dec, int body, const char *text,
							   size_t len, const char *uri,
							   BedlogDecodePosition *pos,
							   Datum *values, bool *nulls, Node *escontext);
extern void bedlog_decoder_set_filter(BedlogDecoder *dec,
									  const BedlogPrune *prune);
extern TimestampTz bedlog_json_timestamptz(const BjValue *v);
extern bool bedlog_decoder_errors_skippable(BedlogDecoder *dec);
extern char *bedlog_json_string(const BjValue *v, size_t *len, bool raise);

/*
 * bodies.c: large bodies offloaded to data/ objects
 */
extern bool bedlog_parse_s3_uri(const char *uri, char **bucket, char **key);
extern BedlogS3Request *bedlog_body_request(BedlogS3Client *client,
											const char *uri);
extern char *bedlog_body_fetch(BedlogReader *reader, BedlogS3Request *req,
							   const char *uri, size_t *len, bool *missing,
							   Node *escontext);

/*
 * skip.c: on_error 'skip', bad objects and records as values
 */
typedef bool (*BedlogSkipFn) (void *arg, Node *escontext);

extern bool bedlog_skip_next_line(BedlogReader *reader, BedlogDecoder *decoder,
								  const char **line, size_t *len,
								  int64 *lineno, MemoryContext errcxt,
								  ErrorData **edata);
extern bool bedlog_skip_decode_line(BedlogDecoder *decoder, const char *line,
									size_t len, const char *key, int64 lineno,
									BedlogDecodePosition *pos, Datum *values,
									bool *nulls, MemoryContext errcxt,
									ErrorData **edata);
extern bool bedlog_skip_run(BedlogSkipFn fn, void *arg, BedlogDecoder *decoder,
							MemoryContext errcxt, ErrorData **edata);

/*
 * objindex.c
 */
typedef struct BedlogObjectIndex BedlogObjectIndex;

extern BedlogObjectIndex *bedlog_index_load(Oid relid, const char *bucket,
											MemoryContext cxt);
extern bool bedlog_index_rules_out(BedlogObjectIndex *index,
								   const BedlogObject *obj,
								   const BedlogPrune *prune);

/*
 * pushdown.c
 */

/* Kinds of conditions pushed into the listing. */
typedef enum BedlogCondKind
{
	BEDLOG_COND_TIME,			/* timestamp <op> value; target: strategy */
	BEDLOG_COND_TEXT_EQ,		/* column = value; target: placeholder */
	BEDLOG_COND_TEXT_IN,		/* column IN (values) */
	BEDLOG_COND_TEXT_PREFIX,	/* column LIKE 'prefix%' */
	BEDLOG_COND_NOT_NULL		/* error_code IS NOT NULL (CloudWatch) */
} BedlogCondKind;

struct PlannerInfo;
struct RelOptInfo;
struct ExprContext;

extern bool bedlog_enable_pushdown;

extern List *bedlog_pushdown_classify(struct PlannerInfo *root,
									  struct RelOptInfo *baserel,
									  Oid foreigntableid, List **exprs,
									  List **rinfos);
extern void bedlog_pushdown_cond_info(Node *cond, BedlogCondKind *kind,
									  int *target, Oid *righttype,
									  char **desc);
extern void bedlog_pushdown_evaluate(List *conds, List *states,
									 struct ExprContext *econtext,
									 int64 delay, BedlogPrune *prune);
extern List *bedlog_pushdown_describe(List *conds, const BedlogTemplate *t,
									  const char *delay_text);

/*
 * scan.c
 */

/*
 * Executor state, in ForeignScanState.fdw_state: set up by
 * bedlogBeginForeignScan, moved from object to object here, read ahead by
 * readahead.c, shared among participants by parallel.c.
 */
typedef struct BedlogScanState
{
	char	   *location;		/* for EXPLAIN */
	char	   *delay_text;		/* the delivery_delay option, for EXPLAIN */
	char	   *shard_text;		/* the shard option, for EXPLAIN */
	List	   *attnums;		/* columns to decode */
	BedlogOptions opts;			/* resolved options */
	MemoryContext scan_cxt;		/* lives as long as the scan */
	MemoryContext row_cxt;		/* reset per row */
	BedlogS3Client *client;		/* S3 connection(s) */
	BedlogReader *reader;		/* inflate and lines */
	BedlogDecoder *decoder;		/* line to row */
	List	   *conds;			/* pushed-down conditions */
	List	   *cond_states;	/* their expressions, initialised */
	BedlogTemplate *template;	/* key layout (EXPLAIN only: NULL if it does
								 * not parse) */
	int			baselen;		/* where the layout starts in keys */
	int			fixed_segments; /* template segments fixed by location */
	BedlogKeyValues fixed_vals; /* and their values */
	BedlogPrune prune;			/* conditions evaluated for this scan */
	MemoryContext tasks_cxt;	/* listing tasks, reset per rescan */
	bool		listing_started;	/* tasks computed */
	BedlogLister lister;		/* the listing in progress */
	BedlogObjectIndex *index;	/* object index entries, or NULL */
	List	   *window;			/* BedlogPrefetch *: objects requested ahead */
	struct BedlogParallelState *pstate; /* in shared memory, parallel scans
										 * only */
	dsa_area   *area;			/* where the shared chunks live */
	BedlogObject shared_obj;	/* the object parallel.c claimed last */
	dsa_pointer cur_chunk;		/* chunk of the last object claimed */
	bool		listing_done;	/* the lister has no more objects */
	int64		objects_indexed_out;	/* objects the index ruled out */
	bool		in_object;		/* reader has an open object */
	char	   *cur_key;		/* key being read (lister's page) */
	BedlogDecodePosition pos;	/* for the error context */
	/* counters for EXPLAIN ANALYZE (and those of the lister) */
	int64		rows_rejected;	/* records rejected before decoding */
	bool		skip_bad;		/* on_error 'skip' */
	int64		records_bad;	/* bad records skipped */
	int64		objects_bad;	/* bad objects skipped */
	List	   *bad_places;		/* the first few, for the WARNING */
	bool		warned;			/* the WARNING was given */
	int64		objects_read;	/* log objects opened */
	int64		bytes_inflated; /* bytes after inflating */
	/* large bodies (resolve_large_bodies), when a column reads one */
	int			bodies;			/* bodies to resolve (bits), 0 for none */
	MemoryContext ahead_cxt;	/* rows read ahead */
	BedlogReader *body_reader;	/* reads the large bodies */
	BjValue    *ahead_slots;	/* read_ahead's scan of the line in hand */
	List	   *ahead;			/* BedlogAheadRow *, in line order */
	size_t		ahead_bytes;	/* bytes of their lines */
	bool		ahead_eof;		/* the object has no more lines */
	ErrorData  *ahead_error;	/* object error met while reading ahead */
	int64		bodies_fetched; /* large bodies read */
	int64		bodies_missing; /* not found or not readable: NULL */
	List	   *missing_uris;	/* the first few, for the WARNING */
	bool		bodies_warned;	/* the WARNING was given */
	/* a CloudWatch Logs table (cwscan.c): log_group set, no listing */
	BedlogCwClient *cw;			/* its client, or NULL for S3 tables */
	MemoryContext cw_page_cxt;	/* the page being read, reset per page */
	BedlogCwEvent *cw_events;	/* its events */
	int			cw_nevents;
	int			cw_pos;			/* next event of the page */
	bool		cw_started;		/* the call was started */
	int64		cw_start_ms;	/* its startTime, or -1 */
	int64		cw_end_ms;		/* its endTime, or -1 */
	char	   *cw_pattern;		/* its filterPattern, or NULL */
} BedlogScanState;

extern void bedlog_scan_error_context(void *arg);
extern bool bedlog_scan_next_object(ForeignScanState *node,
									BedlogScanState *st);
extern void bedlog_scan_drop_window(BedlogScanState *st);
extern void bedlog_note_skipped(BedlogScanState *st, ErrorData *edata,
								bool object);
extern char *bedlog_join_strings(List *strings, const char *sep);
extern void bedlog_warn_skipped(BedlogScanState *st);

/*
 * cwscan.c: scans of CloudWatch Logs tables
 */
extern bool bedlog_cwscan_next_page(ForeignScanState *node, BedlogScanState *st);
extern bool bedlog_cwscan_next_line(BedlogScanState *st, const char **line,
									size_t *len, int64 *lineno);
extern void bedlog_cwscan_explain(ForeignScanState *node, BedlogScanState *st,
								  struct ExplainState *es);
extern void bedlog_cwscan_rescan(BedlogScanState *st);

/*
 * parallel.c
 */
typedef struct BedlogParallelState BedlogParallelState;

struct ParallelContext;
struct shm_toc;

extern Size bedlog_parallel_estimate(void);
extern void bedlog_parallel_initialize(ForeignScanState *node,
									   struct ParallelContext *pcxt,
									   void *coordinate);
extern void bedlog_parallel_reinitialize(ForeignScanState *node,
										 struct ParallelContext *pcxt,
										 void *coordinate);
extern void bedlog_parallel_attach(ForeignScanState *node,
								   struct shm_toc *toc, void *coordinate);
extern BedlogObject *bedlog_parallel_next_object(ForeignScanState *node,
												 BedlogScanState *st);
extern int	bedlog_parallel_participants(const BedlogParallelState *ps);

/*
 * readahead.c
 */
extern void bedlog_readahead_next_row(ForeignScanState *node,
									  BedlogScanState *st,
									  TupleTableSlot *slot);
extern void bedlog_readahead_drop(BedlogScanState *st);
extern void bedlog_readahead_warn(BedlogScanState *st);

/*
 * analyze.c
 */
extern int	bedlog_acquire_sample_rows(Relation relation, int elevel,
									   HeapTuple *rows, int targrows,
									   double *totalrows,
									   double *totaldeadrows);

#endif							/* BEDLOG_FDW_H */
