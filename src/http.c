/*-------------------------------------------------------------------------
 *
 * http.c
 *		The libcurl settings every request of the extension shares.
 *
 * Design notes.  Two files send HTTP requests: s3_client.c (S3, on
 * libcurl's multi interface) and credentials.c (the endpoints that give
 * the server process's AWS identity, with short blocking requests).  Both
 * start every easy handle from bedlog_curl_defaults, so that what keeps a
 * backend safe holds for each request whoever sends it: no signals,
 * HTTP(S) only, no redirects, TLS peer and host verified, and a progress
 * callback that aborts the transfer when PostgreSQL wants the backend to
 * stop.  libcurl's global state is set up here too, once, from _PG_init.
 * This file sits below both of its users and calls neither.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>
#include <fcntl.h>

#include "miscadmin.h"

#include "bedlog_fdw.h"

static bool curl_initialized = false;

/*
 * Initialise libcurl once per backend, from _PG_init.  curl_global_init is
 * not thread-safe and must precede every other curl call.
 */
void
bedlog_http_global_init(void)
{
	if (curl_initialized)
		return;
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not initialize libcurl")));
	curl_initialized = true;
}

/*
 * curl progress callback: abort the transfer when PostgreSQL wants this
 * backend to stop; the caller then lets CHECK_FOR_INTERRUPTS raise.
 */
static int
progress_cb(void *clientp, curl_off_t dltotal, curl_off_t dlnow,
			curl_off_t ultotal, curl_off_t ulnow)
{
	return (QueryCancelPending || ProcDiePending) ? 1 : 0;
}

/*
 * curl socket option callback: close-on-exec, so that a program the
 * backend starts (COPY ... TO PROGRAM, an untrusted language) does not
 * inherit S3 connections, which the backend keeps between queries
 * (connection.c) and libcurl opens without the flag.  Never raises.
 */
static int
sockopt_cb(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
	int			flags = fcntl(fd, F_GETFD);

	if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
		return CURL_SOCKOPT_ERROR;
	return CURL_SOCKOPT_OK;
}

/*
 * The options every request of this extension shares, the S3 client's and
 * the credentials' (credentials.c): no signals, HTTP(S) only, no
 * redirects, TLS peer and host verified, our user agent, sockets closed on
 * exec, and the progress callback that answers cancel.  Returns false when libcurl refused one.
 * Never raises.
 */
bool
bedlog_curl_defaults(void *handle)
{
	CURL	   *easy = (CURL *) handle;

	return curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
#if LIBCURL_VERSION_NUM >= 0x075500
		curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
#else
		curl_easy_setopt(easy, CURLOPT_PROTOCOLS,
						 (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS)) == CURLE_OK &&
#endif
		curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_USERAGENT, BEDLOG_USER_AGENT) == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_SOCKOPTFUNCTION, sockopt_cb) == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L) == CURLE_OK &&
		curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, progress_cb) == CURLE_OK;
}
