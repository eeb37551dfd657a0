/*-------------------------------------------------------------------------
 *
 * objindex.c
 *		The object index: what each log object holds, so that scans can
 *		skip objects that cannot match.
 *
 * Design notes.  Bedrock's keys say nothing of the model or operation of
 * the records inside, and a file's time says only roughly when its
 * records were stamped.  bedlog_index_refresh(foreign_table) reads every
 * log object of a table that it has not indexed yet (or whose ETag has
 * changed) and records, in the extension's table bedlog_object_index,
 * its row count, the least and greatest record timestamp, and the
 * distinct model ids and operations in it; it drops entries of objects
 * that are gone.  A later refresh reads only what is new.
 *
 * A scan with conditions on time, model or operation loads the entries of
 * its table and bucket once (sorted by key, searched by bisection), and
 * skips a listed object whose entry, for the same ETag, proves that no
 * record can match.  An object the index does not know, or knows with
 * another ETag, is read in full: the index only ever saves work.
 *
 * The index table belongs to the extension's owner and is not readable by
 * others; the functions here read and write it as that owner, after
 * checking that the user may read the foreign table itself.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "bedlog_fdw.h"

/* What the index knows of one object. */
typedef struct IndexEntry
{
	char	   *key;			/* object key */
	char	   *etag;			/* its ETag when indexed */
	int64		records;		/* rows in it */
	bool		has_ts;			/* some record had a timestamp */
	TimestampTz min_ts;			/* least record timestamp */
	TimestampTz max_ts;			/* greatest */
	List	   *models;			/* distinct model ids (char *) */
	List	   *operations;		/* distinct operations (char *) */
} IndexEntry;

struct BedlogObjectIndex
{
	IndexEntry *entries;		/* sorted by key (strcmp) */
	int			nentries;
};

/* Where the index table is, and whom it belongs to. */
typedef struct IndexTable
{
	char	   *qualified_name; /* schema.bedlog_object_index, quoted */
	Oid			owner;			/* the extension's owner */
} IndexTable;

PG_FUNCTION_INFO_V1(bedlog_index_refresh);

static void delete_entries(Oid relid, const char *bucket, List *keys);
static void index_execute(const char *sqlfmt, int nargs, Oid *types,
						  Datum *args, const char *nulls, int expect);

/* Look up the index table (SPI must be connected). */
static IndexTable
index_table(void)
{
	IndexTable	t;
	bool		isnull;

	if (SPI_execute("SELECT n.nspname, e.extowner FROM pg_catalog.pg_extension e "
					"JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
					"WHERE e.extname = 'bedlog_fdw'", true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"bedlog_fdw\" is not installed in this database")));
	t.qualified_name = psprintf("%s.bedlog_object_index",
								quote_identifier(SPI_getvalue(SPI_tuptable->vals[0],
															  SPI_tuptable->tupdesc, 1)));
	t.owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
											 SPI_tuptable->tupdesc, 2, &isnull));
	return t;
}

/* Elements of a text[] datum as a List of palloc'd strings. */
static List *
text_array_list(Datum d)
{
	ArrayType  *arr = DatumGetArrayTypeP(d);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	List	   *result = NIL;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (i = 0; i < n; i++)
	{
		if (!nulls[i])
			result = lappend(result, TextDatumGetCString(elems[i]));
	}
	return result;
}

/* A text[] datum of a List of strings. */
static Datum
list_text_array(List *l)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(l), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, l)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const IndexEntry *) a)->key, ((const IndexEntry *) b)->key);
}

/*
 * Load the index entries of relid's objects in bucket into cxt, reading
 * the index table as its owner.  Returns NULL when there are none.
 */
BedlogObjectIndex *
bedlog_index_load(Oid relid, const char *bucket, MemoryContext cxt)
{
	BedlogObjectIndex *index = NULL;
	Oid			save_userid;
	int			save_sec;
	IndexTable	t;
	Oid			argtypes[2] = {OIDOID, TEXTOID};
	Datum		args[2];
	uint64		i;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	t = index_table();
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(t.owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	args[0] = ObjectIdGetDatum(relid);
	args[1] = CStringGetTextDatum(bucket);
	if (SPI_execute_with_args(psprintf("SELECT key, etag, records, min_timestamp, max_timestamp, "
									   "model_ids, operations FROM %s "
									   "WHERE ftrelid = $1 AND bucket = $2",
									   t.qualified_name),
							  2, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the object index");
	SetUserIdAndSecContext(save_userid, save_sec);

	if (SPI_processed > 0)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(cxt);

		index = palloc0(sizeof(BedlogObjectIndex));
		index->entries = palloc0(sizeof(IndexEntry) * SPI_processed);
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			IndexEntry *e = &index->entries[i];
			bool		isnull;
			Datum		d;

			CHECK_FOR_INTERRUPTS();
			e->key = TextDatumGetCString(SPI_getbinval(tup, desc, 1, &isnull));
			e->etag = TextDatumGetCString(SPI_getbinval(tup, desc, 2, &isnull));
			e->records = DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
			d = SPI_getbinval(tup, desc, 4, &isnull);
			e->has_ts = !isnull;
			if (e->has_ts)
			{
				e->min_ts = DatumGetTimestampTz(d);
				e->max_ts = DatumGetTimestampTz(SPI_getbinval(tup, desc, 5, &isnull));
			}
			e->models = text_array_list(SPI_getbinval(tup, desc, 6, &isnull));
			e->operations = text_array_list(SPI_getbinval(tup, desc, 7, &isnull));
		}
		index->nentries = SPI_processed;
		qsort(index->entries, index->nentries, sizeof(IndexEntry), entry_cmp);
		MemoryContextSwitchTo(oldcxt);
	}
	SPI_finish();
	return index;
}

/* The entry of key, or NULL. */
static IndexEntry *
find_entry(BedlogObjectIndex *index, const char *key)
{
	IndexEntry	probe;

	probe.key = (char *) key;
	return (IndexEntry *) bsearch(&probe, index->entries, index->nentries,
								  sizeof(IndexEntry), entry_cmp);
}

/* Does any value of l satisfy c? */
static bool
any_satisfies(List *l, const BedlogTextConstraint *c)
{
	ListCell   *lc;

	foreach(lc, l)
	{
		const char *v = (const char *) lfirst(lc);

		if (bedlog_text_constraint_ok(c, v, strlen(v)))
			return true;
	}
	return false;
}

/*
 * Does the index prove that obj (as listed, with its ETag) holds no
 * record that prune allows?
 */
bool
bedlog_index_rules_out(BedlogObjectIndex *index, const BedlogObject *obj,
					   const BedlogPrune *prune)
{
	IndexEntry *e = find_entry(index, obj->key);

	if (e == NULL || obj->etag == NULL || strcmp(e->etag, obj->etag) != 0)
		return false;
	if (e->records == 0)
		return true;
	if (prune->has_time &&
		(!e->has_ts || e->max_ts < prune->ts_lo || e->min_ts > prune->ts_hi))
		return true;
	if (prune->text[BEDLOG_PH_MODEL].active &&
		!any_satisfies(e->models, &prune->text[BEDLOG_PH_MODEL]))
		return true;
	if (prune->text[BEDLOG_PH_OPERATION].active &&
		!any_satisfies(e->operations, &prune->text[BEDLOG_PH_OPERATION]))
		return true;
	return false;
}

/* Error context while indexing: the object and line. */
static void
index_error_context(void *arg)
{
	BedlogDecodePosition *pos = (BedlogDecodePosition *) arg;

	if (pos->uri && pos->line > 0)
		errcontext("S3 object \"%s\", line %lld", pos->uri, (long long) pos->line);
	else if (pos->uri)
		errcontext("S3 object \"%s\"", pos->uri);
}

/* Add the string value v to the list *l if it is not there yet. */
static void
add_distinct(List **l, const BjValue *v)
{
	char	   *s;
	size_t		len;
	ListCell   *lc;

	if (v->kind != BJ_STRING)
		return;
	s = bedlog_json_string(v, &len, false);
	if (s == NULL)
		return;					/* cannot be equal to any SQL text */
	foreach(lc, *l)
	{
		if (strcmp((char *) lfirst(lc), s) == 0)
			return;
	}
	*l = lappend(*l, s);
}

/*
 * bedlog_index_refresh(foreign_table regclass) returns bigint: index the
 * table's log objects that the index does not know (or knows with another
 * ETag), drop entries of objects that are gone, and return how many
 * objects were read.
 */
Datum
bedlog_index_refresh(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ForeignTable *table;
	ForeignServer *server;
	BedlogOptions opts;
	BedlogPrune prune;
	MemoryContext cxt;
	MemoryContext objcxt;
	MemoryContext oldcxt;
	BedlogS3Client *client;
	BedlogReader *reader;
	BedlogLister lister;
	BedlogObjectIndex *known;
	BjPaths    *paths = NULL;
	BjScanner  *scanner = NULL;
	BjValue		slots[3];
	bool	   *seen = NULL;
	int64		nread = 0;
	ErrorContextCallback errcallback;
	BedlogDecodePosition pos;

	if (get_rel_relkind(relid) != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a foreign table", get_rel_name(relid))));
	table = GetForeignTable(relid);
	server = GetForeignServer(table->serverid);
	if (strcmp(GetForeignDataWrapper(server->fdwid)->fdwname, "bedlog_fdw") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a bedlog_fdw foreign table", get_rel_name(relid))));
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FOREIGN_TABLE, get_rel_name(relid));

	cxt = AllocSetContextCreate(CurrentMemoryContext, "bedlog_fdw index refresh",
								ALLOCSET_DEFAULT_SIZES);
	objcxt = AllocSetContextCreate(cxt, "bedlog_fdw index object",
								   ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(cxt);

	bedlog_get_options(relid, GetUserId(), &opts);
	client = bedlog_s3_client_create(&opts, cxt);
	reader = bedlog_reader_create(client, cxt);
	known = bedlog_index_load(relid, opts.bucket, cxt);
	if (known && known->nentries > 0)
		seen = palloc0(sizeof(bool) * known->nentries);
	bedlog_lister_start_all(&lister, client, &opts, &prune, cxt);

	/* the members an entry records: one pass of the scanner per line */
	{
		static const char *const names[3] = {"timestamp", "modelId", "operation"};
		int			i;

		paths = bj_paths_create();
		for (i = 0; paths && i < 3; i++)
		{
			BjStep		step;

			step.key = names[i];
			step.keylen = strlen(names[i]);
			step.index = 0;
			if (bj_paths_add(paths, &step, 1, i) != i)
			{
				bj_paths_free(paths);
				paths = NULL;
			}
		}
		scanner = paths ? bj_scanner_create(paths, BJ_DEFAULT_MAX_DEPTH) : NULL;
		if (scanner == NULL)
		{
			if (paths)
				bj_paths_free(paths);
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
		}
	}

	memset(&pos, 0, sizeof(pos));
	errcallback.callback = index_error_context;
	errcallback.arg = &pos;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	PG_TRY();
	{
		BedlogObject *obj;

		while ((obj = bedlog_lister_next(&lister)) != NULL)
		{
			IndexEntry *e = known ? find_entry(known, obj->key) : NULL;
			const char *line;
			size_t		len;
			int64		lineno;
			int64		records = 0;
			bool		has_ts = false;
			TimestampTz min_ts = 0;
			TimestampTz max_ts = 0;
			List	   *models = NIL;
			List	   *operations = NIL;
			Oid			argtypes[10] = {OIDOID, TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID,
			TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTARRAYOID, TEXTARRAYOID};
			Datum		args[10];
			char		nulls[10];

			/* also for the objects already indexed, passed over below */
			CHECK_FOR_INTERRUPTS();
			if (e)
				seen[e - known->entries] = true;
			if (e && obj->etag && strcmp(e->etag, obj->etag) == 0)
				continue;

			MemoryContextReset(objcxt);
			MemoryContextSwitchTo(objcxt);
			pos.uri = bedlog_s3_object_uri(&opts, obj->key);
			pos.line = 0;
			bedlog_reader_open(reader, obj->key, pos.uri,
							   bedlog_s3_get(client, obj->key, obj->etag));
			while (bedlog_reader_next_line(reader, &line, &len, &lineno))
			{
				BjKind		top;
				BjError		err;

				pos.line = lineno;
				if (!pg_verify_mbstr(PG_UTF8, line, (int) len, true))
					ereport(ERROR,
							(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
							 errmsg("invalid UTF-8 in a log record")));
				if (bj_scan(scanner, line, len, slots, 3, &top, &err) != 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
							 errmsg("malformed JSON in a log record"),
							 errdetail("%s at byte %zu of the line.", err.msg, err.offset + 1)));
				if (top != BJ_OBJECT)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
							 errmsg("log record is not a JSON object")));
				records++;
				if (slots[0].kind != BJ_MISSING && slots[0].kind != BJ_NULL)
				{
					TimestampTz ts = bedlog_json_timestamptz(&slots[0]);

					if (!has_ts || ts < min_ts)
						min_ts = ts;
					if (!has_ts || ts > max_ts)
						max_ts = ts;
					has_ts = true;
				}
				add_distinct(&models, &slots[1]);
				add_distinct(&operations, &slots[2]);
			}
			bedlog_reader_close(reader);
			pos.line = 0;
			nread++;

			/* upsert the entry, as the index table's owner */
			memset(nulls, ' ', sizeof(nulls));
			args[0] = ObjectIdGetDatum(relid);
			args[1] = CStringGetTextDatum(opts.bucket);
			args[2] = CStringGetTextDatum(obj->key);
			args[3] = CStringGetTextDatum(obj->etag ? obj->etag : "");
			args[4] = Int64GetDatum(obj->size);
			args[5] = Int64GetDatum(records);
			args[6] = TimestampTzGetDatum(min_ts);
			args[7] = TimestampTzGetDatum(max_ts);
			if (!has_ts)
				nulls[6] = nulls[7] = 'n';
			args[8] = list_text_array(models);
			args[9] = list_text_array(operations);
			index_execute("INSERT INTO %s AS i (ftrelid, bucket, key, etag, size, records, "
						  "min_timestamp, max_timestamp, model_ids, operations) "
						  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
						  "ON CONFLICT (ftrelid, bucket, key) DO UPDATE SET "
						  "etag = EXCLUDED.etag, size = EXCLUDED.size, "
						  "records = EXCLUDED.records, "
						  "min_timestamp = EXCLUDED.min_timestamp, "
						  "max_timestamp = EXCLUDED.max_timestamp, "
						  "model_ids = EXCLUDED.model_ids, "
						  "operations = EXCLUDED.operations, "
						  "indexed_at = now()",
						  10, argtypes, args, nulls, SPI_OK_INSERT);
			MemoryContextSwitchTo(cxt);
		}

		/*
		 * Entries of objects that are gone: those of the index loaded at
		 * the start that the listing did not meet (an object new since
		 * then has an entry only if it was met).  Marks per loaded entry,
		 * not a list of every listed key, and a delete of the gone keys by
		 * key, in batches.
		 */
		if (seen)
		{
			int			i = 0;

			while (i < known->nentries)
			{
				List	   *gone = NIL;

				for (; i < known->nentries && list_length(gone) < 1000; i++)
				{
					if (!seen[i])
						gone = lappend(gone, known->entries[i].key);
				}
				if (gone != NIL)
					delete_entries(relid, opts.bucket, gone);
				list_free(gone);
			}
		}
	}
	PG_FINALLY();
	{
		error_context_stack = errcallback.previous;
		bj_scanner_free(scanner);
		bj_paths_free(paths);
	}
	PG_END_TRY();

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(cxt);
	PG_RETURN_INT64(nread);
}

/*
 * Delete the index entries of relid and bucket for keys (a List of
 * char *), as the index table's owner.
 */
static void
delete_entries(Oid relid, const char *bucket, List *keys)
{
	Oid			types[3] = {OIDOID, TEXTOID, TEXTARRAYOID};
	Datum		args[3];

	args[0] = ObjectIdGetDatum(relid);
	args[1] = CStringGetTextDatum(bucket);
	args[2] = list_text_array(keys);
	index_execute("DELETE FROM %s WHERE ftrelid = $1 AND bucket = $2 "
				  "AND key = ANY ($3)",
				  3, types, args, NULL, SPI_OK_DELETE);
}

/*
 * Run the statement sqlfmt (its %s: the index table) with args, through
 * SPI, as the index table's owner under a restricted security context;
 * raises unless SPI answers expect.
 */
static void
index_execute(const char *sqlfmt, int nargs, Oid *types, Datum *args,
			  const char *nulls, int expect)
{
	Oid			save_userid;
	int			save_sec;
	IndexTable	t;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	t = index_table();
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(t.owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	if (SPI_execute_with_args(psprintf(sqlfmt, t.qualified_name),
							  nargs, types, args, nulls, false, 0) != expect)
		elog(ERROR, "could not write the object index");
	SetUserIdAndSecContext(save_userid, save_sec);
	SPI_finish();
}
