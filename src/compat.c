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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

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
