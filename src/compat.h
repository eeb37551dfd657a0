/*-------------------------------------------------------------------------
 *
 * compat.h
 *		  What differs between the PostgreSQL majors bedlog_fdw supports
 *
 * bedlog_fdw builds against PostgreSQL 14 to 18.  Every difference of the
 * server's C API between them is bridged here, and only here, by
 * PG_VERSION_NUM branches, as pgvector and postgres_fdw's back branches do:
 * the rest of the code calls the names below and reads as if there were one
 * PostgreSQL.  Include it after postgres.h (src/bedlog_fdw.h does).
 *
 * The wait events are here too: PostgreSQL 17 lets an extension register
 * named ones (WaitEventExtensionNew), which pg_stat_activity then shows as
 * wait_event_type "Extension" and wait_event the name; before 17 every wait
 * reports the one built-in "Extension" event.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BEDLOG_COMPAT_H
#define BEDLOG_COMPAT_H

#if PG_VERSION_NUM < 140000
#error "bedlog_fdw needs PostgreSQL 14 or later"
#endif

#include "commands/explain.h"
#include "fmgr.h"
#include "nodes/nodes.h"
#if PG_VERSION_NUM >= 180000
#include "commands/explain_format.h"
#include "commands/explain_state.h"
#endif
#include "optimizer/pathnode.h"
#include "utils/lsyscache.h"
#include "utils/sampling.h"
#include "utils/wait_event.h"

/*
 * create_foreignscan_path(): 17 added fdw_restrictinfo (after
 * fdw_outerpath), 18 disabled_nodes (after rows).  bedlog_fdw passes none.
 */
#if PG_VERSION_NUM >= 180000
#define bedlog_create_foreignscan_path(root, rel, target, rows, startup, total, \
									   pathkeys, outer, outerpath, priv) \
	create_foreignscan_path((root), (rel), (target), (rows), 0, (startup), (total), \
							(pathkeys), (outer), (outerpath), NIL, (priv))
#elif PG_VERSION_NUM >= 170000
#define bedlog_create_foreignscan_path(root, rel, target, rows, startup, total, \
									   pathkeys, outer, outerpath, priv) \
	create_foreignscan_path((root), (rel), (target), (rows), (startup), (total), \
							(pathkeys), (outer), (outerpath), NIL, (priv))
#else
#define bedlog_create_foreignscan_path(root, rel, target, rows, startup, total, \
									   pathkeys, outer, outerpath, priv) \
	create_foreignscan_path((root), (rel), (target), (rows), (startup), (total), \
							(pathkeys), (outer), (outerpath), (priv))
#endif

/*
 * The user whose mapping a scan uses: 16 moved checkAsUser from the range
 * table entry to the ForeignScan plan node.
 */
#if PG_VERSION_NUM >= 160000
#define bedlog_scan_check_as_user(plan, estate) ((plan)->checkAsUser)
#else
#define bedlog_scan_check_as_user(plan, estate) \
	(exec_rt_fetch((plan)->scan.scanrelid, (estate))->checkAsUser)
#endif

/* The index interpretations of an operator: 18 generalised btree's. */
#if PG_VERSION_NUM >= 180000
typedef OpIndexInterpretation BedlogOpInterpretation;
#define bedlog_op_interpretations(opno) get_op_index_interpretation(opno)
#define bedlog_op_strategy(interp) ((int) (interp)->cmptype)	/* COMPARE_LT == BTLessStrategyNumber ... */
#else
typedef OpBtreeInterpretation BedlogOpInterpretation;
#define bedlog_op_interpretations(opno) get_op_btree_interpretation(opno)
#define bedlog_op_strategy(interp) ((int) (interp)->strategy)
#endif

/* ANALYZE's random state: a struct since 15, a pointer before. */
#if PG_VERSION_NUM >= 150000
#define bedlog_sampler_random_fract(rs) sampler_random_fract(&(rs).randstate)
#else
#define bedlog_sampler_random_fract(rs) sampler_random_fract((rs).randstate)
#endif

/* 18 tells vacuum_delay_point() whether ANALYZE calls it. */
#if PG_VERSION_NUM >= 180000
#define bedlog_analyze_delay_point() vacuum_delay_point(true)
#else
#define bedlog_analyze_delay_point() vacuum_delay_point()
#endif

/* 17 gave wait event sets a resource owner instead of a memory context. */
#if PG_VERSION_NUM >= 170000
#define bedlog_create_wait_event_set(nevents) CreateWaitEventSet(NULL, (nevents))
#else
#define bedlog_create_wait_event_set(nevents) \
	CreateWaitEventSet(CurrentMemoryContext, (nevents))
#endif

/*
 * A set-returning function that fills a tuplestore: 15 added
 * SetSingleFuncCall, which 16 renamed InitMaterializedSRF; on 14 compat.c
 * does what they do.
 */
#if PG_VERSION_NUM >= 160000
#include "funcapi.h"
#define bedlog_init_materialized_srf(fcinfo) InitMaterializedSRF((fcinfo), 0)
#elif PG_VERSION_NUM >= 150000
#include "funcapi.h"
#define bedlog_init_materialized_srf(fcinfo) SetSingleFuncCall((fcinfo), 0)
#else
extern void bedlog_init_materialized_srf(FunctionCallInfo fcinfo);
#endif

/*
 * Soft errors.  16 lets a caller pass an ErrorSaveContext (escontext) to
 * code that would raise a data error, which then records the error there
 * and returns instead (errsave, ereturn, InputFunctionCallSafe); file_fdw's
 * on_error is built on it.  bedlog_fdw's decoder and object reader report
 * bad data the same way, so that on_error 'skip' never catches an ERROR.
 * Before 16 there is no such context: errsave and ereturn raise, the Safe
 * input calls are the plain ones, and the skip paths catch the error
 * instead (BEDLOG_SOFT_ERRORS 0; each such catch says why it is safe).
 */
#if PG_VERSION_NUM >= 160000
#include "nodes/miscnodes.h"
#define BEDLOG_SOFT_ERRORS 1
#define BEDLOG_ESCONTEXT_INIT {T_ErrorSaveContext, false, true, NULL}
#else
#define BEDLOG_SOFT_ERRORS 0
typedef struct ErrorSaveContext
{
	NodeTag		type;
	bool		error_occurred; /* never set before 16 */
	bool		details_wanted;
	ErrorData  *error_data;
} ErrorSaveContext;
#define BEDLOG_ESCONTEXT_INIT {T_Invalid, false, true, NULL}
#define errsave(context, ...) ereport(ERROR, __VA_ARGS__)
#define ereturn(context, dummy_value, ...) \
	do { ereport(ERROR, __VA_ARGS__); return dummy_value; } while (0)
#define SOFT_ERROR_OCCURRED(escontext) ((void) (escontext), false)

static inline bool
InputFunctionCallSafe(FmgrInfo *flinfo, char *str, Oid typioparam,
					  int32 typmod, Node *escontext, Datum *result)
{
	*result = InputFunctionCall(flinfo, str, typioparam, typmod);
	return true;
}

static inline bool
DirectInputFunctionCallSafe(PGFunction func, char *str, Oid typioparam,
							int32 typmod, Node *escontext, Datum *result)
{
	*result = DirectFunctionCall3(func, CStringGetDatum(str),
								  ObjectIdGetDatum(typioparam),
								  Int32GetDatum(typmod));
	return true;
}
#endif

/*
 * Report edata, an error saved by a soft-error call: save it in escontext
 * when that is an ErrorSaveContext (which then owns edata), else raise it
 * (with the error context of the caller).
 */
static inline void
bedlog_errsave_data(Node *escontext, ErrorData *edata)
{
#if BEDLOG_SOFT_ERRORS
	if (escontext != NULL && IsA(escontext, ErrorSaveContext))
	{
		ErrorSaveContext *es = (ErrorSaveContext *) escontext;

		es->error_occurred = true;
		if (es->details_wanted && es->error_data == NULL)
			es->error_data = edata;
		else
			FreeErrorData(edata);
		return;
	}
#endif
	ThrowErrorData(edata);
}

/*
 * Forget the error an escontext holds, so that it can serve the next
 * record.
 */
static inline void
bedlog_escontext_reset(ErrorSaveContext *escontext)
{
	if (escontext->error_data)
		FreeErrorData(escontext->error_data);
	escontext->error_data = NULL;
	escontext->error_occurred = false;
}

/* 15 renamed the check of a custom GUC prefix. */
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/*
 * 17 added infinite intervals: interval_in accepts 'infinity' and
 * '-infinity', whose fields hold the extreme values (summing them
 * overflows), so interval options refuse them first.
 */
#if PG_VERSION_NUM >= 170000
#define bedlog_interval_not_finite(iv) INTERVAL_NOT_FINITE(iv)
#else
#define bedlog_interval_not_finite(iv) false
#endif

/*
 * The wait events bedlog_fdw reports (see compat.c): S3 transfers, and
 * requests for credentials (instance metadata, container endpoint).
 */
typedef enum BedlogWaitEvent
{
	BEDLOG_WAIT_S3,				/* "BedlogS3Transfer" */
	BEDLOG_WAIT_CREDENTIALS,	/* "BedlogCredentials" */
	BEDLOG_WAIT_PARALLEL		/* "BedlogParallelObjects" */
} BedlogWaitEvent;

extern uint32 bedlog_wait_event(BedlogWaitEvent which);

#endif							/* BEDLOG_COMPAT_H */
