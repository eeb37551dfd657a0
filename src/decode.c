/*-------------------------------------------------------------------------
 *
 * decode.c
 *		From one line of a log object to one row.
 *
 * Design notes.  The JSON machinery stays behind one seam, jsonscan.h:
 * at scan start the JSON paths of the columns the query needs are
 * compiled into a trie, and each line is scanned once, validating all of
 * it but building nothing; the scanner only reports where the wanted
 * values lie.  Columns the query does not use are never built, and a
 * jsonb column gets the raw text of its value.  A path with a negative
 * array index ("output.outputBodyJson[-1]...") is split there: the array
 * is found in the same single pass, and the rest is resolved inside it
 * afterwards, since a streaming scan cannot know which element is last
 * until the array closes.
 *
 * Conversion goes through the column type's input function, so any type
 * whose input accepts the JSON value's text works (text, varchar,
 * integers, numeric, floats, bool, timestamptz, timestamp, date, json,
 * jsonb, uuid, ...), with fast paths for text, bigint and Bedrock's
 * timestamp form, the columns every query touches.  A JSON null or a
 * missing member is SQL NULL.  Errors raised while converting carry the
 * column, object and line through the caller's error context callback.
 *
 * Bytes are verified as UTF-8 before scanning (the logs are UTF-8);
 * in a database of another encoding, text is converted on the way out.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "bedlog_fdw.h"

/* nesting depth build_jsonb tracks without allocating */
#define BEDLOG_JSONB_INLINE_DEPTH 64

/* How a column's value is made. */
typedef enum BedlogConv
{
	CONV_TEXT,					/* text: the string, unescaped */
	CONV_INT8,					/* bigint, with a fast path */
	CONV_TIMESTAMPTZ,			/* timestamptz, with a fast path */
	CONV_JSONB,					/* jsonb: built from the validated text */
	CONV_RAW,					/* json: raw text of the value */
	CONV_INPUT					/* any other type: its input function */
} BedlogConv;

/* One column the query needs. */
typedef struct BedlogDecodeColumn
{
	int			index;			/* attnum - 1: position in values[] */
	char	   *name;			/* column name, for messages */
	BedlogColumnSource source;	/* JSON path or virtual */
	int			slot;			/* scanner slot of the path or its prefix */
	BjStep	   *rest;			/* steps resolved inside the slot's value */
	int			nrest;
	BedlogBody	body;			/* BEDLOG_BODY_INPUT or _OUTPUT when the
								 * path lies in a body, else _NONE */
	BjStep	   *body_rest;		/* steps inside the body */
	int			nbody_rest;
	BedlogConv	conv;			/* conversion */
	Oid			typid;
	int32		typmod;
	Oid			typioparam;
	FmgrInfo	infunc;			/* the type's input function */
	char	  **keys;			/* a path of member names only: the names */
	int		   *keylens;
	int			nkeys;			/* -1 when the path is not of that form */
	bool		from_record;	/* jsonb taken out of the record column's */
} BedlogDecodeColumn;

struct BedlogDecoder
{
	BedlogDecodeColumn *cols;	/* the columns to fill */
	int			ncols;
	int			record_col;		/* a jsonb column of the whole record, or -1 */
	BjPaths    *paths;			/* compiled paths (malloc'd) */
	BjScanner  *scanner;		/* scanner with its stack (malloc'd) */
	BjValue    *slots;			/* scan results, one per slot */
	int			nslots;
	bool		convert_encoding;	/* database is not UTF-8 */
	int			filter_slot[BEDLOG_NTEXT_PH];	/* slots of accountId, region,
												 * modelId, operation */
	const BedlogTextConstraint *filter[BEDLOG_NTEXT_PH];	/* record filters */
	bool		any_filter;		/* some filter is set */
	int			bodies;			/* bit (1 << body) for each body a column
								 * reads */
	int			body_slot[BEDLOG_NBODIES];	/* slots of the bodies */
	int			body_path_slot[BEDLOG_NBODIES]; /* of their ...S3Path */
	BjScanner  *body_scanner;	/* validates large bodies (malloc'd) */
	int			shard_count;	/* the table's shards, for s3_shard */
	bool		safe_types;		/* every column's input function is one
								 * whose errors may be caught (see
								 * bedlog_decoder_errors_skippable) */
	const BedlogCwEvent *events;	/* CloudWatch Logs: the page of events
									 * lines are numbered in, from 1 */
	int			nevents;
	MemoryContextCallback cleanup;	/* frees paths and scanner */
};

/* Free the malloc'd scanner objects; safe to call twice. */
static void
decoder_cleanup(void *arg)
{
	BedlogDecoder *d = (BedlogDecoder *) arg;

	if (d->scanner)
		bj_scanner_free(d->scanner);
	d->scanner = NULL;
	if (d->paths)
		bj_paths_free(d->paths);
	d->paths = NULL;
	if (d->body_scanner)
		bj_scanner_free(d->body_scanner);
	d->body_scanner = NULL;
}

/* Where each body and its S3 path are in a record. */
static const char *const body_member[BEDLOG_NBODIES][3] = {
	{"input", "inputBodyJson", "inputBodyS3Path"},
	{"output", "outputBodyJson", "outputBodyS3Path"}
};

/*
 * Which body, if any, the parsed path p lies in (its first two steps are
 * input.inputBodyJson or output.outputBodyJson); BEDLOG_BODY_NONE if none.
 */
static BedlogBody
path_body(const BjPath *p)
{
	int			b;

	if (p->nsteps < 2 || p->steps[0].key == NULL || p->steps[1].key == NULL)
		return BEDLOG_BODY_NONE;
	for (b = 0; b < BEDLOG_NBODIES; b++)
	{
		if (p->steps[0].keylen == strlen(body_member[b][0]) &&
			memcmp(p->steps[0].key, body_member[b][0], p->steps[0].keylen) == 0 &&
			p->steps[1].keylen == strlen(body_member[b][1]) &&
			memcmp(p->steps[1].key, body_member[b][1], p->steps[1].keylen) == 0)
			return (BedlogBody) b;
	}
	return BEDLOG_BODY_NONE;
}

/*
 * Build a decoder for the columns in attnums (an integer List) of rel.
 * Everything lives in cxt; the scanner is freed with it.
 */
BedlogDecoder *
bedlog_decoder_create(Relation rel, List *attnums, MemoryContext cxt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	TupleDesc	tupdesc = RelationGetDescr(rel);
	BedlogDecoder *d = palloc0(sizeof(BedlogDecoder));
	ListCell   *lc;
	int			nextslot = 0;
	int			nextslot_i;

	d->cleanup.func = decoder_cleanup;
	d->cleanup.arg = d;
	MemoryContextRegisterResetCallback(cxt, &d->cleanup);

	d->paths = bj_paths_create();
	if (d->paths == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	d->cols = palloc0(sizeof(BedlogDecodeColumn) * Max(list_length(attnums), 1));

	foreach(lc, attnums)
	{
		AttrNumber	attnum = lfirst_int(lc);
		Form_pg_attribute attr = TupleDescAttr(tupdesc, attnum - 1);
		BedlogDecodeColumn *col = &d->cols[d->ncols];
		char	   *path;
		Oid			infunc;

		if (attr->attisdropped)
			continue;
		col->index = attnum - 1;
		col->name = pstrdup(NameStr(attr->attname));
		col->typid = attr->atttypid;
		col->typmod = attr->atttypmod;
		path = bedlog_column_json_path(RelationGetRelid(rel), attnum,
									   col->name, &col->source);
		getTypeInputInfo(col->typid, &infunc, &col->typioparam);
		fmgr_info_cxt(infunc, &col->infunc, cxt);

		if (col->typid == TEXTOID || (col->typid == VARCHAROID && col->typmod < 0))
			col->conv = CONV_TEXT;
		else if (col->typid == INT8OID)
			col->conv = CONV_INT8;
		else if (col->typid == TIMESTAMPTZOID)
			col->conv = CONV_TIMESTAMPTZ;
		else if (col->typid == JSONBOID && GetDatabaseEncoding() == PG_UTF8)
			col->conv = CONV_JSONB;
		else if (col->typid == JSONBOID || col->typid == JSONOID)
			col->conv = CONV_RAW;
		else
			col->conv = CONV_INPUT;

		col->body = BEDLOG_BODY_NONE;
		if (col->source == BEDLOG_SRC_JSON)
		{
			BjPath		p;
			BjError		err;
			int			k;
			int			i;

			if (bj_path_parse(path, &p, &err) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid JSON path \"%s\" for column \"%s\"", path, col->name),
						 errdetail("%s at character %zu.", err.msg, err.offset + 1)));
			/* split at the first negative index */
			for (k = 0; k < p.nsteps; k++)
			{
				if (p.steps[k].key == NULL && p.steps[k].index < 0)
					break;
			}
			col->slot = bj_paths_add(d->paths, p.steps, k, nextslot);
			if (col->slot < 0)
			{
				bj_path_free(&p);
				ereport(ERROR,
						(errcode(ERRCODE_OUT_OF_MEMORY),
						 errmsg("out of memory")));
			}
			if (col->slot == nextslot)
				nextslot++;
			col->nkeys = -1;
			if (k == p.nsteps)
			{
				/* member names only? (see record_subtree) */
				for (i = 0; i < p.nsteps && p.steps[i].key; i++)
					;
				if (i == p.nsteps)
				{
					col->nkeys = p.nsteps;
					col->keys = palloc(sizeof(char *) * Max(p.nsteps, 1));
					col->keylens = palloc(sizeof(int) * Max(p.nsteps, 1));
					for (i = 0; i < p.nsteps; i++)
					{
						col->keys[i] = pnstrdup(p.steps[i].key, p.steps[i].keylen);
						col->keylens[i] = (int) p.steps[i].keylen;
					}
				}
			}
			col->nrest = p.nsteps - k;
			if (col->nrest > 0)
			{
				col->rest = palloc(sizeof(BjStep) * col->nrest);
				for (i = 0; i < col->nrest; i++)
				{
					col->rest[i] = p.steps[k + i];
					if (col->rest[i].key)
						col->rest[i].key = pnstrdup(p.steps[k + i].key,
													p.steps[k + i].keylen);
				}
			}
			/* a path into a body may be resolved in its large body */
			col->body = path_body(&p);
			if (col->body != BEDLOG_BODY_NONE)
			{
				d->bodies |= 1 << col->body;
				col->nbody_rest = p.nsteps - 2;
				col->body_rest = palloc(sizeof(BjStep) * Max(col->nbody_rest, 1));
				for (i = 0; i < col->nbody_rest; i++)
				{
					col->body_rest[i] = p.steps[2 + i];
					if (col->body_rest[i].key)
						col->body_rest[i].key = pnstrdup(p.steps[2 + i].key,
														 p.steps[2 + i].keylen);
				}
			}
			bj_path_free(&p);
		}
		d->ncols++;
	}

	/*
	 * A jsonb column of the whole record ("$"), when the query reads one:
	 * the other jsonb columns of member paths are then taken out of it
	 * (record_subtree) rather than built again from their text.
	 */
	d->record_col = -1;
	for (nextslot_i = 0; nextslot_i < d->ncols; nextslot_i++)
	{
		BedlogDecodeColumn *col = &d->cols[nextslot_i];

		if (col->source == BEDLOG_SRC_JSON && col->conv == CONV_JSONB &&
			col->nkeys == 0)
		{
			d->record_col = nextslot_i;
			break;
		}
	}
	for (nextslot_i = 0; nextslot_i < d->ncols && d->record_col >= 0; nextslot_i++)
	{
		BedlogDecodeColumn *col = &d->cols[nextslot_i];

		col->from_record = (nextslot_i != d->record_col &&
							col->source == BEDLOG_SRC_JSON &&
							col->conv == CONV_JSONB && col->nkeys > 0);
	}

	/* the bodies some column reads, and their S3 paths */
	{
		int			b;

		for (b = 0; b < BEDLOG_NBODIES; b++)
		{
			BjStep		steps[2];
			int			k;
			int			slot;

			d->body_slot[b] = d->body_path_slot[b] = -1;
			if (!(d->bodies & (1 << b)))
				continue;
			for (k = 0; k < 2; k++)
			{
				steps[0].key = body_member[b][0];
				steps[0].keylen = strlen(body_member[b][0]);
				steps[0].index = 0;
				steps[1].key = body_member[b][1 + k];
				steps[1].keylen = strlen(body_member[b][1 + k]);
				steps[1].index = 0;
				slot = bj_paths_add(d->paths, steps, 2, nextslot);
				if (slot < 0)
					ereport(ERROR,
							(errcode(ERRCODE_OUT_OF_MEMORY),
							 errmsg("out of memory")));
				if (slot == nextslot)
					nextslot++;
				if (k == 0)
					d->body_slot[b] = slot;
				else
					d->body_path_slot[b] = slot;
			}
		}
	}

	/*
	 * The members that predicates on account, region, model and operation
	 * may reject a record by, before any column is built.
	 */
	{
		static const char *const filter_paths[BEDLOG_NTEXT_PH] = {
			"accountId", "region", "modelId", "operation"
		};
		int			ph;

		for (ph = 0; ph < BEDLOG_NTEXT_PH; ph++)
		{
			BjStep		step;

			step.key = filter_paths[ph];
			step.keylen = strlen(filter_paths[ph]);
			step.index = 0;
			d->filter_slot[ph] = bj_paths_add(d->paths, &step, 1, nextslot);
			if (d->filter_slot[ph] < 0)
				ereport(ERROR,
						(errcode(ERRCODE_OUT_OF_MEMORY),
						 errmsg("out of memory")));
			if (d->filter_slot[ph] == nextslot)
				nextslot++;
		}
	}
	/* built-in types whose input functions hold nothing when they fail */
	d->safe_types = true;
	for (nextslot_i = 0; nextslot_i < d->ncols; nextslot_i++)
	{
		switch (d->cols[nextslot_i].typid)
		{
			case TEXTOID:
			case VARCHAROID:
			case BPCHAROID:
			case INT2OID:
			case INT4OID:
			case INT8OID:
			case NUMERICOID:
			case FLOAT4OID:
			case FLOAT8OID:
			case BOOLOID:
			case DATEOID:
			case TIMESTAMPOID:
			case TIMESTAMPTZOID:
			case UUIDOID:
			case JSONOID:
			case JSONBOID:
				break;
			default:
				d->safe_types = false;
		}
	}
	d->nslots = bj_paths_nslots(d->paths);
	d->slots = palloc0(sizeof(BjValue) * Max(d->nslots, 1));
	d->scanner = bj_scanner_create(d->paths, BJ_DEFAULT_MAX_DEPTH);
	if (d->scanner == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	d->convert_encoding = (GetDatabaseEncoding() != PG_UTF8 &&
						   GetDatabaseEncoding() != PG_SQL_ASCII);
	MemoryContextSwitchTo(oldcxt);
	return d;
}

/*
 * The content of a JSON string value, unescaped, as a palloc'd
 * NUL-terminated string; *len receives its length.  An escape PostgreSQL
 * text cannot hold (\u0000, a lone surrogate) raises when raise is true,
 * else returns NULL.
 */
char *
bedlog_json_string(const BjValue *v, size_t *len, bool raise)
{
	char	   *s;
	BjError		err;
	long		n;

	Assert(v->kind == BJ_STRING);
	if (!v->has_escapes)
	{
		*len = v->len - 2;
		return pnstrdup(v->ptr + 1, *len);
	}
	s = palloc(v->len + 1);
	n = bj_unescape(v, s, &err);
	if (n < 0)
	{
		if (!raise)
		{
			pfree(s);
			return NULL;
		}
		ereport(ERROR,
				(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
				 errmsg("unsupported escape in a JSON string"),
				 errdetail("%s.", err.msg)));
	}
	s[n] = '\0';
	*len = n;
	return s;
}

/*
 * bedlog_json_string, raising (escontext NULL) or saving the error of an
 * escape text cannot hold in escontext and returning NULL.
 */
static char *
json_string_safe(const BjValue *v, size_t *len, Node *escontext)
{
	char	   *s = bedlog_json_string(v, len, false);

	if (s == NULL)
	{
		BjError		err;
		char	   *tmp = palloc(v->len + 1);

		(void) bj_unescape(v, tmp, &err);
		pfree(tmp);
		ereturn(escontext, NULL,
				(errcode(ERRCODE_UNTRANSLATABLE_CHARACTER),
				 errmsg("unsupported escape in a JSON string"),
				 errdetail("%s.", err.msg)));
	}
	return s;
}

/*
 * The text form of a value as a palloc'd NUL-terminated string in the
 * current context: strings unescaped, everything else as written.  *len
 * receives its length.  A string escape text cannot hold is a soft error
 * (NULL returned) with an ErrorSaveContext in escontext.  Converting to
 * a database encoding other than UTF-8 raises for a character that
 * encoding lacks, even then.
 */
static char *
value_text(BedlogDecoder *d, const BjValue *v, size_t *len, Node *escontext)
{
	char	   *s;

	if (v->kind == BJ_STRING)
	{
		s = json_string_safe(v, len, escontext);
		if (s == NULL)
			return NULL;
	}
	else
	{
		*len = v->len;
		s = pnstrdup(v->ptr, v->len);
	}
	if (d->convert_encoding)
	{
		char	   *conv = pg_any_to_server(s, *len, PG_UTF8);

		if (conv != s)
		{
			*len = strlen(conv);
			s = conv;
		}
	}
	return s;
}

/* Parse n digits at p; -1 if any is not a digit. */
static inline int
parse_digits(const char *p, int n)
{
	int			v = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/*
 * Fast path for Bedrock's timestamp form, "YYYY-MM-DDTHH:MM:SSZ" (with
 * quotes).  Returns false for any other form, which then goes through
 * timestamptz_in, so both give the same value.
 */
static bool
fast_timestamptz(const BjValue *v, TimestampTz *result)
{
	const char *p = v->ptr + 1;
	int			y,
				mo,
				dd,
				h,
				mi,
				s;

	if (v->kind != BJ_STRING || v->len != 22 || v->has_escapes)
		return false;
	if (p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' ||
		p[16] != ':' || p[19] != 'Z')
		return false;
	y = parse_digits(p, 4);
	mo = parse_digits(p + 5, 2);
	dd = parse_digits(p + 8, 2);
	h = parse_digits(p + 11, 2);
	mi = parse_digits(p + 14, 2);
	s = parse_digits(p + 17, 2);
	if (y < 1 || mo < 1 || mo > 12 || dd < 1 || h < 0 || h > 23 ||
		mi < 0 || mi > 59 || s < 0 || s > 59)
		return false;
	if (dd > day_tab[isleap(y)][mo - 1])
		return false;
	*result = ((TimestampTz) (date2j(y, mo, dd) - POSTGRES_EPOCH_JDATE) * SECS_PER_DAY +
			   h * SECS_PER_HOUR + mi * SECS_PER_MINUTE + s) * USECS_PER_SEC;
	return true;
}

/* Fast path for a plain JSON integer of up to 18 digits. */
static bool
fast_int8(const BjValue *v, int64 *result)
{
	const char *p = v->ptr;
	const char *e = v->ptr + v->len;
	bool		neg = false;
	int64		n = 0;

	if (v->kind != BJ_NUMBER)
		return false;
	if (p < e && *p == '-')
	{
		neg = true;
		p++;
	}
	if (p == e || e - p > 18)
		return false;
	for (; p < e; p++)
	{
		if (*p < '0' || *p > '9')
			return false;
		n = n * 10 + (*p - '0');
	}
	*result = neg ? -n : n;
	return true;
}

/*
 * Date and time columns take ISO 8601 text only.  PostgreSQL's input
 * functions also accept words ("now", "yesterday", "epoch", "infinity"),
 * which in a log record would silently become a value of the reading day:
 * refuse anything that does not start with a digit.  Returns false, with
 * the error in escontext, for such text (or raises, escontext NULL).
 */
static bool
check_datetime_text(BedlogDecodeColumn *col, const char *s, Node *escontext)
{
	if (s[0] >= '0' && s[0] <= '9')
		return true;
	ereturn(escontext, false,
			(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
			 errmsg("invalid input syntax for type %s: \"%s\"",
					format_type_be(col->typid), s),
			 errdetail("Date and time values in the logs must be ISO 8601, such as \"2026-11-01T12:00:00Z\".")));
}

/*
 * jsonb from the text of a value the scanner has validated.  jsonb_in
 * would lex and parse the text again with PostgreSQL's JSON parser,
 * copying strings a character at a time; measured on full rows of
 * Bedrock records (bodies and the whole record as jsonb), that parse was
 * most of the backend's time.  The text is known to be valid JSON, so
 * here one pass over it feeds pushJsonbValue, the same builder jsonb_in
 * uses (it also sorts keys and keeps the last of duplicate keys): strings
 * without escapes point into the text, numbers go through numeric_in (or
 * the same result from an integer, when short), and nesting needs no
 * recursion (pushJsonbValue keeps its own stack).  The result is the
 * jsonb jsonb_in would make.  Used in UTF-8 databases only (elsewhere \u
 * escapes need converting); a string escape jsonb cannot hold (\u0000, a
 * lone surrogate) is left to jsonb_in, for its exact error.  Errors of the
 * value are soft with an ErrorSaveContext in escontext ((Datum) 0 is
 * returned then).
 */
static Datum
build_jsonb(BedlogDecodeColumn *col, const BjValue *v, Node *escontext)
{
	const char *p = v->ptr;
	const char *e = v->ptr + v->len;
	JsonbParseState *state = NULL;
	JsonbValue *res = NULL;
	bool		in_object[BEDLOG_JSONB_INLINE_DEPTH];
	bool	   *in_obj = in_object;
	int			maxdepth = BEDLOG_JSONB_INLINE_DEPTH;
	int			depth = 0;
	bool		after_colon = false;

	while (p < e)
	{
		JsonbValue	jv;
		const char *q;

		switch (*p)
		{
			case ' ':
			case '\t':
			case '\r':
			case '\n':
			case ',':
				p++;
				continue;
			case ':':
				after_colon = true;
				p++;
				continue;
			case '{':
			case '[':
				if (depth == maxdepth)
				{
					bool	   *n = palloc(sizeof(bool) * maxdepth * 2);

					memcpy(n, in_obj, sizeof(bool) * maxdepth);
					in_obj = n;
					maxdepth *= 2;
				}
				in_obj[depth++] = (*p == '{');
				res = pushJsonbValue(&state, *p == '{' ? WJB_BEGIN_OBJECT : WJB_BEGIN_ARRAY, NULL);
				after_colon = false;
				p++;
				continue;
			case '}':
			case ']':
				depth--;
				res = pushJsonbValue(&state, *p == '}' ? WJB_END_OBJECT : WJB_END_ARRAY, NULL);
				p++;
				continue;
			case '"':
				{
					bool		esc = false;

					/*
					 * the closing quote: the first '"' not escaped.  Each
					 * byte is looked at once or twice: the next quote is
					 * searched for again only when an escape covered it.
					 */
					const char *quote = NULL;

					q = p + 1;
					for (;;)
					{
						const char *bs;

						if (quote == NULL || quote < q)
							quote = memchr(q, '"', e - q);
						bs = memchr(q, '\\', quote - q);

						if (bs == NULL)
						{
							q = quote;
							break;
						}
						esc = true;
						q = bs + 2;
					}
					jv.type = jbvString;
					if (!esc)
					{
						jv.val.string.val = (char *) p + 1;
						jv.val.string.len = q - p - 1;
					}
					else
					{
						BjValue		sv;
						BjError		err;
						long		n;

						sv.kind = BJ_STRING;
						sv.has_escapes = 1;
						sv.ptr = p;
						sv.len = q + 1 - p;
						jv.val.string.val = palloc(sv.len);
						n = bj_unescape(&sv, jv.val.string.val, &err);
						if (n < 0)
						{
							Datum		d;

							if (!InputFunctionCallSafe(&col->infunc,
													   pnstrdup(v->ptr, v->len),
													   col->typioparam, col->typmod,
													   escontext, &d))
								return (Datum) 0;
							return d;
						}
						jv.val.string.len = n;
					}
					p = q + 1;
					break;
				}
			case 't':
				jv.type = jbvBool;
				jv.val.boolean = true;
				p += 4;
				break;
			case 'f':
				jv.type = jbvBool;
				jv.val.boolean = false;
				p += 5;
				break;
			case 'n':
				jv.type = jbvNull;
				p += 4;
				break;
			default:
				{
					/* a number: -?digits[.digits][(e|E)[+-]digits] */
					bool		integral = true;
					char		buf[32];

					q = p;
					while (q < e && ((*q >= '0' && *q <= '9') || *q == '-' ||
									 *q == '+' || *q == '.' || *q == 'e' || *q == 'E'))
					{
						if (*q == '.' || *q == 'e' || *q == 'E')
							integral = false;
						q++;
					}
					jv.type = jbvNumeric;
					if (integral && q - p <= 18 && !(p[0] == '-' && p[1] == '0'))
					{
						int64		n = 0;
						const char *r = (*p == '-') ? p + 1 : p;

						for (; r < q; r++)
							n = n * 10 + (*r - '0');
						jv.val.numeric = int64_to_numeric(*p == '-' ? -n : n);
					}
					else
					{
						char	   *text = buf;
						Datum		num;

						if (q - p < (ptrdiff_t) sizeof(buf))
						{
							memcpy(buf, p, q - p);
							buf[q - p] = '\0';
						}
						else
							text = pnstrdup(p, q - p);
						/* out of numeric's range: 1e999999 */
						if (!DirectInputFunctionCallSafe(numeric_in, text, InvalidOid,
														 -1, escontext, &num))
							return (Datum) 0;
						jv.val.numeric = DatumGetNumeric(num);
					}
					(void) integral;
					p = q;
					break;
				}
		}

		/* a scalar */
		if (depth == 0)
		{
			JsonbValue	va;

			/* a scalar document is a one-element "raw scalar" array */
			va.type = jbvArray;
			va.val.array.rawScalar = true;
			va.val.array.nElems = 1;
			pushJsonbValue(&state, WJB_BEGIN_ARRAY, &va);
			pushJsonbValue(&state, WJB_ELEM, &jv);
			res = pushJsonbValue(&state, WJB_END_ARRAY, NULL);
		}
		else if (!in_obj[depth - 1])
			res = pushJsonbValue(&state, WJB_ELEM, &jv);
		else if (after_colon)
		{
			res = pushJsonbValue(&state, WJB_VALUE, &jv);
			after_colon = false;
		}
		else
			res = pushJsonbValue(&state, WJB_KEY, &jv);
	}
	if (in_obj != in_object)
		pfree(in_obj);
	Assert(res != NULL && depth == 0);
	return JsonbPGetDatum(JsonbValueToJsonb(res));
}

/*
 * Convert one found value for col; sets *isnull.  A value that does not
 * convert raises, or with an ErrorSaveContext in escontext saves the error
 * there and returns (Datum) 0 (SOFT_ERROR_OCCURRED tells).
 */
static Datum
convert_value(BedlogDecoder *d, BedlogDecodeColumn *col, const BjValue *v,
			  bool *isnull, Node *escontext)
{
	char	   *s;
	size_t		len;
	Datum		result;

	if (v->kind == BJ_MISSING || v->kind == BJ_NULL)
	{
		*isnull = true;
		return (Datum) 0;
	}
	*isnull = false;
	switch (col->conv)
	{
		case CONV_TEXT:
			s = value_text(d, v, &len, escontext);
			if (s == NULL)
				return (Datum) 0;
			return PointerGetDatum(cstring_to_text_with_len(s, len));
		case CONV_INT8:
			{
				int64		n;

				if (fast_int8(v, &n))
					return Int64GetDatum(n);
				break;
			}
		case CONV_TIMESTAMPTZ:
			{
				TimestampTz ts;

				if (fast_timestamptz(v, &ts))
					return TimestampTzGetDatum(ts);
				break;
			}
		case CONV_JSONB:
			return build_jsonb(col, v, escontext);
		case CONV_RAW:
			s = pnstrdup(v->ptr, v->len);
			if (d->convert_encoding)
				s = pg_any_to_server(s, v->len, PG_UTF8);
			if (!InputFunctionCallSafe(&col->infunc, s, col->typioparam,
									   col->typmod, escontext, &result))
				return (Datum) 0;
			return result;
		case CONV_INPUT:
			break;
	}
	s = value_text(d, v, &len, escontext);
	if (s == NULL)
		return (Datum) 0;
	if ((col->typid == TIMESTAMPTZOID || col->typid == TIMESTAMPOID ||
		 col->typid == DATEOID) &&
		!check_datetime_text(col, s, escontext))
		return (Datum) 0;
	if (!InputFunctionCallSafe(&col->infunc, s, col->typioparam, col->typmod,
							   escontext, &result))
		return (Datum) 0;
	return result;
}

/*
 * Before PostgreSQL 16 (no soft errors), may an error raised while
 * decoding a record of this decoder be caught and the record skipped
 * (on_error 'skip')?  Our own errors may; those of input functions only
 * for built-in types, whose input functions allocate memory and nothing
 * else (a domain's CHECK or a user type's input could do anything, and
 * catching its error without a subtransaction would not be safe).  From
 * 16 the decoder passes an ErrorSaveContext instead: a type whose input
 * function reports soft errors is skippable, any other error raises.
 */
bool
bedlog_decoder_errors_skippable(BedlogDecoder *d)
{
	return d->safe_types;
}

/*
 * Reject, from now on, records whose account, region, model or operation
 * cannot satisfy prune's constraints (a JSON string that is not among the
 * values or lacks a prefix; a missing member or another JSON type, which
 * would compare as NULL or fail).  prune must outlive the decoder's use.
 */
void
bedlog_decoder_set_filter(BedlogDecoder *d, const BedlogPrune *prune)
{
	int			ph;

	d->any_filter = false;
	for (ph = 0; ph < BEDLOG_NTEXT_PH; ph++)
	{
		d->filter[ph] = prune && prune->text[ph].active ? &prune->text[ph] : NULL;
		if (d->filter[ph])
			d->any_filter = true;
	}
}

/* Does the record scanned into slots pass the record filters? */
static bool
passes_filters(BedlogDecoder *d, const BjValue *slots)
{
	int			ph;

	for (ph = 0; ph < BEDLOG_NTEXT_PH; ph++)
	{
		const BjValue *v = &slots[d->filter_slot[ph]];

		if (d->filter[ph] == NULL)
			continue;
		if (v->kind != BJ_STRING)
			return false;
		if (!v->has_escapes)
		{
			if (!bedlog_text_constraint_ok(d->filter[ph], v->ptr + 1, (int) v->len - 2))
				return false;
		}
		else
		{
			size_t		n;
			char	   *buf = bedlog_json_string(v, &n, false);
			bool		ok;

			/* an escape that cannot be unescaped fails later, as it should */
			if (buf == NULL)
				return true;
			ok = bedlog_text_constraint_ok(d->filter[ph], buf, (int) n);
			pfree(buf);
			if (!ok)
				return false;
		}
	}
	return true;
}

static BedlogLineVerdict scan_line(BedlogDecoder *d, const char *line,
									size_t len, int64 lineno,
									BedlogDecodePosition *pos, BjValue *slots,
									bool raise, Node *escontext);

/*
 * Scan one line into slots (d's slot count, see bedlog_decoder_nslots):
 * verify UTF-8, validate the JSON, find the wanted values, apply the
 * record filters.  The slots point into line.  Returns BEDLOG_LINE_ROW
 * for a record to build, BEDLOG_LINE_REJECTED for one the filters reject.
 * For bytes that are not UTF-8, malformed JSON or a line that is not an
 * object: raises when raise is true, else returns BEDLOG_LINE_BAD (so that
 * a line read ahead can report its error in turn, through
 * bedlog_decode_line).
 */
BedlogLineVerdict
bedlog_decode_scan(BedlogDecoder *d, const char *line, size_t len,
				   int64 lineno, BedlogDecodePosition *pos, BjValue *slots,
				   bool raise)
{
	return scan_line(d, line, len, lineno, pos, slots, raise, NULL);
}

/*
 * bedlog_decode_scan; when raise is true, the error is saved in escontext
 * if it is an ErrorSaveContext (BEDLOG_LINE_BAD is returned then).
 */
static BedlogLineVerdict
scan_line(BedlogDecoder *d, const char *line, size_t len, int64 lineno,
		  BedlogDecodePosition *pos, BjValue *slots, bool raise,
		  Node *escontext)
{
	BjKind		top;
	BjError		err;

	if (!pg_verify_mbstr(PG_UTF8, line, (int) len, true))
	{
		if (!raise)
			return BEDLOG_LINE_BAD;
		ereturn(escontext, BEDLOG_LINE_BAD,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("invalid UTF-8 in a log record")));
	}

	if (bj_scan(d->scanner, line, len, slots, d->nslots, &top, &err) != 0)
	{
		if (!raise)
			return BEDLOG_LINE_BAD;
		ereturn(escontext, BEDLOG_LINE_BAD,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("malformed JSON in a log record"),
				 errdetail("%s at byte %zu of the line.", err.msg, err.offset + 1)));
	}
	if (top != BJ_OBJECT)
	{
		if (!raise)
			return BEDLOG_LINE_BAD;
		ereturn(escontext, BEDLOG_LINE_BAD,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("log record is not a JSON object")));
	}
	if (d->any_filter && !passes_filters(d, slots))
		return BEDLOG_LINE_REJECTED;
	return BEDLOG_LINE_ROW;
}

/*
 * The value of a jsonb column whose path is member names only, taken out
 * of the record's jsonb (rec) instead of built from its text: a member's
 * object or array is the same bytes inside the record's jsonb as on its
 * own, so this is a copy.  The value is the one building from the text
 * gives: the scanner and jsonb both keep the last of duplicate members.
 * Sets *isnull for a member absent or JSON null.
 */
static Datum
record_subtree(BedlogDecodeColumn *col, Jsonb *rec, bool *isnull)
{
	JsonbContainer *c = &rec->root;
	JsonbValue *v = NULL;
	int			i;

	for (i = 0; i < col->nkeys; i++)
	{
		if (!JsonContainerIsObject(c))
			break;
		v = getKeyJsonValueFromContainer(c, col->keys[i], col->keylens[i], NULL);
		if (v == NULL || (i < col->nkeys - 1 && v->type != jbvBinary))
			break;
		if (v->type == jbvBinary)
			c = v->val.binary.data;
	}
	if (i < col->nkeys || v == NULL || v->type == jbvNull)
	{
		*isnull = true;
		return (Datum) 0;
	}
	*isnull = false;
	return JsonbPGetDatum(JsonbValueToJsonb(v));
}

/*
 * The value of s3_shard for shard number shard, in the column's type: int
 * as IMPORT makes it, or any other type through its input function.
 */
static Datum
shard_datum(BedlogDecodeColumn *col, int shard)
{
	if (col->typid == INT4OID)
		return Int32GetDatum(shard);
	if (col->typid == INT8OID)
		return Int64GetDatum(shard);
	return InputFunctionCall(&col->infunc, psprintf("%d", shard),
							 col->typioparam, col->typmod);
}

/*
 * Build the decoder's columns into values/nulls (indexed by attnum - 1)
 * from the slots of a line scanned by bedlog_decode_scan.  Allocates in
 * the current memory context, which the caller resets per row.  pos is
 * the caller's error context state; the column being converted is
 * recorded in it.  Raises for values that do not convert, or, with an
 * ErrorSaveContext in escontext, saves the first such error there and
 * returns false (the values are then incomplete).  Returns true otherwise.
 */
bool
bedlog_decode_build(BedlogDecoder *d, const BjValue *slots, const char *key,
					int64 lineno, BedlogDecodePosition *pos,
					Datum *values, bool *nulls, Node *escontext)
{
	BjError		err;
	int			i;
	Jsonb	   *rec = NULL;

	/* the record's jsonb first: other columns may be taken out of it */
	if (d->record_col >= 0)
	{
		BedlogDecodeColumn *col = &d->cols[d->record_col];

		pos->column = col->name;
		values[col->index] = convert_value(d, col, &slots[col->slot],
										   &nulls[col->index], escontext);
		if (SOFT_ERROR_OCCURRED(escontext))
			return false;
		pos->column = NULL;
		if (!nulls[col->index])
			rec = DatumGetJsonbP(values[col->index]);
	}

	for (i = 0; i < d->ncols; i++)
	{
		BedlogDecodeColumn *col = &d->cols[i];
		BjValue		v;

		if (i == d->record_col)
			continue;
		if (col->from_record && rec != NULL)
		{
			values[col->index] = record_subtree(col, rec, &nulls[col->index]);
			continue;
		}
		switch (col->source)
		{
			case BEDLOG_SRC_S3_KEY:
				values[col->index] = PointerGetDatum(cstring_to_text(key));
				nulls[col->index] = false;
				continue;
			case BEDLOG_SRC_S3_LINE:
				values[col->index] = Int64GetDatum(lineno);
				nulls[col->index] = false;
				continue;
			case BEDLOG_SRC_S3_SHARD:
				values[col->index] = shard_datum(col,
												 bedlog_key_shard(key, d->shard_count));
				nulls[col->index] = false;
				continue;
			case BEDLOG_SRC_LOG_STREAM:
			case BEDLOG_SRC_EVENT_ID:
			case BEDLOG_SRC_INGESTION_TIME:
				{
					const BedlogCwEvent *ev;

					if (d->events == NULL || lineno < 1 || lineno > d->nevents)
						continue;	/* NULL: not a CloudWatch event */
					ev = &d->events[lineno - 1];
					if (col->source == BEDLOG_SRC_LOG_STREAM)
						values[col->index] = PointerGetDatum(cstring_to_text(ev->stream));
					else if (col->source == BEDLOG_SRC_EVENT_ID)
						values[col->index] = PointerGetDatum(cstring_to_text(ev->event_id));
					else if (ev->ingestion_ms >= 0)
						values[col->index] = TimestampTzGetDatum(time_t_to_timestamptz(0) +
																 ev->ingestion_ms * 1000);
					else
						continue;
					nulls[col->index] = false;
					continue;
				}
			case BEDLOG_SRC_JSON:
				break;
		}
		v = slots[col->slot];
		if (col->nrest > 0 && v.kind != BJ_MISSING)
		{
			BjValue		inner;

			if (bj_resolve(&v, col->rest, col->nrest, &inner, &err) != 0)
				ereturn(escontext, false,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("malformed JSON in a log record"),
						 errdetail("%s.", err.msg)));
			v = inner;
		}
		else if (col->nrest > 0)
			v.kind = BJ_MISSING;
		pos->column = col->name;
		values[col->index] = convert_value(d, col, &v, &nulls[col->index],
										   escontext);
		if (SOFT_ERROR_OCCURRED(escontext))
			return false;
		pos->column = NULL;
	}
	return true;
}

/*
 * Decode one line into values/nulls: bedlog_decode_scan, raising, then
 * bedlog_decode_build.  Returns false, building nothing, for a record the
 * filters reject.  With an ErrorSaveContext in escontext, a bad record is
 * a soft error: false is returned and SOFT_ERROR_OCCURRED(escontext) is
 * true.
 */
bool
bedlog_decode_line(BedlogDecoder *d, const char *line, size_t len,
				   const char *key, int64 lineno, BedlogDecodePosition *pos,
				   Datum *values, bool *nulls, Node *escontext)
{
	if (scan_line(d, line, len, lineno, pos, d->slots, true, escontext) !=
		BEDLOG_LINE_ROW)
		return false;
	return bedlog_decode_build(d, d->slots, key, lineno, pos, values, nulls,
							   escontext);
}

/*
 * The page of CloudWatch Logs events the lines being decoded come from:
 * line n is events[n - 1], whose stream, id and ingestion time the
 * virtual columns show.  NULL for S3 tables.
 */
void
bedlog_decoder_set_events(BedlogDecoder *d, const BedlogCwEvent *events,
						  int nevents)
{
	d->events = events;
	d->nevents = nevents;
}

/* Slots a bedlog_decode_scan needs. */
int
bedlog_decoder_nslots(BedlogDecoder *d)
{
	return d->nslots;
}

/*
 * The number of shards of the table's shard option (1 without it), whose
 * shard numbers the virtual column s3_shard gives.
 */
void
bedlog_decoder_set_shards(BedlogDecoder *d, int shard_count)
{
	d->shard_count = shard_count;
}

/*
 * The bodies (bit 1 << BEDLOG_BODY_INPUT, 1 << BEDLOG_BODY_OUTPUT) that
 * some column of the decoder reads: the body itself or a path inside it.
 */
int
bedlog_decoder_bodies(BedlogDecoder *d)
{
	return d->bodies;
}

/*
 * The S3 URI of body b of a scanned record, when the body was offloaded:
 * the body is absent or null and its ...S3Path is a string.  Returns it
 * palloc'd, or NULL (also for a string PostgreSQL text cannot hold).
 */
char *
bedlog_decode_body_uri(BedlogDecoder *d, const BjValue *slots, int b)
{
	const BjValue *body;
	const BjValue *path;
	size_t		len;

	if (d->body_slot[b] < 0)
		return NULL;
	body = &slots[d->body_slot[b]];
	path = &slots[d->body_path_slot[b]];
	if ((body->kind != BJ_MISSING && body->kind != BJ_NULL) ||
		path->kind != BJ_STRING)
		return NULL;
	return bedlog_json_string(path, &len, false);
}

/*
 * Fill the columns that read body b from its large body, the JSON text
 * [text, text + len) fetched from uri (a JSON object, or an array of
 * stream events): the body itself, or a path inside it, converted exactly
 * as from the record.  Raises, naming uri, for bytes that are not UTF-8
 * and malformed JSON, and for values that do not convert; with an
 * ErrorSaveContext in escontext, saves that error there and returns false.
 */
bool
bedlog_decode_body(BedlogDecoder *d, int b, const char *text, size_t len,
				   const char *uri, BedlogDecodePosition *pos,
				   Datum *values, bool *nulls, Node *escontext)
{
	BjKind		top;
	BjError		err;
	BjValue		whole;
	int			i;

	if (d->body_scanner == NULL)
	{
		d->body_scanner = bj_scanner_create(NULL, BJ_DEFAULT_MAX_DEPTH);
		if (d->body_scanner == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
	}
	if (!pg_verify_mbstr(PG_UTF8, text, (int) len, true))
		ereturn(escontext, false,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("invalid UTF-8 in large body \"%s\"", uri)));
	if (bj_scan(d->body_scanner, text, len, NULL, 0, &top, &err) != 0)
		ereturn(escontext, false,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("malformed JSON in large body \"%s\"", uri),
				 errdetail("%s at byte %zu.", err.msg, err.offset + 1)));
	whole.kind = top;
	whole.has_escapes = 1;		/* unknown: assume so */
	whole.ptr = text;
	whole.len = len;

	for (i = 0; i < d->ncols; i++)
	{
		BedlogDecodeColumn *col = &d->cols[i];
		BjValue		v;

		if (col->body != b)
			continue;
		if (bj_resolve(&whole, col->body_rest, col->nbody_rest, &v, &err) != 0)
			ereturn(escontext, false,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("malformed JSON in large body \"%s\"", uri),
					 errdetail("%s.", err.msg)));
		pos->column = col->name;
		values[col->index] = convert_value(d, col, &v, &nulls[col->index],
										   escontext);
		if (SOFT_ERROR_OCCURRED(escontext))
			return false;
		pos->column = NULL;
	}
	return true;
}

/*
 * The timestamptz of a JSON value, as a timestamptz column would read it
 * (a string in ISO 8601).  Raises when it does not convert.
 */
TimestampTz
bedlog_json_timestamptz(const BjValue *v)
{
	TimestampTz ts;
	char	   *s;
	size_t		n;

	if (fast_timestamptz(v, &ts))
		return ts;
	if (v->kind != BJ_STRING)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
				 errmsg("the timestamp of a record is not a JSON string")));
	s = bedlog_json_string(v, &n, true);
	if (s[0] < '0' || s[0] > '9')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
				 errmsg("invalid input syntax for type timestamp with time zone: \"%s\"", s),
				 errdetail("Date and time values in the logs must be ISO 8601, such as \"2026-11-01T12:00:00Z\".")));
	return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(s),
												   ObjectIdGetDatum(InvalidOid),
												   Int32GetDatum(-1)));
}
