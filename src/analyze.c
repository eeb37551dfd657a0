/*-------------------------------------------------------------------------
 *
 * analyze.c
 *		The sample of rows that ANALYZE of a bedlog_fdw table reads.
 *
 * Design notes.  The sample comes from a bounded number of objects spread
 * evenly over the whole listing: keys sort by account, region and then
 * time, so evenly spaced objects come from every account and region and
 * from the whole time range, not from its first hours.  Each chosen object
 * is read in full and its rows go through the reservoir sampling that
 * PostgreSQL's own acquire functions use.  The listing gives the size of
 * every object, so the total row count is extrapolated from the bytes
 * read to the bytes listed.
 *
 * The listing is walked once, keeping every stride-th object in an array
 * of at most twice the objects wanted; when the array fills, every other
 * entry is dropped and the stride doubles.  Memory stays bounded whatever
 * the size of the location, and the kept objects stay evenly spaced.
 *
 * bedlogAnalyzeForeignTable (bedlog_fdw.c) hands bedlog_acquire_sample_rows
 * to ANALYZE.  It reads with the same client, reader and decoder as a
 * scan, and takes the error context and the on_error 'skip' test from
 * scan.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/sampling.h"

#include "bedlog_fdw.h"

/* ANALYZE reads one object per this many sample rows wanted. */
#define BEDLOG_ANALYZE_ROWS_PER_OBJECT	100

/* A listed object that ANALYZE may read. */
typedef struct AnalyzeCandidate
{
	char	   *key;
	char	   *etag;
	int64		size;
} AnalyzeCandidate;

/* Evenly spaced objects of a listing (see above). */
typedef struct AnalyzePicker
{
	AnalyzeCandidate *items;	/* every stride-th object listed */
	int			nitems;
	int			maxitems;		/* twice the objects wanted */
	int64		stride;
	int64		nlisted;		/* log objects listed */
	int64		bytes_listed;	/* their sizes, added up */
} AnalyzePicker;

/* Note one listed object; keep it if it falls on the stride. */
static void
picker_add(AnalyzePicker *p, const BedlogObject *obj)
{
	if (p->nlisted++ % p->stride == 0)
	{
		AnalyzeCandidate *c = &p->items[p->nitems++];

		c->key = pstrdup(obj->key);
		c->etag = obj->etag ? pstrdup(obj->etag) : NULL;
		c->size = obj->size;
		if (p->nitems == p->maxitems)
		{
			int			i;

			for (i = 0; i < p->nitems; i++)
			{
				if (i % 2 == 0)
					p->items[i / 2] = p->items[i];
				else
				{
					pfree(p->items[i].key);
					if (p->items[i].etag)
						pfree(p->items[i].etag);
				}
			}
			p->nitems /= 2;
			p->stride *= 2;
		}
	}
	p->bytes_listed += obj->size;
}

/* An ANALYZE in progress: what reads, decodes, and the reservoir. */
typedef struct AnalyzeState
{
	Relation	rel;
	BedlogReader *reader;
	BedlogDecoder *decoder;
	bool		skip_bad;
	MemoryContext outer;		/* where sample rows are formed */
	MemoryContext row_cxt;		/* reset per row */
	Datum	   *values;
	bool	   *nulls;
	HeapTuple  *rows;
	int			targrows;
	int			numrows;		/* rows in the sample */
	double		rows_seen;		/* rows of the objects read */
	double		rowstoskip;		/* reservoir: rows to pass over */
	ReservoirStateData rstate;
	int64		records_bad;	/* skipped records */
	BedlogDecodePosition pos;
} AnalyzeState;

/* Put a decoded row into the sample (file_fdw's reservoir sampling). */
static void
analyze_keep_row(AnalyzeState *as)
{
	TupleDesc	tupdesc = RelationGetDescr(as->rel);
	MemoryContext oldcxt = MemoryContextSwitchTo(as->outer);

	if (as->numrows < as->targrows)
		as->rows[as->numrows++] = heap_form_tuple(tupdesc, as->values, as->nulls);
	else
	{
		/*
		 * The first targrows rows fill the reservoir; from then on each row
		 * replaces a random one with the probability Vitter's algorithm
		 * gives, computed as a number of rows to pass over.
		 */
		if (as->rowstoskip < 0)
			as->rowstoskip = reservoir_get_next_S(&as->rstate, as->rows_seen,
												  as->targrows);
		if (as->rowstoskip <= 0)
		{
			int			k = (int) (as->targrows * bedlog_sampler_random_fract(as->rstate));

			Assert(k >= 0 && k < as->targrows);
			heap_freetuple(as->rows[k]);
			as->rows[k] = heap_form_tuple(tupdesc, as->values, as->nulls);
		}
		as->rowstoskip -= 1;
	}
	as->rows_seen += 1;
	MemoryContextSwitchTo(oldcxt);
}

/* Decode one line into values/nulls; false if it was skipped as bad. */
static bool
analyze_decode(AnalyzeState *as, const char *line, size_t len,
			   const char *key, int64 lineno)
{
	TupleDesc	tupdesc = RelationGetDescr(as->rel);
	MemoryContext oldcxt = MemoryContextSwitchTo(as->row_cxt);
	bool		ok = true;

	memset(as->nulls, true, sizeof(bool) * tupdesc->natts);
	as->pos.line = lineno;
	if (!as->skip_bad)
		(void) bedlog_decode_line(as->decoder, line, len, key, lineno, &as->pos,
								  as->values, as->nulls, NULL);
	else
	{
		ErrorData  *edata;

		(void) bedlog_skip_decode_line(as->decoder, line, len, key, lineno,
									   &as->pos, as->values, as->nulls,
									   as->outer, &edata);
		if (edata)
		{
			FreeErrorData(edata);
			as->records_bad++;
			ok = false;
		}
	}
	as->pos.column = NULL;
	MemoryContextSwitchTo(oldcxt);
	return ok;
}

/*
 * Read the object that req fetches, every line into the reservoir.
 * Returns false if it was skipped as bad (on_error 'skip').
 */
static bool
analyze_object(AnalyzeState *as, const char *key, const char *uri,
			   BedlogS3Request *req)
{
	const char *line;
	size_t		len;
	int64		lineno;
	bool		ok = true;

	as->pos.uri = uri;
	as->pos.line = 0;
	bedlog_reader_open(as->reader, key, uri, req);
	for (;;)
	{
		bool		have_line = false;

		bedlog_analyze_delay_point();
		MemoryContextReset(as->row_cxt);
		if (!as->skip_bad)
			have_line = bedlog_reader_next_line(as->reader, &line, &len, &lineno);
		else
		{
			ErrorData  *edata;

			have_line = bedlog_skip_next_line(as->reader, as->decoder, &line,
											  &len, &lineno, as->outer, &edata);
			if (edata)
			{
				FreeErrorData(edata);
				ok = false;
			}
		}
		if (!have_line)
			break;
		if (analyze_decode(as, line, len, key, lineno))
			analyze_keep_row(as);
	}
	bedlog_reader_close(as->reader);
	as->pos.line = 0;
	return ok;
}

/*
 * The AcquireSampleRowsFunc: list the location, choose objects spread over
 * it (one per BEDLOG_ANALYZE_ROWS_PER_OBJECT rows wanted), read them
 * max_concurrency at a time, and sample their rows.  *totalrows is
 * extrapolated from sizes; there are no dead rows.
 */
int
bedlog_acquire_sample_rows(Relation relation, int elevel, HeapTuple *rows,
						   int targrows, double *totalrows,
						   double *totaldeadrows)
{
	Oid			relid = RelationGetRelid(relation);
	TupleDesc	tupdesc = RelationGetDescr(relation);
	MemoryContext cxt;
	MemoryContext oldcxt;
	AnalyzeState as;
	AnalyzePicker picker;
	BedlogOptions opts;
	BedlogPrune prune;
	BedlogS3Client *client;
	BedlogLister lister;
	BedlogObject *obj;
	AnalyzeCandidate *chosen;
	BedlogS3Request **reqs;
	ErrorContextCallback errcallback;
	List	   *attnums = NIL;
	int			want;
	int			nchosen;
	int			nrequested = 0;
	int			nread = 0;
	int			objects_bad = 0;
	int64		bytes_read = 0;
	int			i;

	memset(&as, 0, sizeof(as));
	as.rel = relation;
	as.outer = CurrentMemoryContext;
	as.rows = rows;
	as.targrows = targrows;
	as.rowstoskip = -1;
	reservoir_init_selection_state(&as.rstate, targrows);

	cxt = AllocSetContextCreate(CurrentMemoryContext, "bedlog_fdw analyze",
								ALLOCSET_DEFAULT_SIZES);
	as.row_cxt = AllocSetContextCreate(cxt, "bedlog_fdw analyze row",
									   ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);

	bedlog_get_options(relid, GetUserId(), &opts);
	as.skip_bad = opts.skip_bad;
	for (i = 1; i <= tupdesc->natts; i++)
	{
		if (!TupleDescAttr(tupdesc, i - 1)->attisdropped)
			attnums = lappend_int(attnums, i);
	}
	as.decoder = bedlog_decoder_create(relation, attnums, cxt);
	bedlog_decoder_set_shards(as.decoder, opts.shard_count);
	as.values = palloc0(sizeof(Datum) * Max(tupdesc->natts, 1));
	as.nulls = palloc0(sizeof(bool) * Max(tupdesc->natts, 1));
	client = bedlog_s3_client_create(&opts, cxt);
	as.reader = bedlog_reader_create(client, cxt);

	errcallback.callback = bedlog_scan_error_context;
	errcallback.arg = &as.pos;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	/* the whole listing, keeping evenly spaced objects */
	want = Max(targrows / BEDLOG_ANALYZE_ROWS_PER_OBJECT, 1);
	memset(&picker, 0, sizeof(picker));
	picker.maxitems = 2 * want;
	picker.items = palloc(sizeof(AnalyzeCandidate) * picker.maxitems);
	picker.stride = 1;
	bedlog_lister_start_all(&lister, client, &opts, &prune, cxt);
	while ((obj = bedlog_lister_next(&lister)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		picker_add(&picker, obj);
	}

	/* want of them, evenly spaced */
	nchosen = Min(picker.nitems, want);
	chosen = palloc(sizeof(AnalyzeCandidate) * Max(nchosen, 1));
	for (i = 0; i < nchosen; i++)
		chosen[i] = picker.items[(int) (((double) i + 0.5) * picker.nitems / nchosen)];

	/* read them, with up to max_concurrency requests in flight */
	reqs = palloc0(sizeof(BedlogS3Request *) * Max(nchosen, 1));
	for (i = 0; i < nchosen; i++)
	{
		char	   *uri;
		bool		ok;

		while (nrequested < nchosen &&
			   nrequested - i < Max(opts.max_concurrency, 1))
		{
			reqs[nrequested] = bedlog_s3_get(client, chosen[nrequested].key,
											 chosen[nrequested].etag);
			nrequested++;
		}
		uri = bedlog_s3_object_uri(&opts, chosen[i].key);
		ok = analyze_object(&as, chosen[i].key, uri, reqs[i]);
		pfree(uri);
		if (ok)
		{
			nread++;
			bytes_read += chosen[i].size;
		}
		else
			objects_bad++;
		reqs[i] = NULL;
	}
	error_context_stack = errcallback.previous;

	/* every object read: the count is exact; else extrapolate by size */
	if (nread == picker.nlisted)
		*totalrows = as.rows_seen;
	else if (bytes_read > 0)
		*totalrows = floor(as.rows_seen * ((double) picker.bytes_listed / bytes_read) + 0.5);
	else
		*totalrows = 0;
	*totaldeadrows = 0;

	ereport(elevel,
			(errmsg("\"%s\": read %d of %lld S3 objects (%lld of %lld bytes) holding %.0f rows; "
					"%d rows in sample, %.0f estimated total rows",
					RelationGetRelationName(relation), nread,
					(long long) picker.nlisted, (long long) bytes_read,
					(long long) picker.bytes_listed, as.rows_seen,
					as.numrows, *totalrows)));
	if (as.records_bad > 0 || objects_bad > 0)
		ereport(WARNING,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("skipped %lld bad records and %d bad objects of S3 location \"%s\" while analyzing",
						(long long) as.records_bad, objects_bad, opts.location)));

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);
	return as.numrows;
}
