/*-------------------------------------------------------------------------
 *
 * credentials.c
 *		Where the keys that sign a request come from: the user mapping, or,
 *		where a superuser allowed it, the server process's own AWS identity.
 *
 * Design notes.  The user mapping's keys always win.  Without them, and
 * only on a server whose superuser-only option use_instance_credentials is
 * on, the chain of the AWS SDKs is followed, in their order: the
 * environment variables of the server process, the shared credentials file
 * and profile, the ECS/EKS container credentials endpoint, and EC2
 * instance metadata (IMDSv2).  The first source that has credentials
 * gives them; a source that is configured but fails raises an error that
 * names it.  Without keys and without the option, requests stay unsigned,
 * as they always were.  A user can therefore never reach the server's
 * identity unless a superuser turned it on for that server (and whoever
 * has USAGE on such a server uses it).
 *
 * After the environment comes a web identity (EKS IRSA): the token file
 * named by AWS_WEB_IDENTITY_TOKEN_FILE, read again at every fetch because
 * Kubernetes rotates it, exchanged at STS for AWS_ROLE_ARN's keys with an
 * unsigned AssumeRoleWithWebIdentity.
 *
 * A user mapping's role_arn puts a role on top of whatever keys were
 * found (the mapping's, or the chain's): they sign an STS AssumeRole, and
 * the role's temporary keys sign the S3 requests.  Those are cached per
 * STS endpoint, role, external ID, session name, duration and calling
 * identity, and refreshed like the chain's.  STS is asked at the server's
 * sts_endpoint (superuser-only; by default the region's), with the same
 * blocking requests as the metadata endpoints.  Its refusals name the
 * role, the caller's source and access key ID, and STS's Code and
 * Message, shown safely; hints say what to check (trust policy, external
 * ID, session duration, an expired web identity token).
 *
 * The shared files are read as the AWS CLI reads them: the profile
 * aws_profile (a server option), else AWS_PROFILE, else default, of the
 * credentials file and the config file.  A profile may give keys, or
 * name a role with the keys of its source_profile (roles chain; a loop
 * is an error) or of a credential_source, or a web identity token file,
 * or a credential_process: a program run as the server's OS user, so
 * only on a server whose superuser-only allow_credential_process is on,
 * without a shell, within a time limit, its output never shown.  An
 * explicit aws_profile skips the environment variables, as an explicitly
 * chosen profile does in the SDKs; a profile neither file has passes on
 * to the next source.
 *
 * What the chain found is cached in TopMemoryContext for the life of the
 * backend, one entry per aws_profile.  Temporary credentials (container,
 * instance metadata) are fetched again some minutes before their
 * Expiration (five, or half their remaining life if that is shorter); the
 * S3 client asks for the current credentials before signing each request,
 * so a long scan switches to fresh keys between requests.  Replaced keys
 * are wiped with explicit_bzero.  If a refresh fails while the old keys
 * are still valid, they are used and the refresh is tried again later.
 *
 * The metadata endpoints are asked with short blocking libcurl requests
 * (one second to connect), never through a proxy, and a query cancel
 * aborts them from the progress callback.  Their answers are parsed with
 * jansson; no message here quotes an answer, a header, a token or a key:
 * errors say which source failed and why (an HTTP status, a missing
 * field, libcurl's words about the connection).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>
#include <jansson.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/timestamp.h"
#include "utils/memutils.h"

#include "bedlog_fdw.h"
#include "sigv4.h"

#define CRED_REFRESH_MARGIN		300 /* seconds before Expiration */
#define CRED_RETRY_SECONDS		10	/* after a failed refresh of valid keys */
#define CRED_CACHE_SIZE			8	/* aws_profile values cached at once */
#define META_CONNECT_MS			1000	/* a host that is not on AWS: fail fast */
#define IMDS_TIMEOUT_MS			3000
#define CONTAINER_TIMEOUT_MS	5000
#define CONTAINER_ATTEMPTS		2
#define META_BODY_MAX			(64 * 1024)
#define IMDS_DEFAULT_ENDPOINT	"http://169.254.169.254"
#define CONTAINER_HOST			"http://169.254.170.2"
#define IMDS_TOKEN_TTL			"21600"
#define STS_TIMEOUT_MS			15000

/* What a source made of its attempt. */
typedef enum FetchResult
{
	FETCH_FOUND,				/* credentials */
	FETCH_ABSENT,				/* not configured here: try the next source */
	FETCH_FAILED				/* configured, but failed: an error */
} FetchResult;

/* Credentials as a source returns them (palloc'd; wiped by the caller). */
typedef struct Fetched
{
	char	   *access_key_id;
	char	   *secret_access_key;
	char	   *session_token;	/* NULL if none */
	time_t		expiration;		/* 0: they do not expire */
	const char *source;			/* name of the source */
	const char *hint;			/* on failure, what to check, or NULL */
} Fetched;

/* A cached result of the chain, in TopMemoryContext. */
typedef struct CachedCredentials
{
	bool		in_use;
	char	   *profile;		/* aws_profile it was resolved for, or NULL */
	BedlogCredentials creds;	/* strings in TopMemoryContext */
	time_t		expiration;		/* 0: static credentials */
	time_t		refresh_at;		/* fetch again from this time on */
} CachedCredentials;

/* The response to a metadata request (malloc'd by the curl callback). */
typedef struct MetaResponse
{
	char	   *body;
	size_t		len;
	size_t		cap;
	bool		too_big;		/* more than META_BODY_MAX bytes */
	bool		alloc_failed;
} MetaResponse;

static const char SRC_ENV[] = "environment variables";
static const char SRC_WEB_IDENTITY[] = "web identity token file";
static const char SRC_FILE[] = "shared config and credentials files";
static const char SRC_CONTAINER[] = "container credentials endpoint";
static const char SRC_IMDS[] = "EC2 instance metadata";

static void fetched_free(Fetched *f);

static CachedCredentials cache[CRED_CACHE_SIZE];	/* the chain's, per profile */
static CachedCredentials role_cache[CRED_CACHE_SIZE];	/* assumed roles */

/* Wipe and free a palloc'd string; NULL is fine. */
static void
wipe_pfree(char *s)
{
	if (s)
	{
		explicit_bzero(s, strlen(s));
		pfree(s);
	}
}

/* Wipe and free a malloc'd response body. */
static void
response_free(MetaResponse *r)
{
	if (r->body)
	{
		explicit_bzero(r->body, r->cap);
		free(r->body);
	}
	memset(r, 0, sizeof(*r));
}

/* The value of environment variable name, or NULL when unset or empty. */
static const char *
env_value(const char *name)
{
	const char *v = getenv(name);

	return (v && v[0]) ? v : NULL;
}

/* curl write callback: collect the body, up to META_BODY_MAX.  Never raises. */
static size_t
meta_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	MetaResponse *r = (MetaResponse *) userdata;
	size_t		n = size * nmemb;

	if (r->len + n > META_BODY_MAX)
	{
		r->too_big = true;
		return 0;
	}
	if (r->len + n + 1 > r->cap)
	{
		size_t		cap = Max(r->cap * 2, r->len + n + 1);
		char	   *nb;

		cap = Max(cap, 1024);
		nb = malloc(cap);
		if (nb == NULL)
		{
			r->alloc_failed = true;
			return 0;
		}
		if (r->body)
		{
			memcpy(nb, r->body, r->len);
			explicit_bzero(r->body, r->cap);
			free(r->body);
		}
		r->body = nb;
		r->cap = cap;
	}
	memcpy(r->body + r->len, ptr, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/*
 * One blocking HTTP request to a metadata endpoint.  header is one header
 * line ("Name: value") or NULL.  Returns the HTTP status with the body in
 * *resp (the caller calls response_free), or 0 when no answer came, with
 * libcurl's reason in why.  A query cancel or termination is raised here,
 * after everything is released.
 */
static long
meta_request(const char *method, const char *url, const char *const *hdrs,
			 const char *body, const char *ca_bundle, long connect_ms,
			 long timeout_ms, MetaResponse *resp, StringInfo why)
{
	CURL	   *easy;
	struct curl_slist *headers = NULL;
	char		errbuf[CURL_ERROR_SIZE];
	CURLcode	rc = CURLE_OK;
	long		status = 0;
	bool		ok = true;

	memset(resp, 0, sizeof(*resp));
	errbuf[0] = '\0';
	easy = curl_easy_init();
	if (easy == NULL)
	{
		appendStringInfoString(why, "could not create a libcurl handle");
		return 0;
	}
	for (; ok && hdrs && *hdrs; hdrs++)
	{
		struct curl_slist *l = curl_slist_append(headers, *hdrs);

		ok = (l != NULL);
		if (l)
			headers = l;
	}
	/* "Expect:" and an empty body for the token PUT */
	if (ok && strcmp(method, "PUT") == 0)
	{
		struct curl_slist *l = curl_slist_append(headers, "Content-Length: 0");

		ok = (l != NULL);
		if (l)
			headers = l;
	}
	ok = ok && bedlog_curl_defaults(easy);
	ok = ok && curl_easy_setopt(easy, CURLOPT_URL, url) == CURLE_OK;
	ok = ok && curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method) == CURLE_OK;
	ok = ok && curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK;
	/* credentials never go through a proxy named in the environment */
	ok = ok && curl_easy_setopt(easy, CURLOPT_NOPROXY, "*") == CURLE_OK;
	ok = ok && curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) == CURLE_OK;
	if (body)
	{
		ok = ok && curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body) == CURLE_OK;
		ok = ok && curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long) strlen(body)) == CURLE_OK;
	}
	if (ca_bundle)
		ok = ok && curl_easy_setopt(easy, CURLOPT_CAINFO, ca_bundle) == CURLE_OK;
	ok = ok && curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK;
	ok = ok && curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers) == CURLE_OK;
	ok = ok && curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, meta_write_cb) == CURLE_OK;
	ok = ok && curl_easy_setopt(easy, CURLOPT_WRITEDATA, resp) == CURLE_OK;
	if (ok)
	{
		/* a blocking request: say so in pg_stat_activity while it runs */
		pgstat_report_wait_start(bedlog_wait_event(BEDLOG_WAIT_CREDENTIALS));
		rc = curl_easy_perform(easy);
		pgstat_report_wait_end();
		if (rc == CURLE_OK)
			curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		else if (rc == CURLE_ABORTED_BY_CALLBACK && !resp->too_big && !resp->alloc_failed)
			;					/* handled below */
		else if (resp->too_big)
			appendStringInfo(why, "the answer is larger than %d bytes", META_BODY_MAX);
		else if (resp->alloc_failed)
			appendStringInfoString(why, "out of memory");
		else
			appendStringInfo(why, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
	else
		appendStringInfoString(why, "could not set up a libcurl request");
	curl_easy_cleanup(easy);
	curl_slist_free_all(headers);

	if (rc == CURLE_ABORTED_BY_CALLBACK && !resp->too_big && !resp->alloc_failed)
	{
		response_free(resp);
		CHECK_FOR_INTERRUPTS();
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("request for AWS credentials was cancelled")));
	}
	if (status == 0)
		response_free(resp);
	return status;
}

/*
 * Parse an ISO 8601 UTC time ("2024-05-01T12:34:56Z", fractions allowed)
 * into *t.  Returns false if it is not one.
 */
static bool
parse_expiration(const char *s, time_t *t)
{
	struct tm	tm;
	int			n = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
			   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return false;
	s += n;
	if (*s == '.')
	{
		s++;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (strcmp(s, "Z") != 0 && strcmp(s, "+00:00") != 0 && *s != '\0')
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*t = timegm(&tm);
	return *t != (time_t) -1;
}

/* A string member of obj, or NULL. */
static const char *
json_member(json_t *obj, const char *name)
{
	json_t	   *v = json_object_get(obj, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/*
 * Read the JSON credentials answer of the container endpoint or instance
 * metadata into *f.  Returns false with the reason in why (which never
 * quotes the answer).
 */
static bool
parse_credentials_json(const MetaResponse *resp, Fetched *f, StringInfo why)
{
	json_t	   *root;
	json_error_t jerr;
	bool		ok = false;

	root = json_loadb(resp->body ? resp->body : "", resp->len, 0, &jerr);
	if (root == NULL || !json_is_object(root))
	{
		appendStringInfoString(why, "the answer is not a JSON object");
		if (root)
			json_decref(root);
		return false;
	}
	PG_TRY();
	{
		const char *code = json_member(root, "Code");
		const char *ak = json_member(root, "AccessKeyId");
		const char *sk = json_member(root, "SecretAccessKey");
		const char *tok = json_member(root, "Token");
		const char *exp = json_member(root, "Expiration");

		if (code && strcmp(code, "Success") != 0)
		{
			const char *p;

			appendStringInfoString(why, "the answer's Code is \"");
			for (p = code; *p && p - code < 64; p++)
				appendStringInfoChar(why, isalnum((unsigned char) *p) ? *p : '?');
			appendStringInfoString(why, "\", not \"Success\"");
		}
		else if (ak == NULL || ak[0] == '\0')
			appendStringInfoString(why, "the answer lacks AccessKeyId");
		else if (sk == NULL || sk[0] == '\0')
			appendStringInfoString(why, "the answer lacks SecretAccessKey");
		else if (exp && !parse_expiration(exp, &f->expiration))
			appendStringInfoString(why, "the answer's Expiration is not an ISO 8601 time");
		else
		{
			f->access_key_id = pstrdup(ak);
			f->secret_access_key = pstrdup(sk);
			f->session_token = (tok && tok[0]) ? pstrdup(tok) : NULL;
			/* without an Expiration, ask again in a quarter of an hour */
			if (exp == NULL)
				f->expiration = time(NULL) + 3 * CRED_REFRESH_MARGIN;
			ok = true;
		}
	}
	PG_FINALLY();
	{
		json_decref(root);
	}
	PG_END_TRY();
	return ok;
}

/* parse_credentials_json of resp, which is freed whatever happens */
static FetchResult
parse_and_free(MetaResponse *resp, Fetched *f, StringInfo why)
{
	bool		ok;

	PG_TRY();
	{
		ok = parse_credentials_json(resp, f, why);
	}
	PG_FINALLY();
	{
		response_free(resp);
	}
	PG_END_TRY();
	return ok ? FETCH_FOUND : FETCH_FAILED;
}

/* Source 1: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. */
static FetchResult
from_environment(const BedlogOptions *opts, Fetched *f, StringInfo why)
{
	const char *ak = env_value("AWS_ACCESS_KEY_ID");
	const char *sk = env_value("AWS_SECRET_ACCESS_KEY");
	const char *tok = env_value("AWS_SESSION_TOKEN");

	if (tok == NULL)
		tok = env_value("AWS_SECURITY_TOKEN");
	if (ak == NULL && sk == NULL)
	{
		appendStringInfoString(why, "AWS_ACCESS_KEY_ID is not set");
		return FETCH_ABSENT;
	}
	if (ak == NULL || sk == NULL)
	{
		appendStringInfo(why, "%s is set but %s is not",
						 ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
						 ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		return FETCH_FAILED;
	}
	f->access_key_id = pstrdup(ak);
	f->secret_access_key = pstrdup(sk);
	f->session_token = tok ? pstrdup(tok) : NULL;
	f->expiration = 0;
	return FETCH_FOUND;
}

/*
 * The path of a shared file (palloc'd): the environment variable var, else
 * name in ~/.aws of the server's OS user.
 */
static char *
shared_file_path(const char *var, const char *name)
{
	const char *p = env_value(var);
	const char *home;

	if (p)
		return pstrdup(p);
	home = env_value("HOME");
	if (home == NULL)
	{
		struct passwd *pw = getpwuid(geteuid());

		home = pw ? pw->pw_dir : "";
	}
	return psprintf("%s/.aws/%s", home, name);
}

/*
 * Read the file at path, at most max bytes, into one palloc'd buffer with
 * a NUL after its *len bytes: no stdio buffer and no growing copy, so the
 * caller's wipe reaches every copy of the secrets it holds.  Returns NULL
 * with errno set when the file cannot be opened or read.
 */
static char *
read_secret_file(const char *path, size_t max, size_t *len)
{
	int			fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	struct stat st;
	char	   *buf;
	size_t		cap;
	size_t		got = 0;
	int			save_errno;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0)
		goto fail_closed;
	cap = Min((size_t) st.st_size, max);
	buf = palloc(cap + 1);
	while (got < cap)
	{
		ssize_t		n = read(fd, buf + got, cap - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			save_errno = errno;
			explicit_bzero(buf, cap);
			pfree(buf);
			CloseTransientFile(fd);
			errno = save_errno;
			return NULL;
		}
		if (n == 0)
			break;
		got += n;
	}
	CloseTransientFile(fd);
	buf[got] = '\0';
	*len = got;
	return buf;

fail_closed:
	save_errno = errno;
	CloseTransientFile(fd);
	errno = save_errno;
	return NULL;
}

/*
 * Is url one the container source may use: https to any host, or http to
 * a loopback address or the ECS and EKS agents' link-local addresses (as
 * the SDKs require)?  No user name or password in it.
 */
static bool
container_url_ok(const char *url)
{
	const char *host;
	const char *end;
	size_t		len;
	static const char *const allowed[] = {
		"localhost", "[::1]", "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]", NULL
	};
	int			i;

	if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else
		return false;
	end = host + strcspn(host, "/?#");
	if (memchr(host, '@', end - host) != NULL || end == host)
		return false;
	if (url[4] == 's')
		return true;
	if (*host == '[')
	{
		const char *close = memchr(host, ']', end - host);

		if (close == NULL)
			return false;
		len = close + 1 - host;
	}
	else
		len = strcspn(host, ":/?#");
	for (i = 0; allowed[i]; i++)
	{
		if (strlen(allowed[i]) == len && pg_strncasecmp(host, allowed[i], len) == 0)
			return true;
	}
	/* 127.0.0.0/8 */
	if (len >= 9 && strncmp(host, "127.", 4) == 0 &&
		strspn(host, "0123456789.") == len)
		return true;
	return false;
}

/*
 * The Authorization value for the container endpoint, palloc'd, or NULL
 * when none is configured: the file named by
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (EKS Pod Identity), else
 * AWS_CONTAINER_AUTHORIZATION_TOKEN.  Returns false with a reason in why
 * when the token cannot be read or could break its header line.
 */
static bool
container_token(char **token, StringInfo why)
{
	const char *file = env_value("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *p;

	*token = NULL;
	if (file)
	{
		size_t		len;
		char	   *t = read_secret_file(file, 16384, &len);

		if (t == NULL)
		{
			appendStringInfo(why, "could not read the file named by AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, \"%s\": %m", file);
			return false;
		}
		while (len > 0 && (t[len - 1] == '\n' || t[len - 1] == '\r' || t[len - 1] == ' '))
			t[--len] = '\0';
		*token = t;
	}
	else if ((p = env_value("AWS_CONTAINER_AUTHORIZATION_TOKEN")) != NULL)
		*token = pstrdup(p);
	if (*token)
	{
		for (p = *token; *p; p++)
		{
			if ((unsigned char) *p < 0x20 || *p == 0x7f)
			{
				appendStringInfoString(why, "the authorization token holds control characters");
				wipe_pfree(*token);
				*token = NULL;
				return false;
			}
		}
	}
	return true;
}

/*
 * Source 3: the container credentials endpoint of ECS
 * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, on 169.254.170.2) or of EKS Pod
 * Identity and others (AWS_CONTAINER_CREDENTIALS_FULL_URI, with a token).
 */
static FetchResult
from_container(const BedlogOptions *opts, Fetched *f, StringInfo why)
{
	const char *rel = env_value("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env_value("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	char	   *url;
	char	   *token;
	char	   *header = NULL;
	const char *hdrs[2] = {NULL, NULL};
	MetaResponse resp;
	long		status = 0;
	int			attempt;

	if (rel)
	{
		if (rel[0] != '/')
		{
			appendStringInfoString(why, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI does not start with \"/\"");
			return FETCH_FAILED;
		}
		url = psprintf("%s%s", CONTAINER_HOST, rel);
	}
	else if (full)
	{
		if (!container_url_ok(full))
		{
			appendStringInfoString(why, "AWS_CONTAINER_CREDENTIALS_FULL_URI must be an https URL, or an http URL of a loopback address or of the ECS or EKS agent");
			return FETCH_FAILED;
		}
		url = pstrdup(full);
	}
	else
	{
		appendStringInfoString(why, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set");
		return FETCH_ABSENT;
	}
	if (!container_token(&token, why))
		return FETCH_FAILED;
	if (token)
	{
		header = psprintf("Authorization: %s", token);
		hdrs[0] = header;
		wipe_pfree(token);
	}

	for (attempt = 1; attempt <= CONTAINER_ATTEMPTS; attempt++)
	{
		resetStringInfo(why);
		status = meta_request("GET", url, hdrs, NULL, NULL, META_CONNECT_MS,
							  CONTAINER_TIMEOUT_MS, &resp, why);
		if (status != 0 && status < 500)
			break;
		if (status != 0)
			response_free(&resp);
	}
	wipe_pfree(header);
	pfree(url);
	if (status == 0)
		return FETCH_FAILED;
	if (status != 200)
	{
		resetStringInfo(why);
		appendStringInfo(why, "the endpoint answered HTTP status %ld", status);
		response_free(&resp);
		return FETCH_FAILED;
	}
	return parse_and_free(&resp, f, why);
}

/*
 * Source 4: EC2 instance metadata, IMDSv2 only: a session token from PUT
 * /latest/api/token, then the role name and the role's credentials.  Not
 * reachable (not on EC2) passes on; AWS_EC2_METADATA_DISABLED=true skips
 * it; AWS_EC2_METADATA_SERVICE_ENDPOINT replaces http://169.254.169.254.
 */
static FetchResult
from_instance_metadata(const BedlogOptions *opts, Fetched *f, StringInfo why)
{
	const char *disabled = env_value("AWS_EC2_METADATA_DISABLED");
	const char *endpoint = env_value("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	char	   *base;
	char	   *url;
	char	   *header;
	const char *hdrs[2] = {NULL, NULL};
	char	   *role;
	MetaResponse resp;
	long		status;
	size_t		len;

	if (disabled && pg_strcasecmp(disabled, "true") == 0)
	{
		appendStringInfoString(why, "disabled by AWS_EC2_METADATA_DISABLED");
		return FETCH_ABSENT;
	}
	base = pstrdup(endpoint ? endpoint : IMDS_DEFAULT_ENDPOINT);
	len = strlen(base);
	while (len > 0 && base[len - 1] == '/')
		base[--len] = '\0';
	if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0)
	{
		appendStringInfoString(why, "AWS_EC2_METADATA_SERVICE_ENDPOINT is not an http or https URL");
		return FETCH_FAILED;
	}

	/* the session token */
	url = psprintf("%s/latest/api/token", base);
	hdrs[0] = "X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL;
	status = meta_request("PUT", url, hdrs, NULL, NULL, META_CONNECT_MS,
						  IMDS_TIMEOUT_MS, &resp, why);
	pfree(url);
	if (status == 0)
	{
		/* nothing answers: not on EC2, or metadata is unreachable */
		char	   *reason = pstrdup(why->data);

		resetStringInfo(why);
		appendStringInfo(why, "not reachable (%s)", reason);
		return FETCH_ABSENT;
	}
	if (status != 200 || resp.len == 0 || resp.len > 1024 ||
		strspn(resp.body, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-.") != resp.len)
	{
		if (status != 200)
			appendStringInfo(why, "the token request (IMDSv2) was answered with HTTP status %ld", status);
		else
			appendStringInfoString(why, "the token answer is not a token");
		response_free(&resp);
		return FETCH_FAILED;
	}
	header = psprintf("X-aws-ec2-metadata-token: %s", resp.body);
	hdrs[0] = header;
	response_free(&resp);

	/* the role */
	url = psprintf("%s/latest/meta-data/iam/security-credentials/", base);
	status = meta_request("GET", url, hdrs, NULL, NULL, META_CONNECT_MS,
						  IMDS_TIMEOUT_MS, &resp, why);
	pfree(url);
	if (status == 404)
	{
		appendStringInfoString(why, "no IAM role is attached to the instance");
		response_free(&resp);
		wipe_pfree(header);
		return FETCH_ABSENT;
	}
	if (status != 200)
	{
		if (status != 0)
			appendStringInfo(why, "the role request was answered with HTTP status %ld", status);
		response_free(&resp);
		wipe_pfree(header);
		return FETCH_FAILED;
	}
	len = resp.body ? strcspn(resp.body, "\r\n") : 0;
	if (len == 0 || len > 128 ||
		strspn(resp.body, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+=,.@_-") < len)
	{
		appendStringInfoString(why, "the role answer is not an IAM role name");
		response_free(&resp);
		wipe_pfree(header);
		return FETCH_FAILED;
	}
	role = pnstrdup(resp.body, len);
	response_free(&resp);

	/* the role's credentials */
	url = psprintf("%s/latest/meta-data/iam/security-credentials/%s", base, role);
	status = meta_request("GET", url, hdrs, NULL, NULL, META_CONNECT_MS,
						  IMDS_TIMEOUT_MS, &resp, why);
	pfree(url);
	wipe_pfree(header);
	if (status != 200)
	{
		if (status != 0)
			appendStringInfo(why, "the credentials request for role \"%s\" was answered with HTTP status %ld",
							 role, status);
		response_free(&resp);
		return FETCH_FAILED;
	}
	return parse_and_free(&resp, f, why);
}

/*
 * STS.  The Query protocol: a form-encoded POST to the endpoint's "/"
 * (Action, Version and the call's parameters), SigV4-signed with service
 * "sts" in the server's region, or unsigned for AssumeRoleWithWebIdentity,
 * whose token is the proof.  The answer is a small XML document written
 * by STS, read here with a few string searches rather than a parser, so
 * that the one buffer that held the keys is the one that is wiped.
 */

/* One STS call. */
typedef struct StsCall
{
	const char *action;			/* "AssumeRole", "AssumeRoleWithWebIdentity" */
	const char *role_arn;
	const char *session_name;
	const char *external_id;	/* NULL: none */
	const char *web_token;		/* AssumeRoleWithWebIdentity's */
	int			duration;		/* seconds; 0: STS's default */
} StsCall;

/* Append "&name=value", value form-encoded (RFC 3986, as SigV4 does). */
static void
form_add(StringInfo body, const char *name, const char *value)
{
	char	   *enc = sigv4_uri_encode(value, strlen(value), 1);

	if (enc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	appendStringInfo(body, "%s%s=%s", body->len > 0 ? "&" : "", name, enc);
	explicit_bzero(enc, strlen(enc));
	free(enc);
}

/*
 * The inner text of the first element name between s and e, as
 * [*inner, *inner_end), or false.  No namespace prefixes: STS writes none.
 */
static bool
xml_find(const char *s, const char *e, const char *name,
		 const char **inner, const char **inner_end)
{
	size_t		nlen = strlen(name);
	const char *p = s;

	while (p < e && (p = memchr(p, '<', e - p)) != NULL)
	{
		p++;
		if ((size_t) (e - p) > nlen && strncmp(p, name, nlen) == 0 &&
			(p[nlen] == '>' || p[nlen] == ' ' || p[nlen] == '\t' ||
			 p[nlen] == '\n' || p[nlen] == '\r'))
		{
			const char *gt = memchr(p, '>', e - p);
			const char *q;

			if (gt == NULL || gt[-1] == '/')
				return false;
			for (q = gt + 1; q < e && (q = memchr(q, '<', e - q)) != NULL; q++)
			{
				if ((size_t) (e - q) >= nlen + 3 && q[1] == '/' &&
					strncmp(q + 2, name, nlen) == 0 && q[2 + nlen] == '>')
				{
					*inner = gt + 1;
					*inner_end = q;
					return true;
				}
			}
			return false;
		}
	}
	return false;
}

/*
 * The text of [s, e) with XML's five entities and character references
 * decoded (palloc'd); NULL if it holds markup.
 */
static char *
xml_text(const char *s, const char *e)
{
	char	   *out = palloc(e - s + 1);
	char	   *o = out;

	while (s < e)
	{
		if (*s == '<')
		{
			explicit_bzero(out, o - out);
			pfree(out);
			return NULL;
		}
		if (*s == '&')
		{
			static const struct
			{
				const char *ent;
				char		c;
			}			ents[] = {
				{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}
			};
			int			i;
			bool		done = false;

			for (i = 0; i < lengthof(ents); i++)
			{
				size_t		l = strlen(ents[i].ent);

				if ((size_t) (e - s) >= l && strncmp(s, ents[i].ent, l) == 0)
				{
					*o++ = ents[i].c;
					s += l;
					done = true;
					break;
				}
			}
			if (!done && e - s > 3 && s[1] == '#')
			{
				const char *semi = memchr(s, ';', e - s);
				long		c = semi ? (s[2] == 'x' ? strtol(s + 3, NULL, 16) : strtol(s + 2, NULL, 10)) : 0;

				/* ASCII only: nothing STS writes needs more */
				if (semi && c > 0 && c < 128)
				{
					*o++ = (char) c;
					s = semi + 1;
					done = true;
				}
			}
			if (!done)
				*o++ = *s++;
			continue;
		}
		*o++ = *s++;
	}
	*o = '\0';
	return out;
}

/*
 * The text of element name between s and e, made safe to show: printable
 * ASCII, at most max bytes, '?' for anything else; NULL if absent.
 */
static char *
xml_shown(const char *s, const char *e, const char *name, int max)
{
	const char *in;
	const char *in_end;
	char	   *t;
	char	   *p;

	if (!xml_find(s, e, name, &in, &in_end) || (t = xml_text(in, in_end)) == NULL)
		return NULL;
	for (p = t; *p; p++)
	{
		if ((unsigned char) *p < 0x20 || (unsigned char) *p > 0x7e)
			*p = '?';
	}
	if ((int) strlen(t) > max)
		strcpy(t + max - 3, "...");
	return t;
}

/*
 * Call STS for credentials: signed with signer, or unsigned when signer is
 * NULL.  FETCH_FOUND with *f filled, or FETCH_FAILED with the reason in
 * why and STS's error Code (palloc'd, shown safely) in *code when it gave
 * one.  Neither why nor *code ever holds a key, a token or the request.
 */
static FetchResult
sts_call(const BedlogOptions *opts, const StsCall *call,
		 const BedlogCredentials *signer, Fetched *f, char **code,
		 StringInfo why)
{
	StringInfoData body;
	const char *host;
	char		amz_date[17];
	char		payload_hash[65];
	const char *hdrs[8];
	char	   *to_wipe[3] = {NULL, NULL, NULL};
	int			nh = 0;
	int			i;
	char	   *url;
	MetaResponse resp;
	long		status;
	FetchResult result = FETCH_FAILED;
	const char *e;
	const char *in;
	const char *in_end;

	*code = NULL;
	initStringInfo(&body);
	form_add(&body, "Action", call->action);
	form_add(&body, "Version", "2011-06-15");
	form_add(&body, "RoleArn", call->role_arn);
	form_add(&body, "RoleSessionName", call->session_name);
	if (call->duration > 0)
	{
		char		d[16];

		snprintf(d, sizeof(d), "%d", call->duration);
		form_add(&body, "DurationSeconds", d);
	}
	if (call->external_id)
		form_add(&body, "ExternalId", call->external_id);
	if (call->web_token)
		form_add(&body, "WebIdentityToken", call->web_token);

	host = opts->sts_endpoint + (strncmp(opts->sts_endpoint, "https://", 8) == 0 ? 8 : 7);
	sigv4_amz_date((long long) time(NULL), amz_date);
	hdrs[nh++] = "Content-Type: application/x-www-form-urlencoded; charset=utf-8";
	hdrs[nh++] = "Accept: text/xml";
	hdrs[nh++] = "Expect:";
	hdrs[nh++] = to_wipe[0] = psprintf("Host: %s", host);
	hdrs[nh++] = to_wipe[1] = psprintf("X-Amz-Date: %s", amz_date);
	if (signer)
	{
		SigV4Header extra[1] = {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"}};
		SigV4Input sin;
		SigV4Output out;

		sigv4_sha256_hex(body.data, body.len, payload_hash);
		memset(&sin, 0, sizeof(sin));
		sin.method = "POST";
		sin.host = host;
		sin.canonical_uri = "/";
		sin.headers = extra;
		sin.nheaders = 1;
		sin.payload_hash = payload_hash;
		sin.amz_date = amz_date;
		sin.region = opts->aws_region;
		sin.service = "sts";
		sin.access_key_id = signer->access_key_id;
		sin.secret_access_key = signer->secret_access_key;
		sin.session_token = signer->session_token;
		if (sigv4_sign(&sin, &out) != 0)
		{
			explicit_bzero(body.data, body.len);
			pfree(body.data);
			appendStringInfoString(why, "the request could not be signed");
			return FETCH_FAILED;
		}
		hdrs[nh++] = to_wipe[2] = psprintf("Authorization: %s", out.authorization);
		explicit_bzero(out.authorization, strlen(out.authorization));
		sigv4_output_free(&out);
		if (signer->session_token && signer->session_token[0])
			hdrs[nh++] = psprintf("X-Amz-Security-Token: %s", signer->session_token);
	}
	hdrs[nh] = NULL;
	url = psprintf("%s/", opts->sts_endpoint);

	PG_TRY();
	{
		status = meta_request("POST", url, hdrs, body.data, opts->ca_bundle,
							  (long) opts->connect_timeout * 1000L, STS_TIMEOUT_MS,
							  &resp, why);
	}
	PG_FINALLY();
	{
		explicit_bzero(body.data, body.len);
		pfree(body.data);
		for (i = 0; i < nh; i++)
		{
			if (strncmp(hdrs[i], "Authorization:", 14) == 0 ||
				strncmp(hdrs[i], "X-Amz-Security-Token:", 21) == 0)
				wipe_pfree((char *) hdrs[i]);
		}
		if (to_wipe[0])
			pfree(to_wipe[0]);
		if (to_wipe[1])
			pfree(to_wipe[1]);
		pfree(url);
	}
	PG_END_TRY();

	if (status == 0)
		return FETCH_FAILED;
	e = resp.body ? resp.body + resp.len : NULL;
	if (status != 200)
	{
		char	   *message = NULL;

		if (e && xml_find(resp.body, e, "Error", &in, &in_end))
		{
			*code = xml_shown(in, in_end, "Code", 64);
			message = xml_shown(in, in_end, "Message", 400);
		}
		appendStringInfo(why, "STS answered HTTP status %ld", status);
		if (*code)
			appendStringInfo(why, ", %s", *code);
		if (message)
		{
			size_t		mlen = strlen(message);

			/* the detail ends the sentence */
			while (mlen > 0 && message[mlen - 1] == '.')
				message[--mlen] = '\0';
			appendStringInfo(why, ": %s", message);
		}
		response_free(&resp);
		return FETCH_FAILED;
	}
	PG_TRY();
	{
		const char *c;
		const char *c_end;
		char	   *vals[4] = {NULL, NULL, NULL, NULL};
		static const char *const names[4] = {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"};

		if (e == NULL || !xml_find(resp.body, e, "Credentials", &c, &c_end))
			appendStringInfoString(why, "the answer of STS holds no Credentials");
		else
		{
			for (i = 0; i < 4; i++)
			{
				if (xml_find(c, c_end, names[i], &in, &in_end))
					vals[i] = xml_text(in, in_end);
				if (vals[i] == NULL || vals[i][0] == '\0')
				{
					appendStringInfo(why, "the answer of STS lacks %s", names[i]);
					break;
				}
			}
			if (i == 4 && !parse_expiration(vals[3], &f->expiration))
				appendStringInfoString(why, "the answer's Expiration is not an ISO 8601 time");
			else if (i == 4)
			{
				f->access_key_id = vals[0];
				f->secret_access_key = vals[1];
				f->session_token = vals[2];
				vals[0] = vals[1] = vals[2] = NULL;
				result = FETCH_FOUND;
			}
			for (i = 0; i < 4; i++)
				wipe_pfree(vals[i]);
		}
	}
	PG_FINALLY();
	{
		response_free(&resp);
	}
	PG_END_TRY();
	return result;
}

/*
 * The hint for STS's refusal code of call, or NULL: what a user can check
 * when a role will not be assumed.
 */
static const char *
sts_hint(const char *code, const StsCall *call, const char *token_file)
{
	if (code == NULL)
		return NULL;
	if (strcmp(code, "AccessDenied") == 0 && call->external_id)
		return "Check that the user mapping's \"external_id\" is the one the role's trust policy requires (its sts:ExternalId condition), and that the policy trusts the identity that called.";
	if (strcmp(code, "AccessDenied") == 0 && call->web_token == NULL)
		return "The role's trust policy must allow this identity sts:AssumeRole; if it requires an external ID (sts:ExternalId), give the user mapping \"external_id\".";
	if (strcmp(code, "AccessDenied") == 0)
		return "The role's trust policy must allow sts:AssumeRoleWithWebIdentity to the token's issuer (the cluster's OIDC provider) and its subject (the service account).";
	if (strcmp(code, "ExpiredTokenException") == 0 && token_file)
		return psprintf("The web identity token in \"%s\" has expired: the file is read again at each refresh, so check that the kubelet still rotates it (the pod's projected service account token).", token_file);
	if (strcmp(code, "InvalidIdentityToken") == 0)
		return "The role's account must have an IAM OIDC identity provider for the token's issuer, with the audience sts.amazonaws.com.";
	if (strcmp(code, "ValidationError") == 0 && call->duration > 3600)
		return "A role session may not last longer than the role's maximum session duration, nor longer than an hour when the caller is itself an assumed role (role chaining); lower \"role_duration\".";
	return NULL;
}

/*
 * AssumeRoleWithWebIdentity of role with the token in file (named_by says
 * who named it, for messages), unsigned: the token is the proof.  The file
 * is read at every call, because Kubernetes rewrites it before the token
 * expires.
 */
static FetchResult
web_identity_call(const BedlogOptions *opts, const char *file,
				  const char *named_by, const char *role, const char *session,
				  Fetched *f, StringInfo why)
{
	StsCall		call;
	char	   *token;
	char	   *code;
	size_t		len;
	FetchResult r;

	token = read_secret_file(file, 64 * 1024, &len);
	if (token == NULL)
	{
		appendStringInfo(why, "could not read the file named by %s, \"%s\": %m", named_by, file);
		return FETCH_FAILED;
	}
	while (len > 0 && (token[len - 1] == '\n' || token[len - 1] == '\r' || token[len - 1] == ' '))
		token[--len] = '\0';
	if (len == 0)
	{
		pfree(token);
		appendStringInfo(why, "the web identity token file \"%s\" is empty", file);
		return FETCH_FAILED;
	}
	memset(&call, 0, sizeof(call));
	call.action = "AssumeRoleWithWebIdentity";
	call.role_arn = role;
	call.session_name = session ? session : psprintf("bedlog_fdw-%ld", (long) time(NULL));
	call.web_token = token;
	PG_TRY();
	{
		r = sts_call(opts, &call, NULL, f, &code, why);
	}
	PG_FINALLY();
	{
		explicit_bzero(token, len);
		pfree(token);
	}
	PG_END_TRY();
	if (r != FETCH_FOUND)
	{
		char	   *reason = pstrdup(why->data);

		resetStringInfo(why);
		appendStringInfo(why, "AssumeRoleWithWebIdentity of role \"%s\" failed: %s", role, reason);
		f->hint = sts_hint(code, &call, file);
	}
	return r;
}

/*
 * Source 2: a web identity (EKS IAM roles for service accounts):
 * AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (and AWS_ROLE_SESSION_NAME).
 */
static FetchResult
from_web_identity(const BedlogOptions *opts, Fetched *f, StringInfo why)
{
	const char *file = env_value("AWS_WEB_IDENTITY_TOKEN_FILE");
	const char *role = env_value("AWS_ROLE_ARN");

	if (file == NULL)
	{
		appendStringInfoString(why, "AWS_WEB_IDENTITY_TOKEN_FILE is not set");
		return FETCH_ABSENT;
	}
	if (role == NULL)
	{
		appendStringInfoString(why, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
		return FETCH_FAILED;
	}
	return web_identity_call(opts, file, "AWS_WEB_IDENTITY_TOKEN_FILE", role,
							 env_value("AWS_ROLE_SESSION_NAME"), f, why);
}

/*
 * Shared config profiles, as the AWS CLI reads them.  A profile's settings
 * come from the credentials file's [NAME] and the config file's [profile
 * NAME] ([default] for default); the credentials file wins where both
 * have one.  A profile gives, in the CLI's order: with role_arn and
 * web_identity_token_file, a web identity; with role_arn, the keys of its
 * source_profile (resolved the same way, so roles chain; a loop is an
 * error) or of its credential_source (Environment, Ec2InstanceMetadata,
 * EcsContainer) assume that role; else its static keys; else its
 * credential_process, only on a server whose superuser-only option
 * allow_credential_process is on.  Every refresh resolves the whole
 * profile again (each hop of a chain is assumed again).
 */

/* The two files, read once for a resolution; text NULL: no such file. */
typedef struct SharedFiles
{
	char	   *cred_path;
	char	   *conf_path;
	char	   *cred;
	size_t		cred_len;
	char	   *conf;
	size_t		conf_len;
} SharedFiles;

/* What a profile says (palloc'd, NULL when absent; wiped by profile_free). */
typedef struct Profile
{
	bool		in_cred;		/* the credentials file has the profile */
	bool		in_conf;		/* the config file has it */
	char	   *aws_access_key_id;
	char	   *aws_secret_access_key;
	char	   *aws_session_token;
	char	   *role_arn;
	char	   *source_profile;
	char	   *credential_source;
	char	   *web_identity_token_file;
	char	   *credential_process;
	char	   *external_id;
	char	   *role_session_name;
	char	   *duration_seconds;
} Profile;

#define PROFILE_MAX_HOPS		8	/* source_profile links followed */
#define PROCESS_TIMEOUT_MS		30000	/* a credential_process's time */
#define PROCESS_OUTPUT_MAX		(64 * 1024)

/* [s, e) without blanks at either end */
static void
trim_span(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char) **s))
		(*s)++;
	while (*e > *s && isspace((unsigned char) (*e)[-1]))
		(*e)--;
}

/*
 * The value of name in profile's section of an INI text (palloc'd), or
 * NULL; *seen is set when the section is there.  In the config file
 * (config true) a profile's section is [profile NAME], or [default] for
 * default, and other sections ([sso-session x], [services x]) are not
 * profiles.  The indented lines of a nested block (a key without a value,
 * such as "s3 =") are not the profile's own settings.
 */
static char *
ini_value(const char *text, size_t len, bool config, const char *profile,
		  const char *name, bool *seen)
{
	const char *p = text;
	const char *end = text + len;
	bool		in = false;
	bool		nested = false;
	char	   *result = NULL;

	while (p < end)
	{
		const char *ls = p;
		const char *le = memchr(p, '\n', end - p);
		bool		indented;
		const char *eq;

		if (le == NULL)
			le = end;
		p = le < end ? le + 1 : end;
		indented = (ls < le && (*ls == ' ' || *ls == '\t'));
		trim_span(&ls, &le);
		if (ls == le || *ls == '#' || *ls == ';')
			continue;
		if (*ls == '[')
		{
			const char *ns = ls + 1;
			const char *ne = memchr(ls, ']', le - ls);

			if (ne == NULL)
				ne = le;
			trim_span(&ns, &ne);
			nested = false;
			if (config && ne - ns > 8 && strncmp(ns, "profile", 7) == 0 &&
				isspace((unsigned char) ns[7]))
			{
				ns += 8;
				trim_span(&ns, &ne);
			}
			else if (config && !(ne - ns == 7 && strncmp(ns, "default", 7) == 0))
			{
				in = false;
				continue;
			}
			in = ((size_t) (ne - ns) == strlen(profile) && strncmp(ns, profile, ne - ns) == 0);
			if (in)
				*seen = true;
			continue;
		}
		if (!in || (indented && nested) || (eq = memchr(ls, '=', le - ls)) == NULL)
			continue;
		{
			const char *ks = ls;
			const char *ke = eq;
			const char *vs = eq + 1;
			const char *ve = le;

			trim_span(&ks, &ke);
			trim_span(&vs, &ve);
			nested = (vs == ve);
			if ((size_t) (ke - ks) == strlen(name) && strncmp(ks, name, ke - ks) == 0)
			{
				wipe_pfree(result);
				result = pnstrdup(vs, ve - vs);
			}
		}
	}
	return result;
}

/* Read one shared file; false with a reason when it exists but is unreadable. */
static bool
shared_file_read(const char *path, char **text, size_t *len, StringInfo why)
{
	*text = read_secret_file(path, 1024 * 1024, len);
	if (*text == NULL && errno != ENOENT)
	{
		appendStringInfo(why, "could not read \"%s\": %m", path);
		return false;
	}
	return true;
}

static void
shared_files_free(SharedFiles *sf)
{
	if (sf->cred)
		explicit_bzero(sf->cred, sf->cred_len);
	if (sf->conf)
		explicit_bzero(sf->conf, sf->conf_len);
	if (sf->cred)
		pfree(sf->cred);
	if (sf->conf)
		pfree(sf->conf);
	memset(sf, 0, sizeof(*sf));
}

/* Load what the two files say about profile name into *pr. */
static void
profile_load(const SharedFiles *sf, const char *name, Profile *pr)
{
	static const struct
	{
		const char *key;
		size_t		off;
	}			keys[] = {
		{"aws_access_key_id", offsetof(Profile, aws_access_key_id)},
		{"aws_secret_access_key", offsetof(Profile, aws_secret_access_key)},
		{"aws_session_token", offsetof(Profile, aws_session_token)},
		{"role_arn", offsetof(Profile, role_arn)},
		{"source_profile", offsetof(Profile, source_profile)},
		{"credential_source", offsetof(Profile, credential_source)},
		{"web_identity_token_file", offsetof(Profile, web_identity_token_file)},
		{"credential_process", offsetof(Profile, credential_process)},
		{"external_id", offsetof(Profile, external_id)},
		{"role_session_name", offsetof(Profile, role_session_name)},
		{"duration_seconds", offsetof(Profile, duration_seconds)},
	};
	int			i;

	memset(pr, 0, sizeof(*pr));
	for (i = 0; i < lengthof(keys); i++)
	{
		char	  **slot = (char **) ((char *) pr + keys[i].off);
		char	   *v = NULL;

		if (sf->cred)
			v = ini_value(sf->cred, sf->cred_len, false, name, keys[i].key, &pr->in_cred);
		if (v == NULL && sf->conf)
			v = ini_value(sf->conf, sf->conf_len, true, name, keys[i].key, &pr->in_conf);
		/* an empty value is no value */
		if (v && v[0] == '\0')
		{
			pfree(v);
			v = NULL;
		}
		*slot = v;
	}
	/* whether each file has the profile, even if it set none of the above */
	if (!pr->in_cred && sf->cred)
		wipe_pfree(ini_value(sf->cred, sf->cred_len, false, name, "", &pr->in_cred));
	if (!pr->in_conf && sf->conf)
		wipe_pfree(ini_value(sf->conf, sf->conf_len, true, name, "", &pr->in_conf));
	/* the older spelling of the session token */
	if (pr->aws_session_token == NULL && sf->cred)
		pr->aws_session_token = ini_value(sf->cred, sf->cred_len, false, name,
										  "aws_security_token", &pr->in_cred);
}

static void
profile_free(Profile *pr)
{
	wipe_pfree(pr->aws_access_key_id);
	wipe_pfree(pr->aws_secret_access_key);
	wipe_pfree(pr->aws_session_token);
	wipe_pfree(pr->role_arn);
	wipe_pfree(pr->source_profile);
	wipe_pfree(pr->credential_source);
	wipe_pfree(pr->web_identity_token_file);
	wipe_pfree(pr->credential_process);
	wipe_pfree(pr->external_id);
	wipe_pfree(pr->role_session_name);
	wipe_pfree(pr->duration_seconds);
	memset(pr, 0, sizeof(*pr));
}

/*
 * Split a command line into words as the AWS CLI does (Python's
 * shlex.split, POSIX rules, no shell): blanks separate words, '...' is
 * literal, "..." keeps blanks and takes \" and \\ as escapes, and a
 * backslash outside quotes escapes the next character.  Returns a
 * NULL-terminated palloc'd argv, or NULL with a reason in why.
 */
static char **
split_command(const char *cmd, StringInfo why)
{
	char	  **argv = palloc0(sizeof(char *) * (strlen(cmd) / 2 + 2));
	int			argc = 0;
	StringInfoData w;
	const char *p = cmd;

	initStringInfo(&w);
	for (;;)
	{
		bool		have = false;

		while (*p && isspace((unsigned char) *p))
			p++;
		if (*p == '\0')
			break;
		resetStringInfo(&w);
		while (*p && !isspace((unsigned char) *p))
		{
			have = true;
			if (*p == '\'')
			{
				const char *close = strchr(p + 1, '\'');

				if (close == NULL)
					goto unclosed;
				appendBinaryStringInfo(&w, p + 1, close - p - 1);
				p = close + 1;
			}
			else if (*p == '"')
			{
				for (p++; *p && *p != '"'; p++)
				{
					if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
						p++;
					appendStringInfoChar(&w, *p);
				}
				if (*p != '"')
					goto unclosed;
				p++;
			}
			else if (*p == '\\')
			{
				if (p[1] == '\0')
				{
					appendStringInfoString(why, "it ends with a backslash");
					return NULL;
				}
				appendStringInfoChar(&w, p[1]);
				p += 2;
			}
			else
				appendStringInfoChar(&w, *p++);
		}
		if (have)
			argv[argc++] = pstrdup(w.data);
	}
	pfree(w.data);
	if (argc == 0)
	{
		appendStringInfoString(why, "it is empty");
		return NULL;
	}
	argv[argc] = NULL;
	return argv;

unclosed:
	appendStringInfoString(why, "it has an unclosed quotation mark");
	return NULL;
}

/* The child's side of run_process: never returns. */
static void
process_child(char **argv, int out_fd)
{
	int			devnull = open("/dev/null", O_RDWR);
	sigset_t	none;
	int			fd;

	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(devnull, 2) < 0)
		_exit(127);
	/* nothing of the backend's: its sockets, its files, its signals */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	closefrom(3);
#else
	for (fd = 3; fd < 65536; fd++)
		close(fd);
#endif
	(void) fd;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	execvp(argv[0], argv);
	_exit(127);
}

/* Stop the child pid for good (it is killed, then reaped). */
static void
process_kill(pid_t pid)
{
	int			status;

	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

/*
 * Run a credential_process (argv, found on the server's PATH as the CLI
 * does) as the server's OS user, with no shell, stdin and stderr on
 * /dev/null, and collect its standard output into *out (palloc'd, at most
 * PROCESS_OUTPUT_MAX bytes; the caller wipes it).  It has
 * PROCESS_TIMEOUT_MS to finish; a query cancel kills it.  Returns false
 * with a reason in why, which never quotes the output.
 */
static bool
run_process(char **argv, char **out, size_t *outlen, StringInfo why)
{
	int			pipefd[2];
	pid_t		pid;
	char	   *buf;
	size_t		len = 0;
	bool		ok = false;
	bool		killed = false;
	TimestampTz deadline = GetCurrentTimestamp() + (TimestampTz) PROCESS_TIMEOUT_MS * 1000;

	*out = NULL;
	if (pipe(pipefd) != 0)
	{
		appendStringInfo(why, "could not create a pipe: %m");
		return false;
	}
	buf = palloc(PROCESS_OUTPUT_MAX + 1);
	pid = fork();
	if (pid == 0)
		process_child(argv, pipefd[1]);
	close(pipefd[1]);
	if (pid < 0)
	{
		appendStringInfo(why, "could not start it: %m");
		close(pipefd[0]);
		pfree(buf);
		return false;
	}

	pgstat_report_wait_start(bedlog_wait_event(BEDLOG_WAIT_CREDENTIALS));
	PG_TRY();
	{
		for (;;)
		{
			struct pollfd pfd;
			long		left = (long) ((deadline - GetCurrentTimestamp()) / 1000);
			int			rc;
			ssize_t		n;

			CHECK_FOR_INTERRUPTS();
			if (left <= 0)
			{
				appendStringInfo(why, "it did not finish within %d seconds", PROCESS_TIMEOUT_MS / 1000);
				killed = true;
				break;
			}
			pfd.fd = pipefd[0];
			pfd.events = POLLIN;
			pfd.revents = 0;
			rc = poll(&pfd, 1, (int) Min(left, 100));
			if (rc < 0 && errno != EINTR)
			{
				appendStringInfo(why, "could not read its output: %m");
				killed = true;
				break;
			}
			if (rc <= 0)
				continue;
			n = read(pipefd[0], buf + len, PROCESS_OUTPUT_MAX + 1 - len);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n < 0)
			{
				appendStringInfo(why, "could not read its output: %m");
				killed = true;
				break;
			}
			if (n == 0)
				break;			/* end of its output */
			len += n;
			if (len > PROCESS_OUTPUT_MAX)
			{
				appendStringInfo(why, "it printed more than %d bytes", PROCESS_OUTPUT_MAX);
				killed = true;
				break;
			}
		}
		if (killed)
			process_kill(pid);
		else
		{
			/* its output is complete: wait for it to exit, within the time */
			for (;;)
			{
				int			status;
				pid_t		w = waitpid(pid, &status, WNOHANG);

				CHECK_FOR_INTERRUPTS();
				if (w == pid)
				{
					if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
						ok = true;
					else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
						appendStringInfo(why, "\"%s\" could not be run (exit status 127)", argv[0]);
					else if (WIFEXITED(status))
						appendStringInfo(why, "it exited with status %d", WEXITSTATUS(status));
					else
						appendStringInfo(why, "it was terminated by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
					break;
				}
				if (w < 0 && errno != EINTR)
				{
					appendStringInfo(why, "could not wait for it: %m");
					break;
				}
				if (GetCurrentTimestamp() >= deadline)
				{
					appendStringInfo(why, "it did not finish within %d seconds", PROCESS_TIMEOUT_MS / 1000);
					process_kill(pid);
					break;
				}
				pg_usleep(10000L);
			}
		}
	}
	PG_CATCH();
	{
		/* a cancel: the process goes too, its output is wiped */
		pgstat_report_wait_end();
		process_kill(pid);
		close(pipefd[0]);
		explicit_bzero(buf, PROCESS_OUTPUT_MAX + 1);
		pfree(buf);
		PG_RE_THROW();
	}
	PG_END_TRY();
	pgstat_report_wait_end();
	close(pipefd[0]);
	if (!ok)
	{
		explicit_bzero(buf, PROCESS_OUTPUT_MAX + 1);
		pfree(buf);
		return false;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return true;
}

/*
 * A profile's credential_process: run it, read the JSON it prints
 * (Version 1, AccessKeyId, SecretAccessKey, SessionToken, Expiration).
 * Neither its output nor its standard error is ever shown or logged.
 */
static FetchResult
credential_process(const BedlogOptions *opts, const char *profile,
				   const char *cmd, Fetched *f, StringInfo why)
{
	StringInfoData reason;
	char	  **argv;
	char	   *out;
	size_t		len;
	json_t	   *root;
	json_error_t jerr;
	FetchResult result = FETCH_FAILED;

	if (!opts->allow_credential_process)
	{
		appendStringInfo(why, "profile \"%s\" has a credential_process, which this server does not run", profile);
		f->hint = "A superuser may let the server run it with the server option \"allow_credential_process\".";
		return FETCH_FAILED;
	}
	initStringInfo(&reason);
	argv = split_command(cmd, &reason);
	if (argv == NULL)
	{
		appendStringInfo(why, "the credential_process of profile \"%s\" cannot be split into words: %s",
						 profile, reason.data);
		return FETCH_FAILED;
	}
	if (!run_process(argv, &out, &len, &reason))
	{
		appendStringInfo(why, "the credential_process of profile \"%s\" failed: %s", profile, reason.data);
		return FETCH_FAILED;
	}
	root = json_loadb(out, len, 0, &jerr);
	explicit_bzero(out, len);
	pfree(out);
	if (root == NULL || !json_is_object(root))
	{
		appendStringInfo(why, "the credential_process of profile \"%s\" did not print a JSON object", profile);
		if (root)
			json_decref(root);
		return FETCH_FAILED;
	}
	PG_TRY();
	{
		json_t	   *version = json_object_get(root, "Version");
		const char *ak = json_member(root, "AccessKeyId");
		const char *sk = json_member(root, "SecretAccessKey");
		const char *tok = json_member(root, "SessionToken");
		const char *exp = json_member(root, "Expiration");

		if (!json_is_integer(version) || json_integer_value(version) != 1)
			appendStringInfo(why, "the output of the credential_process of profile \"%s\" lacks \"Version\": 1", profile);
		else if (ak == NULL || ak[0] == '\0' || sk == NULL || sk[0] == '\0')
			appendStringInfo(why, "the output of the credential_process of profile \"%s\" lacks %s", profile,
							 (ak == NULL || ak[0] == '\0') ? "AccessKeyId" : "SecretAccessKey");
		else if (exp && !parse_expiration(exp, &f->expiration))
			appendStringInfo(why, "the Expiration printed by the credential_process of profile \"%s\" is not an ISO 8601 time", profile);
		else
		{
			f->access_key_id = pstrdup(ak);
			f->secret_access_key = pstrdup(sk);
			f->session_token = (tok && tok[0]) ? pstrdup(tok) : NULL;
			if (exp == NULL)
				f->expiration = 0;
			result = FETCH_FOUND;
		}
	}
	PG_FINALLY();
	{
		/* jansson's copies of the secrets go with the document */
		json_decref(root);
	}
	PG_END_TRY();
	return result;
}

/* The hint for STS's refusal of a profile's AssumeRole, or NULL. */
static const char *
profile_sts_hint(const char *code, const StsCall *call, const char *profile)
{
	if (code && strcmp(code, "AccessDenied") == 0)
		return psprintf("The trust policy of the role of profile \"%s\" must allow the identity that called sts:AssumeRole%s.",
						profile, call->external_id ?
						", with the profile's external_id as its sts:ExternalId" :
						"; if it requires an external ID (sts:ExternalId), give the profile external_id");
	if (code && strcmp(code, "ValidationError") == 0 && call->duration > 3600)
		return psprintf("A role session may not last longer than the role's maximum session duration, nor longer than an hour when the caller is itself an assumed role (role chaining); lower duration_seconds of profile \"%s\".", profile);
	return sts_hint(code, call, NULL);
}

static FetchResult resolve_profile(const BedlogOptions *opts, const SharedFiles *sf,
								   const char *profile, const char **visited,
								   int depth, Fetched *f, StringInfo why);

/*
 * The keys that assume a role profile's role: those of its source_profile
 * (resolved in turn) or of its credential_source.  *what describes them
 * for messages (palloc'd).
 */
static FetchResult
profile_source(const BedlogOptions *opts, const SharedFiles *sf,
			   const char *profile, const Profile *pr, const char **visited,
			   int depth, Fetched *src, char **what, StringInfo why)
{
	StringInfoData reason;
	FetchResult r;
	int			i;

	if (pr->source_profile && pr->credential_source)
	{
		appendStringInfo(why, "profile \"%s\" has both source_profile and credential_source", profile);
		return FETCH_FAILED;
	}
	if (pr->credential_source)
	{
		FetchResult (*fetch) (const BedlogOptions *opts, Fetched *f, StringInfo why);

		if (strcmp(pr->credential_source, "Environment") == 0)
			fetch = from_environment;
		else if (strcmp(pr->credential_source, "Ec2InstanceMetadata") == 0)
			fetch = from_instance_metadata;
		else if (strcmp(pr->credential_source, "EcsContainer") == 0)
			fetch = from_container;
		else
		{
			appendStringInfo(why, "the credential_source of profile \"%s\" is not Environment, Ec2InstanceMetadata or EcsContainer", profile);
			return FETCH_FAILED;
		}
		initStringInfo(&reason);
		r = fetch(opts, src, &reason);
		if (r != FETCH_FOUND)
		{
			appendStringInfo(why, "credential_source %s of profile \"%s\" has no credentials: %s",
							 pr->credential_source, profile, reason.data);
			return FETCH_FAILED;
		}
		*what = psprintf("credential_source %s", pr->credential_source);
		return FETCH_FOUND;
	}
	if (pr->source_profile == NULL)
	{
		appendStringInfo(why, "profile \"%s\" has role_arn but neither source_profile nor credential_source", profile);
		return FETCH_FAILED;
	}
	/* a profile that is its own source, with keys: those keys (as the CLI) */
	if (strcmp(pr->source_profile, profile) == 0 &&
		pr->aws_access_key_id && pr->aws_secret_access_key)
	{
		src->access_key_id = pstrdup(pr->aws_access_key_id);
		src->secret_access_key = pstrdup(pr->aws_secret_access_key);
		src->session_token = pr->aws_session_token ? pstrdup(pr->aws_session_token) : NULL;
		*what = psprintf("profile \"%s\"", profile);
		return FETCH_FOUND;
	}
	for (i = 0; i <= depth; i++)
	{
		if (strcmp(visited[i], pr->source_profile) == 0)
		{
			appendStringInfoString(why, "the profiles' source_profile settings make a loop: ");
			for (i = 0; i <= depth; i++)
				appendStringInfo(why, "\"%s\" -> ", visited[i]);
			appendStringInfo(why, "\"%s\"", pr->source_profile);
			return FETCH_FAILED;
		}
	}
	if (depth + 1 >= PROFILE_MAX_HOPS)
	{
		appendStringInfo(why, "profile \"%s\" is more than %d source_profile links away from its keys",
						 visited[0], PROFILE_MAX_HOPS);
		return FETCH_FAILED;
	}
	r = resolve_profile(opts, sf, pr->source_profile, visited, depth + 1, src, why);
	if (r == FETCH_ABSENT)
	{
		resetStringInfo(why);
		appendStringInfo(why, "the source_profile of profile \"%s\", \"%s\", is in neither \"%s\" nor \"%s\"",
						 profile, pr->source_profile, sf->cred_path, sf->conf_path);
		return FETCH_FAILED;
	}
	if (r == FETCH_FOUND)
		*what = psprintf("profile \"%s\"", pr->source_profile);
	return r;
}

/*
 * Resolve profile (visited[0..depth-1] are the profiles that led here)
 * into keys.  FETCH_ABSENT when neither file has it, or it has nothing
 * that gives keys.
 */
static FetchResult
resolve_profile(const BedlogOptions *opts, const SharedFiles *sf,
				const char *profile, const char **visited, int depth,
				Fetched *f, StringInfo why)
{
	Profile		pr;
	FetchResult r = FETCH_FAILED;

	visited[depth] = profile;
	profile_load(sf, profile, &pr);
	PG_TRY();
	{
		if (!pr.in_cred && !pr.in_conf)
		{
			if (sf->cred == NULL && sf->conf == NULL)
				appendStringInfo(why, "neither \"%s\" nor \"%s\" exists", sf->cred_path, sf->conf_path);
			else
				appendStringInfo(why, "neither \"%s\" nor \"%s\" has a profile \"%s\"",
								 sf->cred_path, sf->conf_path, profile);
			r = FETCH_ABSENT;
		}
		else if (pr.role_arn && pr.web_identity_token_file)
		{
			char	   *named_by = psprintf("web_identity_token_file of profile \"%s\"", profile);

			r = web_identity_call(opts, pr.web_identity_token_file, named_by,
								  pr.role_arn, pr.role_session_name, f, why);
		}
		else if (pr.role_arn)
		{
			Fetched		src;
			char	   *what = NULL;
			int			duration = 0;

			memset(&src, 0, sizeof(src));
			if (pr.duration_seconds)
			{
				char	   *endp;
				long		d = strtol(pr.duration_seconds, &endp, 10);

				if (*endp != '\0' || d < 900 || d > 43200)
				{
					appendStringInfo(why, "the duration_seconds of profile \"%s\" is not a number of seconds from 900 to 43200", profile);
					goto done;
				}
				duration = (int) d;
			}
			r = profile_source(opts, sf, profile, &pr, visited, depth, &src, &what, why);
			if (r == FETCH_FOUND)
			{
				BedlogCredentials signer;
				StsCall		call;
				char	   *code;

				signer.access_key_id = src.access_key_id;
				signer.secret_access_key = src.secret_access_key;
				signer.session_token = src.session_token;
				signer.source = what;
				memset(&call, 0, sizeof(call));
				call.action = "AssumeRole";
				call.role_arn = pr.role_arn;
				call.session_name = pr.role_session_name ? pr.role_session_name :
					psprintf("bedlog_fdw-%ld", (long) time(NULL));
				call.external_id = pr.external_id;
				call.duration = duration;
				r = sts_call(opts, &call, &signer, f, &code, why);
				if (r != FETCH_FOUND)
				{
					char	   *reason = pstrdup(why->data);

					resetStringInfo(why);
					appendStringInfo(why, "AssumeRole of role \"%s\" for profile \"%s\", signed with the keys of %s (access key ID %s), failed: %s",
									 pr.role_arn, profile, what, src.access_key_id, reason);
					f->hint = profile_sts_hint(code, &call, profile);
				}
				fetched_free(&src);
			}
			else if (src.hint)
				f->hint = src.hint;
		}
		else if (pr.aws_access_key_id || pr.aws_secret_access_key)
		{
			if (pr.aws_access_key_id == NULL || pr.aws_secret_access_key == NULL)
				appendStringInfo(why, "profile \"%s\" of \"%s\" lacks %s", profile,
								 pr.in_cred ? sf->cred_path : sf->conf_path,
								 pr.aws_access_key_id == NULL ? "aws_access_key_id" : "aws_secret_access_key");
			else
			{
				f->access_key_id = pstrdup(pr.aws_access_key_id);
				f->secret_access_key = pstrdup(pr.aws_secret_access_key);
				f->session_token = pr.aws_session_token ? pstrdup(pr.aws_session_token) : NULL;
				f->expiration = 0;
				r = FETCH_FOUND;
			}
		}
		else if (pr.credential_process)
			r = credential_process(opts, profile, pr.credential_process, f, why);
		else if (pr.in_cred)
			appendStringInfo(why, "profile \"%s\" of \"%s\" lacks aws_access_key_id", profile, sf->cred_path);
		else
		{
			appendStringInfo(why, "profile \"%s\" of \"%s\" has no credentials", profile, sf->conf_path);
			r = depth == 0 ? FETCH_ABSENT : FETCH_FAILED;
		}
done:
		;
	}
	PG_FINALLY();
	{
		profile_free(&pr);
	}
	PG_END_TRY();
	return r;
}

/*
 * Source 3: a profile of the shared files (AWS_SHARED_CREDENTIALS_FILE or
 * ~/.aws/credentials, AWS_CONFIG_FILE or ~/.aws/config, of the server's OS
 * user): aws_profile, else AWS_PROFILE, else "default".
 */
static FetchResult
from_shared_files(const BedlogOptions *opts, Fetched *f, StringInfo why)
{
	const char *profile = opts->aws_profile;
	const char *visited[PROFILE_MAX_HOPS];
	SharedFiles sf;
	FetchResult r;

	if (profile == NULL)
		profile = env_value("AWS_PROFILE");
	if (profile == NULL)
		profile = "default";
	memset(&sf, 0, sizeof(sf));
	sf.cred_path = shared_file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	sf.conf_path = shared_file_path("AWS_CONFIG_FILE", "config");
	if (!shared_file_read(sf.cred_path, &sf.cred, &sf.cred_len, why) ||
		!shared_file_read(sf.conf_path, &sf.conf, &sf.conf_len, why))
	{
		shared_files_free(&sf);
		return FETCH_FAILED;
	}
	PG_TRY();
	{
		r = resolve_profile(opts, &sf, profile, visited, 0, f, why);
	}
	PG_FINALLY();
	{
		shared_files_free(&sf);
	}
	PG_END_TRY();
	return r;
}

/*
 * Follow the chain for a server: env (unless an explicit profile), web
 * identity, shared file, container, instance metadata.  Returns true with
 * *f filled, or false with the source that failed in *failed_source and
 * the reason in why (and perhaps a hint in f->hint), or with a summary of
 * why each source had nothing in why (and *failed_source NULL).
 */
static bool
run_chain(const BedlogOptions *opts, Fetched *f, const char **failed_source,
		  StringInfo why)
{
	static const struct
	{
		const char *name;
		FetchResult (*fetch) (const BedlogOptions *opts, Fetched *f, StringInfo why);
	}			sources[] = {
		{SRC_ENV, from_environment},
		{SRC_WEB_IDENTITY, from_web_identity},
		{SRC_FILE, from_shared_files},
		{SRC_CONTAINER, from_container},
		{SRC_IMDS, from_instance_metadata},
	};
	StringInfoData reason;
	FetchResult r = FETCH_ABSENT;
	int			i;

	initStringInfo(&reason);
	*failed_source = NULL;
	memset(f, 0, sizeof(*f));
	for (i = 0; i < lengthof(sources); i++)
	{
		const char *end = i == lengthof(sources) - 1 ? "." : "; ";

		/* an explicit profile names the shared file's */
		if (sources[i].fetch == from_environment && opts->aws_profile != NULL)
		{
			appendStringInfo(why, "%s: skipped for an explicit aws_profile%s",
							 sources[i].name, end);
			continue;
		}
		resetStringInfo(&reason);
		r = sources[i].fetch(opts, f, &reason);
		f->source = sources[i].name;
		if (r != FETCH_ABSENT)
			break;
		appendStringInfo(why, "%s: %s%s", sources[i].name, reason.data, end);
	}
	if (r == FETCH_FAILED)
	{
		*failed_source = f->source;
		resetStringInfo(why);
		appendStringInfoString(why, reason.data);
	}
	pfree(reason.data);
	return r == FETCH_FOUND;
}

/* Free what a cache entry holds, wiping the secrets. */
static void
cache_clear(CachedCredentials *e)
{
	if (e->creds.access_key_id)
		wipe_pfree((char *) e->creds.access_key_id);
	if (e->creds.secret_access_key)
		wipe_pfree((char *) e->creds.secret_access_key);
	if (e->creds.session_token)
		wipe_pfree((char *) e->creds.session_token);
	if (e->profile)
		pfree(e->profile);
	memset(e, 0, sizeof(*e));
}

/* The entry of table for key (NULL: none given), or NULL. */
static CachedCredentials *
cache_find(CachedCredentials *table, const char *key)
{
	int			i;

	for (i = 0; i < CRED_CACHE_SIZE; i++)
	{
		CachedCredentials *e = &table[i];

		if (e->in_use &&
			((key == NULL && e->profile == NULL) ||
			 (key && e->profile && strcmp(key, e->profile) == 0)))
			return e;
	}
	return NULL;
}

/*
 * Store f as the entry e of table for key (e NULL: a new one), replacing
 * (and wiping) what was there.
 */
static CachedCredentials *
cache_store(CachedCredentials *table, CachedCredentials *e, const char *key,
			const Fetched *f, time_t now)
{
	MemoryContext oldcxt;
	int			i;

	if (e == NULL)
	{
		/* a free entry, else the first (the cache is tiny) */
		e = &table[0];
		for (i = 0; i < CRED_CACHE_SIZE; i++)
		{
			if (!table[i].in_use)
			{
				e = &table[i];
				break;
			}
		}
	}
	cache_clear(e);
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	e->profile = key ? pstrdup(key) : NULL;
	e->creds.access_key_id = pstrdup(f->access_key_id);
	e->creds.secret_access_key = pstrdup(f->secret_access_key);
	e->creds.session_token = f->session_token ? pstrdup(f->session_token) : NULL;
	e->creds.source = f->source;
	MemoryContextSwitchTo(oldcxt);
	e->expiration = f->expiration;
	if (f->expiration == 0)
		e->refresh_at = 0;
	else
	{
		long		life = (long) (f->expiration - now);
		long		margin = Min((long) CRED_REFRESH_MARGIN, life / 2);

		e->refresh_at = f->expiration - Max(margin, 0);
		/* credentials that are (nearly) expired already: at most once a second */
		if (e->refresh_at < now + 1)
			e->refresh_at = now + 1;
	}
	e->in_use = true;
	return e;
}

/* Wipe and free what a source put in *f. */
static void
fetched_free(Fetched *f)
{
	wipe_pfree(f->access_key_id);
	wipe_pfree(f->secret_access_key);
	wipe_pfree(f->session_token);
	f->access_key_id = f->secret_access_key = f->session_token = NULL;
}

/*
 * A refresh of cached keys e failed.  If they are still valid, keep using
 * them and try again in CRED_RETRY_SECONDS (not past their expiry): true.
 * Else wipe them (if any): false.
 */
static bool
keep_until_retry(CachedCredentials *e, time_t now)
{
	if (e == NULL)
		return false;
	if (e->expiration <= now)
	{
		cache_clear(e);
		return false;
	}
	e->refresh_at = Min(now + CRED_RETRY_SECONDS, e->expiration);
	return true;
}

/*
 * The server process's own credentials (the chain), cached per
 * aws_profile and STS endpoint.  Raises when the chain yields nothing.
 */
static const BedlogCredentials *
instance_credentials(const BedlogOptions *opts)
{
	CachedCredentials *e;
	time_t		now = time(NULL);
	Fetched		f;
	const char *failed;
	StringInfoData why;
	char	   *key;

	/*
	 * web identity and role profiles ask the server's STS endpoint, and
	 * whether a credential_process may run is the server's: both are part
	 * of the key
	 */
	key = psprintf("%s\n%s\n%d", opts->aws_profile ? opts->aws_profile : "",
				   opts->sts_endpoint ? opts->sts_endpoint : "",
				   (int) opts->allow_credential_process);
	e = cache_find(cache, key);
	if (e && (e->refresh_at == 0 || now < e->refresh_at))
	{
		pfree(key);
		return &e->creds;
	}

	initStringInfo(&why);
	if (run_chain(opts, &f, &failed, &why))
	{
		e = cache_store(cache, e, key, &f, now);
		fetched_free(&f);
		pfree(why.data);
		pfree(key);
		return &e->creds;
	}
	pfree(key);
	if (keep_until_retry(e, now))
	{
		ereport(DEBUG1,
				(errmsg_internal("bedlog_fdw: could not refresh AWS credentials from %s, using the current ones until they expire",
								 failed ? failed : "any source")));
		pfree(why.data);
		return &e->creds;
	}
	if (failed)
	{
		/* the reason as a sentence */
		why.data[0] = pg_toupper((unsigned char) why.data[0]);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
				 errmsg("could not get AWS credentials from the %s for server \"%s\"",
						failed, opts->server_name),
				 errdetail("%s.", why.data),
				 f.hint ? errhint("%s", f.hint) :
				 errhint("The server allows the server process's own AWS credentials (option \"use_instance_credentials\"); give the user mapping \"access_key_id\" and \"secret_access_key\" to use other keys.")));
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("no AWS credentials found for server \"%s\"", opts->server_name),
			 errdetail("The user mapping has no keys, and none of the server process's sources had credentials: %s",
					   why.data),
			 errhint("Give the user mapping \"access_key_id\" and \"secret_access_key\", or give the database server's process AWS credentials.")));
	return NULL;				/* keep the compiler quiet */
}

/*
 * The keys of the user mapping's role_arn, assumed with base (the
 * mapping's keys or the chain's), cached per role, session, STS endpoint
 * and calling identity, and assumed again when they near expiry.  Raises
 * when STS refuses, naming the role and the identity that called.
 */
static const BedlogCredentials *
assumed_role(const BedlogOptions *opts, const BedlogCredentials *base)
{
	CachedCredentials *e;
	time_t		now = time(NULL);
	Fetched		f;
	StsCall		call;
	StringInfoData why;
	char	   *code;
	char	   *caller;
	char	   *key;
	const char *hint;

	/*
	 * Who calls: the mapping's keys (by their id and a digest of the
	 * secret, so that new keys assume the role again), or the chain (by
	 * profile: its temporary keys change at every refresh).
	 */
	if (strcmp(base->source, "user mapping") == 0)
	{
		char		digest[65];

		sigv4_sha256_hex(base->secret_access_key, strlen(base->secret_access_key), digest);
		caller = psprintf("mapping %s %s", base->access_key_id, digest);
		explicit_bzero(digest, sizeof(digest));
	}
	else
		caller = psprintf("instance %s", opts->aws_profile ? opts->aws_profile : "");
	key = psprintf("%s\n%s\n%s\n%s\n%d\n%s", opts->sts_endpoint, opts->role_arn,
				   opts->external_id ? opts->external_id : "",
				   opts->role_session_name, opts->role_duration, caller);
	pfree(caller);
	e = cache_find(role_cache, key);
	if (e && (e->refresh_at == 0 || now < e->refresh_at))
	{
		pfree(key);
		return &e->creds;
	}

	memset(&f, 0, sizeof(f));
	memset(&call, 0, sizeof(call));
	call.action = "AssumeRole";
	call.role_arn = opts->role_arn;
	call.session_name = opts->role_session_name;
	call.external_id = opts->external_id;
	call.duration = opts->role_duration;
	initStringInfo(&why);
	if (sts_call(opts, &call, base, &f, &code, &why) == FETCH_FOUND)
	{
		f.source = "assumed role";
		e = cache_store(role_cache, e, key, &f, now);
		fetched_free(&f);
		pfree(why.data);
		pfree(key);
		return &e->creds;
	}
	pfree(key);
	if (keep_until_retry(e, now))
	{
		ereport(DEBUG1,
				(errmsg_internal("bedlog_fdw: could not assume role \"%s\" again, using the current keys until they expire",
								 opts->role_arn)));
		pfree(why.data);
		return &e->creds;
	}
	hint = sts_hint(code, &call, NULL);
	ereport(ERROR,
			(errcode(code && strcmp(code, "AccessDenied") == 0 ?
					 ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION :
					 ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
			 errmsg("could not assume role \"%s\" for server \"%s\"",
					opts->role_arn, opts->server_name),
			 errdetail("AssumeRole at %s, signed with the keys of the %s (access key ID %s), failed: %s.",
					   opts->sts_endpoint, base->source, base->access_key_id, why.data),
			 hint ? errhint("%s", hint) : 0));
	return NULL;				/* keep the compiler quiet */
}

/*
 * The credentials to sign the next request with, for a scan with options
 * opts: the user mapping's keys; else, if the server allows it, the
 * chain's (cached, refreshed when they near expiry); else NULL, for an
 * unsigned request.  With a role_arn in the mapping, those keys assume
 * the role and the role's keys are returned.  The result stays valid
 * until the next call; the caller must not keep it longer.  Raises when
 * the chain is allowed but yields nothing, naming each source and why,
 * and when the role cannot be assumed.
 */
const BedlogCredentials *
bedlog_credentials_get(const BedlogOptions *opts)
{
	static BedlogCredentials mapping;
	const BedlogCredentials *base;

	if (opts->access_key_id)
	{
		mapping.access_key_id = opts->access_key_id;
		mapping.secret_access_key = opts->secret_access_key;
		mapping.session_token = opts->session_token;
		mapping.source = "user mapping";
		base = &mapping;
	}
	else if (opts->use_instance_credentials)
		base = instance_credentials(opts);
	else
		base = NULL;

	if (opts->role_arn == NULL)
		return base;
	if (base == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("no AWS credentials to assume role \"%s\" with for server \"%s\"",
						opts->role_arn, opts->server_name),
				 errdetail("The user mapping has \"role_arn\" but no keys, and the server does not allow the server process's own credentials."),
				 errhint("Give the user mapping \"access_key_id\" and \"secret_access_key\" of an identity the role trusts, or have a superuser turn \"use_instance_credentials\" on for the server.")));
	return assumed_role(opts, base);
}
