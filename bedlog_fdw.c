/*-------------------------------------------------------------------------
 *
 * bedlog_fdw.c
 *		Foreign data wrapper for the model invocation logs that AWS Bedrock
 *		writes to S3: the FDW callbacks, EXPLAIN and IMPORT FOREIGN SCHEMA.
 *
 * Design notes.  A scan lists its location page by page (ListObjectsV2,
 * up to 1,000 keys a page), keeps only Bedrock log files, and streams each
 * object through the reader (inflate, lines) and the decoder (one row per
 * line).  At any time it holds one listing page and one record, so memory
 * stays bounded whatever the size of the location or of an object.
 *
 * The planner passes the executor only what is safe to print: the
 * location and the column numbers the query needs (fdw_private, indexed
 * by FdwScanPrivateIndex).  Credentials are read from the user mapping
 * when the scan begins, never carried in a plan.
 *
 * This file holds the callbacks, as postgres_fdw.c does, and the work is
 * done below them: scan.c moves a scan from object to object (and passes
 * over bad data under on_error 'skip'), parallel.c shares the objects
 * among the participants of a parallel scan, readahead.c reads rows ahead
 * when a query reads bodies that Bedrock offloaded to large-data objects,
 * so that the GETs of those objects overlap, and analyze.c samples rows
 * for ANALYZE.  pushdown.c says which conditions narrow the listing, at
 * planning, and how, for EXPLAIN.
 *
 * Memory: the scan has its own context (the S3 client, reader and decoder
 * live there and release their curl, zlib and scanner resources through
 * context callbacks); each listing page has a context reset when the next
 * page comes; each row has a context reset before the next row (a large
 * body is read into it); rows read ahead live in a context of their own.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "commands/defrem.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/paths.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "src/bedlog_fdw.h"

PG_MODULE_MAGIC;

/* Rows assumed for a table never analyzed. */
#define BEDLOG_DEFAULT_ROWS		100000.0
/* Planner cost of one listing request, in seq_page_cost units. */
#define BEDLOG_STARTUP_COST		1000.0
/* CPU to inflate and decode one record, in cpu_tuple_cost units. */
#define BEDLOG_DECODE_COST		20.0

/* Order of the items of ForeignScan.fdw_private. */
enum FdwScanPrivateIndex
{
	FdwScanPrivateLocation,		/* location option, as a String */
	FdwScanPrivateAttnums,		/* IntList of the attnums to decode */
	FdwScanPrivateConds			/* pushed-down conditions (pushdown.c); their
								 * expressions are the plan's fdw_exprs */
};

/* Planner state, in RelOptInfo.fdw_private. */
typedef struct BedlogPlanState
{
	char	   *location;		/* the table's location option */
	Bitmapset  *attrs_used;		/* columns the query reads */
	double		ntuples;		/* rows estimated before filtering */
	List	   *conds;			/* conditions pushed into the listing */
	List	   *cond_exprs;		/* their values' expressions */
	double		read_fraction;	/* share of the rows pushdown leaves */
	bool		cw;				/* a CloudWatch Logs table (log_group) */
} BedlogPlanState;

PG_FUNCTION_INFO_V1(bedlog_fdw_handler);

void		_PG_init(void);

static void bedlogGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
									Oid foreigntableid);
static void bedlogGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
								  Oid foreigntableid);
static ForeignScan *bedlogGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
										 Oid foreigntableid, ForeignPath *best_path,
										 List *tlist, List *scan_clauses,
										 Plan *outer_plan);
static void bedlogBeginForeignScan(ForeignScanState *node, int eflags);
static TupleTableSlot *bedlogIterateForeignScan(ForeignScanState *node);
static void bedlogReScanForeignScan(ForeignScanState *node);
static void bedlogEndForeignScan(ForeignScanState *node);
static void bedlogExplainForeignScan(ForeignScanState *node, ExplainState *es);
static List *bedlogImportForeignSchema(ImportForeignSchemaStmt *stmt,
									   Oid serverOid);
static bool bedlogIsForeignScanParallelSafe(PlannerInfo *root, RelOptInfo *rel,
											RangeTblEntry *rte);
static Size bedlogEstimateDSMForeignScan(ForeignScanState *node,
										 ParallelContext *pcxt);
static void bedlogInitializeDSMForeignScan(ForeignScanState *node,
										   ParallelContext *pcxt,
										   void *coordinate);
static void bedlogReInitializeDSMForeignScan(ForeignScanState *node,
											 ParallelContext *pcxt,
											 void *coordinate);
static void bedlogInitializeWorkerForeignScan(ForeignScanState *node,
											  shm_toc *toc,
											  void *coordinate);
static bool bedlogAnalyzeForeignTable(Relation relation,
									  AcquireSampleRowsFunc *func,
									  BlockNumber *totalpages);

/* Module load: initialise libcurl before any other curl call. */
void
_PG_init(void)
{
	DefineCustomBoolVariable("bedlog_fdw.enable_pushdown",
							 "Narrows S3 listings and reads by the conditions of a query.",
							 "Off: every scan lists and reads its whole location "
							 "(the results are the same, only slower).",
							 &bedlog_enable_pushdown,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	MarkGUCPrefixReserved("bedlog_fdw");
	bedlog_http_global_init();
}

/* The FDW handler: tell PostgreSQL which callbacks bedlog_fdw provides. */
Datum
bedlog_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	routine->GetForeignRelSize = bedlogGetForeignRelSize;
	routine->GetForeignPaths = bedlogGetForeignPaths;
	routine->GetForeignPlan = bedlogGetForeignPlan;
	routine->BeginForeignScan = bedlogBeginForeignScan;
	routine->IterateForeignScan = bedlogIterateForeignScan;
	routine->ReScanForeignScan = bedlogReScanForeignScan;
	routine->EndForeignScan = bedlogEndForeignScan;
	routine->ExplainForeignScan = bedlogExplainForeignScan;
	routine->ImportForeignSchema = bedlogImportForeignSchema;
	routine->IsForeignScanParallelSafe = bedlogIsForeignScanParallelSafe;
	routine->EstimateDSMForeignScan = bedlogEstimateDSMForeignScan;
	routine->InitializeDSMForeignScan = bedlogInitializeDSMForeignScan;
	routine->ReInitializeDSMForeignScan = bedlogReInitializeDSMForeignScan;
	routine->InitializeWorkerForeignScan = bedlogInitializeWorkerForeignScan;
	routine->AnalyzeForeignTable = bedlogAnalyzeForeignTable;

	PG_RETURN_POINTER(routine);
}

/*
 * Estimate the relation's size: rows from ANALYZE when there are any,
 * else a default, times the selectivity of the restrictions.  Also note
 * the columns the query reads, for the decoder.
 */
static void
bedlogGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
						Oid foreigntableid)
{
	BedlogPlanState *ps = palloc0(sizeof(BedlogPlanState));
	ForeignTable *table = GetForeignTable(foreigntableid);
	ListCell   *lc;

	foreach(lc, table->options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "location") == 0 ||
			strcmp(def->defname, "log_group") == 0)
			ps->location = defGetString(def);
	}
	ps->cw = bedlog_is_cw_table(foreigntableid);

	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid,
				   &ps->attrs_used);
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		pull_varattnos((Node *) rinfo->clause, baserel->relid, &ps->attrs_used);
	}

	/* ANALYZE stores one page (bedlogAnalyzeForeignTable) */
	ps->ntuples = baserel->pages > 0 ? baserel->tuples : BEDLOG_DEFAULT_ROWS;
	baserel->rows = clamp_row_est(ps->ntuples *
								  clauselist_selectivity(root,
														 baserel->baserestrictinfo,
														 0, JOIN_INNER, NULL));

	/* what can narrow the listing; the scan reads only that share */
	{
		List	   *rinfos;

		ps->conds = bedlog_pushdown_classify(root, baserel, foreigntableid,
											 &ps->cond_exprs, &rinfos);
		ps->read_fraction = rinfos ?
			clauselist_selectivity(root, rinfos, 0, JOIN_INNER, NULL) : 1.0;
	}
	baserel->fdw_private = ps;
}

/* Offer the one way to scan: list, fetch and decode everything. */
static void
bedlogGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
					  Oid foreigntableid)
{
	BedlogPlanState *ps = (BedlogPlanState *) baserel->fdw_private;
	Cost		startup_cost = BEDLOG_STARTUP_COST * seq_page_cost;
	Cost		run_cost;

	run_cost = ps->ntuples * ps->read_fraction * cpu_tuple_cost * BEDLOG_DECODE_COST;
	add_path(baserel, (Path *)
			 bedlog_create_foreignscan_path(root, baserel,
											NULL,	/* default pathtarget */
											baserel->rows,
											startup_cost,
											startup_cost + run_cost,
											NIL,	/* no pathkeys */
											baserel->lateral_relids,
											NULL,	/* no extra plan */
											NIL));

	/*
	 * A parallel scan: the participants share the objects (see
	 * BedlogParallelState), each decoding its share.
	 */
	if (baserel->consider_parallel && max_parallel_workers_per_gather > 0 &&
		!ps->cw)
	{
		ForeignPath *ppath;
		int			workers = max_parallel_workers_per_gather;
		double		divisor = workers + (parallel_leader_participation ? 1.0 : 0.0);

		ppath = bedlog_create_foreignscan_path(root, baserel,
											   NULL,
											   baserel->rows / divisor,
											   startup_cost,
											   startup_cost + run_cost / divisor,
											   NIL,
											   NULL,
											   NULL,
											   NIL);
		ppath->path.parallel_aware = true;
		ppath->path.parallel_safe = true;
		ppath->path.parallel_workers = workers;
		add_partial_path(baserel, (Path *) ppath);
	}
}

/*
 * Build the ForeignScan.  Every restriction is checked locally; the plan
 * carries the location and the columns to decode.
 */
static ForeignScan *
bedlogGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
					 Oid foreigntableid, ForeignPath *best_path,
					 List *tlist, List *scan_clauses, Plan *outer_plan)
{
	BedlogPlanState *ps = (BedlogPlanState *) baserel->fdw_private;
	Relation	rel = table_open(foreigntableid, AccessShareLock);
	TupleDesc	tupdesc = RelationGetDescr(rel);
	bool		wholerow = bms_is_member(0 - FirstLowInvalidHeapAttributeNumber,
										 ps->attrs_used);
	List	   *attnums = NIL;
	int			i;

	for (i = 1; i <= tupdesc->natts; i++)
	{
		if (TupleDescAttr(tupdesc, i - 1)->attisdropped)
			continue;
		if (wholerow ||
			bms_is_member(i - FirstLowInvalidHeapAttributeNumber, ps->attrs_used))
			attnums = lappend_int(attnums, i);
	}
	table_close(rel, AccessShareLock);

	scan_clauses = extract_actual_clauses(scan_clauses, false);
	return make_foreignscan(tlist, scan_clauses, baserel->relid,
							ps->cond_exprs, /* values of pushed conditions */
							list_make3(makeString(ps->location), attnums, ps->conds),
							NIL,	/* no custom tlist */
							NIL,	/* no remote quals */
							outer_plan);
}

/*
 * Set up a scan: resolve options (credentials included, from the user
 * mapping), and create the S3 client, reader and decoder in the scan's
 * memory context.  Nothing is sent to S3 until the first row is asked for.
 */
static void
bedlogBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	BedlogScanState *st = palloc0(sizeof(BedlogScanState));
	Oid			userid;
	MemoryContext oldcxt;
	int			baselen;
	char	   *key_template = NULL;

	node->fdw_state = st;
	st->location = strVal(list_nth(plan->fdw_private, FdwScanPrivateLocation));
	st->attnums = (List *) list_nth(plan->fdw_private, FdwScanPrivateAttnums);
	st->conds = (List *) list_nth(plan->fdw_private, FdwScanPrivateConds);
	{
		ForeignTable *table = GetForeignTable(RelationGetRelid(node->ss.ss_currentRelation));
		ListCell   *lc;

		foreach(lc, table->options)
		{
			DefElem    *def = (DefElem *) lfirst(lc);

			if (strcmp(def->defname, "key_template") == 0)
				key_template = defGetString(def);
			else if (strcmp(def->defname, "delivery_delay") == 0)
				st->delay_text = defGetString(def);
			else if (strcmp(def->defname, "shard") == 0)
				st->shard_text = defGetString(def);
		}
	}
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
	{
		/*
		 * A CloudWatch Logs table's EXPLAIN shows the request the conditions
		 * make: their expressions are evaluated there (cwscan.c).
		 */
		if (bedlog_is_cw_table(RelationGetRelid(node->ss.ss_currentRelation)))
		{
			st->cond_states = ExecInitExprList(plan->fdw_exprs, (PlanState *) node);
			return;
		}
		/*
		 * Only the key template, for EXPLAIN to tell how conditions narrow
		 * the scan; one that does not parse (an old one the rules now
		 * refuse) has no levels to show.
		 */
		if (st->conds != NIL)
		{
			char	   *msg;

			st->template = bedlog_template_parse(key_template ? key_template :
												 bedlog_default_key_template,
												 &msg);
		}
		return;
	}
	st->cond_states = ExecInitExprList(plan->fdw_exprs, (PlanState *) node);

	/* the user whose mapping applies: the view owner's through a view */
	userid = bedlog_scan_check_as_user(plan, estate);
	if (!OidIsValid(userid))
		userid = GetUserId();

	st->scan_cxt = AllocSetContextCreate(estate->es_query_cxt,
										 "bedlog_fdw scan",
										 ALLOCSET_DEFAULT_SIZES);
	st->row_cxt = AllocSetContextCreate(st->scan_cxt,
										"bedlog_fdw row",
										ALLOCSET_DEFAULT_SIZES);
	st->tasks_cxt = AllocSetContextCreate(st->scan_cxt,
										  "bedlog_fdw listing tasks",
										  ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(st->scan_cxt);
	bedlog_get_options(RelationGetRelid(node->ss.ss_currentRelation), userid,
					   &st->opts);
	st->decoder = bedlog_decoder_create(node->ss.ss_currentRelation,
										st->attnums, st->scan_cxt);
	bedlog_decoder_set_shards(st->decoder, st->opts.shard_count);
	st->client = bedlog_s3_client_create(&st->opts, st->scan_cxt);
	st->reader = bedlog_reader_create(st->client, st->scan_cxt);
	if (st->opts.log_group)
	{
		/* a CloudWatch Logs table: pages of events (cwscan.c) */
		st->cw = bedlog_cw_client_create(&st->opts, st->scan_cxt);
		st->cw_page_cxt = AllocSetContextCreate(st->scan_cxt,
												"bedlog_fdw CloudWatch page",
												ALLOCSET_DEFAULT_SIZES);
	}
	if (st->opts.resolve_bodies)
		st->bodies = bedlog_decoder_bodies(st->decoder);
	if (st->bodies)
	{
		st->ahead_cxt = AllocSetContextCreate(st->scan_cxt,
											  "bedlog_fdw rows read ahead",
											  ALLOCSET_DEFAULT_SIZES);
		st->body_reader = bedlog_reader_create(st->client, st->scan_cxt);
	}

	st->template = bedlog_template_from_option(st->opts.key_template);
	st->skip_bad = st->opts.skip_bad;
	bedlog_layout_base(st->template, st->opts.prefix, &baselen,
					   &st->fixed_segments, &st->fixed_vals);
	st->baselen = baselen;
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Return the next row: the next non-blank line of the current object, or
 * of the next object when this one is done.  An empty slot ends the scan.
 * Under on_error 'skip', a bad record or object is counted and passed
 * over; the scan ends with one WARNING.
 */
static TupleTableSlot *
bedlogIterateForeignScan(ForeignScanState *node)
{
	BedlogScanState *st = (BedlogScanState *) node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	ErrorContextCallback errcallback;
	MemoryContext oldcxt = CurrentMemoryContext;

	ExecClearTuple(slot);
	MemoryContextReset(st->row_cxt);

	errcallback.callback = bedlog_scan_error_context;
	errcallback.arg = &st->pos;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	if (st->bodies)
	{
		bedlog_readahead_next_row(node, st, slot);
		error_context_stack = errcallback.previous;
		return slot;
	}

	for (;;)
	{
		const char *line = NULL;
		size_t		len = 0;
		int64		lineno = 0;
		bool		have_line = false;
		bool		stored = false;

		if (!st->in_object)
		{
			if (!bedlog_scan_next_object(node, st))
			{
				bedlog_warn_skipped(st);
				break;
			}
		}

		/*
		 * The next line; under skip, a broken object is dropped.  An error
		 * while reading belongs to the object, not to the line before.
		 */
		st->pos.line = 0;
		if (st->cw)
			have_line = bedlog_cwscan_next_line(st, &line, &len, &lineno);
		else if (!st->skip_bad)
			have_line = bedlog_reader_next_line(st->reader, &line, &len, &lineno);
		else
		{
			ErrorData  *edata;

			have_line = bedlog_skip_next_line(st->reader, st->decoder, &line,
											  &len, &lineno, oldcxt, &edata);
			if (edata)
			{
				bedlog_note_skipped(st, edata, true);
				FreeErrorData(edata);
			}
		}

		if (have_line)
		{
			st->pos.line = lineno;
			memset(slot->tts_isnull, true,
				   sizeof(bool) * slot->tts_tupleDescriptor->natts);
			MemoryContextSwitchTo(st->row_cxt);
			if (!st->skip_bad)
				stored = bedlog_decode_line(st->decoder, line, len, st->cur_key, lineno,
											&st->pos, slot->tts_values, slot->tts_isnull,
											NULL);
			else
			{
				ErrorData  *edata;

				stored = bedlog_skip_decode_line(st->decoder, line, len, st->cur_key,
												 lineno, &st->pos, slot->tts_values,
												 slot->tts_isnull, oldcxt, &edata);
				if (edata)
				{
					MemoryContextSwitchTo(oldcxt);
					bedlog_note_skipped(st, edata, false);
					FreeErrorData(edata);
					MemoryContextReset(st->row_cxt);
					continue;
				}
			}
			MemoryContextSwitchTo(oldcxt);
			if (!stored)
			{
				MemoryContextReset(st->row_cxt);
				st->rows_rejected++;
				continue;
			}
			ExecStoreVirtualTuple(slot);
			break;
		}
		st->bytes_inflated += bedlog_reader_stats(st->reader)->bytes_out;
		bedlog_reader_close(st->reader);
		st->in_object = false;
		st->pos.line = 0;
	}

	error_context_stack = errcallback.previous;
	return slot;
}

/* Start the scan over: abandon the current object and list again. */
static void
bedlogReScanForeignScan(ForeignScanState *node)
{
	BedlogScanState *st = (BedlogScanState *) node->fdw_state;

	if (st->reader && st->in_object)
	{
		st->bytes_inflated += bedlog_reader_stats(st->reader)->bytes_out;
		bedlog_reader_close(st->reader);
	}
	if (st->bodies)
		bedlog_readahead_drop(st);
	if (st->client)
		bedlog_scan_drop_window(st);
	if (st->cw)
		bedlog_cwscan_rescan(st);
	st->in_object = false;
	st->pos.uri = NULL;
	st->cur_key = NULL;
	st->pos.line = 0;
	st->listing_started = false;
	st->listing_done = false;
	st->warned = false;
	st->cur_chunk = InvalidDsaPointer;
	st->bodies_warned = false;
	st->index = NULL;
	memset(&st->lister, 0, sizeof(st->lister));
	if (st->tasks_cxt)
	{
		bedlog_decoder_set_filter(st->decoder, NULL);
		MemoryContextReset(st->tasks_cxt);
	}
}

/*
 * End the scan: free the scan's memory, which releases every curl, zlib
 * and scanner resource.  (EXPLAIN ANALYZE has read the counters before.)
 */
static void
bedlogEndForeignScan(ForeignScanState *node)
{
	BedlogScanState *st = (BedlogScanState *) node->fdw_state;

	if (st == NULL || st->scan_cxt == NULL)
		return;
	/* a scan stopped early (LIMIT) has not warned yet */
	bedlog_warn_skipped(st);
	bedlog_readahead_warn(st);
	MemoryContextDelete(st->scan_cxt);
	st->scan_cxt = NULL;
	st->client = NULL;
	st->reader = NULL;
	st->decoder = NULL;
}

/*
 * EXPLAIN: always the location, and how conditions narrow the scan; with
 * ANALYZE, what the scan did, and with VERBOSE too, its first listings.
 * No credential, header or signed URL is ever shown.
 */
static void
bedlogExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	BedlogScanState *st = (BedlogScanState *) node->fdw_state;

	if (bedlog_is_cw_table(RelationGetRelid(node->ss.ss_currentRelation)))
	{
		bedlog_cwscan_explain(node, st, es);
		return;
	}
	ExplainPropertyText("S3 Location", st->location, es);
	if (st->shard_text)
		ExplainPropertyText("S3 Shard", st->shard_text, es);
	if (st->conds != NIL)
		ExplainPropertyList("S3 Pushdown",
							bedlog_pushdown_describe(st->conds, st->template,
													 st->delay_text),
							es);
	if (es->analyze && st->scan_cxt)
	{
		const BedlogS3Stats *s3 = bedlog_s3_stats(st->client);
		int64		inflated = st->bytes_inflated;

		if (st->in_object)
			inflated += bedlog_reader_stats(st->reader)->bytes_out;
		if (st->prune.empty)
			ExplainPropertyText("S3 Listings", "none: the conditions match nothing", es);
		else
			ExplainPropertyText("S3 Listings",
								psprintf("%lld whole, %lld time folder, %lld time range, %lld discovery",
										 (long long) st->lister.ntasks[BEDLOG_LIST_ALL],
										 (long long) st->lister.ntasks[BEDLOG_LIST_FOLDER],
										 (long long) st->lister.ntasks[BEDLOG_LIST_RANGE],
										 (long long) st->lister.ntasks[BEDLOG_LIST_DISCOVER]),
								es);
		if (es->verbose && st->lister.task_names != NIL)
			ExplainPropertyList("S3 Listing Prefixes", st->lister.task_names, es);
		if (st->lister.ntasks[BEDLOG_LIST_DISCOVER] > 0 &&
			st->opts.discovery_ttl > 0)
			ExplainPropertyInteger("Discovery Cache Hits", NULL,
								   st->lister.discovery_hits, es);
		if (st->lister.folder_memory_hits > 0)
			ExplainPropertyInteger("Folder Listings from Memory", NULL,
								   st->lister.folder_memory_hits, es);
		ExplainPropertyInteger("S3 List Requests", NULL, s3->list_requests, es);
		if (s3->retries > 0)
			ExplainPropertyInteger("S3 Retries", NULL, s3->retries, es);
		if (es->verbose)
			ExplainPropertyInteger("S3 Connections Opened", NULL, s3->connections, es);
		ExplainPropertyInteger("S3 Objects Listed", NULL, st->lister.objects_listed, es);
		ExplainPropertyInteger("S3 Objects Skipped", NULL, st->lister.objects_skipped, es);
		ExplainPropertyInteger("S3 Objects Pruned", NULL, st->lister.objects_pruned, es);
		if (st->opts.shard_count > 1)
			ExplainPropertyInteger("S3 Objects of Other Shards", NULL,
								   st->lister.objects_other_shards, es);
		if (st->index)
			ExplainPropertyInteger("S3 Objects Skipped by Index", NULL,
								   st->objects_indexed_out, es);
		ExplainPropertyInteger("S3 Objects Read", NULL, st->objects_read, es);
		ExplainPropertyInteger("S3 Bytes Read", "bytes", s3->bytes_received, es);
		ExplainPropertyInteger("Bytes Inflated", "bytes", inflated, es);
		ExplainPropertyInteger("Records Rejected Early", NULL, st->rows_rejected, es);
		if (bedlog_s3_cache(st->client))
		{
			const BedlogCacheStats *cs = bedlog_cache_stats(bedlog_s3_cache(st->client));

			ExplainPropertyInteger("Cache Hits", NULL, cs->hits, es);
			ExplainPropertyInteger("Cache Misses", NULL, cs->misses, es);
			ExplainPropertyInteger("Cache Bytes Read", "bytes", cs->bytes_read, es);
			ExplainPropertyInteger("Cache Listing Hits", NULL, cs->listing_hits, es);
			ExplainPropertyInteger("Cache Entries Stored", NULL, cs->stored, es);
			if (cs->discarded > 0)
				ExplainPropertyInteger("Cache Entries Discarded", NULL, cs->discarded, es);
			if (cs->evicted > 0)
				ExplainPropertyInteger("Cache Entries Evicted", NULL, cs->evicted, es);
		}
		if (st->skip_bad)
		{
			ExplainPropertyInteger("Bad Records Skipped", NULL, st->records_bad, es);
			ExplainPropertyInteger("Bad Objects Skipped", NULL, st->objects_bad, es);
		}
		if (st->bodies)
		{
			ExplainPropertyInteger("Large Bodies Fetched", NULL, st->bodies_fetched, es);
			ExplainPropertyInteger("Large Bodies Missing", NULL, st->bodies_missing, es);
		}
	}
}

/*
 * A scan may run inside a parallel worker: it needs nothing of the
 * leader's but the plan, and reads S3 on its own connections.
 */
static bool
bedlogIsForeignScanParallelSafe(PlannerInfo *root, RelOptInfo *rel,
								RangeTblEntry *rte)
{
	return true;
}

/* Shared memory a parallel scan needs (the objects go to the DSA area). */
static Size
bedlogEstimateDSMForeignScan(ForeignScanState *node, ParallelContext *pcxt)
{
	return bedlog_parallel_estimate();
}

/* The leader sets up the shared state. */
static void
bedlogInitializeDSMForeignScan(ForeignScanState *node, ParallelContext *pcxt,
							   void *coordinate)
{
	bedlog_parallel_initialize(node, pcxt, coordinate);
}

/* Before a rescan with new workers, list again; nothing is claimed. */
static void
bedlogReInitializeDSMForeignScan(ForeignScanState *node, ParallelContext *pcxt,
								 void *coordinate)
{
	bedlog_parallel_reinitialize(node, pcxt, coordinate);
}

/* A worker finds the shared state. */
static void
bedlogInitializeWorkerForeignScan(ForeignScanState *node, shm_toc *toc,
								  void *coordinate)
{
	bedlog_parallel_attach(node, toc, coordinate);
}

/*
 * IMPORT FOREIGN SCHEMA bedrock: create model_invocations with every
 * canonical column, honouring LIMIT TO and EXCEPT.  The statement's
 * options become the table's options; location is required.
 */
static List *
bedlogImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	ForeignServer *server = GetForeignServer(serverOid);
	const char *table = "model_invocations";
	StringInfoData buf;
	ListCell   *lc;
	bool		have_location = false;
	bool		have_log_group = false;
	bool		first;
	int			ncols = 0;
	int			i;

	if (strcmp(stmt->remote_schema, "bedrock") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_SCHEMA_NOT_FOUND),
				 errmsg("remote schema \"%s\" does not exist", stmt->remote_schema),
				 errhint("bedlog_fdw offers one schema, \"bedrock\".")));

	foreach(lc, stmt->options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "location") == 0)
			have_location = true;
		else if (strcmp(def->defname, "log_group") == 0)
			have_log_group = true;
	}
	if (!have_location && !have_log_group)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("option \"location\" is required for IMPORT FOREIGN SCHEMA bedrock"),
				 errhint("Add OPTIONS (location 's3://bucket/prefix/'), or OPTIONS (log_group 'name') for a CloudWatch Logs group.")));

	/* LIMIT TO / EXCEPT name tables; there is one */
	if (stmt->list_type != FDW_IMPORT_SCHEMA_ALL)
	{
		bool		listed = false;

		foreach(lc, stmt->table_list)
		{
			RangeVar   *rv = (RangeVar *) lfirst(lc);

			if (strcmp(rv->relname, table) == 0)
				listed = true;
		}
		if ((stmt->list_type == FDW_IMPORT_SCHEMA_LIMIT_TO) != listed)
			return NIL;
	}

	initStringInfo(&buf);
	appendStringInfo(&buf, "CREATE FOREIGN TABLE %s (\n", quote_identifier(table));
	/* a CloudWatch table's virtual columns stand for s3_key and s3_line */
	for (i = 0; i < bedlog_ncanonical_columns; i++)
	{
		if (have_log_group && bedlog_canonical_columns[i].source != BEDLOG_SRC_JSON)
			continue;
		appendStringInfo(&buf, "%s  %s %s", ncols++ > 0 ? ",\n" : "",
						 quote_identifier(bedlog_canonical_columns[i].name),
						 bedlog_canonical_columns[i].type);
	}
	for (i = 0; have_log_group && i < bedlog_ncw_virtual_columns; i++)
		appendStringInfo(&buf, ",\n  %s %s",
						 quote_identifier(bedlog_cw_virtual_columns[i].name),
						 bedlog_cw_virtual_columns[i].type);
	appendStringInfoChar(&buf, '\n');
	appendStringInfo(&buf, ") SERVER %s OPTIONS (", quote_identifier(server->servername));
	first = true;
	foreach(lc, stmt->options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		appendStringInfo(&buf, "%s%s %s", first ? "" : ", ",
						 quote_identifier(def->defname),
						 quote_literal_cstr(defGetString(def)));
		first = false;
	}
	appendStringInfoString(&buf, ")");
	return list_make1(buf.data);
}

/*
 * ANALYZE a bedlog_fdw table: sample with bedlog_acquire_sample_rows
 * (analyze.c).  The relation's size in pages is not known before the
 * listing; 1 is stored, which also tells the planner that the table has
 * been analyzed.
 */
static bool
bedlogAnalyzeForeignTable(Relation relation, AcquireSampleRowsFunc *func,
						  BlockNumber *totalpages)
{
	/* ANALYZE samples objects; a CloudWatch Logs table has none */
	if (bedlog_is_cw_table(RelationGetRelid(relation)))
		return false;
	*func = bedlog_acquire_sample_rows;
	*totalpages = 1;
	return true;
}
