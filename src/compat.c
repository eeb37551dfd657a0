/*-------------------------------------------------------------------------
 *
 * compat.c
 *		  The named wait events of bedlog_fdw
 *
 * PostgreSQL 17 and later let an extension register wait events by name
 * (WaitEventExtensionNew), so that pg_stat_activity shows what a backend
 * waits on: "BedlogS3Transfer" while S3 requests are in flight (and between
 * retries), "BedlogCredentials" during a request for credentials (instance
 * metadata, the container endpoint), "BedlogParallelObjects" while a
 * parallel worker waits for the objects another participant lists.  Each
 * is registered on first use, as postgres_fdw does, and its id kept for the
 * life of the backend.  Before 17 every wait is PG_WAIT_EXTENSION, which
 * pg_stat_activity shows as "Extension".
 *
 * And, on 14 only, what 15's SetSingleFuncCall does for a set-returning
 * function that fills a tuplestore.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/tuplestore.h"
#include "utils/wait_event.h"

#include "bedlog_fdw.h"

/*
 * The wait event id of which: registered the first time a backend asks for
 * it on 17 and later, PG_WAIT_EXTENSION before.
 */
uint32
bedlog_wait_event(BedlogWaitEvent which)
{
#if PG_VERSION_NUM >= 170000
	static uint32 ids[BEDLOG_WAIT_PARALLEL + 1];
	static const char *const names[BEDLOG_WAIT_PARALLEL + 1] = {
		[BEDLOG_WAIT_S3] = "BedlogS3Transfer",
		[BEDLOG_WAIT_CREDENTIALS] = "BedlogCredentials",
		[BEDLOG_WAIT_PARALLEL] = "BedlogParallelObjects",
	};

	Assert(which >= 0 && which <= BEDLOG_WAIT_PARALLEL);
	if (ids[which] == 0)
		ids[which] = WaitEventExtensionNew(names[which]);
	return ids[which];
#else
	(void) which;
	return PG_WAIT_EXTENSION;
#endif
}

#if PG_VERSION_NUM < 150000
/* SetSingleFuncCall(fcinfo, 0) of 15, for 14. */
void
bedlog_init_materialized_srf(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	tupdesc;
	MemoryContext oldcxt;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("materialize mode required, but it is not allowed in this context")));
	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
	MemoryContextSwitchTo(oldcxt);
}
#endif
