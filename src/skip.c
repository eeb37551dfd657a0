/*-------------------------------------------------------------------------
 *
 * skip.c
 *		on_error 'skip': bad objects and records as values, not as errors
 *
 * Design notes.  With on_error 'skip' a scan passes over a record that
 * does not decode and an object that cannot be read (corrupt gzip, S3
 * refusing it), counts them and warns once at the end.  PostgreSQL only
 * promises a clean state after an ERROR through (sub)transaction abort,
 * so the skip paths do not catch ERRORs: from PostgreSQL 16 they pass an
 * ErrorSaveContext down, and the reader and decoder save bad data there
 * as soft errors (errsave), as input functions do for file_fdw's
 * on_error.  What is not bad data (a broken connection, cancel, out of
 * memory, a type whose input function raises hard errors) raises as
 * always.
 *
 * Before 16 there is no ErrorSaveContext, so the functions here catch
 * the error instead, and only the ones skipping may answer (see
 * bedlog_skip_catch).  That is safe for the errors it keeps: they are
 * raised by this extension's reader and decoder, or by the input
 * functions of built-in types (bedlog_decoder_errors_skippable), at
 * points that hold no lock, buffer pin, file or half-made change; all
 * they leave behind is memory in contexts the caller resets.  A catch
 * block here copies the error and nothing else: it starts no request and
 * releases no transfer, so no second error can replace the first.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "bedlog_fdw.h"

#if BEDLOG_SOFT_ERRORS
/*
 * A copy of edata in the current memory context, which FreeErrorData can
 * free: a soft error is saved in the context that was current when it was
 * reported, often the row's, which the caller resets.
 */
static ErrorData *
copy_error(const ErrorData *edata)
{
	ErrorData  *copy = palloc(sizeof(ErrorData));

	memcpy(copy, edata, sizeof(ErrorData));
#define COPY_FIELD(f) (copy->f = edata->f ? pstrdup(edata->f) : NULL)
	COPY_FIELD(message);
	COPY_FIELD(detail);
	COPY_FIELD(detail_log);
	COPY_FIELD(hint);
	COPY_FIELD(context);
	COPY_FIELD(backtrace);
	COPY_FIELD(schema_name);
	COPY_FIELD(table_name);
	COPY_FIELD(column_name);
	COPY_FIELD(datatype_name);
	COPY_FIELD(constraint_name);
	COPY_FIELD(internalquery);
#undef COPY_FIELD
	return copy;
}

/*
 * The error saved in es, moved into errcxt (*edata), and es cleared; or
 * *edata NULL when es holds none.
 */
static void
take_soft_error(ErrorSaveContext *es, MemoryContext errcxt, ErrorData **edata)
{
	MemoryContext oldcxt;

	*edata = NULL;
	if (!es->error_occurred)
		return;
	if (es->error_data == NULL)
		elog(ERROR, "soft error without details");
	oldcxt = MemoryContextSwitchTo(errcxt);
	*edata = copy_error(es->error_data);
	MemoryContextSwitchTo(oldcxt);
	bedlog_escontext_reset(es);
}
#endif

#if !BEDLOG_SOFT_ERRORS
/*
 * Is an error of this errcode one that skipping may answer?  object: it
 * came from reading an object (gzip, S3's answer for that object); else
 * from decoding one record (JSON, UTF-8, conversion).
 */
static bool
skippable(BedlogDecoder *decoder, int sqlerrcode, bool object)
{
	if (object)
		return sqlerrcode == ERRCODE_DATA_CORRUPTED ||
			sqlerrcode == ERRCODE_FDW_TABLE_NOT_FOUND ||
			sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE ||
			sqlerrcode == ERRCODE_PROGRAM_LIMIT_EXCEEDED ||
			sqlerrcode == ERRCODE_FDW_ERROR;
	return ERRCODE_TO_CATEGORY(sqlerrcode) == ERRCODE_DATA_EXCEPTION &&
		bedlog_decoder_errors_skippable(decoder);
}

/*
 * In a PG_CATCH block (before PostgreSQL 16 only): return the error,
 * copied into cxt (which it leaves current) and cleared, when skipping
 * may answer it (as an object's error, or as a record's; with either, as
 * one or the other); else raise it again.  Anything else (cancel, out of
 * memory, a connection failure, a failure of the client itself, an error
 * of a type whose input function is not known to be safe to interrupt)
 * is raised.
 */
static ErrorData *
skip_catch(MemoryContext cxt, BedlogDecoder *decoder, bool object,
		   bool either)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	if (!skippable(decoder, edata->sqlerrcode, object) &&
		!(either && skippable(decoder, edata->sqlerrcode, !object)))
		PG_RE_THROW();
	FlushErrorState();
	return edata;
}
#endif

/*
 * The next line of reader's current object, as bedlog_reader_next_line.
 * An object that turns out bad ends there: false is returned with *edata
 * set to its error (palloc'd in errcxt, for the caller to count and free),
 * and the reader is to be closed.  At the object's end, false with *edata
 * NULL.
 */
bool
bedlog_skip_next_line(BedlogReader *reader, BedlogDecoder *decoder,
					  const char **line, size_t *len, int64 *lineno,
					  MemoryContext errcxt, ErrorData **edata)
{
	bool		have_line = false;

	*edata = NULL;
#if BEDLOG_SOFT_ERRORS
	{
		ErrorSaveContext es = BEDLOG_ESCONTEXT_INIT;

		have_line = bedlog_reader_next_line_safe(reader, line, len, lineno,
												 (Node *) &es);
		take_soft_error(&es, errcxt, edata);
	}
#else
	{
		MemoryContext cxt = CurrentMemoryContext;

		PG_TRY();
		{
			have_line = bedlog_reader_next_line(reader, line, len, lineno);
		}
		PG_CATCH();
		{
			*edata = skip_catch(errcxt, decoder, true, false);
			MemoryContextSwitchTo(cxt);
			have_line = false;
		}
		PG_END_TRY();
	}
#endif
	return have_line;
}

/*
 * bedlog_decode_line for a scan that skips bad records: a record that does
 * not decode returns false with *edata set to its error (palloc'd in
 * errcxt); one the filters reject returns false with *edata NULL.  The
 * values are allocated in the current context, which the caller resets
 * after a bad record.
 */
bool
bedlog_skip_decode_line(BedlogDecoder *decoder, const char *line, size_t len,
						const char *key, int64 lineno,
						BedlogDecodePosition *pos, Datum *values, bool *nulls,
						MemoryContext errcxt, ErrorData **edata)
{
	bool		stored = false;

	*edata = NULL;
#if BEDLOG_SOFT_ERRORS
	{
		ErrorSaveContext es = BEDLOG_ESCONTEXT_INIT;

		stored = bedlog_decode_line(decoder, line, len, key, lineno, pos,
									values, nulls, (Node *) &es);
		take_soft_error(&es, errcxt, edata);
	}
#else
	{
		MemoryContext cxt = CurrentMemoryContext;

		PG_TRY();
		{
			stored = bedlog_decode_line(decoder, line, len, key, lineno, pos,
										values, nulls, NULL);
		}
		PG_CATCH();
		{
			*edata = skip_catch(errcxt, decoder, false, false);
			MemoryContextSwitchTo(cxt);
			stored = false;
		}
		PG_END_TRY();
	}
#endif
	pos->column = NULL;
	return stored;
}

/*
 * Run fn(arg, escontext), which decodes one record (and may read its large
 * bodies), for a scan that skips bad data: returns what fn returns, or
 * false with *edata set (palloc'd in errcxt) when fn met bad data, of the
 * record or of an object it read.  fn reports bad data through escontext
 * (from PostgreSQL 16) or raises it (before 16, when it is caught here).
 */
bool
bedlog_skip_run(BedlogSkipFn fn, void *arg, BedlogDecoder *decoder,
				MemoryContext errcxt, ErrorData **edata)
{
	bool		result = false;

	*edata = NULL;
#if BEDLOG_SOFT_ERRORS
	{
		ErrorSaveContext es = BEDLOG_ESCONTEXT_INIT;

		result = fn(arg, (Node *) &es);
		take_soft_error(&es, errcxt, edata);
	}
#else
	{
		MemoryContext cxt = CurrentMemoryContext;

		PG_TRY();
		{
			result = fn(arg, NULL);
		}
		PG_CATCH();
		{
			*edata = skip_catch(errcxt, decoder, false, true);
			MemoryContextSwitchTo(cxt);
			result = false;
		}
		PG_END_TRY();
	}
#endif
	if (*edata)
		result = false;
	return result;
}
