/*-------------------------------------------------------------------------
 *
 * keyspace.c
 *		Key templates, and turning predicates into the few S3 listings
 *		that can hold matching records.
 *
 * Design notes.  A key template describes where log objects lie below
 * the location, one '/'-terminated segment at a time; Bedrock's own is
 *   AWSLogs/${account_id}/BedrockModelInvocationLogs/${region}/${yyyy}/${MM}/${dd}/${HH}/
 * and users who re-partition their logs describe theirs, for example
 *   model=${model_id}/op=${operation}/${yyyy}-${MM}-${dd}/
 * The object itself is the last part of the key, directly below the
 * template's last segment.
 *
 * Planning a scan (bedlog_keyspace_first_tasks and _expand) walks the
 * template from the location down.  Literal segments are appended; a
 * segment whose placeholders all have a finite set of values from the
 * query (account_id = ..., region IN (...)) is enumerated; a segment
 * that must be discovered is listed with a delimiter, and the common
 * prefixes S3 returns are matched and filtered.  When everything left of
 * the template is time (year, month, day, hour), the time range picks
 * either one listing per time folder (few folders) or one ranged listing
 * with start-after that stops past the upper bound (many folders).  When
 * nothing below a level is constrained, the level is listed whole,
 * without a delimiter.  Every object the listings return is still
 * matched against the whole template and the predicates, so a listing
 * that returns too much costs requests, never correctness.
 *
 * Time: Bedrock files a record under the time its file was written,
 * which is at or after the record's timestamp and at most delivery_delay
 * later.  So records stamped in [lo, hi] lie in files written in
 * [lo, hi + delivery_delay]: folders by hour, and inside a folder, file
 * names carry the write time to the millisecond.
 *
 * This file only computes; the caller runs the listings.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "miscadmin.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "bedlog_fdw.h"

/* The default template: Bedrock's own layout. */
const char *const bedlog_default_key_template =
"AWSLogs/${account_id}/BedrockModelInvocationLogs/${region}/${yyyy}/${MM}/${dd}/${HH}/";

/* More time folders than this are listed with one ranged listing. */
#define BEDLOG_MAX_FOLDER_LISTINGS	48

static const char *const placeholder_names[BEDLOG_PH_COUNT] = {
	"account_id", "region", "model_id", "operation", "yyyy", "MM", "dd", "HH"
};

/* Width of a time placeholder's digits. */
static int
time_width(int ph)
{
	return ph == BEDLOG_PH_YEAR ? 4 : 2;
}

static inline bool
is_time_ph(int ph)
{
	return ph >= BEDLOG_PH_YEAR;
}

/* The name of a placeholder, as written in templates. */
const char *
bedlog_placeholder_name(int ph)
{
	return placeholder_names[ph];
}

/*
 * The key template of option key_template, parsed; raise when it is not
 * valid (the validator checks it, so only a template written before a
 * change of the rules can fail here).
 */
BedlogTemplate *
bedlog_template_from_option(const char *text)
{
	char	   *msg;
	BedlogTemplate *t = bedlog_template_parse(text, &msg);

	if (t == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"key_template\": \"%s\"", text),
				 errdetail("%s.", msg)));
	return t;
}

/*
 * Parse a key template.  Returns the template (palloc'd), or NULL with
 * *errmsg set (palloc'd) when it is malformed.
 */
BedlogTemplate *
bedlog_template_parse(const char *text, char **errmsg)
{
	BedlogTemplate *t = palloc0(sizeof(BedlogTemplate));
	const char *p = text;
	int			seen[BEDLOG_PH_COUNT] = {0};
	int			last_time = -1;
	int			i;

	*errmsg = NULL;
	if (*text == '\0' || text[strlen(text) - 1] != '/')
	{
		*errmsg = pstrdup("a key template must end with \"/\"");
		return NULL;
	}
	if (*text == '/')
	{
		*errmsg = pstrdup("a key template must not start with \"/\"");
		return NULL;
	}
	t->text = pstrdup(text);
	while (*p)
	{
		BedlogTemplateSegment *seg = &t->segments[t->nsegments];

		if (t->nsegments == BEDLOG_MAX_SEGMENTS)
		{
			*errmsg = psprintf("a key template may have at most %d segments", BEDLOG_MAX_SEGMENTS);
			return NULL;
		}
		while (*p != '/')
		{
			BedlogTemplatePiece *piece;

			if (seg->npieces == BEDLOG_MAX_PIECES)
			{
				*errmsg = psprintf("a key template segment may have at most %d parts", BEDLOG_MAX_PIECES);
				return NULL;
			}
			piece = &seg->pieces[seg->npieces];
			if (p[0] == '$' && p[1] == '{')
			{
				const char *end = strchr(p, '}');
				int			ph;

				if (end == NULL)
				{
					*errmsg = pstrdup("unterminated \"${\" in key template");
					return NULL;
				}
				for (ph = 0; ph < BEDLOG_PH_COUNT; ph++)
				{
					if (strlen(placeholder_names[ph]) == (size_t) (end - p - 2) &&
						strncmp(p + 2, placeholder_names[ph], end - p - 2) == 0)
						break;
				}
				if (ph == BEDLOG_PH_COUNT)
				{
					*errmsg = psprintf("unknown placeholder \"%.*s\" in key template",
									   (int) (end - p + 1), p);
					return NULL;
				}
				if (seen[ph]++)
				{
					*errmsg = psprintf("placeholder \"${%s}\" appears twice in key template",
									   placeholder_names[ph]);
					return NULL;
				}
				if (seg->npieces > 0 && seg->pieces[seg->npieces - 1].ph >= 0 &&
					!is_time_ph(seg->pieces[seg->npieces - 1].ph))
				{
					*errmsg = psprintf("placeholder \"${%s}\" must be separated from the one before it by text",
									   placeholder_names[ph]);
					return NULL;
				}
				if (is_time_ph(ph))
				{
					if (ph < last_time)
					{
						*errmsg = pstrdup("time placeholders must appear in the order ${yyyy}, ${MM}, ${dd}, ${HH}");
						return NULL;
					}
					last_time = ph;
					seg->has_time = true;
					t->has_time = true;
					t->finest_time = ph;
				}
				else
					seg->has_text = true;
				piece->ph = ph;
				piece->literal = NULL;
				p = end + 1;
			}
			else
			{
				const char *start = p;

				while (*p != '/' && !(p[0] == '$' && p[1] == '{'))
					p++;
				piece->ph = -1;
				piece->literal = pnstrdup(start, p - start);
				piece->len = p - start;
			}
			seg->npieces++;
		}
		if (seg->npieces == 0)
		{
			*errmsg = pstrdup("a key template must not contain an empty segment (\"//\")");
			return NULL;
		}
		p++;					/* the '/' */
		t->nsegments++;
	}

	/* time parts must form a prefix of yyyy, MM, dd, HH */
	for (i = BEDLOG_PH_YEAR; i <= BEDLOG_PH_HOUR; i++)
	{
		if (i > BEDLOG_PH_YEAR && seen[i] && !seen[i - 1])
		{
			*errmsg = psprintf("placeholder \"${%s}\" needs \"${%s}\" before it",
							   placeholder_names[i], placeholder_names[i - 1]);
			return NULL;
		}
	}
	for (i = 0; i < BEDLOG_PH_COUNT; i++)
		t->has_placeholder[i] = seen[i] > 0;
	/* Bedrock names its files by their write time; other layouts may not */
	t->bedrock_names = (strcmp(text, bedlog_default_key_template) == 0);
	/* the trailing run of segments that hold only time and literals */
	t->time_tail_start = t->nsegments;
	if (t->has_time)
	{
		for (i = t->nsegments - 1; i >= 0; i--)
		{
			if (t->segments[i].has_text)
				break;
			t->time_tail_start = i;
		}
		/* the tail must start at a time segment and hold all of them */
		while (t->time_tail_start < t->nsegments &&
			   !t->segments[t->time_tail_start].has_time)
			t->time_tail_start++;
		for (i = 0; i < t->time_tail_start; i++)
		{
			if (t->segments[i].has_time)
			{
				t->time_tail_start = t->nsegments;	/* time is not all at the end */
				break;
			}
		}
	}
	return t;
}

/*
 * Match s[0..len) against the pieces of one segment (without its '/'),
 * recording placeholder values in *vals.  Text placeholders match one or
 * more characters up to the next literal; time placeholders match their
 * exact number of digits.  Returns false when it does not match.
 */
static bool
match_segment(const BedlogTemplateSegment *seg, const char *s, int len,
			  BedlogKeyValues *vals)
{
	int			pos = 0;
	int			i;

	for (i = 0; i < seg->npieces; i++)
	{
		const BedlogTemplatePiece *piece = &seg->pieces[i];

		if (piece->ph < 0)
		{
			if (len - pos < piece->len || memcmp(s + pos, piece->literal, piece->len) != 0)
				return false;
			pos += piece->len;
		}
		else if (is_time_ph(piece->ph))
		{
			int			w = time_width(piece->ph);
			int			v = 0;
			int			k;

			if (len - pos < w)
				return false;
			for (k = 0; k < w; k++)
			{
				char		c = s[pos + k];

				if (c < '0' || c > '9')
					return false;
				v = v * 10 + (c - '0');
			}
			vals->time[piece->ph - BEDLOG_PH_YEAR] = v;
			vals->has[piece->ph] = true;
			pos += w;
		}
		else
		{
			/* up to the next literal, or the end of the segment */
			int			end;

			if (i + 1 < seg->npieces)
			{
				const BedlogTemplatePiece *next = &seg->pieces[i + 1];
				const char *hit = NULL;
				int			k;

				/* the next piece is a literal (parse guarantees it) */
				for (k = pos + 1; k + next->len <= len; k++)
				{
					if (memcmp(s + k, next->literal, next->len) == 0)
					{
						hit = s + k;
						break;
					}
				}
				if (hit == NULL)
					return false;
				end = hit - s;
			}
			else
				end = len;
			if (end <= pos)
				return false;
			vals->text[piece->ph] = s + pos;
			vals->text_len[piece->ph] = end - pos;
			vals->has[piece->ph] = true;
			pos = end;
		}
	}
	return pos == len;
}

/* Are the time values in vals a valid date and hour, as far as present? */
static bool
time_values_valid(const BedlogKeyValues *vals)
{
	if (vals->has[BEDLOG_PH_MONTH] && (vals->time[1] < 1 || vals->time[1] > 12))
		return false;
	if (vals->has[BEDLOG_PH_DAY] && (vals->time[2] < 1 || vals->time[2] > 31))
		return false;
	if (vals->has[BEDLOG_PH_HOUR] && vals->time[3] > 23)
		return false;
	return true;
}

/*
 * Match a key below the layout base against the template: all segments,
 * then a file name with no '/'.  Fills *vals.  Returns the verdict (see
 * BedlogKeyVerdict); file_start receives where the file name starts.
 */
BedlogKeyVerdict
bedlog_template_match_key(const BedlogTemplate *t, const char *rest,
						  BedlogKeyValues *vals, const char **file)
{
	const char *p = rest;
	int			i;

	memset(vals, 0, sizeof(*vals));
	for (i = 0; i < t->nsegments; i++)
	{
		const char *slash = strchr(p, '/');

		if (slash == NULL || !match_segment(&t->segments[i], p, slash - p, vals))
			return BEDLOG_KEY_OTHER;
		p = slash + 1;
	}
	if (!time_values_valid(vals))
		return BEDLOG_KEY_OTHER;
	*file = p;
	if (strncmp(p, "data/", 5) == 0)
		return BEDLOG_KEY_LARGE_DATA;
	if (*p == '\0' || strchr(p, '/') != NULL)
		return BEDLOG_KEY_OTHER;
	return BEDLOG_KEY_LOG;
}

/*
 * The write time in a Bedrock file name, "YYYYMMDDTHHMMSSmmmZ_<hex>...":
 * returns false when the name is not of that form.
 */
bool
bedlog_file_write_time(const char *file, TimestampTz *result)
{
	int			v[7];
	static const int widths[7] = {4, 2, 2, 2, 2, 2, 3};
	static const int offsets[7] = {0, 4, 6, 9, 11, 13, 15};
	int			i;

	if (strlen(file) < 20 || file[8] != 'T' || file[18] != 'Z')
		return false;
	for (i = 0; i < 7; i++)
	{
		int			k;

		v[i] = 0;
		for (k = 0; k < widths[i]; k++)
		{
			char		c = file[offsets[i] + k];

			if (c < '0' || c > '9')
				return false;
			v[i] = v[i] * 10 + (c - '0');
		}
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > day_tab[isleap(v[0])][v[1] - 1] ||
		v[3] > 23 || v[4] > 59 || v[5] > 59)
		return false;
	*result = ((TimestampTz) (date2j(v[0], v[1], v[2]) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY) +
		((TimestampTz) v[3] * SECS_PER_HOUR + v[4] * SECS_PER_MINUTE + v[5]) * USECS_PER_SEC +
		(TimestampTz) v[6] * 1000;
	return true;
}

/*
 * The interval of time [*start, *end) that the time values present in
 * vals cover (a year, a month, a day or an hour).  Returns false when no
 * time value is present.
 */
static bool
time_values_span(const BedlogKeyValues *vals, TimestampTz *start, TimestampTz *end)
{
	int			y,
				mo,
				d,
				h;
	int			ny,
				nmo,
				nd;

	if (!vals->has[BEDLOG_PH_YEAR])
		return false;
	y = vals->time[0];
	mo = vals->has[BEDLOG_PH_MONTH] ? vals->time[1] : 1;
	d = vals->has[BEDLOG_PH_DAY] ? vals->time[2] : 1;
	h = vals->has[BEDLOG_PH_HOUR] ? vals->time[3] : 0;
	if (mo < 1 || mo > 12 || d < 1 || d > day_tab[isleap(y)][mo - 1])
		return false;
	*start = ((TimestampTz) (date2j(y, mo, d) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY) +
		(TimestampTz) h * USECS_PER_HOUR;
	if (vals->has[BEDLOG_PH_HOUR])
		*end = *start + USECS_PER_HOUR;
	else if (vals->has[BEDLOG_PH_DAY])
		*end = *start + USECS_PER_DAY;
	else
	{
		ny = y;
		nmo = mo;
		nd = 1;
		if (vals->has[BEDLOG_PH_MONTH])
		{
			if (++nmo > 12)
			{
				nmo = 1;
				ny++;
			}
		}
		else
			ny++;
		*end = (TimestampTz) (date2j(ny, nmo, nd) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY;
	}
	return true;
}

/*
 * Does a value of a text placeholder satisfy its constraint?  An
 * unconstrained placeholder accepts everything.
 */
bool
bedlog_text_constraint_ok(const BedlogTextConstraint *c, const char *v, int len)
{
	ListCell   *lc;

	if (!c->active)
		return true;
	if (c->has_values)
	{
		bool		found = false;

		foreach(lc, c->values)
		{
			const char *x = (const char *) lfirst(lc);

			if ((int) strlen(x) == len && memcmp(x, v, len) == 0)
			{
				found = true;
				break;
			}
		}
		if (!found)
			return false;
	}
	foreach(lc, c->prefixes)
	{
		const char *x = (const char *) lfirst(lc);
		int			xl = strlen(x);

		if (len < xl || memcmp(x, v, xl) != 0)
			return false;
	}
	return true;
}

/*
 * Is an object (or a folder) with these values possibly holding matching
 * records?  Checks the text placeholders present and, when there is a
 * time range, the time the values cover, or the file's write time.
 */
bool
bedlog_keyspace_values_ok(const BedlogPrune *prune, const BedlogKeyValues *vals,
						  const char *file)
{
	int			ph;
	TimestampTz start,
				end;

	for (ph = 0; ph < BEDLOG_PH_YEAR; ph++)
	{
		if (vals->has[ph] &&
			!bedlog_text_constraint_ok(&prune->text[ph], vals->text[ph], vals->text_len[ph]))
			return false;
	}
	if (!prune->has_time)
		return true;
	if (file)
	{
		TimestampTz w;

		if (bedlog_file_write_time(file, &w))
			return w >= prune->write_lo && w <= prune->write_hi;
	}
	if (time_values_span(vals, &start, &end))
		return end > prune->write_lo && start <= prune->write_hi;
	return true;
}

/* Append the rendering of one segment with the values in vals. */
static void
render_segment(StringInfo buf, const BedlogTemplateSegment *seg,
			   const BedlogKeyValues *vals)
{
	int			i;

	for (i = 0; i < seg->npieces; i++)
	{
		const BedlogTemplatePiece *piece = &seg->pieces[i];

		if (piece->ph < 0)
			appendBinaryStringInfo(buf, piece->literal, piece->len);
		else if (is_time_ph(piece->ph))
			appendStringInfo(buf, "%0*d", time_width(piece->ph),
							 vals->time[piece->ph - BEDLOG_PH_YEAR]);
		else
			appendBinaryStringInfo(buf, vals->text[piece->ph], vals->text_len[piece->ph]);
	}
	appendStringInfoChar(buf, '/');
}

/* Break ts down in UTC, or raise. */
static void
utc_tm(TimestampTz ts, struct pg_tm *tm, fsec_t *fsec)
{
	if (timestamp2tm(ts, NULL, tm, fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
}

/* Set vals' time values from a timestamp (UTC). */
static void
time_to_values(TimestampTz ts, BedlogKeyValues *vals)
{
	struct pg_tm tm;
	fsec_t		fsec;

	utc_tm(ts, &tm, &fsec);
	vals->time[0] = tm.tm_year;
	vals->time[1] = tm.tm_mon;
	vals->time[2] = tm.tm_mday;
	vals->time[3] = tm.tm_hour;
	vals->has[BEDLOG_PH_YEAR] = vals->has[BEDLOG_PH_MONTH] =
		vals->has[BEDLOG_PH_DAY] = vals->has[BEDLOG_PH_HOUR] = true;
}

/* The start of the next time folder after the one holding ts. */
static TimestampTz
next_folder(TimestampTz ts, int finest)
{
	BedlogKeyValues v;
	TimestampTz start,
				end;

	memset(&v, 0, sizeof(v));
	time_to_values(ts, &v);
	if (finest < BEDLOG_PH_HOUR)
		v.has[BEDLOG_PH_HOUR] = false;
	if (finest < BEDLOG_PH_DAY)
		v.has[BEDLOG_PH_DAY] = false;
	if (finest < BEDLOG_PH_MONTH)
		v.has[BEDLOG_PH_MONTH] = false;
	(void) time_values_span(&v, &start, &end);
	return end;
}

/* Append a Bedrock file name's time part for ts: "YYYYMMDDTHHMMSSmmm". */
static void
render_file_time(StringInfo buf, TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;

	utc_tm(ts, &tm, &fsec);
	appendStringInfo(buf, "%04d%02d%02dT%02d%02d%02d%03d", tm.tm_year, tm.tm_mon,
					 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (fsec / 1000));
}

/* Render the time tail of t (segments from time_tail_start) for ts. */
static void
render_time_tail(StringInfo buf, const BedlogTemplate *t, TimestampTz ts)
{
	BedlogKeyValues v;
	int			i;

	memset(&v, 0, sizeof(v));
	time_to_values(ts, &v);
	for (i = t->time_tail_start; i < t->nsegments; i++)
		render_segment(buf, &t->segments[i], &v);
}

/* A new listing task. */
static BedlogListTask *
make_task(const char *prefix, int segment, BedlogListKind kind,
		  const BedlogKeyValues *vals)
{
	BedlogListTask *task = palloc0(sizeof(BedlogListTask));

	task->prefix = pstrdup(prefix);
	task->segment = segment;
	task->kind = kind;
	if (vals)
		task->vals = *vals;
	return task;
}

/* Does any segment from 'from' on have a constraint to prune with? */
static bool
constrained_below(const BedlogTemplate *t, const BedlogPrune *prune, int from)
{
	int			i,
				k;

	for (i = from; i < t->nsegments; i++)
	{
		const BedlogTemplateSegment *seg = &t->segments[i];

		for (k = 0; k < seg->npieces; k++)
		{
			int			ph = seg->pieces[k].ph;

			if (ph < 0)
				continue;
			if (is_time_ph(ph) ? prune->has_time : prune->text[ph].active)
				return true;
		}
	}
	return false;
}

/*
 * Expand the template from segment 'seg' on, below prefix (whose values
 * so far are in *vals), appending to *tasks what must be listed: folders
 * enumerated from finite value sets are walked through here; a level to
 * discover becomes a delimiter task (expanded later by
 * bedlog_keyspace_discovered); the time tail becomes folder or range
 * tasks; an unconstrained remainder becomes one recursive task.
 */
static void
expand(const BedlogTemplate *t, const BedlogPrune *prune, const char *prefix,
	   int seg_no, BedlogKeyValues *vals, List **tasks)
{
	const BedlogTemplateSegment *seg;
	int			i;

	/* literal segments: descend (they narrow the listing for free) */
	while (seg_no < t->nsegments && !t->segments[seg_no].has_text &&
		   !t->segments[seg_no].has_time)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		appendStringInfoString(&buf, prefix);
		render_segment(&buf, &t->segments[seg_no], vals);
		prefix = buf.data;
		seg_no++;
	}
	if (seg_no >= t->nsegments || !constrained_below(t, prune, seg_no))
	{
		*tasks = lappend(*tasks, make_task(prefix, seg_no, BEDLOG_LIST_ALL, vals));
		return;
	}
	seg = &t->segments[seg_no];

	/* the time tail, with a time range: folders or one ranged listing */
	if (seg_no == t->time_tail_start && prune->has_time)
	{
		TimestampTz lo = prune->write_lo;
		TimestampTz hi = prune->write_hi;
		TimestampTz f;
		int			nfolders = 0;

		/* an open end: count the folders as too many, list a range */
		if (TIMESTAMP_NOT_FINITE(lo) || TIMESTAMP_NOT_FINITE(hi))
			nfolders = BEDLOG_MAX_FOLDER_LISTINGS + 1;
		for (f = lo; f <= hi && nfolders <= BEDLOG_MAX_FOLDER_LISTINGS;
			 f = next_folder(f, t->finest_time))
			nfolders++;
		if (nfolders <= BEDLOG_MAX_FOLDER_LISTINGS)
		{
			for (f = lo; f <= hi; f = next_folder(f, t->finest_time))
			{
				StringInfoData buf;
				BedlogListTask *task;

				initStringInfo(&buf);
				appendStringInfoString(&buf, prefix);
				render_time_tail(&buf, t, f);
				task = make_task(buf.data, t->nsegments, BEDLOG_LIST_FOLDER, vals);
				task->folder_end = next_folder(f, t->finest_time);
				if (t->bedrock_names)
				{
					/* inside the folder, file names order by write time */
					if (f == lo)
					{
						initStringInfo(&buf);
						appendStringInfoString(&buf, task->prefix);
						render_file_time(&buf, lo);
						task->start_after = buf.data;
					}
					if (next_folder(f, t->finest_time) > hi)
					{
						initStringInfo(&buf);
						appendStringInfoString(&buf, task->prefix);
						render_file_time(&buf, hi);
						appendStringInfoString(&buf, "Z_~");
						task->stop_at = buf.data;
					}
				}
				*tasks = lappend(*tasks, task);
			}
		}
		else
		{
			StringInfoData buf;
			BedlogListTask *task = make_task(prefix, seg_no, BEDLOG_LIST_RANGE, vals);

			/* start after the name of the first folder (keys below it are greater) */
			if (!TIMESTAMP_NOT_FINITE(lo))
			{
				initStringInfo(&buf);
				appendStringInfoString(&buf, prefix);
				render_time_tail(&buf, t, lo);
				buf.data[--buf.len] = '\0';
				task->start_after = buf.data;
			}
			/* stop at the first key past the last folder */
			if (!TIMESTAMP_NOT_FINITE(hi))
			{
				initStringInfo(&buf);
				appendStringInfoString(&buf, prefix);
				render_time_tail(&buf, t, hi);
				task->stop_at = buf.data;
			}
			*tasks = lappend(*tasks, task);
		}
		return;
	}

	/* a segment of text placeholders that all have finite value sets */
	if (!seg->has_time)
	{
		bool		finite = true;

		for (i = 0; i < seg->npieces; i++)
		{
			int			ph = seg->pieces[i].ph;

			if (ph >= 0 && !prune->text[ph].has_values)
				finite = false;
		}
		if (finite)
		{
			/* enumerate the cartesian product of the value sets */
			int			phs[BEDLOG_MAX_PIECES];
			ListCell   *cur[BEDLOG_MAX_PIECES];
			int			n = 0;

			for (i = 0; i < seg->npieces; i++)
			{
				if (seg->pieces[i].ph >= 0)
				{
					phs[n] = seg->pieces[i].ph;
					cur[n] = list_head(prune->text[phs[n]].values);
					n++;
				}
			}
			for (;;)
			{
				BedlogKeyValues v = *vals;
				StringInfoData buf;
				int			k;

				/* long IN lists multiply: many combinations, each expanded */
				CHECK_FOR_INTERRUPTS();
				for (k = 0; k < n; k++)
				{
					const char *x = (const char *) lfirst(cur[k]);

					v.text[phs[k]] = x;
					v.text_len[phs[k]] = strlen(x);
					v.has[phs[k]] = true;
				}
				/* values with '/' cannot be one segment; and LIKE must agree */
				for (k = 0; k < n; k++)
				{
					if (memchr(v.text[phs[k]], '/', v.text_len[phs[k]]) != NULL ||
						!bedlog_text_constraint_ok(&prune->text[phs[k]], v.text[phs[k]], v.text_len[phs[k]]))
						break;
				}
				if (k == n)
				{
					initStringInfo(&buf);
					appendStringInfoString(&buf, prefix);
					render_segment(&buf, seg, &v);
					expand(t, prune, buf.data, seg_no + 1, &v, tasks);
				}
				/* next combination */
				for (k = n - 1; k >= 0; k--)
				{
					cur[k] = lnext(prune->text[phs[k]].values, cur[k]);
					if (cur[k] != NULL)
						break;
					cur[k] = list_head(prune->text[phs[k]].values);
				}
				if (k < 0)
					break;
			}
			return;
		}
	}

	/* otherwise discover this level with a delimiter listing */
	*tasks = lappend(*tasks, make_task(prefix, seg_no, BEDLOG_LIST_DISCOVER, vals));
}

/*
 * The listing tasks a scan starts with: everything below the layout base
 * prefix that the predicates leave.  Returns NIL when nothing can match.
 */
List *
bedlog_keyspace_first_tasks(const BedlogTemplate *t, const BedlogPrune *prune, int fixed_segments,
							const BedlogKeyValues *fixed_vals,
							const char *location_prefix)
{
	List	   *tasks = NIL;
	BedlogKeyValues vals = *fixed_vals;

	if (prune->empty)
		return NIL;
	if (!bedlog_keyspace_values_ok(prune, &vals, NULL))
		return NIL;
	expand(t, prune, location_prefix, fixed_segments, &vals, &tasks);
	return tasks;
}

/*
 * A delimiter listing of task returned common_prefix (one level deeper):
 * match it against the task's segment and, if it can hold matching
 * records, append the tasks below it to *tasks.
 */
void
bedlog_keyspace_discovered(const BedlogTemplate *t, const BedlogPrune *prune,
						   const BedlogListTask *task, const char *common_prefix,
						   List **tasks)
{
	const char *seg_text;
	int			len;
	BedlogKeyValues vals = task->vals;

	/*
	 * The values matched below point into the prefix, and the new tasks
	 * keep them: copy it out of the listing page, which is freed with the
	 * next page, into the caller's (the tasks') memory context.
	 */
	common_prefix = pstrdup(common_prefix);
	seg_text = common_prefix + strlen(task->prefix);
	len = strlen(seg_text);

	if (len < 2 || seg_text[len - 1] != '/')
		return;
	if (!match_segment(&t->segments[task->segment], seg_text, len - 1, &vals))
		return;
	if (!time_values_valid(&vals) || !bedlog_keyspace_values_ok(prune, &vals, NULL))
		return;
	expand(t, prune, common_prefix, task->segment + 1, &vals, tasks);
}

/* Describe a task for EXPLAIN VERBOSE and messages (palloc'd). */
char *
bedlog_keyspace_describe_task(const BedlogListTask *task)
{
	switch (task->kind)
	{
		case BEDLOG_LIST_ALL:
			return psprintf("%s (everything below)", task->prefix);
		case BEDLOG_LIST_FOLDER:
			if (task->start_after || task->stop_at)
				return psprintf("%s (files %s to %s)", task->prefix,
								task->start_after ? task->start_after + strlen(task->prefix) : "first",
								task->stop_at ? task->stop_at + strlen(task->prefix) : "last");
			return psprintf("%s", task->prefix);
		case BEDLOG_LIST_RANGE:
			return psprintf("%s (from %s to %s)", task->prefix,
							task->start_after ? task->start_after + strlen(task->prefix) : "the start",
							task->stop_at ? task->stop_at + strlen(task->prefix) : "the end");
		case BEDLOG_LIST_DISCOVER:
			return psprintf("%s (discover)", task->prefix);
	}
	return pstrdup(task->prefix);
}

/*
 * Where the template starts in a location's prefix, and what the part of
 * the prefix below that start fixes.  A location may go deeper than the
 * folder holding the layout (for Bedrock's layout, down into AWSLogs/):
 * when the template starts with a literal segment and the prefix holds
 * that segment, the layout starts there and the rest of the prefix must
 * follow the template's first segments, whose values it fixes.
 * Otherwise the layout starts at the end of the prefix.  Raises when the
 * prefix goes into the layout but does not follow it.
 */
void
bedlog_layout_base(const BedlogTemplate *t, const char *prefix, int *baselen,
				   int *fixed_segments, BedlogKeyValues *fixed_vals)
{
	const BedlogTemplateSegment *first = &t->segments[0];
	const char *p = prefix;
	const char *hit = NULL;
	int			plen = strlen(prefix);

	memset(fixed_vals, 0, sizeof(*fixed_vals));
	*baselen = plen;
	*fixed_segments = 0;
	if (first->npieces != 1 || first->pieces[0].ph >= 0)
		return;

	/* the leftmost "<literal>/" that starts a folder of the prefix */
	while ((p = strstr(p, first->pieces[0].literal)) != NULL)
	{
		int			len = first->pieces[0].len;

		if ((p == prefix || p[-1] == '/') && p[len] == '/')
		{
			hit = p;
			break;
		}
		p++;
	}
	if (hit == NULL)
		return;

	*baselen = hit - prefix;
	p = hit;
	while (*p)
	{
		const char *slash = strchr(p, '/');

		if (*fixed_segments == t->nsegments || slash == NULL ||
			!match_segment(&t->segments[*fixed_segments], p, slash - p, fixed_vals))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("location prefix \"%s\" does not follow the key template", prefix),
					 errdetail("Below \"%.*s\", keys follow \"%s\".", *baselen, prefix, t->text)));
		(*fixed_segments)++;
		p = slash + 1;
	}
}

/*
 * Decide what a listed key is: a log file to read, or what else.  The key
 * below the layout base must follow the template, with the file directly
 * in its last folder; markers, empty objects and large-data sidecars are
 * recognised.  For a log file, *vals and *file point into key.
 */
BedlogKeyVerdict
bedlog_classify_key(const BedlogTemplate *t, const char *key, int64 size,
					int baselen, BedlogKeyValues *vals, const char **file)
{
	const char *name = strrchr(key, '/');
	BedlogKeyVerdict v;

	name = name ? name + 1 : key;
	if (strstr(name, "amazon-bedrock-logs-permission-check") != NULL)
		return BEDLOG_KEY_MARKER;
	if ((int) strlen(key) < baselen)
		return BEDLOG_KEY_OTHER;
	v = bedlog_template_match_key(t, key + baselen, vals, file);
	if (v == BEDLOG_KEY_LOG && size == 0)
		return BEDLOG_KEY_EMPTY;
	return v;
}
