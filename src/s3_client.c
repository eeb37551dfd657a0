/*-------------------------------------------------------------------------
 *
 * s3_client.c
 *		A small S3 client for the backend: signed GETs over HTTP(S) with
 *		libcurl, driven so that PostgreSQL stays in control.
 *
 * Design notes.  Transfers run on libcurl's multi interface with socket
 * and timer callbacks.  The multi handle, and with it the connections, is
 * lent to the client for the scan by connection.c, which keeps it for the
 * next query on the same server and user mapping.  The client waits with
 * one WaitEventSet made for the whole scan, on the process latch and the
 * one descriptor that stands for all of curl's sockets, so that a query
 * cancel, statement_timeout or termination wakes it at once, also in the
 * middle of a body.  The curl callbacks never raise and never palloc: they
 * copy into malloc'd buffers, set flags, and return; errors are raised
 * here, after curl returns.
 *
 * Many requests are in flight at once (max_concurrency GETs, a few
 * listings beside them, and GETs of large bodies, which may be in other
 * buckets), each on a slot of its own: an easy handle and a body buffer.  A request made while every slot is taken waits in a queue
 * and starts when one is released.  An object body is streamed: the write
 * callback fills the slot's fixed buffer and pauses the transfer when it
 * is full; bedlog_s3_read hands the bytes to the caller (reader.c) and
 * resumes the transfer when they have been consumed, so memory stays
 * bounded by the slots, whatever the objects' sizes.  While the caller
 * reads one object the others keep arriving.  Listing answers and error
 * bodies, which are small, are collected whole.  A failure is raised when
 * the caller reads the request that failed, so it names the right object.
 * With a local cache (cache.c), a GET of an object version the cache
 * holds takes no slot and no transfer: bedlog_s3_read hands out the
 * verified entry's bytes instead.  Any other GET is copied into a new
 * entry as the caller reads it, committed only when the transfer is
 * complete and S3 sent the ETag the listing gave.
 *
 * Every resource PostgreSQL cannot free by itself (the CURL handles,
 * header lists, malloc'd buffers, the wait set) is released by a memory
 * context callback on the scan's context, which also gives the multi
 * handle back with no transfer left in it, so an error anywhere leaks
 * nothing.
 * Before signing each request the client asks credentials.c for the
 * current keys (the user mapping's, kept in the client's copy of the
 * options, or the server process's, refreshed there before they expire),
 * so a long scan goes on across a change of temporary keys.  Keys go into
 * the Authorization header and nowhere else, and no message here prints a
 * header, a signature or a signed URL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>
#include <time.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "bedlog_fdw.h"
#include "s3xml.h"

/* listings in flight beside the GETs: those a lister requests ahead, its
 * current page and its next one */
#define BEDLOG_LIST_SLOTS		(BEDLOG_LISTER_AHEAD + 2)
/* GETs of large bodies (bedlog_s3_get_body) have slots of their own, so
 * that objects requested ahead can never leave them none */
#define BEDLOG_BODY_SLOTS		16
#define BEDLOG_STREAM_BUFSIZE	(256 * 1024)	/* object body buffer per slot */
#define BEDLOG_ERRBODY_MAX		(64 * 1024) /* kept of an error body */
#define BEDLOG_LISTBODY_MAX		(64 * 1024 * 1024)	/* listing page cap */
/*
 * A large body is cached under its URI (it may be in another bucket than
 * the client's) and this in place of an ETag: its URI comes from a record,
 * not from a listing, so no ETag is known before the GET.  Bedrock writes
 * each body object once, under the request's id, and never rewrites it.
 */
#define CACHE_BODY_ETAG			"*large body*"
#define CACHE_KEY(r)			((r)->cache_key ? (r)->cache_key : (r)->key)
#define CACHE_ETAG(r)			((r)->cache_key ? CACHE_BODY_ETAG : (r)->etag)
#define BEDLOG_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* One HTTP request and its response. */
typedef struct BedlogTransfer
{
	struct BedlogS3Request *owner;	/* request on this slot, or NULL */
	bool		for_listing;	/* a listing slot, not a GET slot */
	bool		for_body;		/* a slot for GETs of large bodies */
	CURL	   *easy;			/* reused for every request on this slot */
	struct curl_slist *headers; /* request headers, freed per request */
	char		errbuf[CURL_ERROR_SIZE];	/* curl's message */
	bool		active;			/* added to the multi handle */
	bool		done;			/* curl reported completion */
	CURLcode	result;			/* curl's verdict, when done */
	long		status;			/* HTTP status, 0 until known */
	bool		collect;		/* keep the whole 2xx body (listings) */
	bool		paused;			/* write callback paused the transfer */
	bool		alloc_failed;	/* malloc failed in a callback */
	bool		too_big;		/* collected body exceeded its cap */
	char	   *buf;			/* streamed body bytes [start, end) */
	size_t		cap;
	size_t		start;
	size_t		end;
	char	   *body;			/* collected body (listing or error) */
	size_t		body_len;
	size_t		body_cap;
	char		bucket_region[64];	/* x-amz-bucket-region, if sent */
	int64		bytes;			/* body bytes received */
	int			attempts;		/* attempts of the current request */
	int64		delivered;		/* 2xx body bytes accepted, all attempts:
								 * where a retry resumes */
	int64		resume_from;	/* this attempt asked for bytes from here */
	int64		skip;			/* bytes still to drop (server ignored Range) */
	bool		etag_seen;		/* a 2xx answer of this request had an ETag */
	bool		etag_changed;	/* one differed from the listing's */
} BedlogTransfer;

struct BedlogS3Request
{
	bool		listing;		/* ListObjectsV2, else a GET of key */
	bool		body;			/* a GET of a large body, on a body slot */
	char	   *bucket;			/* bucket of key, NULL for the client's */
	char	   *key;			/* the object (GET) */
	char	   *etag;			/* its ETag from the listing, or NULL */
	SigV4Param *params;			/* query parameters (listing), copied */
	int			nparams;
	char	   *what;			/* what the request is, for messages */
	BedlogTransfer *x;			/* its slot once started, else NULL */
	bool		cached;			/* the cache has it: no transfer */
	BedlogCacheFile *hit;		/* the cache entry being read */
	BedlogCacheFile *fill;		/* the cache entry being written */
	bool		fill_wanted;	/* store the object in the cache */
	char	   *cache_key;		/* a body's key in the cache: its URI */
};

struct BedlogS3Client
{
	BedlogOptions opts;			/* private copy, credentials included */
	const char *scheme;			/* "http" or "https" */
	char	   *hostport;		/* host[:port] of the endpoint */
	bool		server_path_style;	/* addressing_style as resolved, for
									 * buckets other than the location's */
	BedlogConn *conn;			/* the connections lent for the scan
								 * (connection.c) */
	CURLM	   *multi;			/* conn's multi handle */
	WaitEventSet *wes;			/* latch, postmaster death, conn's sockets */
	BedlogTransfer *slots;		/* GET slots, then listing slots */
	int			nslots;
	List	   *pending;		/* BedlogS3Request * waiting for a slot */
	BedlogS3Stats stats;		/* counters for EXPLAIN ANALYZE */
	MemoryContext scratch;		/* for building one request; reset each time */
	MemoryContextCallback cleanup;	/* frees the curl resources */
	BedlogCache *cache;			/* local cache (cache.c), or NULL */
};

/* Release everything curl-side of a client; safe to call twice. */
static void
client_cleanup(void *arg)
{
	BedlogS3Client *c = (BedlogS3Client *) arg;
	int			i;

	for (i = 0; i < c->nslots; i++)
	{
		BedlogTransfer *x = &c->slots[i];

		if (x->easy)
		{
			if (x->active && c->multi)
				curl_multi_remove_handle(c->multi, x->easy);
			curl_easy_cleanup(x->easy);
			x->easy = NULL;
		}
		x->active = false;
		if (x->headers)
		{
			curl_slist_free_all(x->headers);
			x->headers = NULL;
		}
		free(x->buf);
		x->buf = NULL;
		free(x->body);
		x->body = NULL;
	}
	c->nslots = 0;

	/*
	 * Every easy handle is out of the multi handle now: give the entry
	 * back, its idle connections kept for the next query (connection.c).
	 */
	if (c->conn)
	{
		bedlog_conn_release(c->conn, false);
		c->conn = NULL;
		c->multi = NULL;
	}
	if (c->wes)
	{
		FreeWaitEventSet(c->wes);
		c->wes = NULL;
	}
}

/*
 * Append n bytes to the collected body, up to cap bytes in all; beyond the
 * cap, only note it.  Returns false when malloc fails.  Never raises.
 */
static bool
collect_bytes(BedlogTransfer *x, const char *p, size_t n, size_t cap)
{
	if (x->body_len + n > cap)
	{
		x->too_big = true;
		n = cap > x->body_len ? cap - x->body_len : 0;
	}
	if (x->body_len + n + 1 > x->body_cap)
	{
		size_t		newcap = Max(x->body_cap * 2, x->body_len + n + 1);
		char	   *nb;

		newcap = Max(newcap, 8192);
		nb = realloc(x->body, newcap);
		if (nb == NULL)
			return false;
		x->body = nb;
		x->body_cap = newcap;
	}
	memcpy(x->body + x->body_len, p, n);
	x->body_len += n;
	x->body[x->body_len] = '\0';
	return true;
}

/*
 * curl write callback.  Error bodies and listings are collected whole;
 * an object body goes into the stream buffer, and when that is full the
 * transfer is paused until the reader has consumed it.  Never raises.
 */
static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	BedlogTransfer *x = (BedlogTransfer *) userdata;
	size_t		total = size * nmemb;
	size_t		n = total;
	size_t		drop = 0;

	if (x->status == 0)
	{
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
		/* a resumed GET answered in full: drop what we already have */
		if (x->status == 200 && x->resume_from > 0)
			x->skip = x->resume_from;
	}

	if (x->status < 200 || x->status >= 300 || x->collect)
	{
		size_t		cap = x->collect && x->status >= 200 && x->status < 300 ?
			BEDLOG_LISTBODY_MAX : BEDLOG_ERRBODY_MAX;

		if (!collect_bytes(x, ptr, n, cap))
		{
			x->alloc_failed = true;
			return 0;
		}
		x->bytes += n;
		return total;
	}

	if (x->skip > 0)
	{
		drop = Min((size_t) x->skip, n);
		x->skip -= drop;
		x->bytes += drop;
		if (drop == n)
			return total;
		ptr += drop;
		n -= drop;
	}

	if (x->cap - x->end < n && x->start > 0)
	{
		memmove(x->buf, x->buf + x->start, x->end - x->start);
		x->end -= x->start;
		x->start = 0;
	}
	if (x->cap - x->end < n)
	{
		char	   *nb;

		if (x->end > x->start)
		{
			/* curl hands the whole chunk again on resume: skip it again */
			x->skip += drop;
			x->bytes -= drop;
			x->paused = true;
			return CURL_WRITEFUNC_PAUSE;
		}
		/* a single chunk larger than the buffer: grow it */
		nb = realloc(x->buf, n);
		if (nb == NULL)
		{
			x->alloc_failed = true;
			return 0;
		}
		x->buf = nb;
		x->cap = n;
	}
	memcpy(x->buf + x->end, ptr, n);
	x->end += n;
	x->bytes += n;
	x->delivered += n;
	return total;
}

/* curl header callback: pick up x-amz-bucket-region.  Never raises. */
static size_t
header_cb(char *buffer, size_t size, size_t nitems, void *userdata)
{
	BedlogTransfer *x = (BedlogTransfer *) userdata;
	size_t		n = size * nitems;
	static const char name[] = "x-amz-bucket-region:";
	size_t		nlen = sizeof(name) - 1;

	if (n > 5 && pg_strncasecmp(buffer, "ETag:", 5) == 0 && !x->for_listing &&
		x->owner && x->owner->etag)
	{
		/* the object must be the version listed (see bedlog_s3_read) */
		const char *v = buffer + 5;
		const char *e = buffer + n;
		size_t		elen = strlen(x->owner->etag);

		while (v < e && (*v == ' ' || *v == '\t' || *v == '"'))
			v++;
		while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '"'))
			e--;
		if ((size_t) (e - v) != elen || memcmp(v, x->owner->etag, elen) != 0)
			x->etag_changed = true;
		x->etag_seen = true;
	}
	else if (n > nlen && pg_strncasecmp(buffer, name, nlen) == 0)
	{
		const char *v = buffer + nlen;
		const char *e = buffer + n;
		size_t		len;

		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
			e--;
		len = Min((size_t) (e - v), sizeof(x->bucket_region) - 1);
		memcpy(x->bucket_region, v, len);
		x->bucket_region[len] = '\0';
	}
	return n;
}

#define SETOPT(h, opt, val) \
	do { \
		if (curl_easy_setopt((h), (opt), (val)) != CURLE_OK) \
			ereport(ERROR, \
					(errcode(ERRCODE_INTERNAL_ERROR), \
					 errmsg("could not set libcurl option %s", #opt))); \
	} while (0)

/*
 * Create a client for one scan.  The client and its copy of the options
 * live in cxt; the curl handles are released when cxt is reset or deleted.
 */
BedlogS3Client *
bedlog_s3_client_create(const BedlogOptions *opts, MemoryContext cxt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	BedlogS3Client *c = palloc0(sizeof(BedlogS3Client));
	const char *hp;
	int			i;

	c->opts = *opts;
	c->opts.endpoint = pstrdup(opts->endpoint);
	c->opts.bucket = pstrdup(opts->bucket);
	c->opts.prefix = pstrdup(opts->prefix);
	c->opts.aws_region = pstrdup(opts->aws_region);
	c->opts.location = pstrdup(opts->location);
	c->opts.access_key_id = opts->access_key_id ? pstrdup(opts->access_key_id) : NULL;
	c->opts.secret_access_key = opts->secret_access_key ? pstrdup(opts->secret_access_key) : NULL;
	c->opts.session_token = opts->session_token ? pstrdup(opts->session_token) : NULL;
	c->opts.ca_bundle = opts->ca_bundle ? pstrdup(opts->ca_bundle) : NULL;
	c->opts.server_name = pstrdup(opts->server_name);
	c->opts.aws_profile = opts->aws_profile ? pstrdup(opts->aws_profile) : NULL;
	/* the role to assume (credentials.c) */
	c->opts.role_arn = opts->role_arn ? pstrdup(opts->role_arn) : NULL;
	c->opts.external_id = opts->external_id ? pstrdup(opts->external_id) : NULL;
	c->opts.role_session_name = opts->role_session_name ? pstrdup(opts->role_session_name) : NULL;
	c->opts.sts_endpoint = opts->sts_endpoint ? pstrdup(opts->sts_endpoint) : NULL;

	if (strncmp(c->opts.endpoint, "https://", 8) == 0)
	{
		c->scheme = "https";
		hp = c->opts.endpoint + 8;
	}
	else
	{
		c->scheme = "http";
		hp = c->opts.endpoint + 7;
	}
	c->hostport = pstrdup(hp);
	c->server_path_style = c->opts.path_style;
	/* a bucket name with dots cannot be a TLS host name: use the path */
	if (strchr(c->opts.bucket, '.') != NULL)
		c->opts.path_style = true;
	c->scratch = AllocSetContextCreate(cxt, "bedlog_fdw request",
									   ALLOCSET_SMALL_SIZES);
	c->cache = bedlog_cache_create(opts, cxt);
	MemoryContextSwitchTo(oldcxt);

	c->cleanup.func = client_cleanup;
	c->cleanup.arg = c;
	MemoryContextRegisterResetCallback(cxt, &c->cleanup);

	c->conn = bedlog_conn_acquire(&c->opts,
								  (long) (c->opts.max_concurrency + BEDLOG_LIST_SLOTS +
										  BEDLOG_BODY_SLOTS));
	c->multi = bedlog_conn_multi(c->conn);

	/* one wait set for the whole scan (freed by client_cleanup) */
	c->wes = bedlog_conn_wait_set(c->conn, cxt);

	/* slots are set up now, their handles and buffers when first used */
	c->slots = MemoryContextAllocZero(cxt, sizeof(BedlogTransfer) *
									  (c->opts.max_concurrency + BEDLOG_LIST_SLOTS +
									   BEDLOG_BODY_SLOTS));
	c->nslots = c->opts.max_concurrency + BEDLOG_LIST_SLOTS + BEDLOG_BODY_SLOTS;
	for (i = c->opts.max_concurrency; i < c->nslots; i++)
	{
		if (i < c->opts.max_concurrency + BEDLOG_LIST_SLOTS)
			c->slots[i].for_listing = true;
		else
			c->slots[i].for_body = true;
	}
	return c;
}

/* Give slot x its easy handle and buffer, the first time it is used. */
static void
slot_init(BedlogS3Client *c, BedlogTransfer *x)
{
	if (x->easy)
		return;
	x->easy = curl_easy_init();
	if (x->easy == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not create a libcurl handle")));
	if (!x->for_listing)
	{
		x->buf = malloc(BEDLOG_STREAM_BUFSIZE);
		if (x->buf == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
		x->cap = BEDLOG_STREAM_BUFSIZE;
	}

	if (!bedlog_curl_defaults(x->easy))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not set up a libcurl handle")));
	SETOPT(x->easy, CURLOPT_PRIVATE, x);
	SETOPT(x->easy, CURLOPT_SHARE, bedlog_conn_share(c->conn));
	SETOPT(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	if (c->opts.ca_bundle)
		SETOPT(x->easy, CURLOPT_CAINFO, c->opts.ca_bundle);
	SETOPT(x->easy, CURLOPT_CONNECTTIMEOUT, (long) c->opts.connect_timeout);
	SETOPT(x->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	SETOPT(x->easy, CURLOPT_LOW_SPEED_TIME, (long) c->opts.low_speed_timeout);
	SETOPT(x->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(x->easy, CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(x->easy, CURLOPT_WRITEDATA, x);
	SETOPT(x->easy, CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(x->easy, CURLOPT_HEADERDATA, x);
	SETOPT(x->easy, CURLOPT_XFERINFODATA, c);
}

/* The counters of a client, for EXPLAIN ANALYZE. */
const BedlogS3Stats *
bedlog_s3_stats(BedlogS3Client *client)
{
	return &client->stats;
}

/* The client's local cache, or NULL when option cache_dir is not set. */
BedlogCache *
bedlog_s3_cache(BedlogS3Client *client)
{
	return client->cache;
}

/* "s3://bucket/key" for messages; palloc'd. */
char *
bedlog_s3_object_uri(const BedlogOptions *opts, const char *key)
{
	return psprintf("s3://%s/%s", opts->bucket, key);
}

/* Append a malloc'd string to a palloc'd copy and free the original. */
static char *
take_malloced(char *s)
{
	char	   *r;

	if (s == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	r = pstrdup(s);
	free(s);
	return r;
}

/* Add one header line to the request's list, or raise. */
static void
add_header(BedlogTransfer *x, const char *name, const char *value)
{
	char	   *line = psprintf("%s: %s", name, value);
	struct curl_slist *l = curl_slist_append(x->headers, line);

	/* the line may hold a signature: do not leave it in palloc'd memory */
	explicit_bzero(line, strlen(line));
	pfree(line);
	if (l == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	x->headers = l;
}

/*
 * Build, sign and start request r on the free slot x.
 */
static void
start_request(BedlogS3Client *c, BedlogTransfer *x, BedlogS3Request *r,
			  bool retry)
{
	const char *key = r->listing ? NULL : r->key;
	const char *bucket = r->bucket ? r->bucket : c->opts.bucket;
	bool		path_style = c->opts.path_style;
	const SigV4Param *params = r->params;
	int			nparams = r->nparams;
	bool		collect = r->listing;
	const char *what = r->what;
	StringInfoData path;
	char	   *host;
	char	   *query;
	char	   *url;
	char		amz_date[17];
	CURLMcode	mc;
	MemoryContext oldcxt;
	const BedlogCredentials *creds;

	slot_init(c, x);

	/* what is built here is copied by curl: free it with the next request */
	MemoryContextReset(c->scratch);
	oldcxt = MemoryContextSwitchTo(c->scratch);

	/* another bucket: the server's addressing style, path for dotted names */
	if (r->bucket)
		path_style = c->server_path_style || strchr(r->bucket, '.') != NULL;

	/* the canonical path: S3 encodes every byte but '/' and unreserved */
	initStringInfo(&path);
	if (path_style)
	{
		host = c->hostport;
		appendStringInfo(&path, "/%s", bucket);
		if (key)
			appendStringInfoChar(&path, '/');
	}
	else
	{
		host = psprintf("%s.%s", bucket, c->hostport);
		appendStringInfoChar(&path, '/');
	}
	if (key)
		appendStringInfoString(&path,
							   take_malloced(sigv4_uri_encode(key, strlen(key), 0)));

	if (x->headers)
	{
		curl_slist_free_all(x->headers);
		x->headers = NULL;
	}
	sigv4_amz_date((long long) time(NULL), amz_date);
	add_header(x, "Host", host);
	add_header(x, "x-amz-date", amz_date);
	add_header(x, "x-amz-content-sha256", BEDLOG_EMPTY_SHA256);
	if (!retry)
	{
		x->attempts = 0;
		x->delivered = 0;
		x->etag_seen = false;
		x->etag_changed = false;
	}
	x->attempts++;
	x->resume_from = 0;
	x->skip = 0;
	if (retry && !r->listing && x->delivered > 0)
	{
		/* resume where the last attempt stopped, from the same object */
		char		range[64];

		snprintf(range, sizeof(range), "bytes=" INT64_FORMAT "-", x->delivered);
		add_header(x, "Range", range);
		if (r->etag)
		{
			char	   *quoted = psprintf("\"%s\"", r->etag);

			add_header(x, "If-Match", quoted);
			pfree(quoted);
		}
		x->resume_from = x->delivered;
	}

	/* the current keys, asked for per request: temporary ones change */
	creds = bedlog_credentials_get(&c->opts);
	if (creds)
	{
		SigV4Header extra[1] = {{"x-amz-content-sha256", BEDLOG_EMPTY_SHA256}};
		SigV4Input in;
		SigV4Output out;

		memset(&in, 0, sizeof(in));
		in.method = "GET";
		in.host = host;
		in.canonical_uri = path.data;
		in.params = params;
		in.nparams = nparams;
		in.headers = extra;
		in.nheaders = 1;
		in.payload_hash = BEDLOG_EMPTY_SHA256;
		in.amz_date = amz_date;
		in.region = c->opts.aws_region;
		in.service = "s3";
		in.access_key_id = creds->access_key_id;
		in.secret_access_key = creds->secret_access_key;
		in.session_token = creds->session_token;
		if (sigv4_sign(&in, &out) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not sign the request for %s", what)));
		query = pstrdup(out.query);
		if (creds->session_token)
			add_header(x, "x-amz-security-token", creds->session_token);
		PG_TRY();
		{
			add_header(x, "Authorization", out.authorization);
		}
		PG_FINALLY();
		{
			explicit_bzero(out.authorization, strlen(out.authorization));
			sigv4_output_free(&out);
		}
		PG_END_TRY();
	}
	else
	{
		StringInfoData q;
		int			i;

		initStringInfo(&q);
		for (i = 0; i < nparams; i++)
		{
			appendStringInfo(&q, "%s%s=", i > 0 ? "&" : "",
							 take_malloced(sigv4_uri_encode(params[i].name, strlen(params[i].name), 1)));
			if (params[i].value)
				appendStringInfoString(&q,
									   take_malloced(sigv4_uri_encode(params[i].value, strlen(params[i].value), 1)));
		}
		query = q.data;
	}

	url = psprintf("%s://%s%s%s%s", c->scheme, host, path.data,
				   query[0] ? "?" : "", query);
	SETOPT(x->easy, CURLOPT_URL, url);
	SETOPT(x->easy, CURLOPT_HTTPHEADER, x->headers);
	pfree(url);

	x->done = false;
	x->result = CURLE_OK;
	x->status = 0;
	x->collect = collect;
	x->paused = false;
	x->alloc_failed = false;
	x->too_big = false;
	x->start = x->end = 0;
	x->body_len = 0;
	x->bytes = 0;
	x->errbuf[0] = '\0';
	x->bucket_region[0] = '\0';

	mc = curl_multi_add_handle(c->multi, x->easy);
	if (mc != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not start the request for %s", what),
				 errdetail("libcurl reported: %s.", curl_multi_strerror(mc))));
	MemoryContextSwitchTo(oldcxt);
	x->active = true;
	x->owner = r;
	r->x = x;
	c->stats.requests++;
	if (r->listing)
		c->stats.list_requests++;
}

/* Start waiting requests on free slots of their kind, in order. */
static void
start_pending(BedlogS3Client *c)
{
	ListCell   *lc;

	foreach(lc, c->pending)
	{
		BedlogS3Request *r = (BedlogS3Request *) lfirst(lc);
		int			i;

		for (i = 0; i < c->nslots; i++)
		{
			BedlogTransfer *x = &c->slots[i];

			if (x->owner == NULL && x->for_listing == r->listing &&
				x->for_body == r->body)
				break;
		}
		if (i == c->nslots)
			continue;
		start_request(c, &c->slots[i], r, false);
		c->pending = foreach_delete_current(c->pending, lc);
	}
}

/* Collect completion messages from curl. */
static void
read_completions(BedlogS3Client *c)
{
	CURLMsg    *msg;
	int			queued;
	long		connects;

	while ((msg = curl_multi_info_read(c->multi, &queued)) != NULL)
	{
		BedlogTransfer *x = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &x);
		if (x == NULL)
			continue;
		x->done = true;
		x->result = msg->data.result;
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
		if (curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
			c->stats.connections += connects;
	}
}

/*
 * Wait for curl's sockets, its timer or the latch, whichever comes first,
 * and let curl act on what happened.  Query cancel and termination are
 * raised here, with PostgreSQL's own codes.
 */
static void
pump(BedlogS3Client *c)
{
	bool		latch_set = bedlog_conn_wait(c->conn, c->wes);

	read_completions(c);

	if (latch_set)
	{
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* Is the failure of a finished request worth another attempt? */
static bool
retryable(BedlogTransfer *x)
{
	if (x->alloc_failed || x->too_big)
		return false;
	if (x->result != CURLE_OK)
		return bedlog_http_transient(x->result);
	/* S3's throttling and transient errors */
	return x->status == 500 || x->status == 502 || x->status == 503 ||
		x->status == 504;
}

/*
 * If the finished request on x failed in a way worth retrying and
 * attempts are left (option max_retries), wait with exponential backoff
 * and full jitter (0.1 s doubling, at most 10 s), and start it again: a
 * GET resumes at the byte where the last attempt stopped, from the same
 * object (If-Match its ETag).  Returns true when a retry started.  The
 * wait answers cancel and termination at once.
 */
static bool
retry_if_worthwhile(BedlogS3Client *c, BedlogTransfer *x)
{
	if (!retryable(x) || x->attempts > c->opts.max_retries)
		return false;
	if (x->active)
	{
		curl_multi_remove_handle(c->multi, x->easy);
		x->active = false;
		c->stats.bytes_received += x->bytes;
		x->bytes = 0;
	}
	bedlog_http_backoff(x->attempts);
	c->stats.retries++;
	start_request(c, x, x->owner, true);
	return true;
}

/*
 * Parse an S3 error body <Error><Code/><Message/><Region/></Error>.
 * Returns false when the body is not such a document or has no Code;
 * members not found are left NULL (palloc'd otherwise).  Never raises for
 * bad input.
 */
static bool
parse_s3_error(const char *xml, size_t len, char **code, char **message,
			   char **region)
{
	S3XmlError xe;
	S3XmlStatus st;

	*code = *message = *region = NULL;
	st = s3xml_parse_error(xml, len, &xe);
	PG_TRY();
	{
		if (st == S3XML_NOMEM)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Failed while parsing an S3 error body.")));
		*code = xe.code ? pstrdup(xe.code) : NULL;
		*message = xe.message ? pstrdup(xe.message) : NULL;
		*region = xe.region ? pstrdup(xe.region) : NULL;
	}
	PG_FINALLY();
	{
		s3xml_error_free(&xe);
	}
	PG_END_TRY();
	return *code != NULL;
}

/* The errcode that fits an S3 error code or HTTP status. */
static int
s3_errcode(const char *code, long status)
{
	if (code && (strcmp(code, "NoSuchBucket") == 0 ||
				 strcmp(code, "NoSuchKey") == 0))
		return ERRCODE_FDW_TABLE_NOT_FOUND;
	if (status == 403)
		return ERRCODE_INSUFFICIENT_PRIVILEGE;
	return ERRCODE_FDW_ERROR;
}

/*
 * Raise the error of a finished request that failed, after releasing the
 * transfer; returns true when the request succeeded.  S3's answers about
 * the object itself (an HTTP error status, another version than the one
 * listed, an answer too large) are data errors: with an ErrorSaveContext
 * in escontext they are saved there and false is returned.  Failures of
 * the connection, of the client and cancels always raise.
 */
static bool
check_result(BedlogS3Client *c, BedlogTransfer *x, Node *escontext)
{
	const char *what = x->owner->what;
	CURLcode	result = x->result;
	long		status = x->status;

	if (x->active)
	{
		curl_multi_remove_handle(c->multi, x->easy);
		x->active = false;
		c->stats.bytes_received += x->bytes;
		x->bytes = 0;
	}

	if (x->alloc_failed)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while reading %s", what)));
	if (result == CURLE_ABORTED_BY_CALLBACK)
	{
		CHECK_FOR_INTERRUPTS();
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("transfer of %s was cancelled", what)));
	}
	if (result != CURLE_OK)
	{
		int			code;
		const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(result);

		switch (result)
		{
			case CURLE_COULDNT_RESOLVE_HOST:
			case CURLE_COULDNT_RESOLVE_PROXY:
			case CURLE_COULDNT_CONNECT:
				code = ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION;
				ereport(ERROR,
						(errcode(code),
						 errmsg("could not connect to S3 endpoint \"%s\" for %s",
								c->opts.endpoint, what),
						 errdetail("libcurl reported: %s.%s", detail,
								   bedlog_http_attempts_note(x->attempts))));
				break;
			case CURLE_OPERATION_TIMEDOUT:
				ereport(ERROR,
						(errcode(ERRCODE_CONNECTION_FAILURE),
						 errmsg("timed out reading %s", what),
						 errdetail("No data arrived for %d seconds (option \"low_speed_timeout\") or the connection was not established within %d seconds (option \"connect_timeout\").%s",
								   c->opts.low_speed_timeout, c->opts.connect_timeout,
								   bedlog_http_attempts_note(x->attempts))));
				break;
			case CURLE_PEER_FAILED_VERIFICATION:
			case CURLE_SSL_CONNECT_ERROR:
			case CURLE_SSL_CACERT_BADFILE:
			case CURLE_SSL_CERTPROBLEM:
				ereport(ERROR,
						(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
						 errmsg("could not establish a verified TLS connection to S3 endpoint \"%s\"",
								c->opts.endpoint),
						 errdetail("libcurl reported: %s.", detail)));
				break;
			default:
				ereport(ERROR,
						(errcode(ERRCODE_CONNECTION_FAILURE),
						 errmsg("could not read %s", what),
						 errdetail("libcurl reported: %s.%s", detail,
								   bedlog_http_attempts_note(x->attempts))));
		}
	}
	if (status < 200 || status >= 300)
	{
		char	   *code = NULL;
		char	   *message = NULL;
		char	   *region = NULL;

		if (x->body_len > 0)
			(void) parse_s3_error(x->body, x->body_len, &code, &message, &region);
		/* radosgw sends an empty <Message/>; S3 may leave it out */
		if (message && message[0] == '\0')
			message = NULL;
		if (region == NULL && x->bucket_region[0])
			region = pstrdup(x->bucket_region);

		if (region && strcmp(region, c->opts.aws_region) != 0 &&
			(status == 301 || status == 400))
			ereturn(escontext, false,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("could not read %s", what),
					 message ?
					 errdetail("S3 returned HTTP status %ld (%s): %s", status,
							   code ? code : "no error code", message) :
					 errdetail("S3 returned HTTP status %ld (%s).", status,
							   code ? code : "no error code"),
					 errhint("The bucket is in region \"%s\": set option aws_region '%s' on the server.",
							 region, region)));
		/* a listed object that is gone: its folder's listing is stale */
		if ((status == 404 || status == 412) && x->owner->etag)
		{
			bedlog_cache_listing_forget(c->cache, x->owner->key);
			bedlog_folder_forget(&c->opts, x->owner->key);
		}
		ereturn(escontext, false,
				(errcode(s3_errcode(code, status)),
				 errmsg("could not read %s", what),
				 code && message ?
				 errdetail("S3 returned HTTP status %ld (%s): %s%s", status, code,
						   message, bedlog_http_attempts_note(x->attempts)) :
				 code ?
				 errdetail("S3 returned HTTP status %ld (%s).%s", status, code,
						   bedlog_http_attempts_note(x->attempts)) :
				 errdetail("S3 returned HTTP status %ld.%s", status,
						   bedlog_http_attempts_note(x->attempts))));
	}
	if (x->too_big)
		ereturn(escontext, false,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("answer to %s is larger than %d bytes", what,
						BEDLOG_LISTBODY_MAX)));
	return true;
}

/*
 * A new request, not queued yet: its strings are copied into the client's
 * context.  bucket NULL: the client's.
 */
static BedlogS3Request *
alloc_request(BedlogS3Client *c, bool listing, const char *bucket,
			  const char *key, const char *etag,
			  const SigV4Param *params, int nparams, const char *what)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(GetMemoryChunkContext(c));
	BedlogS3Request *r = palloc0(sizeof(BedlogS3Request));
	int			i;

	r->listing = listing;
	r->bucket = bucket ? pstrdup(bucket) : NULL;
	r->key = key ? pstrdup(key) : NULL;
	r->etag = etag ? pstrdup(etag) : NULL;
	r->what = pstrdup(what);
	if (nparams > 0)
	{
		r->params = palloc(sizeof(SigV4Param) * nparams);
		for (i = 0; i < nparams; i++)
		{
			r->params[i].name = pstrdup(params[i].name);
			r->params[i].value = params[i].value ? pstrdup(params[i].value) : NULL;
		}
	}
	r->nparams = nparams;
	MemoryContextSwitchTo(oldcxt);
	return r;
}

/* Queue r, and start it when a slot is free. */
static BedlogS3Request *
queue_request(BedlogS3Client *c, BedlogS3Request *r)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(GetMemoryChunkContext(c));

	c->pending = lappend(c->pending, r);
	MemoryContextSwitchTo(oldcxt);
	start_pending(c);
	return r;
}

/* A new request, queued and started when a slot is free. */
static BedlogS3Request *
new_request(BedlogS3Client *c, bool listing, const char *key, const char *etag,
			const SigV4Param *params, int nparams, const char *what)
{
	return queue_request(c, alloc_request(c, listing, NULL, key, etag,
										  params, nparams, what));
}

/*
 * Queue a streamed GET of key; read it with bedlog_s3_read and release
 * it with bedlog_s3_release.  At most max_concurrency GETs hold slots;
 * more wait until one is released.
 */
BedlogS3Request *
bedlog_s3_get(BedlogS3Client *client, const char *key, const char *etag)
{
	char	   *what = psprintf("S3 object \"s3://%s/%s\"", client->opts.bucket, key);
	BedlogS3Request *r;

	if (client->cache && etag && bedlog_cache_probe(client->cache, key, etag))
	{
		/* served by bedlog_s3_read from the cache: no transfer, no slot */
		r = alloc_request(client, false, NULL, key, etag, NULL, 0, what);
		r->cached = true;
	}
	else
	{
		r = new_request(client, false, key, etag, NULL, 0, what);
		if (client->cache && etag)
		{
			r->fill_wanted = true;
			bedlog_cache_count_miss(client->cache);
		}
	}
	pfree(what);
	return r;
}

/*
 * Queue a streamed GET of a large body, the object key of bucket (any
 * bucket: the request is signed for it with the client's credentials and
 * region).  Read and release it as a bedlog_s3_get request.  Body GETs
 * have slots of their own (BEDLOG_BODY_SLOTS), beside the objects'.
 */
BedlogS3Request *
bedlog_s3_get_body(BedlogS3Client *client, const char *bucket, const char *key)
{
	char	   *what = psprintf("S3 object \"s3://%s/%s\"", bucket, key);
	BedlogS3Request *r = alloc_request(client, false, bucket, key, NULL,
									   NULL, 0, what);

	pfree(what);
	r->body = true;
	if (client->cache)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(GetMemoryChunkContext(client));

		r->cache_key = psprintf("s3://%s/%s", bucket, key);
		MemoryContextSwitchTo(oldcxt);
		if (bedlog_cache_probe(client->cache, r->cache_key, CACHE_BODY_ETAG))
		{
			/* served by bedlog_s3_read from the cache, as an object is */
			r->cached = true;
			return r;
		}
		r->fill_wanted = true;
		bedlog_cache_count_miss(client->cache);
	}
	return queue_request(client, r);
}

/*
 * bedlog_s3_read of a request the cache holds: open and verify the entry
 * the first time, then hand out its bytes.  Returns false when the entry
 * turns out to be unusable: r is then queued as an ordinary GET (first in
 * line: the caller waits for it) and will be stored again.
 */
static bool
read_cached(BedlogS3Client *c, BedlogS3Request *r, const char **data, size_t *n)
{
	if (r->hit == NULL)
	{
		r->hit = bedlog_cache_open(c->cache, CACHE_KEY(r), CACHE_ETAG(r));
		if (r->hit == NULL)
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(GetMemoryChunkContext(c));

			r->cached = false;
			r->fill_wanted = true;
			bedlog_cache_count_miss(c->cache);
			c->pending = lcons(r, c->pending);
			MemoryContextSwitchTo(oldcxt);
			start_pending(c);
			return false;
		}
	}
	*n = bedlog_cache_read(c->cache, r->hit, data);
	return true;
}

/*
 * Tee bytes of a GET that are handed to the caller into its cache entry;
 * at the end of a complete transfer of the version listed, commit it.
 */
static void
fill_cache(BedlogS3Client *c, BedlogS3Request *r, const char *data, size_t n)
{
	if (n > 0)
	{
		if (r->fill == NULL)
		{
			r->fill = bedlog_cache_fill_start(c->cache, CACHE_KEY(r), CACHE_ETAG(r));
			if (r->fill == NULL)
			{
				r->fill_wanted = false;
				return;
			}
		}
		if (!bedlog_cache_fill_write(c->cache, r->fill, data, n))
		{
			r->fill = NULL;
			r->fill_wanted = false;
		}
		return;
	}
	if (r->fill)
	{
		if (r->cache_key || (r->x->etag_seen && !r->x->etag_changed))
			bedlog_cache_fill_commit(c->cache, r->fill);
		else
			bedlog_cache_close(c->cache, r->fill);
		r->fill = NULL;
	}
	r->fill_wanted = false;
}

/*
 * Queue a ListObjectsV2 request for the client's bucket with the given
 * query parameters; wait for it with bedlog_s3_list_finish.
 */
BedlogS3Request *
bedlog_s3_list_start(BedlogS3Client *client, const SigV4Param *params, int nparams)
{
	char	   *what = psprintf("the listing of S3 location \"s3://%s/%s\"",
								client->opts.bucket, client->opts.prefix);

	BedlogS3Request *r = new_request(client, true, NULL, NULL, params, nparams, what);

	pfree(what);
	return r;
}

/* Wait until r has a slot; raises if no slot can ever free up. */
static void
wait_started(BedlogS3Client *c, BedlogS3Request *r)
{
	if (r->x == NULL)
		start_pending(c);
	if (r->x == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("no free slot for %s", r->what)));
}

/*
 * Wait for the listing r and return its XML body in *body; raises on any
 * failure, with S3's code and message in the detail.  r is released.
 */
void
bedlog_s3_list_finish(BedlogS3Client *client, BedlogS3Request *r, StringInfo body)
{
	BedlogTransfer *x;

	wait_started(client, r);
	x = r->x;
	for (;;)
	{
		while (!x->done)
			pump(client);
		if (!retry_if_worthwhile(client, x))
			break;
	}
	(void) check_result(client, x, NULL);
	resetStringInfo(body);
	if (x->body_len > 0)
		appendBinaryStringInfo(body, x->body, x->body_len);
	bedlog_s3_release(client, r);
}

/* A listing, start to finish. */
void
bedlog_s3_list(BedlogS3Client *client, const SigV4Param *params, int nparams,
			   StringInfo body)
{
	bedlog_s3_list_finish(client, bedlog_s3_list_start(client, params, nparams), body);
}

/*
 * Return the next bytes of the object r: sets *data and returns how many
 * bytes there are, or 0 at the end of the object.  The bytes stay valid
 * until the next call.  Other requests progress meanwhile.  Raises on any
 * failure of r, except that S3's refusals of the object (see check_result)
 * are saved in escontext when it is an ErrorSaveContext: 0 is returned
 * then, and SOFT_ERROR_OCCURRED(escontext) tells it from the end.
 */
size_t
bedlog_s3_read(BedlogS3Client *client, BedlogS3Request *r, const char **data,
			   Node *escontext)
{
	BedlogTransfer *x;

	if (r->cached)
	{
		size_t		n;

		if (read_cached(client, r, data, &n))
			return n;
	}
	wait_started(client, r);
	x = r->x;
	for (;;)
	{
		/* the headers came first: refuse a version other than the listed */
		if (x->etag_changed)
		{
			bedlog_cache_listing_forget(client->cache, r->key);
			bedlog_folder_forget(&client->opts, r->key);
			ereturn(escontext, 0,
					(errcode(ERRCODE_FDW_ERROR),
					 errmsg("could not read %s", r->what),
					 errdetail("It changed after it was listed: S3 sent another ETag than \"%s\".",
							   r->etag),
					 errhint("Run the query again to read the new version.")));
		}
		if (x->end > x->start)
		{
			size_t		n = x->end - x->start;

			*data = x->buf + x->start;
			x->start = x->end;
			if (r->fill_wanted)
				fill_cache(client, r, *data, n);
			return n;
		}
		x->start = x->end = 0;
		if (!x->active)
			return 0;
		if (x->paused && !x->done)
		{
			x->paused = false;
			/* may call write_cb at once */
			if (curl_easy_pause(x->easy, CURLPAUSE_CONT) != CURLE_OK)
			{
				/* the progress callback aborted it: a cancel, raised as such */
				CHECK_FOR_INTERRUPTS();
				ereport(ERROR,
						(errcode(ERRCODE_INTERNAL_ERROR),
						 errmsg("could not resume the transfer of %s", r->what)));
			}
			continue;
		}
		if (x->done)
		{
			if (retry_if_worthwhile(client, x))
				continue;
			if (!check_result(client, x, escontext))
				return 0;
			if (r->fill_wanted)
				fill_cache(client, r, NULL, 0);
			return 0;
		}
		pump(client);
	}
}

/*
 * Release r: abandon its transfer if it is still running (its connection
 * is then closed), free its slot for a waiting request, forget it.
 */
void
bedlog_s3_release(BedlogS3Client *client, BedlogS3Request *r)
{
	BedlogTransfer *x = r->x;

	if (r->hit)
		bedlog_cache_close(client->cache, r->hit);
	if (r->fill)
		bedlog_cache_close(client->cache, r->fill);
	if (x == NULL)
		client->pending = list_delete_ptr(client->pending, r);
	else
	{
		if (x->active)
		{
			curl_multi_remove_handle(client->multi, x->easy);
			x->active = false;
			client->stats.bytes_received += x->bytes;
			x->bytes = 0;
		}
		x->start = x->end = 0;
		x->paused = false;
		x->done = false;
		x->owner = NULL;
	}
	if (r->params)
	{
		int			i;

		for (i = 0; i < r->nparams; i++)
		{
			pfree((char *) r->params[i].name);
			if (r->params[i].value)
				pfree((char *) r->params[i].value);
		}
		pfree(r->params);
	}
	if (r->key)
		pfree(r->key);
	if (r->etag)
		pfree(r->etag);
	if (r->cache_key)
		pfree(r->cache_key);
	if (r->bucket)
		pfree(r->bucket);
	pfree(r->what);
	pfree(r);
	start_pending(client);
}
