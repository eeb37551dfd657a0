/*-------------------------------------------------------------------------
 *
 * s3xml.c
 *		S3's XML answers: ListObjectsV2 pages and error bodies.
 *
 * The document is parsed with libxml2 into a tree, which is walked once
 * (twice for a listing: EncodingType may come after the keys it
 * describes) and freed before returning; the results are copied out with
 * malloc.  See s3xml.h for what is extracted and how.
 *
 *-------------------------------------------------------------------------
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "s3xml.h"

/* Does node have local name name? */
static int
node_is(xmlNodePtr node, const char *name)
{
	return node->type == XML_ELEMENT_NODE &&
		strcmp((const char *) node->name, name) == 0;
}

/* A malloc'd copy of s, or NULL when out of memory (strdup is not C99). */
static char *
copy_string(const char *s)
{
	size_t		len = strlen(s) + 1;
	char	   *r = malloc(len);

	if (r)
		memcpy(r, s, len);
	return r;
}

/*
 * The text content of node as a malloc'd string ("" when empty), or NULL
 * when out of memory.
 */
static char *
node_text(xmlNodePtr node)
{
	xmlChar    *content = xmlNodeGetContent(node);
	char	   *result;

	if (content == NULL)
		return copy_string("");
	result = copy_string((const char *) content);
	xmlFree(content);
	return result;
}

/* Replace *dst (malloc'd or NULL) by src; returns 0 if src is NULL. */
static int
replace(char **dst, char *src)
{
	if (src == NULL)
		return 0;
	free(*dst);
	*dst = src;
	return 1;
}

/* ASCII case-insensitive equality. */
static int
ascii_caseeq(const char *a, const char *b)
{
	for (;; a++, b++)
	{
		unsigned char ca = (unsigned char) *a;
		unsigned char cb = (unsigned char) *b;

		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return 0;
		if (ca == '\0')
			return 1;
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
s3xml_url_decode(const char *s)
{
	char	   *out = malloc(strlen(s) + 1);
	char	   *o = out;

	if (out == NULL)
		return NULL;
	while (*s)
	{
		if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0)
		{
			*o++ = (char) (hexval(s[1]) * 16 + hexval(s[2]));
			s += 3;
		}
		else if (*s == '+')
		{
			*o++ = ' ';
			s++;
		}
		else
			*o++ = *s++;
	}
	*o = '\0';
	return out;
}

/*
 * libxml2 2.12 made the structured handler's error const (as PostgreSQL's
 * own xml.c bridges it).
 */
#if LIBXML_VERSION >= 21200
typedef const xmlError *S3XmlErrorPtr;
#else
typedef xmlErrorPtr S3XmlErrorPtr;
#endif

/* libxml2 error handlers that say nothing */
static void
quiet_generic(void *ctx, const char *msg,...)
{
	(void) ctx;
	(void) msg;
}

static void
quiet_structured(void *ctx, S3XmlErrorPtr error)
{
	(void) ctx;
	(void) error;
}

/*
 * Parse an XML document from memory, or NULL if it is not well-formed.
 * XML_PARSE_NOERROR silences the parser, but not libxml2's input layer,
 * which reports bytes it cannot decode through the global error handlers
 * (inside the server, onto its log): those are silenced for the parse and
 * restored after it, so that whoever else uses libxml2 in the process
 * (PostgreSQL's xml type) keeps its own.
 */
static xmlDocPtr
parse_xml(const char *xml, size_t len)
{
	xmlGenericErrorFunc old_generic;
	void	   *old_generic_ctx;
	xmlStructuredErrorFunc old_structured;
	void	   *old_structured_ctx;
	xmlDocPtr	doc;

	if (len > INT_MAX)
		return NULL;
	xmlInitParser();
	old_generic = xmlGenericError;
	old_generic_ctx = xmlGenericErrorContext;
	old_structured = xmlStructuredError;
	old_structured_ctx = xmlStructuredErrorContext;
	xmlSetGenericErrorFunc(NULL, quiet_generic);
	xmlSetStructuredErrorFunc(NULL, quiet_structured);
	doc = xmlReadMemory(xml, (int) len, NULL, NULL,
						XML_PARSE_NONET | XML_PARSE_NOERROR |
						XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
	xmlSetGenericErrorFunc(old_generic_ctx, old_generic);
	xmlSetStructuredErrorFunc(old_structured_ctx, old_structured);
	return doc;
}

/* The text of node, %-decoded if url_encoded; NULL when out of memory. */
static char *
node_key(xmlNodePtr node, int url_encoded)
{
	char	   *text = node_text(node);
	char	   *decoded;

	if (text == NULL || !url_encoded)
		return text;
	decoded = s3xml_url_decode(text);
	free(text);
	return decoded;
}

/* Fill *obj from a Contents element. */
static S3XmlStatus
parse_contents(xmlNodePtr node, int url_encoded, S3XmlObject *obj)
{
	xmlNodePtr	child;

	for (child = node->children; child; child = child->next)
	{
		if (node_is(child, "Key"))
		{
			if (!replace(&obj->key, node_key(child, url_encoded)))
				return S3XML_NOMEM;
		}
		else if (node_is(child, "Size"))
		{
			char	   *size = node_text(child);

			if (size == NULL)
				return S3XML_NOMEM;
			obj->size = strtoll(size, NULL, 10);
			free(size);
		}
		else if (node_is(child, "ETag"))
		{
			char	   *etag = node_text(child);
			size_t		elen;

			if (etag == NULL)
				return S3XML_NOMEM;
			elen = strlen(etag);
			if (elen >= 2 && etag[0] == '"' && etag[elen - 1] == '"')
			{
				memmove(etag, etag + 1, elen - 2);
				etag[elen - 2] = '\0';
			}
			replace(&obj->etag, etag);
		}
	}
	return obj->key == NULL ? S3XML_NO_KEY : S3XML_OK;
}

/* Append an empty object to page; NULL when out of memory. */
static S3XmlObject *
add_object(S3XmlListPage *page, int *cap)
{
	if (page->nobjects == *cap)
	{
		int			ncap = *cap ? *cap * 2 : 16;
		S3XmlObject *n = realloc(page->objects, ncap * sizeof(S3XmlObject));

		if (n == NULL)
			return NULL;
		page->objects = n;
		*cap = ncap;
	}
	memset(&page->objects[page->nobjects], 0, sizeof(S3XmlObject));
	return &page->objects[page->nobjects++];
}

/* Append p (malloc'd, now owned by page) to page's prefixes. */
static int
add_prefix(S3XmlListPage *page, int *cap, char *p)
{
	if (page->nprefixes == *cap)
	{
		int			ncap = *cap ? *cap * 2 : 16;
		char	  **n = realloc(page->prefixes, ncap * sizeof(char *));

		if (n == NULL)
		{
			free(p);
			return 0;
		}
		page->prefixes = n;
		*cap = ncap;
	}
	page->prefixes[page->nprefixes++] = p;
	return 1;
}

/* Walk a ListBucketResult root into *page. */
static S3XmlStatus
walk_list(xmlNodePtr root, S3XmlListPage *page)
{
	xmlNodePtr	node;
	int			url_encoded = 0;
	int			objcap = 0;
	int			prefcap = 0;

	for (node = root->children; node; node = node->next)
	{
		if (node_is(node, "EncodingType"))
		{
			char	   *v = node_text(node);

			if (v == NULL)
				return S3XML_NOMEM;
			url_encoded = ascii_caseeq(v, "url");
			free(v);
		}
	}
	for (node = root->children; node; node = node->next)
	{
		if (node_is(node, "IsTruncated"))
		{
			char	   *v = node_text(node);

			if (v == NULL)
				return S3XML_NOMEM;
			page->truncated = (strcmp(v, "true") == 0);
			free(v);
		}
		else if (node_is(node, "NextContinuationToken"))
		{
			if (!replace(&page->next_token, node_text(node)))
				return S3XML_NOMEM;
		}
		else if (node_is(node, "Contents"))
		{
			S3XmlObject *obj = add_object(page, &objcap);
			S3XmlStatus st;

			if (obj == NULL)
				return S3XML_NOMEM;
			if ((st = parse_contents(node, url_encoded, obj)) != S3XML_OK)
				return st;
		}
		else if (node_is(node, "CommonPrefixes"))
		{
			xmlNodePtr	child;

			for (child = node->children; child; child = child->next)
			{
				if (node_is(child, "Prefix"))
				{
					char	   *p = node_key(child, url_encoded);

					if (p == NULL || !add_prefix(page, &prefcap, p))
						return S3XML_NOMEM;
				}
			}
		}
	}
	if (page->truncated && (page->next_token == NULL || page->next_token[0] == '\0'))
		return S3XML_NO_TOKEN;
	return S3XML_OK;
}

S3XmlStatus
s3xml_parse_list(const char *xml, size_t len, S3XmlListPage *page)
{
	xmlDocPtr	doc;
	xmlNodePtr	root;
	S3XmlStatus st;

	memset(page, 0, sizeof(*page));
	if ((doc = parse_xml(xml, len)) == NULL)
		return S3XML_MALFORMED;
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !node_is(root, "ListBucketResult"))
	{
		page->root_name = copy_string(root ? (const char *) root->name : "");
		st = page->root_name ? S3XML_WRONG_ROOT : S3XML_NOMEM;
	}
	else
		st = walk_list(root, page);
	xmlFreeDoc(doc);
	return st;
}

void
s3xml_list_free(S3XmlListPage *page)
{
	int			i;

	for (i = 0; i < page->nobjects; i++)
	{
		free(page->objects[i].key);
		free(page->objects[i].etag);
	}
	free(page->objects);
	for (i = 0; i < page->nprefixes; i++)
		free(page->prefixes[i]);
	free(page->prefixes);
	free(page->next_token);
	free(page->root_name);
	memset(page, 0, sizeof(*page));
}

S3XmlStatus
s3xml_parse_error(const char *xml, size_t len, S3XmlError *err)
{
	xmlDocPtr	doc;
	xmlNodePtr	root;
	xmlNodePtr	node;
	S3XmlStatus st = S3XML_OK;

	memset(err, 0, sizeof(*err));
	if ((doc = parse_xml(xml, len)) == NULL)
		return S3XML_MALFORMED;
	root = xmlDocGetRootElement(doc);
	if (root == NULL || !node_is(root, "Error"))
		st = S3XML_WRONG_ROOT;
	else
	{
		for (node = root->children; node && st == S3XML_OK; node = node->next)
		{
			char	  **slot = NULL;

			if (node_is(node, "Code"))
				slot = &err->code;
			else if (node_is(node, "Message"))
				slot = &err->message;
			else if (node_is(node, "Region"))
				slot = &err->region;
			if (slot && !replace(slot, node_text(node)))
				st = S3XML_NOMEM;
		}
	}
	xmlFreeDoc(doc);
	if (st == S3XML_NOMEM)
		s3xml_error_free(err);
	return st;
}

void
s3xml_error_free(S3XmlError *err)
{
	free(err->code);
	free(err->message);
	free(err->region);
	memset(err, 0, sizeof(*err));
}
