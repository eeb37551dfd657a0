/*
 * fuzz_jsonscan.c
 *		libFuzzer harness for src/jsonscan.c (PostgreSQL-independent).
 *
 * Input layout: "<json_path>\n<json text>".  The first line is parsed with
 * bj_path_parse; if it parses, its prefix up to the first negative index
 * is registered in a BjPaths trie (next to a few fixed paths) and the rest
 * is resolved inside the found value with bj_resolve.  The remainder is
 * scanned with bj_scan (max depth 10000), twice with the same scanner (the
 * results must be identical), every string slot is unescaped with
 * bj_unescape into an exactly-sized malloc buffer, and the whole input is
 * also scanned with no paths.  Invariant violations call __builtin_trap().
 *
 * Build and run: see fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonscan.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static const char *const fixed_paths[] = {
	"$", "a", "a.b", "[0]", "[1].a", "output.outputBodyJson",
	"input.inputTokenCount", "requestMetadata.\"a.b\""
};
#define NFIXED ((int) (sizeof(fixed_paths) / sizeof(fixed_paths[0])))

/* v must be a non-missing value lying inside [base, base+blen). */
static void
check_value(const BjValue *v, const char *base, size_t blen)
{
	if (v->kind == BJ_MISSING)
		return;
	CHECK(v->kind > BJ_MISSING && v->kind <= BJ_ARRAY);
	CHECK(v->ptr != NULL);
	CHECK(v->len > 0);
	CHECK(v->ptr >= base);
	CHECK((size_t) (v->ptr - base) <= blen);
	CHECK(v->len <= blen - (size_t) (v->ptr - base));

	switch (v->kind)
	{
		case BJ_NULL:
			CHECK(v->len == 4 && memcmp(v->ptr, "null", 4) == 0);
			break;
		case BJ_TRUE:
			CHECK(v->len == 4 && memcmp(v->ptr, "true", 4) == 0);
			break;
		case BJ_FALSE:
			CHECK(v->len == 5 && memcmp(v->ptr, "false", 5) == 0);
			break;
		case BJ_NUMBER:
			CHECK(v->ptr[0] == '-' || (v->ptr[0] >= '0' && v->ptr[0] <= '9'));
			CHECK(v->ptr[v->len - 1] >= '0' && v->ptr[v->len - 1] <= '9');
			break;
		case BJ_OBJECT:
			CHECK(v->len >= 2 && v->ptr[0] == '{' && v->ptr[v->len - 1] == '}');
			break;
		case BJ_ARRAY:
			CHECK(v->len >= 2 && v->ptr[0] == '[' && v->ptr[v->len - 1] == ']');
			break;
		case BJ_STRING:
			{
				char	   *out;
				long		n;
				BjError		err;

				CHECK(v->len >= 2 && v->ptr[0] == '"' && v->ptr[v->len - 1] == '"');
				out = malloc(v->len);	/* exactly v->len: ASan sees overruns */
				CHECK(out != NULL);
				n = bj_unescape(v, out, &err);
				CHECK(n >= -1);
				CHECK(n == -1 || (size_t) n <= v->len);
				if (n >= 0 && !v->has_escapes)
				{
					CHECK((size_t) n == v->len - 2);
					CHECK(memcmp(out, v->ptr + 1, (size_t) n) == 0);
				}
				if (n >= 0)
					CHECK(memchr(out, '\0', (size_t) n) == NULL);
				free(out);
			}
			break;
		default:
			break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t		pathlen = nl ? (size_t) (nl - data) : 0;
	size_t		remoff = nl ? pathlen + 1 : 0;
	size_t		remlen = size - remoff;
	char	   *pathstr;
	char	   *rem;
	char	   *whole;
	BjPath		path = {0};
	BjPath		fixed[NFIXED];
	int			have_path = 0;
	int			split = 0;
	int			path_slot = -1;
	BjPaths    *paths;
	BjScanner  *sc;
	BjError		err;
	BjKind		top = BJ_MISSING;
	int			nslots;
	BjValue    *slots = NULL;
	BjValue    *slots2 = NULL;
	int			rc;

	/* exactly-sized copies, so that ASan catches any over-read */
	pathstr = malloc(pathlen + 1);
	CHECK(pathstr != NULL);
	memcpy(pathstr, data, pathlen);
	pathstr[pathlen] = '\0';
	rem = malloc(remlen ? remlen : 1);
	CHECK(rem != NULL);
	if (remlen)
		memcpy(rem, data + remoff, remlen);

	paths = bj_paths_create();
	CHECK(paths != NULL);

	/* err poisoned: a failing call must fill it in */
	memset(&err, 0xff, sizeof(err));
	if (nl && bj_path_parse(pathstr, &path, &err) == 0)
	{
		have_path = 1;
		CHECK(path.nsteps >= 0);
		CHECK(path.nsteps == 0 || path.steps != NULL);
		while (split < path.nsteps &&
			   !(path.steps[split].key == NULL && path.steps[split].index < 0))
			split++;
		path_slot = bj_paths_add(paths, path.steps, split, 0);
		CHECK(path_slot == 0);
	}
	else if (nl)
	{
		/* parse failed: path left empty, error offset inside the line */
		CHECK(path.nsteps == 0 && path.steps == NULL);
		CHECK(err.offset <= pathlen);
		CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
	}

	for (int i = 0; i < NFIXED; i++)
	{
		int			s;

		CHECK(bj_path_parse(fixed_paths[i], &fixed[i], &err) == 0);
		s = bj_paths_add(paths, fixed[i].steps, fixed[i].nsteps, 1 + i);
		CHECK(s >= 0 && s <= 1 + i);
	}

	nslots = bj_paths_nslots(paths);
	CHECK(nslots >= 1 && nslots <= NFIXED + 1);
	slots = calloc((size_t) nslots, sizeof(BjValue));
	slots2 = calloc((size_t) nslots, sizeof(BjValue));
	CHECK(slots && slots2);

	sc = bj_scanner_create(paths, 10000);
	CHECK(sc != NULL);

	memset(&err, 0xff, sizeof(err));
	rc = bj_scan(sc, rem, remlen, slots, nslots, &top, &err);
	CHECK(rc == 0 || rc == -1);
	if (rc == 0)
	{
		BjValue		doc;

		CHECK(top > BJ_MISSING && top <= BJ_ARRAY);
		for (int i = 0; i < nslots; i++)
			check_value(&slots[i], rem, remlen);

		/* scanning again with the same scanner gives the same answer */
		{
			BjKind		top2 = BJ_MISSING;

			CHECK(bj_scan(sc, rem, remlen, slots2, nslots, &top2, &err) == 0);
			CHECK(top2 == top);
			for (int i = 0; i < nslots; i++)
			{
				CHECK(slots2[i].kind == slots[i].kind);
				if (slots[i].kind != BJ_MISSING)
					CHECK(slots2[i].ptr == slots[i].ptr &&
						  slots2[i].len == slots[i].len &&
						  slots2[i].has_escapes == slots[i].has_escapes);
			}
		}

		if (have_path && slots[path_slot].kind != BJ_MISSING)
		{
			const BjValue *base = &slots[path_slot];
			BjValue		out;

			if (bj_resolve(base, path.steps ? path.steps + split : NULL,
						   path.nsteps - split,
						   &out, &err) == 0)
				check_value(&out, base->ptr, base->len);
		}

		/* the whole path resolved from the document itself */
		doc.kind = top;
		/* unknown for a hand-made span: claim escapes (always safe) */
		doc.has_escapes = 1;
		doc.ptr = rem;
		doc.len = remlen;
		if (have_path)
		{
			BjValue		out;

			if (bj_resolve(&doc, path.steps, path.nsteps, &out, &err) == 0)
			{
				check_value(&out, rem, remlen);
				/* agrees with the trie when there is no negative index */
				if (split == path.nsteps)
				{
					CHECK(out.kind == slots[path_slot].kind);
					if (out.kind != BJ_MISSING)
						CHECK(out.ptr == slots[path_slot].ptr &&
							  out.len == slots[path_slot].len);
				}
			}
		}
		{
			BjValue		out;

			CHECK(bj_resolve(&doc, NULL, 0, &out, &err) == 0);
			CHECK(out.kind == top);
			check_value(&out, rem, remlen);
		}
	}
	else
	{
		CHECK(err.offset <= remlen);
		CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
	}
	bj_scanner_free(sc);

	/* the whole input, validate only */
	whole = malloc(size ? size : 1);
	CHECK(whole != NULL);
	if (size)
		memcpy(whole, data, size);
	sc = bj_scanner_create(NULL, 10000);
	CHECK(sc != NULL);
	memset(&err, 0xff, sizeof(err));
	rc = bj_scan(sc, whole, size, NULL, 0, &top, &err);
	CHECK(rc == 0 || rc == -1);
	if (rc != 0)
	{
		CHECK(err.offset <= size);
		CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
	}
	bj_scanner_free(sc);
	free(whole);

	free(slots);
	free(slots2);
	for (int i = 0; i < NFIXED; i++)
		bj_path_free(&fixed[i]);
	if (have_path)
		bj_path_free(&path);
	bj_paths_free(paths);
	free(rem);
	free(pathstr);
	return 0;
}
