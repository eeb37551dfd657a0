/*-------------------------------------------------------------------------
 *
 * reader.c
 *		One S3 object, inflated on the fly and cut into lines.
 *
 * Design notes.  The reader pulls compressed bytes from the S3 client as
 * it needs them, inflates them into a fixed output buffer, and returns
 * one line at a time.  A line that lies wholly in the output buffer is
 * returned in place; only a line that straddles two buffers is copied,
 * into a StringInfo that grows to the largest record and no further.  So
 * memory is bounded by the largest record, never by the object.
 *
 * Whether an object is gzip is decided by its first two bytes (1f 8b),
 * not by its name or headers; an object without them is read as plain
 * newline-delimited JSON.  Concatenated gzip members are legal gzip (a
 * writer that appends produces them) and are read through.  The last line
 * may or may not end in a newline; a CR before the newline is dropped;
 * blank lines are skipped but still counted, so line numbers match what
 * a person sees in the object.
 *
 * Inflating is most of the CPU a scan spends (measured: about two thirds
 * of the backend's time in an aggregate over gzipped logs with zlib), so
 * when the build finds Intel's ISA-L (libisal, HAVE_ISAL) its streaming
 * isal_inflate() does the work: about three times zlib's speed on this
 * data, still streaming into the same fixed buffer, so memory stays
 * bounded (libdeflate is as fast but inflates whole buffers only).  ISA-L
 * checks each member's CRC-32 and length like zlib; its error codes are
 * reported in zlib's words, so messages do not depend on the build.
 * zlib is the fallback.  zlib reports errors as a code and a message;
 * they are raised here with the object named, and the z_stream is
 * released by a memory context callback, so an error mid-object leaks
 * nothing (ISA-L's state holds no resources beyond its palloc'd struct).
 *
 * Bad data (corrupt gzip, a line too long, S3 refusing the object) is a
 * soft error when the caller passes an ErrorSaveContext to
 * bedlog_reader_next_line_safe: the reader saves it there, marks itself
 * failed and returns false, and the caller closes it.  on_error 'skip'
 * reads that way, so it never has to catch an ERROR.
 * Reading a cached object, or one whose bytes have all arrived, never
 * waits on the network, where the S3 client answers cancel; so the reader
 * checks for interrupts itself, once per line returned or skipped and once
 * per inflate step.  Every scan path, the one that passes over the records
 * the pushed-down filters reject among them, gets its lines here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <zlib.h>
#ifdef HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "miscadmin.h"
#include "utils/memutils.h"

#include "bedlog_fdw.h"

#define BEDLOG_INFLATE_BUFSIZE	(256 * 1024)
#define BEDLOG_MAX_LINE			((size_t) MaxAllocSize - 1)

struct BedlogReader
{
	BedlogS3Client *client;		/* where the bytes come from */
	BedlogS3Request *req;		/* the GET of the current object */
	char	   *key;			/* object being read */
	char	   *uri;			/* s3://bucket/key, for messages */
	bool		open;			/* an object is being read */
	bool		format_known;	/* saw enough bytes to tell gzip */
	bool		is_gzip;		/* object starts with 1f 8b */
	bool		input_eof;		/* the S3 body has ended */
	bool		member_done;	/* inflate reached the end of a member */
	bool		stream_started; /* the inflater has begun this object */
	bool		failed;			/* a soft error ended this object */
	Node	   *escontext;		/* where to save a soft error, or NULL */
#ifdef HAVE_ISAL
	struct inflate_state *isal; /* inflate state, allocated on first use */
#else
	bool		zs_ready;		/* zs is initialised */
	z_stream	zs;				/* inflate state */
#endif
	const unsigned char *in;	/* compressed bytes not yet consumed */
	size_t		in_len;
	unsigned char head[2];		/* first bytes, while deciding the format */
	int			head_len;
	char	   *out;			/* inflated bytes [out_start, out_end) */
	size_t		out_start;
	size_t		out_end;
	bool		out_eof;		/* no more inflated bytes will come */
	StringInfoData line;		/* a line that straddles buffers */
	int64		lineno;			/* number of the last line returned */
	BedlogReaderStats stats;	/* counters of the current object */
#ifndef HAVE_ISAL
	MemoryContextCallback cleanup;	/* releases zs */
#endif
};

#ifndef HAVE_ISAL
/* Release the inflate state; safe to call twice. */
static void
reader_cleanup(void *arg)
{
	BedlogReader *r = (BedlogReader *) arg;

	if (r->zs_ready)
	{
		inflateEnd(&r->zs);
		r->zs_ready = false;
	}
}
#endif

/* Create a reader whose memory lives in cxt. */
BedlogReader *
bedlog_reader_create(BedlogS3Client *client, MemoryContext cxt)
{
	BedlogReader *r = MemoryContextAllocZero(cxt, sizeof(BedlogReader));
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);

	r->client = client;
	r->out = palloc(BEDLOG_INFLATE_BUFSIZE);
	initStringInfo(&r->line);
	MemoryContextSwitchTo(oldcxt);
#ifndef HAVE_ISAL
	r->cleanup.func = reader_cleanup;
	r->cleanup.arg = r;
	MemoryContextRegisterResetCallback(cxt, &r->cleanup);
#endif
	return r;
}

/*
 * Start reading object key from req (a GET of it, which the reader now
 * owns and releases); uri (s3://bucket/key) names it in messages.
 */
void
bedlog_reader_open(BedlogReader *r, const char *key, const char *uri,
				   BedlogS3Request *req)
{
	MemoryContext cxt = GetMemoryChunkContext(r);

	if (r->open)
		bedlog_reader_close(r);
	if (r->key)
		pfree(r->key);
	if (r->uri)
		pfree(r->uri);
	r->key = MemoryContextStrdup(cxt, key);
	r->uri = MemoryContextStrdup(cxt, uri);
	r->format_known = false;
	r->is_gzip = false;
	r->input_eof = false;
	r->member_done = false;
	r->stream_started = false;
	r->failed = false;
	r->in = NULL;
	r->in_len = 0;
	r->head_len = 0;
	r->out_start = r->out_end = 0;
	r->out_eof = false;
	resetStringInfo(&r->line);
	r->lineno = 0;
	memset(&r->stats, 0, sizeof(r->stats));
	r->req = req;
	r->open = true;
}

/* Stop reading the current object, abandoning its transfer if need be. */
void
bedlog_reader_close(BedlogReader *r)
{
	if (!r->open)
		return;
	if (r->req)
		bedlog_s3_release(r->client, r->req);
	r->req = NULL;
	r->open = false;
	/* a huge record's buffer is not kept for the next object */
	if (r->line.maxlen > 4 * BEDLOG_INFLATE_BUFSIZE)
	{
		pfree(r->line.data);
		r->line.data = MemoryContextAlloc(GetMemoryChunkContext(r), 1024);
		r->line.maxlen = 1024;
		resetStringInfo(&r->line);
	}
}

/* The counters of the current object. */
const BedlogReaderStats *
bedlog_reader_stats(BedlogReader *r)
{
	return &r->stats;
}

/*
 * Report a gzip error for the current object: raise it, or save it in
 * the caller's escontext and mark the reader failed.  Returns false, for
 * fill_output to return.
 */
static bool
gzip_error(BedlogReader *r, const char *what)
{
	if (r->failed)
		return false;			/* the first error stands */
	r->failed = true;
	r->out_eof = true;
	errsave(r->escontext,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("corrupt gzip data in S3 object \"%s\"", r->uri),
			 what[strlen(what) - 1] == '.' ?
			 errdetail("%s", what) :
			 errdetail("Inflating failed: %s.", what)));
	return false;
}

/* Get more compressed bytes into r->in; false at the end of the body. */
static bool
fetch_input(BedlogReader *r)
{
	const char *data;
	size_t		n;

	if (r->input_eof)
		return false;
	n = bedlog_s3_read(r->client, r->req, &data, r->escontext);
	if (n == 0)
	{
		r->input_eof = true;
		if (SOFT_ERROR_OCCURRED(r->escontext))
		{
			r->failed = true;
			r->out_eof = true;
		}
		return false;
	}
	r->in = (const unsigned char *) data;
	r->in_len = n;
	r->stats.bytes_in += n;
	return true;
}

/*
 * Note that an inflate step put n bytes into r->out; returns false when
 * it put none (the object has ended).
 */
static bool
inflated(BedlogReader *r, size_t n)
{
	r->out_end = n;
	r->stats.bytes_out += n;
	if (n == 0)
	{
		r->out_eof = true;
		return false;
	}
	return true;
}

#ifdef HAVE_ISAL
/* zlib's words for ISA-L's inflate errors */
static const char *
isal_error_message(int rc)
{
	switch (rc)
	{
		case ISAL_INVALID_BLOCK:
			return "invalid block type";
		case ISAL_INVALID_SYMBOL:
			return "invalid code";
		case ISAL_INVALID_LOOKBACK:
			return "invalid distance too far back";
		case ISAL_INVALID_WRAPPER:
			return "incorrect header check";
		case ISAL_UNSUPPORTED_METHOD:
			return "unknown compression method";
		case ISAL_INCORRECT_CHECKSUM:
			return "incorrect data check";
		default:
			return "inflate failed";
	}
}

/*
 * The gzip part of fill_output with ISA-L: inflate into r->out until it is
 * full, the input ends, or the object ends; members follow one another.
 * ISA-L may take in the last input bytes (a member's trailer among them)
 * while output is still pending in its own buffer, so at the end of the
 * input it is called again with no input until it makes no progress;
 * only then is a member that has not finished a truncated object.
 */
static bool
inflate_isal(BedlogReader *r)
{
	struct inflate_state *st;

	if (!r->stream_started)
	{
		if (r->isal == NULL)
			r->isal = MemoryContextAlloc(GetMemoryChunkContext(r),
										 sizeof(struct inflate_state));
		isal_inflate_init(r->isal);
		r->isal->crc_flag = ISAL_GZIP;	/* parse the gzip wrapper, check CRC */
		r->stream_started = true;
	}
	st = r->isal;

	st->next_out = (uint8_t *) r->out;
	st->avail_out = BEDLOG_INFLATE_BUFSIZE;
	while (st->avail_out > 0)
	{
		bool		eof = false;
		uint32		out_before = st->avail_out;
		size_t		consumed;
		int			rc;

		/* input that inflates to little (empty members) loops here long */
		CHECK_FOR_INTERRUPTS();
		if (r->head_len > 0)
		{
			/* the two held-back magic bytes go first */
			st->next_in = r->head;
			st->avail_in = r->head_len;
			rc = isal_inflate(st);
			if (rc < 0)
				return gzip_error(r, isal_error_message(rc));
			if (st->avail_in != 0)
				return gzip_error(r, "incorrect header check");
			r->head_len = 0;
			continue;
		}
		if (r->in_len == 0 && !fetch_input(r))
		{
			if (r->failed)
				return false;
			eof = true;
		}
		if (r->member_done)
		{
			if (eof)
			{
				r->out_eof = true;
				break;
			}
			/* a member ended and bytes follow: they must be another member */
			isal_inflate_reset(st);
			r->member_done = false;
		}
		st->next_in = (uint8_t *) r->in;
		st->avail_in = (uint32) Min(r->in_len, (size_t) PG_UINT32_MAX);
		rc = isal_inflate(st);
		consumed = (const unsigned char *) st->next_in - r->in;
		r->in_len -= consumed;
		r->in = (const unsigned char *) st->next_in;
		if (rc < 0)
			return gzip_error(r, isal_error_message(rc));
		if (st->block_state == ISAL_BLOCK_FINISH)
		{
			r->member_done = true;
			continue;
		}
		if (consumed == 0 && st->avail_out == out_before)
		{
			if (!eof)
				return gzip_error(r, "Inflating made no progress.");
			if (st->avail_out < BEDLOG_INFLATE_BUFSIZE)
				break;			/* hand out what we have first */
			return gzip_error(r, "The gzip data ends before the end of its last member (truncated object).");
		}
	}
	return inflated(r, BEDLOG_INFLATE_BUFSIZE - st->avail_out);
}
#endif

/*
 * Refill the output buffer (after moving any unread bytes to its front).
 * Returns false when the object has no more bytes.
 */
static bool
fill_output(BedlogReader *r)
{
	if (r->out_eof)
		return false;
	r->out_start = r->out_end = 0;

	/* decide the format from the first two bytes */
	while (!r->format_known)
	{
		if (r->in_len == 0 && !fetch_input(r))
		{
			if (r->failed)
				return false;
			r->format_known = true;
			r->is_gzip = false;
			break;
		}
		while (r->head_len < 2 && r->in_len > 0)
		{
			r->head[r->head_len++] = *r->in;
			r->in++;
			r->in_len--;
		}
		if (r->head_len == 2)
		{
			r->format_known = true;
			r->is_gzip = (r->head[0] == 0x1f && r->head[1] == 0x8b);
		}
	}

	if (!r->is_gzip)
	{
		/* plain text: pass the bytes through, the held-back head first */
		if (r->head_len > 0)
		{
			memcpy(r->out, r->head, r->head_len);
			r->out_end = r->head_len;
			r->head_len = 0;
			return true;
		}
		while (r->in_len == 0)
		{
			if (!fetch_input(r))
			{
				r->out_eof = true;
				return false;
			}
		}
		r->out_end = Min(r->in_len, (size_t) BEDLOG_INFLATE_BUFSIZE);
		memcpy(r->out, r->in, r->out_end);
		r->in += r->out_end;
		r->in_len -= r->out_end;
		r->stats.bytes_out += r->out_end;
		return true;
	}

#ifdef HAVE_ISAL
	return inflate_isal(r);
#else
	if (!r->stream_started)
	{
		if (!r->zs_ready)
		{
			memset(&r->zs, 0, sizeof(r->zs));
			/* 16 + MAX_WBITS: gzip wrapper only */
			if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK)
				ereport(ERROR,
						(errcode(ERRCODE_OUT_OF_MEMORY),
						 errmsg("could not initialize zlib: %s",
								r->zs.msg ? r->zs.msg : "out of memory")));
			r->zs_ready = true;
		}
		else
			inflateReset(&r->zs);	/* reused from the previous object */
		r->stream_started = true;
		/* feed the two held-back magic bytes first */
		r->zs.next_in = r->head;
		r->zs.avail_in = r->head_len;
		r->zs.next_out = (Bytef *) r->out;
		r->zs.avail_out = BEDLOG_INFLATE_BUFSIZE;
		if (inflate(&r->zs, Z_NO_FLUSH) < 0)
			return gzip_error(r, r->zs.msg ? r->zs.msg : "bad gzip header");
		r->head_len = 0;
	}

	r->zs.next_out = (Bytef *) r->out;
	r->zs.avail_out = BEDLOG_INFLATE_BUFSIZE;
	while (r->zs.avail_out > 0)
	{
		int			rc;

		/* input that inflates to little (empty members) loops here long */
		CHECK_FOR_INTERRUPTS();
		if (r->in_len == 0)
		{
			if (!fetch_input(r))
			{
				if (r->failed)
					return false;
				if (!r->member_done && r->zs.avail_out < BEDLOG_INFLATE_BUFSIZE)
					break;		/* hand out what we have first */
				if (!r->member_done)
					return gzip_error(r, "The gzip data ends before the end of its last member (truncated object).");
				r->out_eof = true;
				break;
			}
		}
		if (r->member_done)
		{
			/* a member ended and bytes follow: they must be another member */
			inflateReset(&r->zs);
			r->member_done = false;
		}
		r->zs.next_in = (Bytef *) r->in;
		r->zs.avail_in = (uInt) Min(r->in_len, (size_t) UINT_MAX);
		rc = inflate(&r->zs, Z_NO_FLUSH);
		r->in_len -= (const unsigned char *) r->zs.next_in - r->in;
		r->in = (const unsigned char *) r->zs.next_in;
		if (rc == Z_STREAM_END)
			r->member_done = true;
		else if (rc == Z_BUF_ERROR)
		{
			/* no progress possible: needs input we do not have yet */
			if (r->in_len == 0)
				continue;
			return gzip_error(r, "Inflating made no progress.");
		}
		else if (rc != Z_OK)
			return gzip_error(r, r->zs.msg ? r->zs.msg : "inflate failed");
	}
	return inflated(r, BEDLOG_INFLATE_BUFSIZE - r->zs.avail_out);
#endif
}

/* Is [p, p+len) empty or only blanks? */
static bool
is_blank(const char *p, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
	{
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	}
	return true;
}

/*
 * Return the next non-blank line of the object: *line and *len (without
 * the newline or a CR before it) stay valid until the next call; *lineno
 * is its number from 1.  Returns false at the end of the object.  Raises
 * on bad data and on any failure to read the object.  Checks for
 * interrupts once a line, so a caller that passes over lines need not.
 */
bool
bedlog_reader_next_line(BedlogReader *r, const char **line, size_t *len,
						int64 *lineno)
{
	return bedlog_reader_next_line_safe(r, line, len, lineno, NULL);
}

/*
 * bedlog_reader_next_line, with the object's bad data (corrupt gzip, a
 * line too long, S3 refusing the object) saved in escontext when it is an
 * ErrorSaveContext: false is returned then, with
 * SOFT_ERROR_OCCURRED(escontext) true, and the reader returns no more
 * lines of this object (close it).  A line before the error was good.
 */
bool
bedlog_reader_next_line_safe(BedlogReader *r, const char **line, size_t *len,
							 int64 *lineno, Node *escontext)
{
	r->escontext = escontext;
	for (;;)
	{
		const char *start;
		const char *nl;
		size_t		avail;

		if (r->failed)
			return false;
		/* once a line: callers may pass over most lines without a wait */
		CHECK_FOR_INTERRUPTS();
		if (r->out_start == r->out_end)
		{
			if (!fill_output(r))
			{
				if (r->failed)
					return false;	/* not the partial line */
				/* end of object: a last line without a newline */
				if (r->line.len > 0)
				{
					r->lineno++;
					*line = r->line.data;
					*len = r->line.len;
					r->line.len = 0;	/* data stays valid until next call */
					if (*len > 0 && (*line)[*len - 1] == '\r')
						(*len)--;
					if (is_blank(*line, *len))
						continue;
					*lineno = r->lineno;
					return true;
				}
				return false;
			}
		}

		start = r->out + r->out_start;
		avail = r->out_end - r->out_start;
		nl = memchr(start, '\n', avail);
		if (nl == NULL)
		{
			if ((size_t) r->line.len + avail > BEDLOG_MAX_LINE)
			{
				r->failed = true;
				ereturn(escontext, false,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("line %lld of S3 object \"%s\" is longer than %zu bytes",
								(long long) r->lineno + 1, r->uri, BEDLOG_MAX_LINE)));
			}
			appendBinaryStringInfo(&r->line, start, avail);
			r->out_start = r->out_end;
			continue;
		}

		r->lineno++;
		r->out_start += (nl - start) + 1;
		if (r->line.len > 0)
		{
			appendBinaryStringInfo(&r->line, start, nl - start);
			*line = r->line.data;
			*len = r->line.len;
			r->line.len = 0;
		}
		else
		{
			*line = start;
			*len = nl - start;
		}
		if (*len > 0 && (*line)[*len - 1] == '\r')
			(*len)--;
		if (is_blank(*line, *len))
			continue;
		*lineno = r->lineno;
		return true;
	}
}
