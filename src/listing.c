/*-------------------------------------------------------------------------
 *
 * listing.c
 *		From ListObjectsV2 answers to the log objects of a location.
 *
 * S3's XML answers are parsed with libxml2, which PostgreSQL itself links,
 * never by hand, in s3xml.c, which is independent of PostgreSQL so that it
 * can be fuzzed; this file turns its listing pages into palloc'd data and
 * their statuses into errors (s3_client.c reads the error bodies).  Keys
 * are asked for with encoding-type=url (a key may hold characters XML 1.0
 * cannot carry) and decoded there when the answer says it encoded them.
 *
 * What a listed key is (a log file or not) is decided in keyspace.c.
 *
 * With a cache (option cache_dir), the listing of a time folder that
 * ended more than delivery_delay ago no longer changes: it is listed once
 * in full (whatever part of it the task needs), stored in the cache, and
 * served from there afterwards without a request.
 *
 * A discovery listing (the accounts or regions below a prefix, with a
 * delimiter) is kept by discovery.c for discovery_ttl, in memory and in
 * the cache: within that time the next scan takes its common prefixes
 * from there, without a request, and expands them as if S3 had sent them.
 *
 * A listing served from the cache, and the objects a scan passes over
 * (not log files, or pruned), take no request: the loops over tasks,
 * pages and objects check for interrupts themselves rather than count on
 * the S3 client's waits to answer cancel.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "bedlog_fdw.h"
#include "s3xml.h"

/*
 * The parameters of a discovery request besides its prefix: part of what
 * identifies its answer in discovery.c.
 */
#define DISCOVER_PARAMS		"list-type=2&encoding-type=url&delimiter=/"

/*
 * Parse one ListObjectsV2 page into *page (palloc'd members, in the current
 * memory context).  Raises if the answer is not a well-formed
 * ListBucketResult, has an entry without a key, or is truncated without a
 * continuation token.
 */
void
bedlog_parse_list_page(const char *xml, size_t len, BedlogListPage *page)
{
	S3XmlListPage xp;
	S3XmlStatus st;

	memset(page, 0, sizeof(*page));
	st = s3xml_parse_list(xml, len, &xp);
	PG_TRY();
	{
		int			i;

		switch (st)
		{
			case S3XML_OK:
				break;
			case S3XML_MALFORMED:
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
						 errmsg("S3 answered a listing with malformed XML")));
				break;
			case S3XML_WRONG_ROOT:
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
						 errmsg("S3 answered a listing with an unexpected XML document"),
						 errdetail("The root element is \"%s\", not \"ListBucketResult\".",
								   xp.root_name)));
				break;
			case S3XML_NO_KEY:
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
						 errmsg("S3 answered a listing with an entry without a key")));
				break;
			case S3XML_NO_TOKEN:
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
						 errmsg("S3 answered a truncated listing without a continuation token")));
				break;
			case S3XML_NOMEM:
				ereport(ERROR,
						(errcode(ERRCODE_OUT_OF_MEMORY),
						 errmsg("out of memory"),
						 errdetail("Failed while parsing a listing page.")));
				break;
		}
		for (i = 0; i < xp.nobjects; i++)
		{
			BedlogObject *obj;

			CHECK_FOR_INTERRUPTS();
			obj = palloc0(sizeof(BedlogObject));
			obj->key = pstrdup(xp.objects[i].key);
			obj->size = xp.objects[i].size;
			obj->etag = xp.objects[i].etag ? pstrdup(xp.objects[i].etag) : NULL;
			page->objects = lappend(page->objects, obj);
		}
		for (i = 0; i < xp.nprefixes; i++)
			page->common_prefixes = lappend(page->common_prefixes,
											pstrdup(xp.prefixes[i]));
		page->truncated = xp.truncated;
		page->next_token = xp.next_token ? pstrdup(xp.next_token) : NULL;
	}
	PG_FINALLY();
	{
		s3xml_list_free(&xp);
	}
	PG_END_TRY();
}

/*
 * Start running tasks (from keyspace.c) with client.  The lister's
 * listing pages live in a context of its own under cxt.  opts (the
 * scan's options, for the discovery cache) and prune must stay valid
 * while the lister runs.
 */
void
bedlog_lister_start(BedlogLister *l, BedlogS3Client *client,
					const BedlogOptions *opts,
					const BedlogTemplate *template, const BedlogPrune *prune,
					int baselen, List *tasks, MemoryContext cxt)
{
	memset(l, 0, sizeof(*l));
	l->client = client;
	l->opts = opts;
	l->template = template;
	l->prune = prune;
	l->baselen = baselen;
	l->tasks = tasks;
	l->tasks_cxt = cxt;
	l->page_cxt = AllocSetContextCreate(cxt, "bedlog_fdw listing page",
										ALLOCSET_DEFAULT_SIZES);
}

/*
 * Start l listing every log object of the location of opts, with no
 * condition to narrow it (ANALYZE, the object index).  prune is zeroed
 * here and must stay valid while the lister runs.
 */
void
bedlog_lister_start_all(BedlogLister *l, BedlogS3Client *client,
						const BedlogOptions *opts, BedlogPrune *prune,
						MemoryContext cxt)
{
	BedlogTemplate *template = bedlog_template_from_option(opts->key_template);
	BedlogKeyValues fixed_vals;
	int			baselen;
	int			fixed_segments;

	bedlog_layout_base(template, opts->prefix, &baselen, &fixed_segments,
					   &fixed_vals);
	memset(prune, 0, sizeof(*prune));
	bedlog_lister_start(l, client, opts, template, prune, baselen,
						bedlog_keyspace_first_tasks(template, prune, fixed_segments,
													&fixed_vals, opts->prefix),
						cxt);
}

/* Request a page of task: its first, or the one after token. */
static BedlogS3Request *
issue_list(BedlogLister *l, BedlogListTask *task, const char *token)
{
	SigV4Param	params[6];
	int			nparams = 0;

	params[nparams].name = "list-type";
	params[nparams++].value = "2";
	params[nparams].name = "prefix";
	params[nparams++].value = task->prefix;
	params[nparams].name = "encoding-type";
	params[nparams++].value = "url";
	if (task->kind == BEDLOG_LIST_DISCOVER)
	{
		params[nparams].name = "delimiter";
		params[nparams++].value = "/";
		/* what a cached answer's age counts from */
		if (token == NULL)
			task->listed_at = GetCurrentTimestamp();
	}
	if (token)
	{
		params[nparams].name = "continuation-token";
		params[nparams++].value = token;
	}
	else if (task->start_after && task->cache_state != BEDLOG_TASK_CACHE_FILL)
	{
		params[nparams].name = "start-after";
		params[nparams++].value = task->start_after;
	}
	return bedlog_s3_list_start(l->client, params, nparams);
}

/*
 * Decide how a task uses the caches, once.  A time folder asks cache.c;
 * a discovery asks discovery.c, and on a hit keeps the answer in the
 * task (in the tasks' context) until it runs.
 */
static void
decide_cache(BedlogLister *l, BedlogListTask *task)
{
	MemoryContext oldcxt;

	if (task->cache_state != BEDLOG_TASK_CACHE_UNKNOWN)
		return;
	if (task->kind != BEDLOG_LIST_DISCOVER)
	{
		/*
		 * A settled folder: this backend's memory first (discovery.c), then
		 * cache_dir, else listed whole and kept in both.  The memory is
		 * only probed here; the listing is copied out when the task runs.
		 */
		task->settled = l->opts && task->kind == BEDLOG_LIST_FOLDER &&
			task->folder_end != 0 &&
			task->folder_end <= GetCurrentTimestamp() - l->opts->delivery_delay;
		if (task->settled && bedlog_folder_lookup(l->opts, task->prefix, NULL))
		{
			task->in_memory = true;
			task->cache_state = BEDLOG_TASK_CACHE_HIT;
			return;
		}
		task->cache_state = bedlog_cache_listing_state(bedlog_s3_cache(l->client),
													   task);
		if (task->settled && task->cache_state == BEDLOG_TASK_CACHE_NONE &&
			bedlog_folder_kept(l->opts))
			task->cache_state = BEDLOG_TASK_CACHE_FILL;
		if (task->settled)
			task->listed_at = GetCurrentTimestamp();
		return;
	}
	if (l->opts == NULL || l->opts->discovery_ttl <= 0)
	{
		task->cache_state = BEDLOG_TASK_CACHE_NONE;
		return;
	}
	oldcxt = MemoryContextSwitchTo(l->tasks_cxt);
	if (bedlog_discovery_lookup(l->opts, bedlog_s3_cache(l->client), task->prefix,
								DISCOVER_PARAMS, &task->cached_prefixes,
								&task->cached_objects))
		task->cache_state = BEDLOG_TASK_CACHE_HIT;
	else
		task->cache_state = BEDLOG_TASK_CACHE_FILL;
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Request ahead the first pages of the next tasks (as many as there are
 * listing slots), so that many time folders are listed at once.
 */
static void
request_ahead(BedlogLister *l)
{
	ListCell   *lc;
	int			n = 0;

	foreach(lc, l->tasks)
	{
		BedlogListTask *task = (BedlogListTask *) lfirst(lc);

		if (n++ >= BEDLOG_LISTER_AHEAD)
			break;
		decide_cache(l, task);
		if (task->req == NULL && task->cache_state != BEDLOG_TASK_CACHE_HIT)
			task->req = issue_list(l, task, NULL);
	}
}

/*
 * A page of a discovery task (or its whole answer, from the cache)
 * returned prefixes and nobjects objects: the prefixes that can hold
 * matching records become tasks; the objects are not log files.
 */
static void
discovered(BedlogLister *l, BedlogListTask *task, List *prefixes, int64 nobjects)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(l->tasks_cxt);
	ListCell   *lc;

	foreach(lc, prefixes)
	{
		List	   *more = NIL;

		CHECK_FOR_INTERRUPTS();
		bedlog_keyspace_discovered(l->template, l->prune, task,
								   (char *) lfirst(lc), &more);
		l->tasks = list_concat(l->tasks, more);
	}
	MemoryContextSwitchTo(oldcxt);
	l->objects_listed += nobjects;
	l->objects_skipped += nobjects;
}

/* Is key past the end of a bounded task (its stop_at and what follows)? */
static bool
key_past_stop(const BedlogListTask *task, const char *key)
{
	return task->stop_at && strncmp(key, task->stop_at, strlen(task->stop_at)) > 0;
}

/*
 * Keep only the objects of a page that the task asked for: after its
 * start_after and not past its stop_at.  For a task listed in full for
 * the cache (or served from it).
 */
static List *
task_window(BedlogListTask *task, List *objects)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, objects)
	{
		BedlogObject *obj = (BedlogObject *) lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (task->start_after && strcmp(obj->key, task->start_after) <= 0)
			continue;
		if (key_past_stop(task, obj->key))
			break;
		result = lappend(result, obj);
	}
	return result;
}

/* The context of what a listing keeps for the cache, made when first needed. */
static MemoryContext
fill_context(BedlogLister *l)
{
	if (l->fill_cxt == NULL)
		l->fill_cxt = AllocSetContextCreate(l->tasks_cxt,
											"bedlog_fdw listing to cache",
											ALLOCSET_DEFAULT_SIZES);
	return l->fill_cxt;
}

/* Keep copies of a page's objects for the listing being cached. */
static void
fill_keep(BedlogLister *l, List *objects)
{
	MemoryContext oldcxt;
	ListCell   *lc;

	oldcxt = MemoryContextSwitchTo(fill_context(l));
	foreach(lc, objects)
	{
		BedlogObject *obj = (BedlogObject *) lfirst(lc);
		BedlogObject *copy;

		CHECK_FOR_INTERRUPTS();
		copy = palloc(sizeof(BedlogObject));
		copy->key = pstrdup(obj->key);
		copy->size = obj->size;
		copy->etag = obj->etag ? pstrdup(obj->etag) : NULL;
		l->fill_objects = lappend(l->fill_objects, copy);
	}
	MemoryContextSwitchTo(oldcxt);
}

/* Keep copies of a discovery page's prefixes for the discovery cache. */
static void
fill_keep_prefixes(BedlogLister *l, List *prefixes, int64 nobjects)
{
	MemoryContext oldcxt;
	ListCell   *lc;

	oldcxt = MemoryContextSwitchTo(fill_context(l));
	foreach(lc, prefixes)
	{
		CHECK_FOR_INTERRUPTS();
		l->fill_prefixes = lappend(l->fill_prefixes, pstrdup((char *) lfirst(lc)));
	}
	MemoryContextSwitchTo(oldcxt);
	l->fill_nobjects += nobjects;
}

/* Forget the listing being cached. */
static void
fill_reset(BedlogLister *l)
{
	if (l->fill_cxt)
		MemoryContextReset(l->fill_cxt);
	l->fill_objects = NIL;
	l->fill_prefixes = NIL;
	l->fill_nobjects = 0;
}

/*
 * Request the next listing page into l->page: the next page of the
 * current task, or the first of the next task.  The following page of a
 * task, and the first pages of the next tasks, are requested before this
 * one is processed.  Discovery pages, or their answer kept by
 * discovery.c, turn into more tasks.  Returns false when every task is
 * done.
 */
static bool
lister_fetch_page(BedlogLister *l)
{
	StringInfoData body;
	BedlogListPage page;
	MemoryContext oldcxt;
	BedlogListTask *task;
	BedlogS3Request *req;

	for (;;)
	{
		/* tasks served from the cache, one after another, take no request */
		CHECK_FOR_INTERRUPTS();
		if (l->task == NULL || l->task_done)
		{
			if (l->tasks == NIL)
				return false;
			l->task = (BedlogListTask *) linitial(l->tasks);
			l->tasks = list_delete_first(l->tasks);
			l->task_done = false;
			l->next_req = NULL;
			l->ntasks[l->task->kind]++;
			if (list_length(l->task_names) < BEDLOG_LISTER_NAMES)
			{
				oldcxt = MemoryContextSwitchTo(l->tasks_cxt);
				l->task_names = lappend(l->task_names,
										bedlog_keyspace_describe_task(l->task));
				MemoryContextSwitchTo(oldcxt);
			}
			fill_reset(l);
			decide_cache(l, l->task);
			if (l->task->kind == BEDLOG_LIST_DISCOVER &&
				l->task->cache_state == BEDLOG_TASK_CACHE_HIT)
			{
				/* its answer is in the task: no request */
				task = l->task;
				l->task_done = true;
				l->discovery_hits++;
				discovered(l, task, task->cached_prefixes, task->cached_objects);
				request_ahead(l);
				continue;
			}
			if (l->task->cache_state == BEDLOG_TASK_CACHE_HIT)
			{
				List	   *objects;

				task = l->task;
				MemoryContextReset(l->page_cxt);
				oldcxt = MemoryContextSwitchTo(l->page_cxt);
				if (task->in_memory &&
					bedlog_folder_lookup(l->opts, task->prefix, &objects))
				{
					l->page = task_window(task, objects);
					l->page_pos = 0;
					MemoryContextSwitchTo(oldcxt);
					l->task_done = true;
					l->folder_memory_hits++;
					l->objects_listed += list_length(l->page);
					request_ahead(l);
					return true;
				}
				if (task->in_memory)
				{
					/* dropped since it was probed: as if it had not been there */
					task->in_memory = false;
					task->listed_at = GetCurrentTimestamp();
					task->cache_state =
						bedlog_cache_listing_state(bedlog_s3_cache(l->client), task);
					if (task->cache_state == BEDLOG_TASK_CACHE_NONE)
						task->cache_state = BEDLOG_TASK_CACHE_FILL;
				}
				if (task->cache_state == BEDLOG_TASK_CACHE_HIT &&
					bedlog_cache_listing_get(bedlog_s3_cache(l->client), task->prefix,
											 &objects))
				{
					/* kept in memory too, for the next scans */
					bedlog_folder_store(l->opts, task->prefix, task->listed_at, objects);
					l->page = task_window(task, objects);
					l->page_pos = 0;
					MemoryContextSwitchTo(oldcxt);
					l->task_done = true;
					l->objects_listed += list_length(l->page);
					request_ahead(l);
					return true;
				}
				MemoryContextSwitchTo(oldcxt);
				/* not usable after all: list it, and store it again */
				task->cache_state = BEDLOG_TASK_CACHE_FILL;
			}
			req = l->task->req ? l->task->req : issue_list(l, l->task, NULL);
			l->task->req = NULL;
		}
		else
		{
			req = l->next_req;
			l->next_req = NULL;
		}
		task = l->task;
		request_ahead(l);

		MemoryContextReset(l->page_cxt);
		l->page = NIL;
		l->page_pos = 0;
		oldcxt = MemoryContextSwitchTo(l->page_cxt);
		initStringInfo(&body);
		bedlog_s3_list_finish(l->client, req, &body);
		bedlog_parse_list_page(body.data, body.len, &page);
		pfree(body.data);
		MemoryContextSwitchTo(oldcxt);

		if (task->kind == BEDLOG_LIST_DISCOVER)
		{
			if (page.truncated)
				l->next_req = issue_list(l, task, page.next_token);
			else
				l->task_done = true;
			if (task->cache_state == BEDLOG_TASK_CACHE_FILL)
			{
				/* every page, then the whole answer, for discovery.c */
				fill_keep_prefixes(l, page.common_prefixes,
								   list_length(page.objects));
				if (l->task_done)
				{
					bedlog_discovery_store(l->opts, bedlog_s3_cache(l->client),
										   task->prefix, DISCOVER_PARAMS,
										   task->listed_at, l->fill_nobjects,
										   l->fill_prefixes);
					fill_reset(l);
				}
			}
			discovered(l, task, page.common_prefixes, list_length(page.objects));
			continue;
		}

		if (task->cache_state == BEDLOG_TASK_CACHE_FILL)
		{
			/* the whole folder, every page, for the cache */
			fill_keep(l, page.objects);
			if (page.truncated)
				l->next_req = issue_list(l, task, page.next_token);
			else
			{
				l->task_done = true;
				if (bedlog_s3_cache(l->client))
					bedlog_cache_listing_put(bedlog_s3_cache(l->client), task->prefix,
											 l->fill_objects);
				bedlog_folder_store(l->opts, task->prefix, task->listed_at,
									l->fill_objects);
				fill_reset(l);
			}
			oldcxt = MemoryContextSwitchTo(l->page_cxt);
			l->page = task_window(task, page.objects);
			MemoryContextSwitchTo(oldcxt);
			l->objects_listed += list_length(l->page);
			return true;
		}

		/* request the next page now, unless this one already ends the task */
		if (page.truncated &&
			!(page.objects != NIL &&
			  key_past_stop(task, ((BedlogObject *) llast(page.objects))->key)))
			l->next_req = issue_list(l, task, page.next_token);
		else
			l->task_done = true;

		/* a bounded task stops at the first key past its end */
		if (task->stop_at)
		{
			ListCell   *lc;
			int			n = 0;

			foreach(lc, page.objects)
			{
				BedlogObject *obj = (BedlogObject *) lfirst(lc);

				CHECK_FOR_INTERRUPTS();
				if (key_past_stop(task, obj->key))
				{
					l->task_done = true;
					if (l->next_req)
					{
						bedlog_s3_release(l->client, l->next_req);
						l->next_req = NULL;
					}
					break;
				}
				n++;
			}
			page.objects = list_truncate(page.objects, n);
		}
		l->page = page.objects;
		l->objects_listed += list_length(page.objects);
		return true;
	}
}

/* Abandon the requests a lister has made ahead. */
void
bedlog_lister_stop(BedlogLister *l)
{
	ListCell   *lc;

	if (l->client == NULL)
		return;
	if (l->next_req)
		bedlog_s3_release(l->client, l->next_req);
	l->next_req = NULL;
	foreach(lc, l->tasks)
	{
		BedlogListTask *task = (BedlogListTask *) lfirst(lc);

		if (task->req)
			bedlog_s3_release(l->client, task->req);
		task->req = NULL;
	}
}

/*
 * The next listed log object that can hold matching records, or NULL
 * when the listing is done.  The object lives until the next page.
 */
BedlogObject *
bedlog_lister_next(BedlogLister *l)
{
	for (;;)
	{
		BedlogObject *obj;
		BedlogKeyValues vals;
		const char *file;

		/* objects passed over (not logs, pruned) may be most of a listing */
		CHECK_FOR_INTERRUPTS();
		while (l->page_pos >= list_length(l->page))
		{
			if (!lister_fetch_page(l))
				return NULL;
		}
		obj = (BedlogObject *) list_nth(l->page, l->page_pos++);
		if (bedlog_classify_key(l->template, obj->key, obj->size, l->baselen,
								&vals, &file) != BEDLOG_KEY_LOG)
		{
			l->objects_skipped++;
			continue;
		}
		if (!bedlog_keyspace_values_ok(l->prune, &vals, file))
		{
			l->objects_pruned++;
			continue;
		}
		/* the table's shard: every scan, ANALYZE and the index see no other */
		if (l->opts && l->opts->shard_count > 1 &&
			bedlog_key_shard(obj->key, l->opts->shard_count) != l->opts->shard_index)
		{
			l->objects_other_shards++;
			continue;
		}
		return obj;
	}
}
