/*
 * fuzz_s3xml.c
 *		libFuzzer harness for src/s3xml.c (ListObjectsV2 pages and S3
 *		error bodies; PostgreSQL-independent, on the system's libxml2).
 *
 * The whole input is one document.  It is parsed as a listing page twice
 * (the results must be identical) and as an error body, and the input
 * (up to its first NUL) is %-decoded.  Invariants checked:
 *   - statuses are in range; a result holds only what its status allows
 *     (a wrong root names the root and nothing else; a page with an
 *     error status holds no token when the token is what was missing);
 *   - a parsed page: every object has a key; a truncated page has a
 *     non-empty continuation token; counts are non-negative and the
 *     arrays exist when the counts are positive;
 *   - an error body that is not OK holds nothing;
 *   - %-decoding never lengthens a string, and leaves one without '%'
 *     and '+' unchanged.
 * Everything is freed (LeakSanitizer checks), and violations call
 * __builtin_trap().
 *
 * Build and run: see fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3xml.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static int
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void
check_same_page(const S3XmlListPage *a, const S3XmlListPage *b)
{
	int			i;

	CHECK(a->nobjects == b->nobjects);
	CHECK(a->nprefixes == b->nprefixes);
	CHECK(a->truncated == b->truncated);
	CHECK(same_str(a->next_token, b->next_token));
	CHECK(same_str(a->root_name, b->root_name));
	for (i = 0; i < a->nobjects; i++)
	{
		CHECK(same_str(a->objects[i].key, b->objects[i].key));
		CHECK(same_str(a->objects[i].etag, b->objects[i].etag));
		CHECK(a->objects[i].size == b->objects[i].size);
	}
	for (i = 0; i < a->nprefixes; i++)
		CHECK(same_str(a->prefixes[i], b->prefixes[i]));
}

static void
check_page(S3XmlStatus st, const S3XmlListPage *p)
{
	int			i;

	CHECK(st >= S3XML_OK && st <= S3XML_NOMEM);
	CHECK(p->nobjects >= 0 && p->nprefixes >= 0);
	CHECK(p->nobjects == 0 || p->objects != NULL);
	CHECK(p->nprefixes == 0 || p->prefixes != NULL);
	for (i = 0; i < p->nprefixes; i++)
		CHECK(p->prefixes[i] != NULL);

	switch (st)
	{
		case S3XML_OK:
			for (i = 0; i < p->nobjects; i++)
				CHECK(p->objects[i].key != NULL);
			if (p->truncated)
				CHECK(p->next_token != NULL && p->next_token[0] != '\0');
			CHECK(p->root_name == NULL);
			break;
		case S3XML_MALFORMED:
		case S3XML_WRONG_ROOT:
			CHECK(p->nobjects == 0 && p->nprefixes == 0 && !p->truncated);
			CHECK(p->next_token == NULL);
			CHECK((st == S3XML_WRONG_ROOT) == (p->root_name != NULL));
			if (p->root_name)
				CHECK(strcmp(p->root_name, "ListBucketResult") != 0);
			break;
		case S3XML_NO_KEY:
			CHECK(p->nobjects > 0);
			CHECK(p->objects[p->nobjects - 1].key == NULL);
			for (i = 0; i < p->nobjects - 1; i++)
				CHECK(p->objects[i].key != NULL);
			break;
		case S3XML_NO_TOKEN:
			CHECK(p->truncated);
			CHECK(p->next_token == NULL || p->next_token[0] == '\0');
			for (i = 0; i < p->nobjects; i++)
				CHECK(p->objects[i].key != NULL);
			break;
		case S3XML_NOMEM:
			break;
	}
}

static void
check_decode(const char *s)
{
	char	   *d = s3xml_url_decode(s);

	if (d == NULL)
		return;
	CHECK(strlen(d) <= strlen(s));
	if (strchr(s, '%') == NULL && strchr(s, '+') == NULL)
		CHECK(strcmp(d, s) == 0);
	free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	S3XmlListPage a;
	S3XmlListPage b;
	S3XmlError e;
	S3XmlStatus sa;
	S3XmlStatus sb;
	S3XmlStatus se;
	char	   *text;

	sa = s3xml_parse_list((const char *) data, size, &a);
	check_page(sa, &a);
	sb = s3xml_parse_list((const char *) data, size, &b);
	CHECK(sa == sb);
	if (sa != S3XML_NOMEM)
		check_same_page(&a, &b);
	s3xml_list_free(&a);
	s3xml_list_free(&b);
	CHECK(a.objects == NULL && a.nobjects == 0 && a.next_token == NULL);

	se = s3xml_parse_error((const char *) data, size, &e);
	CHECK(se == S3XML_OK || se == S3XML_MALFORMED ||
		  se == S3XML_WRONG_ROOT || se == S3XML_NOMEM);
	if (se != S3XML_OK)
		CHECK(e.code == NULL && e.message == NULL && e.region == NULL);
	/* a document is well-formed or not whatever its root */
	if (sa != S3XML_NOMEM && se != S3XML_NOMEM)
		CHECK((sa == S3XML_MALFORMED) == (se == S3XML_MALFORMED));
	s3xml_error_free(&e);

	text = malloc(size + 1);
	if (text)
	{
		memcpy(text, data, size);
		text[size] = '\0';
		check_decode(text);
		free(text);
	}
	return 0;
}
