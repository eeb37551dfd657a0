/*-------------------------------------------------------------------------
 *
 * diff.c
 *		Differential test of src/jsonscan.c against jansson.
 *
 * Design notes: jansson is the reference parser.  Every document (the real
 * records in test/fixtures/examples/ as they are and compacted to one
 * line, random mutations of them, and a deterministic corpus of random
 * documents, Bedrock-like records and their random mutations) is handed to
 * both.  Checks: (a) bj_scan accepts exactly what jansson accepts; (b) for
 * every Bedrock record field path, and for paths drawn at random from the
 * document's own tree, the value bj_scan (+ bj_resolve for the part after
 * a negative index) finds is the one jansson finds: same kind; strings
 * unescape to the same bytes; numbers' raw text converts to jansson's
 * value; containers' raw span re-parsed by jansson is json_equal to
 * jansson's subtree; (c) bj_resolve from the document root agrees with the
 * trie; (d) random paths survive formatting and bj_path_parse.
 *
 * Where jansson deliberately differs from RFC 8259 syntax (and so from
 * bj_scan), the document is counted as skipped, by jansson's error code:
 *   - integers beyond 64 bits ("too big integer"): retried with
 *     JSON_DECODE_INT_AS_REAL, so such documents are still compared;
 *   - reals that overflow a double ("real number overflow"): skipped;
 *   - \u0000 in a member name (jansson refuses even with JSON_ALLOW_NUL;
 *     \u0000 in string values is accepted with JSON_ALLOW_NUL, and then
 *     bj_unescape must refuse it): skipped;
 *   - unpaired UTF-16 surrogate escapes (jansson refuses at parse time;
 *     bj_scan checks only escape syntax, bj_unescape refuses): skipped;
 *   - invalid UTF-8 (jansson checks; bj_scan leaves it to the caller):
 *     skipped;
 *   - nesting beyond JSON_PARSER_MAX_DEPTH (2048): skipped (depth is
 *     covered by unit.c).
 *
 * Usage: diff FIXTURE_DIR [NDOCS].  Ends with "RESULT diff passed=N
 * failed=M skipped=K".
 *
 * IDENTIFICATION
 *		test/jsonscan/diff.c
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L	/* strdup, dirent */

#include "jsonscan.h"

#include <dirent.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXSTEPS 12
#define MAXPATHS 64
#define MAXPRINT 40

static long npass;
static long nfail;
static long nskip;
static long ncorner[8];
static long ndocs;
static long nvalid;
static long ninvalid;
static long nfound;				/* path checks that found a value */

static const char *const corner_names[] = {
	"real number overflow", "NUL in member name", "unpaired surrogate",
	"invalid UTF-8", "depth > 2048", "other", "", ""
};

/* ----------------------------------------------------------------
 * Utilities
 * ----------------------------------------------------------------
 */

/* A growable byte buffer. */
typedef struct Buf
{
	char	   *d;
	size_t		len;
	size_t		cap;
} Buf;

/* Appends n bytes to b; exits when out of memory (a test program). */
static void
buf_put(Buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap)
	{
		size_t		ncap = b->cap ? b->cap * 2 : 256;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		b->d = realloc(b->d, ncap);
		if (b->d == NULL)
		{
			printf("out of memory\n");
			exit(2);
		}
		b->cap = ncap;
	}
	memcpy(b->d + b->len, s, n);
	b->len += n;
	b->d[b->len] = '\0';
}

static void
buf_puts(Buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

static void
buf_putc(Buf *b, char c)
{
	buf_put(b, &c, 1);
}

static void
buf_printf(Buf *b, const char *fmt,...)
{
	char		tmp[128];
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	buf_put(b, tmp, (size_t) n);
}

/* Deterministic xorshift64* generator. */
static uint64_t rng = UINT64_C(0x9E3779B97F4A7C15);

static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * UINT64_C(2685821657736338717);
}

/* Uniform-ish integer in [0, n). */
static unsigned
rn(unsigned n)
{
	return (unsigned) (rnd() % n);
}

/* Prints a shortened, escaped copy of doc for a failure report. */
static void
print_doc(const char *doc, size_t len)
{
	size_t		i;

	printf("    doc (%zu bytes): ", len);
	for (i = 0; i < len && i < 300; i++)
	{
		unsigned char c = (unsigned char) doc[i];

		if (c >= 0x20 && c < 0x7f)
			putchar(c);
		else
			printf("\\x%02x", c);
	}
	printf("%s\n", i < len ? "..." : "");
}

/* Counts a failed check and prints (a bounded number of) reports. */
static void
fail(const char *label, const char *doc, size_t len, const char *fmt,...)
{
	va_list		ap;

	nfail++;
	if (nfail > MAXPRINT)
		return;
	printf("FAIL diff: %s: ", label);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	print_doc(doc, len);
}

/* Copies doc without whitespace outside strings (a one-line record). */
static void
compact(const char *doc, size_t len, Buf *out)
{
	size_t		i;
	int			in_str = 0;

	out->len = 0;
	for (i = 0; i < len; i++)
	{
		char		c = doc[i];

		if (in_str)
		{
			buf_putc(out, c);
			if (c == '\\' && i + 1 < len)
				buf_putc(out, doc[++i]);
			else if (c == '"')
				in_str = 0;
		}
		else if (c == '"')
		{
			in_str = 1;
			buf_putc(out, c);
		}
		else if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			buf_putc(out, c);
	}
}

/* ----------------------------------------------------------------
 * Random documents
 * ----------------------------------------------------------------
 */

static const char *const key_pool[] = {
	"a", "b", "c", "d", "id", "type", "text", "role", "content", "metrics",
	"latencyMs", "a.b", "x[0]", "q\"t", "back\\slash", "", "caf\xc3\xa9",
	"\xf0\x9f\x98\x80", "$", "sp ace", "tab\there", "slash/ed", "modelId",
	"input", "output", "\xe2\x82\xac", "-1", "0"
};

#define NKEYS (sizeof(key_pool) / sizeof(key_pool[0]))

/* Emits optional insignificant whitespace (rarely). */
static void
gen_ws(Buf *b)
{
	static const char ws[] = " \t\r\n";

	while (rn(8) == 0)
		buf_putc(b, ws[rn(4)]);
}

/* Emits a \u escape for a BMP code unit, in random case. */
static void
put_u(Buf *b, unsigned cu)
{
	buf_printf(b, rn(2) ? "\\u%04x" : "\\u%04X", cu);
}

/* Emits code point cp inside a JSON string, escaped at random. */
static void
put_cp(Buf *b, unsigned long cp)
{
	char		u[4];
	int			n;

	if (cp == '"' || cp == '\\')
	{
		if (rn(4) == 0)
			put_u(b, (unsigned) cp);
		else
		{
			buf_putc(b, '\\');
			buf_putc(b, (char) cp);
		}
		return;
	}
	if (cp < 0x20)
	{
		const char *shortform = NULL;

		switch (cp)
		{
			case '\b':
				shortform = "\\b";
				break;
			case '\f':
				shortform = "\\f";
				break;
			case '\n':
				shortform = "\\n";
				break;
			case '\r':
				shortform = "\\r";
				break;
			case '\t':
				shortform = "\\t";
				break;
		}
		if (shortform && rn(2))
			buf_puts(b, shortform);
		else
			put_u(b, (unsigned) cp);
		return;
	}
	if (cp == '/' && rn(3) == 0)
	{
		buf_puts(b, "\\/");
		return;
	}
	if (rn(6) == 0)
	{
		if (cp >= 0x10000)
		{
			put_u(b, (unsigned) (0xD800 + ((cp - 0x10000) >> 10)));
			put_u(b, (unsigned) (0xDC00 + ((cp - 0x10000) & 0x3FF)));
		}
		else
			put_u(b, (unsigned) cp);
		return;
	}
	if (cp < 0x80)
	{
		u[0] = (char) cp;
		n = 1;
	}
	else if (cp < 0x800)
	{
		u[0] = (char) (0xC0 | (cp >> 6));
		u[1] = (char) (0x80 | (cp & 0x3F));
		n = 2;
	}
	else if (cp < 0x10000)
	{
		u[0] = (char) (0xE0 | (cp >> 12));
		u[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char) (0x80 | (cp & 0x3F));
		n = 3;
	}
	else
	{
		u[0] = (char) (0xF0 | (cp >> 18));
		u[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char) (0x80 | (cp & 0x3F));
		n = 4;
	}
	buf_put(b, u, (size_t) n);
}

/* Emits a UTF-8 text as a JSON string, escaping at random. */
static void
put_text(Buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	buf_putc(b, '"');
	while (*p)
	{
		unsigned long cp;
		int			n,
					k;

		if (*p < 0x80)
			cp = *p, n = 1;
		else if (*p < 0xE0)
			cp = *p & 0x1F, n = 2;
		else if (*p < 0xF0)
			cp = *p & 0x0F, n = 3;
		else
			cp = *p & 0x07, n = 4;
		for (k = 1; k < n; k++)
			cp = (cp << 6) | (p[k] & 0x3F);
		put_cp(b, cp);
		p += n;
	}
	buf_putc(b, '"');
}

/* Emits a random string value. */
static void
gen_string(Buf *b)
{
	int			n = rn(5) == 0 ? (int) rn(60) : (int) rn(10);
	int			i;

	buf_putc(b, '"');
	for (i = 0; i < n; i++)
	{
		unsigned	r = rn(1000);
		unsigned long cp;

		if (r < 600)
			cp = 0x20 + rn(0x5F);
		else if (r < 650)
			cp = rn(0x20);
		else if (r < 700)
			cp = "\"\\/"[rn(3)];
		else if (r < 800)
			cp = 0x80 + rn(0x800 - 0x80);
		else if (r < 900)
		{
			do
				cp = 0x800 + rn(0x10000 - 0x800);
			while (cp >= 0xD800 && cp <= 0xDFFF);
		}
		else if (r < 996)
			cp = 0x10000 + rn(0x110000 - 0x10000);
		else if (r < 998)
		{
			/* an unpaired surrogate escape: jansson corner */
			if (rn(20) == 0)
				put_u(b, 0xD800 + rn(0x800));
			continue;
		}
		else
		{
			/* \u0000: allowed by jansson with JSON_ALLOW_NUL */
			if (rn(5) == 0)
				buf_puts(b, "\\u0000");
			continue;
		}
		put_cp(b, cp);
	}
	buf_putc(b, '"');
}

/* Emits a random number from the RFC 8259 grammar. */
static void
gen_number(Buf *b)
{
	unsigned	r = rn(10);
	int			i,
				n;

	if (rn(3) == 0)
		buf_putc(b, '-');
	if (r == 0)
		buf_putc(b, '0');
	else
	{
		buf_putc(b, (char) ('1' + rn(9)));
		n = r < 9 ? (int) rn(5) : (int) rn(25);
		for (i = 0; i < n; i++)
			buf_putc(b, (char) ('0' + rn(10)));
	}
	if (rn(3) == 0)
	{
		buf_putc(b, '.');
		n = 1 + (int) rn(8);
		for (i = 0; i < n; i++)
			buf_putc(b, (char) ('0' + rn(10)));
	}
	if (rn(5) == 0)
	{
		buf_putc(b, rn(2) ? 'e' : 'E');
		r = rn(3);
		if (r == 1)
			buf_putc(b, '+');
		else if (r == 2)
			buf_putc(b, '-');
		n = rn(30) == 0 ? 3 : 1 + (int) rn(2);
		for (i = 0; i < n; i++)
			buf_putc(b, (char) ('0' + rn(10)));
	}
}

/* Emits a random value nested at most 'depth' more levels. */
static void
gen_value(Buf *b, int depth)
{
	unsigned	r = rn(100);
	int			n,
				i;

	if (depth <= 0 && r < 35)
		r = 35 + rn(65);
	if (r < 20)
	{
		buf_putc(b, '{');
		gen_ws(b);
		n = (int) rn(6);
		for (i = 0; i < n; i++)
		{
			if (i)
			{
				buf_putc(b, ',');
				gen_ws(b);
			}
			put_text(b, key_pool[rn(NKEYS)]);
			gen_ws(b);
			buf_putc(b, ':');
			gen_ws(b);
			gen_value(b, depth - 1);
			gen_ws(b);
		}
		buf_putc(b, '}');
	}
	else if (r < 35)
	{
		buf_putc(b, '[');
		gen_ws(b);
		n = (int) rn(6);
		for (i = 0; i < n; i++)
		{
			if (i)
			{
				buf_putc(b, ',');
				gen_ws(b);
			}
			gen_value(b, depth - 1);
			gen_ws(b);
		}
		buf_putc(b, ']');
	}
	else if (r < 60)
		gen_string(b);
	else if (r < 82)
		gen_number(b);
	else if (r < 88)
		buf_puts(b, "true");
	else if (r < 94)
		buf_puts(b, "false");
	else
		buf_puts(b, "null");
}

/* Emits "key": with the key escaped at random. */
static void
put_key(Buf *b, const char *key)
{
	put_text(b, key);
	gen_ws(b);
	buf_putc(b, ':');
	gen_ws(b);
}

/* Emits a random integer, occasionally of the wrong type. */
static void
gen_count(Buf *b)
{
	if (rn(30) == 0)
		gen_value(b, 1);
	else
		buf_printf(b, "%u", rn(5) ? rn(5000) : rn(2000000));
}

/* Emits a string from a small set, occasionally a random value. */
static void
gen_choice(Buf *b, const char *const *set, unsigned n)
{
	if (rn(40) == 0)
		gen_value(b, 1);
	else
		put_text(b, set[rn(n)]);
}

/*
 * Emits a Bedrock-like invocation log record: the documented fields in
 * random order, some absent, some duplicated, bodies of both shapes.
 */
static void
gen_record(Buf *b)
{
	static const char *const ops[] = {"InvokeModel", "InvokeModelWithResponseStream",
	"Converse", "ConverseStream"};
	static const char *const models[] = {"anthropic.claude-3-haiku-20240307-v1:0",
		"us.amazon.nova-lite-v1:0",
	"arn:aws:bedrock:us-east-1:111111111111:inference-profile/x"};
	static const char *const regions[] = {"us-east-1", "us-west-2", "eu-west-1"};
	static const char *const ctypes[] = {"application/json"};
	int			order[16];
	int			nf = 16;
	int			i,
				first = 1;

	for (i = 0; i < nf; i++)
		order[i] = i;
	for (i = nf - 1; i > 0; i--)
	{
		int			j = (int) rn((unsigned) i + 1);
		int			t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	buf_putc(b, '{');
	for (i = 0; i < nf + 2; i++)
	{
		int			f = i < nf ? order[i] : order[rn((unsigned) nf)];
		int			k;

		/* the last two rounds repeat a field: duplicates, last wins */
		if (i >= nf && rn(4) != 0)
			continue;
		if (f >= 7 && f != 15 && rn(5) == 0)
			continue;			/* optional fields are often absent */
		if (!first)
		{
			buf_putc(b, ',');
			gen_ws(b);
		}
		first = 0;
		switch (f)
		{
			case 0:
				put_key(b, "timestamp");
				{
					/* one rn() per statement: argument order is unspecified */
					unsigned	mo = 1 + rn(12);
					unsigned	dd = 1 + rn(28);
					unsigned	hh = rn(24);
					unsigned	mi = rn(60);
					unsigned	ss = rn(60);

					buf_printf(b, "\"2024-%02u-%02uT%02u:%02u:%02uZ\"",
							   mo, dd, hh, mi, ss);
				}
				break;
			case 1:
				put_key(b, "accountId");
				{
					unsigned	hi = rn(1000000);
					unsigned	lo = rn(1000000);

					buf_printf(b, "\"%06u%06u\"", hi, lo);
				}
				break;
			case 2:
				put_key(b, "identity");
				if (rn(20) == 0)
					gen_value(b, 2);
				else
				{
					buf_putc(b, '{');
					put_key(b, "arn");
					buf_printf(b, "\"arn:aws:iam::111111111111:user/u%u\"", rn(100));
					buf_putc(b, '}');
				}
				break;
			case 3:
				put_key(b, "region");
				gen_choice(b, regions, 3);
				break;
			case 4:
				put_key(b, "requestId");
				{
					unsigned	hi = rn(0xFFFFFFFFu);
					unsigned	lo = rn(0xFFFFFF);

					buf_printf(b, "\"%08x-0000-4000-8000-%012x\"", hi, lo);
				}
				break;
			case 5:
				put_key(b, "operation");
				gen_choice(b, ops, 4);
				break;
			case 6:
				put_key(b, "modelId");
				gen_choice(b, models, 3);
				break;
			case 7:
				put_key(b, "inferenceRegion");
				gen_choice(b, regions, 3);
				break;
			case 8:
				put_key(b, "requestMetadata");
				gen_value(b, 2);
				break;
			case 9:
				put_key(b, "errorCode");
				gen_string(b);
				break;
			case 10:
			case 11:
				put_key(b, f == 10 ? "input" : "output");
				if (rn(30) == 0)
				{
					gen_value(b, 2);
					break;
				}
				buf_putc(b, '{');
				gen_ws(b);
				for (k = 0; k < 5; k++)
				{
					const char *in[] = {"inputContentType", "inputBodyJson",
						"inputBodyS3Path", "inputTokenCount",
					"cacheReadInputTokenCount"};
					const char *outk[] = {"outputContentType", "outputBodyJson",
						"outputBodyS3Path", "outputTokenCount",
					"cacheWriteInputTokenCount"};

					if (k)
						buf_putc(b, ',');
					put_key(b, f == 10 ? in[k] : outk[k]);
					if (k == 0)
						gen_choice(b, ctypes, 1);
					else if (k == 1 && f == 11 && rn(2))
					{
						/* stream events: the last carries the metrics */
						int			n = (int) rn(5),
									e;

						buf_putc(b, '[');
						for (e = 0; e < n; e++)
						{
							gen_value(b, 3);
							buf_putc(b, ',');
						}
						buf_puts(b, "{\"type\":\"message_stop\",");
						put_key(b, "amazon-bedrock-invocationMetrics");
						buf_putc(b, '{');
						put_key(b, "inputTokenCount");
						gen_count(b);
						buf_putc(b, ',');
						put_key(b, "invocationLatency");
						gen_count(b);
						buf_puts(b, "}}]");
					}
					else if (k == 1 && f == 11)
					{
						buf_putc(b, '{');
						put_key(b, "output");
						gen_value(b, 3);
						buf_putc(b, ',');
						put_key(b, "metrics");
						buf_putc(b, '{');
						put_key(b, "latencyMs");
						gen_count(b);
						buf_puts(b, "},");
						put_key(b, "stopReason");
						buf_puts(b, "\"end_turn\"}");
					}
					else if (k == 1)
						gen_value(b, 4);
					else if (k == 2)
						buf_printf(b, "\"s3://bucket/data/%u_input.json.gz\"", rn(1000));
					else
						gen_count(b);
					gen_ws(b);
				}
				buf_putc(b, '}');
				break;
			case 12:
				put_key(b, "schemaType");
				buf_puts(b, "\"ModelInvocationLog\"");
				break;
			case 13:
				put_key(b, "schemaVersion");
				buf_puts(b, "\"1.0\"");
				break;
			case 14:
				put_key(b, key_pool[rn(NKEYS)]);
				gen_value(b, 3);
				break;
			default:
				put_key(b, "unknownFutureField");
				gen_value(b, 2);
				break;
		}
		gen_ws(b);
	}
	buf_putc(b, '}');
}

/* Applies one or two random byte-level mutations to doc, into out. */
static void
mutate(const char *doc, size_t len, Buf *out)
{
	static const char ins[] = "{}[],:\"\\ 0123456789-+.eEtfnxu\t\r\n\f\x01/";
	int			rounds = 1 + (int) rn(2);
	int			r;

	out->len = 0;
	buf_put(out, doc, len);
	for (r = 0; r < rounds; r++)
	{
		size_t		n = out->len;
		size_t		pos = n ? rn((unsigned) n) : 0;
		char	   *d = out->d;

		switch (rn(7))
		{
			case 0:				/* delete a byte */
				if (n)
				{
					memmove(d + pos, d + pos + 1, n - pos - 1);
					out->len--;
				}
				break;
			case 1:				/* insert a significant byte */
			case 2:
				buf_putc(out, ' ');
				d = out->d;
				memmove(d + pos + 1, d + pos, n - pos);
				d[pos] = ins[rn(sizeof(ins) - 1)];
				break;
			case 3:				/* replace a byte */
				if (n)
					d[pos] = ins[rn(sizeof(ins) - 1)];
				break;
			case 4:				/* truncate */
				out->len = pos;
				break;
			case 5:				/* swap neighbours */
				if (pos + 1 < n)
				{
					char		t = d[pos];

					d[pos] = d[pos + 1];
					d[pos + 1] = t;
				}
				break;
			default:			/* duplicate a slice */
				{
					size_t		sl = n - pos < 16 ? n - pos : rn(16);
					char	   *tmp = malloc(sl + 1);

					memcpy(tmp, d + pos, sl);
					buf_put(out, tmp, sl);
					d = out->d;
					memmove(d + pos + sl, d + pos, n - pos);
					memcpy(d + pos, tmp, sl);
					free(tmp);
				}
				break;
		}
		out->d[out->len] = '\0';
	}
}

/* ----------------------------------------------------------------
 * Paths
 * ----------------------------------------------------------------
 */

/* A path whose key bytes it owns. */
typedef struct DPath
{
	BjStep		steps[MAXSTEPS];
	int			nsteps;
	char	   *text;			/* the path as written, for reports */
} DPath;

static const char *const bedrock_paths[] = {
	"timestamp", "accountId", "identity.arn", "region", "inferenceRegion",
	"requestId", "operation", "modelId", "requestMetadata", "errorCode",
	"input.inputContentType", "input.inputBodyJson", "input.inputBodyS3Path",
	"input.inputTokenCount", "input.cacheReadInputTokenCount",
	"input.cacheWriteInputTokenCount", "output.outputContentType",
	"output.outputBodyJson", "output.outputBodyS3Path",
	"output.outputTokenCount", "schemaType", "schemaVersion",
	"output.outputBodyJson.metrics.latencyMs",
	"output.outputBodyJson[-1].amazon-bedrock-invocationMetrics.invocationLatency",
	"$",
	/* a few more through the bodies */
	"output.outputBodyJson[0]", "output.outputBodyJson[-2]",
	"output.outputBodyJson.output", "input.inputBodyJson.messages[-1].content",
	"input.inputBodyJson.messages[0].role", "identity", "input", "output",
	"output.outputBodyJson.usage.totalTokens",
};

#define NBEDROCK (sizeof(bedrock_paths) / sizeof(bedrock_paths[0]))

static DPath bedrock[NBEDROCK];

/* Copies a parsed path into a DPath (keys are duplicated). */
static void
dpath_from(DPath *dp, const BjPath *pa, const char *text)
{
	int			i;

	dp->nsteps = pa->nsteps;
	for (i = 0; i < pa->nsteps && i < MAXSTEPS; i++)
	{
		dp->steps[i] = pa->steps[i];
		if (pa->steps[i].key)
		{
			char	   *k = malloc(pa->steps[i].keylen + 1);

			memcpy(k, pa->steps[i].key, pa->steps[i].keylen);
			k[pa->steps[i].keylen] = '\0';
			dp->steps[i].key = k;
		}
	}
	dp->text = strdup(text);
}

static void
dpath_free(DPath *dp)
{
	int			i;

	for (i = 0; i < dp->nsteps; i++)
		free((char *) dp->steps[i].key);
	free(dp->text);
	dp->nsteps = 0;
	dp->text = NULL;
}

/* Writes path steps in json_path syntax (quoting names as needed). */
static void
format_path(const BjStep *st, int n, Buf *out)
{
	int			i;

	out->len = 0;
	buf_putc(out, '$');
	for (i = 0; i < n; i++)
	{
		if (st[i].key == NULL)
		{
			buf_printf(out, "[%ld]", st[i].index);
			continue;
		}
		buf_putc(out, '.');
		if (st[i].keylen > 0 &&
			strcspn(st[i].key, ".[\"") == st[i].keylen && st[i].key[0] != '$')
			buf_put(out, st[i].key, st[i].keylen);
		else
		{
			size_t		k;

			buf_putc(out, '"');
			for (k = 0; k < st[i].keylen; k++)
			{
				if (st[i].key[k] == '"' || st[i].key[k] == '\\')
					buf_putc(out, '\\');
				buf_putc(out, st[i].key[k]);
			}
			buf_putc(out, '"');
		}
	}
}

/*
 * Draws a random path from jansson's tree of a document: a walk that
 * stops at random, indexes from either end, sometimes steps off the tree
 * (a missing member, an index out of range, a member of a scalar).
 */
static void
random_path(json_t *root, DPath *dp)
{
	json_t	   *j = root;
	Buf			t = {0};
	int			n = 0;

	while (n < MAXSTEPS - 1 && rn(5) != 0)
	{
		BjStep	   *st = &dp->steps[n];

		if (j != NULL && json_is_object(j) && json_object_size(j) > 0 && rn(12) != 0)
		{
			size_t		want = rn((unsigned) json_object_size(j));
			const char *key = "";
			json_t	   *val = NULL;
			size_t		i = 0;

			json_object_foreach(j, key, val)
			{
				if (i++ == want)
					break;
			}
			st->key = strdup(key);
			st->keylen = strlen(key);
			st->index = 0;
			j = val;
		}
		else if (j != NULL && json_is_array(j) && rn(12) != 0)
		{
			long		size = (long) json_array_size(j);
			long		idx = size ? (long) rn((unsigned) size + 1) : 0;

			if (rn(2))
				idx = idx - size - (rn(3) == 0);	/* negative form */
			st->key = NULL;
			st->keylen = 0;
			st->index = idx;
			if (idx < 0)
				idx += size;
			j = (idx >= 0 && idx < size) ? json_array_get(j, (size_t) idx) : NULL;
		}
		else if (rn(2))
		{
			const char *k = key_pool[rn(NKEYS)];

			st->key = strdup(k);
			st->keylen = strlen(k);
			st->index = 0;
			j = NULL;
		}
		else
		{
			st->key = NULL;
			st->keylen = 0;
			st->index = (long) rn(5) - 2;
			j = NULL;
		}
		n++;
	}
	dp->nsteps = n;
	format_path(dp->steps, n, &t);
	dp->text = t.d ? t.d : strdup("$");
}

/* Follows steps in jansson's tree; NULL when absent or of the wrong type. */
static json_t *
jwalk(json_t *j, const BjStep *st, int n)
{
	int			i;

	for (i = 0; i < n && j != NULL; i++)
	{
		if (st[i].key)
		{
			if (!json_is_object(j))
				return NULL;
			j = json_object_getn(j, st[i].key, st[i].keylen);
		}
		else
		{
			long		size;
			long		idx = st[i].index;

			if (!json_is_array(j))
				return NULL;
			size = (long) json_array_size(j);
			if (idx < 0)
				idx += size;
			if (idx < 0 || idx >= size)
				return NULL;
			j = json_array_get(j, (size_t) idx);
		}
	}
	return j;
}

/* ----------------------------------------------------------------
 * Comparison
 * ----------------------------------------------------------------
 */

/*
 * Parse with jansson.  Returns the tree or NULL; *corner > 0 (1 + index
 * into corner_names) when jansson refused for a reason where it differs
 * from RFC 8259 syntax on purpose; *flagsp gets the flags used.
 */
static json_t *
ref_parse(const char *doc, size_t len, int *corner, size_t *flagsp)
{
	json_error_t jerr;
	size_t		flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
	json_t	   *j;

	*corner = 0;
	j = json_loadb(doc, len, flags, &jerr);
	if (j == NULL && json_error_code(&jerr) == json_error_numeric_overflow &&
		strstr(jerr.text, "integer") != NULL)
	{
		flags |= JSON_DECODE_INT_AS_REAL;
		j = json_loadb(doc, len, flags, &jerr);
	}
	*flagsp = flags;
	if (j != NULL)
		return j;
	switch (json_error_code(&jerr))
	{
		case json_error_numeric_overflow:
			*corner = 1;
			break;
		case json_error_null_byte_in_key:
			*corner = 2;
			break;
		case json_error_invalid_utf8:
			*corner = 4;
			break;
		case json_error_stack_overflow:
			*corner = 5;
			break;
		case json_error_out_of_memory:
			*corner = 6;
			break;
		default:
			if (strncmp(jerr.text, "invalid Unicode '", 17) == 0)
				*corner = 3;
			break;
	}
	return NULL;
}

/* Does the raw value v carry the same value as jansson's j? */
static int
same_value(const BjValue *v, json_t *j, size_t flags, char *why, size_t whylen)
{
	static const BjKind kinds[] = {
		[JSON_OBJECT] = BJ_OBJECT,[JSON_ARRAY] = BJ_ARRAY,
		[JSON_STRING] = BJ_STRING,[JSON_INTEGER] = BJ_NUMBER,
		[JSON_REAL] = BJ_NUMBER,[JSON_TRUE] = BJ_TRUE,
		[JSON_FALSE] = BJ_FALSE,[JSON_NULL] = BJ_NULL
	};

	if (j == NULL)
	{
		snprintf(why, whylen, "kind %d, jansson: absent", v->kind);
		return v->kind == BJ_MISSING && v->ptr == NULL;
	}
	if (v->kind != kinds[json_typeof(j)] || v->ptr == NULL)
	{
		snprintf(why, whylen, "kind %d, jansson type %d", v->kind, json_typeof(j));
		return 0;
	}
	switch (v->kind)
	{
		case BJ_STRING:
			{
				char	   *out = malloc(v->len ? v->len : 1);
				BjError		err;
				long		n = bj_unescape(v, out, &err);
				int			ok;
				int			has_nul = strlen(json_string_value(j)) != json_string_length(j);

				if (has_nul)
				{
					snprintf(why, whylen, "\\u0000 string: bj_unescape gave %ld", n);
					ok = (n == -1 && strstr(err.msg, "\\u0000") != NULL);
				}
				else
				{
					snprintf(why, whylen, "string differs (%ld vs %zu bytes)%s%s", n,
							 json_string_length(j), n < 0 ? ": " : "",
							 n < 0 ? err.msg : "");
					ok = (n == (long) json_string_length(j) &&
						  memcmp(out, json_string_value(j), (size_t) n) == 0);
				}
				free(out);
				if (ok && (!!v->has_escapes != (memchr(v->ptr, '\\', v->len) != NULL)))
				{
					snprintf(why, whylen, "has_escapes wrong");
					ok = 0;
				}
				if (ok && (v->len < 2 || v->ptr[0] != '"' || v->ptr[v->len - 1] != '"'))
				{
					snprintf(why, whylen, "string span lacks its quotes");
					ok = 0;
				}
				return ok;
			}
		case BJ_NUMBER:
			{
				char		tmp[512];
				char	   *endp;

				if (v->len >= sizeof(tmp))
				{
					snprintf(why, whylen, "number too long");
					return 0;
				}
				memcpy(tmp, v->ptr, v->len);
				tmp[v->len] = '\0';
				snprintf(why, whylen, "number %.100s", tmp);
				if (json_is_integer(j))
					return strpbrk(tmp, ".eE") == NULL &&
						strtoll(tmp, &endp, 10) == json_integer_value(j) &&
						*endp == '\0';
				return strtod(tmp, &endp) == json_real_value(j) && *endp == '\0';
			}
		case BJ_TRUE:
			snprintf(why, whylen, "true");
			return v->len == 4 && memcmp(v->ptr, "true", 4) == 0;
		case BJ_FALSE:
			snprintf(why, whylen, "false");
			return v->len == 5 && memcmp(v->ptr, "false", 5) == 0;
		case BJ_NULL:
			snprintf(why, whylen, "null");
			return v->len == 4 && memcmp(v->ptr, "null", 4) == 0;
		default:
			{
				json_error_t jerr;
				json_t	   *sub;
				int			ok;

				if (v->len < 2 || v->ptr[0] != (v->kind == BJ_OBJECT ? '{' : '[') ||
					v->ptr[v->len - 1] != (v->kind == BJ_OBJECT ? '}' : ']'))
				{
					snprintf(why, whylen, "container span not bracketed");
					return 0;
				}
				sub = json_loadb(v->ptr, v->len, flags, &jerr);
				snprintf(why, whylen, "container span differs%s%s",
						 sub ? "" : ": ", sub ? "" : jerr.text);
				ok = sub != NULL && json_equal(sub, j);
				json_decref(sub);
				return ok;
			}
	}
}

/* One value found by bj_scan (+ bj_resolve) for a path. */
static int
find(const BjValue *slots, int slot, const DPath *dp, int split,
	 BjValue *out, BjError *err)
{
	return bj_resolve(&slots[slot], dp->steps + split, dp->nsteps - split, out, err);
}

/* Index of the first negative index step (nsteps when none). */
static int
first_negative(const DPath *dp)
{
	int			i;

	for (i = 0; i < dp->nsteps; i++)
		if (dp->steps[i].key == NULL && dp->steps[i].index < 0)
			break;
	return i;
}

/* The Bedrock trie and its scanner, reused for every document. */
static BjPaths *bedrock_trie;
static BjScanner *bedrock_scanner;
static int	bedrock_slot[NBEDROCK];
static BjScanner *plain_scanner;

/*
 * Check one document: acceptance against jansson, then every Bedrock path
 * and every extra path.
 */
static void
check_doc(const char *label, const char *doc, size_t len,
		  DPath *extra, int nextra)
{
	BjValue		bslots[NBEDROCK];
	BjValue		xslots[MAXPATHS];
	int			xslot[MAXPATHS];
	BjPaths    *xtrie;
	BjScanner  *xs;
	BjError		err;
	BjError		err2;
	BjError		err3;
	BjKind		top;
	json_t	   *ref;
	size_t		flags;
	int			corner;
	int			rc,
				rc2,
				rc3;
	int			i;

	ndocs++;
	ref = ref_parse(doc, len, &corner, &flags);

	xtrie = bj_paths_create();
	for (i = 0; i < nextra; i++)
		xslot[i] = bj_paths_add(xtrie, extra[i].steps, first_negative(&extra[i]), i);
	xs = bj_scanner_create(xtrie, 0);

	rc = bj_scan(bedrock_scanner, doc, len, bslots, NBEDROCK, &top, &err);
	rc2 = bj_scan(plain_scanner, doc, len, NULL, 0, NULL, &err2);
	rc3 = bj_scan(xs, doc, len, xslots, nextra, NULL, &err3);

	if (corner)
	{
		nskip++;
		ncorner[corner - 1]++;
		goto done;
	}
	if (rc == 0)
		nvalid++;
	else
		ninvalid++;

	/* (a) the same verdict as jansson, whatever paths are registered */
	if ((rc == 0) == (ref != NULL))
		npass++;
	else
		fail(label, doc, len, "bj_scan %s (%s at %zu), jansson %s",
			 rc ? "rejects" : "accepts", rc ? err.msg : "", rc ? err.offset : 0,
			 ref ? "accepts" : "rejects");
	if (rc2 == rc && rc3 == rc && (rc == 0 || (err.offset == err2.offset &&
											   err.offset == err3.offset &&
											   strcmp(err.msg, err2.msg) == 0)))
		npass++;
	else
		fail(label, doc, len, "verdicts differ between tries: %d/%d/%d (%s/%s/%s)",
			 rc, rc2, rc3, rc ? err.msg : "", rc2 ? err2.msg : "",
			 rc3 ? err3.msg : "");
	if (rc != 0 || ref == NULL)
		goto done;

	/* top kind */
	{
		BjValue		whole = {top, 0, doc, len};
		BjValue		trimmed;

		/* the caller of bj_resolve vouches for has_escapes */
		whole.has_escapes = top == BJ_STRING && memchr(doc, '\\', len) != NULL;
		char		why[200];

		if (bj_resolve(&whole, NULL, 0, &trimmed, &err) == 0 &&
			same_value(&trimmed, ref, flags, why, sizeof(why)))
			npass++;
		else
			fail(label, doc, len, "top: %s", why);
	}

	/* (b) Bedrock paths and extra paths */
	for (i = 0; i < (int) NBEDROCK + nextra; i++)
	{
		const DPath *dp = i < (int) NBEDROCK ? &bedrock[i] : &extra[i - NBEDROCK];
		const BjValue *slots = i < (int) NBEDROCK ? bslots : xslots;
		int			slot = i < (int) NBEDROCK ? bedrock_slot[i] : xslot[i - NBEDROCK];
		int			split = first_negative(dp);
		json_t	   *jv = jwalk(ref, dp->steps, dp->nsteps);
		BjValue		got;
		BjValue		got2;
		BjValue		whole;
		char		why[300];

		if (slot < 0)
		{
			fail(label, doc, len, "path %s: bj_paths_add failed", dp->text);
			continue;
		}
		if (find(slots, slot, dp, split, &got, &err) != 0)
		{
			fail(label, doc, len, "path %s: bj_resolve: %s", dp->text, err.msg);
			continue;
		}
		if (same_value(&got, jv, flags, why, sizeof(why)))
		{
			npass++;
			if (got.kind != BJ_MISSING)
				nfound++;
		}
		else
			fail(label, doc, len, "path %s: %s", dp->text, why);

		/* (c) bj_resolve from the root finds the very same bytes */
		whole.kind = top;
		whole.has_escapes = top == BJ_STRING && memchr(doc, '\\', len) != NULL;
		whole.ptr = doc;
		whole.len = len;
		if (bj_resolve(&whole, dp->steps, dp->nsteps, &got2, &err) != 0)
			fail(label, doc, len, "path %s: bj_resolve from root: %s", dp->text, err.msg);
		else if (got2.kind == got.kind && got2.ptr == got.ptr && got2.len == got.len &&
				 (got.kind != BJ_STRING || got2.has_escapes == got.has_escapes))
			npass++;
		else
			fail(label, doc, len, "path %s: bj_resolve from root differs", dp->text);
	}

done:
	json_decref(ref);
	bj_scanner_free(xs);
	bj_paths_free(xtrie);
}

/* (d) a random path survives formatting and bj_path_parse. */
static void
check_path_roundtrip(const DPath *dp)
{
	BjPath		pa;
	BjError		err;
	int			i,
				ok;

	for (i = 0; i < dp->nsteps; i++)
		if (dp->steps[i].key && memchr(dp->steps[i].key, '\0', dp->steps[i].keylen))
			return;
	if (bj_path_parse(dp->text, &pa, &err) != 0)
	{
		fail("path roundtrip", dp->text, strlen(dp->text), "%s", err.msg);
		return;
	}
	ok = pa.nsteps == dp->nsteps;
	for (i = 0; ok && i < pa.nsteps; i++)
	{
		const BjStep *a = &pa.steps[i];
		const BjStep *b = &dp->steps[i];

		if ((a->key == NULL) != (b->key == NULL))
			ok = 0;
		else if (a->key == NULL)
			ok = a->index == b->index;
		else
			ok = a->keylen == b->keylen && memcmp(a->key, b->key, a->keylen) == 0;
	}
	if (ok)
		npass++;
	else
		fail("path roundtrip", dp->text, strlen(dp->text), "steps differ");
	bj_path_free(&pa);
}

/*
 * Check a valid document, draw random paths from it, then check a number
 * of its mutations with the same paths.
 */
static void
check_with_mutations(const char *label, const char *doc, size_t len,
					 int npaths, int nmut)
{
	DPath		extra[MAXPATHS];
	json_t	   *ref;
	size_t		flags;
	int			corner;
	int			n = 0;
	int			i;
	Buf			m = {0};

	ref = ref_parse(doc, len, &corner, &flags);
	if (ref != NULL)
	{
		for (i = 0; i < npaths && n < MAXPATHS; i++)
		{
			random_path(ref, &extra[n]);
			check_path_roundtrip(&extra[n]);
			n++;
		}
	}
	check_doc(label, doc, len, extra, n);
	for (i = 0; i < nmut; i++)
	{
		char		l[200];

		snprintf(l, sizeof(l), "%s (mutated)", label);
		mutate(doc, len, &m);
		check_doc(l, m.d, m.len, extra, n);
	}
	for (i = 0; i < n; i++)
		dpath_free(&extra[i]);
	json_decref(ref);
	free(m.d);
}

/* Reads a whole file; exits on failure. */
static char *
read_file(const char *path, size_t *lenp)
{
	FILE	   *f = fopen(path, "rb");
	Buf			b = {0};
	char		tmp[8192];
	size_t		n;

	if (f == NULL)
	{
		printf("cannot open %s\n", path);
		exit(2);
	}
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_put(&b, tmp, n);
	fclose(f);
	*lenp = b.len;
	return b.d;
}

/* Compares names for qsort. */
static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * The real records: each file as one document (pretty-printed or not),
 * compacted to one line, all of them as one NDJSON buffer checked line by
 * line, and mutations of each.
 */
static void
check_fixtures(const char *dir)
{
	DIR		   *d = opendir(dir);
	struct dirent *de;
	char	   *names[256];
	int			nnames = 0;
	int			i;
	Buf			nd = {0};
	Buf			c = {0};

	if (d == NULL)
	{
		printf("cannot open %s\n", dir);
		exit(2);
	}
	while ((de = readdir(d)) != NULL && nnames < 256)
		if (strstr(de->d_name, ".json") != NULL)
			names[nnames++] = strdup(de->d_name);
	closedir(d);
	qsort(names, (size_t) nnames, sizeof(char *), cmp_names);
	if (nnames == 0)
		fail("fixtures", "", 0, "no fixtures in %s", dir);
	for (i = 0; i < nnames; i++)
	{
		char		path[1024];
		char		label[1100];
		size_t		len;
		char	   *doc;
		json_t	   *ref;
		size_t		flags;
		int			corner;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		doc = read_file(path, &len);
		/* a real record must be valid and of the Bedrock shape */
		ref = ref_parse(doc, len, &corner, &flags);
		if (ref != NULL && json_is_object(ref) &&
			json_object_get(ref, "modelId") != NULL)
			npass++;
		else
			fail(names[i], doc, len, "fixture is not a valid record for jansson");
		json_decref(ref);

		snprintf(label, sizeof(label), "%s", names[i]);
		check_with_mutations(label, doc, len, 40, 300);
		compact(doc, len, &c);
		snprintf(label, sizeof(label), "%s (compacted)", names[i]);
		check_with_mutations(label, c.d, c.len, 40, 300);
		buf_put(&nd, c.d, c.len);
		buf_putc(&nd, '\n');
		free(doc);
	}
	/* the NDJSON buffer, line by line as the decoder will see it */
	{
		char	   *p = nd.d;
		char	   *end = nd.d + nd.len;
		int			line = 0;

		while (p < end)
		{
			char	   *nl = memchr(p, '\n', (size_t) (end - p));
			char		label[64];

			if (nl == NULL)
				nl = end;
			snprintf(label, sizeof(label), "ndjson line %d", ++line);
			check_doc(label, p, (size_t) (nl - p), NULL, 0);
			p = nl + 1;
		}
		if (line == nnames)
			npass++;
		else
			fail("ndjson", nd.d, nd.len, "%d lines for %d fixtures", line, nnames);
	}
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(nd.d);
	free(c.d);
}

int
main(int argc, char **argv)
{
	int			ndoc = argc > 2 ? atoi(argv[2]) : 20000;
	Buf			b = {0};
	int			i;

	if (argc < 2)
	{
		printf("usage: %s FIXTURE_DIR [NDOCS]\n", argv[0]);
		return 2;
	}

	/* the Bedrock paths, in one trie shared by every document */
	bedrock_trie = bj_paths_create();
	for (i = 0; i < (int) NBEDROCK; i++)
	{
		BjPath		pa;
		BjError		err;

		if (bj_path_parse(bedrock_paths[i], &pa, &err) != 0)
		{
			printf("bad path %s: %s\n", bedrock_paths[i], err.msg);
			return 2;
		}
		dpath_from(&bedrock[i], &pa, bedrock_paths[i]);
		bj_path_free(&pa);
		bedrock_slot[i] = bj_paths_add(bedrock_trie, bedrock[i].steps,
									   first_negative(&bedrock[i]), i);
	}
	bedrock_scanner = bj_scanner_create(bedrock_trie, 0);
	plain_scanner = bj_scanner_create(NULL, 0);

	check_fixtures(argv[1]);

	for (i = 0; i < ndoc; i++)
	{
		char		label[64];

		b.len = 0;
		if (i % 3 == 0)
		{
			gen_record(&b);
			snprintf(label, sizeof(label), "record %d", i);
		}
		else
		{
			gen_ws(&b);
			gen_value(&b, 1 + (int) rn(6));
			gen_ws(&b);
			snprintf(label, sizeof(label), "random %d", i);
		}
		check_with_mutations(label, b.d, b.len, 8, 3);
	}

	printf("diff: %ld documents (%ld valid, %ld invalid, %ld skipped: ",
		   ndocs, nvalid, ninvalid, nskip);
	for (i = 0; i < 6; i++)
		printf("%s%s %ld", i ? ", " : "", corner_names[i], ncorner[i]);
	printf(")\ndiff: %ld path lookups found a value\n", nfound);
	printf("RESULT diff passed=%ld failed=%ld skipped=%ld\n", npass, nfail, nskip);

	for (i = 0; i < (int) NBEDROCK; i++)
		dpath_free(&bedrock[i]);
	bj_scanner_free(bedrock_scanner);
	bj_scanner_free(plain_scanner);
	bj_paths_free(bedrock_trie);
	free(b.d);
	return nfail ? 1 : 0;
}
