/*-------------------------------------------------------------------------
 *
 * s3xml.h
 *		S3's XML answers: ListObjectsV2 pages and error bodies.
 *
 * Parsing is done by libxml2 (strict XML 1.0, no network access, no
 * entity substitution, blank text nodes between elements dropped); this
 * module only walks the tree.  An element's value is its text content:
 * the text and CDATA of all its descendants, concatenated, entities
 * expanded.  Keys and common prefixes are %-decoded ('+' is a space) when
 * the page's EncodingType says "url" (in any case).
 *
 * Like sigv4.c and jsonscan.c, this module is independent of PostgreSQL
 * (libc and libxml2 only), so that it can be fuzzed, run under the
 * sanitizers and compared against another XML parser stand-alone;
 * listing.c turns its results into palloc'd data and its statuses into
 * errors.  It never prints and never aborts.  Everything it returns is
 * malloc'd and released by the matching _free function, which may be
 * called whatever the status.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BEDLOG_S3XML_H
#define BEDLOG_S3XML_H

#include <stddef.h>

typedef enum S3XmlStatus
{
	S3XML_OK = 0,
	S3XML_MALFORMED,			/* not well-formed XML, or over INT_MAX bytes */
	S3XML_WRONG_ROOT,			/* not the expected root element (root_name) */
	S3XML_NO_KEY,				/* listing: a Contents entry without a Key */
	S3XML_NO_TOKEN,				/* listing: truncated, but no (or an empty)
								 * NextContinuationToken */
	S3XML_NOMEM					/* out of memory */
} S3XmlStatus;

/* One Contents entry of a listing page. */
typedef struct S3XmlObject
{
	char	   *key;			/* Key, decoded (a %00 ends it early) */
	long long	size;			/* Size as strtoll reads it; 0 if absent */
	char	   *etag;			/* ETag, one pair of outer quotes removed;
								 * NULL if absent */
} S3XmlObject;

/* One ListObjectsV2 page.  With several same-named children, the last wins. */
typedef struct S3XmlListPage
{
	S3XmlObject *objects;		/* in document order */
	int			nobjects;
	char	  **prefixes;		/* CommonPrefixes/Prefix, decoded */
	int			nprefixes;
	int			truncated;		/* IsTruncated is exactly "true" */
	char	   *next_token;		/* NextContinuationToken; NULL if absent */
	char	   *root_name;		/* S3XML_WRONG_ROOT: the root element's
								 * name ("" when there is none) */
} S3XmlListPage;

/* An error body <Error><Code/><Message/><Region/></Error>. */
typedef struct S3XmlError
{
	char	   *code;			/* NULL when absent */
	char	   *message;
	char	   *region;
} S3XmlError;

/*
 * Parse len bytes of xml as a ListObjectsV2 answer (root element
 * ListBucketResult) into *page.  Returns S3XML_OK or the first problem
 * found, in this order: malformed, wrong root, a Contents entry without a
 * Key (in document order), a truncated page without a continuation token.
 */
extern S3XmlStatus s3xml_parse_list(const char *xml, size_t len,
									S3XmlListPage *page);

/* Release what s3xml_parse_list put into *page, and zero it. */
extern void s3xml_list_free(S3XmlListPage *page);

/*
 * Parse len bytes of xml as an S3 error body into *err.  Returns S3XML_OK
 * when the root element is Error (members not found stay NULL),
 * S3XML_MALFORMED, S3XML_WRONG_ROOT or S3XML_NOMEM (then *err holds
 * nothing).
 */
extern S3XmlStatus s3xml_parse_error(const char *xml, size_t len,
									 S3XmlError *err);

/* Release what s3xml_parse_error put into *err, and zero it. */
extern void s3xml_error_free(S3XmlError *err);

/*
 * %-decode s as S3's url encoding-type does: %XX (either case of hex) is
 * that byte, '+' is a space, anything else (a '%' without two hex digits
 * included) stays.  Returns a malloc'd string, or NULL when out of memory.
 */
extern char *s3xml_url_decode(const char *s);

#endif							/* BEDLOG_S3XML_H */
