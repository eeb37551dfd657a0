/*-------------------------------------------------------------------------
 *
 * sigv4.c
 *		AWS Signature Version 4 request signing, written on OpenSSL.
 *
 * Design notes.  This file is deliberately free of PostgreSQL: it uses libc
 * and OpenSSL only, allocates with malloc, never prints and never aborts,
 * so that the exact same object can be linked into the backend and into
 * the stand-alone tests under test/sigv4/ (AWS's published vectors, a
 * differential test against botocore, and the sanitizers).  Failures are
 * reported as a return value; the PostgreSQL-facing caller turns them into
 * an ereport.
 *
 * The canonicalisation is S3's, not the generic one: the canonical URI is
 * taken exactly as the caller sends it (already percent-encoded, no
 * dot-segment removal, no collapsing of "//", no second encoding), query
 * names and values are encoded with every byte but A-Z a-z 0-9 - . _ ~
 * escaped (so '/' is %2F and ' ' is %20, never '+'), and the pairs are
 * sorted by encoded name, then encoded value.  The query string we return
 * is the canonical one, so what is signed is byte for byte what is sent.
 *
 * Header names are lower-cased, values trimmed and inner runs of blanks
 * (space, tab) folded to one space; repeated names are merged into one
 * line with their values joined by ',' in the order given, which is what
 * SigV4 prescribes.  host, x-amz-date and (with a session token)
 * x-amz-security-token are produced here, so the caller may not pass
 * them as extra headers.  Anything that would let a value break out of
 * its header line (CR, LF, other control characters) is refused rather
 * than signed.
 *
 * Secrets: the derived keys and the "AWS4"+secret buffer are wiped with
 * OPENSSL_cleanse before they are released.  Nothing here logs.
 *
 *-------------------------------------------------------------------------
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigv4.h"

#define SIGV4_ALGORITHM		"AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR	"aws4_request"
#define SIGV4_DATE_LEN		16	/* YYYYMMDDTHHMMSSZ */
#define SIGV4_SCOPE_DATE_LEN 8	/* YYYYMMDD */
#define SHA256_LEN			32

/* A growable NUL-terminated string; a failed append poisons it. */
typedef struct SigV4Buf
{
	char	   *data;			/* malloc'd, NUL-terminated when not failed */
	size_t		len;			/* bytes used, excluding the NUL */
	size_t		cap;			/* bytes allocated */
	int			failed;			/* set once an allocation failed */
} SigV4Buf;

/* One canonical header while it is being assembled. */
typedef struct SigV4Canon
{
	char	   *name;			/* lower-cased, malloc'd */
	char	   *value;			/* trimmed and folded, malloc'd */
	int			order;			/* position given, keeps sorting stable */
} SigV4Canon;

/* One encoded query parameter. */
typedef struct SigV4Pair
{
	char	   *name;			/* encoded, malloc'd */
	char	   *value;			/* encoded, malloc'd */
} SigV4Pair;

static const char hexdigits_upper[] = "0123456789ABCDEF";
static const char hexdigits_lower[] = "0123456789abcdef";

/*
 * Make sure buf can take extra more bytes plus a NUL.  Returns 0, or -1
 * (and marks buf failed) when out of memory or on size overflow.
 */
static int
buf_reserve(SigV4Buf *buf, size_t extra)
{
	size_t		need;
	size_t		newcap;
	char	   *p;

	if (buf->failed)
		return -1;
	if (extra > SIZE_MAX - buf->len - 1)
	{
		buf->failed = 1;
		return -1;
	}
	need = buf->len + extra + 1;
	if (need <= buf->cap)
		return 0;
	newcap = buf->cap ? buf->cap : 256;
	while (newcap < need)
	{
		if (newcap > SIZE_MAX / 2)
		{
			newcap = need;
			break;
		}
		newcap *= 2;
	}
	p = realloc(buf->data, newcap);
	if (p == NULL)
	{
		buf->failed = 1;
		return -1;
	}
	buf->data = p;
	buf->cap = newcap;
	return 0;
}

/* Append len bytes of s to buf; on failure buf is marked failed. */
static void
buf_append_len(SigV4Buf *buf, const char *s, size_t len)
{
	if (buf_reserve(buf, len) != 0)
		return;
	if (len > 0)
		memcpy(buf->data + buf->len, s, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
}

/* Append the NUL-terminated string s to buf. */
static void
buf_append(SigV4Buf *buf, const char *s)
{
	buf_append_len(buf, s, strlen(s));
}

/* Append one byte to buf. */
static void
buf_append_char(SigV4Buf *buf, char c)
{
	buf_append_len(buf, &c, 1);
}

/*
 * Take the string out of buf: returns it (malloc'd, now owned by the
 * caller), or NULL if any append failed.  buf is left empty either way.
 */
static char *
buf_finish(SigV4Buf *buf)
{
	char	   *result = NULL;

	if (!buf->failed && buf_reserve(buf, 0) == 0)
	{
		buf->data[buf->len] = '\0';
		result = buf->data;
	}
	else
		free(buf->data);
	buf->data = NULL;
	buf->len = buf->cap = 0;
	buf->failed = 0;
	return result;
}

/* Wipe and release buf's storage (for buffers that held secrets). */
static void
buf_wipe(SigV4Buf *buf)
{
	if (buf->data != NULL)
	{
		OPENSSL_cleanse(buf->data, buf->cap);
		free(buf->data);
	}
	buf->data = NULL;
	buf->len = buf->cap = 0;
	buf->failed = 0;
}

/* Is c one of the characters SigV4 never escapes? */
static int
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') ||
		c == '-' || c == '.' || c == '_' || c == '~';
}

/*
 * Percent-encode len bytes of s per SigV4 (see sigv4.h).  Returns a
 * malloc'd string owned by the caller, or NULL when out of memory or when
 * s is NULL with a non-zero len.
 */
char *
sigv4_uri_encode(const char *s, size_t len, int encode_slash)
{
	char	   *out;
	char	   *p;
	size_t		i;

	if (s == NULL && len > 0)
		return NULL;
	if (len > (SIZE_MAX - 1) / 3)
		return NULL;
	out = malloc(len * 3 + 1);
	if (out == NULL)
		return NULL;
	p = out;
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (is_unreserved(c) || (c == '/' && !encode_slash))
			*p++ = (char) c;
		else
		{
			*p++ = '%';
			*p++ = hexdigits_upper[c >> 4];
			*p++ = hexdigits_upper[c & 0x0F];
		}
	}
	*p = '\0';
	return out;
}

/* Lower-case hex of len bytes of in, into out (2 * len + 1 bytes). */
static void
hex_lower(const unsigned char *in, size_t len, char *out)
{
	size_t		i;

	for (i = 0; i < len; i++)
	{
		out[2 * i] = hexdigits_lower[in[i] >> 4];
		out[2 * i + 1] = hexdigits_lower[in[i] & 0x0F];
	}
	out[2 * len] = '\0';
}

/*
 * Hex SHA-256 of len bytes of data into out (65 bytes; data may be NULL
 * when len is 0).  If data is NULL with a non-zero len, or OpenSSL fails
 * to digest (it should not, but it can fail to fetch the algorithm), out
 * is left as the empty string, which sigv4_sign treats as an error.
 */
void
sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const unsigned char empty = 0;

	out[0] = '\0';
	if (data == NULL)
	{
		if (len > 0)
			return;
		data = &empty;
	}
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
		mdlen != SHA256_LEN)
		return;
	hex_lower(md, SHA256_LEN, out);
}

/* Write v (0 <= v < 10^n) as exactly n decimal digits, no NUL. */
static void
put_digits(char *out, long long v, int n)
{
	while (n-- > 0)
	{
		out[n] = (char) ('0' + v % 10);
		v /= 10;
	}
}

/*
 * Format t (seconds since the epoch, UTC) as "YYYYMMDDTHHMMSSZ" into out
 * (17 bytes).  Pure arithmetic (days-to-civil, proleptic Gregorian), so it
 * needs neither gmtime_r nor the TZ environment.  Times outside years
 * 0000..9999 cannot be written in this format and are clamped to the
 * nearest representable second.
 */
void
sigv4_amz_date(long long t, char out[17])
{
	const long long min_t = -62167219200LL; /* 0000-01-01T00:00:00Z */
	const long long max_t = 253402300799LL; /* 9999-12-31T23:59:59Z */
	long long	days;
	long long	secs;
	long long	z;
	long long	era;
	long long	doe;
	long long	yoe;
	long long	doy;
	long long	mp;
	long long	year;
	long long	month;
	long long	day;

	if (t < min_t)
		t = min_t;
	if (t > max_t)
		t = max_t;

	/* floor division into days and seconds of day */
	days = t / 86400;
	secs = t % 86400;
	if (secs < 0)
	{
		secs += 86400;
		days -= 1;
	}

	/* Howard Hinnant's civil_from_days */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	day = doy - (153 * mp + 2) / 5 + 1;
	month = mp < 10 ? mp + 3 : mp - 9;
	year = yoe + era * 400 + (month <= 2 ? 1 : 0);

	put_digits(out, year, 4);
	put_digits(out + 4, month, 2);
	put_digits(out + 6, day, 2);
	out[8] = 'T';
	put_digits(out + 9, secs / 3600, 2);
	put_digits(out + 11, (secs / 60) % 60, 2);
	put_digits(out + 13, secs % 60, 2);
	out[15] = 'Z';
	out[16] = '\0';
}

/* Is s a plausible x-amz-date, "YYYYMMDDTHHMMSSZ"? */
static int
valid_amz_date(const char *s)
{
	int			i;

	if (strlen(s) != SIGV4_DATE_LEN)
		return 0;
	for (i = 0; i < SIGV4_DATE_LEN; i++)
	{
		char		c = s[i];

		if (i == 8)
		{
			if (c != 'T')
				return 0;
		}
		else if (i == 15)
		{
			if (c != 'Z')
				return 0;
		}
		else if (c < '0' || c > '9')
			return 0;
	}
	return 1;
}

/* Is c an RFC 7230 token character (what a header name may contain)? */
static int
is_tchar(unsigned char c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Is s a non-empty token (used for header names and the method)? */
static int
valid_token(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s; s++)
		if (!is_tchar((unsigned char) *s))
			return 0;
	return 1;
}

/*
 * May s go into a header line as it is?  Refuses control characters (CR
 * and LF above all) and DEL; tabs are allowed, they fold to a space.
 */
static int
valid_header_text(const char *s)
{
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if ((c < 0x20 && c != '\t') || c == 0x7F)
			return 0;
	}
	return 1;
}

/*
 * Is s usable as a credential-scope or key-id component?  Non-empty,
 * printable ASCII, and no '/', ',' or blank, which would change the
 * meaning of the Credential= field.
 */
static int
valid_scope_part(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c <= 0x20 || c >= 0x7F || c == '/' || c == ',')
			return 0;
	}
	return 1;
}

/*
 * Is uri acceptable as a canonical URI?  It must start with '/', and
 * carry no byte that would have to be encoded to survive the request line
 * (controls, blanks, non-ASCII) nor '?' or '#', which would end the path.
 * It is otherwise signed exactly as given.
 */
static int
valid_canonical_uri(const char *uri)
{
	if (uri == NULL || uri[0] != '/')
		return 0;
	for (; *uri; uri++)
	{
		unsigned char c = (unsigned char) *uri;

		if (c <= 0x20 || c >= 0x7F || c == '?' || c == '#')
			return 0;
	}
	return 1;
}

/*
 * Lower-cased copy of name.  Returns malloc'd memory owned by the caller,
 * or NULL when out of memory.
 */
static char *
lower_dup(const char *name)
{
	size_t		len = strlen(name);
	char	   *out = malloc(len + 1);
	size_t		i;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++)
	{
		char		c = name[i];

		out[i] = (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
	}
	out[len] = '\0';
	return out;
}

/*
 * Copy of value with leading and trailing blanks removed and every inner
 * run of blanks (space or tab) replaced by one space.  Returns malloc'd
 * memory owned by the caller, or NULL when out of memory.
 */
static char *
trimall_dup(const char *value)
{
	size_t		len = strlen(value);
	char	   *out = malloc(len + 1);
	char	   *p = out;
	int			pending_blank = 0;

	if (out == NULL)
		return NULL;
	for (; *value; value++)
	{
		if (*value == ' ' || *value == '\t')
		{
			if (p != out)
				pending_blank = 1;
			continue;
		}
		if (pending_blank)
		{
			*p++ = ' ';
			pending_blank = 0;
		}
		*p++ = *value;
	}
	*p = '\0';
	return out;
}

/* qsort comparator: header name, then the order the caller gave. */
static int
canon_cmp(const void *a, const void *b)
{
	const SigV4Canon *x = (const SigV4Canon *) a;
	const SigV4Canon *y = (const SigV4Canon *) b;
	int			c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return (x->order > y->order) - (x->order < y->order);
}

/* qsort comparator: encoded name, then encoded value (bytewise). */
static int
pair_cmp(const void *a, const void *b)
{
	const SigV4Pair *x = (const SigV4Pair *) a;
	const SigV4Pair *y = (const SigV4Pair *) b;
	int			c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return strcmp(x->value, y->value);
}

/*
 * Build the canonical query string from in's parameters.  Returns it
 * malloc'd (owned by the caller; "" when there are none), or NULL on bad
 * input or out of memory.
 */
static char *
build_query(const SigV4Input *in)
{
	SigV4Pair  *pairs;
	SigV4Buf	buf = {0};
	char	   *result = NULL;
	int			n = 0;
	int			i;

	if (in->nparams < 0 || (in->nparams > 0 && in->params == NULL))
		return NULL;
	if (in->nparams == 0)
	{
		result = malloc(1);
		if (result != NULL)
			result[0] = '\0';
		return result;
	}
	if ((size_t) in->nparams > SIZE_MAX / sizeof(SigV4Pair))
		return NULL;
	pairs = calloc((size_t) in->nparams, sizeof(SigV4Pair));
	if (pairs == NULL)
		return NULL;

	for (i = 0; i < in->nparams; i++)
	{
		const char *name = in->params[i].name;
		const char *value = in->params[i].value;

		if (name == NULL)
			goto done;
		if (value == NULL)
			value = "";
		pairs[i].name = sigv4_uri_encode(name, strlen(name), 1);
		pairs[i].value = sigv4_uri_encode(value, strlen(value), 1);
		n = i + 1;
		if (pairs[i].name == NULL || pairs[i].value == NULL)
			goto done;
	}

	qsort(pairs, (size_t) n, sizeof(SigV4Pair), pair_cmp);
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			buf_append_char(&buf, '&');
		buf_append(&buf, pairs[i].name);
		buf_append_char(&buf, '=');
		buf_append(&buf, pairs[i].value);
	}
	result = buf_finish(&buf);

done:
	for (i = 0; i < n; i++)
	{
		free(pairs[i].name);
		free(pairs[i].value);
	}
	free(pairs);
	free(buf.data);
	return result;
}

/*
 * Build the canonical header block ("name:value\n" per distinct name,
 * sorted) into *canon and the SignedHeaders list into *signed_out.
 * Returns 0, or -1 on bad input or out of memory (then neither is set).
 * Both results are malloc'd and owned by the caller.
 */
static int
build_headers(const SigV4Input *in, const char *token,
			  char **canon, char **signed_out)
{
	SigV4Canon *hdrs;
	SigV4Buf	cbuf = {0};
	SigV4Buf	sbuf = {0};
	int			nhdrs = 0;
	int			max;
	int			i;
	int			rc = -1;

	if (in->nheaders < 0 || (in->nheaders > 0 && in->headers == NULL))
		return -1;
	if (in->nheaders > INT_MAX - 3 ||
		(size_t) in->nheaders + 3 > SIZE_MAX / sizeof(SigV4Canon))
		return -1;
	max = in->nheaders + 3;
	hdrs = calloc((size_t) max, sizeof(SigV4Canon));
	if (hdrs == NULL)
		return -1;

	/* the headers we add ourselves */
	hdrs[nhdrs].name = lower_dup("host");
	hdrs[nhdrs].value = trimall_dup(in->host);
	hdrs[nhdrs].order = nhdrs;
	nhdrs++;
	hdrs[nhdrs].name = lower_dup("x-amz-date");
	hdrs[nhdrs].value = trimall_dup(in->amz_date);
	hdrs[nhdrs].order = nhdrs;
	nhdrs++;
	if (token != NULL)
	{
		hdrs[nhdrs].name = lower_dup("x-amz-security-token");
		hdrs[nhdrs].value = trimall_dup(token);
		hdrs[nhdrs].order = nhdrs;
		nhdrs++;
	}
	for (i = 0; i < nhdrs; i++)
		if (hdrs[i].name == NULL || hdrs[i].value == NULL)
			goto done;

	/* the caller's */
	for (i = 0; i < in->nheaders; i++)
	{
		const SigV4Header *h = &in->headers[i];
		SigV4Canon *c = &hdrs[nhdrs];

		if (!valid_token(h->name) || h->value == NULL ||
			!valid_header_text(h->value))
			goto done;
		c->name = lower_dup(h->name);
		c->value = trimall_dup(h->value);
		c->order = nhdrs;
		nhdrs++;
		if (c->name == NULL || c->value == NULL)
			goto done;
		/* these are ours to produce; a second copy would be ambiguous */
		if (strcmp(c->name, "host") == 0 ||
			strcmp(c->name, "x-amz-date") == 0 ||
			strcmp(c->name, "x-amz-security-token") == 0 ||
			strcmp(c->name, "authorization") == 0)
			goto done;
	}

	qsort(hdrs, (size_t) nhdrs, sizeof(SigV4Canon), canon_cmp);

	for (i = 0; i < nhdrs; i++)
	{
		int			first;
		int			last;

		first = (i == 0 || strcmp(hdrs[i].name, hdrs[i - 1].name) != 0);
		last = (i == nhdrs - 1 ||
				strcmp(hdrs[i].name, hdrs[i + 1].name) != 0);

		if (first)
		{
			if (sbuf.len > 0)
				buf_append_char(&sbuf, ';');
			buf_append(&sbuf, hdrs[i].name);
			buf_append(&cbuf, hdrs[i].name);
			buf_append_char(&cbuf, ':');
		}
		else
			buf_append_char(&cbuf, ',');
		buf_append(&cbuf, hdrs[i].value);
		if (last)
			buf_append_char(&cbuf, '\n');
	}
	if (cbuf.failed || sbuf.failed)
		goto done;
	*canon = buf_finish(&cbuf);
	*signed_out = buf_finish(&sbuf);
	if (*canon == NULL || *signed_out == NULL)
	{
		free(*canon);
		free(*signed_out);
		*canon = *signed_out = NULL;
		goto done;
	}
	rc = 0;

done:
	for (i = 0; i < nhdrs; i++)
	{
		free(hdrs[i].name);
		free(hdrs[i].value);
	}
	free(hdrs);
	free(cbuf.data);
	free(sbuf.data);
	return rc;
}

/*
 * HMAC-SHA256 of msg under key into out (32 bytes).  Returns 0, or -1 if
 * OpenSSL fails.  Uses the one-shot HMAC(), which OpenSSL 3 keeps
 * undeprecated.
 */
static int
hmac_sha256(const unsigned char *key, size_t keylen,
			const char *msg, size_t msglen, unsigned char out[SHA256_LEN])
{
	unsigned int outlen = 0;

	if (keylen > INT_MAX)
		return -1;
	if (HMAC(EVP_sha256(), key, (int) keylen,
			 (const unsigned char *) msg, msglen, out, &outlen) == NULL ||
		outlen != SHA256_LEN)
		return -1;
	return 0;
}

/*
 * Derive the signing key for (secret, date, region, service) and write the
 * hex HMAC of sts under it into sig_hex (65 bytes).  Returns 0 or -1.  All
 * key material is wiped before returning.
 */
static int
compute_signature(const char *secret, const char *date8, const char *region,
				  const char *service, const char *sts, char sig_hex[65])
{
	SigV4Buf	kbuf = {0};
	unsigned char k1[SHA256_LEN];
	unsigned char k2[SHA256_LEN];
	unsigned char sig[SHA256_LEN];
	int			rc = -1;

	buf_append(&kbuf, "AWS4");
	buf_append(&kbuf, secret);
	if (kbuf.failed)
		goto done;

	/* kDate, kRegion, kService, kSigning, then the signature */
	if (hmac_sha256((unsigned char *) kbuf.data, kbuf.len,
					date8, strlen(date8), k1) != 0 ||
		hmac_sha256(k1, SHA256_LEN, region, strlen(region), k2) != 0 ||
		hmac_sha256(k2, SHA256_LEN, service, strlen(service), k1) != 0 ||
		hmac_sha256(k1, SHA256_LEN, SIGV4_TERMINATOR,
					strlen(SIGV4_TERMINATOR), k2) != 0 ||
		hmac_sha256(k2, SHA256_LEN, sts, strlen(sts), sig) != 0)
		goto done;
	hex_lower(sig, SHA256_LEN, sig_hex);
	rc = 0;

done:
	buf_wipe(&kbuf);
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	OPENSSL_cleanse(sig, sizeof(sig));
	return rc;
}

/*
 * Sign a request (see sigv4.h).  Returns 0 with every member of *out
 * malloc'd and owned by the caller (release with sigv4_output_free), or
 * -1 on bad input or out of memory, with *out zeroed and nothing to free.
 */
int
sigv4_sign(const SigV4Input *in, SigV4Output *out)
{
	SigV4Buf	buf = {0};
	char	   *canon_headers = NULL;
	char	   *signed_headers = NULL;
	char	   *query = NULL;
	char	   *creq = NULL;
	char	   *sts = NULL;
	char	   *auth = NULL;
	const char *token;
	char		date8[SIGV4_SCOPE_DATE_LEN + 1];
	char		creq_hash[65];
	char		sig_hex[65];

	if (out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if (in == NULL)
		return -1;

	/* validate everything that ends up in a header or the scope */
	if (!valid_token(in->method) ||
		in->host == NULL || in->host[0] == '\0' ||
		!valid_header_text(in->host) ||
		!valid_canonical_uri(in->canonical_uri) ||
		in->payload_hash == NULL || in->payload_hash[0] == '\0' ||
		!valid_header_text(in->payload_hash) ||
		in->amz_date == NULL || !valid_amz_date(in->amz_date) ||
		!valid_scope_part(in->region) ||
		!valid_scope_part(in->service) ||
		!valid_scope_part(in->access_key_id) ||
		in->secret_access_key == NULL || in->secret_access_key[0] == '\0')
		return -1;
	token = in->session_token;
	if (token != NULL && token[0] == '\0')
		token = NULL;			/* an empty token means none */
	if (token != NULL && !valid_header_text(token))
		return -1;

	memcpy(date8, in->amz_date, SIGV4_SCOPE_DATE_LEN);
	date8[SIGV4_SCOPE_DATE_LEN] = '\0';

	query = build_query(in);
	if (query == NULL)
		goto fail;
	if (build_headers(in, token, &canon_headers, &signed_headers) != 0)
		goto fail;

	/* CanonicalRequest */
	buf_append(&buf, in->method);
	buf_append_char(&buf, '\n');
	buf_append(&buf, in->canonical_uri);
	buf_append_char(&buf, '\n');
	buf_append(&buf, query);
	buf_append_char(&buf, '\n');
	buf_append(&buf, canon_headers);
	buf_append_char(&buf, '\n');
	buf_append(&buf, signed_headers);
	buf_append_char(&buf, '\n');
	buf_append(&buf, in->payload_hash);
	creq = buf_finish(&buf);
	if (creq == NULL)
		goto fail;

	/* StringToSign */
	sigv4_sha256_hex(creq, strlen(creq), creq_hash);
	if (creq_hash[0] == '\0')
		goto fail;
	buf_append(&buf, SIGV4_ALGORITHM "\n");
	buf_append(&buf, in->amz_date);
	buf_append_char(&buf, '\n');
	buf_append(&buf, date8);
	buf_append_char(&buf, '/');
	buf_append(&buf, in->region);
	buf_append_char(&buf, '/');
	buf_append(&buf, in->service);
	buf_append(&buf, "/" SIGV4_TERMINATOR "\n");
	buf_append(&buf, creq_hash);
	sts = buf_finish(&buf);
	if (sts == NULL)
		goto fail;

	if (compute_signature(in->secret_access_key, date8, in->region,
						  in->service, sts, sig_hex) != 0)
		goto fail;

	/* Authorization */
	buf_append(&buf, SIGV4_ALGORITHM " Credential=");
	buf_append(&buf, in->access_key_id);
	buf_append_char(&buf, '/');
	buf_append(&buf, date8);
	buf_append_char(&buf, '/');
	buf_append(&buf, in->region);
	buf_append_char(&buf, '/');
	buf_append(&buf, in->service);
	buf_append(&buf, "/" SIGV4_TERMINATOR ", SignedHeaders=");
	buf_append(&buf, signed_headers);
	buf_append(&buf, ", Signature=");
	buf_append(&buf, sig_hex);
	auth = buf_finish(&buf);
	OPENSSL_cleanse(sig_hex, sizeof(sig_hex));
	if (auth == NULL)
		goto fail;

	free(canon_headers);
	out->authorization = auth;
	out->query = query;
	out->canonical_request = creq;
	out->string_to_sign = sts;
	out->signed_headers = signed_headers;
	return 0;

fail:
	free(buf.data);
	free(canon_headers);
	free(signed_headers);
	free(query);
	free(creq);
	free(sts);
	free(auth);
	memset(out, 0, sizeof(*out));
	return -1;
}

/* Release what sigv4_sign put into *out and zero it; out may be NULL. */
void
sigv4_output_free(SigV4Output *out)
{
	if (out == NULL)
		return;
	free(out->authorization);
	free(out->query);
	free(out->canonical_request);
	free(out->string_to_sign);
	free(out->signed_headers);
	memset(out, 0, sizeof(*out));
}
