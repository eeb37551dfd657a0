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
 * An explicit aws_profile (a server option) skips the environment
 * variables, as an explicitly chosen profile does in the SDKs; a profile
 * the credentials file lacks passes on to the next source.
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
#include <pwd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/memutils.h"

#include "bedlog_fdw.h"

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
static const char SRC_FILE[] = "shared credentials file";
static const char SRC_CONTAINER[] = "container credentials endpoint";
static const char SRC_IMDS[] = "EC2 instance metadata";

static CachedCredentials cache[CRED_CACHE_SIZE];

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
meta_request(const char *method, const char *url, const char *header,
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
	if (header)
	{
		headers = curl_slist_append(NULL, header);
		ok = (headers != NULL);
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
	ok = ok && curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long) META_CONNECT_MS) == CURLE_OK;
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
from_environment(const char *profile, Fetched *f, StringInfo why)
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

/* Trim blanks at both ends of s, in place; returns s. */
static char *
trim(char *s)
{
	char	   *e;

	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* The shared credentials file's path (palloc'd). */
static char *
shared_file_path(void)
{
	const char *p = env_value("AWS_SHARED_CREDENTIALS_FILE");
	const char *home;

	if (p)
		return pstrdup(p);
	home = env_value("HOME");
	if (home == NULL)
	{
		struct passwd *pw = getpwuid(geteuid());

		home = pw ? pw->pw_dir : "";
	}
	return psprintf("%s/.aws/credentials", home);
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
 * Source 2: the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or
 * ~/.aws/credentials of the server's OS user), profile aws_profile, else
 * AWS_PROFILE, else "default".
 */
static FetchResult
from_shared_file(const char *explicit_profile, Fetched *f, StringInfo why)
{
	char	   *path = shared_file_path();
	const char *profile = explicit_profile;
	char	   *text;
	size_t		textlen;
	char	   *line;
	char	   *next;
	bool		in_profile = false;
	bool		seen_profile = false;
	char	   *ak = NULL;
	char	   *sk = NULL;
	char	   *tok = NULL;
	FetchResult result;

	if (profile == NULL)
		profile = env_value("AWS_PROFILE");
	if (profile == NULL)
		profile = "default";

	text = read_secret_file(path, 1024 * 1024, &textlen);
	if (text == NULL)
	{
		if (errno == ENOENT)
		{
			appendStringInfo(why, "\"%s\" does not exist", path);
			return FETCH_ABSENT;
		}
		appendStringInfo(why, "could not read \"%s\": %m", path);
		return FETCH_FAILED;
	}

	for (line = text; line; line = next)
	{
		char	   *eq;
		char	   *name;
		char	   *value;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line = trim(line);
		if (line[0] == '\0' || line[0] == '#' || line[0] == ';')
			continue;
		if (line[0] == '[')
		{
			char	   *close = strchr(line, ']');

			if (close)
				*close = '\0';
			in_profile = (strcmp(trim(line + 1), profile) == 0);
			seen_profile |= in_profile;
			continue;
		}
		if (!in_profile || (eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		name = trim(line);
		value = trim(eq + 1);
		if (strcmp(name, "aws_access_key_id") == 0)
			ak = value;
		else if (strcmp(name, "aws_secret_access_key") == 0)
			sk = value;
		else if (strcmp(name, "aws_session_token") == 0 ||
				 (strcmp(name, "aws_security_token") == 0 && tok == NULL))
			tok = value;
	}

	if (!seen_profile)
	{
		appendStringInfo(why, "\"%s\" has no profile \"%s\"", path, profile);
		result = FETCH_ABSENT;
	}
	else if (ak == NULL || ak[0] == '\0' || sk == NULL || sk[0] == '\0')
	{
		appendStringInfo(why, "profile \"%s\" of \"%s\" lacks %s", profile, path,
						 (ak == NULL || ak[0] == '\0') ? "aws_access_key_id" : "aws_secret_access_key");
		result = FETCH_FAILED;
	}
	else
	{
		f->access_key_id = pstrdup(ak);
		f->secret_access_key = pstrdup(sk);
		f->session_token = (tok && tok[0]) ? pstrdup(tok) : NULL;
		f->expiration = 0;
		result = FETCH_FOUND;
	}
	explicit_bzero(text, textlen);
	pfree(text);
	return result;
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
from_container(const char *profile, Fetched *f, StringInfo why)
{
	const char *rel = env_value("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env_value("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	char	   *url;
	char	   *token;
	char	   *header = NULL;
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
		wipe_pfree(token);
	}

	for (attempt = 1; attempt <= CONTAINER_ATTEMPTS; attempt++)
	{
		resetStringInfo(why);
		status = meta_request("GET", url, header, CONTAINER_TIMEOUT_MS, &resp, why);
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
from_instance_metadata(const char *profile, Fetched *f, StringInfo why)
{
	const char *disabled = env_value("AWS_EC2_METADATA_DISABLED");
	const char *endpoint = env_value("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	char	   *base;
	char	   *url;
	char	   *header;
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
	status = meta_request("PUT", url, "X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL,
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
	response_free(&resp);

	/* the role */
	url = psprintf("%s/latest/meta-data/iam/security-credentials/", base);
	status = meta_request("GET", url, header, IMDS_TIMEOUT_MS, &resp, why);
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
	status = meta_request("GET", url, header, IMDS_TIMEOUT_MS, &resp, why);
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
 * Follow the chain for a server: env (unless an explicit profile), shared
 * file, container, instance metadata.  Returns true with *f filled, or
 * false with the source that failed in *failed_source and the reason in
 * why, or with a summary of why each source had nothing in why (and
 * *failed_source NULL).
 */
static bool
run_chain(const char *profile, Fetched *f, const char **failed_source,
		  StringInfo why)
{
	static const struct
	{
		const char *name;
		FetchResult (*fetch) (const char *profile, Fetched *f, StringInfo why);
	}			sources[] = {
		{SRC_ENV, from_environment},
		{SRC_FILE, from_shared_file},
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
		if (sources[i].fetch == from_environment && profile != NULL)
		{
			appendStringInfo(why, "%s: skipped for an explicit aws_profile%s",
							 sources[i].name, end);
			continue;
		}
		resetStringInfo(&reason);
		r = sources[i].fetch(profile, f, &reason);
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

/* The cache entry for profile (NULL: none given), or NULL. */
static CachedCredentials *
cache_find(const char *profile)
{
	int			i;

	for (i = 0; i < CRED_CACHE_SIZE; i++)
	{
		CachedCredentials *e = &cache[i];

		if (e->in_use &&
			((profile == NULL && e->profile == NULL) ||
			 (profile && e->profile && strcmp(profile, e->profile) == 0)))
			return e;
	}
	return NULL;
}

/* Store f as the entry of profile, replacing (and wiping) what was there. */
static CachedCredentials *
cache_store(CachedCredentials *e, const char *profile, const Fetched *f,
			time_t now)
{
	MemoryContext oldcxt;
	int			i;

	if (e == NULL)
	{
		/* a free entry, else the first (the cache is tiny) */
		e = &cache[0];
		for (i = 0; i < CRED_CACHE_SIZE; i++)
		{
			if (!cache[i].in_use)
			{
				e = &cache[i];
				break;
			}
		}
	}
	cache_clear(e);
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	e->profile = profile ? pstrdup(profile) : NULL;
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

/*
 * The credentials to sign the next request with, for a scan with options
 * opts: the user mapping's keys; else, if the server allows it, the
 * chain's (cached, refreshed when they near expiry); else NULL, for an
 * unsigned request.  The result stays valid until the next call; the
 * caller must not keep it longer.  Raises when the chain is allowed but
 * yields nothing, naming each source and why.
 */
const BedlogCredentials *
bedlog_credentials_get(const BedlogOptions *opts)
{
	static BedlogCredentials mapping;
	CachedCredentials *e;
	time_t		now;
	Fetched		f;
	const char *failed;
	StringInfoData why;
	bool		found;

	if (opts->access_key_id)
	{
		mapping.access_key_id = opts->access_key_id;
		mapping.secret_access_key = opts->secret_access_key;
		mapping.session_token = opts->session_token;
		mapping.source = "user mapping";
		return &mapping;
	}
	if (!opts->use_instance_credentials)
		return NULL;

	now = time(NULL);
	e = cache_find(opts->aws_profile);
	if (e && (e->refresh_at == 0 || now < e->refresh_at))
		return &e->creds;

	initStringInfo(&why);
	found = run_chain(opts->aws_profile, &f, &failed, &why);
	if (found)
	{
		e = cache_store(e, opts->aws_profile, &f, now);
		wipe_pfree(f.access_key_id);
		wipe_pfree(f.secret_access_key);
		wipe_pfree(f.session_token);
		pfree(why.data);
		return &e->creds;
	}
	if (e && e->expiration > now)
	{
		/* the refresh failed, the keys we have still work: retry later */
		e->refresh_at = Min(now + CRED_RETRY_SECONDS, e->expiration);
		ereport(DEBUG1,
				(errmsg_internal("bedlog_fdw: could not refresh AWS credentials from %s, using the current ones until they expire",
								 failed ? failed : "any source")));
		pfree(why.data);
		return &e->creds;
	}
	if (e)
		cache_clear(e);
	if (failed)
	{
		/* the reason as a sentence */
		why.data[0] = pg_toupper((unsigned char) why.data[0]);
		ereport(ERROR,
				(errcode(ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION),
				 errmsg("could not get AWS credentials from the %s for server \"%s\"",
						failed, opts->server_name),
				 errdetail("%s.", why.data),
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
