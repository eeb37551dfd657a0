# bedlog_fdw: PGXS build.
#
#   make && make install          build and install into PG_CONFIG's tree
#   make installcheck             pg_regress tests (needs the test rig:
#                                 use scripts/test.sh, which starts it)

MODULE_big = bedlog_fdw
OBJS = \
	bedlog_fdw.o \
	src/http.o \
	src/connection.o \
	src/option.o \
	src/credentials.o \
	src/s3_client.o \
	src/cwlogs.o \
	src/sigv4.o \
	src/listing.o \
	src/discovery.o \
	src/s3xml.o \
	src/reader.o \
	src/decode.o \
	src/jsonscan.o \
	src/keyspace.o \
	src/pushdown.o \
	src/objindex.o \
	src/bodies.o \
	src/skip.o \
	src/cwscan.o \
	src/scan.o \
	src/parallel.o \
	src/readahead.o \
	src/analyze.o \
	src/cache.o \
	src/compat.o

EXTENSION = bedlog_fdw
DATA = bedlog_fdw--1.0.sql bedlog_fdw--1.0--1.1.sql
PGFILEDESC = "bedlog_fdw - foreign data wrapper for AWS Bedrock invocation logs in S3"

REGRESS = options import examples columns layout pagination errors on_error memory pushdown keyspace pushdown_property parallel cancel cancel_cpu connections rollup analyze objindex jsonb pricing credentials sts large_bodies cache discovery cwlogs soak scale_out
REGRESS_OPTS = --load-extension=bedlog_fdw

PKG_CONFIG ?= pkg-config
XML2_CFLAGS := $(shell $(PKG_CONFIG) --cflags libxml-2.0 2>/dev/null || xml2-config --cflags)
XML2_LIBS := $(shell $(PKG_CONFIG) --libs libxml-2.0 2>/dev/null || xml2-config --libs)
CURL_LIBS := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || echo -lcurl)
JANSSON_LIBS := $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null || echo -ljansson)

# ISA-L's inflate (libisal-dev) is used when present, zlib otherwise;
# `make WITH_ISAL=no` builds with zlib alone.
WITH_ISAL ?= $(shell $(PKG_CONFIG) --exists 'libisal >= 2.27' 2>/dev/null && echo yes || echo no)
ifeq ($(WITH_ISAL),yes)
ISAL_CFLAGS := -DHAVE_ISAL $(shell $(PKG_CONFIG) --cflags libisal)
ISAL_LIBS := $(shell $(PKG_CONFIG) --libs libisal)
endif

PG_CPPFLAGS = -I$(srcdir)/src $(XML2_CFLAGS) $(ISAL_CFLAGS)
SHLIB_LINK = $(CURL_LIBS) $(JANSSON_LIBS) -lcrypto -lz $(ISAL_LIBS) $(XML2_LIBS)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# every object depends on the shared headers (PGXS tracks no header deps)
$(OBJS): $(srcdir)/src/bedlog_fdw.h $(srcdir)/src/compat.h $(srcdir)/src/jsonscan.h $(srcdir)/src/sigv4.h $(srcdir)/src/s3xml.h

# Out-of-tree builds (make -f SRC/Makefile VPATH=SRC, as pg_buildext does in
# build-NN/ for the Debian package) need the object directory src/ in the
# build directory; an order-only phony prerequisite makes it without making
# objects out of date.
.PHONY: bedlog-objdir
bedlog-objdir:
	@mkdir -p src
$(OBJS): | bedlog-objdir
