/*-------------------------------------------------------------------------
 *
 * cache.c
 *		A local on-disk cache of fetched log objects and of the listings of
 *		past time folders, shared by every backend of the server.
 *
 * Design notes.  An entry is one file, named by the SHA-256 of its
 * identity: for an object the endpoint, bucket, a hash of the access key
 * id, the key and the ETag the listing gave; for a listing the same
 * without key and ETag but with the folder's prefix; for a discovery
 * listing (discovery.c decides when one is still fresh) the same with the
 * listed prefix and the request's delimiter parameters.  A changed object
 * has a new ETag, hence a new name, so it is never served stale; users
 * with other credentials never share entries.  Entries sit in 256 fan-out
 * directories below objects/ and listings/ (discovery listings too) of
 * cache_dir.  Each file starts with a header (magic, version, kind, the
 * length of the identity and of the content, and a CRC-32C of both), then
 * the identity, then the content (an object's bytes exactly as S3 sent
 * them; a listing's keys, sizes and ETags; a discovery listing's time, the
 * count of objects at that level, and its common prefixes).
 *
 * An entry is written to a temporary file in its final directory and
 * renamed into place once complete, so a reader sees a whole entry or
 * none, and backends filling the same entry at once are harmless (the
 * last rename wins, with the same content).  A reader verifies the header,
 * the identity and the checksum over the whole file before it serves a
 * byte; an entry that fails is removed and the object is read from S3.
 * Nothing is fsync'd: after a crash a torn entry fails its checksum.
 *
 * Least recently used entries are evicted: a hit touches the file's
 * modification time, and when the cache outgrows cache_max_size the
 * oldest files are removed until it is down to 90% of it.  Each backend
 * keeps an estimate of the total, refreshed by a directory walk when it
 * first stores something, every 64 entries it stores, and whenever the
 * estimate passes the cap; the walk also removes temporary files left for
 * more than ten minutes (by a backend that died while writing).  No
 * shared memory is needed; files that vanish under a walk (another
 * backend evicted them) are simply skipped.
 *
 * A problem with the cache (a full disk, permissions) never fails a
 * query: the scan gives one WARNING and goes on with S3 alone.  Open
 * files are closed, and unfinished temporary files removed, by a memory
 * context callback, so an error anywhere leaves none behind; an entry is
 * registered for it as soon as it is opened, before it is verified.
 *
 * Nothing here waits on the network, where the S3 client answers cancel,
 * so every loop over data (the checksum of an entry, its reads, a
 * listing's records, the directory walk and eviction) checks for
 * interrupts itself.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "miscadmin.h"
#include "port/pg_crc32c.h"
#include "storage/fd.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "bedlog_fdw.h"

#define CACHE_MAGIC			"BEDLOGC\n"
#define CACHE_VERSION		1
#define CACHE_KIND_OBJECT	1
#define CACHE_KIND_LISTING	2
#define CACHE_KIND_DISCOVERY	3
#define CACHE_BUFSIZE		(256 * 1024)	/* read buffer of a hit */
#define CACHE_IDENT_MAX		(64 * 1024) /* longest identity accepted */
#define CACHE_TEMP_MAX_AGE	600 /* seconds before a temp file is stale */
#define CACHE_WALK_EVERY	64	/* stored entries between two walks */
#define CACHE_LOW_WATER		0.9 /* eviction stops at this share of the cap */

/* The header of an entry file. */
typedef struct CacheHeader
{
	char		magic[8];		/* CACHE_MAGIC */
	uint32		version;		/* CACHE_VERSION */
	uint32		kind;			/* CACHE_KIND_* */
	uint32		idlen;			/* bytes of identity after the header */
	pg_crc32c	crc;			/* CRC-32C of identity and content */
	uint64		datalen;		/* bytes of content after the identity */
} CacheHeader;

/* An entry being read or written. */
struct BedlogCacheFile
{
	BedlogCacheFile *next;		/* in the cache's list of open files */
	int			fd;				/* open file */
	bool		writing;		/* a temporary file being filled */
	char	   *path;			/* the entry's final path */
	char	   *tmppath;		/* writing: the temporary file */
	uint32		kind;			/* CACHE_KIND_* */
	uint32		idlen;			/* bytes of identity */
	uint64		datalen;		/* content bytes: in all, or written */
	uint64		served;			/* reading: content bytes handed out */
	pg_crc32c	crc;			/* writing: running CRC */
	char	   *buf;			/* reading: buffer */
	bool		buffered;		/* reading: buf holds all of the content */
};

/* The cache as one scan uses it. */
struct BedlogCache
{
	char	   *dir;			/* cache_dir */
	char	   *ident;			/* endpoint, bucket, credential hash */
	int64		max_size;		/* cache_max_size */
	bool		listings;		/* cache_listings */
	int64		delay;			/* delivery_delay, microseconds */
	bool		warned;			/* the WARNING of this scan was given */
	bool		fill_off;		/* a write failed: store nothing more */
	BedlogCacheFile *files;		/* files open now */
	BedlogCacheStats stats;		/* for EXPLAIN ANALYZE */
	MemoryContext cxt;			/* the scan's */
	MemoryContextCallback cleanup;	/* closes files, removes temp files */
};

/* What this backend believes the cache directory holds. */
static struct
{
	char		dir[MAXPGPATH]; /* for which cache_dir */
	bool		known;			/* a walk has run */
	int64		total;			/* bytes, estimated */
	int			stored;			/* entries stored since the last walk */
} usage;

static uint32 temp_counter = 0;

/* Close every open file; remove unfinished temporary files. */
static void
cache_cleanup(void *arg)
{
	BedlogCache *c = (BedlogCache *) arg;
	BedlogCacheFile *f;

	for (f = c->files; f; f = f->next)
	{
		if (f->fd >= 0)
			close(f->fd);
		f->fd = -1;
		if (f->writing && f->tmppath)
			(void) unlink(f->tmppath);
	}
	c->files = NULL;
}

/*
 * The single WARNING of a scan about the cache; errno is the cause.  The
 * scan goes on without what failed.
 */
static void
cache_warning(BedlogCache *c, const char *action, const char *path)
{
	int			save_errno = errno;

	if (c->warned)
		return;
	c->warned = true;
	errno = save_errno;
	ereport(WARNING,
			(errcode_for_file_access(),
			 errmsg("could not %s a file in cache directory \"%s\": %m", action, c->dir),
			 errdetail("The file is \"%s\". The scan reads from S3 without the cache where it cannot use it.", path),
			 errhint("Check option \"cache_dir\" of the server: the database server's operating system user must be able to create and write files there.")));
}

/* Lower-case hex SHA-256 of s (65 bytes with the terminator), palloc'd. */
static char *
sha256_hex(const char *s, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char	   *hex;
	unsigned int i;

	if (EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute a SHA-256 digest")));
	hex = palloc(65);
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return hex;
}

/* The path of the entry with this identity: DIR/SUB/xx/<sha256>. */
static char *
entry_path(BedlogCache *c, uint32 kind, const char *id)
{
	char	   *name = sha256_hex(id, strlen(id));
	char	   *path;

	path = psprintf("%s/%s/%.2s/%s", c->dir,
					kind == CACHE_KIND_OBJECT ? "objects" : "listings", name, name);
	pfree(name);
	return path;
}

static char *
object_identity(BedlogCache *c, const char *key, const char *etag)
{
	return psprintf("object\n%s\n%s\n%s", c->ident, key, etag);
}

/*
 * A folder's listing is complete once delivery_delay has passed after its
 * end, and delivery_delay is a table option: the delay is part of the
 * identity, so that a table with a shorter one cannot store a listing
 * that a table with a longer one would take as complete.
 */
static char *
listing_identity(BedlogCache *c, const char *prefix)
{
	return psprintf("listing\n%s\n" INT64_FORMAT "\n%s", c->ident,
					(int64) c->delay, prefix);
}

/*
 * A discovery listing is the answer to one delimiter request, whatever
 * the table's template or delay: its identity is the request's (prefix
 * and parameters); how old it may be is the reader's discovery_ttl.
 */
static char *
discovery_identity(BedlogCache *c, const char *prefix, const char *params)
{
	return psprintf("discovery\n%s\n%s\n%s", c->ident, params, prefix);
}

/*
 * Create the directories of path up to its last '/' (mkdir -p), mode 0700.
 * Returns false with errno set on failure.
 */
static bool
make_parents(const char *path)
{
	char	   *p = pstrdup(path);
	char	   *s;
	bool		ok = true;

	for (s = p + 1; *s; s++)
	{
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, S_IRWXU) != 0 && errno != EEXIST)
		{
			ok = false;
			break;
		}
		*s = '/';
	}
	pfree(p);
	return ok;
}

/* read() all of len bytes at offset; false on error or short file. */
static bool
read_fully(int fd, void *buf, size_t len, off_t offset)
{
	char	   *p = buf;

	while (len > 0)
	{
		ssize_t		n = pread(fd, p, len, offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			if (n == 0)
				errno = EIO;
			return false;
		}
		p += n;
		len -= n;
		offset += n;
	}
	return true;
}

/* write() all of len bytes; false with errno on failure. */
static bool
write_fully(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0)
	{
		ssize_t		n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			if (n == 0)
				errno = ENOSPC;
			return false;
		}
		p += n;
		len -= n;
	}
	return true;
}

/* Remove a bad entry and count it; the server log says why. */
static void
discard(BedlogCache *c, const char *path, const char *why)
{
	if (unlink(path) != 0 && errno != ENOENT)
	{
		cache_warning(c, "remove", path);
		return;
	}
	c->stats.discarded++;
	ereport(LOG,
			(errmsg("bedlog_fdw discarded cache file \"%s\": %s", path, why)));
}

/* Remember an open file, for cleanup. */
static BedlogCacheFile *
new_file(BedlogCache *c, int fd, const char *path, uint32 kind, uint32 idlen)
{
	BedlogCacheFile *f = MemoryContextAllocZero(c->cxt, sizeof(BedlogCacheFile));

	f->fd = fd;
	f->path = MemoryContextStrdup(c->cxt, path);
	f->kind = kind;
	f->idlen = idlen;
	f->next = c->files;
	c->files = f;
	return f;
}

/* Close an entry that failed verification, and remove it. */
static void
reject(BedlogCache *c, BedlogCacheFile *f, const char *path, const char *why)
{
	bedlog_cache_close(c, f);
	discard(c, path, why);
}

/*
 * Open the entry at path and verify it in full: header, identity id, size
 * and checksum.  Returns the open entry (registered, so that an error or a
 * cancel while it is verified or read closes it), positioned nowhere in
 * particular, and the header in *hdr; or NULL when there is no usable
 * entry (a bad one is removed).  With content non-NULL, the content is
 * also read into a palloc'd buffer there (for listings, which are small);
 * else it is read through buf (CACHE_BUFSIZE bytes), which then holds all
 * of it when it fits (*buffered).
 */
static BedlogCacheFile *
open_verified(BedlogCache *c, const char *path, uint32 kind, const char *id,
			  CacheHeader *hdr, char **content, char *buf, bool *buffered)
{
	size_t		idlen = strlen(id);
	struct stat st;
	pg_crc32c	crc;
	char	   *idbuf;
	uint64		left;
	off_t		off;
	BedlogCacheFile *f;
	int			fd;

	fd = open(path, O_RDONLY | PG_BINARY, 0);
	if (fd < 0)
	{
		if (errno != ENOENT)
			cache_warning(c, "open", path);
		return NULL;
	}
	f = new_file(c, fd, path, kind, idlen);
	if (fstat(fd, &st) != 0)
	{
		cache_warning(c, "stat", path);
		bedlog_cache_close(c, f);
		return NULL;
	}
	if (!read_fully(fd, hdr, sizeof(*hdr), 0) ||
		memcmp(hdr->magic, CACHE_MAGIC, sizeof(hdr->magic)) != 0 ||
		hdr->version != CACHE_VERSION || hdr->kind != kind ||
		hdr->idlen != idlen ||
		(uint64) st.st_size != sizeof(*hdr) + idlen + hdr->datalen)
	{
		reject(c, f, path, "bad header or size");
		return NULL;
	}
	idbuf = palloc(idlen);
	if (!read_fully(fd, idbuf, idlen, sizeof(*hdr)) || memcmp(idbuf, id, idlen) != 0)
	{
		pfree(idbuf);
		reject(c, f, path, "identity does not match");
		return NULL;
	}
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, idbuf, idlen);
	pfree(idbuf);
	if (content)
	{
		if (hdr->datalen > MaxAllocSize - 1)
		{
			reject(c, f, path, "too large");
			return NULL;
		}
		*content = palloc(hdr->datalen + 1);
		if (!read_fully(fd, *content, hdr->datalen, sizeof(*hdr) + idlen))
		{
			pfree(*content);
			reject(c, f, path, "short read");
			return NULL;
		}
		(*content)[hdr->datalen] = '\0';
		COMP_CRC32C(crc, *content, hdr->datalen);
	}
	else
	{
		*buffered = hdr->datalen <= CACHE_BUFSIZE;
		left = hdr->datalen;
		off = sizeof(*hdr) + idlen;
		while (left > 0)
		{
			size_t		n = Min(left, (uint64) CACHE_BUFSIZE);

			CHECK_FOR_INTERRUPTS();
			if (!read_fully(fd, buf, n, off))
				break;
			COMP_CRC32C(crc, buf, n);
			left -= n;
			off += n;
		}
		if (left > 0)
		{
			reject(c, f, path, "short read");
			return NULL;
		}
	}
	FIN_CRC32C(crc);
	if (!EQ_CRC32C(crc, hdr->crc))
	{
		if (content)
			pfree(*content);
		reject(c, f, path, "checksum mismatch");
		return NULL;
	}
	/* a hit is a use: the file moves to the young end of the LRU order */
	(void) futimens(fd, NULL);
	return f;
}

/*
 * Walk the cache directory: remove stale temporary files, total the
 * entries' sizes, and when they exceed the cap remove the least recently
 * used ones until the total is down to the low-water mark.  Files that
 * vanish meanwhile are skipped.
 */
typedef struct CacheWalkEntry
{
	char	   *path;
	off_t		size;
	time_t		mtime;
} CacheWalkEntry;

static int
walk_entry_cmp(const void *a, const void *b)
{
	const CacheWalkEntry *x = (const CacheWalkEntry *) a;
	const CacheWalkEntry *y = (const CacheWalkEntry *) b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->path, y->path);
}

static void
cache_walk(BedlogCache *c)
{
	static const char *const subs[] = {"objects", "listings"};
	MemoryContext walk_cxt = AllocSetContextCreate(CurrentMemoryContext,
												   "bedlog_fdw cache walk",
												   ALLOCSET_DEFAULT_SIZES);
	MemoryContext oldcxt = MemoryContextSwitchTo(walk_cxt);
	CacheWalkEntry *entries;
	int			nentries = 0;
	int			maxentries = 1024;
	int64		total = 0;
	time_t		now = time(NULL);
	int			s;
	int			i;

	entries = palloc(sizeof(CacheWalkEntry) * maxentries);
	for (s = 0; s < lengthof(subs); s++)
	{
		char	   *top = psprintf("%s/%s", c->dir, subs[s]);
		DIR		   *tdir = AllocateDir(top);
		struct dirent *td;

		if (tdir == NULL)
			continue;
		while ((td = ReadDirExtended(tdir, top, DEBUG1)) != NULL)
		{
			char	   *sub;
			DIR		   *sdir;
			struct dirent *sd;

			if (strlen(td->d_name) != 2)
				continue;
			sub = psprintf("%s/%s", top, td->d_name);
			sdir = AllocateDir(sub);
			if (sdir == NULL)
				continue;
			while ((sd = ReadDirExtended(sdir, sub, DEBUG1)) != NULL)
			{
				char	   *path;
				struct stat st;

				/* the directories are released by an error (AllocateDir) */
				CHECK_FOR_INTERRUPTS();
				if (sd->d_name[0] == '.')
					continue;
				path = psprintf("%s/%s", sub, sd->d_name);
				if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
				{
					pfree(path);
					continue;
				}
				if (strstr(sd->d_name, ".tmp.") != NULL)
				{
					/* left by a backend that died while writing? */
					if (now - st.st_mtime > CACHE_TEMP_MAX_AGE)
						(void) unlink(path);
					else
						total += st.st_size;
					pfree(path);
					continue;
				}
				if (nentries == maxentries)
				{
					maxentries *= 2;
					entries = repalloc(entries, sizeof(CacheWalkEntry) * maxentries);
				}
				entries[nentries].path = path;
				entries[nentries].size = st.st_size;
				entries[nentries].mtime = st.st_mtime;
				nentries++;
				total += st.st_size;
			}
			FreeDir(sdir);
		}
		FreeDir(tdir);
	}

	if (total > c->max_size)
	{
		int64		goal = (int64) (c->max_size * CACHE_LOW_WATER);

		qsort(entries, nentries, sizeof(CacheWalkEntry), walk_entry_cmp);
		for (i = 0; i < nentries && total > goal; i++)
		{
			CHECK_FOR_INTERRUPTS();
			if (unlink(entries[i].path) == 0)
				c->stats.evicted++;
			else if (errno != ENOENT)
				continue;
			total -= entries[i].size;
		}
	}

	strlcpy(usage.dir, c->dir, sizeof(usage.dir));
	usage.known = true;
	usage.total = total;
	usage.stored = 0;
	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(walk_cxt);
}

/* Account for an entry of size bytes just stored; evict if need be. */
static void
cache_account(BedlogCache *c, int64 size)
{
	if (!usage.known || strcmp(usage.dir, c->dir) != 0)
	{
		cache_walk(c);
		return;
	}
	usage.total += size;
	if (++usage.stored >= CACHE_WALK_EVERY || usage.total > c->max_size)
		cache_walk(c);
}

/*
 * The cache of a scan, from the options; NULL when cache_dir is not set.
 * Lives in cxt; its open files are closed when cxt goes away.
 */
BedlogCache *
bedlog_cache_create(const BedlogOptions *opts, MemoryContext cxt)
{
	MemoryContext oldcxt;
	BedlogCache *c;
	char	   *cred;
	size_t		len;

	if (opts->cache_dir == NULL)
		return NULL;
	oldcxt = MemoryContextSwitchTo(cxt);
	c = palloc0(sizeof(BedlogCache));
	c->dir = pstrdup(opts->cache_dir);
	len = strlen(c->dir);
	while (len > 1 && c->dir[len - 1] == '/')
		c->dir[--len] = '\0';
	/*
	 * entries of other credentials are not shared: they may see less.  The
	 * server's own identity (use_instance_credentials) is named by its
	 * profile, not by its temporary keys, which change at every refresh.
	 */
	if (opts->access_key_id)
		cred = sha256_hex(opts->access_key_id, strlen(opts->access_key_id));
	else if (opts->use_instance_credentials)
		cred = psprintf("instance %s", opts->aws_profile ? opts->aws_profile : "");
	else
		cred = pstrdup("anonymous");
	/* an assumed role sees what the role may read, not what its caller may */
	if (opts->role_arn)
	{
		char	   *with_role = psprintf("%s role %s", cred, opts->role_arn);

		pfree(cred);
		cred = with_role;
	}
	c->ident = psprintf("%s\n%s\n%s", opts->endpoint, opts->bucket, cred);
	pfree(cred);
	c->max_size = opts->cache_max_size;
	c->listings = opts->cache_listings;
	c->delay = opts->delivery_delay;
	c->cxt = cxt;
	c->cleanup.func = cache_cleanup;
	c->cleanup.arg = c;
	MemoryContextRegisterResetCallback(cxt, &c->cleanup);
	MemoryContextSwitchTo(oldcxt);
	return c;
}

/* Is there an entry for this version of the object (not yet verified)? */
bool
bedlog_cache_probe(BedlogCache *c, const char *key, const char *etag)
{
	char	   *id = object_identity(c, key, etag);
	char	   *path = entry_path(c, CACHE_KIND_OBJECT, id);
	struct stat st;
	bool		found;

	if (stat(path, &st) == 0)
		found = S_ISREG(st.st_mode);
	else
	{
		found = false;
		if (errno != ENOENT)
			cache_warning(c, "stat", path);
	}
	pfree(id);
	pfree(path);
	return found;
}

/*
 * Open and verify the entry of this version of the object, for
 * bedlog_cache_read.  Returns NULL when there is no usable entry (a
 * corrupt one is removed): the caller then reads S3.
 */
BedlogCacheFile *
bedlog_cache_open(BedlogCache *c, const char *key, const char *etag)
{
	char	   *id = object_identity(c, key, etag);
	char	   *path = entry_path(c, CACHE_KIND_OBJECT, id);
	CacheHeader hdr;
	BedlogCacheFile *f = NULL;
	char	   *buf = MemoryContextAlloc(c->cxt, CACHE_BUFSIZE);
	bool		buffered = false;

	f = open_verified(c, path, CACHE_KIND_OBJECT, id, &hdr, NULL, buf, &buffered);
	if (f)
	{
		f->datalen = hdr.datalen;
		f->buf = buf;
		f->buffered = buffered;
		c->stats.hits++;
	}
	else
		pfree(buf);
	pfree(id);
	pfree(path);
	return f;
}

/*
 * The next bytes of a verified entry: sets *data and returns how many, 0
 * at its end.  The bytes stay valid until the next call.  The entry was
 * verified in full when opened, so a failure here is an I/O error of the
 * disk, and is raised.
 */
size_t
bedlog_cache_read(BedlogCache *c, BedlogCacheFile *f, const char **data)
{
	size_t		n;

	/* a scan of cached objects never waits on the network: answer here */
	CHECK_FOR_INTERRUPTS();
	if (f->served >= f->datalen)
		return 0;
	n = Min(f->datalen - f->served, (uint64) CACHE_BUFSIZE);
	/* an entry that fit in the buffer is still there from verifying it */
	if (!f->buffered &&
		!read_fully(f->fd, f->buf, n, sizeof(CacheHeader) + f->idlen + f->served))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read cache file \"%s\": %m", f->path)));
	f->served += n;
	c->stats.bytes_read += n;
	*data = f->buf;
	return n;
}

/*
 * Start writing the entry at path with identity id: a temporary file in
 * the entry's directory (created if need be), the header to be completed
 * at commit.  Returns NULL (with the scan's WARNING) when that fails.
 */
static BedlogCacheFile *
begin_write(BedlogCache *c, uint32 kind, const char *id, const char *path)
{
	CacheHeader hdr;
	BedlogCacheFile *f;
	char	   *tmppath;
	size_t		idlen = strlen(id);
	int			fd;

	if (c->fill_off)
		return NULL;
	tmppath = psprintf("%s.tmp.%d.%u", path, MyProcPid, temp_counter++);
	fd = open(tmppath, O_WRONLY | O_CREAT | O_EXCL | PG_BINARY, S_IRUSR | S_IWUSR);
	if (fd < 0 && errno == ENOENT && make_parents(tmppath))
		fd = open(tmppath, O_WRONLY | O_CREAT | O_EXCL | PG_BINARY, S_IRUSR | S_IWUSR);
	/* left by a backend that had our pid and died: nobody else writes it */
	if (fd < 0 && errno == EEXIST && unlink(tmppath) == 0)
		fd = open(tmppath, O_WRONLY | O_CREAT | O_EXCL | PG_BINARY, S_IRUSR | S_IWUSR);
	if (fd < 0)
	{
		cache_warning(c, "create", tmppath);
		c->fill_off = true;
		pfree(tmppath);
		return NULL;
	}
	f = new_file(c, fd, (char *) path, kind, idlen);
	f->writing = true;
	f->tmppath = MemoryContextStrdup(c->cxt, tmppath);
	pfree(tmppath);

	memset(&hdr, 0, sizeof(hdr));
	INIT_CRC32C(f->crc);
	COMP_CRC32C(f->crc, id, idlen);
	if (!write_fully(fd, &hdr, sizeof(hdr)) || !write_fully(fd, id, idlen))
	{
		cache_warning(c, "write", f->tmppath);
		c->fill_off = true;
		bedlog_cache_close(c, f);
		return NULL;
	}
	return f;
}

/*
 * Start storing this version of an object, whose bytes follow with
 * bedlog_cache_fill_write; NULL when it cannot be stored.
 */
BedlogCacheFile *
bedlog_cache_fill_start(BedlogCache *c, const char *key, const char *etag)
{
	char	   *id = object_identity(c, key, etag);
	char	   *path = entry_path(c, CACHE_KIND_OBJECT, id);
	BedlogCacheFile *f = begin_write(c, CACHE_KIND_OBJECT, id, path);

	pfree(id);
	pfree(path);
	return f;
}

/*
 * Append len bytes to an entry being stored.  Returns false when the entry
 * is given up (a write failed, or it would not fit under the cap); f is
 * then closed and must not be used again.
 */
bool
bedlog_cache_fill_write(BedlogCache *c, BedlogCacheFile *f, const char *data,
						size_t len)
{
	if ((int64) (sizeof(CacheHeader) + f->idlen + f->datalen + len) > c->max_size)
	{
		bedlog_cache_close(c, f);
		return false;
	}
	if (!write_fully(f->fd, data, len))
	{
		cache_warning(c, "write", f->tmppath);
		c->fill_off = true;
		bedlog_cache_close(c, f);
		return false;
	}
	COMP_CRC32C(f->crc, data, len);
	f->datalen += len;
	return true;
}

/*
 * The entry is complete: write its header and rename it into place (over
 * an entry another backend may have stored meanwhile: same content).  f
 * is closed in any case.
 */
void
bedlog_cache_fill_commit(BedlogCache *c, BedlogCacheFile *f)
{
	CacheHeader hdr;
	int64		size = sizeof(hdr) + f->idlen + f->datalen;

	memset(&hdr, 0, sizeof(hdr));
	memcpy(hdr.magic, CACHE_MAGIC, sizeof(hdr.magic));
	hdr.version = CACHE_VERSION;
	hdr.kind = f->kind;
	hdr.idlen = f->idlen;
	hdr.datalen = f->datalen;
	hdr.crc = f->crc;
	FIN_CRC32C(hdr.crc);
	if (pwrite(f->fd, &hdr, sizeof(hdr), 0) != sizeof(hdr))
	{
		if (errno == 0)
			errno = ENOSPC;
		cache_warning(c, "write", f->tmppath);
		c->fill_off = true;
		bedlog_cache_close(c, f);
		return;
	}
	if (close(f->fd) != 0)
	{
		f->fd = -1;
		cache_warning(c, "write", f->tmppath);
		c->fill_off = true;
		bedlog_cache_close(c, f);
		return;
	}
	f->fd = -1;
	if (rename(f->tmppath, f->path) != 0)
	{
		cache_warning(c, "rename", f->tmppath);
		bedlog_cache_close(c, f);
		return;
	}
	f->writing = false;
	bedlog_cache_close(c, f);
	c->stats.stored++;
	cache_account(c, size);
}

/*
 * Close an entry being read, or abandon one being written (its temporary
 * file is removed).  f is freed.
 */
void
bedlog_cache_close(BedlogCache *c, BedlogCacheFile *f)
{
	BedlogCacheFile **p;

	for (p = &c->files; *p; p = &(*p)->next)
	{
		if (*p == f)
		{
			*p = f->next;
			break;
		}
	}
	if (f->fd >= 0)
		close(f->fd);
	if (f->writing && f->tmppath)
		(void) unlink(f->tmppath);
	if (f->buf)
		pfree(f->buf);
	if (f->tmppath)
		pfree(f->tmppath);
	pfree(f->path);
	pfree(f);
}

/* An object was fetched from S3 (not in the cache). */
void
bedlog_cache_count_miss(BedlogCache *c)
{
	c->stats.misses++;
}

/*
 * Forget the cached listing of the folder of key: the object was listed
 * there but is gone or has changed (a lifecycle rule expired it, or it
 * was rewritten), so the next scan lists that folder again.  c may be
 * NULL.
 */
void
bedlog_cache_listing_forget(BedlogCache *c, const char *key)
{
	const char *slash = strrchr(key, '/');
	char	   *prefix;
	char	   *id;
	char	   *path;
	struct stat st;

	if (c == NULL || !c->listings || slash == NULL)
		return;
	prefix = pnstrdup(key, slash - key + 1);
	id = listing_identity(c, prefix);
	path = entry_path(c, CACHE_KIND_LISTING, id);
	if (stat(path, &st) == 0)
		discard(c, path, "an object it lists is gone or has changed");
	pfree(path);
	pfree(id);
	pfree(prefix);
}

/*
 * How a listing task can use the cache: only the listing of a whole time
 * folder that ended more than delivery_delay ago, which no longer
 * changes, is cached (BEDLOG_TASK_CACHE_HIT when it is there,
 * BEDLOG_TASK_CACHE_FILL when it is to be stored); any other is listed
 * live (BEDLOG_TASK_CACHE_NONE).  c may be NULL.
 */
BedlogTaskCache
bedlog_cache_listing_state(BedlogCache *c, const BedlogListTask *task)
{
	char	   *id;
	char	   *path;
	struct stat st;
	bool		found;

	if (c == NULL || !c->listings || task->kind != BEDLOG_LIST_FOLDER ||
		task->folder_end == 0 ||
		task->folder_end > GetCurrentTimestamp() - c->delay)
		return BEDLOG_TASK_CACHE_NONE;
	id = listing_identity(c, task->prefix);
	path = entry_path(c, CACHE_KIND_LISTING, id);
	if (stat(path, &st) == 0)
		found = S_ISREG(st.st_mode);
	else
	{
		found = false;
		if (errno != ENOENT)
			cache_warning(c, "stat", path);
	}
	pfree(id);
	pfree(path);
	return found ? BEDLOG_TASK_CACHE_HIT : BEDLOG_TASK_CACHE_FILL;
}

/*
 * The verified content of the small entry (a listing) of kind at path,
 * read whole and the file closed again; NULL when there is no usable entry.
 * Takes id (pfree'd here).
 */
static char *
read_small_entry(BedlogCache *c, const char *path, uint32 kind, char *id,
				 CacheHeader *hdr)
{
	char	   *content = NULL;
	BedlogCacheFile *f;

	f = open_verified(c, path, kind, id, hdr, &content, NULL, NULL);
	pfree(id);
	if (f == NULL)
		return NULL;
	bedlog_cache_close(c, f);
	return content;
}

/*
 * The cached listing of the folder prefix, as a List of BedlogObject in
 * key order, allocated in the current memory context.  Returns false when
 * there is no usable entry (a corrupt one is removed).
 */
bool
bedlog_cache_listing_get(BedlogCache *c, const char *prefix, List **objects)
{
	char	   *id = listing_identity(c, prefix);
	char	   *path = entry_path(c, CACHE_KIND_LISTING, id);
	CacheHeader hdr;
	char	   *content;
	const char *p;
	const char *end;
	List	   *result = NIL;

	content = read_small_entry(c, path, CACHE_KIND_LISTING, id, &hdr);
	if (content == NULL)
	{
		pfree(path);
		return false;
	}

	/* records: uint32 key length, key, int64 size, uint32 ETag length, ETag */
	p = content;
	end = content + hdr.datalen;
	while (p < end)
	{
		BedlogObject *obj = palloc0(sizeof(BedlogObject));
		uint32		klen;
		uint32		elen;

		CHECK_FOR_INTERRUPTS();
		if ((size_t) (end - p) < sizeof(uint32))
			break;
		memcpy(&klen, p, sizeof(klen));
		p += sizeof(klen);
		if ((size_t) (end - p) < (size_t) klen + sizeof(int64) + sizeof(uint32))
			break;
		obj->key = pnstrdup(p, klen);
		p += klen;
		memcpy(&obj->size, p, sizeof(int64));
		p += sizeof(int64);
		memcpy(&elen, p, sizeof(elen));
		p += sizeof(elen);
		if ((size_t) (end - p) < (size_t) elen)
			break;
		/* a listing without ETags was stored with empty ones */
		obj->etag = elen > 0 ? pnstrdup(p, elen) : NULL;
		p += elen;
		result = lappend(result, obj);
	}
	pfree(content);
	if (p != end)
	{
		/* the checksum matched what this version wrote: cannot happen */
		list_free_deep(result);
		discard(c, path, "malformed listing");
		pfree(path);
		return false;
	}
	pfree(path);
	c->stats.listing_hits++;
	*objects = result;
	return true;
}

/* Store the complete listing of the folder prefix (BedlogObject *). */
void
bedlog_cache_listing_put(BedlogCache *c, const char *prefix, List *objects)
{
	char	   *id = listing_identity(c, prefix);
	char	   *path = entry_path(c, CACHE_KIND_LISTING, id);
	BedlogCacheFile *f;
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, objects)
	{
		BedlogObject *obj = (BedlogObject *) lfirst(lc);
		uint32		klen = strlen(obj->key);
		uint32		elen = obj->etag ? strlen(obj->etag) : 0;

		CHECK_FOR_INTERRUPTS();
		appendBinaryStringInfo(&buf, (char *) &klen, sizeof(klen));
		appendBinaryStringInfo(&buf, obj->key, klen);
		appendBinaryStringInfo(&buf, (char *) &obj->size, sizeof(int64));
		appendBinaryStringInfo(&buf, (char *) &elen, sizeof(elen));
		if (elen > 0)
			appendBinaryStringInfo(&buf, obj->etag, elen);
	}
	f = begin_write(c, CACHE_KIND_LISTING, id, path);
	if (f && bedlog_cache_fill_write(c, f, buf.data, buf.len))
		bedlog_cache_fill_commit(c, f);
	pfree(buf.data);
	pfree(id);
	pfree(path);
}

/*
 * The cached discovery listing of prefix with params (the delimiter
 * request's parameters): when it was listed, the number of objects at
 * that level, and its common prefixes (a List of char *, in the current
 * memory context).  Returns false when there is no usable entry (a
 * corrupt one is removed); whether it is still fresh is the caller's to
 * decide.
 */
bool
bedlog_cache_discovery_get(BedlogCache *c, const char *prefix,
						   const char *params, TimestampTz *listed_at,
						   int64 *nobjects, List **prefixes)
{
	char	   *id = discovery_identity(c, prefix, params);
	char	   *path = entry_path(c, CACHE_KIND_DISCOVERY, id);
	CacheHeader hdr;
	char	   *content;
	const char *p;
	const char *end;
	List	   *result = NIL;
	int64		when;

	content = read_small_entry(c, path, CACHE_KIND_DISCOVERY, id, &hdr);
	if (content == NULL)
	{
		pfree(path);
		return false;
	}

	/* int64 time listed, int64 objects; records: uint32 length, prefix */
	p = content;
	end = content + hdr.datalen;
	when = 0;
	if ((size_t) (end - p) >= 2 * sizeof(int64))
	{
		memcpy(&when, p, sizeof(int64));
		p += sizeof(int64);
		memcpy(nobjects, p, sizeof(int64));
		p += sizeof(int64);
		while (p < end)
		{
			uint32		len;

			CHECK_FOR_INTERRUPTS();
			if ((size_t) (end - p) < sizeof(uint32))
				break;
			memcpy(&len, p, sizeof(len));
			p += sizeof(len);
			if ((size_t) (end - p) < (size_t) len)
				break;
			result = lappend(result, pnstrdup(p, len));
			p += len;
		}
	}
	else
		p = NULL;				/* too short for its time and count */
	pfree(content);
	if (p != end)
	{
		/* the checksum matched what this version wrote: cannot happen */
		list_free_deep(result);
		discard(c, path, "malformed discovery listing");
		pfree(path);
		return false;
	}
	pfree(path);
	*listed_at = (TimestampTz) when;
	*prefixes = result;
	return true;
}

/*
 * Store the discovery listing of prefix with params: listed at listed_at
 * (when its first page was requested), nobjects objects at that level,
 * and its common prefixes (char *).  It replaces an older one.
 */
void
bedlog_cache_discovery_put(BedlogCache *c, const char *prefix,
						   const char *params, TimestampTz listed_at,
						   int64 nobjects, List *prefixes)
{
	char	   *id = discovery_identity(c, prefix, params);
	char	   *path = entry_path(c, CACHE_KIND_DISCOVERY, id);
	BedlogCacheFile *f;
	StringInfoData buf;
	int64		when = (int64) listed_at;
	ListCell   *lc;

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, (char *) &when, sizeof(int64));
	appendBinaryStringInfo(&buf, (char *) &nobjects, sizeof(int64));
	foreach(lc, prefixes)
	{
		const char *cp = (const char *) lfirst(lc);
		uint32		len = strlen(cp);

		CHECK_FOR_INTERRUPTS();
		appendBinaryStringInfo(&buf, (char *) &len, sizeof(len));
		appendBinaryStringInfo(&buf, cp, len);
	}
	f = begin_write(c, CACHE_KIND_DISCOVERY, id, path);
	if (f && bedlog_cache_fill_write(c, f, buf.data, buf.len))
		bedlog_cache_fill_commit(c, f);
	pfree(buf.data);
	pfree(id);
	pfree(path);
}

/* The counters of a scan's cache, for EXPLAIN ANALYZE. */
const BedlogCacheStats *
bedlog_cache_stats(BedlogCache *c)
{
	return &c->stats;
}
