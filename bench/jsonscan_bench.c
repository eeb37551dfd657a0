/*-------------------------------------------------------------------------
 *
 * jsonscan_bench.c
 *		Throughput of bj_scan on Bedrock-like NDJSON, next to jansson.
 *
 * Design notes: builds ~90 MB of invocation-log records in memory (a
 * deterministic mix of Converse records with short bodies, InvokeModel
 * records with long message bodies, and InvokeModelWithResponseStream
 * records whose output is an array of stream chunks; bodies carry escapes
 * and non-ASCII text as real prompts do), then times, over every line:
 * bj_scan extracting four small fields (timestamp, modelId,
 * input.inputTokenCount, output.outputTokenCount); the same plus the
 * stream latency through bj_resolve ("output.outputBodyJson[-1]...");
 * bj_scan validating only; and jansson's json_loadb plus one field.  Each
 * figure is the best of a few runs, in MB/s of input.  Not a test: it
 * checks only that every line was accepted.
 *
 * Build: cc -O2 -Isrc src/jsonscan.c bench/jsonscan_bench.c -ljansson
 * (test/jsonscan/run.sh builds it; BENCH=1 runs it).
 *
 * IDENTIFICATION
 *		bench/jsonscan_bench.c
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L	/* clock_gettime */

#include "jsonscan.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TARGET_BYTES (90u * 1024 * 1024)
#define RUNS 3

/* A growable byte buffer. */
typedef struct Buf
{
	char	   *d;
	size_t		len;
	size_t		cap;
} Buf;

static void
put(Buf *b, const char *s, size_t n)
{
	if (b->len + n > b->cap)
	{
		size_t		ncap = b->cap ? b->cap * 2 : 1 << 20;

		while (ncap < b->len + n)
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
}

static void
puts_(Buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* Appends fmt formatted with two numbers. */
static void
printf_(Buf *b, const char *fmt, unsigned a, unsigned c)
{
	char		tmp[256];
	int			n = snprintf(tmp, sizeof(tmp), fmt, a, c);

	put(b, tmp, (size_t) n);
}

static uint64_t rng = 88172645463325252u;

/* Deterministic xorshift64 random number in [0, n). */
static unsigned
rn(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned) (rng % n);
}

/* Appends a JSON string body of roughly n bytes of prompt-like text. */
static void
text(Buf *b, size_t n)
{
	static const char *const words[] = {
		"the", "integration", "processor", "address", "invalid", "elastic",
		"pipeline", "classify", "request", "\\n\\n", "\\\"quoted\\\"", "caf\xc3\xa9",
		"https://example.com/a/b", "model", "token", "\xe2\x82\xac", "latency",
		"stream", "- item", "`code`", "\\t", "\\u00e9t\\u00e9"
	};
	size_t		start = b->len;

	put(b, "\"", 1);
	while (b->len - start < n)
	{
		puts_(b, words[rn(sizeof(words) / sizeof(words[0]))]);
		put(b, " ", 1);
	}
	put(b, "\"", 1);
}

/* Appends one record of the given kind (0 Converse, 1 Invoke, 2 stream). */
static void
record(Buf *b, int kind, unsigned i)
{
	static const char *const models[] = {
		"anthropic.claude-3-haiku-20240307-v1:0",
		"us.anthropic.claude-3-5-sonnet-20240620-v1:0",
		"us.amazon.nova-lite-v1:0"
	};
	static const char *const ops[] = {"Converse", "InvokeModel",
	"InvokeModelWithResponseStream"};
	int			c,
				n;
	unsigned	x,
				y;

	printf_(b, "{\"timestamp\":\"2024-11-%02uT%02u:47:52Z\",\"accountId\":\"111111111111\","
			"\"identity\":{\"arn\":\"arn:aws:iam::111111111111:user/u7\"},", 1 + i % 28, i % 24);
	printf_(b, "\"region\":\"us-east-1\",\"requestId\":\"%08x-95a1-4c3c-892f-%012x\",",
			i * 2654435761u, i);
	puts_(b, "\"operation\":\"");
	puts_(b, ops[kind]);
	puts_(b, "\",\"modelId\":\"");
	puts_(b, models[i % 3]);
	puts_(b, "\",\"input\":{\"inputContentType\":\"application/json\",\"inputBodyJson\":{");
	puts_(b, "\"messages\":[");
	n = kind == 0 ? 1 : 1 + (int) rn(4);
	for (c = 0; c < n; c++)
	{
		if (c)
			put(b, ",", 1);
		puts_(b, "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":");
		text(b, kind == 0 ? 200 + rn(400) : 1000 + rn(3000));
		puts_(b, "}]}");
	}
	puts_(b, "],\"max_tokens\":4096,\"anthropic_version\":\"bedrock-2023-05-31\"},");
	printf_(b, "\"inputTokenCount\":%u,\"cacheReadInputTokenCount\":%u},", rn(5000), 0);
	puts_(b, "\"output\":{\"outputContentType\":\"application/json\",\"outputBodyJson\":");
	if (kind == 2)
	{
		n = 20 + (int) rn(120);
		put(b, "[", 1);
		for (c = 0; c < n; c++)
		{
			puts_(b, "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":");
			text(b, 5 + rn(40));
			puts_(b, "}},");
		}
		x = rn(5000);
		y = rn(2000);
		printf_(b, "{\"type\":\"message_stop\",\"amazon-bedrock-invocationMetrics\":"
				"{\"inputTokenCount\":%u,\"outputTokenCount\":%u,", x, y);
		x = rn(20000);
		y = rn(900);
		printf_(b, "\"invocationLatency\":%u,\"firstByteLatency\":%u}}]", x, y);
	}
	else
	{
		puts_(b, "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[{\"text\":");
		text(b, 100 + rn(kind == 0 ? 600 : 2000));
		x = rn(9000);
		y = rn(5000);
		printf_(b, "}]}},\"stopReason\":\"end_turn\",\"metrics\":{\"latencyMs\":%u},"
				"\"usage\":{\"inputTokens\":%u,", x, y);
		x = rn(2000);
		y = rn(7000);
		printf_(b, "\"outputTokens\":%u,\"totalTokens\":%u}}", x, y);
	}
	x = rn(2000);
	y = 1 + rn(2);
	printf_(b, ",\"outputTokenCount\":%u},\"inferenceRegion\":\"us-east-%u\",", x, y);
	puts_(b, "\"schemaType\":\"ModelInvocationLog\",\"schemaVersion\":\"1.0\"}\n");
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Builds a trie from path strings; the slot of path i is i. */
static BjPaths *
trie(const char *const *paths, int n)
{
	BjPaths    *t = bj_paths_create();
	int			i;

	for (i = 0; i < n; i++)
	{
		BjPath		pa;
		BjError		err;

		if (bj_path_parse(paths[i], &pa, &err) != 0 ||
			bj_paths_add(t, pa.steps, pa.nsteps, i) != i)
		{
			printf("bad path %s\n", paths[i]);
			exit(2);
		}
		bj_path_free(&pa);
	}
	return t;
}

/*
 * Times one pass of bj_scan over every line; with 'latency', resolves the
 * stream latency too.  Returns seconds; exits if a line is rejected.
 */
static double
run_bj(BjScanner *s, int nslots, const Buf *b, const BjPath *latency,
	   long *sum)
{
	const char *p = b->d;
	const char *end = b->d + b->len;
	BjValue		slots[8];
	BjKind		top;
	BjError		err;
	double		t0 = now();

	while (p < end)
	{
		const char *nl = memchr(p, '\n', (size_t) (end - p));

		if (bj_scan(s, p, (size_t) (nl - p), slots, nslots, &top, &err) != 0)
		{
			printf("bj_scan: %s at %zu\n", err.msg, err.offset);
			exit(1);
		}
		if (nslots > 2 && slots[2].kind == BJ_NUMBER)
			*sum += atol(slots[2].ptr);
		if (latency && slots[4].kind == BJ_ARRAY)
		{
			BjValue		v;

			if (bj_resolve(&slots[4], latency->steps + 2, latency->nsteps - 2,
						   &v, &err) != 0)
				exit(1);
			if (v.kind == BJ_NUMBER)
				*sum += atol(v.ptr);
		}
		p = nl + 1;
	}
	return now() - t0;
}

/* Times one pass of json_loadb plus one member over every line. */
static double
run_jansson(const Buf *b, long *sum)
{
	const char *p = b->d;
	const char *end = b->d + b->len;
	double		t0 = now();

	while (p < end)
	{
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		json_error_t jerr;
		json_t	   *j = json_loadb(p, (size_t) (nl - p), 0, &jerr);
		json_t	   *m;

		if (j == NULL)
		{
			printf("jansson: %s\n", jerr.text);
			exit(1);
		}
		m = json_object_get(j, "modelId");
		if (m != NULL)
			*sum += (long) json_string_length(m);
		json_decref(j);
		p = nl + 1;
	}
	return now() - t0;
}

int
main(void)
{
	static const char *const four[] = {"timestamp", "modelId",
		"input.inputTokenCount", "output.outputTokenCount",
	"output.outputBodyJson"};
	Buf			b = {0};
	unsigned	i = 0;
	long		lines;
	long		sum = 0;
	double		mb;
	double		best;
	int			r;
	BjPaths    *t4 = trie(four, 4);
	BjPaths    *t5 = trie(four, 5);
	BjScanner  *s4 = bj_scanner_create(t4, 0);
	BjScanner  *s5 = bj_scanner_create(t5, 0);
	BjScanner  *s0 = bj_scanner_create(NULL, 0);
	BjPath		latency;
	BjError		err;

	while (b.len < TARGET_BYTES)
		record(&b, (int) (i % 10 < 5 ? 0 : i % 10 < 8 ? 1 : 2), i), i++;
	lines = (long) i;
	mb = (double) b.len / (1024.0 * 1024.0);
	printf("jsonscan_bench: %ld records, %.1f MB, %.0f bytes per record\n",
		   lines, mb, (double) b.len / (double) lines);
	bj_path_parse("output.outputBodyJson[-1].amazon-bedrock-invocationMetrics.invocationLatency",
				  &latency, &err);

	best = 1e9;
	for (r = 0; r < RUNS; r++)
	{
		double		t = run_bj(s4, 4, &b, NULL, &sum);

		best = t < best ? t : best;
	}
	printf("  bj_scan, 4 fields:                     %8.0f MB/s\n", mb / best);

	best = 1e9;
	for (r = 0; r < RUNS; r++)
	{
		double		t = run_bj(s5, 5, &b, &latency, &sum);

		best = t < best ? t : best;
	}
	printf("  bj_scan, 4 fields + stream [-1] latency: %6.0f MB/s\n", mb / best);

	best = 1e9;
	for (r = 0; r < RUNS; r++)
	{
		double		t = run_bj(s0, 0, &b, NULL, &sum);

		best = t < best ? t : best;
	}
	printf("  bj_scan, validate only:                %8.0f MB/s\n", mb / best);

	best = 1e9;
	for (r = 0; r < RUNS; r++)
	{
		double		t = run_jansson(&b, &sum);

		best = t < best ? t : best;
	}
	printf("  jansson json_loadb + 1 field:          %8.0f MB/s\n", mb / best);
	printf("  (checksum %ld)\n", sum);

	bj_path_free(&latency);
	bj_scanner_free(s0);
	bj_scanner_free(s4);
	bj_scanner_free(s5);
	bj_paths_free(t4);
	bj_paths_free(t5);
	free(b.d);
	return 0;
}
