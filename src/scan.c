/*-------------------------------------------------------------------------
 *
 * scan.c
 *		The objects a scan reads, one after the other, and the bad data it
 *		passes over.
 *
 * Design notes.  A scan's executor state (BedlogScanState, bedlog_fdw.h)
 * is set up by bedlogBeginForeignScan; this file moves it from object to
 * object.  The listing tasks are computed when the first object is asked
 * for, from the pushed-down conditions evaluated then.  Up to
 * max_concurrency objects are requested ahead of the one being read, so
 * that their transfers overlap with each other and with decoding; in a
 * parallel scan the objects are claimed from the participants' shared
 * listing (parallel.c) instead of the scan's own lister.
 *
 * Under on_error 'skip' a bad record or object is counted and passed
 * over: the functions here tell which caught errors skipping may answer,
 * keep the first few places, and give the one WARNING of the scan.  The
 * error context callback, which names the object, line and column being
 * decoded, serves scans and ANALYZE alike.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "bedlog_fdw.h"

/* An object requested ahead of its reading. */
typedef struct BedlogPrefetch
{
	char	   *key;			/* the object */
	BedlogS3Request *req;		/* its GET, in flight */
} BedlogPrefetch;

/*
 * Error context while scanning: the object and line being decoded, and
 * the column being converted.
 */
void
bedlog_scan_error_context(void *arg)
{
	BedlogDecodePosition *pos = (BedlogDecodePosition *) arg;

	if (pos->uri == NULL)
		return;
	if (pos->event_id && pos->column)
		errcontext("column \"%s\" of CloudWatch Logs event %s of log group \"%s\"",
				   pos->column, pos->event_id, pos->uri);
	else if (pos->event_id)
		errcontext("CloudWatch Logs event %s of log group \"%s\"",
				   pos->event_id, pos->uri);
	else if (pos->column && pos->line > 0)
		errcontext("column \"%s\" of S3 object \"%s\", line %lld",
				   pos->column, pos->uri, (long long) pos->line);
	else if (pos->line > 0)
		errcontext("S3 object \"%s\", line %lld", pos->uri, (long long) pos->line);
	else
		errcontext("S3 object \"%s\"", pos->uri);
}

/*
 * Compute the listing tasks of this scan from the pushed-down conditions,
 * evaluated now (they may hold parameters and stable functions), and
 * load the object index when it can help.
 */
static void
start_listing(ForeignScanState *node, BedlogScanState *st)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(st->tasks_cxt);
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	List	   *tasks;

	bedlog_pushdown_evaluate(st->conds, st->cond_states, econtext,
							 st->opts.delivery_delay, &st->prune);
	bedlog_decoder_set_filter(st->decoder, &st->prune);
	tasks = bedlog_keyspace_first_tasks(st->template, &st->prune, st->fixed_segments,
										&st->fixed_vals, st->opts.prefix);
	bedlog_lister_start(&st->lister, st->client, &st->opts, st->template,
						&st->prune, st->baselen, tasks, st->tasks_cxt);
	if (st->prune.has_time || st->prune.text[BEDLOG_PH_MODEL].active ||
		st->prune.text[BEDLOG_PH_OPERATION].active)
		st->index = bedlog_index_load(RelationGetRelid(node->ss.ss_currentRelation),
									  st->opts.bucket, st->tasks_cxt);
	st->listing_started = true;
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Objects requested ahead of the one being read.  In a parallel scan the
 * participants share max_concurrency, so that the objects claimed but not
 * yet read, which no other participant can take over, stay few.
 */
static int
window_size(BedlogScanState *st)
{
	int			n = st->opts.max_concurrency;

	if (st->pstate)
		n = n / Max(bedlog_parallel_participants(st->pstate), 1);
	return Max(n - 1, 1);
}

/*
 * Advance to the next log object that can hold matching records, and open
 * it.  Up to max_concurrency objects are requested ahead, so that their
 * transfers overlap with each other and with decoding.  Returns false
 * when there is none left.
 */
bool
bedlog_scan_next_object(ForeignScanState *node, BedlogScanState *st)
{
	BedlogPrefetch *head;
	MemoryContext oldcxt;

	/* a CloudWatch Logs table reads pages of events, not objects */
	if (st->cw)
		return bedlog_cwscan_next_page(node, st);

	/* errors while listing belong to no object */
	if (st->pos.uri)
		pfree((char *) st->pos.uri);
	st->pos.uri = NULL;
	if (!st->listing_started)
		start_listing(node, st);
	oldcxt = MemoryContextSwitchTo(st->tasks_cxt);
	while (!st->listing_done &&
		   list_length(st->window) < window_size(st))
	{
		BedlogObject *obj;
		BedlogPrefetch *p;

		if (st->pstate)
			obj = bedlog_parallel_next_object(node, st);
		else
			obj = bedlog_lister_next(&st->lister);
		if (obj == NULL)
		{
			st->listing_done = true;
			break;
		}
		if (st->index && bedlog_index_rules_out(st->index, obj, &st->prune))
		{
			st->objects_indexed_out++;
			continue;
		}
		p = palloc(sizeof(BedlogPrefetch));
		p->key = pstrdup(obj->key);
		p->req = bedlog_s3_get(st->client, obj->key, obj->etag);
		st->window = lappend(st->window, p);
	}
	MemoryContextSwitchTo(oldcxt);
	if (st->window == NIL)
		return false;

	head = (BedlogPrefetch *) linitial(st->window);
	st->window = list_delete_first(st->window);
	if (st->cur_key)
		pfree(st->cur_key);
	st->cur_key = head->key;

	/*
	 * Made in the scan's context and freed at the next object: the
	 * caller's per-tuple context is not reset while objects whose records
	 * the filters all reject pass by.
	 */
	oldcxt = MemoryContextSwitchTo(st->tasks_cxt);
	st->pos.uri = bedlog_s3_object_uri(&st->opts, head->key);
	MemoryContextSwitchTo(oldcxt);
	st->pos.line = 0;
	st->pos.column = NULL;
	bedlog_reader_open(st->reader, head->key, st->pos.uri, head->req);
	pfree(head);
	st->in_object = true;
	st->objects_read++;
	return true;
}

/* Abandon the objects requested ahead and the listing's own requests. */
void
bedlog_scan_drop_window(BedlogScanState *st)
{
	ListCell   *lc;

	foreach(lc, st->window)
	{
		BedlogPrefetch *p = (BedlogPrefetch *) lfirst(lc);

		bedlog_s3_release(st->client, p->req);
	}
	st->window = NIL;
	bedlog_lister_stop(&st->lister);
}

/* Note a skipped record or object; keep the first few places. */
void
bedlog_note_skipped(BedlogScanState *st, ErrorData *edata, bool object)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(st->scan_cxt);

	if (object)
		st->objects_bad++;
	else
		st->records_bad++;
	if (list_length(st->bad_places) < 3)
		st->bad_places = lappend(st->bad_places,
								 object ?
								 psprintf("%s (%s)", st->pos.uri, edata->message) :
								 st->pos.event_id ?
								 psprintf("event %s (%s)", st->pos.event_id, edata->message) :
								 psprintf("%s line %lld (%s)", st->pos.uri,
										  (long long) st->pos.line, edata->message));
	MemoryContextSwitchTo(oldcxt);
}

/* The strings of a list, joined with sep between them (palloc'd). */
char *
bedlog_join_strings(List *strings, const char *sep)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, strings)
		appendStringInfo(&buf, "%s%s", buf.len ? sep : "", (char *) lfirst(lc));
	return buf.data;
}

/* At the end of a scan that skipped bad data, one WARNING with counts. */
void
bedlog_warn_skipped(BedlogScanState *st)
{
	char	   *places;

	if (st->warned || (st->records_bad == 0 && st->objects_bad == 0))
		return;
	st->warned = true;
	places = bedlog_join_strings(st->bad_places, "; ");
	ereport(WARNING,
			(errcode(ERRCODE_DATA_EXCEPTION),
	/* a CloudWatch Logs scan has events, no objects: its records only */
			 st->cw ?
			 errmsg_plural("skipped %lld bad record of CloudWatch Logs group \"%s\"",
						   "skipped %lld bad records of CloudWatch Logs group \"%s\"",
						   (unsigned long) st->records_bad,
						   (long long) st->records_bad, st->location) :
			 st->objects_bad == 0 ?
			 errmsg_plural("skipped %lld bad record of S3 location \"%s\"",
						   "skipped %lld bad records of S3 location \"%s\"",
						   (unsigned long) st->records_bad,
						   (long long) st->records_bad, st->location) :
			 st->records_bad == 0 ?
			 errmsg_plural("skipped %lld bad object of S3 location \"%s\"",
						   "skipped %lld bad objects of S3 location \"%s\"",
						   (unsigned long) st->objects_bad,
						   (long long) st->objects_bad, st->location) :
			 st->objects_bad == 1 ?
			 errmsg_plural("skipped %lld bad record and %lld bad object of S3 location \"%s\"",
						   "skipped %lld bad records and %lld bad object of S3 location \"%s\"",
						   (unsigned long) st->records_bad,
						   (long long) st->records_bad,
						   (long long) st->objects_bad, st->location) :
			 errmsg_plural("skipped %lld bad record and %lld bad objects of S3 location \"%s\"",
						   "skipped %lld bad records and %lld bad objects of S3 location \"%s\"",
						   (unsigned long) st->records_bad,
						   (long long) st->records_bad,
						   (long long) st->objects_bad, st->location),
			 errdetail("First: %s.", places)));
}
