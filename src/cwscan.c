/*-------------------------------------------------------------------------
 *
 * cwscan.c
 *		Scans of CloudWatch Logs tables (option log_group): the request
 *		the conditions make, and its pages as the objects of the scan.
 *
 * Design notes.  A CloudWatch Logs table reads the events of one
 * FilterLogEvents call (cwlogs.c) instead of listing and reading objects.
 * To the rest of the scan a page of events is what an object is to an S3
 * table: scan.c asks here for the next page where it would open the next
 * object, and the lines of the page are the events' messages, numbered
 * from 1, so that the row loop, the rows read ahead for large bodies
 * (readahead.c), on_error 'skip' and the decoder serve both kinds of
 * table alike.  The decoder is told the page, so that the virtual columns
 * log_stream, event_id and ingestion_time find the event of a line.
 *
 * The pushed-down conditions (pushdown.c) become the request's
 * parameters, evaluated when the scan starts: the time range its
 * startTime and endTime, and the equalities and IN lists on the account,
 * region, model, operation and identity columns, and error_code IS NOT
 * NULL, a JSON filterPattern.  The service's
 * matching only narrows what is sent: every condition is still applied
 * here, the same per-record filter as for S3 tables, then as a local
 * filter, so an answer never depends on how CloudWatch matches.  Bedrock
 * stamps each event with the record's timestamp, truncated to the
 * millisecond, so a record whose timestamp is within [lo, hi] has an
 * event time within [floor(lo), floor(hi)] in milliseconds:
 * FilterLogEvents takes both ends inclusive.  A value the pattern syntax
 * cannot carry plainly (a quote, a backslash, a wildcard) is not pushed:
 * its column is then filtered here only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/explain.h"
#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "bedlog_fdw.h"

/* FilterLogEvents' limit on filterPattern (the service model's max) */
#define BEDLOG_CW_PATTERN_MAX	1024

/* Microseconds from 1970 to 2000, PostgreSQL's epoch. */
#define BEDLOG_UNIX_TO_PG_USECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/* The JSON member of each text target's column. */
static const char *const member_of[BEDLOG_NTEXT_TARGETS] = {
	"accountId", "region", "modelId", "operation", "identity.arn"
};

/* Milliseconds since 1970 of a finite timestamptz, rounded down. */
static int64
unix_ms(TimestampTz t)
{
	int64		us = t + BEDLOG_UNIX_TO_PG_USECS;

	return us >= 0 ? us / 1000 : -((-us + 999) / 1000);
}

/* Can v go into a filter pattern as a plain quoted string? */
static bool
pattern_value_ok(const char *v)
{
	return v[0] != '\0' &&
		strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 _.:/@+=,-") == strlen(v);
}

/*
 * The filterPattern of the text constraints of prune, or NULL when none
 * can be pushed.
 */
static char *
filter_pattern(const BedlogPrune *prune)
{
	List	   *terms = NIL;
	List	   *multi = NIL;	/* of terms: an || of several values */
	StringInfoData buf;
	int			total = 0;
	int			ph;
	ListCell   *lc;
	ListCell   *lc2;

	for (ph = 0; ph < BEDLOG_NTEXT_TARGETS; ph++)
	{
		const BedlogTextConstraint *c = &prune->text[ph];
		StringInfoData term;
		bool		ok = true;

		if (!c->active || !c->has_values || c->values == NIL)
			continue;
		initStringInfo(&term);
		foreach(lc, c->values)
		{
			const char *v = (const char *) lfirst(lc);

			if (!pattern_value_ok(v))
			{
				ok = false;
				break;
			}
			if (list_length(c->values) == 1)
				appendStringInfo(&term, "$.%s = \"%s\"", member_of[ph], v);
			else
				appendStringInfo(&term, "%s($.%s = \"%s\")",
								 foreach_current_index(lc) > 0 ? " || " : "",
								 member_of[ph], v);
		}
		/* too long for the service: this column is filtered here only */
		if (!ok || total + term.len + 16 > BEDLOG_CW_PATTERN_MAX)
			continue;
		total += term.len + 8;
		terms = lappend(terms, term.data);
		multi = lappend_int(multi, list_length(c->values) > 1);
	}

	/*
	 * error_code IS NOT NULL: "*" matches any string value, and Bedrock's
	 * errorCode, when there is one, is a string (the AWS CDK's
	 * FilterPattern.exists() writes the same test).
	 */
	if (prune->error_not_null)
	{
		terms = lappend(terms, pstrdup("$.errorCode = \"*\""));
		multi = lappend_int(multi, false);
	}
	if (terms == NIL)
		return NULL;
	initStringInfo(&buf);
	appendStringInfoString(&buf, "{ ");
	forboth(lc, terms, lc2, multi)
	{
		bool		paren = lfirst_int(lc2) && list_length(terms) > 1;

		appendStringInfo(&buf, "%s%s%s%s",
						 foreach_current_index(lc) > 0 ? " && " : "",
						 paren ? "(" : "", (char *) lfirst(lc), paren ? ")" : "");
	}
	appendStringInfoString(&buf, " }");
	return buf.data;
}

/* Evaluate the conditions into the scan's prune and request parameters. */
static void
plan_request(ForeignScanState *node, BedlogScanState *st)
{
	bedlog_pushdown_evaluate(st->conds, st->cond_states,
							 node->ss.ps.ps_ExprContext, 0, &st->prune);
	st->cw_start_ms = st->cw_end_ms = -1;
	if (st->prune.has_time)
	{
		if (!TIMESTAMP_NOT_FINITE(st->prune.ts_lo))
			st->cw_start_ms = Max(unix_ms(st->prune.ts_lo), 0);
		if (!TIMESTAMP_NOT_FINITE(st->prune.ts_hi))
		{
			/*
			 * An event's time may come after its record's timestamp: Bedrock
			 * publishes the record when the invocation ends (a long stream),
			 * and the record's timestamp may be cut to whole seconds.  So
			 * the request's end is widened by delivery_delay, as S3 listings
			 * are; the backend filters each record by its own timestamp.
			 */
			if (unix_ms(st->prune.ts_hi) < 0)
				st->prune.empty = true;
			else
				st->cw_end_ms = unix_ms(st->prune.ts_hi) +
					st->opts.delivery_delay / 1000;
		}
	}
	st->cw_pattern = filter_pattern(&st->prune);
}

/*
 * The next page of events with at least one event, as the scan's current
 * "object"; false at the end of the call.  The first call starts it, from
 * the conditions evaluated now.
 */
bool
bedlog_cwscan_next_page(ForeignScanState *node, BedlogScanState *st)
{
	MemoryContext oldcxt;

	st->pos.event_id = NULL;
	st->pos.line = 0;
	if (!st->cw_started)
	{
		oldcxt = MemoryContextSwitchTo(st->tasks_cxt);
		plan_request(node, st);
		bedlog_decoder_set_filter(st->decoder, &st->prune);
		MemoryContextSwitchTo(oldcxt);
		st->cw_started = true;
		if (st->prune.empty)
		{
			st->listing_done = true;
			return false;
		}
		bedlog_cw_start(st->cw, st->opts.log_group, st->cw_start_ms,
						st->cw_end_ms, st->cw_pattern);
	}
	if (st->listing_done)
		return false;
	/* a failed request names the group itself: no event is in hand */
	st->pos.uri = NULL;
	for (;;)
	{
		BedlogCwEvent *events;
		int			n;
		bool		more;

		bedlog_decoder_set_events(st->decoder, NULL, 0);
		st->cw_events = NULL;
		st->cw_nevents = 0;
		MemoryContextReset(st->cw_page_cxt);
		oldcxt = MemoryContextSwitchTo(st->cw_page_cxt);
		more = bedlog_cw_next_page(st->cw, &events, &n);
		MemoryContextSwitchTo(oldcxt);
		if (!more)
		{
			st->listing_done = true;
			return false;
		}
		if (n == 0)
			continue;			/* an empty page may still have a next */
		st->cw_events = events;
		st->cw_nevents = n;
		st->cw_pos = 0;
		bedlog_decoder_set_events(st->decoder, events, n);
		st->pos.uri = st->opts.log_group;
		st->cur_key = st->opts.log_group;
		st->in_object = true;
		return true;
	}
}

/* The next event of the page: its message as the line, numbered from 1. */
bool
bedlog_cwscan_next_line(BedlogScanState *st, const char **line, size_t *len,
						int64 *lineno)
{
	const BedlogCwEvent *ev;

	if (st->cw_pos >= st->cw_nevents)
		return false;
	ev = &st->cw_events[st->cw_pos++];
	*line = ev->message;
	*len = ev->len;
	*lineno = st->cw_pos;
	st->pos.event_id = ev->event_id;
	return true;
}

/* Start over: the call is made again, from the conditions then. */
void
bedlog_cwscan_rescan(BedlogScanState *st)
{
	st->cw_started = false;
	st->cw_events = NULL;
	st->cw_nevents = 0;
	st->cw_pos = 0;
	st->pos.event_id = NULL;
	if (st->decoder)
		bedlog_decoder_set_events(st->decoder, NULL, 0);
	if (st->cw_page_cxt)
		MemoryContextReset(st->cw_page_cxt);
}

/* "1793491200000 (2026-11-01 00:00:00+00)" for EXPLAIN, or "none". */
static char *
describe_ms(int64 ms)
{
	struct pg_tm tm;
	fsec_t		fsec;
	TimestampTz t;

	if (ms < 0)
		return pstrdup("none");
	t = ms * 1000 - BEDLOG_UNIX_TO_PG_USECS;
	if (timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) != 0)
		return psprintf(INT64_FORMAT, ms);
	return psprintf(INT64_FORMAT " (%04d-%02d-%02dT%02d:%02d:%02d.%03dZ)", ms,
					tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min,
					tm.tm_sec, (int) (fsec / 1000));
}

/*
 * EXPLAIN of a CloudWatch Logs table: the group, how each condition
 * narrows the request; once the scan has started (ANALYZE), the request
 * made, and what it cost.
 */
/* Does the expression hold a Param (of a generic plan, say)? */
static bool
has_param_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param))
		return true;
	return expression_tree_walker(node, has_param_walker, context);
}

void
bedlog_cwscan_explain(ForeignScanState *node, BedlogScanState *st,
					  ExplainState *es)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	ListCell   *lc;
	List	   *descs = NIL;

	ExplainPropertyText("CloudWatch Logs Group", st->location, es);
	foreach(lc, st->conds)
	{
		BedlogCondKind kind;
		int			target;
		Oid			righttype;
		char	   *desc;

		bedlog_pushdown_cond_info(lfirst(lc), &kind, &target, &righttype, &desc);
		if (kind == BEDLOG_COND_TIME)
			descs = lappend(descs, psprintf("%s: startTime and endTime", desc));
		else if (kind == BEDLOG_COND_TEXT_PREFIX && target != BEDLOG_TARGET_IDENTITY)
			descs = lappend(descs, psprintf("%s: per record, before decoding", desc));
		else if (kind == BEDLOG_COND_TEXT_PREFIX)
			descs = lappend(descs, psprintf("%s: as a filter only", desc));
		else if (kind == BEDLOG_COND_NOT_NULL || target == BEDLOG_TARGET_IDENTITY)
			descs = lappend(descs, psprintf("%s: filterPattern, and as a filter", desc));
		else
			descs = lappend(descs, psprintf("%s: filterPattern, and per record", desc));
	}
	if (descs != NIL)
		ExplainPropertyList("CloudWatch Pushdown", descs, es);

	/*
	 * EXPLAIN alone: the request the conditions make now, unless one holds
	 * a parameter that has no value yet (then it is made when the scan
	 * starts).
	 */
	if (!st->cw_started && !es->analyze)
	{
		if (has_param_walker((Node *) plan->fdw_exprs, NULL))
		{
			ExplainPropertyText("CloudWatch Request", "made from the parameters when the scan starts", es);
			return;
		}
		plan_request(node, st);
		st->cw_started = true;
	}
	if (!st->cw_started)
		return;
	if (st->prune.empty)
	{
		ExplainPropertyText("CloudWatch Request", "none: the conditions match nothing", es);
		return;
	}
	ExplainPropertyText("CloudWatch Start Time", describe_ms(st->cw_start_ms), es);
	ExplainPropertyText("CloudWatch End Time", describe_ms(st->cw_end_ms), es);
	ExplainPropertyText("CloudWatch Filter Pattern",
						st->cw_pattern ? st->cw_pattern : "none", es);
	if (es->analyze && st->cw)
	{
		const BedlogCwStats *cs = bedlog_cw_stats(st->cw);

		ExplainPropertyInteger("CloudWatch Requests", NULL, cs->requests, es);
		ExplainPropertyInteger("CloudWatch Pages", NULL, cs->pages, es);
		ExplainPropertyInteger("CloudWatch Events", NULL, cs->events, es);
		if (cs->retries > 0)
		{
			ExplainPropertyInteger("CloudWatch Retries", NULL, cs->retries, es);
			ExplainPropertyInteger("CloudWatch Throttled", NULL, cs->throttled, es);
		}
		if (es->verbose)
			ExplainPropertyInteger("CloudWatch Bytes Read", "bytes", cs->bytes_received, es);
		ExplainPropertyInteger("Records Rejected Early", NULL, st->rows_rejected, es);
		if (st->skip_bad)
			ExplainPropertyInteger("Bad Records Skipped", NULL, st->records_bad, es);
		if (st->bodies)
		{
			ExplainPropertyInteger("Large Bodies Fetched", NULL, st->bodies_fetched, es);
			ExplainPropertyInteger("Large Bodies Missing", NULL, st->bodies_missing, es);
		}
	}
}
