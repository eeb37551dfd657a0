/*-------------------------------------------------------------------------
 *
 * jsonscan.h
 *		A validating, projection-aware JSON scanner: the one seam behind
 *		which the record decoder keeps its JSON machinery.
 *
 * Design: the decoder compiles the JSON paths the query needs into a trie
 * (BjPaths) once per scan.  bj_scan then walks one record's text a byte at
 * a time, validating all of it (RFC 8259: strings, escapes, numbers,
 * literals, nesting) but building nothing: for each path in the trie it
 * only records where the value's raw text starts and ends (BjValue).  A
 * jsonb column can hand that span to its input function unchanged; a text
 * column unescapes it with bj_unescape; fields nobody asked for are only
 * stepped over.  Nesting is tracked on an explicit heap stack, so hostile
 * input cannot overflow the C stack, and depth is bounded.
 *
 * Why this and not a library: measured on this project's machines over
 * 90 MB of Bedrock-like records, a jansson DOM per line (json_loadb, the
 * design's JSON library) reads about 80 MB/s and PostgreSQL's own JSON
 * parser about 450 MB/s; this scanner validates everything at about
 * 1.4 GB/s while extracting four fields (bench/jsonscan_bench.c), so
 * inflate, not JSON, is what a scan waits for.  jansson remains the
 * reference parser of the differential test (test/jsonscan/diff.c).
 *
 * Like sigv4.c, this module is independent of PostgreSQL (libc only), so
 * that it can be fuzzed and run under the sanitizers stand-alone and
 * compared against a reference parser.  It never aborts; functions return
 * a status and fill a BjError.  Memory is malloc'd and released by the
 * matching _free function.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BEDLOG_JSONSCAN_H
#define BEDLOG_JSONSCAN_H

#include <stddef.h>

#define BJ_DEFAULT_MAX_DEPTH 10000

typedef enum BjKind
{
	BJ_MISSING = 0,				/* path not present in the document */
	BJ_NULL,
	BJ_FALSE,
	BJ_TRUE,
	BJ_NUMBER,
	BJ_STRING,
	BJ_OBJECT,
	BJ_ARRAY
} BjKind;

/* Where a matched value lies in the scanned text. */
typedef struct BjValue
{
	BjKind		kind;
	int			has_escapes;	/* strings: contains a backslash escape */
	const char *ptr;			/* raw text; strings include their quotes */
	size_t		len;
} BjValue;

/* One step of a path: an object member or an array element. */
typedef struct BjStep
{
	const char *key;			/* member name (raw UTF-8), NULL for index */
	size_t		keylen;
	long		index;			/* element index when key == NULL; negative
								 * counts from the end (-1 = last) */
} BjStep;

/* A parsed path: steps plus the storage their keys point into. */
typedef struct BjPath
{
	BjStep	   *steps;
	int			nsteps;			/* 0 means the whole document ("$") */
} BjPath;

typedef struct BjError
{
	size_t		offset;			/* byte offset in the scanned text */
	char		msg[160];		/* English, lower-case, no trailing period */
} BjError;

typedef struct BjPaths BjPaths; /* compiled trie, opaque */
typedef struct BjScanner BjScanner; /* trie + scratch stack, opaque */

/*
 * Parse a json_path option: dotted member names, "[n]" element indexes
 * (negative from the end), a member name in double quotes when it holds
 * '.', '[' or '"' (backslash escapes '"' and '\' inside quotes), and "$"
 * (optionally followed by ".a.b" or "[0]") for the whole record.
 * Examples: "input.inputTokenCount", "output.outputBodyJson[-1].amazon-
 * bedrock-invocationMetrics.invocationLatency", "requestMetadata.\"a.b\"".
 * Details: "$" is special only alone or before '.' or '[' ("$a" is the
 * member "$a"); a path may also start with "[n]"; the empty member name
 * is written "\"\""; empty segments ("a..b", "a.", ".a"), unterminated
 * quotes or brackets, and indexes that are not integers ("[+1]", "[1.5]",
 * "[ 1]") or do not fit a long are errors.  Returns 0 and fills *path
 * (nsteps 0 and steps NULL for "$"; free with bj_path_free), or -1 with err
 * (offset into s) and *path empty.
 */
extern int	bj_path_parse(const char *s, BjPath *path, BjError *err);
extern void bj_path_free(BjPath *path);

/*
 * Build a trie.  bj_paths_add registers steps[0..nsteps) (no negative
 * indexes: a caller splits a path at its first negative index and resolves
 * the rest with bj_resolve) and returns the slot that receives its value:
 * want_slot for a new path, or the slot an identical path got earlier.
 * Returns -1 on bad input or out of memory.
 */
extern BjPaths *bj_paths_create(void);
extern int	bj_paths_add(BjPaths *p, const BjStep *steps, int nsteps, int want_slot);
extern int	bj_paths_nslots(const BjPaths *p);	/* highest slot + 1 */
extern void bj_paths_free(BjPaths *p);

/*
 * A scanner owns its scratch stacks; one per scan, reused for every record.
 * paths may be NULL (validate only); otherwise the trie must outlive the
 * scanner (paths added later are picked up).  max_depth <= 0 means
 * BJ_DEFAULT_MAX_DEPTH.  Returns NULL when out of memory.
 */
extern BjScanner *bj_scanner_create(const BjPaths *paths, int max_depth);
extern void bj_scanner_free(BjScanner *s);

/*
 * Scan buf[0..len), which must hold exactly one JSON value with optional
 * surrounding whitespace (space, tab, CR, LF).  Sets slots[0..nslots) for
 * the registered paths (BJ_MISSING where absent; when a member name occurs
 * twice in one object, the last one wins, as in jsonb, subtree included).
 * Slots point into buf; a slot at or beyond nslots is not written.  *top
 * (may be NULL) receives the kind of the top-level value.  Returns 0, or
 * -1 with err for malformed JSON or nesting deeper than max_depth; the
 * slots are then meaningless.  Allocates nothing per record (its stacks
 * grow once, up to max_depth).  The syntax of \u escapes is checked, not
 * what they encode (bj_unescape refuses \u0000 and unpaired surrogates);
 * UTF-8 validity of the bytes is the caller's business (PostgreSQL has a
 * fast verifier).
 */
extern int	bj_scan(BjScanner *s, const char *buf, size_t len,
					BjValue *slots, int nslots, BjKind *top, BjError *err);

/*
 * Resolve steps (negative indexes allowed) inside an already validated
 * value v, e.g. "[-1].metrics.latencyMs" inside an array.  *out gets
 * BJ_MISSING when the path is absent or the types do not fit, else a span
 * inside v's text (with nsteps 0: v itself, surrounding whitespace
 * trimmed).  Duplicate member names: the last one wins.  Returns 0, or -1
 * with err (offset relative to v->ptr; only on malformed text).
 */
extern int	bj_resolve(const BjValue *v, const BjStep *steps, int nsteps,
					   BjValue *out, BjError *err);

/*
 * Unescape a BJ_STRING value into out, which must have room for v->len
 * bytes (never exceeded).  Writes UTF-8 without a terminator and returns
 * its length, or -1 with err for \u0000 (PostgreSQL text cannot hold it)
 * and for unpaired UTF-16 surrogates.  Works whether or not
 * v->has_escapes is set (a string without escapes is one memcpy).
 */
extern long bj_unescape(const BjValue *v, char *out, BjError *err);

#endif							/* BEDLOG_JSONSCAN_H */
