/*-------------------------------------------------------------------------
 *
 * unit.c
 *		Table-driven unit tests for src/jsonscan.c.
 *
 * Design notes: every case is a row in a table (documents that must be
 * accepted, documents that must be rejected with a given message at a
 * given offset, paths with the raw text they must find, path strings,
 * strings to unescape), so that adding a case is adding a line.  Each
 * check counts once; failures are printed with the case, and the program
 * ends with a "RESULT passed=N failed=M" line that run.sh adds up.  Path
 * cases go through the same route the record decoder will take: parse the
 * path, split it at its first negative index, register the prefix in a
 * trie, scan, then bj_resolve the rest.
 *
 * IDENTIFICATION
 *		test/jsonscan/unit.c
 *
 *-------------------------------------------------------------------------
 */
#include "jsonscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	npass;
static int	nfail;

/* Counts one check; prints the failure with its description. */
static void
check(int ok, const char *what, const char *detail)
{
	if (ok)
		npass++;
	else
	{
		nfail++;
		printf("FAIL unit: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	}
}

/* Prints len bytes of s into buf (size n) with non-printables escaped. */
static const char *
show(const char *s, size_t len, char *buf, size_t n)
{
	size_t		o = 0;
	size_t		i;

	for (i = 0; i < len && o + 8 < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c >= 0x20 && c < 0x7f)
			buf[o++] = (char) c;
		else
			o += (size_t) snprintf(buf + o, n - o, "\\x%02x", c);
	}
	if (i < len && o + 4 < n)
	{
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* ----------------------------------------------------------------
 * Validation
 * ----------------------------------------------------------------
 */

typedef struct ValidCase
{
	const char *doc;
	BjKind		top;
} ValidCase;

static const ValidCase valid_cases[] = {
	{"{}", BJ_OBJECT},
	{"[]", BJ_ARRAY},
	{" \t\r\n{ } \t\r\n", BJ_OBJECT},
	{"0", BJ_NUMBER},
	{"-0", BJ_NUMBER},
	{"-0.0e-0", BJ_NUMBER},
	{"1", BJ_NUMBER},
	{"123456789012345678901234567890", BJ_NUMBER},
	{"1.5", BJ_NUMBER},
	{"1e5", BJ_NUMBER},
	{"1E+5", BJ_NUMBER},
	{"1e-05", BJ_NUMBER},
	{"-12.50E10", BJ_NUMBER},
	{"1e400", BJ_NUMBER},
	{"true", BJ_TRUE},
	{"false", BJ_FALSE},
	{"null", BJ_NULL},
	{"\"\"", BJ_STRING},
	{"\"abc\"", BJ_STRING},
	{"\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", BJ_STRING},
	{"\"\\u0041\\u00e9\\u20AC\\uD83D\\uDE00\"", BJ_STRING},
	{"\"\\ud800\"", BJ_STRING},	/* lone surrogate: valid RFC 8259 syntax */
	{"\"\\u0000\"", BJ_STRING},	/* valid syntax; bj_unescape refuses */
	{"\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", BJ_STRING},
	{"\"\x7f\xff\xfe\"", BJ_STRING},	/* bytes >= 0x80 (and DEL) pass */
	{"\"0123456789abcdef0123456789abcdef\\n0123456789\"", BJ_STRING},
	{"{\"a\":1}", BJ_OBJECT},
	{"{ \"a\" : 1 , \"b\" : [ 1 , 2 ] }", BJ_OBJECT},
	{"[1,\"x\",true,false,null,{},[],{\"a\":[{}]}]", BJ_ARRAY},
	{"[[[[[[[[[[]]]]]]]]]]", BJ_ARRAY},
	{"{\"\":\"\"}", BJ_OBJECT},
	{"{\"a\":1,\"a\":2}", BJ_OBJECT},
	{"[-1,0.5,1e1,-0]", BJ_ARRAY},
	{"{\"k\\u00e9y\\n\":{\"x\":[]}}", BJ_OBJECT},
};

typedef struct InvalidCase
{
	const char *doc;
	const char *msg;			/* expected message (prefix) */
	long		offset;			/* expected offset, -1 = don't check */
} InvalidCase;

static const InvalidCase invalid_cases[] = {
	{"", "unexpected end of input", 0},
	{"   ", "unexpected end of input", 3},
	{"{", "unexpected end of input", 1},
	{"[", "unexpected end of input", 1},
	{"[1", "unexpected end of input", 2},
	{"[1,", "unexpected end of input", 3},
	{"{\"a\"", "unexpected end of input", 4},
	{"{\"a\":", "unexpected end of input", 5},
	{"{\"a\":1", "unexpected end of input", 6},
	{"\"abc", "unexpected end of input", 4},
	{"\"abc\\", "unexpected end of input", 5},
	{"\"\\u12", "unexpected end of input", 5},
	{"tru", "unexpected end of input", 3},
	{"nul", "unexpected end of input", 3},
	{"-", "unexpected end of input", 1},
	{"1e", "unexpected end of input", 2},
	{"1.", "unexpected end of input", 2},
	{"{\"a\":1,\"b\":[1,2,{\"c\":\"xyz", "unexpected end of input", -1},
	{"01", "invalid number", 0},
	{"[01]", "invalid number", 1},
	{"-01", "invalid number", 0},
	{"1.]", "invalid number", 0},
	{"[1.]", "invalid number", 1},
	{".5", "expected a value", 0},
	{"[.5]", "expected a value", 1},
	{"-a", "invalid number", 0},
	{"[1e]", "invalid number", 1},
	{"[1e+]", "invalid number", 1},
	{"+1", "expected a value", 0},
	{"[+1]", "expected a value", 1},
	{"1.2.3", "invalid number", 0},
	{"[1-2]", "invalid number", 1},
	{"0x10", "unexpected character after top-level value", 1},
	{"NaN", "expected a value", 0},
	{"[NaN]", "expected a value", 1},
	{"Infinity", "expected a value", 0},
	{"[-Infinity]", "invalid number", 1},
	{"True", "expected a value", 0},
	{"nulls", "invalid literal", 0},
	{"[truex]", "invalid literal", 1},
	{"[fals]", "invalid literal", 1},
	{"[nil]", "invalid literal", 1},
	{"[1,]", "expected a value", 3},
	{"{\"a\":1,}", "expected object member name", 7},
	{"[,1]", "expected a value", 1},
	{"{,}", "expected object member name", 1},
	{"[1 2]", "expected ',' or ']' after array element", 3},
	{"{\"a\":1 \"b\":2}", "expected ',' or '}' after object member", 7},
	{"{\"a\" 1}", "expected ':' after object member name", 5},
	{"{a:1}", "expected object member name", 1},
	{"{'a':1}", "expected object member name", 1},
	{"{\"a\":1]", "expected ',' or '}' after object member", 6},
	{"[1}", "expected ',' or ']' after array element", 2},
	{"{1:2}", "expected object member name", 1},
	{"{\"a\"::1}", "expected a value", 5},
	{"[\"a\":1]", "expected ',' or ']' after array element", 4},
	{"{} {}", "unexpected character after top-level value", 3},
	{"1 2", "unexpected character after top-level value", 2},
	{"[] x", "unexpected character after top-level value", 3},
	{"\"a\"\"b\"", "unexpected character after top-level value", 3},
	{"\"a\x01\"", "unescaped control character 0x01 in string", 2},
	{"\"a\nb\"", "unescaped control character 0x0a in string", 2},
	{"\"\t\"", "unescaped control character 0x09 in string", 1},
	{"{\"a\x1f\":1}", "unescaped control character 0x1f in string", 3},
	{"\"\\x41\"", "invalid escape sequence", 1},
	{"\"\\a\"", "invalid escape sequence", 1},
	{"\"\\U0041\"", "invalid escape sequence", 1},
	{"\"\\u12G4\"", "invalid escape sequence", 1},
	{"\"\\u-123\"", "invalid escape sequence", 1},
	{"\"\\'\"", "invalid escape sequence", 1},
	{"[\"\\ \"]", "invalid escape sequence", 2},
	{"\xef\xbb\xbf{}", "expected a value", 0},	/* BOM is not whitespace */
	{"\f{}", "expected a value", 0},
	{"\v1", "expected a value", 0},
	{"\xc2\xa0" "1", "expected a value", 0},	/* NBSP is not whitespace */
	{"/* c */ 1", "expected a value", 0},
	{"[1] // c", "unexpected character after top-level value", 4},
	{"}", "expected a value", 0},
	{"]", "expected a value", 0},
	{":", "expected a value", 0},
	{"[]]", "unexpected character after top-level value", 2},
	{"{}}", "unexpected character after top-level value", 2},
	{"[[]", "unexpected end of input", 3},
	{"[{]}", "expected object member name", 2},
	{"{\"a\":[}", "expected a value", 6},
	{"undefined", "expected a value", 0},
};

/*
 * Scan doc[0..len) with a validate-only scanner and with a scanner that
 * has paths, expecting success and top kind 'top'.
 */
static void
expect_valid(BjScanner *plain, BjScanner *withpaths, const char *doc,
			 size_t len, BjKind top)
{
	BjError		err;
	BjKind		k = BJ_MISSING;
	BjValue		slots[4];
	char		what[300];
	char		sbuf[200];
	int			rc;

	snprintf(what, sizeof(what), "valid \"%s\"", show(doc, len, sbuf, sizeof(sbuf)));
	rc = bj_scan(plain, doc, len, NULL, 0, &k, &err);
	check(rc == 0 && k == top, what, rc == 0 ? "wrong top kind" : err.msg);
	rc = bj_scan(withpaths, doc, len, slots, 4, &k, &err);
	check(rc == 0 && k == top, what, rc == 0 ? "wrong top kind (paths)" : err.msg);
}

/* Scan doc expecting failure with message prefix msg at offset off. */
static void
expect_invalid(BjScanner *plain, BjScanner *withpaths, const char *doc,
			   size_t len, const char *msg, long off)
{
	BjError		err;
	BjKind		k;
	BjValue		slots[4];
	char		what[300];
	char		detail[300];
	char		sbuf[200];
	int			rc;
	int			pass;

	snprintf(what, sizeof(what), "invalid \"%s\"", show(doc, len, sbuf, sizeof(sbuf)));
	for (pass = 0; pass < 2; pass++)
	{
		memset(&err, 0, sizeof(err));
		rc = pass == 0 ? bj_scan(plain, doc, len, NULL, 0, &k, &err) :
			bj_scan(withpaths, doc, len, slots, 4, &k, &err);
		if (rc == 0)
		{
			check(0, what, "accepted");
			continue;
		}
		snprintf(detail, sizeof(detail),
				 "%s: got \"%s\" at %zu, want \"%s\" at %ld",
				 pass ? "paths" : "plain", err.msg, err.offset, msg, off);
		check(strncmp(err.msg, msg, strlen(msg)) == 0 &&
			  (off < 0 || (size_t) off == err.offset), what, detail);
		/* house style: lower-case, no trailing period */
		check(err.msg[0] != '\0' && !(err.msg[0] >= 'A' && err.msg[0] <= 'Z') &&
			  err.msg[strlen(err.msg) - 1] != '.', what, "message style");
	}
}

static void
test_validation(void)
{
	BjPaths    *paths = bj_paths_create();
	BjScanner  *plain = bj_scanner_create(NULL, 0);
	BjScanner  *withpaths;
	BjPath		pa;
	BjError		err;
	size_t		i;
	static const char *const some[] = {"a", "a.b", "[0]", "$", "b[1].c"};

	for (i = 0; i < sizeof(some) / sizeof(some[0]); i++)
	{
		if (bj_path_parse(some[i], &pa, &err) == 0)
		{
			bj_paths_add(paths, pa.steps, pa.nsteps, (int) i % 4);
			bj_path_free(&pa);
		}
	}
	withpaths = bj_scanner_create(paths, 0);

	for (i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++)
		expect_valid(plain, withpaths, valid_cases[i].doc,
					 strlen(valid_cases[i].doc), valid_cases[i].top);
	for (i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++)
		expect_invalid(plain, withpaths, invalid_cases[i].doc,
					   strlen(invalid_cases[i].doc), invalid_cases[i].msg,
					   invalid_cases[i].offset);

	/* embedded NUL bytes: a raw NUL is a control character or no token */
	expect_invalid(plain, withpaths, "\"a\0b\"", 5,
				   "unescaped control character 0x00 in string", 2);
	expect_invalid(plain, withpaths, "[1,\0]", 5, "expected a value", 3);
	expect_invalid(plain, withpaths, "{}\0", 3,
				   "unexpected character after top-level value", 2);
	/* the length is honoured: no reading past it */
	expect_valid(plain, withpaths, "[1]xyz", 3, BJ_ARRAY);
	expect_invalid(plain, withpaths, "\"abc\"", 4, "unexpected end of input", 4);
	expect_invalid(plain, withpaths, "truex", 3, "unexpected end of input", 3);
	expect_valid(plain, withpaths, "12345", 2, BJ_NUMBER);

	/* a NULL buffer of length 0 is empty input */
	{
		BjKind		k;

		check(bj_scan(plain, NULL, 0, NULL, 0, &k, &err) == -1 &&
			  strcmp(err.msg, "unexpected end of input") == 0,
			  "NULL buffer", err.msg);
	}

	bj_scanner_free(withpaths);
	bj_scanner_free(plain);
	bj_paths_free(paths);
}

/* ----------------------------------------------------------------
 * Deep nesting
 * ----------------------------------------------------------------
 */

/* Returns a malloc'd "[[[...]]]" (n levels, closed when 'closed'). */
static char *
nested(size_t n, int closed, const char *open, const char *close,
	   size_t *lenp)
{
	size_t		ol = strlen(open);
	size_t		cl = strlen(close);
	size_t		len = n * ol + (closed ? n * cl : 0);
	char	   *s = malloc(len + 1);
	size_t		i;

	if (s == NULL)
	{
		printf("out of memory\n");
		exit(2);
	}
	for (i = 0; i < n; i++)
		memcpy(s + i * ol, open, ol);
	if (closed)
		for (i = 0; i < n; i++)
			memcpy(s + n * ol + i * cl, close, cl);
	s[len] = '\0';
	*lenp = len;
	return s;
}

static void
test_depth(void)
{
	BjScanner  *s = bj_scanner_create(NULL, 10000);
	BjPaths    *paths = bj_paths_create();
	BjScanner  *sp;
	BjError		err;
	BjKind		k;
	BjValue		slots[2];
	BjPath		pa;
	size_t		len;
	char	   *doc;
	int			rc;

	doc = nested(5000, 1, "[", "]", &len);
	rc = bj_scan(s, doc, len, NULL, 0, &k, &err);
	check(rc == 0 && k == BJ_ARRAY, "5,000 nested arrays", rc ? err.msg : NULL);
	free(doc);

	/* objects: {"a":{"a":...{"a":1}...}} */
	{
		size_t		n = 5000;
		size_t		i;

		len = n * 5 + 1 + n;
		doc = malloc(len);
		for (i = 0; i < n; i++)
			memcpy(doc + i * 5, "{\"a\":", 5);
		doc[n * 5] = '1';
		memset(doc + n * 5 + 1, '}', n);
		rc = bj_scan(s, doc, len, NULL, 0, &k, &err);
		check(rc == 0 && k == BJ_OBJECT, "5,000 nested objects", rc ? err.msg : NULL);
		free(doc);
	}

	doc = nested(10000, 1, "[", "]", &len);
	rc = bj_scan(s, doc, len, NULL, 0, &k, &err);
	check(rc == 0, "exactly 10,000 levels with max_depth 10000", rc ? err.msg : NULL);
	free(doc);

	doc = nested(10001, 1, "[", "]", &len);
	rc = bj_scan(s, doc, len, NULL, 0, &k, &err);
	check(rc == -1 && strcmp(err.msg, "nesting deeper than 10000 levels") == 0 &&
		  err.offset == 10000, "10,001 levels", rc ? err.msg : "accepted");
	free(doc);

	doc = nested(20000, 1, "[", "]", &len);
	rc = bj_scan(s, doc, len, NULL, 0, &k, &err);
	check(rc == -1 && strcmp(err.msg, "nesting deeper than 10000 levels") == 0,
		  "20,000 levels", rc ? err.msg : "accepted");
	free(doc);

	doc = nested(1000000, 0, "[", "", &len);
	rc = bj_scan(s, doc, len, NULL, 0, &k, &err);
	check(rc == -1 && strcmp(err.msg, "nesting deeper than 10000 levels") == 0,
		  "1,000,000 '['", rc ? err.msg : "accepted");
	free(doc);

	doc = nested(1000000, 0, "{\"\":", "", &len);
	rc = bj_scan(s, doc, len, NULL, 0, &k, &err);
	check(rc == -1 && strcmp(err.msg, "nesting deeper than 10000 levels") == 0,
		  "1,000,000 '{\"\":'", rc ? err.msg : "accepted");
	free(doc);

	/* the same with a trie walking the outer levels */
	bj_path_parse("[0][0][0].a", &pa, &err);
	bj_paths_add(paths, pa.steps, pa.nsteps, 0);
	bj_path_free(&pa);
	bj_path_parse("$", &pa, &err);
	bj_paths_add(paths, pa.steps, pa.nsteps, 1);
	bj_path_free(&pa);
	sp = bj_scanner_create(paths, 10000);

	doc = nested(10000, 1, "[", "]", &len);
	rc = bj_scan(sp, doc, len, slots, 2, &k, &err);
	check(rc == 0 && slots[0].kind == BJ_MISSING && slots[1].kind == BJ_ARRAY &&
		  slots[1].len == len, "10,000 levels, trie on top", rc ? err.msg : NULL);
	free(doc);
	doc = nested(10001, 1, "[", "]", &len);
	rc = bj_scan(sp, doc, len, slots, 2, &k, &err);
	check(rc == -1 && strcmp(err.msg, "nesting deeper than 10000 levels") == 0 &&
		  err.offset == 10000, "10,001 levels, trie on top", rc ? err.msg : "accepted");
	free(doc);
	doc = nested(1000000, 0, "[", "", &len);
	rc = bj_scan(sp, doc, len, slots, 2, &k, &err);
	check(rc == -1, "1,000,000 '[', trie on top", rc ? err.msg : "accepted");
	free(doc);
	bj_scanner_free(sp);

	/* a small max_depth counts trie frames and skipped levels alike */
	sp = bj_scanner_create(paths, 3);
	rc = bj_scan(sp, "[[[1]]]", 7, slots, 2, &k, &err);
	check(rc == 0, "depth 3 with max_depth 3", rc ? err.msg : NULL);
	rc = bj_scan(sp, "[[[[1]]]]", 9, slots, 2, &k, &err);
	check(rc == -1 && strcmp(err.msg, "nesting deeper than 3 levels") == 0 &&
		  err.offset == 3, "depth 4 with max_depth 3", rc ? err.msg : "accepted");
	rc = bj_scan(sp, "[[[{\"a\":[]}]]]", 14, slots, 2, &k, &err);
	check(rc == -1 && err.offset == 3, "depth 5 via trie with max_depth 3",
		  rc ? err.msg : "accepted");
	bj_scanner_free(sp);

	/* bj_resolve steps over deep values without a depth limit of its own */
	doc = nested(50000, 1, "[", "]", &len);
	{
		BjValue		v = {BJ_ARRAY, 0, NULL, 0};
		BjValue		out;
		BjStep		st[2] = {{NULL, 0, -1}, {NULL, 0, 0}};

		v.ptr = doc;
		v.len = len;
		rc = bj_resolve(&v, st, 2, &out, &err);
		check(rc == 0 && out.kind == BJ_ARRAY && out.len == len - 4,
			  "bj_resolve over 50,000 levels", rc ? err.msg : NULL);
	}
	free(doc);

	bj_paths_free(paths);
	bj_scanner_free(s);
}

/* ----------------------------------------------------------------
 * Paths: parse, match, resolve
 * ----------------------------------------------------------------
 */

typedef struct PathCase
{
	const char *doc;
	const char *path;
	BjKind		kind;			/* BJ_MISSING when absent */
	const char *raw;			/* expected raw text, NULL = don't check */
} PathCase;

static const char rec[] =
"{\"schemaType\":\"ModelInvocationLog\",\"schemaVersion\":\"1.0\","
"\"timestamp\":\"2024-04-18T22:54:57Z\",\"accountId\":\"111111111111\","
"\"identity\":{\"arn\":\"arn:aws:iam::111111111111:user/x\"},"
"\"region\":\"us-east-1\",\"requestId\":\"6f9e\","
"\"operation\":\"InvokeModelWithResponseStream\","
"\"modelId\":\"anthropic.claude-3-haiku-20240307-v1:0\","
"\"input\":{\"inputContentType\":\"application/json\","
"\"inputBodyJson\":{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]},"
"\"inputTokenCount\":12},"
"\"output\":{\"outputContentType\":\"application/json\","
"\"outputBodyJson\":[{\"type\":\"a\"},{\"type\":\"b\"},"
"{\"type\":\"message_stop\",\"amazon-bedrock-invocationMetrics\":"
"{\"inputTokenCount\":12,\"outputTokenCount\":34,\"invocationLatency\":1234,"
"\"firstByteLatency\":567}}],"
"\"outputTokenCount\":34}}";

static const PathCase path_cases[] = {
	/* the Bedrock record */
	{rec, "timestamp", BJ_STRING, "\"2024-04-18T22:54:57Z\""},
	{rec, "$.timestamp", BJ_STRING, "\"2024-04-18T22:54:57Z\""},
	{rec, "identity.arn", BJ_STRING, "\"arn:aws:iam::111111111111:user/x\""},
	{rec, "input.inputTokenCount", BJ_NUMBER, "12"},
	{rec, "output.outputTokenCount", BJ_NUMBER, "34"},
	{rec, "input.inputBodyJson", BJ_OBJECT,
	"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"},
	{rec, "input.inputBodyJson.messages[0].content", BJ_STRING, "\"hi\""},
	{rec, "input.inputBodyJson.messages[-1].role", BJ_STRING, "\"user\""},
	{rec, "input.inputBodyJson.messages[1]", BJ_MISSING, NULL},
	{rec, "input.inputBodyJson.messages[-2]", BJ_MISSING, NULL},
	{rec, "output.outputBodyJson[-1].amazon-bedrock-invocationMetrics.invocationLatency",
	BJ_NUMBER, "1234"},
	{rec, "output.outputBodyJson[2].amazon-bedrock-invocationMetrics.firstByteLatency",
	BJ_NUMBER, "567"},
	{rec, "output.outputBodyJson[-3].type", BJ_STRING, "\"a\""},
	{rec, "output.outputBodyJson[-4].type", BJ_MISSING, NULL},
	{rec, "output.outputBodyJson[1]", BJ_OBJECT, "{\"type\":\"b\"}"},
	{rec, "output.outputBodyJson.metrics.latencyMs", BJ_MISSING, NULL},
	{rec, "input.inputBodyS3Path", BJ_MISSING, NULL},
	{rec, "inferenceRegion", BJ_MISSING, NULL},
	{rec, "errorCode", BJ_MISSING, NULL},
	{rec, "requestMetadata", BJ_MISSING, NULL},
	/* type mismatches */
	{rec, "timestamp.x", BJ_MISSING, NULL},
	{rec, "timestamp[0]", BJ_MISSING, NULL},
	{rec, "timestamp[-1]", BJ_MISSING, NULL},
	{rec, "identity[0]", BJ_MISSING, NULL},
	{rec, "output.outputBodyJson.type", BJ_MISSING, NULL},
	{rec, "[0]", BJ_MISSING, NULL},
	{rec, "[-1]", BJ_MISSING, NULL},
	{"[1,2,3]", "a", BJ_MISSING, NULL},
	{"\"str\"", "a", BJ_MISSING, NULL},
	{"null", "a.b", BJ_MISSING, NULL},
	{"{\"a\":null}", "a", BJ_NULL, "null"},
	{"{\"a\":null}", "a.b", BJ_MISSING, NULL},
	{"{\"a\":true}", "a", BJ_TRUE, "true"},
	{"{\"a\":false}", "a", BJ_FALSE, "false"},
	{"{\"a\":-1.5e3}", "a", BJ_NUMBER, "-1.5e3"},
	/* whole document */
	{"  {\"a\":1} ", "$", BJ_OBJECT, "{\"a\":1}"},
	{" [1,2] ", "$", BJ_ARRAY, "[1,2]"},
	{" 42 ", "$", BJ_NUMBER, "42"},
	{"\"x\\ny\"", "$", BJ_STRING, "\"x\\ny\""},
	/* arrays */
	{"[10,20,30]", "[0]", BJ_NUMBER, "10"},
	{"[10,20,30]", "$[2]", BJ_NUMBER, "30"},
	{"[10,20,30]", "[3]", BJ_MISSING, NULL},
	{"[10,20,30]", "[-1]", BJ_NUMBER, "30"},
	{"[10,20,30]", "[-3]", BJ_NUMBER, "10"},
	{"[10,20,30]", "[-4]", BJ_MISSING, NULL},
	{"[0,1,2,3,4,5,6,7,8,9]", "[-8]", BJ_NUMBER, "2"},
	{"[0,1,2,3,4,5,6,7,8,9]", "[-9]", BJ_NUMBER, "1"},
	{"[0,1,2,3,4,5,6,7,8,9]", "[-10]", BJ_NUMBER, "0"},
	{"[0,1,2,3,4,5,6,7,8,9]", "[-11]", BJ_MISSING, NULL},
	{"[0,1,2,3,4,5,6,7,8,9]", "[9]", BJ_NUMBER, "9"},
	{"[0,1,2,3,4,5,6,7,8,9]", "[10]", BJ_MISSING, NULL},
	{"[]", "[0]", BJ_MISSING, NULL},
	{"[]", "[-1]", BJ_MISSING, NULL},
	{"[ [ 1 , [ 2 , 3 ] ] ]", "[0][1][1]", BJ_NUMBER, "3"},
	{"[ [ 1 , [ 2 , 3 ] ] ]", "[0][1]", BJ_ARRAY, "[ 2 , 3 ]"},
	{"[ [ 1 , [ 2 , 3 ] ] ]", "[-1][-1][-2]", BJ_NUMBER, "2"},
	{"{\"a\":[{\"b\":1},{\"b\":2}]}", "a[1].b", BJ_NUMBER, "2"},
	{"{\"a\":[{\"b\":1},{\"b\":2}]}", "a[-2].b", BJ_NUMBER, "1"},
	{"{\"a\":[{\"b\":1},{\"c\":2}]}", "a[-1].b", BJ_MISSING, NULL},
	/* nesting and spans */
	{"{\"a\":{\"b\":{\"c\":\"d\"}}}", "a.b.c", BJ_STRING, "\"d\""},
	{"{\"a\":{\"b\":{\"c\":\"d\"}}}", "a.b", BJ_OBJECT, "{\"c\":\"d\"}"},
	{"{ \"a\" : { \"b\" : [ ] } }", "a", BJ_OBJECT, "{ \"b\" : [ ] }"},
	{"{ \"a\" : { \"b\" : [ ] } }", "a.b", BJ_ARRAY, "[ ]"},
	{"{\"a\":{}}", "a", BJ_OBJECT, "{}"},
	{"{\"a\":{}}", "a.b", BJ_MISSING, NULL},
	{"{\"a\":{\"x\":\"}\"}}", "a", BJ_OBJECT, "{\"x\":\"}\"}"},
	{"{\"x\":{\"a\":1},\"a\":2}", "a", BJ_NUMBER, "2"},
	{"{\"ab\":1,\"a\":2}", "a", BJ_NUMBER, "2"},
	{"{\"a\":1,\"ab\":2}", "ab", BJ_NUMBER, "2"},
	/* duplicate member names: the last wins, whole subtrees included */
	{"{\"a\":1,\"a\":2}", "a", BJ_NUMBER, "2"},
	{"{\"a\":{\"b\":1},\"a\":{\"c\":2}}", "a.b", BJ_MISSING, NULL},
	{"{\"a\":{\"b\":1},\"a\":{\"c\":2}}", "a.c", BJ_NUMBER, "2"},
	{"{\"a\":{\"b\":1},\"a\":{\"c\":2}}", "a", BJ_OBJECT, "{\"c\":2}"},
	{"{\"a\":{\"b\":1},\"a\":5}", "a.b", BJ_MISSING, NULL},
	{"{\"a\":[1,2],\"a\":[3]}", "a[1]", BJ_MISSING, NULL},
	{"{\"a\":[1,2],\"a\":[3]}", "a[-1]", BJ_NUMBER, "3"},
	{"{\"a\":{\"b\":1,\"b\":2}}", "a.b", BJ_NUMBER, "2"},
	{"{\"a\":{\"b\":{\"c\":1}},\"a\":{\"b\":{\"d\":2}}}", "a.b.c", BJ_MISSING, NULL},
	{"{\"a\":{\"b\":{\"c\":1}},\"a\":{\"b\":{\"d\":2}}}", "a.b.d", BJ_NUMBER, "2"},
	{"[{\"a\":1,\"a\":{\"b\":2}}]", "[0].a.b", BJ_NUMBER, "2"},
	{"[{\"a\":1,\"a\":{\"b\":2}}]", "[-1].a.b", BJ_NUMBER, "2"},
	{"[{\"a\":{\"b\":2},\"a\":1}]", "[-1].a.b", BJ_MISSING, NULL},
	{"{\"a\":\"x\",\"\\u0061\":\"y\"}", "a", BJ_STRING, "\"y\""},
	/* escaped member names */
	{"{\"\\u0061\":1}", "a", BJ_NUMBER, "1"},
	{"{\"a\\u0062c\":1}", "abc", BJ_NUMBER, "1"},
	{"{\"a\\/b\":1}", "a/b", BJ_NUMBER, "1"},
	{"{\"a\\\\b\":1}", "a\\b", BJ_NUMBER, "1"},
	{"{\"a\\\"b\":1}", "\"a\\\"b\"", BJ_NUMBER, "1"},
	{"{\"a.b\":1}", "\"a.b\"", BJ_NUMBER, "1"},
	{"{\"a.b\":1}", "a.b", BJ_MISSING, NULL},
	{"{\"a\":{\"b\":1}}", "\"a.b\"", BJ_MISSING, NULL},
	{"{\"x[0]\":1}", "\"x[0]\"", BJ_NUMBER, "1"},
	{"{\"caf\\u00e9\":1}", "caf\xc3\xa9", BJ_NUMBER, "1"},
	{"{\"caf\xc3\xa9\":1}", "caf\xc3\xa9", BJ_NUMBER, "1"},
	{"{\"\\uD83D\\uDE00\":1}", "\xf0\x9f\x98\x80", BJ_NUMBER, "1"},
	{"{\"\\ud83d\\ude00\":1}", "\xf0\x9f\x98\x80", BJ_NUMBER, "1"},
	{"{\"\\ud83d\":1}", "\xed\xa0\xbd", BJ_MISSING, NULL},
	{"{\"a\\n\":1}", "a\n", BJ_NUMBER, "1"},
	{"{\"a\\n\":1}", "a", BJ_MISSING, NULL},
	{"{\"a\\n\":1}", "a\nb", BJ_MISSING, NULL},
	{"{\"\\u0061\":{\"\\u0062\":[{\"\\u0063\":7}]}}", "a.b[-1].c", BJ_NUMBER, "7"},
	{"{\"\\u0061\":{\"\\u0062\":[{\"\\u0063\":7}]}}", "a.b[0].c", BJ_NUMBER, "7"},
	{"{\"\":1}", "\"\"", BJ_NUMBER, "1"},
	{"{\"$\":1}", "\"$\"", BJ_NUMBER, "1"},
	{"{\"$a\":1}", "$a", BJ_NUMBER, "1"},
	/* strings carry their quotes */
	{"{\"s\":\"a\\tb\"}", "s", BJ_STRING, "\"a\\tb\""},
	{"{\"s\":\"\"}", "s", BJ_STRING, "\"\""},
};

/* Parse pathstr, run it over doc, and compare with the expected value. */
static void
run_path_case(const PathCase *pc, BjScanner *unused)
{
	BjPath		pa;
	BjError		err;
	BjPaths    *paths;
	BjScanner  *s;
	BjValue		slots[1];
	BjValue		out;
	BjKind		top;
	char		what[400];
	char		detail[400];
	char		sbuf[200];
	int			split;
	int			rc;

	(void) unused;
	snprintf(what, sizeof(what), "path %s in %s", pc->path,
			 show(pc->doc, strlen(pc->doc), sbuf, 60));
	if (bj_path_parse(pc->path, &pa, &err) != 0)
	{
		check(0, what, err.msg);
		return;
	}
	for (split = 0; split < pa.nsteps; split++)
		if (pa.steps[split].key == NULL && pa.steps[split].index < 0)
			break;
	paths = bj_paths_create();
	check(bj_paths_add(paths, pa.steps, split, 0) == 0, what, "bj_paths_add");
	s = bj_scanner_create(paths, 0);
	rc = bj_scan(s, pc->doc, strlen(pc->doc), slots, 1, &top, &err);
	if (rc != 0)
	{
		check(0, what, err.msg);
		goto done;
	}
	rc = bj_resolve(&slots[0], pa.steps ? pa.steps + split : NULL,
					pa.nsteps - split, &out, &err);
	if (rc != 0)
	{
		check(0, what, err.msg);
		goto done;
	}
	snprintf(detail, sizeof(detail), "got kind %d \"%.*s\", want kind %d \"%s\"",
			 out.kind, (int) (out.ptr ? out.len : 0), out.ptr ? out.ptr : "",
			 pc->kind, pc->raw ? pc->raw : "");
	check(out.kind == pc->kind &&
		  (pc->kind == BJ_MISSING ? out.ptr == NULL :
		   (pc->raw == NULL || (out.len == strlen(pc->raw) &&
								memcmp(out.ptr, pc->raw, out.len) == 0))),
		  what, detail);

	/* bj_resolve of the whole path from the document gives the same */
	{
		BjValue		whole = {top, 0, pc->doc, strlen(pc->doc)};
		BjValue		out2;

		rc = bj_resolve(&whole, pa.steps, pa.nsteps, &out2, &err);
		check(rc == 0 && out2.kind == out.kind && out2.len == out.len &&
			  out2.ptr == out.ptr, what, rc ? err.msg : "bj_resolve from the root differs");
	}
done:
	bj_scanner_free(s);
	bj_paths_free(paths);
	bj_path_free(&pa);
}

/*
 * All path cases over one document registered in a single trie at once
 * (paths without negative indexes), so that the trie walk with many
 * siblings is checked against the one-path results.
 */
static void
run_path_cases_together(const char *doc)
{
	BjPaths    *paths = bj_paths_create();
	BjScanner  *s;
	BjValue		slots[64];
	BjError		err;
	BjKind		top;
	BjPath		pa[64];
	int			which[64];
	int			n = 0;
	size_t		i;
	char		what[300];
	char		sbuf[100];

	for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]) && n < 64; i++)
	{
		const PathCase *pc = &path_cases[i];
		int			j,
					neg = 0;

		if (strcmp(pc->doc, doc) != 0 || bj_path_parse(pc->path, &pa[n], &err) != 0)
			continue;
		for (j = 0; j < pa[n].nsteps; j++)
			if (pa[n].steps[j].key == NULL && pa[n].steps[j].index < 0)
				neg = 1;
		if (neg)
		{
			bj_path_free(&pa[n]);
			continue;
		}
		/* identical paths ("a" and "$.a") share a slot */
		j = bj_paths_add(paths, pa[n].steps, pa[n].nsteps, n);
		which[n] = (int) i;
		pa[n].nsteps = j;		/* remember the slot */
		n++;
	}
	s = bj_scanner_create(paths, 0);
	snprintf(what, sizeof(what), "all paths together in %s",
			 show(doc, strlen(doc), sbuf, 60));
	if (bj_scan(s, doc, strlen(doc), slots, bj_paths_nslots(paths), &top, &err) != 0)
		check(0, what, err.msg);
	else
	{
		int			k;

		for (k = 0; k < n; k++)
		{
			const PathCase *pc = &path_cases[which[k]];
			const BjValue *v = &slots[pa[k].nsteps];
			char		d[300];

			snprintf(d, sizeof(d), "path %s: kind %d", pc->path, v->kind);
			check(v->kind == pc->kind &&
				  (pc->raw == NULL || (v->len == strlen(pc->raw) &&
									   memcmp(v->ptr, pc->raw, v->len) == 0)),
				  what, d);
		}
	}
	for (i = 0; i < (size_t) n; i++)
		free(pa[i].steps);
	bj_scanner_free(s);
	bj_paths_free(paths);
}

static void
test_paths(void)
{
	size_t		i;

	for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++)
		run_path_case(&path_cases[i], NULL);
	run_path_cases_together(rec);
	run_path_cases_together("{\"a\":{\"b\":1},\"a\":{\"c\":2}}");
	run_path_cases_together("{\"a\":[1,2],\"a\":[3]}");
	run_path_cases_together("{\"a\":{\"b\":{\"c\":1}},\"a\":{\"b\":{\"d\":2}}}");
	run_path_cases_together("[10,20,30]");
	run_path_cases_together("{\"a\\n\":1}");
}

/* Checks trie registration rules and scanner reuse. */
static void
test_trie(void)
{
	BjPaths    *p = bj_paths_create();
	BjStep		a = {"a", 1, 0};
	BjStep		ab[2] = {{"a", 1, 0}, {"b", 1, 0}};
	BjStep		neg[2] = {{"a", 1, 0}, {NULL, 0, -1}};
	BjStep		idx[2] = {{"a", 1, 0}, {NULL, 0, 2}};
	BjStep		nul[1] = {{"x\0y", 3, 0}};
	BjScanner  *s;
	BjValue		slots[8];
	BjError		err;
	BjKind		top;
	int			rc;

	check(bj_paths_nslots(p) == 0, "empty trie has no slots", NULL);
	check(bj_paths_add(p, &a, 1, 3) == 3, "add a -> 3", NULL);
	check(bj_paths_add(p, &a, 1, 5) == 3, "add a again -> earlier slot", NULL);
	check(bj_paths_add(p, ab, 2, 3) == -1, "slot taken by another path", NULL);
	check(bj_paths_add(p, ab, 2, 0) == 0, "add a.b -> 0", NULL);
	check(bj_paths_add(p, neg, 2, 1) == -1, "negative index refused", NULL);
	check(bj_paths_add(p, idx, 2, -1) == -1, "negative slot refused", NULL);
	check(bj_paths_add(p, idx, -1, 1) == -1, "negative nsteps refused", NULL);
	check(bj_paths_add(NULL, idx, 2, 1) == -1, "NULL trie refused", NULL);
	check(bj_paths_add(p, idx, 2, 1) == 1, "add a[2] -> 1", NULL);
	check(bj_paths_add(p, NULL, 0, 6) == 6, "add $ -> 6", NULL);
	check(bj_paths_add(p, nul, 1, 2) == 2, "key with a NUL byte", NULL);
	check(bj_paths_nslots(p) == 7, "nslots = highest + 1", NULL);

	s = bj_scanner_create(p, 0);
	rc = bj_scan(s, "{\"a\":{\"b\":true}}", 16, slots, 7, &top, &err);
	check(rc == 0 && slots[3].kind == BJ_OBJECT && slots[0].kind == BJ_TRUE &&
		  slots[1].kind == BJ_MISSING && slots[6].kind == BJ_OBJECT &&
		  slots[6].len == 16 && top == BJ_OBJECT, "scan 1", rc ? err.msg : NULL);
	/* reuse: slots from the previous record must not survive */
	rc = bj_scan(s, "{\"a\":[0,1,\"two\"]}", 17, slots, 7, &top, &err);
	check(rc == 0 && slots[3].kind == BJ_ARRAY && slots[0].kind == BJ_MISSING &&
		  slots[1].kind == BJ_STRING && slots[1].len == 5, "scan 2 (reuse)",
		  rc ? err.msg : NULL);
	/* fewer slots than the trie has: extra ones are not written */
	slots[6].kind = BJ_NULL;
	rc = bj_scan(s, "{\"a\":1}", 7, slots, 4, &top, &err);
	check(rc == 0 && slots[3].kind == BJ_NUMBER && slots[6].kind == BJ_NULL,
		  "nslots smaller than the trie", rc ? err.msg : NULL);
	/* a key with a NUL byte matches only an escaped \u0000... never */
	rc = bj_scan(s, "{\"x\\u0000y\":1}", 14, slots, 7, &top, &err);
	check(rc == 0 && slots[2].kind == BJ_MISSING, "\\u0000 in key never matches",
		  rc ? err.msg : NULL);
	/* paths added after the scanner was created */
	{
		BjStep		c = {"c", 1, 0};

		check(bj_paths_add(p, &c, 1, 7) == 7, "add c after scanner", NULL);
		rc = bj_scan(s, "{\"c\":\"x\"}", 9, slots, 8, &top, &err);
		check(rc == 0 && slots[7].kind == BJ_STRING, "late path found",
			  rc ? err.msg : NULL);
	}
	bj_scanner_free(s);
	bj_paths_free(p);

	/* validate-only scanner, no slots */
	s = bj_scanner_create(NULL, 0);
	rc = bj_scan(s, "{\"a\":1}", 7, NULL, 0, NULL, &err);
	check(rc == 0, "validate only, NULL top", rc ? err.msg : NULL);
	rc = bj_scan(s, "{\"a\":1}", 7, NULL, 0, NULL, NULL);
	check(rc == 0, "NULL err", NULL);
	rc = bj_scan(s, "{\"a\":}", 6, NULL, 0, NULL, NULL);
	check(rc == -1, "NULL err on error", NULL);
	bj_scanner_free(s);
	bj_paths_free(NULL);
	bj_scanner_free(NULL);
	bj_path_free(NULL);
}

/* bj_resolve on its own: malformed text, odd inputs. */
static void
test_resolve(void)
{
	BjStep		a = {"a", 1, 0};
	BjStep		last = {NULL, 0, -1};
	BjValue		out;
	BjError		err;
	BjValue		v;
	int			rc;

	v.kind = BJ_MISSING;
	v.ptr = NULL;
	v.len = 0;
	v.has_escapes = 0;
	rc = bj_resolve(&v, &a, 1, &out, &err);
	check(rc == 0 && out.kind == BJ_MISSING, "resolve in missing", NULL);

	v.kind = BJ_OBJECT;
	v.ptr = "{\"a\":[1,}";
	v.len = strlen(v.ptr);
	rc = bj_resolve(&v, &a, 1, &out, &err);
	check(rc == -1 && strcmp(err.msg, "expected a value") == 0 && err.offset == 8,
		  "resolve over malformed member", rc ? err.msg : "accepted");

	v.kind = BJ_ARRAY;
	v.ptr = "[1,2";
	v.len = strlen(v.ptr);
	rc = bj_resolve(&v, &last, 1, &out, &err);
	check(rc == -1 && strcmp(err.msg, "unexpected end of input") == 0,
		  "resolve over truncated array", rc ? err.msg : "accepted");

	v.kind = BJ_OBJECT;
	v.ptr = " { \"a\" : 7 } ";
	v.len = strlen(v.ptr);
	rc = bj_resolve(&v, &a, 1, &out, &err);
	check(rc == 0 && out.kind == BJ_NUMBER && out.len == 1 && out.ptr[0] == '7',
		  "resolve with surrounding blanks", rc ? err.msg : NULL);

	v.kind = BJ_STRING;
	v.ptr = "\"a\\u00e9\"";
	v.len = strlen(v.ptr);
	v.has_escapes = 1;
	rc = bj_resolve(&v, NULL, 0, &out, &err);
	check(rc == 0 && out.kind == BJ_STRING && out.has_escapes == 1 &&
		  out.ptr == v.ptr, "resolve with no steps", NULL);

	v.kind = BJ_OBJECT;
	v.ptr = "{\"a\":\"x\\ty\"}";
	v.len = strlen(v.ptr);
	v.has_escapes = 0;
	rc = bj_resolve(&v, &a, 1, &out, &err);
	check(rc == 0 && out.kind == BJ_STRING && out.has_escapes == 1,
		  "resolve sets has_escapes", NULL);
	v.ptr = "{\"a\":\"xy\"}";
	v.len = strlen(v.ptr);
	rc = bj_resolve(&v, &a, 1, &out, &err);
	check(rc == 0 && out.kind == BJ_STRING && out.has_escapes == 0,
		  "resolve clears has_escapes", NULL);
}

/* ----------------------------------------------------------------
 * bj_path_parse
 * ----------------------------------------------------------------
 */

typedef struct ParseCase
{
	const char *path;
	const char *steps;			/* "k:a|i:0|..." or NULL on error */
	const char *msg;			/* expected error message prefix */
} ParseCase;

static const ParseCase parse_cases[] = {
	{"a", "k:a", NULL},
	{"$.a", "k:a", NULL},
	{"$", "", NULL},
	{"$[0]", "i:0", NULL},
	{"[0]", "i:0", NULL},
	{"[-1]", "i:-1", NULL},
	{"a.b.c", "k:a|k:b|k:c", NULL},
	{"input.inputTokenCount", "k:input|k:inputTokenCount", NULL},
	{"output.outputBodyJson[-1].amazon-bedrock-invocationMetrics.invocationLatency",
	"k:output|k:outputBodyJson|i:-1|k:amazon-bedrock-invocationMetrics|k:invocationLatency", NULL},
	{"a[0][12][-3]", "k:a|i:0|i:12|i:-3", NULL},
	{"a[007]", "k:a|i:7", NULL},
	{"requestMetadata.\"a.b\"", "k:requestMetadata|k:a.b", NULL},
	{"\"a.b\"", "k:a.b", NULL},
	{"\"a[0]\"[1]", "k:a[0]|i:1", NULL},
	{"\"say \\\"hi\\\"\"", "k:say \"hi\"", NULL},
	{"\"back\\\\slash\"", "k:back\\slash", NULL},
	{"\"\"", "k:", NULL},
	{"$.\"$\"", "k:$", NULL},
	{"$a", "k:$a", NULL},
	{"a.$", "k:a|k:$", NULL},
	{"a b", "k:a b", NULL},
	{"a]", "k:a]", NULL},
	{"a\\b", "k:a\\b", NULL},
	{"caf\xc3\xa9", "k:caf\xc3\xa9", NULL},
	{"[9223372036854775807]", "i:9223372036854775807", NULL},
	{"[-9223372036854775807]", "i:-9223372036854775807", NULL},
	{"", NULL, "empty path"},
	{".a", NULL, "empty member name"},
	{"a.", NULL, "empty member name"},
	{"a..b", NULL, "empty member name"},
	{"$.", NULL, "empty member name"},
	{"a.[0]", NULL, "empty member name"},
	{"a[", NULL, "unterminated array index"},
	{"a[1", NULL, "unterminated array index"},
	{"a[-", NULL, "unterminated array index"},
	{"a[]", NULL, "invalid array index"},
	{"a[x]", NULL, "invalid array index"},
	{"a[1.5]", NULL, "invalid array index"},
	{"a[+1]", NULL, "invalid array index"},
	{"a[ 1]", NULL, "invalid array index"},
	{"a[1 ]", NULL, "invalid array index"},
	{"a[--1]", NULL, "invalid array index"},
	{"a[1e3]", NULL, "invalid array index"},
	{"a[9223372036854775808]", NULL, "array index out of range"},
	{"\"a", NULL, "unterminated quoted member name"},
	{"a.\"b", NULL, "unterminated quoted member name"},
	{"\"a\\\"", NULL, "unterminated quoted member name"},
	{"\"a\\n\"", NULL, "invalid escape in quoted member name"},
	{"\"a\"b", NULL, "expected '.' or '[' after path step"},
	{"a[0]b", NULL, "expected '.' or '[' after path step"},
	{"a\"b\"", NULL, "unexpected '\"' in member name"},
	{"$$", "k:$$", NULL},
	{"$..a", NULL, "empty member name"},
};

/* Formats steps as "k:name|i:n" for comparison. */
static void
format_steps(const BjPath *pa, char *buf, size_t n)
{
	size_t		o = 0;
	int			i;

	buf[0] = '\0';
	for (i = 0; i < pa->nsteps && o < n; i++)
	{
		const BjStep *st = &pa->steps[i];

		if (st->key)
			o += (size_t) snprintf(buf + o, n - o, "%sk:%.*s", i ? "|" : "",
								   (int) st->keylen, st->key);
		else
			o += (size_t) snprintf(buf + o, n - o, "%si:%ld", i ? "|" : "", st->index);
	}
}

static void
test_path_parse(void)
{
	size_t		i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++)
	{
		const ParseCase *pc = &parse_cases[i];
		BjPath		pa;
		BjError		err;
		char		got[400];
		char		what[200];
		char		detail[600];
		int			rc = bj_path_parse(pc->path, &pa, &err);

		snprintf(what, sizeof(what), "bj_path_parse(%s)", pc->path);
		if (pc->steps)
		{
			if (rc != 0)
			{
				check(0, what, err.msg);
				continue;
			}
			format_steps(&pa, got, sizeof(got));
			snprintf(detail, sizeof(detail), "got \"%s\", want \"%s\"", got, pc->steps);
			check(strcmp(got, pc->steps) == 0, what, detail);
			bj_path_free(&pa);
			check(pa.steps == NULL && pa.nsteps == 0, what, "bj_path_free resets");
		}
		else
		{
			snprintf(detail, sizeof(detail), "got \"%s\", want \"%s\"",
					 rc ? err.msg : "success", pc->msg);
			check(rc == -1 && strncmp(err.msg, pc->msg, strlen(pc->msg)) == 0 &&
				  pa.steps == NULL && pa.nsteps == 0, what, detail);
		}
	}
	{
		BjPath		pa;
		BjError		err;

		check(bj_path_parse(NULL, &pa, &err) == -1, "bj_path_parse(NULL)", NULL);
	}
}

/* ----------------------------------------------------------------
 * bj_unescape
 * ----------------------------------------------------------------
 */

typedef struct UnescapeCase
{
	const char *raw;			/* with quotes */
	const char *want;			/* expected bytes, NULL on error */
	const char *msg;			/* expected error message */
} UnescapeCase;

static const UnescapeCase unescape_cases[] = {
	{"\"\"", "", NULL},
	{"\"abc\"", "abc", NULL},
	{"\"caf\xc3\xa9\"", "caf\xc3\xa9", NULL},
	{"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", NULL},
	{"\"a\\u0041b\"", "aAb", NULL},
	{"\"\\u007f\\u0080\"", "\x7f\xc2\x80", NULL},
	{"\"\\u07FF\\u0800\"", "\xdf\xbf\xe0\xa0\x80", NULL},
	{"\"\\u00e9\\u00E9\"", "\xc3\xa9\xc3\xa9", NULL},
	{"\"\\u20ac\"", "\xe2\x82\xac", NULL},
	{"\"\\uFFFF\"", "\xef\xbf\xbf", NULL},
	{"\"\\uD83D\\uDE00\"", "\xf0\x9f\x98\x80", NULL},
	{"\"\\ud800\\udc00\"", "\xf0\x90\x80\x80", NULL},
	{"\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", NULL},
	{"\"x\\uD83D\\uDE00y\\n\"", "x\xf0\x9f\x98\x80y\n", NULL},
	{"\"\\u0001\"", "\x01", NULL},
	{"\"\\u0000\"", NULL, "unsupported unicode escape \\u0000"},
	{"\"ab\\u0000\"", NULL, "unsupported unicode escape \\u0000"},
	{"\"\\uD800\"", NULL, "unpaired surrogate in unicode escape"},
	{"\"\\uDBFF x\"", NULL, "unpaired surrogate in unicode escape"},
	{"\"\\uDC00\"", NULL, "unpaired surrogate in unicode escape"},
	{"\"\\uDFFF\\uD800\"", NULL, "unpaired surrogate in unicode escape"},
	{"\"\\uD800\\uD800\"", NULL, "unpaired surrogate in unicode escape"},
	{"\"\\uD800\\u0041\"", NULL, "unpaired surrogate in unicode escape"},
	{"\"\\uD800\\n\"", NULL, "unpaired surrogate in unicode escape"},
	{"\"\\uD800\\uDC0\"", NULL, "unpaired surrogate in unicode escape"},
	{"\"\\x\"", NULL, "invalid escape sequence"},
	{"\"\\u12\"", NULL, "invalid escape sequence"},
	{"\"\\\"", NULL, "invalid escape sequence"},
};

static void
test_unescape(void)
{
	size_t		i;

	for (i = 0; i < sizeof(unescape_cases) / sizeof(unescape_cases[0]); i++)
	{
		const UnescapeCase *uc = &unescape_cases[i];
		BjValue		v;
		BjError		err;
		char		what[200];
		char		detail[300];
		char		sbuf[100];
		char	   *out;
		long		n;

		v.kind = BJ_STRING;
		v.ptr = uc->raw;
		v.len = strlen(uc->raw);
		v.has_escapes = strchr(uc->raw, '\\') != NULL;
		/* exactly v->len bytes, so ASan sees any overrun */
		out = malloc(v.len);
		n = bj_unescape(&v, out, &err);
		snprintf(what, sizeof(what), "bj_unescape(%s)", show(uc->raw, v.len, sbuf, sizeof(sbuf)));
		if (uc->want)
		{
			snprintf(detail, sizeof(detail), "got %ld bytes%s%s", n,
					 n < 0 ? ", error " : "", n < 0 ? err.msg : "");
			check(n == (long) strlen(uc->want) &&
				  memcmp(out, uc->want, (size_t) n) == 0, what, detail);
		}
		else
		{
			snprintf(detail, sizeof(detail), "got %s, want \"%s\"",
					 n < 0 ? err.msg : "success", uc->msg);
			check(n == -1 && strcmp(err.msg, uc->msg) == 0, what, detail);
		}
		free(out);
	}
	/* not a string */
	{
		BjValue		v = {BJ_NUMBER, 0, "12", 2};
		BjError		err;
		char		out[4];

		check(bj_unescape(&v, out, &err) == -1, "bj_unescape of a number", NULL);
	}
	/* an unescaped string found by a scan */
	{
		BjScanner  *s = bj_scanner_create(NULL, 0);
		const char *doc = "\"x\\u00e9\\ud83d\\ude00\\/\"";
		BjValue		v;
		BjKind		top;
		BjError		err;
		char		out[64];
		long		n;

		bj_scan(s, doc, strlen(doc), NULL, 0, &top, &err);
		v.kind = top;
		v.ptr = doc;
		v.len = strlen(doc);
		v.has_escapes = 1;
		n = bj_unescape(&v, out, &err);
		check(n == 8 && memcmp(out, "x\xc3\xa9\xf0\x9f\x98\x80/", 8) == 0,
			  "unescape after scan", NULL);
		bj_scanner_free(s);
	}
}

int
main(void)
{
	test_validation();
	test_depth();
	test_paths();
	test_trie();
	test_resolve();
	test_path_parse();
	test_unescape();
	printf("RESULT unit passed=%d failed=%d\n", npass, nfail);
	return nfail ? 1 : 0;
}
