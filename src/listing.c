/*-------------------------------------------------------------------------
 *
 * listing.c
 *		From ListObjectsV2 answers to the log objects of a location.
 *
 * S3's XML answers (listing pages and error bodies) are parsed with
 * libxml2, which PostgreSQL itself links, never by hand.  Keys are asked
 * for with encoding-type=url (a key may hold characters XML 1.0 cannot
 * carry) and decoded here when the answer says it encoded them.
 *
 * What a listed key is (a log file or not) is decided in keyspace.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "bedlog_fdw.h"

/* Does node have local name name? */
static inline bool
node_is(xmlNodePtr node, const char *name)
{
	return node->type == XML_ELEMENT_NODE &&
		strcmp((const char *) node->name, name) == 0;
}

/* The text content of node as a palloc'd string ("" when empty). */
static char *
node_text(xmlNodePtr node)
{
	xmlChar    *content = xmlNodeGetContent(node);
	char	   *result;

	if (content == NULL)
		return pstrdup("");
	PG_TRY();
	{
		result = pstrdup((const char *) content);
	}
	PG_FINALLY();
	{
		xmlFree(content);
	}
	PG_END_TRY();
	return result;
}

/* Decode %XX escapes (and '+' as space, as S3's url encoding does). */
static char *
url_decode(const char *s)
{
	char	   *out = palloc(strlen(s) + 1);
	char	   *o = out;

	while (*s)
	{
		if (*s == '%' && isxdigit((unsigned char) s[1]) && isxdigit((unsigned char) s[2]))
		{
			char		hex[3] = {s[1], s[2], '\0'};

			*o++ = (char) strtol(hex, NULL, 16);
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

/* Parse an XML document from memory, or NULL if it is not well-formed. */
static xmlDocPtr
parse_xml(const char *xml, size_t len)
{
	xmlInitParser();
	return xmlReadMemory(xml, (int) len, NULL, NULL,
						 XML_PARSE_NONET | XML_PARSE_NOERROR |
						 XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
}

/*
 * Parse one ListObjectsV2 page into *page (palloc'd members).  Raises if
 * the answer is not a ListBucketResult.
 */
void
bedlog_parse_list_page(const char *xml, size_t len, BedlogListPage *page)
{
	xmlDocPtr	doc;

	memset(page, 0, sizeof(*page));
	if (len > INT_MAX || (doc = parse_xml(xml, len)) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
				 errmsg("S3 answered a listing with malformed XML")));

	PG_TRY();
	{
		xmlNodePtr	root = xmlDocGetRootElement(doc);
		xmlNodePtr	node;
		bool		url_encoded = false;

		if (root == NULL || !node_is(root, "ListBucketResult"))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
					 errmsg("S3 answered a listing with an unexpected XML document"),
					 errdetail("The root element is \"%s\", not \"ListBucketResult\".",
							   root ? (const char *) root->name : "")));

		for (node = root->children; node; node = node->next)
		{
			if (node_is(node, "EncodingType"))
			{
				char	   *v = node_text(node);

				url_encoded = (pg_strcasecmp(v, "url") == 0);
			}
		}
		for (node = root->children; node; node = node->next)
		{
			if (node_is(node, "IsTruncated"))
				page->truncated = (strcmp(node_text(node), "true") == 0);
			else if (node_is(node, "NextContinuationToken"))
				page->next_token = node_text(node);
			else if (node_is(node, "Contents"))
			{
				BedlogObject *obj = palloc0(sizeof(BedlogObject));
				xmlNodePtr	child;

				for (child = node->children; child; child = child->next)
				{
					if (node_is(child, "Key"))
					{
						obj->key = node_text(child);
						if (url_encoded)
							obj->key = url_decode(obj->key);
					}
					else if (node_is(child, "Size"))
						obj->size = strtoll(node_text(child), NULL, 10);
					else if (node_is(child, "ETag"))
					{
						char	   *etag = node_text(child);
						size_t		elen = strlen(etag);

						if (elen >= 2 && etag[0] == '"' && etag[elen - 1] == '"')
							etag = pnstrdup(etag + 1, elen - 2);
						obj->etag = etag;
					}
				}
				if (obj->key == NULL)
					ereport(ERROR,
							(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
							 errmsg("S3 answered a listing with an entry without a key")));
				page->objects = lappend(page->objects, obj);
			}
			else if (node_is(node, "CommonPrefixes"))
			{
				xmlNodePtr	child;

				for (child = node->children; child; child = child->next)
				{
					if (node_is(child, "Prefix"))
					{
						char	   *p = node_text(child);

						if (url_encoded)
							p = url_decode(p);
						page->common_prefixes = lappend(page->common_prefixes, p);
					}
				}
			}
		}
		if (page->truncated && (page->next_token == NULL || page->next_token[0] == '\0'))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
					 errmsg("S3 answered a truncated listing without a continuation token")));
	}
	PG_FINALLY();
	{
		xmlFreeDoc(doc);
	}
	PG_END_TRY();
}

/*
 * Parse an S3 error body <Error><Code/><Message/><Region/></Error>.
 * Returns false when the body is not such a document; members not found
 * are left NULL.  Never raises for bad input.
 */
bool
bedlog_parse_s3_error(const char *xml, size_t len, char **code,
					  char **message, char **region)
{
	xmlDocPtr	doc;
	xmlNodePtr	root;
	xmlNodePtr	node;

	*code = *message = *region = NULL;
	if (len > INT_MAX || (doc = parse_xml(xml, len)) == NULL)
		return false;
	PG_TRY();
	{
		root = xmlDocGetRootElement(doc);
		if (root && node_is(root, "Error"))
		{
			for (node = root->children; node; node = node->next)
			{
				if (node_is(node, "Code"))
					*code = node_text(node);
				else if (node_is(node, "Message"))
					*message = node_text(node);
				else if (node_is(node, "Region"))
					*region = node_text(node);
			}
		}
	}
	PG_FINALLY();
	{
		xmlFreeDoc(doc);
	}
	PG_END_TRY();
	return *code != NULL;
}
