/*
 * fuzz_sigv4.c
 *		libFuzzer harness for src/sigv4.c (PostgreSQL-independent).
 *
 * Input layout: one flags byte, then length-prefixed pieces (one length
 * byte, then that many bytes, cut short at the end of the input): method,
 * host, canonical URI, parameter count (byte % 9) and each parameter's name
 * and value, header count (byte % 7) and each header's name and value,
 * payload hash, amz date, region, service, access key id, secret key,
 * session token, then 8 bytes of a time for sigv4_amz_date.  Flag bits
 * replace some pieces with valid fixed values, so that the fuzzer spends
 * time past input validation as well as in it.  Every piece is passed
 * through sigv4_uri_encode (both slash modes, output checked), then the
 * request is signed; on success the Authorization value must start with
 * "AWS4-HMAC-SHA256 Credential=", on failure *out must be zeroed.
 *
 * Build and run: see fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

#define MAXPARAMS 8
#define MAXHEADERS 6
#define MAXPIECES (3 + 2 * MAXPARAMS + 2 * MAXHEADERS + 7)

typedef struct Reader
{
	const uint8_t *p;
	size_t		left;
} Reader;

static int
take_byte(Reader *r)
{
	if (r->left == 0)
		return 0;
	r->left--;
	return *r->p++;
}

/* Length-prefixed piece; *len gets its raw length (may hold NULs). */
static const uint8_t *
take_piece(Reader *r, size_t *len)
{
	size_t		n = (size_t) take_byte(r);
	const uint8_t *s = r->p;

	if (n > r->left)
		n = r->left;
	r->p += n;
	r->left -= n;
	*len = n;
	return s;
}

static int
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

static void
check_encode(const uint8_t *s, size_t len, int encode_slash)
{
	char	   *e = sigv4_uri_encode((const char *) s, len, encode_slash);
	size_t		j = 0;
	static const char hex[] = "0123456789ABCDEF";

	CHECK(e != NULL);
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = s[i];

		if (unreserved(c) || (c == '/' && !encode_slash))
			CHECK(e[j++] == (char) c);
		else
		{
			CHECK(e[j] == '%' && e[j + 1] == hex[c >> 4] && e[j + 2] == hex[c & 15]);
			j += 3;
		}
	}
	CHECK(e[j] == '\0');
	free(e);
}

/* NUL-terminated, exactly-sized copy; recorded for encoding and freeing. */
static char *
piece(Reader *r, char **owned, int *nowned)
{
	size_t		len;
	const uint8_t *s = take_piece(r, &len);
	char	   *c = malloc(len + 1);

	CHECK(c != NULL);
	memcpy(c, s, len);
	c[len] = '\0';
	check_encode(s, len, 1);
	check_encode(s, len, 0);
	owned[(*nowned)++] = c;
	return c;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Reader		r = {data, size};
	char	   *owned[MAXPIECES];
	int			nowned = 0;
	SigV4Param	params[MAXPARAMS];
	SigV4Header headers[MAXHEADERS];
	SigV4Input	in;
	SigV4Output out;
	int			flags;
	int			rc;
	char		hash[65];
	char		date[17];
	long long	t = 0;

	memset(&in, 0, sizeof(in));
	flags = take_byte(&r);

	in.method = piece(&r, owned, &nowned);
	in.host = piece(&r, owned, &nowned);
	in.canonical_uri = piece(&r, owned, &nowned);
	if (flags & 1)
		in.canonical_uri = "/bucket/AWSLogs/123456789012/BedrockModelInvocationLogs/x.json.gz";

	in.nparams = take_byte(&r) % (MAXPARAMS + 1);
	for (int i = 0; i < in.nparams; i++)
	{
		params[i].name = piece(&r, owned, &nowned);
		params[i].value = piece(&r, owned, &nowned);
		if ((flags & 2) && params[i].value[0] == '\0')
			params[i].value = NULL;
	}
	in.params = in.nparams ? params : NULL;

	in.nheaders = take_byte(&r) % (MAXHEADERS + 1);
	for (int i = 0; i < in.nheaders; i++)
	{
		headers[i].name = piece(&r, owned, &nowned);
		headers[i].value = piece(&r, owned, &nowned);
	}
	in.headers = in.nheaders ? headers : NULL;

	in.payload_hash = piece(&r, owned, &nowned);
	if (flags & 4)
		in.payload_hash = "UNSIGNED-PAYLOAD";
	in.amz_date = piece(&r, owned, &nowned);
	if (flags & 8)
		in.amz_date = "20130524T000000Z";
	in.region = piece(&r, owned, &nowned);
	in.service = piece(&r, owned, &nowned);
	if (flags & 16)
	{
		in.region = "us-east-1";
		in.service = "s3";
	}
	in.access_key_id = piece(&r, owned, &nowned);
	if (flags & 32)
		in.access_key_id = "AKIAIOSFODNN7EXAMPLE";
	in.secret_access_key = piece(&r, owned, &nowned);
	in.session_token = piece(&r, owned, &nowned);
	if (flags & 64)
		in.session_token = NULL;
	if (flags & 128)
		in.method = "GET";

	for (int i = 0; i < 8; i++)
		t = (long long) ((unsigned long long) t << 8 | (unsigned) take_byte(&r));

	/* sha256 of the whole input: 64 lower-case hex digits */
	sigv4_sha256_hex(data, size, hash);
	CHECK(strlen(hash) == 64);
	for (int i = 0; i < 64; i++)
		CHECK((hash[i] >= '0' && hash[i] <= '9') || (hash[i] >= 'a' && hash[i] <= 'f'));

	sigv4_amz_date(t, date);
	CHECK(strlen(date) == 16 && date[8] == 'T' && date[15] == 'Z');
	for (int i = 0; i < 15; i++)
		if (i != 8)
			CHECK(date[i] >= '0' && date[i] <= '9');

	memset(&out, 0x5a, sizeof(out));
	rc = sigv4_sign(&in, &out);
	CHECK(rc == 0 || rc == -1);
	if (rc == 0)
	{
		static const char prefix[] = "AWS4-HMAC-SHA256 Credential=";

		CHECK(out.authorization && out.query && out.canonical_request &&
			  out.string_to_sign && out.signed_headers);
		CHECK(strncmp(out.authorization, prefix, sizeof(prefix) - 1) == 0);
		CHECK(strstr(out.authorization, "SignedHeaders=") != NULL);
		CHECK(strstr(out.authorization, ", Signature=") != NULL);
		CHECK(strstr(out.signed_headers, "host") != NULL);
		CHECK(strstr(out.signed_headers, "x-amz-date") != NULL);
		CHECK(strchr(out.authorization, '\n') == NULL);
		CHECK(strchr(out.authorization, '\r') == NULL);
		sigv4_output_free(&out);
	}
	else
	{
		CHECK(out.authorization == NULL && out.query == NULL &&
			  out.canonical_request == NULL && out.string_to_sign == NULL &&
			  out.signed_headers == NULL);
	}
	sigv4_output_free(&out);	/* must be harmless on a zeroed output */

	for (int i = 0; i < nowned; i++)
		free(owned[i]);
	return 0;
}
