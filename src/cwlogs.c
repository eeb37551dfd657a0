/*-------------------------------------------------------------------------
 *
 * cwlogs.c
 *		A small CloudWatch Logs client for the backend: FilterLogEvents over
 *		one log group, page after page, with libcurl.
 *
 * Design notes.  CloudWatch Logs speaks JSON 1.1: every call is a POST to
 * "/" with Content-Type application/x-amz-json-1.1 and X-Amz-Target
 * Logs_20140328.<operation>, signed with SigV4 for the service "logs"
 * (the body's SHA-256 is signed, and so are both of those headers).  The
 * client asks for the pages of one FilterLogEvents call, one at a time:
 * each page names the next (nextToken), so only one request can be in
 * flight, but the next page is requested as soon as a page is parsed, so
 * that it arrives while the caller turns the events of this one into rows.
 *
 * Why FilterLogEvents and not GetLogEvents, though Bedrock writes one
 * stream: FilterLogEvents takes a filterPattern, so that the conditions
 * on model, operation, account, region, identity and error code are
 * applied by the service; GetLogEvents takes only a time range.  And
 * FilterLogEvents returns each event's eventId and logStreamName, which
 * the virtual columns event_id and log_stream show; GetLogEvents has
 * neither.  Both take startTime and endTime; FilterLogEvents' endTime is
 * inclusive (GetLogEvents' is not).  A page may hold no events and still
 * carry a nextToken: the caller asks on.
 *
 * The transfer runs on the multi handle connection.c keeps for the server
 * and user mapping, as S3's do (s3_client.c), so connections are kept
 * between queries, and the wait is on the latch and curl's sockets, so
 * that cancel and termination interrupt it at once.  Retries mirror the
 * S3 client's: connection failures, HTTP 5xx and ThrottlingException are
 * tried again up to max_retries times, after a wait with exponential
 * backoff and full jitter (0.1 s doubling, at most 10 s).  Keys go into
 * the Authorization header only, and no message prints a header or a
 * signature.  The curl callbacks never raise and never palloc; the curl
 * resources are released by a memory context callback.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>
#include <jansson.h>
#include <time.h>

#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "bedlog_fdw.h"

#define BEDLOG_CW_BODY_MAX		(64 * 1024 * 1024)	/* answer cap */
#define BEDLOG_CW_TARGET		"Logs_20140328.FilterLogEvents"
#define BEDLOG_CW_CTYPE			"application/x-amz-json-1.1"

#define SETOPT(h, opt, val) \
	do { \
		if (curl_easy_setopt((h), (opt), (val)) != CURLE_OK) \
			ereport(ERROR, \
					(errcode(ERRCODE_INTERNAL_ERROR), \
					 errmsg("could not set libcurl option %s", #opt))); \
	} while (0)

struct BedlogCwClient
{
	BedlogOptions opts;			/* private copy, credentials included */
	char	   *host;			/* host[:port] of the endpoint */
	char	   *url;			/* endpoint and "/" */
	BedlogConn *conn;			/* connections lent for the scan */
	CURLM	   *multi;
	CURL	   *easy;			/* the one request in flight */
	struct curl_slist *headers;
	WaitEventSet *wes;			/* latch, postmaster death, conn's sockets */
	MemoryContextCallback cleanup;
	char		errbuf[CURL_ERROR_SIZE];
	/* the call */
	char	   *group;
	int64		start_ms;		/* -1: none */
	int64		end_ms;			/* -1: none */
	char	   *pattern;		/* NULL: none */
	char	   *next_token;		/* of the last page, or NULL */
	bool		started;		/* the first page was asked for */
	bool		finished;		/* no page left */
	bool		in_flight;		/* easy is in the multi */
	bool		done;			/* its transfer finished */
	CURLcode	result;
	long		status;
	int			attempts;
	char	   *body;			/* the answer, malloc'd */
	size_t		body_len;
	size_t		body_cap;
	bool		too_big;
	bool		alloc_failed;
	BedlogCwStats stats;
};

/* Release the curl side; safe to call twice.  Never raises. */
static void
cw_cleanup(void *arg)
{
	BedlogCwClient *c = (BedlogCwClient *) arg;

	if (c->easy)
	{
		if (c->in_flight && c->multi)
			curl_multi_remove_handle(c->multi, c->easy);
		curl_easy_cleanup(c->easy);
		c->easy = NULL;
	}
	c->in_flight = false;
	if (c->headers)
	{
		curl_slist_free_all(c->headers);
		c->headers = NULL;
	}
	free(c->body);
	c->body = NULL;
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

/* curl write callback: collect the answer whole.  Never raises. */
static size_t
cw_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	BedlogCwClient *c = (BedlogCwClient *) userdata;
	size_t		n = size * nmemb;

	if (c->body_len + n > BEDLOG_CW_BODY_MAX)
	{
		c->too_big = true;
		return 0;
	}
	if (c->body_len + n + 1 > c->body_cap)
	{
		size_t		newcap = Max(Max(c->body_cap * 2, c->body_len + n + 1), 16384);
		char	   *nb = realloc(c->body, newcap);

		if (nb == NULL)
		{
			c->alloc_failed = true;
			return 0;
		}
		c->body = nb;
		c->body_cap = newcap;
	}
	memcpy(c->body + c->body_len, ptr, n);
	c->body_len += n;
	c->body[c->body_len] = '\0';
	return n;
}

/*
 * A client for the log group requests of a scan, in cxt: the endpoint is
 * logs_endpoint, else the region's.  Nothing is sent yet.
 */
BedlogCwClient *
bedlog_cw_client_create(const BedlogOptions *opts, MemoryContext cxt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	BedlogCwClient *c = palloc0(sizeof(BedlogCwClient));
	const char *ep = opts->logs_endpoint;

	c->opts = *opts;
	c->url = psprintf("%s/", ep);
	c->host = pstrdup(strncmp(ep, "https://", 8) == 0 ? ep + 8 : ep + 7);
	c->start_ms = c->end_ms = -1;
	c->cleanup.func = cw_cleanup;
	c->cleanup.arg = c;
	MemoryContextRegisterResetCallback(cxt, &c->cleanup);

	c->conn = bedlog_conn_acquire(&c->opts, 2);
	c->multi = bedlog_conn_multi(c->conn);
	c->wes = bedlog_conn_wait_set(c->conn, cxt);
	MemoryContextSwitchTo(oldcxt);

	c->easy = curl_easy_init();
	if (c->easy == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not create a libcurl handle")));
	if (!bedlog_curl_defaults(c->easy))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not set up a libcurl handle")));
	SETOPT(c->easy, CURLOPT_SHARE, bedlog_conn_share(c->conn));
	SETOPT(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
	if (c->opts.ca_bundle)
		SETOPT(c->easy, CURLOPT_CAINFO, c->opts.ca_bundle);
	SETOPT(c->easy, CURLOPT_CONNECTTIMEOUT, (long) c->opts.connect_timeout);
	SETOPT(c->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	SETOPT(c->easy, CURLOPT_LOW_SPEED_TIME, (long) c->opts.low_speed_timeout);
	SETOPT(c->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(c->easy, CURLOPT_WRITEFUNCTION, cw_write_cb);
	SETOPT(c->easy, CURLOPT_WRITEDATA, c);
	SETOPT(c->easy, CURLOPT_URL, c->url);
	return c;
}

/*
 * Begin a FilterLogEvents call over group: startTime and endTime in
 * milliseconds since 1970 (-1: no bound; both inclusive), filterPattern
 * (NULL: none).  Any call in progress is abandoned.
 */
void
bedlog_cw_start(BedlogCwClient *c, const char *group, int64 start_ms,
				int64 end_ms, const char *pattern)
{
	if (c->in_flight)
	{
		curl_multi_remove_handle(c->multi, c->easy);
		c->in_flight = false;
	}
	c->group = MemoryContextStrdup(GetMemoryChunkContext(c), group);
	c->start_ms = start_ms;
	c->end_ms = end_ms;
	c->pattern = pattern ? MemoryContextStrdup(GetMemoryChunkContext(c), pattern) : NULL;
	c->next_token = NULL;
	c->started = false;
	c->finished = false;
}

/* Add one header line, or raise. */
static void
cw_add_header(BedlogCwClient *c, const char *name, const char *value)
{
	char	   *line = psprintf("%s: %s", name, value);
	struct curl_slist *l = curl_slist_append(c->headers, line);

	explicit_bzero(line, strlen(line));
	pfree(line);
	if (l == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	c->headers = l;
}

/*
 * The request body of the next page, palloc'd.  Written here with
 * PostgreSQL's escape_json rather than built with jansson: the server
 * binary exports a json_object() of its own (the SQL function), which
 * would take the place of jansson's in this library.
 */
static char *
request_body(BedlogCwClient *c)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"logGroupName\":");
	escape_json(&buf, c->group);
	if (c->start_ms >= 0)
		appendStringInfo(&buf, ",\"startTime\":" INT64_FORMAT, c->start_ms);
	if (c->end_ms >= 0)
		appendStringInfo(&buf, ",\"endTime\":" INT64_FORMAT, c->end_ms);
	if (c->pattern)
	{
		appendStringInfoString(&buf, ",\"filterPattern\":");
		escape_json(&buf, c->pattern);
	}
	if (c->next_token)
	{
		appendStringInfoString(&buf, ",\"nextToken\":");
		escape_json(&buf, c->next_token);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* Build, sign and start the request of the next page. */
static void
start_request(BedlogCwClient *c, bool retry)
{
	char	   *body = request_body(c);
	char		amz_date[17];
	char		hash[65];
	const BedlogCredentials *creds;
	CURLMcode	mc;

	if (c->headers)
	{
		curl_slist_free_all(c->headers);
		c->headers = NULL;
	}
	if (!retry)
		c->attempts = 0;
	c->attempts++;
	sigv4_amz_date((long long) time(NULL), amz_date);
	sigv4_sha256_hex(body, strlen(body), hash);
	cw_add_header(c, "Host", c->host);
	cw_add_header(c, "Content-Type", BEDLOG_CW_CTYPE);
	cw_add_header(c, "X-Amz-Target", BEDLOG_CW_TARGET);
	cw_add_header(c, "x-amz-date", amz_date);
	/* no "Expect: 100-continue" round trip for a small body */
	cw_add_header(c, "Expect", "");

	creds = bedlog_credentials_get(&c->opts);
	if (creds == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
				 errmsg("CloudWatch Logs requests of server \"%s\" must be signed",
						c->opts.server_name),
				 errhint("Give the user mapping access_key_id and secret_access_key, or a role_arn, or set use_instance_credentials on the server.")));
	{
		SigV4Header extra[2] = {{"content-type", BEDLOG_CW_CTYPE},
		{"x-amz-target", BEDLOG_CW_TARGET}};
		SigV4Input in;
		SigV4Output out;

		memset(&in, 0, sizeof(in));
		in.method = "POST";
		in.host = c->host;
		in.canonical_uri = "/";
		in.headers = extra;
		in.nheaders = 2;
		in.payload_hash = hash;
		in.amz_date = amz_date;
		in.region = c->opts.aws_region;
		in.service = "logs";
		in.access_key_id = creds->access_key_id;
		in.secret_access_key = creds->secret_access_key;
		in.session_token = creds->session_token;
		if (sigv4_sign(&in, &out) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not sign the request for CloudWatch Logs group \"%s\"",
							c->group)));
		if (creds->session_token)
			cw_add_header(c, "x-amz-security-token", creds->session_token);
		PG_TRY();
		{
			cw_add_header(c, "Authorization", out.authorization);
		}
		PG_FINALLY();
		{
			explicit_bzero(out.authorization, strlen(out.authorization));
			sigv4_output_free(&out);
		}
		PG_END_TRY();
	}
	SETOPT(c->easy, CURLOPT_HTTPHEADER, c->headers);
	SETOPT(c->easy, CURLOPT_POSTFIELDSIZE, (long) strlen(body));
	SETOPT(c->easy, CURLOPT_COPYPOSTFIELDS, body);
	pfree(body);

	c->body_len = 0;
	c->too_big = false;
	c->alloc_failed = false;
	c->done = false;
	c->result = CURLE_OK;
	c->status = 0;
	c->errbuf[0] = '\0';
	mc = curl_multi_add_handle(c->multi, c->easy);
	if (mc != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not start the request for CloudWatch Logs group \"%s\"",
						c->group),
				 errdetail("libcurl reported: %s.", curl_multi_strerror(mc))));
	c->in_flight = true;
	c->started = true;
	c->stats.requests++;
}

/* Wait for curl's sockets, its timer or the latch; let curl act. */
static void
pump(BedlogCwClient *c)
{
	bool		latch_set = bedlog_conn_wait(c->conn, c->wes);
	CURLMsg    *msg;
	int			queued;

	while ((msg = curl_multi_info_read(c->multi, &queued)) != NULL)
	{
		if (msg->msg != CURLMSG_DONE || msg->easy_handle != c->easy)
			continue;
		c->done = true;
		c->result = msg->data.result;
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
	}
	if (latch_set)
	{
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * The error type of a JSON 1.1 error body ({"__type": "...", "message":
 * "..."}; the type may be prefixed "namespace#"), and its message; NULL
 * for what is not there.  Never raises for bad input.
 */
static void
parse_error(const char *body, size_t len, char **type, char **message)
{
	json_t	   *o;
	json_error_t jerr;

	*type = *message = NULL;
	if (body == NULL || len == 0)
		return;
	o = json_loadb(body, len, 0, &jerr);
	if (o == NULL)
		return;
	if (json_is_object(o))
	{
		const char *t = json_string_value(json_object_get(o, "__type"));
		const char *m = json_string_value(json_object_get(o, "message"));

		if (m == NULL)
			m = json_string_value(json_object_get(o, "Message"));
		if (t && strchr(t, '#'))
			t = strchr(t, '#') + 1;
		if (t)
			*type = pnstrdup(t, Min(strlen(t), 200));
		if (m)
			*message = pnstrdup(m, Min(strlen(m), 1000));
	}
	json_decref(o);
}

/* Is the failed attempt worth another?  CloudWatch's throttling, 5xx. */
static bool
retryable(BedlogCwClient *c)
{
	char	   *type;
	char	   *message;
	bool		result;

	if (c->alloc_failed || c->too_big)
		return false;
	if (c->result != CURLE_OK)
		return bedlog_http_transient(c->result);
	if (c->status >= 500 && c->status <= 599)
		return true;
	if (c->status != 400)
		return false;
	parse_error(c->body, c->body_len, &type, &message);
	result = type && (strcmp(type, "ThrottlingException") == 0 ||
					  strcmp(type, "LimitExceededException") == 0);
	if (result)
		c->stats.throttled++;
	return result;
}

/* Wait with backoff and full jitter, as the S3 client does, then retry. */
static bool
retry_if_worthwhile(BedlogCwClient *c)
{
	if (!retryable(c) || c->attempts > c->opts.max_retries)
		return false;
	curl_multi_remove_handle(c->multi, c->easy);
	c->in_flight = false;
	bedlog_http_backoff(c->attempts);
	c->stats.retries++;
	start_request(c, true);
	return true;
}

/* Raise the error of the finished, failed request. */
static void
raise_failure(BedlogCwClient *c)
{
	const char *detail = c->errbuf[0] ? c->errbuf : curl_easy_strerror(c->result);
	char	   *type = NULL;
	char	   *message = NULL;
	int			code = ERRCODE_FDW_ERROR;

	if (c->alloc_failed)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while reading CloudWatch Logs group \"%s\"",
						c->group)));
	if (c->too_big)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("answer of CloudWatch Logs for group \"%s\" is larger than %d bytes",
						c->group, BEDLOG_CW_BODY_MAX)));
	if (c->result == CURLE_ABORTED_BY_CALLBACK)
	{
		CHECK_FOR_INTERRUPTS();
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("request to CloudWatch Logs was cancelled")));
	}
	if (c->result == CURLE_COULDNT_CONNECT || c->result == CURLE_COULDNT_RESOLVE_HOST)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
				 errmsg("could not connect to CloudWatch Logs endpoint \"%s\" for group \"%s\"",
						c->opts.logs_endpoint, c->group),
				 errdetail("libcurl reported: %s.%s", detail,
						   bedlog_http_attempts_note(c->attempts))));
	if (c->result != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not read CloudWatch Logs group \"%s\"", c->group),
				 errdetail("libcurl reported: %s.%s", detail,
						   bedlog_http_attempts_note(c->attempts))));
	parse_error(c->body, c->body_len, &type, &message);
	if (type && strcmp(type, "ResourceNotFoundException") == 0)
		code = ERRCODE_FDW_TABLE_NOT_FOUND;
	else if (c->status == 403 ||
			 (type && (strcmp(type, "AccessDeniedException") == 0 ||
					   strcmp(type, "UnrecognizedClientException") == 0 ||
					   strcmp(type, "InvalidSignatureException") == 0)))
		code = ERRCODE_INSUFFICIENT_PRIVILEGE;
	ereport(ERROR,
			(errcode(code),
			 errmsg("could not read CloudWatch Logs group \"%s\"", c->group),
			 type && message ?
			 errdetail("CloudWatch Logs returned HTTP status %ld (%s): %s%s",
					   c->status, type, message,
					   bedlog_http_attempts_note(c->attempts)) :
			 type ?
			 errdetail("CloudWatch Logs returned HTTP status %ld (%s).%s",
					   c->status, type,
					   bedlog_http_attempts_note(c->attempts)) :
			 errdetail("CloudWatch Logs returned HTTP status %ld.%s",
					   c->status, bedlog_http_attempts_note(c->attempts)),
			 code == ERRCODE_INSUFFICIENT_PRIVILEGE ?
			 errhint("The identity needs logs:FilterLogEvents on the log group.") : 0));
}

/* A string member of an event, or raise. */
static const char *
event_string(json_t *ev, const char *name, const char *group)
{
	const char *s = json_string_value(json_object_get(ev, name));

	if (s == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("invalid answer of CloudWatch Logs for group \"%s\"", group),
				 errdetail("An event has no string member \"%s\".", name)));
	return s;
}

/*
 * Parse the answer held in c->body into events (palloc'd in the current
 * context) and the next token.
 */
static void
parse_page(BedlogCwClient *c, BedlogCwEvent **events, int *nevents)
{
	json_t	   *o;
	json_t	   *evs;
	json_error_t jerr;
	const char *token;
	size_t		i;

	*events = NULL;
	*nevents = 0;
	o = json_loadb(c->body ? c->body : "", c->body_len, 0, &jerr);
	if (o == NULL || !json_is_object(o) ||
		!json_is_array(evs = json_object_get(o, "events")))
	{
		if (o)
			json_decref(o);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("invalid answer of CloudWatch Logs for group \"%s\"", c->group),
				 errdetail("The answer is not a FilterLogEvents result.")));
	}
	PG_TRY();
	{
		*nevents = (int) json_array_size(evs);
		if (*nevents > 0)
			*events = palloc0(sizeof(BedlogCwEvent) * *nevents);
		for (i = 0; i < json_array_size(evs); i++)
		{
			json_t	   *ev = json_array_get(evs, i);
			BedlogCwEvent *e = &(*events)[i];
			json_t	   *msg;

			if (!json_is_object(ev) ||
				!json_is_integer(json_object_get(ev, "timestamp")) ||
				!json_is_string(msg = json_object_get(ev, "message")))
				ereport(ERROR,
						(errcode(ERRCODE_FDW_ERROR),
						 errmsg("invalid answer of CloudWatch Logs for group \"%s\"", c->group),
						 errdetail("An event has no timestamp or message.")));
			e->stream = pstrdup(event_string(ev, "logStreamName", c->group));
			e->event_id = pstrdup(event_string(ev, "eventId", c->group));
			e->timestamp_ms = json_integer_value(json_object_get(ev, "timestamp"));
			e->ingestion_ms = json_is_integer(json_object_get(ev, "ingestionTime")) ?
				json_integer_value(json_object_get(ev, "ingestionTime")) : -1;
			e->len = json_string_length(msg);
			e->message = palloc(e->len + 1);
			memcpy(e->message, json_string_value(msg), e->len);
			e->message[e->len] = '\0';
		}
		token = json_string_value(json_object_get(o, "nextToken"));
		c->next_token = token && token[0] ?
			MemoryContextStrdup(GetMemoryChunkContext(c), token) : NULL;
	}
	PG_FINALLY();
	{
		json_decref(o);
	}
	PG_END_TRY();
}

/*
 * The next page of the call: its events into *events (palloc'd in the
 * current memory context, *nevents of them; a page may hold none).
 * Returns false when there is no page left.  Raises on a failure that
 * retries did not answer.
 */
bool
bedlog_cw_next_page(BedlogCwClient *c, BedlogCwEvent **events, int *nevents)
{
	*events = NULL;
	*nevents = 0;
	if (c->finished)
		return false;
	if (!c->in_flight)
		start_request(c, false);
	for (;;)
	{
		while (!c->done)
			pump(c);
		if (c->result == CURLE_OK && c->status == 200)
			break;
		if (!retry_if_worthwhile(c))
		{
			curl_multi_remove_handle(c->multi, c->easy);
			c->in_flight = false;
			raise_failure(c);
		}
	}
	curl_multi_remove_handle(c->multi, c->easy);
	c->in_flight = false;
	parse_page(c, events, nevents);
	c->stats.pages++;
	c->stats.events += *nevents;
	c->stats.bytes_received += c->body_len;
	if (c->next_token == NULL)
		c->finished = true;
	else
		start_request(c, false);	/* the next page, while this one is read */
	return true;
}

/* The counters of a client, for EXPLAIN ANALYZE. */
const BedlogCwStats *
bedlog_cw_stats(BedlogCwClient *c)
{
	return &c->stats;
}
