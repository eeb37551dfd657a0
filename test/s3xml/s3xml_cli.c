/*
 * s3xml_cli.c
 *		Print what src/s3xml.c makes of XML documents, one line per
 *		document, for the differential test (diff.py).
 *
 * Usage: s3xml_cli FILE...  (or "-" then file names on stdin, one a line)
 *
 * Each document gives one line of tab-separated fields; strings are
 * printed in hex (they may hold any byte), "-" stands for NULL:
 *   <list status> <truncated> <token> <root name> <objects> <prefixes>
 *   <error status> <code> <message> <region>
 * where objects is "key,size,etag;..." and prefixes "p;...".  Contents of
 * a page are printed only when its status is OK.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3xml.h"

static const char *const status_names[] = {
	"OK", "MALFORMED", "WRONG_ROOT", "NO_KEY", "NO_TOKEN", "NOMEM"
};

static void
put_hex(const char *s)
{
	if (s == NULL)
	{
		fputs("-", stdout);
		return;
	}
	if (*s == '\0')
		fputs("=", stdout);		/* the empty string */
	for (; *s; s++)
		printf("%02x", (unsigned char) *s);
}

static int
one(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf = NULL;
	size_t		len = 0;
	size_t		cap = 0;
	size_t		n;
	S3XmlListPage page;
	S3XmlError err;
	S3XmlStatus st;
	int			i;

	if (f == NULL)
	{
		perror(path);
		return 1;
	}
	for (;;)
	{
		if (len == cap)
		{
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (buf == NULL)
				abort();
		}
		n = fread(buf + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);

	st = s3xml_parse_list(buf, len, &page);
	printf("%s\t", status_names[st]);
	if (st == S3XML_OK)
	{
		printf("%d\t", page.truncated);
		put_hex(page.next_token);
		fputs("\t-\t", stdout);
		for (i = 0; i < page.nobjects; i++)
		{
			put_hex(page.objects[i].key);
			printf(",%lld,", page.objects[i].size);
			put_hex(page.objects[i].etag);
			fputs(";", stdout);
		}
		fputs("\t", stdout);
		for (i = 0; i < page.nprefixes; i++)
		{
			put_hex(page.prefixes[i]);
			fputs(";", stdout);
		}
	}
	else
	{
		fputs("-\t-\t", stdout);
		put_hex(page.root_name);
		fputs("\t-\t-", stdout);
	}
	s3xml_list_free(&page);

	st = s3xml_parse_error(buf, len, &err);
	printf("\t%s\t", status_names[st]);
	put_hex(err.code);
	fputs("\t", stdout);
	put_hex(err.message);
	fputs("\t", stdout);
	put_hex(err.region);
	fputs("\n", stdout);
	s3xml_error_free(&err);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	int			i;
	int			rc = 0;
	char		line[4096];

	if (argc == 2 && strcmp(argv[1], "-") == 0)
	{
		while (fgets(line, sizeof(line), stdin))
		{
			line[strcspn(line, "\n")] = '\0';
			rc |= one(line);
			fflush(stdout);
		}
		return rc;
	}
	for (i = 1; i < argc; i++)
		rc |= one(argv[i]);
	return rc;
}
