/*-------------------------------------------------------------------------
 *
 * jsonscan.c
 *		A validating, projection-aware JSON scanner (see jsonscan.h).
 *
 * Design notes.  The scanner has two gears.  The low gear, skip_value,
 * steps over one complete value and validates every byte of it (RFC 8259)
 * without looking at any path: it is a goto-driven state machine whose
 * only memory is one bit per open container (object or array), kept in a
 * growable bit stack, so nesting costs no C stack and 10,000 levels cost
 * 1.25 kB.  String bodies, where most of the bytes of a record are, are
 * stepped over sixteen bytes at a time with SSE2 where the compiler has
 * it, else eight at a time with a portable SWAR test; either finds whether
 * the block holds a '"', a '\\' or a control byte, and only then do we
 * look at single bytes.  The high gear, the loop in bj_scan,
 * walks only the containers that lie on a requested path: it keeps one
 * frame per such container (so its depth is bounded by the longest path,
 * not by the input), looks member names and element indexes up in the
 * trie, records spans into slots, and hands every value nobody asked for
 * to the low gear.  Nothing is allocated per record or per value; the
 * scanner's stacks grow (up to max_depth) and are then reused.
 *
 * Member names are compared byte for byte with the raw key when the key
 * has no escapes; a key with escapes is decoded on the fly while it is
 * compared (key_equal_escaped), which gives the same answer as unescaping
 * it into a scratch buffer first, without the buffer.
 *
 * Duplicate member names: the last one wins, as in jsonb.  A trie node
 * carries a per-scan stamp; when a node is entered a second time in one
 * document, every slot below it is reset first, so that a value from the
 * earlier, overridden occurrence cannot leak into the result.
 *
 * bj_resolve re-uses skip_value to step over members and elements, so it
 * validates what it steps over.  A negative index counts the elements,
 * then picks one; while counting it remembers the last BJ_RING elements,
 * so "[-1]" costs one pass over the array, not two.  bj_unescape decodes
 * into UTF-8.
 *
 * This file is libc-only C99 (no PostgreSQL), so that it can be tested,
 * fuzzed and run under the sanitizers stand-alone (test/jsonscan/).
 *
 * IDENTIFICATION
 *		src/jsonscan.c
 *
 *-------------------------------------------------------------------------
 */
#include "jsonscan.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#include <emmintrin.h>
#define BJ_USE_SSE2 1
#endif

#if defined(__GNUC__) || defined(__clang__)
#define BJ_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define BJ_LIKELY(x) __builtin_expect(!!(x), 1)
#define BJ_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define BJ_PRINTF(a, b)
#define BJ_LIKELY(x) (x)
#define BJ_UNLIKELY(x) (x)
#endif

/* An edge of the trie for an object member name. */
typedef struct BjKeyEdge
{
	char	   *key;			/* member name, raw UTF-8, malloc'd */
	size_t		keylen;
	int			node;			/* child node index */
} BjKeyEdge;

/* An edge of the trie for an array element index. */
typedef struct BjIdxEdge
{
	long		index;			/* non-negative element index */
	int			node;			/* child node index */
} BjIdxEdge;

/* A trie node: the value at some path prefix. */
typedef struct BjNode
{
	int			slot;			/* slot of a path ending here, or -1 */
	int			nkeys;			/* member-name children */
	int			capkeys;
	BjKeyEdge  *keys;
	int			nidx;			/* element-index children */
	int			capidx;
	BjIdxEdge  *idx;
} BjNode;

struct BjPaths
{
	BjNode	   *nodes;			/* nodes[0] is the root (the document) */
	int			nnodes;
	int			capnodes;
	int			nslots;			/* highest slot + 1 */
};

/* One bit per open container of skip_value: 1 = array, 0 = object. */
typedef struct BjBits
{
	unsigned char *buf;
	size_t		cap;			/* bytes in buf */
	int			owned;			/* buf is malloc'd (else caller's buffer) */
} BjBits;

/* A container on a requested path that bj_scan is walking. */
typedef struct BjFrame
{
	int			node;			/* trie node of the container */
	int			is_array;
	long		index;			/* arrays: index of the current element */
	const char *start;			/* its '{' or '[' */
} BjFrame;

struct BjScanner
{
	const BjPaths *paths;		/* not owned; may be NULL */
	int			max_depth;
	BjFrame    *frames;			/* high-gear stack */
	int			capframes;
	BjBits		bits;			/* low-gear stack */
	unsigned int *stamp;		/* per trie node: gen when last entered */
	int			nstamp;
	unsigned int gen;			/* bumped once per bj_scan */
};

/* What the low-level routines need to know about the text being read. */
typedef struct BjCtx
{
	const char *base;			/* error offsets are relative to this */
	const char *end;			/* end of the text */
	BjBits	   *bits;
	int			max_depth;		/* total nesting allowed */
	BjError    *err;			/* may be NULL */
} BjCtx;

/* bj_resolve remembers this many trailing elements for negative indexes */
#define BJ_RING 8

/* decode_escape results besides a positive length */
#define BJ_ESC_INVALID	(-1)
#define BJ_ESC_SURROGATE (-2)
#define BJ_ESC_NUL		(-3)

#define R8(x) x, x, x, x, x, x, x, x

/* Bytes that end the fast loop over a string body: '"', '\\', < 0x20. */
static const unsigned char str_special[256] = {
	R8(1), R8(1), R8(1), R8(1),	/* 0x00-0x1f: control characters */
	0, 0, 1, 0, 0, 0, 0, 0,		/* 0x20-0x27: '"' */
	R8(0), R8(0), R8(0), R8(0), R8(0),	/* 0x28-0x4f */
	R8(0),						/* 0x50-0x57 */
	0, 0, 0, 0, 1, 0, 0, 0		/* 0x58-0x5f: '\\'; the rest is 0 */
};

/* JSON insignificant whitespace. */
static const unsigned char is_ws[256] = {
	[' '] = 1,['\t'] = 1,['\n'] = 1,['\r'] = 1
};

#define ONES	UINT64_C(0x0101010101010101)
#define HIGHS	UINT64_C(0x8080808080808080)

/*
 * Set *err (when not NULL) to the message at the offset of 'at' relative
 * to base.  Always returns -1, so that callers can "return set_error(...)".
 */
static int	set_error(BjError *err, const char *base, const char *at,
					  const char *fmt,...) BJ_PRINTF(4, 5);

static int
set_error(BjError *err, const char *base, const char *at, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL)
		return -1;
	err->offset = (base != NULL && at != NULL && at >= base) ?
		(size_t) (at - base) : 0;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* Returns the first non-whitespace position in [p, end), or end. */
static inline const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && is_ws[(unsigned char) *p])
		p++;
	return p;
}

/* Returns the value of a hex digit, or -1. */
static inline int
hex_value(unsigned char c)
{
	if ((unsigned) (c - '0') <= 9)
		return c - '0';
	c |= 0x20;
	if ((unsigned) (c - 'a') <= 5)
		return c - 'a' + 10;
	return -1;
}

/*
 * Does the 8-byte word hold a '"', a '\\' or a byte < 0x20?  Exact as to
 * whether there is one (the classic "has zero byte" tests), which is all
 * the caller needs: it then looks for the byte one at a time.
 */
static inline int
word_has_special(uint64_t v)
{
	uint64_t	q = v ^ (ONES * '"');
	uint64_t	b = v ^ (ONES * '\\');
	uint64_t	t;

	t = ((q - ONES) & ~q) | ((b - ONES) & ~b) | ((v - ONES * 0x20) & ~v);
	return (t & HIGHS) != 0;
}

/*
 * Step over a string body; p points just after the opening quote.  Checks
 * the escapes' syntax (not what \u escapes encode) and rejects raw control
 * characters.  Returns the position just after the closing quote and sets
 * *has_esc when there was a backslash, or returns NULL with cx->err set.
 */
static const char *
scan_string(const BjCtx *cx, const char *p, int *has_esc)
{
	const char *end = cx->end;
	unsigned char c;
	int			i;

	for (;;)
	{
#ifdef BJ_USE_SSE2
		const __m128i quote = _mm_set1_epi8('"');
		const __m128i bslash = _mm_set1_epi8('\\');
		const __m128i ctl = _mm_set1_epi8(0x1f);

		while (end - p >= 16)
		{
			__m128i		v = _mm_loadu_si128((const __m128i *) p);
			__m128i		m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
													  _mm_cmpeq_epi8(v, bslash)),
										 _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));
			int			bitmask = _mm_movemask_epi8(m);

			if (bitmask != 0)
			{
				p += __builtin_ctz((unsigned) bitmask);
				goto special;
			}
			p += 16;
		}
#endif
		while (end - p >= 8)
		{
			uint64_t	v;

			memcpy(&v, p, 8);
			if (word_has_special(v))
			{
				/* the word holds a special byte: this loop stops in it */
				while (!str_special[(unsigned char) *p])
					p++;
				goto special;
			}
			p += 8;
		}
		while (p < end && !str_special[(unsigned char) *p])
			p++;
		if (p >= end)
		{
			set_error(cx->err, cx->base, end, "unexpected end of input");
			return NULL;
		}
special:
		c = (unsigned char) *p;
		if (BJ_LIKELY(c == '"'))
			return p + 1;
		if (c != '\\')
		{
			set_error(cx->err, cx->base, p,
					  "unescaped control character 0x%02x in string", c);
			return NULL;
		}
		*has_esc = 1;
		if (end - p < 2)
		{
			set_error(cx->err, cx->base, end, "unexpected end of input");
			return NULL;
		}
		switch (p[1])
		{
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				p += 2;
				break;
			case 'u':
				for (i = 2; i < 6; i++)
				{
					if (p + i >= end)
					{
						set_error(cx->err, cx->base, end, "unexpected end of input");
						return NULL;
					}
					if (hex_value((unsigned char) p[i]) < 0)
					{
						set_error(cx->err, cx->base, p, "invalid escape sequence");
						return NULL;
					}
				}
				p += 6;
				break;
			default:
				set_error(cx->err, cx->base, p, "invalid escape sequence");
				return NULL;
		}
	}
}

/*
 * Step over a number at p (a '-' or a digit):
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, which must not run into
 * more number-like characters ("01", "1.2.3").  Returns the position after
 * it, or NULL with cx->err set.
 */
static const char *
scan_number(const BjCtx *cx, const char *p)
{
	const char *end = cx->end;
	const char *start = p;

	if (*p == '-')
		p++;
	if (p >= end)
		goto eoi;
	if (*p == '0')
		p++;
	else if ((unsigned) (*p - '1') <= 8)
	{
		p++;
		while (p < end && (unsigned) (*p - '0') <= 9)
			p++;
	}
	else
		goto bad;
	if (p < end && *p == '.')
	{
		p++;
		if (p >= end)
			goto eoi;
		if ((unsigned) (*p - '0') > 9)
			goto bad;
		while (p < end && (unsigned) (*p - '0') <= 9)
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E'))
	{
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end)
			goto eoi;
		if ((unsigned) (*p - '0') > 9)
			goto bad;
		while (p < end && (unsigned) (*p - '0') <= 9)
			p++;
	}
	if (p < end && ((unsigned) (*p - '0') <= 9 || *p == '.' || *p == 'e' ||
					*p == 'E' || *p == '+' || *p == '-'))
		goto bad;
	return p;

eoi:
	set_error(cx->err, cx->base, end, "unexpected end of input");
	return NULL;
bad:
	set_error(cx->err, cx->base, start, "invalid number");
	return NULL;
}

/*
 * Step over the literal word (length n) at p, which must not run into more
 * letters or digits.  Returns the position after it, or NULL with err set.
 */
static const char *
scan_literal(const BjCtx *cx, const char *p, const char *word, size_t n)
{
	const char *q;

	if ((size_t) (cx->end - p) < n || memcmp(p, word, n) != 0)
	{
		/* a prefix of the word cut off by the end is a truncation */
		if ((size_t) (cx->end - p) < n &&
			memcmp(p, word, (size_t) (cx->end - p)) == 0)
			set_error(cx->err, cx->base, cx->end, "unexpected end of input");
		else
			set_error(cx->err, cx->base, p, "invalid literal");
		return NULL;
	}
	q = p + n;
	if (q < cx->end && (((unsigned) ((*q | 0x20) - 'a') <= 25) ||
						(unsigned) (*q - '0') <= 9 || *q == '_'))
	{
		set_error(cx->err, cx->base, p, "invalid literal");
		return NULL;
	}
	return q;
}

/*
 * Make room in the bit stack for level 'level'.  A caller's buffer is
 * replaced by a malloc'd copy.  Returns 0, or -1 with cx->err set.
 */
static int
grow_bits(BjCtx *cx, int level, const char *at)
{
	BjBits	   *b = cx->bits;
	size_t		need = (size_t) level / 8 + 1;
	size_t		ncap = b->cap ? b->cap : 64;
	unsigned char *nbuf;

	while (ncap < need)
		ncap *= 2;
	if (b->owned)
		nbuf = realloc(b->buf, ncap);
	else
	{
		nbuf = malloc(ncap);
		if (nbuf != NULL && b->cap > 0)
			memcpy(nbuf, b->buf, b->cap);
	}
	if (nbuf == NULL)
		return set_error(cx->err, cx->base, at, "out of memory");
	b->buf = nbuf;
	b->cap = ncap;
	b->owned = 1;
	return 0;
}

/*
 * Step over one complete value at *pp (no leading whitespace), validating
 * all of it.  'outer' containers are already open around it (they count
 * against max_depth).  On success advances *pp just past the value, sets
 * *has_esc for a string with escapes, and returns the value's BjKind;
 * returns -1 with cx->err set for malformed text.  Allocates only when the
 * bit stack must grow.
 */
static int
skip_value(BjCtx *cx, const char **pp, int outer, int *has_esc)
{
	const char *p = *pp;
	const char *end = cx->end;
	unsigned char *bits = cx->bits->buf;
	int			depth = 0;		/* containers opened here, still open */
	int			kind;
	int			esc = 0;
	int			is_array;

value:
	if (p >= end)
		return set_error(cx->err, cx->base, end, "unexpected end of input");
	switch (*p)
	{
		case '"':
			p = scan_string(cx, p + 1, &esc);
			if (p == NULL)
				return -1;
			kind = BJ_STRING;
			break;
		case '{':
		case '[':
			if (outer + depth >= cx->max_depth)
				return set_error(cx->err, cx->base, p,
								 "nesting deeper than %d levels", cx->max_depth);
			if ((size_t) depth / 8 >= cx->bits->cap)
			{
				if (grow_bits(cx, depth, p) < 0)
					return -1;
				bits = cx->bits->buf;
			}
			is_array = (*p == '[');
			if (is_array)
				bits[depth / 8] |= (unsigned char) (1u << (depth % 8));
			else
				bits[depth / 8] &= (unsigned char) ~(1u << (depth % 8));
			depth++;
			p = skip_ws(p + 1, end);
			if (p < end && *p == (is_array ? ']' : '}'))
			{
				p++;
				depth--;
				kind = is_array ? BJ_ARRAY : BJ_OBJECT;
				break;
			}
			if (is_array)
				goto value;
			goto key;
		case '-':
		case '0':
		case '1':
		case '2':
		case '3':
		case '4':
		case '5':
		case '6':
		case '7':
		case '8':
		case '9':
			p = scan_number(cx, p);
			if (p == NULL)
				return -1;
			kind = BJ_NUMBER;
			break;
		case 't':
			p = scan_literal(cx, p, "true", 4);
			if (p == NULL)
				return -1;
			kind = BJ_TRUE;
			break;
		case 'f':
			p = scan_literal(cx, p, "false", 5);
			if (p == NULL)
				return -1;
			kind = BJ_FALSE;
			break;
		case 'n':
			p = scan_literal(cx, p, "null", 4);
			if (p == NULL)
				return -1;
			kind = BJ_NULL;
			break;
		default:
			return set_error(cx->err, cx->base, p, "expected a value");
	}

after:
	if (depth == 0)
	{
		*pp = p;
		*has_esc = (kind == BJ_STRING) ? esc : 0;
		return kind;
	}
	p = skip_ws(p, end);
	if (p >= end)
		return set_error(cx->err, cx->base, end, "unexpected end of input");
	if (bits[(depth - 1) / 8] & (1u << ((depth - 1) % 8)))
	{
		if (*p == ',')
		{
			p = skip_ws(p + 1, end);
			goto value;
		}
		if (*p == ']')
		{
			p++;
			depth--;
			kind = BJ_ARRAY;
			goto after;
		}
		return set_error(cx->err, cx->base, p,
						 "expected ',' or ']' after array element");
	}
	if (*p == ',')
	{
		p = skip_ws(p + 1, end);
		goto key;
	}
	if (*p == '}')
	{
		p++;
		depth--;
		kind = BJ_OBJECT;
		goto after;
	}
	return set_error(cx->err, cx->base, p,
					 "expected ',' or '}' after object member");

key:
	if (p >= end)
		return set_error(cx->err, cx->base, end, "unexpected end of input");
	if (*p != '"')
		return set_error(cx->err, cx->base, p, "expected object member name");
	p = scan_string(cx, p + 1, &esc);
	if (p == NULL)
		return -1;
	p = skip_ws(p, end);
	if (p >= end)
		return set_error(cx->err, cx->base, end, "unexpected end of input");
	if (*p != ':')
		return set_error(cx->err, cx->base, p,
						 "expected ':' after object member name");
	p = skip_ws(p + 1, end);
	goto value;
}

/* Writes code point cp as UTF-8 into out; returns the byte count. */
static int
put_utf8(unsigned long cp, unsigned char *out)
{
	if (cp < 0x80)
	{
		out[0] = (unsigned char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		out[0] = (unsigned char) (0xC0 | (cp >> 6));
		out[1] = (unsigned char) (0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000)
	{
		out[0] = (unsigned char) (0xE0 | (cp >> 12));
		out[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
		out[2] = (unsigned char) (0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (unsigned char) (0xF0 | (cp >> 18));
	out[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3F));
	out[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
	out[3] = (unsigned char) (0x80 | (cp & 0x3F));
	return 4;
}

/* Reads four hex digits at p (bounds checked by the caller); -1 if bad. */
static long
read_hex4(const char *p)
{
	long		v = 0;
	int			i;

	for (i = 0; i < 4; i++)
	{
		int			d = hex_value((unsigned char) p[i]);

		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * Decode the escape at p (a backslash) within [p, end) into out (room for
 * 4 bytes), setting *outlen.  A high surrogate escape must be followed by
 * a low one; the pair becomes one 4-byte character.  Returns the number of
 * input bytes used, or BJ_ESC_INVALID, BJ_ESC_SURROGATE (unpaired) or
 * BJ_ESC_NUL (\u0000).
 */
static int
decode_escape(const char *p, const char *end, unsigned char *out, int *outlen)
{
	long		cp;
	long		lo;

	if (end - p < 2)
		return BJ_ESC_INVALID;
	switch (p[1])
	{
		case '"':
		case '\\':
		case '/':
			out[0] = (unsigned char) p[1];
			break;
		case 'b':
			out[0] = '\b';
			break;
		case 'f':
			out[0] = '\f';
			break;
		case 'n':
			out[0] = '\n';
			break;
		case 'r':
			out[0] = '\r';
			break;
		case 't':
			out[0] = '\t';
			break;
		case 'u':
			if (end - p < 6 || (cp = read_hex4(p + 2)) < 0)
				return BJ_ESC_INVALID;
			if (cp == 0)
				return BJ_ESC_NUL;
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return BJ_ESC_SURROGATE;
			if (cp >= 0xD800 && cp <= 0xDBFF)
			{
				if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
					return BJ_ESC_SURROGATE;
				lo = read_hex4(p + 8);
				if (lo < 0)
					return BJ_ESC_INVALID;
				if (lo < 0xDC00 || lo > 0xDFFF)
					return BJ_ESC_SURROGATE;
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				*outlen = put_utf8((unsigned long) cp, out);
				return 12;
			}
			*outlen = put_utf8((unsigned long) cp, out);
			return 6;
		default:
			return BJ_ESC_INVALID;
	}
	*outlen = 1;
	return 2;
}

/*
 * Does the raw key body raw[0..rawlen) (escapes and all) decode to exactly
 * target[0..tlen)?  Decodes as it compares, so needs no buffer.  A key
 * that cannot be decoded (unpaired surrogate, \u0000) matches nothing.
 */
static int
key_equal_escaped(const char *raw, size_t rawlen, const char *target,
				  size_t tlen)
{
	const char *p = raw;
	const char *end = raw + rawlen;
	size_t		j = 0;

	while (p < end)
	{
		if (*p != '\\')
		{
			if (j >= tlen || target[j] != *p)
				return 0;
			j++;
			p++;
		}
		else
		{
			unsigned char buf[4];
			int			n = 0;
			int			used = decode_escape(p, end, buf, &n);

			if (used < 0 || tlen - j < (size_t) n ||
				memcmp(target + j, buf, (size_t) n) != 0)
				return 0;
			j += (size_t) n;
			p += used;
		}
	}
	return j == tlen;
}

/* Finds the trie child for member name key[0..klen); -1 if none. */
static inline int
key_child(const BjNode *n, const char *key, size_t klen, int esc)
{
	int			i;

	for (i = 0; i < n->nkeys; i++)
	{
		const BjKeyEdge *e = &n->keys[i];

		if (!esc)
		{
			if (e->keylen == klen && memcmp(e->key, key, klen) == 0)
				return e->node;
		}
		else if (e->keylen <= klen &&
				 key_equal_escaped(key, klen, e->key, e->keylen))
			return e->node;
	}
	return -1;
}

/* Finds the trie child for element index; -1 if none. */
static inline int
index_child(const BjNode *n, long index)
{
	int			i;

	for (i = 0; i < n->nidx; i++)
		if (n->idx[i].index == index)
			return n->idx[i].node;
	return -1;
}

/* ----------------------------------------------------------------
 * Paths and the trie
 * ----------------------------------------------------------------
 */

/*
 * Parse a path in the json_path option syntax (see jsonscan.h).  The steps
 * and their key bytes live in one malloc'd block owned by path->steps, to
 * be released with bj_path_free.  Returns 0, or -1 with err (offset into
 * s) and *path empty.
 */
int
bj_path_parse(const char *s, BjPath *path, BjError *err)
{
	size_t		len;
	size_t		i = 0;
	BjStep	   *steps;
	char	   *kbuf;
	size_t		kpos = 0;
	int			n = 0;
	int			expect_name;	/* a member name must come next */

	path->steps = NULL;
	path->nsteps = 0;
	if (s == NULL)
		return set_error(err, NULL, NULL, "path is missing");
	len = strlen(s);
	if (len == 0)
		return set_error(err, s, s, "empty path");
	if (len > (size_t) INT_MAX / 2)
		return set_error(err, s, s, "path is too long");

	/* at most one step per byte; key bytes never exceed the input */
	steps = malloc(len * sizeof(BjStep) + len + 1);
	if (steps == NULL)
		return set_error(err, s, s, "out of memory");
	kbuf = (char *) (steps + len);

	if (s[0] == '$' && (s[1] == '\0' || s[1] == '.' || s[1] == '['))
	{
		i = 1;
		if (s[1] == '.')
		{
			i = 2;
			expect_name = 1;
		}
		else
			expect_name = 0;
	}
	else
		expect_name = (s[0] != '[');

	for (;;)
	{
		if (expect_name)
		{
			BjStep	   *st = &steps[n++];

			st->key = kbuf + kpos;
			st->index = 0;
			if (s[i] == '"')
			{
				i++;
				for (;;)
				{
					if (s[i] == '\0')
					{
						set_error(err, s, s + i, "unterminated quoted member name");
						goto fail;
					}
					if (s[i] == '"')
						break;
					if (s[i] == '\\')
					{
						if (s[i + 1] != '"' && s[i + 1] != '\\')
						{
							set_error(err, s, s + i,
									  "invalid escape in quoted member name");
							goto fail;
						}
						i++;
					}
					kbuf[kpos++] = s[i++];
				}
				i++;
			}
			else
			{
				size_t		j = i;

				while (s[j] != '\0' && s[j] != '.' && s[j] != '[' && s[j] != '"')
					j++;
				if (s[j] == '"')
				{
					set_error(err, s, s + j,
							  "unexpected '\"' in member name (quote the whole name)");
					goto fail;
				}
				if (j == i)
				{
					set_error(err, s, s + i, "empty member name");
					goto fail;
				}
				memcpy(kbuf + kpos, s + i, j - i);
				kpos += j - i;
				i = j;
			}
			st->keylen = (size_t) (kbuf + kpos - st->key);
			expect_name = 0;
			continue;
		}
		if (s[i] == '\0')
			break;
		if (s[i] == '.')
		{
			i++;
			expect_name = 1;
			continue;
		}
		if (s[i] == '[')
		{
			BjStep	   *st = &steps[n++];
			size_t		start = i;
			int			neg = 0;
			unsigned long v = 0;

			i++;
			if (s[i] == '-')
			{
				neg = 1;
				i++;
			}
			if ((unsigned) (s[i] - '0') > 9)
			{
				set_error(err, s, s + start, s[i] == '\0' ?
						  "unterminated array index" : "invalid array index");
				goto fail;
			}
			while ((unsigned) (s[i] - '0') <= 9)
			{
				v = v * 10 + (unsigned long) (s[i] - '0');
				if (v > (unsigned long) LONG_MAX)
				{
					set_error(err, s, s + start, "array index out of range");
					goto fail;
				}
				i++;
			}
			if (s[i] != ']')
			{
				set_error(err, s, s + start, s[i] == '\0' ?
						  "unterminated array index" : "invalid array index");
				goto fail;
			}
			i++;
			st->key = NULL;
			st->keylen = 0;
			st->index = neg ? -(long) v : (long) v;
			continue;
		}
		set_error(err, s, s + i, "expected '.' or '[' after path step");
		goto fail;
	}

	if (n == 0)
	{
		free(steps);
		steps = NULL;
	}
	path->steps = steps;
	path->nsteps = n;
	return 0;

fail:
	free(steps);
	return -1;
}

/* Releases what bj_path_parse allocated; the path becomes empty. */
void
bj_path_free(BjPath *path)
{
	if (path == NULL)
		return;
	free(path->steps);
	path->steps = NULL;
	path->nsteps = 0;
}

/* Adds an empty node; returns its index, or -1 when out of memory. */
static int
new_node(BjPaths *p)
{
	BjNode	   *n;

	if (p->nnodes == p->capnodes)
	{
		int			ncap = p->capnodes ? p->capnodes * 2 : 8;
		BjNode	   *nn;

		if (p->capnodes > INT_MAX / 4)
			return -1;
		nn = realloc(p->nodes, (size_t) ncap * sizeof(BjNode));
		if (nn == NULL)
			return -1;
		p->nodes = nn;
		p->capnodes = ncap;
	}
	n = &p->nodes[p->nnodes];
	memset(n, 0, sizeof(*n));
	n->slot = -1;
	return p->nnodes++;
}

/*
 * Creates an empty trie (just the root, the whole document).  Returns NULL
 * when out of memory; free with bj_paths_free.
 */
BjPaths *
bj_paths_create(void)
{
	BjPaths    *p = calloc(1, sizeof(BjPaths));

	if (p == NULL)
		return NULL;
	if (new_node(p) < 0)
	{
		free(p);
		return NULL;
	}
	return p;
}

/*
 * Follows, or creates, the child of node 'at' for step st.  Returns the
 * child's index, or -1 when out of memory.  The trie copies key bytes.
 */
static int
child_for_step(BjPaths *p, int at, const BjStep *st)
{
	int			child;
	BjNode	   *n = &p->nodes[at];

	if (st->key != NULL)
	{
		BjKeyEdge  *e;
		char	   *k;

		child = key_child(n, st->key, st->keylen, 0);
		if (child >= 0)
			return child;
		if (n->nkeys == n->capkeys)
		{
			int			ncap = n->capkeys ? n->capkeys * 2 : 4;
			BjKeyEdge  *ne = realloc(n->keys, (size_t) ncap * sizeof(BjKeyEdge));

			if (ne == NULL)
				return -1;
			n->keys = ne;
			n->capkeys = ncap;
		}
		k = malloc(st->keylen + 1);
		if (k == NULL)
			return -1;
		memcpy(k, st->key, st->keylen);
		k[st->keylen] = '\0';
		child = new_node(p);	/* may move p->nodes */
		if (child < 0)
		{
			free(k);
			return -1;
		}
		n = &p->nodes[at];
		e = &n->keys[n->nkeys++];
		e->key = k;
		e->keylen = st->keylen;
		e->node = child;
		return child;
	}

	child = index_child(n, st->index);
	if (child >= 0)
		return child;
	if (n->nidx == n->capidx)
	{
		int			ncap = n->capidx ? n->capidx * 2 : 4;
		BjIdxEdge  *ne = realloc(n->idx, (size_t) ncap * sizeof(BjIdxEdge));

		if (ne == NULL)
			return -1;
		n->idx = ne;
		n->capidx = ncap;
	}
	child = new_node(p);
	if (child < 0)
		return -1;
	n = &p->nodes[at];
	n->idx[n->nidx].index = st->index;
	n->idx[n->nidx].node = child;
	n->nidx++;
	return child;
}

/*
 * Registers a path (see jsonscan.h).  Returns the slot that receives its
 * value, or -1 for bad input (NULL trie, negative nsteps, negative index,
 * negative want_slot, want_slot already given to another path) or out of
 * memory.  On out of memory the trie may keep unused nodes, which cost a
 * little time but change no result.
 */
int
bj_paths_add(BjPaths *p, const BjStep *steps, int nsteps, int want_slot)
{
	int			at = 0;
	int			i;

	if (p == NULL || nsteps < 0 || (nsteps > 0 && steps == NULL) ||
		want_slot < 0 || want_slot == INT_MAX)
		return -1;
	for (i = 0; i < nsteps; i++)
		if (steps[i].key == NULL && steps[i].index < 0)
			return -1;

	for (i = 0; i < nsteps; i++)
	{
		at = child_for_step(p, at, &steps[i]);
		if (at < 0)
			return -1;
	}
	if (p->nodes[at].slot >= 0)
		return p->nodes[at].slot;
	for (i = 0; i < p->nnodes; i++)
		if (p->nodes[i].slot == want_slot)
			return -1;
	p->nodes[at].slot = want_slot;
	if (want_slot + 1 > p->nslots)
		p->nslots = want_slot + 1;
	return want_slot;
}

/* Returns the highest registered slot + 1 (0 for none, or for NULL). */
int
bj_paths_nslots(const BjPaths *p)
{
	return p ? p->nslots : 0;
}

/* Releases the trie and all its key copies. */
void
bj_paths_free(BjPaths *p)
{
	int			i,
				j;

	if (p == NULL)
		return;
	for (i = 0; i < p->nnodes; i++)
	{
		for (j = 0; j < p->nodes[i].nkeys; j++)
			free(p->nodes[i].keys[j].key);
		free(p->nodes[i].keys);
		free(p->nodes[i].idx);
	}
	free(p->nodes);
	free(p);
}

/* ----------------------------------------------------------------
 * Scanning
 * ----------------------------------------------------------------
 */

/*
 * Creates a scanner for the trie 'paths' (NULL: validate only), which must
 * stay alive and may still gain paths (the scanner adapts).  max_depth <= 0
 * means BJ_DEFAULT_MAX_DEPTH.  Returns NULL when out of memory; free with
 * bj_scanner_free.
 */
BjScanner *
bj_scanner_create(const BjPaths *paths, int max_depth)
{
	BjScanner  *s = calloc(1, sizeof(BjScanner));

	if (s == NULL)
		return NULL;
	s->paths = paths;
	s->max_depth = max_depth > 0 ? max_depth : BJ_DEFAULT_MAX_DEPTH;
	s->capframes = 16;
	s->frames = malloc((size_t) s->capframes * sizeof(BjFrame));
	s->bits.cap = 64;
	s->bits.buf = malloc(s->bits.cap);
	s->bits.owned = 1;
	if (paths != NULL)
	{
		s->nstamp = paths->nnodes;
		s->stamp = calloc((size_t) s->nstamp, sizeof(unsigned int));
	}
	if (s->frames == NULL || s->bits.buf == NULL ||
		(paths != NULL && s->stamp == NULL))
	{
		bj_scanner_free(s);
		return NULL;
	}
	return s;
}

/* Releases the scanner (not its trie). */
void
bj_scanner_free(BjScanner *s)
{
	if (s == NULL)
		return;
	free(s->frames);
	free(s->bits.buf);
	free(s->stamp);
	free(s);
}

/* Sets every slot in the trie below node (and its own) to BJ_MISSING. */
static void
clear_subtree(const BjPaths *paths, int node, BjValue *slots, int nslots)
{
	const BjNode *n = &paths->nodes[node];
	int			i;

	if (n->slot >= 0 && n->slot < nslots)
		memset(&slots[n->slot], 0, sizeof(BjValue));
	/* recursion is bounded by the longest registered path, not the input */
	for (i = 0; i < n->nkeys; i++)
		clear_subtree(paths, n->keys[i].node, slots, nslots);
	for (i = 0; i < n->nidx; i++)
		clear_subtree(paths, n->idx[i].node, slots, nslots);
}

/* Stores a value into slot (ignored when the caller has no such slot). */
static inline void
set_slot(BjValue *slots, int nslots, int slot, int kind, int esc,
		 const char *start, const char *stop)
{
	if (slot >= 0 && slot < nslots)
	{
		slots[slot].kind = (BjKind) kind;
		slots[slot].has_escapes = esc;
		slots[slot].ptr = start;
		slots[slot].len = (size_t) (stop - start);
	}
}

/*
 * Scan one document (see jsonscan.h).  The slots point into buf.  Returns
 * 0, or -1 with err; after an error the slots hold what was found before
 * it and must not be used.
 */
int
bj_scan(BjScanner *s, const char *buf, size_t len,
		BjValue *slots, int nslots, BjKind *top, BjError *err)
{
	const BjPaths *paths = s->paths;
	const char *p = buf;
	const char *end;
	const char *vstart;
	BjFrame    *f;
	BjCtx		cx;
	int			nframes = 0;
	int			node;
	int			kind;
	int			esc;
	int			i;

	for (i = 0; i < nslots; i++)
		memset(&slots[i], 0, sizeof(BjValue));
	if (top != NULL)
		*top = BJ_MISSING;
	if (buf == NULL)
	{
		if (len > 0)
			return set_error(err, NULL, NULL, "invalid argument");
		p = end = "";
	}
	else
		end = buf + len;

	cx.base = buf;
	cx.end = end;
	cx.bits = &s->bits;
	cx.max_depth = s->max_depth;
	cx.err = err;

	node = -1;
	if (paths != NULL)
	{
		if (s->nstamp < paths->nnodes)
		{
			unsigned int *ns = realloc(s->stamp,
									   (size_t) paths->nnodes * sizeof(unsigned int));

			if (ns == NULL)
				return set_error(err, buf, buf, "out of memory");
			memset(ns + s->nstamp, 0,
				   (size_t) (paths->nnodes - s->nstamp) * sizeof(unsigned int));
			s->stamp = ns;
			s->nstamp = paths->nnodes;
		}
		if (++s->gen == 0)
		{
			memset(s->stamp, 0, (size_t) s->nstamp * sizeof(unsigned int));
			s->gen = 1;
		}
		if (paths->nodes[0].slot >= 0 || paths->nodes[0].nkeys > 0 ||
			paths->nodes[0].nidx > 0)
			node = 0;
	}

	p = skip_ws(p, end);

value:
	/* p is at a value (maybe at end); node is its trie node or -1 */
	if (node >= 0)
	{
		const BjNode *n = &paths->nodes[node];

		if (s->stamp[node] == s->gen)
			clear_subtree(paths, node, slots, nslots);	/* duplicate name */
		else
			s->stamp[node] = s->gen;
		if (p < end && ((*p == '{' && n->nkeys > 0) || (*p == '[' && n->nidx > 0)))
		{
			if (nframes >= s->max_depth)
				return set_error(err, buf, p, "nesting deeper than %d levels",
								 s->max_depth);
			if (nframes == s->capframes)
			{
				BjFrame    *nf = realloc(s->frames,
										 (size_t) s->capframes * 2 * sizeof(BjFrame));

				if (nf == NULL)
					return set_error(err, buf, p, "out of memory");
				s->frames = nf;
				s->capframes *= 2;
			}
			f = &s->frames[nframes++];
			f->node = node;
			f->is_array = (*p == '[');
			f->index = 0;
			f->start = p;
			p = skip_ws(p + 1, end);
			if (p < end && *p == (f->is_array ? ']' : '}'))
			{
				p++;
				goto close;
			}
			if (f->is_array)
			{
				node = index_child(n, 0);
				goto value;
			}
			goto key;
		}
	}
	vstart = p;
	esc = 0;
	kind = skip_value(&cx, &p, nframes, &esc);
	if (kind < 0)
		return -1;
	if (node >= 0)
		set_slot(slots, nslots, paths->nodes[node].slot, kind, esc, vstart, p);
	if (nframes == 0)
		goto done;

after:
	p = skip_ws(p, end);
	if (p >= end)
		return set_error(err, buf, end, "unexpected end of input");
	f = &s->frames[nframes - 1];
	if (f->is_array)
	{
		if (*p == ',')
		{
			p = skip_ws(p + 1, end);
			f->index++;
			node = index_child(&paths->nodes[f->node], f->index);
			goto value;
		}
		if (*p == ']')
		{
			p++;
			goto close;
		}
		return set_error(err, buf, p, "expected ',' or ']' after array element");
	}
	if (*p == ',')
	{
		p = skip_ws(p + 1, end);
		goto key;
	}
	if (*p == '}')
	{
		p++;
		goto close;
	}
	return set_error(err, buf, p, "expected ',' or '}' after object member");

close:
	/* p is just past the closing bracket of the top frame */
	f = &s->frames[--nframes];
	kind = f->is_array ? BJ_ARRAY : BJ_OBJECT;
	set_slot(slots, nslots, paths->nodes[f->node].slot, kind, 0, f->start, p);
	if (nframes == 0)
		goto done;
	goto after;

key:
	{
		const char *kstart;

		f = &s->frames[nframes - 1];
		if (p >= end)
			return set_error(err, buf, end, "unexpected end of input");
		if (*p != '"')
			return set_error(err, buf, p, "expected object member name");
		kstart = p + 1;
		esc = 0;
		p = scan_string(&cx, kstart, &esc);
		if (p == NULL)
			return -1;
		node = key_child(&paths->nodes[f->node], kstart,
						 (size_t) (p - 1 - kstart), esc);
		p = skip_ws(p, end);
		if (p >= end)
			return set_error(err, buf, end, "unexpected end of input");
		if (*p != ':')
			return set_error(err, buf, p, "expected ':' after object member name");
		p = skip_ws(p + 1, end);
		goto value;
	}

done:
	p = skip_ws(p, end);
	if (p < end)
		return set_error(err, buf, p, "unexpected character after top-level value");
	if (top != NULL)
		*top = (BjKind) kind;
	return 0;
}

/* ----------------------------------------------------------------
 * Resolving and unescaping
 * ----------------------------------------------------------------
 */

/*
 * Resolve steps inside v (see jsonscan.h).  out points into v's text.
 * Steps over members and elements with skip_value, which validates what
 * it passes; its bit stack starts in a local buffer and is malloc'd only
 * for values nested more than 2048 levels deep (freed before returning).
 * Returns 0 (out may be BJ_MISSING), or -1 with err (offset relative to
 * v->ptr) for malformed text.
 */
int
bj_resolve(const BjValue *v, const BjStep *steps, int nsteps,
		   BjValue *out, BjError *err)
{
	unsigned char local[256];
	BjBits		bits;
	BjCtx		cx;
	const char *p;
	const char *end;
	int			kind = BJ_MISSING;
	int			esc = 0;
	int			rc = -1;
	int			i;

	memset(out, 0, sizeof(BjValue));
	if (v == NULL || v->kind == BJ_MISSING || v->ptr == NULL)
		return 0;
	if (nsteps < 0 || (nsteps > 0 && steps == NULL))
		return set_error(err, NULL, NULL, "invalid argument");
	if (nsteps == 0)
	{
		/* the value itself, without surrounding whitespace */
		*out = *v;
		while (out->len > 0 && is_ws[(unsigned char) out->ptr[0]])
		{
			out->ptr++;
			out->len--;
		}
		while (out->len > 0 && is_ws[(unsigned char) out->ptr[out->len - 1]])
			out->len--;
		return 0;
	}

	bits.buf = local;
	bits.cap = sizeof(local);
	bits.owned = 0;
	p = v->ptr;
	end = v->ptr + v->len;
	cx.base = v->ptr;
	cx.end = end;
	cx.bits = &bits;
	cx.max_depth = INT_MAX;
	cx.err = err;
	p = skip_ws(p, end);

	for (i = 0; i < nsteps; i++)
	{
		const BjStep *st = &steps[i];
		const char *fstart = NULL;
		const char *fend = NULL;
		int			fkind = BJ_MISSING;
		int			fesc = 0;

		if (p >= end)
		{
			set_error(err, v->ptr, end, "unexpected end of input");
			goto out;
		}
		if (st->key != NULL)
		{
			if (*p != '{')
				goto missing;
			p = skip_ws(p + 1, end);
			if (p < end && *p == '}')
				goto missing;
			for (;;)
			{
				const char *kstart;
				const char *vstart;
				int			kesc = 0;
				int			vesc = 0;
				int			match;

				if (p >= end)
				{
					set_error(err, v->ptr, end, "unexpected end of input");
					goto out;
				}
				if (*p != '"')
				{
					set_error(err, v->ptr, p, "expected object member name");
					goto out;
				}
				kstart = p + 1;
				p = scan_string(&cx, kstart, &kesc);
				if (p == NULL)
					goto out;
				if (!kesc)
					match = ((size_t) (p - 1 - kstart) == st->keylen &&
							 memcmp(kstart, st->key, st->keylen) == 0);
				else
					match = key_equal_escaped(kstart, (size_t) (p - 1 - kstart),
											  st->key, st->keylen);
				p = skip_ws(p, end);
				if (p >= end || *p != ':')
				{
					if (p >= end)
						set_error(err, v->ptr, end, "unexpected end of input");
					else
						set_error(err, v->ptr, p,
								  "expected ':' after object member name");
					goto out;
				}
				p = skip_ws(p + 1, end);
				vstart = p;
				kind = skip_value(&cx, &p, 0, &vesc);
				if (kind < 0)
					goto out;
				if (match)
				{
					/* keep going: a later duplicate wins */
					fstart = vstart;
					fend = p;
					fkind = kind;
					fesc = vesc;
				}
				p = skip_ws(p, end);
				if (p < end && *p == ',')
				{
					p = skip_ws(p + 1, end);
					continue;
				}
				if (p < end && *p == '}')
					break;
				if (p >= end)
					set_error(err, v->ptr, end, "unexpected end of input");
				else
					set_error(err, v->ptr, p,
							  "expected ',' or '}' after object member");
				goto out;
			}
			if (fstart == NULL)
				goto missing;
		}
		else
		{
			long		want = st->index;
			long		n;
			int			pass;
			int			ring = (want < 0 && want >= -BJ_RING);
			const char *rstart[BJ_RING];
			const char *rend[BJ_RING];
			int			rkind[BJ_RING];
			int			resc[BJ_RING];

			if (*p != '[')
				goto missing;

			/*
			 * A negative index counts the elements (pass 0), then picks one
			 * (pass 1).  Pass 0 remembers the last BJ_RING elements, so that
			 * the common [-1] needs one pass only.
			 */
			for (pass = (want < 0) ? 0 : 1; pass < 2; pass++)
			{
				const char *q = skip_ws(p + 1, end);

				n = 0;
				if (q < end && *q == ']')
					continue;	/* empty: nothing to find */
				for (;;)
				{
					const char *vstart = q;
					int			vesc = 0;

					kind = skip_value(&cx, &q, 0, &vesc);
					if (kind < 0)
						goto out;
					if (pass == 1 && n == want)
					{
						fstart = vstart;
						fend = q;
						fkind = kind;
						fesc = vesc;
						break;
					}
					if (pass == 0 && ring)
					{
						int			r = (int) (n % BJ_RING);

						rstart[r] = vstart;
						rend[r] = q;
						rkind[r] = kind;
						resc[r] = vesc;
					}
					n++;
					q = skip_ws(q, end);
					if (q < end && *q == ',')
					{
						q = skip_ws(q + 1, end);
						continue;
					}
					if (q < end && *q == ']')
						break;
					if (q >= end)
						set_error(err, v->ptr, end, "unexpected end of input");
					else
						set_error(err, v->ptr, q,
								  "expected ',' or ']' after array element");
					goto out;
				}
				if (pass == 0)
				{
					want += n;
					if (want < 0)
						goto missing;
					if (ring)
					{
						int			r = (int) (want % BJ_RING);

						fstart = rstart[r];
						fend = rend[r];
						fkind = rkind[r];
						fesc = resc[r];
						break;
					}
				}
			}
			if (fstart == NULL)
				goto missing;
		}
		p = fstart;
		end = fend;
		kind = fkind;
		esc = fesc;
	}

	out->kind = (BjKind) kind;
	out->has_escapes = esc;
	out->ptr = p;
	out->len = (size_t) (end - p);
	rc = 0;
	goto out;

missing:
	memset(out, 0, sizeof(BjValue));
	rc = 0;

out:
	if (bits.owned)
		free(bits.buf);
	return rc;
}

/*
 * Unescape a BJ_STRING value into out (room for v->len bytes; see
 * jsonscan.h).  Copies runs without a backslash with memcpy, so a string
 * without escapes costs a memchr and a memcpy.  Returns the length
 * written, or -1 with err (offset relative to v->ptr).
 */
long
bj_unescape(const BjValue *v, char *out, BjError *err)
{
	const char *p;
	const char *end;
	char	   *o = out;

	if (v == NULL || v->kind != BJ_STRING || v->ptr == NULL || v->len < 2 ||
		v->ptr[0] != '"' || v->ptr[v->len - 1] != '"')
		return set_error(err, NULL, NULL, "value is not a string");
	p = v->ptr + 1;
	end = v->ptr + v->len - 1;
	while (p < end)
	{
		const char *bs = memchr(p, '\\', (size_t) (end - p));
		unsigned char buf[4];
		int			n = 0;
		int			used;

		if (bs == NULL)
		{
			memcpy(o, p, (size_t) (end - p));
			o += end - p;
			break;
		}
		memcpy(o, p, (size_t) (bs - p));
		o += bs - p;
		used = decode_escape(bs, end, buf, &n);
		if (used < 0)
		{
			if (used == BJ_ESC_NUL)
				return set_error(err, v->ptr, bs,
								 "unsupported unicode escape \\u0000");
			if (used == BJ_ESC_SURROGATE)
				return set_error(err, v->ptr, bs,
								 "unpaired surrogate in unicode escape");
			return set_error(err, v->ptr, bs, "invalid escape sequence");
		}
		memcpy(o, buf, (size_t) n);
		o += n;
		p = bs + used;
	}
	return (long) (o - out);
}
