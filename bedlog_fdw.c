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
 * Memory: the scan has its own context (the S3 client, reader and decoder
 * live there and release their curl, zlib and scanner resources through
 * context callbacks); each listing page has a context reset when the next
 * page comes; each row has a context reset before the next row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "commands/defrem.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "access/parallel.h"
#include "nodes/makefuncs.h"
#include "optimizer/paths.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "port/atomics.h"
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

/* Whether to push conditions into the listing (GUC). */
bool		bedlog_enable_pushdown = true;


/* Planner state, in RelOptInfo.fdw_private. */
typedef struct BedlogPlanState
{
	char	   *location;		/* the table's location option */
	Bitmapset  *attrs_used;		/* columns the query reads */
	double		ntuples;		/* rows estimated before filtering */
	List	   *conds;			/* conditions pushed into the listing */
	List	   *cond_exprs;		/* their values' expressions */
	double		read_fraction;	/* share of the rows pushdown leaves */
} BedlogPlanState;

/*
 * Shared by the participants of a parallel scan.  Every participant runs
 * the same listing (it depends only on the bucket and the conditions, and
 * is the same for all), and takes the objects whose ordinal in it it
 * claims from this counter, so each object is read by exactly one.
 */
typedef struct BedlogParallelState
{
	pg_atomic_uint64 next_ordinal;	/* next object ordinal to claim */
} BedlogParallelState;

/* An object requested ahead of its reading. */
typedef struct BedlogPrefetch
{
	char	   *key;			/* the object */
	BedlogS3Request *req;		/* its GET, in flight */
} BedlogPrefetch;

/* Executor state, in ForeignScanState.fdw_state. */
typedef struct BedlogScanState
{
	char	   *location;		/* for EXPLAIN */
	char	   *key_template_text;	/* the key_template option, for EXPLAIN */
	char	   *delay_text;		/* the delivery_delay option, for EXPLAIN */
	List	   *attnums;		/* columns to decode */
	BedlogOptions opts;			/* resolved options */
	MemoryContext scan_cxt;		/* lives as long as the scan */
	MemoryContext row_cxt;		/* reset per row */
	BedlogS3Client *client;		/* S3 connection(s) */
	BedlogReader *reader;		/* inflate and lines */
	BedlogDecoder *decoder;		/* line to row */
	List	   *conds;			/* pushed-down conditions */
	List	   *cond_states;	/* their expressions, initialised */
	BedlogTemplate *template;	/* key layout */
	int			baselen;		/* where the layout starts in keys */
	int			fixed_segments; /* template segments fixed by location */
	BedlogKeyValues fixed_vals; /* and their values */
	BedlogPrune prune;			/* conditions evaluated for this scan */
	MemoryContext tasks_cxt;	/* listing tasks, reset per rescan */
	bool		listing_started;	/* tasks computed */
	BedlogLister lister;		/* the listing in progress */
	BedlogObjectIndex *index;	/* object index entries, or NULL */
	List	   *window;			/* BedlogPrefetch *: objects requested ahead */
	BedlogParallelState *pstate;	/* in shared memory, parallel scans only */
	uint64		ordinal;		/* objects of the listing walked so far */
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
} BedlogScanState;

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
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("bedlog_fdw");
#else
	EmitWarningsOnPlaceholders("bedlog_fdw");
#endif
	bedlog_s3_global_init();
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

		if (strcmp(def->defname, "location") == 0)
			ps->location = defGetString(def);
	}

	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid,
				   &ps->attrs_used);
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		pull_varattnos((Node *) rinfo->clause, baserel->relid, &ps->attrs_used);
	}

	ps->ntuples = baserel->tuples > 0 ? baserel->tuples : BEDLOG_DEFAULT_ROWS;
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
			 create_foreignscan_path(root, baserel,
									 NULL,	/* default pathtarget */
									 baserel->rows,
									 startup_cost,
									 startup_cost + run_cost,
									 NIL,	/* no pathkeys */
									 baserel->lateral_relids,
									 NULL,	/* no extra plan */
#if PG_VERSION_NUM >= 170000
									 NIL,	/* no fdw_restrictinfo */
#endif
									 NIL));

	/*
	 * A parallel scan: the participants share the objects (see
	 * BedlogParallelState), each decoding its share.
	 */
	if (baserel->consider_parallel && max_parallel_workers_per_gather > 0)
	{
		ForeignPath *ppath;
		int			workers = max_parallel_workers_per_gather;
		double		divisor = workers + (parallel_leader_participation ? 1.0 : 0.0);

		ppath = create_foreignscan_path(root, baserel,
										NULL,
										baserel->rows / divisor,
										startup_cost,
										startup_cost + run_cost / divisor,
										NIL,
										NULL,
										NULL,
#if PG_VERSION_NUM >= 170000
										NIL,
#endif
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
 * Error context while scanning: the object and line being decoded, and
 * the column being converted.
 */
static void
bedlog_error_context(void *arg)
{
	BedlogDecodePosition *pos = (BedlogDecodePosition *) arg;

	if (pos->uri == NULL)
		return;
	if (pos->column && pos->line > 0)
		errcontext("column \"%s\" of S3 object \"%s\", line %lld",
				   pos->column, pos->uri, (long long) pos->line);
	else if (pos->line > 0)
		errcontext("S3 object \"%s\", line %lld", pos->uri, (long long) pos->line);
	else
		errcontext("S3 object \"%s\"", pos->uri);
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
				st->key_template_text = defGetString(def);
			else if (strcmp(def->defname, "delivery_delay") == 0)
				st->delay_text = defGetString(def);
		}
	}
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	st->cond_states = ExecInitExprList(plan->fdw_exprs, (PlanState *) node);

	/* the user whose mapping applies: the view owner's through a view */
#if PG_VERSION_NUM >= 160000
	userid = OidIsValid(plan->checkAsUser) ? plan->checkAsUser : GetUserId();
#else
	{
		RangeTblEntry *rte = exec_rt_fetch(plan->scan.scanrelid, estate);

		userid = OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
	}
#endif

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
	st->client = bedlog_s3_client_create(&st->opts, st->scan_cxt);
	st->reader = bedlog_reader_create(st->client, st->scan_cxt);

	{
		char	   *msg;

		st->template = bedlog_template_parse(st->opts.key_template, &msg);
		if (st->template == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for option \"key_template\": \"%s\"",
							st->opts.key_template),
					 errdetail("%s.", msg)));
	}
	st->skip_bad = st->opts.skip_bad;
	bedlog_layout_base(st->template, st->opts.prefix, &baselen,
					   &st->fixed_segments, &st->fixed_vals);
	st->baselen = baselen;
	MemoryContextSwitchTo(oldcxt);
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
	bedlog_lister_start(&st->lister, st->client, st->template, &st->prune,
						st->baselen, tasks, st->tasks_cxt);
	if (st->prune.has_time || st->prune.text[BEDLOG_PH_MODEL].active ||
		st->prune.text[BEDLOG_PH_OPERATION].active)
		st->index = bedlog_index_load(RelationGetRelid(node->ss.ss_currentRelation),
									  st->opts.bucket, st->tasks_cxt);
	st->listing_started = true;
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Advance to the next log object that can hold matching records, and open
 * it.  Up to max_concurrency objects are requested ahead, so that their
 * transfers overlap with each other and with decoding.  Returns false
 * when there is none left.
 */
static bool
next_object(ForeignScanState *node, BedlogScanState *st)
{
	BedlogPrefetch *head;
	MemoryContext oldcxt;

	/* errors while listing belong to no object */
	if (st->pos.uri)
		pfree((char *) st->pos.uri);
	st->pos.uri = NULL;
	if (!st->listing_started)
		start_listing(node, st);
	oldcxt = MemoryContextSwitchTo(st->tasks_cxt);
	while (!st->listing_done &&
		   list_length(st->window) < Max(st->opts.max_concurrency - 1, 1))
	{
		BedlogObject *obj;
		BedlogPrefetch *p;

		if (st->pstate)
		{
			/* claim the next ordinal, and walk the listing to it */
			uint64		want = pg_atomic_fetch_add_u64(&st->pstate->next_ordinal, 1);

			do
			{
				obj = bedlog_lister_next(&st->lister);
			} while (obj != NULL && st->ordinal++ < want);
		}
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
	st->pos.uri = MemoryContextStrdup(st->tasks_cxt,
									  bedlog_s3_object_uri(&st->opts, head->key));
	st->pos.line = 0;
	st->pos.column = NULL;
	bedlog_reader_open(st->reader, head->key, st->pos.uri, head->req);
	pfree(head);
	st->in_object = true;
	st->objects_read++;
	return true;
}

/* Abandon the objects requested ahead and the listing's own requests. */
static void
drop_window(BedlogScanState *st)
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

/*
 * Return the next row: the next non-blank line of the current object, or
 * of the next object when this one is done.  An empty slot ends the scan.
 */
/*
 * Under on_error 'skip': is the error just caught one that skipping may
 * answer?  object: it came from reading an object (gzip, S3 object
 * errors); else from decoding one record (JSON, UTF-8, conversion).
 * Anything else (cancel, out of memory, a connection failure, a type
 * whose input function is not known to be safe to interrupt) is raised.
 */
static bool
skippable(BedlogScanState *st, ErrorData *edata, bool object)
{
	if (object)
		return edata->sqlerrcode == ERRCODE_DATA_CORRUPTED ||
			edata->sqlerrcode == ERRCODE_FDW_TABLE_NOT_FOUND ||
			edata->sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE ||
			edata->sqlerrcode == ERRCODE_PROGRAM_LIMIT_EXCEEDED ||
			edata->sqlerrcode == ERRCODE_FDW_ERROR;
	return ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_DATA_EXCEPTION &&
		bedlog_decoder_errors_skippable(st->decoder);
}

/* Note a skipped record or object; keep the first few places. */
static void
note_skipped(BedlogScanState *st, ErrorData *edata, bool object)
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
								 psprintf("%s line %lld (%s)", st->pos.uri,
										  (long long) st->pos.line, edata->message));
	MemoryContextSwitchTo(oldcxt);
}

/* At the end of a scan that skipped bad data, one WARNING with counts. */
static void
warn_skipped(BedlogScanState *st)
{
	StringInfoData buf;
	ListCell   *lc;

	if (st->warned || (st->records_bad == 0 && st->objects_bad == 0))
		return;
	st->warned = true;
	initStringInfo(&buf);
	foreach(lc, st->bad_places)
		appendStringInfo(&buf, "%s%s", buf.len ? "; " : "", (char *) lfirst(lc));
	ereport(WARNING,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("skipped %lld bad records and %lld bad objects of S3 location \"%s\"",
					(long long) st->records_bad, (long long) st->objects_bad,
					st->location),
			 errdetail("First: %s.", buf.data)));
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

	errcallback.callback = bedlog_error_context;
	errcallback.arg = &st->pos;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	for (;;)
	{
		const char *line = NULL;
		size_t		len = 0;
		int64		lineno = 0;
		bool		have_line = false;
		bool		stored = false;

		if (!st->in_object)
		{
			if (!next_object(node, st))
			{
				warn_skipped(st);
				break;
			}
		}

		/* the next line; under skip, a broken object is dropped */
		if (!st->skip_bad)
			have_line = bedlog_reader_next_line(st->reader, &line, &len, &lineno);
		else
		{
			PG_TRY();
			{
				have_line = bedlog_reader_next_line(st->reader, &line, &len, &lineno);
			}
			PG_CATCH();
			{
				ErrorData  *edata;

				MemoryContextSwitchTo(oldcxt);
				edata = CopyErrorData();
				if (!skippable(st, edata, true))
					PG_RE_THROW();
				FlushErrorState();
				note_skipped(st, edata, true);
				FreeErrorData(edata);
				have_line = false;
			}
			PG_END_TRY();
		}

		if (have_line)
		{
			st->pos.line = lineno;
			memset(slot->tts_isnull, true,
				   sizeof(bool) * slot->tts_tupleDescriptor->natts);
			MemoryContextSwitchTo(st->row_cxt);
			if (!st->skip_bad)
				stored = bedlog_decode_line(st->decoder, line, len, st->cur_key, lineno,
											&st->pos, slot->tts_values, slot->tts_isnull);
			else
			{
				bool		bad = false;

				PG_TRY();
				{
					stored = bedlog_decode_line(st->decoder, line, len, st->cur_key,
												lineno, &st->pos, slot->tts_values,
												slot->tts_isnull);
				}
				PG_CATCH();
				{
					ErrorData  *edata;

					MemoryContextSwitchTo(oldcxt);
					edata = CopyErrorData();
					if (!skippable(st, edata, false))
						PG_RE_THROW();
					FlushErrorState();
					note_skipped(st, edata, false);
					FreeErrorData(edata);
					bad = true;
				}
				PG_END_TRY();
				if (bad)
				{
					/* never leave a PG_TRY block by continue: only here */
					st->pos.column = NULL;
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
	if (st->client)
		drop_window(st);
	st->in_object = false;
	st->pos.uri = NULL;
	st->cur_key = NULL;
	st->pos.line = 0;
	st->listing_started = false;
	st->listing_done = false;
	st->warned = false;
	st->ordinal = 0;
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
	MemoryContextDelete(st->scan_cxt);
	st->scan_cxt = NULL;
	st->client = NULL;
	st->reader = NULL;
	st->decoder = NULL;
}

/*
 * How each pushed-down condition narrows the scan, for EXPLAIN: a list of
 * palloc'd strings.
 */
static List *
describe_pushdown(BedlogScanState *st)
{
	List	   *result = NIL;
	BedlogTemplate *t;
	char	   *msg;
	ListCell   *lc;

	t = bedlog_template_parse(st->key_template_text ? st->key_template_text :
							  bedlog_default_key_template, &msg);
	foreach(lc, st->conds)
	{
		BedlogCondKind kind;
		int			target;
		Oid			righttype;
		char	   *desc;

		bedlog_pushdown_cond_info(lfirst(lc), &kind, &target, &righttype, &desc);
		if (kind == BEDLOG_COND_TIME)
			result = lappend(result,
							 psprintf("%s: time folders and file names, allowing a delivery delay of %s; object index",
									  desc, st->delay_text ? st->delay_text : "1 hour"));
		else if (t && t->has_placeholder[target])
			result = lappend(result,
							 psprintf("%s: key template level ${%s}, and per record",
									  desc, bedlog_placeholder_name(target)));
		else if (target == BEDLOG_PH_MODEL || target == BEDLOG_PH_OPERATION)
			result = lappend(result,
							 psprintf("%s: object index, and per record before decoding", desc));
		else
			result = lappend(result, psprintf("%s: per record, before decoding", desc));
	}
	return result;
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

	ExplainPropertyText("S3 Location", st->location, es);
	if (st->conds != NIL)
		ExplainPropertyList("S3 Pushdown", describe_pushdown(st), es);
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
		ExplainPropertyInteger("S3 List Requests", NULL, s3->list_requests, es);
		if (s3->retries > 0)
			ExplainPropertyInteger("S3 Retries", NULL, s3->retries, es);
		ExplainPropertyInteger("S3 Objects Listed", NULL, st->lister.objects_listed, es);
		ExplainPropertyInteger("S3 Objects Skipped", NULL, st->lister.objects_skipped, es);
		ExplainPropertyInteger("S3 Objects Pruned", NULL, st->lister.objects_pruned, es);
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

/* Shared memory a parallel scan needs: the ordinal counter. */
static Size
bedlogEstimateDSMForeignScan(ForeignScanState *node, ParallelContext *pcxt)
{
	return sizeof(BedlogParallelState);
}

/* The leader sets up the shared counter. */
static void
bedlogInitializeDSMForeignScan(ForeignScanState *node, ParallelContext *pcxt,
							   void *coordinate)
{
	BedlogScanState *st = (BedlogScanState *) node->fdw_state;
	BedlogParallelState *ps = (BedlogParallelState *) coordinate;

	pg_atomic_init_u64(&ps->next_ordinal, 0);
	st->pstate = ps;
}

/* Before a rescan with new workers, the objects are all unclaimed again. */
static void
bedlogReInitializeDSMForeignScan(ForeignScanState *node, ParallelContext *pcxt,
								 void *coordinate)
{
	BedlogParallelState *ps = (BedlogParallelState *) coordinate;

	pg_atomic_write_u64(&ps->next_ordinal, 0);
}

/* A worker finds the shared counter. */
static void
bedlogInitializeWorkerForeignScan(ForeignScanState *node, shm_toc *toc,
								  void *coordinate)
{
	BedlogScanState *st = (BedlogScanState *) node->fdw_state;

	st->pstate = (BedlogParallelState *) coordinate;
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
	bool		first;
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
	}
	if (!have_location)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("option \"location\" is required for IMPORT FOREIGN SCHEMA bedrock"),
				 errhint("Add OPTIONS (location 's3://bucket/prefix/').")));

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
	for (i = 0; i < bedlog_ncanonical_columns; i++)
		appendStringInfo(&buf, "  %s %s%s\n",
						 quote_identifier(bedlog_canonical_columns[i].name),
						 bedlog_canonical_columns[i].type,
						 i < bedlog_ncanonical_columns - 1 ? "," : "");
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
