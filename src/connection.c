/*-------------------------------------------------------------------------
 *
 * connection.c
 *		The backend's S3 connections, kept from one query to the next.
 *
 * Design notes.  A dashboard sends a dozen short queries every refresh;
 * over HTTPS, a scan that starts from nothing pays a TCP and a TLS
 * handshake per connection before its first byte.  So the libcurl multi
 * handle, which owns the connection cache, outlives the scan: this file
 * keeps one per foreign server and user mapping (as postgres_fdw keeps its
 * connections), with a share handle for DNS answers and TLS sessions, and
 * lends it to one S3 client at a time (s3_client.c).  Two scans open at
 * once on the same server and mapping get two entries.  A client returns
 * its entry with every easy handle removed, so what stays between queries
 * is the idle connections and nothing of a request.  Connections are never
 * shared between mappings: a mapping's keys sign its own requests on its
 * own connections, and a mapping-less server (anonymous, or the server
 * process's own identity) has an entry of its own.
 *
 * An entry is dropped when its server or mapping changes (ALTER SERVER,
 * ALTER USER MAPPING, DROP): syscache callbacks mark it, as postgres_fdw's
 * connection.c does, and it is closed when next acquired or released,
 * never inside the callback, which must not do I/O.  A few idle entries
 * are kept, the least recently used going first; the rest, and all at
 * backend exit, are closed with curl_multi_cleanup.  As postgres_fdw's
 * functions do for its connections, bedlog_fdw_get_connections() lists the
 * entries and bedlog_fdw_disconnect_all() closes the idle ones.
 *
 * The sockets curl opens and closes are told to an epoll set of the entry
 * by the socket callback, so that a scan waits on one descriptor for all
 * of them: its WaitEventSet (made once per scan in s3_client.c) holds the
 * latch, postmaster death and this epoll descriptor, and when it reports
 * the descriptor readable, bedlog_conn_act hands curl the ready sockets.
 * This is how libpq's own libcurl client waits (fe-auth-oauth-curl.c),
 * and it needs epoll: Linux only.  The callbacks never raise and never
 * palloc; entries are malloc'd, as they outlive every memory context a
 * query has.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/epoll.h>
#else
#error "bedlog_fdw waits on libcurl's sockets with epoll, which only Linux has"
#endif

#include "access/htup_details.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"
#include "utils/inval.h"
#include "utils/syscache.h"

#include "bedlog_fdw.h"

/* idle entries kept for later queries; busy ones are not counted */
#define BEDLOG_CONN_IDLE_MAX	8
/* ready sockets handed to curl per epoll_wait */
#define BEDLOG_CONN_EVENTS		32

struct BedlogConn
{
	struct BedlogConn *next;	/* the backend's list */
	Oid			serverid;		/* the key: server and user mapping */
	Oid			umid;
	uint32		server_hash;	/* syscache hash values, for invalidation */
	uint32		mapping_hash;
	bool		in_use;			/* lent to a client */
	bool		invalid;		/* the server or mapping changed */
	uint64		last_used;		/* release counter, for the LRU */
	CURLM	   *multi;			/* owns the connection cache */
	CURLSH	   *share;			/* DNS answers and TLS sessions */
	int			epfd;			/* curl's sockets */
	int			sock_errno;		/* an epoll_ctl failure, 0 if none */
	long		timeout_ms;		/* curl's timer, -1 when none */
	struct timespec deadline;	/* when that timer expires */
};

static BedlogConn *conns = NULL;

static void conn_check(BedlogConn *conn);
static uint64 release_counter = 0;
static bool callbacks_registered = false;

/* curl socket callback: keep the epoll set in step.  Never raises. */
static int
socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	BedlogConn *conn = (BedlogConn *) userp;
	struct epoll_event ev;

	if (what == CURL_POLL_REMOVE)
	{
		/* a socket curl already closed has left the set by itself */
		if (epoll_ctl(conn->epfd, EPOLL_CTL_DEL, s, NULL) < 0 &&
			errno != ENOENT && errno != EBADF)
			conn->sock_errno = errno;
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.data.fd = s;
	if (what & CURL_POLL_IN)
		ev.events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev.events |= EPOLLOUT;
	if (epoll_ctl(conn->epfd, EPOLL_CTL_MOD, s, &ev) == 0)
		return 0;
	if (errno == ENOENT && epoll_ctl(conn->epfd, EPOLL_CTL_ADD, s, &ev) == 0)
		return 0;
	conn->sock_errno = errno;
	return -1;
}

/* curl timer callback: remember when curl wants to be called.  Never raises. */
static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	BedlogConn *conn = (BedlogConn *) userp;

	conn->timeout_ms = timeout_ms;
	if (timeout_ms >= 0)
	{
		clock_gettime(CLOCK_MONOTONIC, &conn->deadline);
		conn->deadline.tv_sec += timeout_ms / 1000;
		conn->deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
		if (conn->deadline.tv_nsec >= 1000000000L)
		{
			conn->deadline.tv_sec++;
			conn->deadline.tv_nsec -= 1000000000L;
		}
	}
	return 0;
}

/* Close an entry's connections and free it; it is out of the list.  Never raises. */
static void
conn_free(BedlogConn *conn)
{
	/*
	 * curl_multi_cleanup closes the cached connections and may tell the
	 * socket callback about them while it does: the entry must outlive it.
	 */
	if (conn->multi)
		curl_multi_cleanup(conn->multi);
	if (conn->share)
		curl_share_cleanup(conn->share);
	if (conn->epfd >= 0)
		close(conn->epfd);
	free(conn);
}

/* Unlink and free the idle entries that were invalidated.  Never raises. */
static void
drop_invalid(void)
{
	BedlogConn **p = &conns;

	while (*p)
	{
		BedlogConn *conn = *p;

		if (conn->invalid && !conn->in_use)
		{
			*p = conn->next;
			conn_free(conn);
		}
		else
			p = &conn->next;
	}
}

/* Free the least recently used idle entries beyond the cap.  Never raises. */
static void
trim_idle(void)
{
	for (;;)
	{
		BedlogConn **p;
		BedlogConn **oldest = NULL;
		int			idle = 0;

		for (p = &conns; *p; p = &(*p)->next)
		{
			if ((*p)->in_use)
				continue;
			idle++;
			if (oldest == NULL || (*p)->last_used < (*oldest)->last_used)
				oldest = p;
		}
		if (idle <= BEDLOG_CONN_IDLE_MAX)
			return;
		{
			BedlogConn *conn = *oldest;

			*oldest = conn->next;
			conn_free(conn);
		}
	}
}

/*
 * Syscache callback: a foreign server or user mapping changed (or the
 * caches were reset, hashvalue 0).  Mark the entries it affects; they are
 * closed when next acquired or released, not here.
 */
static void
inval_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	BedlogConn *conn;

	for (conn = conns; conn; conn = conn->next)
	{
		if (hashvalue == 0 ||
			(cacheid == FOREIGNSERVEROID && conn->server_hash == hashvalue) ||
			(cacheid == USERMAPPINGOID && conn->mapping_hash == hashvalue))
			conn->invalid = true;
	}
}

/* At backend exit: close every connection left.  Never raises. */
static void
conn_atexit(int code, Datum arg)
{
	while (conns)
	{
		BedlogConn *conn = conns;

		conns = conn->next;
		/* an entry still lent out belongs to a client that never ended */
		if (conn->in_use)
			continue;
		conn_free(conn);
	}
}

/* Make an entry for the server and mapping of opts, not yet in the list. */
static BedlogConn *
conn_new(const BedlogOptions *opts)
{
	BedlogConn *conn = calloc(1, sizeof(BedlogConn));
	bool		ok;

	if (conn == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	conn->serverid = opts->serverid;
	conn->umid = opts->umid;
	conn->server_hash = GetSysCacheHashValue1(FOREIGNSERVEROID,
											  ObjectIdGetDatum(opts->serverid));
	conn->mapping_hash = OidIsValid(opts->umid) ?
		GetSysCacheHashValue1(USERMAPPINGOID, ObjectIdGetDatum(opts->umid)) : 0;
	conn->timeout_ms = -1;
	conn->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (conn->epfd < 0)
	{
		int			save_errno = errno;

		free(conn);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_socket_access(),
				 errmsg("could not create an epoll set for S3 connections: %m")));
	}
	conn->multi = curl_multi_init();
	conn->share = curl_share_init();
	ok = conn->multi != NULL && conn->share != NULL &&
		curl_share_setopt(conn->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) == CURLSHE_OK &&
		curl_share_setopt(conn->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) == CURLSHE_OK &&
		curl_multi_setopt(conn->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) == CURLM_OK &&
		curl_multi_setopt(conn->multi, CURLMOPT_SOCKETDATA, conn) == CURLM_OK &&
		curl_multi_setopt(conn->multi, CURLMOPT_TIMERFUNCTION, timer_cb) == CURLM_OK &&
		curl_multi_setopt(conn->multi, CURLMOPT_TIMERDATA, conn) == CURLM_OK;
	if (!ok)
	{
		conn_free(conn);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not set up a libcurl multi handle")));
	}
	return conn;
}

/*
 * Lend the caller an entry for the server and user mapping of opts: an idle
 * one kept from an earlier query, or a new one.  It may hold up to
 * max_host_connections connections to one host at once.  Give it back
 * with bedlog_conn_release.
 */
BedlogConn *
bedlog_conn_acquire(const BedlogOptions *opts, long max_host_connections)
{
	BedlogConn *conn;

	if (!callbacks_registered)
	{
		CacheRegisterSyscacheCallback(FOREIGNSERVEROID, inval_callback, (Datum) 0);
		CacheRegisterSyscacheCallback(USERMAPPINGOID, inval_callback, (Datum) 0);
		on_proc_exit(conn_atexit, (Datum) 0);
		callbacks_registered = true;
	}
	/* see the latest ALTER SERVER and ALTER USER MAPPING first */
	AcceptInvalidationMessages();
	drop_invalid();

	for (conn = conns; conn; conn = conn->next)
	{
		if (!conn->in_use && conn->serverid == opts->serverid &&
			conn->umid == opts->umid)
			break;
	}
	if (conn == NULL)
	{
		conn = conn_new(opts);
		conn->next = conns;
		conns = conn;
	}
	/*
	 * Keep as many idle connections as a scan may use at once: by default
	 * curl keeps four per transfer in progress, and a scan's last transfers
	 * would leave the next query a handful.
	 */
	if (curl_multi_setopt(conn->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
						  max_host_connections) != CURLM_OK ||
		curl_multi_setopt(conn->multi, CURLMOPT_MAXCONNECTS,
						  max_host_connections) != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not set up a libcurl multi handle")));
	conn->in_use = true;
	conn->sock_errno = 0;
	return conn;
}

/*
 * Take an entry back.  The client has removed its easy handles from the
 * multi handle; what is left is idle connections, kept unless the entry
 * was invalidated meanwhile, or its client ended in a state curl cannot be
 * trusted in (broken).  Called from a memory context callback, also while
 * a transaction aborts: never raises.
 */
void
bedlog_conn_release(BedlogConn *conn, bool broken)
{
	conn->in_use = false;
	conn->last_used = ++release_counter;
	conn->timeout_ms = -1;
	if (broken || conn->sock_errno != 0)
		conn->invalid = true;
	drop_invalid();
	trim_idle();
}

/* The multi handle of an entry. */
void *
bedlog_conn_multi(BedlogConn *conn)
{
	return conn->multi;
}

/* The share handle an entry's easy handles join. */
void *
bedlog_conn_share(BedlogConn *conn)
{
	return conn->share;
}

/* Milliseconds until curl's timer expires: 0 if past, -1 if none. */
long
bedlog_conn_timer_remaining(BedlogConn *conn)
{
	struct timespec now;
	long		ms;

	if (conn->timeout_ms < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (conn->deadline.tv_sec - now.tv_sec) * 1000L +
		(conn->deadline.tv_nsec - now.tv_nsec) / 1000000L;
	return ms < 0 ? 0 : ms;
}

/*
 * Let curl act on what is ready: every socket the epoll set reports, then
 * its timer if it has expired.  Raises if the socket callback could not
 * keep the set in step.
 */
void
bedlog_conn_act(BedlogConn *conn)
{
	struct epoll_event events[BEDLOG_CONN_EVENTS];
	int			running;
	int			n;

	do
	{
		int			i;

		n = epoll_wait(conn->epfd, events, BEDLOG_CONN_EVENTS, 0);
		if (n < 0)
		{
			if (errno == EINTR)
				break;
			ereport(ERROR,
					(errcode_for_socket_access(),
					 errmsg("could not wait for S3 connections: %m")));
		}
		for (i = 0; i < n; i++)
		{
			int			flags = 0;

			if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
				flags |= CURL_CSELECT_IN;
			if (events[i].events & EPOLLOUT)
				flags |= CURL_CSELECT_OUT;
			if (events[i].events & EPOLLERR)
				flags |= CURL_CSELECT_ERR;
			curl_multi_socket_action(conn->multi, events[i].data.fd, flags,
									 &running);
		}
	} while (n == BEDLOG_CONN_EVENTS);

	if (bedlog_conn_timer_remaining(conn) == 0)
		curl_multi_socket_action(conn->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	conn_check(conn);
}

/*
 * The one wait set of a scan over conn: the latch, postmaster death, and
 * the descriptor that stands for every socket of the connections.  Made
 * in cxt (before 17; unowned from 17): its owner frees it with
 * FreeWaitEventSet when the scan ends.
 */
WaitEventSet *
bedlog_conn_wait_set(BedlogConn *conn, MemoryContext cxt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	WaitEventSet *wes = bedlog_create_wait_event_set(3);

	MemoryContextSwitchTo(oldcxt);
	AddWaitEventToSet(wes, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	if (IsUnderPostmaster)
		AddWaitEventToSet(wes, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	AddWaitEventToSet(wes, WL_SOCKET_READABLE, conn->epfd, NULL, NULL);
	return wes;
}

/*
 * Wait on wes (from bedlog_conn_wait_set) for curl's sockets, its timer or
 * the latch, whichever comes first (at most a second), and let curl act on
 * what happened.  Returns whether the latch was set: the caller takes its
 * finished transfers, then resets the latch and checks for interrupts.
 */
bool
bedlog_conn_wait(BedlogConn *conn, WaitEventSet *wes)
{
	WaitEvent	events[3];
	long		timeout = bedlog_conn_timer_remaining(conn);
	bool		latch_set = false;

	/* wait unless curl's timer has expired already */
	if (timeout != 0)
	{
		int			nevents;
		int			i;

		if (timeout < 0 || timeout > 1000)
			timeout = 1000;
		nevents = WaitEventSetWait(wes, timeout, events, lengthof(events),
								   bedlog_wait_event(BEDLOG_WAIT_S3));
		for (i = 0; i < nevents; i++)
		{
			if (events[i].events & WL_LATCH_SET)
				latch_set = true;
		}
	}
	/* the ready sockets, if any, and the timer if it has expired */
	bedlog_conn_act(conn);
	return latch_set;
}

/* Raise if the socket callback failed to keep the epoll set in step. */
static void
conn_check(BedlogConn *conn)
{
	if (conn->sock_errno != 0)
	{
		errno = conn->sock_errno;
		ereport(ERROR,
				(errcode_for_socket_access(),
				 errmsg("could not watch a socket of an S3 connection: %m")));
	}
}

PG_FUNCTION_INFO_V1(bedlog_fdw_get_connections);
PG_FUNCTION_INFO_V1(bedlog_fdw_disconnect_all);

/*
 * bedlog_fdw_get_connections(): one row per entry of this backend: its
 * server (NULL once dropped), the role of its user mapping ("public", or
 * NULL without a mapping or once dropped), whether it is still valid (a
 * changed server or mapping closes it at its next use) and whether a scan
 * holds it now.
 */
Datum
bedlog_fdw_get_connections(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	BedlogConn *conn;

	bedlog_init_materialized_srf(fcinfo);
	AcceptInvalidationMessages();
	for (conn = conns; conn; conn = conn->next)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		ForeignServer *server = GetForeignServerExtended(conn->serverid,
														 FSV_MISSING_OK);
		HeapTuple	tup = NULL;

		if (server)
			values[0] = CStringGetTextDatum(server->servername);
		else
			nulls[0] = true;
		if (OidIsValid(conn->umid))
			tup = SearchSysCache1(USERMAPPINGOID, ObjectIdGetDatum(conn->umid));
		if (HeapTupleIsValid(tup))
		{
			Oid			umuser = ((Form_pg_user_mapping) GETSTRUCT(tup))->umuser;
			const char *name = OidIsValid(umuser) ? GetUserNameFromId(umuser, true) : "public";

			ReleaseSysCache(tup);
			if (name)
				values[1] = CStringGetTextDatum(name);
			else
				nulls[1] = true;
		}
		else
			nulls[1] = true;
		values[2] = BoolGetDatum(!conn->invalid);
		values[3] = BoolGetDatum(conn->in_use);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * bedlog_fdw_disconnect_all(): close the connections of every entry no scan
 * holds; one a scan holds is closed when the scan ends.  True if any were
 * closed.
 */
Datum
bedlog_fdw_disconnect_all(PG_FUNCTION_ARGS)
{
	BedlogConn *conn;
	bool		any = false;

	for (conn = conns; conn; conn = conn->next)
	{
		conn->invalid = true;
		if (!conn->in_use)
			any = true;
	}
	drop_invalid();
	PG_RETURN_BOOL(any);
}
