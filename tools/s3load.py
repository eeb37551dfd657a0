#!/usr/bin/python3
"""s3load.py: upload a directory tree into buckets on a local S3 endpoint.

Design notes.  Uses botocore as Debian ships it (python3-botocore, run with
/usr/bin/python3), path-style addressing and SigV4, the s3rver credentials
S3RVER/S3RVER, region us-east-1.  It is idempotent: buckets that exist are
kept, and an object already there with the same size and MD5 ETag is not sent
again, so running it twice is cheap.  Uploads run on a thread pool; botocore
clients are thread-safe.

Usage:
    s3load.py [--endpoint URL] ROOT            # ROOT/<bucket>/<key>, every subdirectory a bucket
    s3load.py [--endpoint URL] --bucket B DIR  # DIR/<key> into bucket B
    s3load.py [--endpoint URL] --list [BUCKET...]   # count objects (and bytes) per bucket
"""

import argparse
import concurrent.futures
import hashlib
import os
import sys

try:
    import botocore.session
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError:  # pragma: no cover
    sys.exit("s3load.py: botocore is missing: install python3-botocore and run with /usr/bin/python3")


def client(endpoint, threads, region="us-east-1", access_key="S3RVER", secret_key="S3RVER"):
    s = botocore.session.get_session()
    return s.create_client(
        "s3",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            max_pool_connections=max(10, threads),
            retries={"max_attempts": 5, "mode": "standard"},
            connect_timeout=10,
            read_timeout=120,
        ),
    )


def ensure_bucket(c, bucket):
    try:
        c.create_bucket(Bucket=bucket)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


def existing(c, bucket):
    """key -> (size, etag without quotes) of what the bucket holds."""
    out = {}
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            out[o["Key"]] = (o["Size"], o["ETag"].strip('"'))
    return out


def md5_of(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def files_under(d):
    for base, dirs, files in os.walk(d):
        dirs.sort()
        for n in sorted(files):
            p = os.path.join(base, n)
            yield os.path.relpath(p, d).replace(os.sep, "/"), p


def load_bucket(c, bucket, d, pool):
    ensure_bucket(c, bucket)
    have = existing(c, bucket)
    jobs = []
    skipped = 0
    for key, path in files_under(d):
        size = os.path.getsize(path)
        h = have.get(key)
        if h and h[0] == size and h[1] == md5_of(path):
            skipped += 1
            continue

        def put(key=key, path=path):
            with open(path, "rb") as f:
                c.put_object(Bucket=bucket, Key=key, Body=f)
            return os.path.getsize(path)

        jobs.append(pool.submit(put))
    nbytes = 0
    for j in concurrent.futures.as_completed(jobs):
        nbytes += j.result()
    return len(jobs), skipped, nbytes


def list_buckets(c, names):
    if not names:
        names = [b["Name"] for b in c.list_buckets().get("Buckets", [])]
    for b in names:
        n = 0
        size = 0
        pages = 0
        for page in c.get_paginator("list_objects_v2").paginate(Bucket=b):
            pages += 1
            for o in page.get("Contents", []):
                n += 1
                size += o["Size"]
        print("%s\t%d objects\t%d bytes\t%d pages" % (b, n, size, pages))


def main():
    ap = argparse.ArgumentParser(description="Upload a directory tree into buckets on a local S3 endpoint.")
    ap.add_argument("--endpoint", default=os.environ.get("S3_ENDPOINT", "http://127.0.0.1:45711"))
    ap.add_argument("--bucket", help="upload DIR's files into this one bucket")
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--list", action="store_true", help="list buckets with object counts instead")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("paths", nargs="*")
    a = ap.parse_args()
    c = client(a.endpoint, a.threads)
    if a.list:
        list_buckets(c, a.paths)
        return
    if len(a.paths) != 1:
        ap.error("give exactly one directory")
    root = a.paths[0]
    if not os.path.isdir(root):
        ap.error("%s is not a directory" % root)
    if a.bucket:
        targets = [(a.bucket, root)]
    else:
        targets = [(n, os.path.join(root, n)) for n in sorted(os.listdir(root))
                   if os.path.isdir(os.path.join(root, n))]
    with concurrent.futures.ThreadPoolExecutor(a.threads) as pool:
        for bucket, d in targets:
            sent, skipped, nbytes = load_bucket(c, bucket, d, pool)
            if not a.quiet:
                print("s3load: %s: %d objects sent (%d bytes), %d already there" % (bucket, sent, nbytes, skipped))


if __name__ == "__main__":
    main()
