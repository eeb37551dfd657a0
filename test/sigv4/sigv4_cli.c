/*-------------------------------------------------------------------------
 *
 * sigv4_cli.c
 *		Line-oriented driver for src/sigv4.c, used by botocore_diff.py.
 *
 * Design notes.  The differential test generates requests in Python, signs
 * them with botocore and pipes the same requests here, one per line, so
 * that the two signers can be compared byte for byte.  The driver does as
 * little as possible on its own: it decodes the fields, turns the raw
 * object path into the canonical URI with sigv4_uri_encode (slash kept),
 * hashes the body with sigv4_sha256_hex, formats the time with
 * sigv4_amz_date, and signs.  So the path encoder, the hash and the date
 * formatter are all under test too.
 *
 * Input: one request per line, fields separated by TAB.  Inside a field,
 * any byte may be written as \xHH (two hex digits, either case); the
 * generator writes TAB, LF, backslash, controls and non-ASCII bytes that
 * way.  Fields, in order:
 *
 *	 id  method  host  raw-path  epoch-seconds  region  service
 *	 access-key-id  secret  token  payload  nparams  {name value}*
 *	 nheaders  {name value}*
 *
 * token is empty for none.  payload is "U" for UNSIGNED-PAYLOAD or "B"
 * followed by the body bytes; either way the value is also sent as the
 * x-amz-content-sha256 header, as S3 requires.  A parameter value of
 * exactly \N stands for NULL (a bare parameter).
 *
 * Output: one line per input line, "id TAB authorization TAB query TAB
 * amz-date", or "id TAB ERROR" when the line is malformed or signing
 * fails.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"

#define MAX_FIELDS	256

/* Value of hex digit c, or -1. */
static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode \xHH escapes in s in place; *len receives the decoded length
 * (the result is also NUL-terminated).  Returns 0, or -1 on a bad escape.
 */
static int
unescape(char *s, size_t *len)
{
	char	   *r = s;
	char	   *w = s;

	while (*r)
	{
		if (r[0] == '\\' && r[1] == 'x')
		{
			int			hi = hexval((unsigned char) r[2]);
			int			lo = hi < 0 ? -1 : hexval((unsigned char) r[3]);

			if (hi < 0 || lo < 0)
				return -1;
			*w++ = (char) (hi * 16 + lo);
			r += 4;
		}
		else
			*w++ = *r++;
	}
	*w = '\0';
	*len = (size_t) (w - s);
	return 0;
}

/* Read one whole line of any length; returns malloc'd text or NULL at EOF. */
static char *
read_line(FILE *f)
{
	size_t		cap = 1024;
	size_t		len = 0;
	char	   *buf = malloc(cap);
	int			c;

	if (buf == NULL)
		return NULL;
	while ((c = fgetc(f)) != EOF && c != '\n')
	{
		if (len + 1 >= cap)
		{
			char	   *p = realloc(buf, cap * 2);

			if (p == NULL)
			{
				free(buf);
				return NULL;
			}
			buf = p;
			cap *= 2;
		}
		buf[len++] = (char) c;
	}
	if (c == EOF && len == 0)
	{
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/*
 * Sign the request described by line (modified in place) and print the
 * result line.  Returns 0 when a signature was printed, -1 for ERROR.
 */
static int
handle_line(char *line)
{
	char	   *fields[MAX_FIELDS];
	size_t		lens[MAX_FIELDS];
	int			nfields = 0;
	char	   *p = line;
	SigV4Input	in;
	SigV4Output out;
	SigV4Param	params[32];
	SigV4Header headers[33];
	char	   *uri = NULL;
	char		amz_date[17];
	char		payload[65];
	const char *payload_value;
	int			np;
	int			nh;
	int			i;
	int			f;
	int			rc = -1;

	/* split on TAB, then decode each field */
	for (;;)
	{
		char	   *tab = strchr(p, '\t');

		if (nfields == MAX_FIELDS)
			goto bad;
		fields[nfields++] = p;
		if (tab == NULL)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	if (nfields < 13)
		goto bad;
	for (i = 0; i < nfields; i++)
		if (unescape(fields[i], &lens[i]) != 0)
			goto bad;

	memset(&in, 0, sizeof(in));
	in.method = fields[1];
	in.host = fields[2];
	uri = sigv4_uri_encode(fields[3], lens[3], 0);
	if (uri == NULL)
		goto bad;
	in.canonical_uri = uri;
	sigv4_amz_date(strtoll(fields[4], NULL, 10), amz_date);
	in.amz_date = amz_date;
	in.region = fields[5];
	in.service = fields[6];
	in.access_key_id = fields[7];
	in.secret_access_key = fields[8];
	in.session_token = fields[9][0] ? fields[9] : NULL;

	if (fields[10][0] == 'U')
		payload_value = "UNSIGNED-PAYLOAD";
	else if (fields[10][0] == 'B')
	{
		sigv4_sha256_hex(fields[10] + 1, lens[10] - 1, payload);
		payload_value = payload;
	}
	else
		goto bad;
	in.payload_hash = payload_value;

	f = 11;
	np = atoi(fields[f++]);
	if (np < 0 || np > 32 || f + 2 * np >= nfields)
		goto bad;
	for (i = 0; i < np; i++)
	{
		params[i].name = fields[f++];
		params[i].value = strcmp(fields[f], "\\N") == 0 ? NULL : fields[f];
		f++;
	}
	in.params = params;
	in.nparams = np;

	nh = atoi(fields[f++]);
	if (nh < 0 || nh > 32 || f + 2 * nh != nfields)
		goto bad;
	for (i = 0; i < nh; i++)
	{
		headers[i].name = fields[f++];
		headers[i].value = fields[f++];
	}
	headers[nh].name = "x-amz-content-sha256";
	headers[nh].value = payload_value;
	in.headers = headers;
	in.nheaders = nh + 1;

	if (sigv4_sign(&in, &out) != 0)
		goto bad;
	printf("%s\t%s\t%s\t%s\n", fields[0], out.authorization, out.query,
		   amz_date);
	sigv4_output_free(&out);
	rc = 0;
	free(uri);
	return rc;

bad:
	printf("%s\tERROR\n", nfields > 0 ? fields[0] : "?");
	free(uri);
	return rc;
}

int
main(void)
{
	char	   *line;
	int			errors = 0;

	while ((line = read_line(stdin)) != NULL)
	{
		if (handle_line(line) != 0)
			errors++;
		free(line);
	}
	return errors == 0 ? 0 : 1;
}
