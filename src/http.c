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
 * The retry policy the clients share is here too: which transfer failures
 * are transient, and the wait between attempts.  s3_client.c and
 * cwlogs.c (CloudWatch Logs) each add what their service answers when it
 * throttles.  This file sits below its users and calls none of them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>
#include <fcntl.h>

#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/timestamp.h"

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

/*
 * Is a transfer that libcurl ended with rc (not CURLE_OK) worth another
 * attempt?  Connection failures, timeouts and cut-short answers are; a
 * bad URL, TLS verification or a callback's abort are not.
 */
bool
bedlog_http_transient(int rc)
{
	switch ((CURLcode) rc)
	{
		case CURLE_COULDNT_CONNECT:
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_RECV_ERROR:
		case CURLE_SEND_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
			return true;
		default:
			return false;
	}
}

/*
 * Wait before attempt number attempts + 1: exponential backoff with full
 * jitter (0.1 s doubling, at most 10 s).  The wait answers cancel and
 * termination at once.
 */
void
bedlog_http_backoff(int attempts)
{
	long		cap_ms = Min(100L << Min(attempts - 1, 10), 10000L);
	long		wait_ms = (long) (random() % (cap_ms + 1));
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), wait_ms);

	for (;;)
	{
		long		left = (long) ((until - GetCurrentTimestamp()) / 1000);

		CHECK_FOR_INTERRUPTS();
		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, bedlog_wait_event(BEDLOG_WAIT_S3));
		ResetLatch(MyLatch);
	}
}

/* " Gave up after N attempts." after retries, else "": for errdetail. */
const char *
bedlog_http_attempts_note(int attempts)
{
	return attempts > 1 ?
		psprintf(" Gave up after %d attempts.", attempts) : "";
}
