/*-------------------------------------------------------------------------
 *
 * bodies.c
 *		Large bodies: fetching the objects Bedrock offloads bodies to.
 *
 * Design notes.  A body over about 100 KB (or a binary one) is not in the
 * record: Bedrock writes it to a large-data object in the hour folder's
 * data/ (".../data/<requestId>_input.json.gz", "_output.json.gz") and
 * puts its s3://bucket/key in input.inputBodyS3Path or
 * output.outputBodyS3Path.  The object holds the body itself (a JSON
 * object, or the array of stream events), gzipped.  It may be in another
 * bucket than the logs: the GET is signed for its own bucket, with the
 * server's credentials and region.
 *
 * The scan (readahead.c) starts these GETs for the rows it reads ahead,
 * so they overlap with each other and with the objects' transfers on the
 * same client; this file turns a URI into a request, and a finished
 * request into the body's text.  The text goes through a reader (reader.c)
 * like a log object: gzip or not is decided by the magic bytes, and the
 * lines are joined again with newlines (whitespace to JSON).  A body that
 * is gone (404) or not readable (403) is reported as missing, not as an
 * error: lifecycle rules delete data/ objects, and a policy may leave it
 * out.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "bedlog_fdw.h"

/*
 * Split an "s3://bucket/key" URI into palloc'd bucket and key.  Returns
 * false for anything else (no scheme, an empty bucket or key).
 */
bool
bedlog_parse_s3_uri(const char *uri, char **bucket, char **key)
{
	const char *b;
	const char *slash;

	if (strncmp(uri, "s3://", 5) != 0)
		return false;
	b = uri + 5;
	slash = strchr(b, '/');
	if (slash == NULL || slash == b || slash[1] == '\0')
		return false;
	*bucket = pnstrdup(b, slash - b);
	*key = pstrdup(slash + 1);
	return true;
}

/*
 * Start the GET of the large body at uri.  Returns the request (read it
 * with bedlog_body_fetch, or give it up with bedlog_s3_release), or NULL
 * when uri is not an S3 URI.
 */
BedlogS3Request *
bedlog_body_request(BedlogS3Client *client, const char *uri)
{
	char	   *bucket;
	char	   *key;
	BedlogS3Request *req;

	if (!bedlog_parse_s3_uri(uri, &bucket, &key))
		return NULL;
	req = bedlog_s3_get_body(client, bucket, key);
	pfree(bucket);
	pfree(key);
	return req;
}

/* Is edata a large body that is not there, or not ours to read? */
static bool
body_missing(const ErrorData *edata)
{
	return edata->sqlerrcode == ERRCODE_FDW_TABLE_NOT_FOUND ||
		edata->sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE;
}

/*
 * Read the large body that req (from bedlog_body_request) fetches, and
 * release req.  Returns the body's text, palloc'd in the current memory
 * context, NUL-terminated, with its length in *len; or NULL when the
 * object does not exist or may not be read (HTTP 404 or 403: *missing is
 * set).  Any other failure (a transfer that fails, corrupt gzip, a body
 * larger than a value can be, 1 GB) raises, naming uri; with an
 * ErrorSaveContext in escontext, a failure that is bad data rather than
 * a broken connection is saved there instead, and NULL returned with
 * *missing false.  reader, of the same client, reads it; one reader
 * serves all the bodies of a scan, so that its buffers and inflate state
 * are set up once.
 *
 * The reader reports S3's refusals as soft errors (from PostgreSQL 16),
 * so that a missing body is told apart without catching an ERROR.  Before
 * 16 the reader raises them, and they are caught here: see the comment
 * at the catch.
 */
char *
bedlog_body_fetch(BedlogReader *reader, BedlogS3Request *req,
				  const char *uri, size_t *len, bool *missing,
				  Node *escontext)
{
#if !BEDLOG_SOFT_ERRORS
	MemoryContext cxt = CurrentMemoryContext;
#endif
	ErrorSaveContext es = BEDLOG_ESCONTEXT_INIT;
	StringInfoData buf;
	ErrorData  *edata = NULL;
	const char *slash = strncmp(uri, "s3://", 5) == 0 ? strchr(uri + 5, '/') : NULL;
	const char *key;
	bool		too_big = false;

	*missing = false;
	/* req came from bedlog_body_request, which parsed uri */
	if (slash == NULL)
		elog(ERROR, "large body URI \"%s\" is not an S3 URI", uri);
	key = slash + 1;
	initStringInfo(&buf);
	bedlog_reader_open(reader, key, uri, req);
#if !BEDLOG_SOFT_ERRORS
	/*
	 * Before 16: the reader raises a 404 or 403 of the body.  Catching it
	 * without a subtransaction is safe because of where it is raised: in
	 * bedlog_s3_read's check of a finished transfer, after the transfer
	 * was taken off the multi handle, with no lock, buffer pin or file
	 * held and nothing half-written (the reader's state is only memory,
	 * abandoned by bedlog_reader_close below).  Any other error is raised
	 * again at once; the catch block releases nothing and starts nothing,
	 * so no new request or credentials fetch can replace the error.
	 */
	PG_TRY();
#endif
	{
		const char *line;
		size_t		n;
		int64		lineno;

		while (bedlog_reader_next_line_safe(reader, &line, &n, &lineno,
											(Node *) &es))
		{
			if ((size_t) buf.len + n + 1 > MaxAllocSize - 1)
			{
				too_big = true;
				break;
			}
			if (buf.len > 0)
				appendStringInfoChar(&buf, '\n');
			appendBinaryStringInfo(&buf, line, n);
		}
	}
#if !BEDLOG_SOFT_ERRORS
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (!body_missing(edata))
			PG_RE_THROW();
		FlushErrorState();
	}
	PG_END_TRY();
#endif
	if (es.error_occurred)
	{
		edata = es.error_data;
		es.error_data = NULL;
	}
	bedlog_reader_close(reader);
	if (edata || too_big)
		pfree(buf.data);
	if (edata && body_missing(edata))
	{
		FreeErrorData(edata);
		*missing = true;
		return NULL;
	}
	if (edata)
	{
		bedlog_errsave_data(escontext, edata);
		return NULL;
	}
	if (too_big)
		ereturn(escontext, NULL,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("large body \"%s\" is larger than %zu bytes",
						uri, (size_t) MaxAllocSize - 1)));
	*len = buf.len;
	return buf.data;
}
