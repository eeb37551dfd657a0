/*-------------------------------------------------------------------------
 *
 * discovery.c
 *		Discovery listings reused for discovery_ttl: in this backend's
 *		memory, and in the server's cache_dir when it has one.
 *
 * A table whose location is above AWSLogs/ discovers its accounts and
 * regions with delimiter listings (keyspace.c plans them, listing.c runs
 * them) before it lists any time folder, and a dashboard that sends a
 * dozen short queries every refresh would repeat them every time.  The
 * answer of such a listing (its common prefixes, and how many objects sat
 * at that level) is kept here for discovery_ttl after it was requested;
 * past that it is listed again.  What is kept is S3's answer to one
 * request, not what a table made of it: templates and conditions are
 * applied to it afresh by every scan.
 *
 * In memory, entries are keyed by the foreign server and the user mapping
 * (BedlogOptions' serverid and umid), plus the endpoint, bucket, prefix
 * and the request's parameters (the delimiter), so that one mapping's
 * listing never answers another's.  They are dropped when the server or
 * the user mapping changes: syscache callbacks on FOREIGNSERVEROID and
 * USERMAPPINGOID match the entries' hash values, as postgres_fdw's
 * connection.c does (a hash value of 0 drops everything).  An ALTER of
 * a table's options needs no callback: the location is part of the key,
 * and discovery_ttl is read from the scan's options at every lookup.
 * Each entry is one palloc'd chunk, in a memory context of the entries'
 * own under CacheMemoryContext; they are kept in least-recently-used
 * order, and the oldest dropped beyond DISCOVERY_MAX_ENTRIES entries or
 * DISCOVERY_MAX_BYTES bytes.  Nothing needs freeing at the end of a
 * transaction, and an entry is never handed out: a lookup copies it, so
 * a callback may drop entries at any time.
 *
 * In cache_dir (cache.c), entries are keyed as the cache keys everything:
 * endpoint, bucket, a hash of the access key id (or the server's own
 * identity), and the request; another access key id or endpoint is
 * another entry (an ALTER leaves them).  They carry the time of their
 * listing, so a backend that finds one another backend stored takes it
 * only while it is younger than its own discovery_ttl, and copies it into
 * its memory with that time: an entry never lives longer than
 * discovery_ttl after its listing, wherever it is read from.
 *
 * The cost of reuse: an account or region that appears within
 * discovery_ttl is not seen until the listing expires (doc/cache.md).
 * discovery_ttl 0 turns all of this off.
 *
 * The same memory keeps, for discovery_ttl too, the listings of settled
 * time folders (bedlog_folder_*): a folder whose span ended more than
 * delivery_delay ago, the one kind of listing cache.c keeps in cache_dir,
 * and for the same reason (it no longer changes).  Without cache_dir,
 * this is what spares a dashboard's refresh from listing every hour of
 * its range again for every panel; with cache_dir, it spares reading and
 * verifying the listing's file.  The entry's key names the folder and
 * delivery_delay (a table with a shorter delay must not take a listing
 * that a longer one would not call complete); the entry holds each
 * object's key, size and ETag.  An object listed there that is gone or
 * has changed drops it (bedlog_folder_forget), as it drops cache.c's.
 * cache_listings 'off' keeps folders out of memory as out of cache_dir.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "common/hashfn.h"
#include "lib/ilist.h"
#include "miscadmin.h"
#include "utils/catcache.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "bedlog_fdw.h"

#define DISCOVERY_MAX_ENTRIES	1024	/* entries kept per backend */
#define DISCOVERY_MAX_BYTES		(8 * 1024 * 1024)	/* and their bytes */

/* One discovery listing kept in memory: a single chunk. */
typedef struct DiscoveryEntry
{
	dlist_node	lru;			/* most recently used first */
	Size		size;			/* bytes of the chunk */
	Oid			serverid;		/* the foreign server */
	Oid			umid;			/* the user mapping, or InvalidOid */
	uint32		server_hash;	/* of serverid in FOREIGNSERVEROID */
	uint32		mapping_hash;	/* of umid in USERMAPPINGOID; 0 if none */
	TimestampTz listed_at;		/* when its first page was requested */
	int64		nobjects;		/* objects at that level */
	char	   *key;			/* endpoint, bucket, params, prefix */
	uint32		key_hash;		/* hash_bytes of key, compared first */
	int			nprefixes;
	char	  **prefixes;		/* the common prefixes, in S3's order; for a
								 * folder, its objects' keys */
	bool		folder;			/* a settled folder's listing */
	int64	   *sizes;			/* a folder's: the objects' sizes, else NULL */
	char	  **etags;			/* and their ETags (NULL when none) */
} DiscoveryEntry;

static MemoryContext discovery_cxt = NULL;
static dlist_head discovery_lru = DLIST_STATIC_INIT(discovery_lru);
static int	discovery_entries = 0;
static Size discovery_bytes = 0;

/* Drop an entry. */
static void
entry_drop(DiscoveryEntry *e)
{
	dlist_delete(&e->lru);
	discovery_entries--;
	discovery_bytes -= e->size;
	pfree(e);
}

/*
 * The server or a user mapping changed (or every syscache was reset, with
 * hashvalue 0): drop the entries that used it.  Only memory is freed.
 */
static void
discovery_invalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	dlist_mutable_iter iter;

	dlist_foreach_modify(iter, &discovery_lru)
	{
		DiscoveryEntry *e = dlist_container(DiscoveryEntry, lru, iter.cur);

		if (hashvalue == 0 ||
			(cacheid == FOREIGNSERVEROID && e->server_hash == hashvalue) ||
			(cacheid == USERMAPPINGOID && e->mapping_hash == hashvalue))
			entry_drop(e);
	}
}

/* The memory context of the entries, and the callbacks, once. */
static void
discovery_init(void)
{
	if (discovery_cxt)
		return;
	if (CacheMemoryContext == NULL)
		CreateCacheMemoryContext();
	discovery_cxt = AllocSetContextCreate(CacheMemoryContext,
										  "bedlog_fdw discovery listings",
										  ALLOCSET_DEFAULT_SIZES);
	CacheRegisterSyscacheCallback(FOREIGNSERVEROID, discovery_invalidate, (Datum) 0);
	CacheRegisterSyscacheCallback(USERMAPPINGOID, discovery_invalidate, (Datum) 0);
}

/* The in-memory key of a listing, palloc'd. */
static char *
entry_key(const BedlogOptions *opts, const char *prefix, const char *params)
{
	return psprintf("%s\n%s\n%s\n%s", opts->endpoint, opts->bucket, params, prefix);
}

/* Is a listing made at listed_at still fresh under ttl? */
static bool
fresh(TimestampTz listed_at, int64 ttl)
{
	TimestampTz now = GetCurrentTimestamp();

	/* one from the future (the clock went back) is not trusted */
	return listed_at <= now && now - listed_at < ttl;
}

/* The entry of this scan's server, mapping and key, or NULL. */
static DiscoveryEntry *
entry_find(const BedlogOptions *opts, const char *key)
{
	dlist_iter	iter;
	uint32		h = hash_bytes((const unsigned char *) key, strlen(key));

	dlist_foreach(iter, &discovery_lru)
	{
		DiscoveryEntry *e = dlist_container(DiscoveryEntry, lru, iter.cur);

		if (e->key_hash == h && e->serverid == opts->serverid &&
			e->umid == opts->umid && strcmp(e->key, key) == 0)
			return e;
	}
	return NULL;
}

/*
 * Keep a listing in memory, replacing the one of the same key, and drop
 * the least recently used entries beyond the caps.  A listing larger than
 * the byte cap, or memory that cannot be had, is simply not kept.
 */
static void
entry_store(const BedlogOptions *opts, const char *key, TimestampTz listed_at,
			int64 nobjects, List *prefixes, bool folder, List *objects)
{
	DiscoveryEntry *e;
	Size		size;
	char	   *p;
	int			n = folder ? list_length(objects) : list_length(prefixes);
	int			i;
	ListCell   *lc;
	uint32		server_hash;
	uint32		mapping_hash = 0;

	discovery_init();

	/*
	 * First, as the first use of a syscache may open its catalog and so run
	 * the callbacks, which change the list.
	 */
	server_hash = GetSysCacheHashValue1(FOREIGNSERVEROID,
										ObjectIdGetDatum(opts->serverid));
	if (OidIsValid(opts->umid))
		mapping_hash = GetSysCacheHashValue1(USERMAPPINGOID,
											 ObjectIdGetDatum(opts->umid));

	if ((e = entry_find(opts, key)) != NULL)
		entry_drop(e);

	size = MAXALIGN(sizeof(DiscoveryEntry)) + MAXALIGN(sizeof(char *) * n) +
		strlen(key) + 1;
	if (folder)
	{
		size += MAXALIGN(sizeof(int64) * n) + MAXALIGN(sizeof(char *) * n);
		foreach(lc, objects)
		{
			BedlogObject *obj = (BedlogObject *) lfirst(lc);

			size += strlen(obj->key) + 1 + (obj->etag ? strlen(obj->etag) + 1 : 0);
		}
	}
	else
	{
		foreach(lc, prefixes)
			size += strlen((const char *) lfirst(lc)) + 1;
	}
	if (size > DISCOVERY_MAX_BYTES)
		return;
	while (!dlist_is_empty(&discovery_lru) &&
		   (discovery_entries >= DISCOVERY_MAX_ENTRIES ||
			discovery_bytes + size > DISCOVERY_MAX_BYTES))
		entry_drop(dlist_container(DiscoveryEntry, lru,
								   dlist_tail_node(&discovery_lru)));
	e = MemoryContextAllocExtended(discovery_cxt, size, MCXT_ALLOC_NO_OOM);
	if (e == NULL)
		return;

	memset(e, 0, sizeof(DiscoveryEntry));
	e->size = size;
	e->serverid = opts->serverid;
	e->umid = opts->umid;
	e->server_hash = server_hash;
	e->mapping_hash = mapping_hash;
	e->listed_at = listed_at;
	e->nobjects = nobjects;
	e->nprefixes = n;
	e->prefixes = (char **) ((char *) e + MAXALIGN(sizeof(DiscoveryEntry)));
	p = (char *) e->prefixes + MAXALIGN(sizeof(char *) * n);
	e->folder = folder;
	if (folder)
	{
		e->sizes = (int64 *) p;
		p += MAXALIGN(sizeof(int64) * n);
		e->etags = (char **) p;
		p += MAXALIGN(sizeof(char *) * n);
	}
	e->key = p;
	e->key_hash = hash_bytes((const unsigned char *) key, strlen(key));
	strcpy(p, key);
	p += strlen(key) + 1;
	i = 0;
	if (folder)
	{
		foreach(lc, objects)
		{
			BedlogObject *obj = (BedlogObject *) lfirst(lc);

			e->prefixes[i] = p;
			strcpy(p, obj->key);
			p += strlen(obj->key) + 1;
			e->sizes[i] = obj->size;
			e->etags[i] = NULL;
			if (obj->etag)
			{
				e->etags[i] = p;
				strcpy(p, obj->etag);
				p += strlen(obj->etag) + 1;
			}
			i++;
		}
	}
	else
	{
		foreach(lc, prefixes)
		{
			const char *cp = (const char *) lfirst(lc);

			e->prefixes[i++] = p;
			strcpy(p, cp);
			p += strlen(cp) + 1;
		}
	}
	dlist_push_head(&discovery_lru, &e->lru);
	discovery_entries++;
	discovery_bytes += size;
}

/*
 * The discovery listing of prefix with params (the delimiter request's
 * parameters) for this scan's server and user mapping, if one made less
 * than opts->discovery_ttl ago is kept in memory or in cache (which may
 * be NULL): its common prefixes (a List of char *, copied into the
 * current memory context) and the number of objects at that level.  A
 * listing found in cache is kept in memory too.  Returns false when it
 * must be listed.
 */
bool
bedlog_discovery_lookup(const BedlogOptions *opts, BedlogCache *cache,
						const char *prefix, const char *params,
						List **prefixes, int64 *nobjects)
{
	char	   *key;
	DiscoveryEntry *e;
	TimestampTz listed_at;
	List	   *found;

	if (opts->discovery_ttl <= 0)
		return false;
	discovery_init();
	key = entry_key(opts, prefix, params);
	e = entry_find(opts, key);
	if (e && fresh(e->listed_at, opts->discovery_ttl))
	{
		int			i;

		dlist_move_head(&discovery_lru, &e->lru);
		*prefixes = NIL;
		for (i = 0; i < e->nprefixes; i++)
			*prefixes = lappend(*prefixes, pstrdup(e->prefixes[i]));
		*nobjects = e->nobjects;
		pfree(key);
		return true;
	}
	if (e)
		entry_drop(e);

	/* another backend (or an earlier session) may have listed it lately */
	if (cache &&
		bedlog_cache_discovery_get(cache, prefix, params, &listed_at, nobjects,
								   &found))
	{
		if (fresh(listed_at, opts->discovery_ttl))
		{
			entry_store(opts, key, listed_at, *nobjects, found, false, NIL);
			*prefixes = found;
			pfree(key);
			return true;
		}
		list_free_deep(found);
	}
	pfree(key);
	return false;
}

/*
 * Keep the complete discovery listing of prefix with params, requested
 * at listed_at: in memory, and in cache (which may be NULL).  Nothing is
 * kept when opts->discovery_ttl is 0.
 */
void
bedlog_discovery_store(const BedlogOptions *opts, BedlogCache *cache,
					   const char *prefix, const char *params,
					   TimestampTz listed_at, int64 nobjects, List *prefixes)
{
	char	   *key;

	if (opts->discovery_ttl <= 0)
		return;
	key = entry_key(opts, prefix, params);
	entry_store(opts, key, listed_at, nobjects, prefixes, false, NIL);
	pfree(key);
	if (cache)
		bedlog_cache_discovery_put(cache, prefix, params, listed_at, nobjects,
								   prefixes);
}

/* The in-memory key of the listing of a settled folder, palloc'd. */
static char *
folder_key(const BedlogOptions *opts, const char *prefix)
{
	char	   *params = psprintf("folder delivery_delay=" INT64_FORMAT,
								  opts->delivery_delay);
	char	   *key = entry_key(opts, prefix, params);

	pfree(params);
	return key;
}

/* May settled folders' listings be kept in memory for this scan? */
bool
bedlog_folder_kept(const BedlogOptions *opts)
{
	return opts->discovery_ttl > 0 && opts->cache_listings;
}

/*
 * The complete listing of the settled time folder prefix, if one made
 * less than opts->discovery_ttl ago is kept in memory: its objects (a List
 * of BedlogObject in key order, copied into the current memory context;
 * with objects NULL, only whether it is there).  Returns false when it
 * must be read from cache_dir or listed.  Whether
 * the folder is settled is the caller's to decide (listing.c, as for
 * cache.c's listings).
 */
bool
bedlog_folder_lookup(const BedlogOptions *opts, const char *prefix,
					 List **objects)
{
	char	   *key;
	DiscoveryEntry *e;
	int			i;

	if (!bedlog_folder_kept(opts))
		return false;
	discovery_init();
	key = folder_key(opts, prefix);
	e = entry_find(opts, key);
	pfree(key);
	if (e == NULL)
		return false;
	if (!fresh(e->listed_at, opts->discovery_ttl) || !e->folder)
	{
		entry_drop(e);
		return false;
	}
	if (objects == NULL)
		return true;			/* a probe */
	dlist_move_head(&discovery_lru, &e->lru);
	*objects = NIL;
	for (i = 0; i < e->nprefixes; i++)
	{
		BedlogObject *obj = palloc(sizeof(BedlogObject));

		CHECK_FOR_INTERRUPTS();
		obj->key = pstrdup(e->prefixes[i]);
		obj->size = e->sizes[i];
		obj->etag = e->etags[i] ? pstrdup(e->etags[i]) : NULL;
		*objects = lappend(*objects, obj);
	}
	return true;
}

/*
 * Keep the complete listing of the settled time folder prefix (a List of
 * BedlogObject), listed at listed_at, in memory.
 */
void
bedlog_folder_store(const BedlogOptions *opts, const char *prefix,
					TimestampTz listed_at, List *objects)
{
	char	   *key;

	if (!bedlog_folder_kept(opts))
		return;
	key = folder_key(opts, prefix);
	entry_store(opts, key, listed_at, list_length(objects), NIL, true, objects);
	pfree(key);
}

/*
 * The object key was listed but is gone or has changed: drop the kept
 * listing of its folder, so that the next scan lists it again.
 */
void
bedlog_folder_forget(const BedlogOptions *opts, const char *key)
{
	const char *slash = strrchr(key, '/');
	char	   *prefix;
	char	   *ekey;
	DiscoveryEntry *e;

	if (discovery_cxt == NULL || slash == NULL)
		return;
	prefix = pnstrdup(key, slash - key + 1);
	ekey = folder_key(opts, prefix);
	if ((e = entry_find(opts, ekey)) != NULL)
		entry_drop(e);
	pfree(ekey);
	pfree(prefix);
}
