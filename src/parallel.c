/*-------------------------------------------------------------------------
 *
 * parallel.c
 *		How the participants of a parallel scan share its objects.
 *
 * Design notes.  The listing is done once, by whichever participant first
 * needs an object (the lister): it lists the whole location, publishing
 * the objects in chunks in the query's DSA area as it goes, so the others
 * start reading as soon as the first chunk is out and S3 sees each listing
 * request once.  Every participant claims the next unclaimed object, so
 * each object is read by exactly one; one that finds none claimed yet but
 * the listing not finished sleeps on the condition variable until the
 * lister publishes more.  When the listing is done, the lister reads
 * objects like the others.  The number of objects is not known when the
 * shared memory is sized, hence the DSA chunks.
 *
 * The shared state lives in the scan's DSM segment (the FDW's DSM
 * callbacks in bedlog_fdw.c call the functions at the end of this file);
 * the chunks live in the query's DSA area until a rescan frees them.
 * scan.c asks for the next object here instead of its own lister when
 * the scan is parallel.
 *
 * Memory grows with the objects listed: every published key and ETag
 * (about 180 bytes an object with Bedrock's keys) stays in DSA until the
 * scan ends or rescans, 18 MB for 100,000 objects, so a parallel scan is
 * bounded by what the pushed-down conditions leave to list.  It is not
 * bounded further on purpose: only the lister's backend holds the listing
 * state, so holding the listing back until the others catch up would
 * leave them idle whenever the lister is busy decoding an object (or, for
 * a leader busy gathering tuples, not listing at all), and a claimed
 * chunk cannot be freed while a participant may still walk it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "optimizer/optimizer.h"
#include "storage/condition_variable.h"
#include "storage/spin.h"
#include "utils/dsa.h"
#include "utils/memutils.h"

#include "bedlog_fdw.h"

/* Shared by the participants of a parallel scan, in the DSM segment. */
struct BedlogParallelState
{
	slock_t		mutex;			/* protects the fields below */
	bool		lister_taken;	/* a participant lists for all */
	bool		listing_done;	/* every object is published */
	uint64		published;		/* objects published */
	uint64		claimed;		/* objects claimed */
	dsa_pointer head;			/* first BedlogSharedChunk */
	int			participants;	/* planned workers + the leader */
	ConditionVariable cv;		/* published grew or the listing ended */
};

/*
 * Objects published by the lister, in listing order.  Entries are packed
 * after the offsets: int64 size, then key and ETag, each NUL-terminated.
 * A chunk is written completely before it is linked and counted, under
 * the mutex, so a reader never sees a partial one.
 */
typedef struct BedlogSharedChunk
{
	dsa_pointer next;			/* the next chunk, or InvalidDsaPointer */
	uint64		first;			/* ordinal of its first object */
	int			n;				/* objects in it */
	Size		offsets[FLEXIBLE_ARRAY_MEMBER]; /* of each entry, from the
												 * chunk's start */
} BedlogSharedChunk;

/* Objects the lister publishes at once: the first few soon, then more. */
#define BEDLOG_SHARED_FIRST_CHUNK	16
#define BEDLOG_SHARED_MAX_CHUNK		1024

/* The lister: list everything, publishing objects chunk by chunk. */
static void
shared_list_all(BedlogScanState *st)
{
	BedlogParallelState *ps = st->pstate;
	dsa_pointer tail = InvalidDsaPointer;
	uint64		listed = 0;
	int			batch = BEDLOG_SHARED_FIRST_CHUNK;
	bool		done = false;

	while (!done)
	{
		List	   *objs = NIL;
		ListCell   *lc;
		Size		size;
		Size		off;
		dsa_pointer dp;
		BedlogSharedChunk *chunk;
		MemoryContext oldcxt = MemoryContextSwitchTo(st->tasks_cxt);

		while (list_length(objs) < batch)
		{
			BedlogObject *obj = bedlog_lister_next(&st->lister);
			BedlogObject *copy;

			if (obj == NULL)
			{
				done = true;
				break;
			}
			/* obj lives only until the next call (its page is freed) */
			copy = palloc(sizeof(BedlogObject));
			copy->key = pstrdup(obj->key);
			copy->size = obj->size;
			copy->etag = obj->etag ? pstrdup(obj->etag) : NULL;
			objs = lappend(objs, copy);
		}
		MemoryContextSwitchTo(oldcxt);

		if (objs != NIL)
		{
			size = MAXALIGN(offsetof(BedlogSharedChunk, offsets) +
							sizeof(Size) * list_length(objs));
			foreach(lc, objs)
			{
				BedlogObject *obj = (BedlogObject *) lfirst(lc);

				size += MAXALIGN(sizeof(int64) + strlen(obj->key) + 1 +
								 strlen(obj->etag ? obj->etag : "") + 1);
			}
			dp = dsa_allocate(st->area, size);
			chunk = (BedlogSharedChunk *) dsa_get_address(st->area, dp);
			chunk->next = InvalidDsaPointer;
			chunk->first = listed;
			chunk->n = list_length(objs);
			off = MAXALIGN(offsetof(BedlogSharedChunk, offsets) +
						   sizeof(Size) * list_length(objs));
			foreach(lc, objs)
			{
				BedlogObject *obj = (BedlogObject *) lfirst(lc);
				char	   *e = (char *) chunk + off;
				const char *etag = obj->etag ? obj->etag : "";
				size_t		klen = strlen(obj->key);

				chunk->offsets[foreach_current_index(lc)] = off;
				memcpy(e, &obj->size, sizeof(int64));
				memcpy(e + sizeof(int64), obj->key, klen + 1);
				memcpy(e + sizeof(int64) + klen + 1, etag, strlen(etag) + 1);
				off += MAXALIGN(sizeof(int64) + klen + 1 + strlen(etag) + 1);
			}
			listed += chunk->n;
		}

		SpinLockAcquire(&ps->mutex);
		if (objs != NIL)
		{
			if (DsaPointerIsValid(tail))
				((BedlogSharedChunk *) dsa_get_address(st->area, tail))->next = dp;
			else
				ps->head = dp;
			ps->published = listed;
		}
		if (done)
			ps->listing_done = true;
		SpinLockRelease(&ps->mutex);
		ConditionVariableBroadcast(&ps->cv);
		if (objs != NIL)
			tail = dp;
		foreach(lc, objs)
		{
			BedlogObject *obj = (BedlogObject *) lfirst(lc);

			pfree(obj->key);
			if (obj->etag)
				pfree(obj->etag);
		}
		list_free_deep(objs);
		batch = Min(batch * 2, BEDLOG_SHARED_MAX_CHUNK);
	}
}

/*
 * Claim the next object of a parallel scan (NULL when there is none left);
 * the first participant to need one lists for all first.
 */
BedlogObject *
bedlog_parallel_next_object(ForeignScanState *node, BedlogScanState *st)
{
	BedlogParallelState *ps = st->pstate;
	BedlogSharedChunk *chunk;
	BedlogObject *obj;
	uint64		ordinal = 0;
	char	   *e;

	if (st->area == NULL)
	{
		st->area = node->ss.ps.state->es_query_dsa;
		if (st->area == NULL)
			elog(ERROR, "parallel foreign scan without a query DSA area");
	}
	for (;;)
	{
		bool		got = false;
		bool		done = false;
		bool		list = false;

		SpinLockAcquire(&ps->mutex);
		if (ps->claimed < ps->published)
		{
			ordinal = ps->claimed++;
			got = true;
		}
		else if (ps->listing_done)
			done = true;
		else if (!ps->lister_taken)
		{
			ps->lister_taken = true;
			list = true;
		}
		SpinLockRelease(&ps->mutex);
		if (got)
			break;
		if (done)
		{
			ConditionVariableCancelSleep();
			return NULL;
		}
		if (list)
		{
			shared_list_all(st);
			continue;
		}
		ConditionVariableSleep(&ps->cv, bedlog_wait_event(BEDLOG_WAIT_PARALLEL));
	}
	ConditionVariableCancelSleep();

	/* find the claimed object, walking on from the last chunk used */
	if (!DsaPointerIsValid(st->cur_chunk))
		st->cur_chunk = ps->head;
	chunk = (BedlogSharedChunk *) dsa_get_address(st->area, st->cur_chunk);
	while (ordinal >= chunk->first + chunk->n)
	{
		st->cur_chunk = chunk->next;
		chunk = (BedlogSharedChunk *) dsa_get_address(st->area, st->cur_chunk);
	}
	/* key and ETag are read in place: the chunks stay until a rescan */
	e = (char *) chunk + chunk->offsets[ordinal - chunk->first];
	obj = &st->shared_obj;
	memcpy(&obj->size, e, sizeof(int64));
	obj->key = e + sizeof(int64);
	obj->etag = obj->key + strlen(obj->key) + 1;
	if (obj->etag[0] == '\0')
		obj->etag = NULL;
	return obj;
}

/* Reset the shared state, freeing the chunks of an earlier scan. */
static void
reset_shared(BedlogParallelState *ps, dsa_area *area)
{
	dsa_pointer dp = ps->head;

	while (area && DsaPointerIsValid(dp))
	{
		dsa_pointer next = ((BedlogSharedChunk *) dsa_get_address(area, dp))->next;

		dsa_free(area, dp);
		dp = next;
	}
	ps->lister_taken = false;
	ps->listing_done = false;
	ps->published = 0;
	ps->claimed = 0;
	ps->head = InvalidDsaPointer;
}

/* Shared memory a parallel scan needs (the objects go to the DSA area). */
Size
bedlog_parallel_estimate(void)
{
	return sizeof(BedlogParallelState);
}

/*
 * The leader sets up the shared state at coordinate, in the DSM segment,
 * and remembers it in the scan's state.
 */
void
bedlog_parallel_initialize(ForeignScanState *node, ParallelContext *pcxt,
						   void *coordinate)
{
	BedlogScanState *st = (BedlogScanState *) node->fdw_state;
	BedlogParallelState *ps = (BedlogParallelState *) coordinate;

	SpinLockInit(&ps->mutex);
	ConditionVariableInit(&ps->cv);
	ps->head = InvalidDsaPointer;
	reset_shared(ps, NULL);
	ps->participants = pcxt->nworkers + (parallel_leader_participation ? 1 : 0);
	st->pstate = ps;
	st->area = node->ss.ps.state->es_query_dsa;
}

/*
 * Before a rescan with new workers: free the chunks, so that the next
 * participant to need an object lists again; nothing is claimed.
 */
void
bedlog_parallel_reinitialize(ForeignScanState *node, ParallelContext *pcxt,
							 void *coordinate)
{
	BedlogScanState *st = (BedlogScanState *) node->fdw_state;
	BedlogParallelState *ps = (BedlogParallelState *) coordinate;

	reset_shared(ps, st->area ? st->area : node->ss.ps.state->es_query_dsa);
	st->cur_chunk = InvalidDsaPointer;
}

/* A worker finds the shared state at coordinate. */
void
bedlog_parallel_attach(ForeignScanState *node, shm_toc *toc, void *coordinate)
{
	BedlogScanState *st = (BedlogScanState *) node->fdw_state;

	st->pstate = (BedlogParallelState *) coordinate;
	st->area = node->ss.ps.state->es_query_dsa;
}

/* The participants planned for a parallel scan: workers and the leader. */
int
bedlog_parallel_participants(const BedlogParallelState *ps)
{
	return ps->participants;
}
