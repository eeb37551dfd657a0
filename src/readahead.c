/*-------------------------------------------------------------------------
 *
 * readahead.c
 *		Rows read ahead of the current one, so that the GETs of the large
 *		bodies they need overlap.
 *
 * Design notes.  When a column reads a body (resolve_large_bodies on),
 * rows come through a short queue of lines read ahead of the current one
 * (BEDLOG_AHEAD_ROWS, BEDLOG_AHEAD_BYTES).  Each line is scanned when it
 * is read; if a body it needs was offloaded, the GET of that large body
 * starts at once, so several are in flight while earlier rows are
 * emitted and while the next objects arrive on the same client.  Rows
 * still come out in order, each built when it reaches the head, with its
 * large bodies read then (waiting only if they have not arrived yet).
 * The queue reads within the current object only.  An error is reported
 * when its row's turn comes, as without the queue: a line that does not
 * scan is decoded again then, to raise its error; an object error met
 * while reading ahead (corrupt gzip, ...) waits until the rows before it
 * are emitted.
 *
 * The queue lives in the scan's state (BedlogScanState), its rows in a
 * context of their own (ahead_cxt), reset when an object is done; a large
 * body is read into the row's context.  Objects come from scan.c, as for
 * a scan without large bodies, and so do the on_error 'skip' helpers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/tuptable.h"
#include "utils/memutils.h"

#include "bedlog_fdw.h"

/*
 * Rows read ahead when large bodies are resolved: at most this many, and
 * beyond the first, this many bytes of lines.
 */
#define BEDLOG_AHEAD_ROWS		16
#define BEDLOG_AHEAD_BYTES		(8 * 1024 * 1024)

/* A row read ahead, with the GETs of its large bodies in flight. */
typedef struct BedlogAheadRow
{
	char	   *line;			/* a copy of the line */
	size_t		len;
	int64		lineno;
	BedlogLineVerdict status;	/* bedlog_decode_scan's verdict */
	BjValue    *slots;			/* its scan, pointing into line */
	char	   *uri[BEDLOG_NBODIES];	/* offloaded bodies, or NULL */
	BedlogS3Request *req[BEDLOG_NBODIES];	/* their GETs (NULL for a URI
											 * that is not s3://) */
} BedlogAheadRow;

/* Release what a row read ahead holds: its GETs and its copy of the line. */
static void
free_ahead_row(BedlogScanState *st, BedlogAheadRow *row)
{
	int			b;

	for (b = 0; b < BEDLOG_NBODIES; b++)
	{
		if (row->req[b])
			bedlog_s3_release(st->client, row->req[b]);
		if (row->uri[b])
			pfree(row->uri[b]);
	}
	pfree(row->line);
	pfree(row->slots);
	pfree(row);
}

/* Abandon the rows read ahead (rescan). */
void
bedlog_readahead_drop(BedlogScanState *st)
{
	ListCell   *lc;

	if (st->client)
	{
		foreach(lc, st->ahead)
			free_ahead_row(st, (BedlogAheadRow *) lfirst(lc));
	}
	list_free(st->ahead);
	st->ahead = NIL;
	st->ahead_bytes = 0;
	st->ahead_eof = false;
	if (st->ahead_error)
		FreeErrorData(st->ahead_error);
	st->ahead_error = NULL;
	MemoryContextReset(st->ahead_cxt);
}

/*
 * Read lines of the current object ahead, up to the queue's bounds, scan
 * them, and start the GETs of the large bodies they need.  An object
 * error that on_error 'skip' could answer is kept in st->ahead_error (and
 * the reading stops), to be reported after the rows before it; anything
 * else is raised.
 */
static void
read_ahead(BedlogScanState *st)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	int			nslots = bedlog_decoder_nslots(st->decoder);

	while (!st->ahead_eof && st->ahead_error == NULL &&
		   list_length(st->ahead) < BEDLOG_AHEAD_ROWS &&
		   (st->ahead == NIL || st->ahead_bytes < BEDLOG_AHEAD_BYTES))
	{
		const char *line = NULL;
		size_t		len = 0;
		int64		lineno = 0;
		bool		have_line = false;
		BedlogAheadRow *row;
		BedlogLineVerdict status;
		int			b;
		int			i;

		/*
		 * Errors while reading belong to the object, not to a line.  One
		 * that skipping could answer is kept past this call, in the scan's
		 * context, even without on_error 'skip': it is raised when its turn
		 * comes.
		 */
		st->pos.line = 0;
		if (st->cw)
			have_line = bedlog_cwscan_next_line(st, &line, &len, &lineno);
		else
			have_line = bedlog_skip_next_line(st->reader, st->decoder, &line, &len,
											  &lineno, st->scan_cxt, &st->ahead_error);
		if (st->ahead_error)
			break;
		if (!have_line)
		{
			st->ahead_eof = true;
			break;
		}

		/*
		 * Scanned where the reader holds it; only a line the filters keep
		 * (or one to report an error for) is copied, with its slots moved
		 * onto the copy.
		 */
		if (st->ahead_slots == NULL)
			st->ahead_slots = MemoryContextAlloc(st->scan_cxt,
												 sizeof(BjValue) * Max(nslots, 1));
		MemoryContextSwitchTo(st->ahead_cxt);
		status = bedlog_decode_scan(st->decoder, line, len, lineno, &st->pos,
									st->ahead_slots, false);
		if (status == BEDLOG_LINE_REJECTED)
		{
			MemoryContextSwitchTo(oldcxt);
			st->rows_rejected++;
			continue;
		}
		row = palloc0(sizeof(BedlogAheadRow));
		row->line = palloc(len + 1);
		memcpy(row->line, line, len);
		row->line[len] = '\0';
		row->len = len;
		row->lineno = lineno;
		row->status = status;
		row->slots = palloc(sizeof(BjValue) * Max(nslots, 1));
		for (i = 0; i < nslots; i++)
		{
			row->slots[i] = st->ahead_slots[i];
			if (row->slots[i].ptr >= line && row->slots[i].ptr <= line + len)
				row->slots[i].ptr = row->line + (row->slots[i].ptr - line);
		}
		for (b = 0; b < BEDLOG_NBODIES && row->status == BEDLOG_LINE_ROW; b++)
		{
			if (!(st->bodies & (1 << b)))
				continue;
			row->uri[b] = bedlog_decode_body_uri(st->decoder, row->slots, b);
			if (row->uri[b])
				row->req[b] = bedlog_body_request(st->client, row->uri[b]);
		}
		st->ahead = lappend(st->ahead, row);
		st->ahead_bytes += len;
		MemoryContextSwitchTo(oldcxt);
	}
}

/* Count a large body that is not there; keep the first few URIs. */
static void
note_missing_body(BedlogScanState *st, const char *uri)
{
	MemoryContext oldcxt;

	st->bodies_missing++;
	if (list_length(st->missing_uris) >= 3)
		return;
	oldcxt = MemoryContextSwitchTo(st->scan_cxt);
	st->missing_uris = lappend(st->missing_uris, pstrdup(uri));
	MemoryContextSwitchTo(oldcxt);
}

/* At the end of a scan that missed large bodies, one WARNING with counts. */
void
bedlog_readahead_warn(BedlogScanState *st)
{
	char	   *uris;

	if (st->bodies_warned || st->bodies_missing == 0)
		return;
	st->bodies_warned = true;
	uris = bedlog_join_strings(st->missing_uris, ", ");
	ereport(WARNING,
			(errcode(ERRCODE_WARNING),
			 errmsg_plural("%lld large body of S3 location \"%s\" was not found",
						   "%lld large bodies of S3 location \"%s\" were not found",
						   (unsigned long) st->bodies_missing,
						   (long long) st->bodies_missing, st->location),
			 errdetail("Their columns are NULL. First: %s.", uris),
			 errhint("The large-data objects may have been deleted, or the user mapping's credentials may not read them.")));
}

/*
 * Build the row read ahead into values/nulls, reading its large bodies.
 * Returns false for a record the filters reject.  Raises as decoding the
 * line would, and for a large body that cannot be read or decoded (one
 * that is not found or not readable is NULL, and counted); with an
 * ErrorSaveContext in escontext, bad data is saved there instead and false
 * returned.
 */
static bool
build_ahead_row(BedlogScanState *st, BedlogAheadRow *row, Datum *values,
				bool *nulls, Node *escontext)
{
	int			b;

	if (row->status == BEDLOG_LINE_BAD)
		return bedlog_decode_line(st->decoder, row->line, row->len, st->cur_key,
								  row->lineno, &st->pos, values, nulls,
								  escontext);
	if (row->status == BEDLOG_LINE_REJECTED)
		return false;
	if (!bedlog_decode_build(st->decoder, row->slots, st->cur_key, row->lineno,
							 &st->pos, values, nulls, escontext))
		return false;
	for (b = 0; b < BEDLOG_NBODIES; b++)
	{
		BedlogS3Request *req = row->req[b];
		char	   *text;
		size_t		len;
		bool		missing;

		if (row->uri[b] == NULL)
			continue;
		if (req == NULL)
			ereturn(escontext, false,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid large body location \"%s\"", row->uri[b]),
					 errdetail("A large body location is an S3 URI, s3://bucket/key.")));
		row->req[b] = NULL;		/* bedlog_body_fetch releases it */
		text = bedlog_body_fetch(st->body_reader, req, row->uri[b], &len,
								 &missing, escontext);
		if (text == NULL && missing)
		{
			note_missing_body(st, row->uri[b]);
			continue;
		}
		if (text == NULL)
			return false;
		st->bodies_fetched++;
		if (!bedlog_decode_body(st->decoder, b, text, len, row->uri[b], &st->pos,
								values, nulls, escontext))
			return false;
		pfree(text);
	}
	return true;
}

/* build_ahead_row's arguments, for bedlog_skip_run */
typedef struct AheadBuild
{
	BedlogScanState *st;
	BedlogAheadRow *row;
	Datum	   *values;
	bool	   *nulls;
} AheadBuild;

static bool
build_ahead_row_fn(void *arg, Node *escontext)
{
	AheadBuild *ab = (AheadBuild *) arg;

	return build_ahead_row(ab->st, ab->row, ab->values, ab->nulls, escontext);
}

/*
 * bedlogIterateForeignScan when large bodies are resolved: the next row,
 * from the rows read ahead, into slot (left empty at the end of the
 * scan).  Under on_error 'skip', a bad record, large body or object is
 * counted and passed over, as without reading ahead.
 */
void
bedlog_readahead_next_row(ForeignScanState *node, BedlogScanState *st,
						  TupleTableSlot *slot)
{
	MemoryContext oldcxt = CurrentMemoryContext;

	for (;;)
	{
		BedlogAheadRow *row;
		bool		stored = false;
		bool		bad = false;

		if (!st->in_object)
		{
			if (!bedlog_scan_next_object(node, st))
			{
				bedlog_warn_skipped(st);
				bedlog_readahead_warn(st);
				return;
			}
			st->ahead_eof = false;
		}
		read_ahead(st);
		if (st->ahead == NIL)
		{
			/* the object is done, or broke after its last good line */
			ErrorData  *edata = st->ahead_error;

			st->ahead_error = NULL;
			st->bytes_inflated += bedlog_reader_stats(st->reader)->bytes_out;
			bedlog_reader_close(st->reader);
			st->in_object = false;
			st->pos.line = 0;
			MemoryContextReset(st->ahead_cxt);
			if (edata && !st->skip_bad)
				ThrowErrorData(edata);	/* its context: the object */
			if (edata)
			{
				bedlog_note_skipped(st, edata, true);
				FreeErrorData(edata);
			}
			continue;
		}

		row = (BedlogAheadRow *) linitial(st->ahead);
		st->ahead = list_delete_first(st->ahead);
		st->ahead_bytes -= row->len;
		st->pos.line = row->lineno;
		if (st->cw)
			st->pos.event_id = st->cw_events[row->lineno - 1].event_id;
		memset(slot->tts_isnull, true,
			   sizeof(bool) * slot->tts_tupleDescriptor->natts);
		MemoryContextSwitchTo(st->row_cxt);
		if (!st->skip_bad)
			stored = build_ahead_row(st, row, slot->tts_values, slot->tts_isnull,
									 NULL);
		else
		{
			AheadBuild	ab;
			ErrorData  *edata;

			ab.st = st;
			ab.row = row;
			ab.values = slot->tts_values;
			ab.nulls = slot->tts_isnull;
			stored = bedlog_skip_run(build_ahead_row_fn, &ab, st->decoder,
									 oldcxt, &edata);
			if (edata)
			{
				bedlog_note_skipped(st, edata, false);
				FreeErrorData(edata);
				bad = true;
			}
		}
		MemoryContextSwitchTo(oldcxt);
		free_ahead_row(st, row);
		if (bad)
		{
			st->pos.column = NULL;
			MemoryContextReset(st->row_cxt);
			continue;
		}
		if (!stored)
		{
			MemoryContextReset(st->row_cxt);
			st->rows_rejected++;
			continue;
		}
		ExecStoreVirtualTuple(slot);
		return;
	}
}
