/*-------------------------------------------------------------------------
 *
 * sigv4.h
 *		AWS Signature Version 4 request signing, written on OpenSSL.
 *
 * This module is deliberately independent of PostgreSQL: it uses only libc
 * and OpenSSL (HMAC, SHA-256), so that it can be tested stand-alone against
 * AWS's published examples and an independent signer, and run under the
 * sanitizers.  It never prints anything and never aborts; every function
 * returns a status, and memory it returns is malloc'd and owned by the
 * caller (free with sigv4_output_free / free).
 *
 * The canonicalisation follows S3's rules: the path is sent and signed
 * as given (no dot-segment normalisation, no double encoding), query
 * names and values are percent-encoded with everything but the unreserved
 * characters encoded (so '/' becomes %2F), and parameters are sorted by
 * encoded name, then encoded value.
 *
 *-------------------------------------------------------------------------
 */
#ifndef BEDLOG_SIGV4_H
#define BEDLOG_SIGV4_H

#include <stddef.h>

/* One query parameter, neither name nor value encoded yet. */
typedef struct SigV4Param
{
	const char *name;			/* raw parameter name */
	const char *value;			/* raw value; NULL or "" for a bare name */
} SigV4Param;

/*
 * One extra header to sign and send (besides host, x-amz-date and
 * x-amz-security-token, which sigv4_sign produces itself and refuses here,
 * as it refuses authorization).  A name given more than once is signed as
 * one header, values joined by ',' in the order given.  Values holding CR,
 * LF or other control characters (tab aside) are refused.
 */
typedef struct SigV4Header
{
	const char *name;			/* any case; signed lower-cased */
	const char *value;			/* signed with outer blanks trimmed and
								 * inner runs of blanks folded to one */
} SigV4Header;

typedef struct SigV4Input
{
	const char *method;			/* "GET", "PUT", ... */
	const char *host;			/* value of the Host header (host[:port]) */
	const char *canonical_uri;	/* path as sent, already percent-encoded */
	const SigV4Param *params;	/* query parameters, unencoded */
	int			nparams;
	const SigV4Header *headers; /* extra headers to sign, e.g.
								 * x-amz-content-sha256, range */
	int			nheaders;
	const char *payload_hash;	/* hex SHA-256 of the body, or
								 * "UNSIGNED-PAYLOAD" */
	const char *amz_date;		/* "YYYYMMDDTHHMMSSZ" */
	const char *region;			/* e.g. "us-east-1" */
	const char *service;		/* "s3" */
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;	/* NULL or "" if none; signed as
								 * x-amz-security-token */
} SigV4Input;

typedef struct SigV4Output
{
	char	   *authorization;	/* value of the Authorization header */
	char	   *query;			/* canonical (encoded, sorted) query string,
								 * to append to the URL after '?' */
	char	   *canonical_request;	/* for tests and debugging only */
	char	   *string_to_sign; /* for tests and debugging only */
	char	   *signed_headers; /* "host;x-amz-content-sha256;x-amz-date" */
} SigV4Output;

/*
 * Percent-encode len bytes of s per SigV4: A-Z a-z 0-9 - . _ ~ stay, '/'
 * stays unless encode_slash, everything else becomes %XX (upper-case hex).
 * Returns a malloc'd NUL-terminated string, or NULL when out of memory.
 */
extern char *sigv4_uri_encode(const char *s, size_t len, int encode_slash);

/*
 * Hex SHA-256 of len bytes of data into out (65 bytes, NUL-terminated).
 * On failure (data NULL with len > 0, or OpenSSL failing) out is "".
 */
extern void sigv4_sha256_hex(const void *data, size_t len, char out[65]);

/*
 * Format t (seconds since the epoch, UTC) as the x-amz-date value
 * "YYYYMMDDTHHMMSSZ" into out (17 bytes).  Times outside years 0000..9999
 * are clamped.
 */
extern void sigv4_amz_date(long long t, char out[17]);

/*
 * Sign a request.  Fills *out (all members malloc'd).  Returns 0 on success,
 * -1 on bad input or out of memory (then *out is zeroed and holds nothing
 * to free).  canonical_uri must start with '/' and be already encoded
 * (printable ASCII, no blank, '?' or '#'); amz_date must have the form
 * YYYYMMDDTHHMMSSZ; region, service and access_key_id must be non-empty
 * printable ASCII without '/', ',' or blanks.
 */
extern int	sigv4_sign(const SigV4Input *in, SigV4Output *out);

/* Release what sigv4_sign put into *out. */
extern void sigv4_output_free(SigV4Output *out);

#endif							/* BEDLOG_SIGV4_H */
