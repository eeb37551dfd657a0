#!/usr/bin/env python3
"""Differential test of src/s3xml.c against Python's xml.etree (expat).

The same documents are given to s3xml_cli (libxml2 underneath) and to a
reference written here on xml.etree.ElementTree, which implements the
rules of s3xml.h independently: root element name, last child wins,
IsTruncated exactly "true", EncodingType "url" in any case, %-decoding
with '+' as a space, one pair of ETag quotes removed, Size as C's strtoll
reads it, an element's value being all its descendant text.  The two must
agree on every field, well-formedness included.

Documents: the seed corpus of the fuzzer (fuzz/corpus/s3xml, less the few
listed in DIVERGE, where the two parsers differ by design), and a seeded
random corpus of listing pages and error bodies with escapes, CDATA,
character references, comments, namespaces, pretty-printing, unknown
elements, odd values, and broken variants (cut short, a tag renamed, a
stray '<' or '&').  Blank text is only generated where libxml2 keeps it
too (see blank-text notes in s3xml.h: libxml2 drops a blank run that it
takes for formatting, such as one before a child element, expat never).

Usage: diff.py CLI SEEDDIR WORKDIR [N]
Prints disagreements, then "RESULT diff passed=N failed=M".
"""
import os
import random
import subprocess
import sys
import xml.etree.ElementTree as ET

# fuzz seeds where expat and libxml2 differ by design, not by a bug here
DIVERGE = {
    "key_child_elements": "libxml2 drops the blank before <i> (formatting)",
    "xml_space_preserve": "libxml2 drops blanks between elements, expat keeps them",
    "external_entity": "expat refuses an external entity, libxml2 leaves it empty",
    "billion_laughs": "both refuse, but expat only past 8 MB of expansion: slow",
    "deep_nesting": "libxml2 refuses nesting deeper than 256 elements, expat not",
    "deep_nesting_key": "libxml2 refuses nesting deeper than 256 elements, expat not",
}

LLONG_MAX = (1 << 63) - 1
LLONG_MIN = -(1 << 63)


def local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else None


def text(el):
    return "".join(el.itertext()).encode("utf-8")


def strtoll(b):
    s = b.decode("utf-8", "replace")
    i = 0
    while i < len(s) and s[i] in " \t\n\v\f\r":
        i += 1
    neg = False
    if i < len(s) and s[i] in "+-":
        neg = s[i] == "-"
        i += 1
    j = i
    while j < len(s) and "0" <= s[j] <= "9":
        j += 1
    if j == i:
        return 0
    v = int(s[i:j])
    v = -v if neg else v
    return max(LLONG_MIN, min(LLONG_MAX, v))


HEX = b"0123456789abcdefABCDEF"


def url_decode(b):
    out = bytearray()
    i = 0
    while i < len(b):
        c = b[i]
        if c == 0x25 and i + 2 < len(b) + 0 and b[i + 1] in HEX and b[i + 2] in HEX:
            out.append(int(b[i + 1:i + 3], 16))
            i += 3
        elif c == 0x2B:
            out.append(0x20)
            i += 1
        else:
            out.append(c)
            i += 1
    # a %00 ends the C string
    return bytes(out).split(b"\0", 1)[0]


def hx(b):
    if b is None:
        return "-"
    return b.hex() if b else "="


def reference(doc):
    """The line s3xml_cli prints for doc, computed with xml.etree."""
    try:
        root = ET.fromstring(doc)
    except ET.ParseError:
        return "MALFORMED\t-\t-\t-\t-\t-\tMALFORMED\t-\t-\t-"
    name = local(root.tag)
    # listing
    if name != "ListBucketResult":
        lst = "WRONG_ROOT\t-\t-\t%s\t-\t-" % hx(name.encode("utf-8"))
    else:
        kids = [k for k in root if isinstance(k.tag, str)]
        enc = False
        for k in kids:
            if local(k.tag) == "EncodingType":
                enc = text(k).lower() == b"url"
        truncated, token, objs, prefs, status = 0, None, [], [], "OK"
        for k in kids:
            n = local(k.tag)
            if n == "IsTruncated":
                truncated = int(text(k) == b"true")
            elif n == "NextContinuationToken":
                token = text(k)
            elif n == "Contents":
                key, size, etag = None, 0, None
                for c in k:
                    cn = local(c.tag)
                    if cn == "Key":
                        key = url_decode(text(c)) if enc else text(c)
                    elif cn == "Size":
                        size = strtoll(text(c))
                    elif cn == "ETag":
                        etag = text(c)
                        if len(etag) >= 2 and etag[:1] == b'"' and etag[-1:] == b'"':
                            etag = etag[1:-1]
                if key is None:
                    status = "NO_KEY"
                    break
                objs.append((key, size, etag))
            elif n == "CommonPrefixes":
                for c in k:
                    if local(c.tag) == "Prefix":
                        prefs.append(url_decode(text(c)) if enc else text(c))
        if status == "OK" and truncated and not token:
            status = "NO_TOKEN"
        if status != "OK":
            lst = "%s\t-\t-\t-\t-\t-" % status
        else:
            lst = "OK\t%d\t%s\t-\t%s\t%s" % (
                truncated, hx(token),
                "".join("%s,%d,%s;" % (hx(k), s, hx(e)) for k, s, e in objs),
                "".join("%s;" % hx(p) for p in prefs))
    # error body
    if name != "Error":
        err = "WRONG_ROOT\t-\t-\t-"
    else:
        f = {"Code": None, "Message": None, "Region": None}
        for k in root:
            if local(k.tag) in f:
                f[local(k.tag)] = text(k)
        err = "OK\t%s\t%s\t%s" % (hx(f["Code"]), hx(f["Message"]), hx(f["Region"]))
    return lst + "\t" + err


# --- the random corpus -------------------------------------------------------
KEYCHARS = ("abcdefghijklmnopqrstuvwxyz0123456789/-_.!*'()" + "ABCXYZ" +
            " +%&<>\"'=?#\u00e9\u20ac\u65e5\U0001F600")


def esc(s, r):
    """s as XML character data, in one of several spellings; never blank
    next to markup."""
    out = []
    for ch in s:
        x = r.random()
        if ch == "&":
            out.append(r.choice(["&amp;", "&#38;", "&#x26;"]))
        elif ch == "<":
            out.append(r.choice(["&lt;", "&#60;"]))
        elif ch == ">" and x < 0.5:
            out.append("&gt;")
        elif ch == '"' and x < 0.5:
            out.append("&quot;")
        elif ch == "'" and x < 0.3:
            out.append("&apos;")
        elif x < 0.05 and ch not in " \t\n\r":
            out.append("&#x%x;" % ord(ch))
        else:
            out.append(ch)
    v = "".join(out)
    if r.random() < 0.1 and v.strip() and "]]>" not in s:
        # a CDATA section for the whole value (raw text inside)
        v = "<![CDATA[" + s + "]]>"
    elif r.random() < 0.05 and len(v) > 2 and v[0] not in " \t\n" and v[-1] not in " \t\n":
        cut = len(v) // 2
        while cut < len(v) and v[cut] in "&#;" or (cut > 0 and "&" in v[max(0, cut - 8):cut] and ";" not in v[v.rfind("&", 0, cut):cut]):
            cut += 1
        if cut < len(v):
            v = v[:cut] + "<!-- c -->" + v[cut:]
    return v


def rand_key(r):
    n = r.randint(0, 40)
    s = "".join(r.choice(KEYCHARS) for _ in range(n))
    if r.random() < 0.3:
        # %-escapes as S3 writes them, and broken ones
        s += r.choice(["%2F", "%2B", "%C3%A9", "%25", "%", "%4", "%zz", "%e2%82%ac", "+"])
    return s


def rand_page(r, ns):
    p = ns  # element prefix, "" or "s3:"
    parts = []
    enc = r.choice(["url", "URL", "Url", "none", "", None, None])
    if enc is not None and r.random() < 0.8:
        parts.append("<%sEncodingType>%s</%sEncodingType>" % (p, enc, p))
    trunc = r.choice(["true", "false", "TRUE", " true", "", None])
    if trunc is not None:
        parts.append("<%sIsTruncated>%s</%sIsTruncated>" % (p, trunc, p))
    if r.random() < 0.6:
        tok = r.choice(["", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=", rand_key(r)])
        parts.append("<%sNextContinuationToken>%s</%sNextContinuationToken>" % (p, esc(tok, r), p))
    for _ in range(r.randint(0, 12)):
        c = []
        if r.random() < 0.97:
            c.append("<%sKey>%s</%sKey>" % (p, esc(rand_key(r), r), p))
        if r.random() < 0.1:
            c.append("<%sKey>%s</%sKey>" % (p, esc(rand_key(r), r), p))
        if r.random() < 0.9:
            size = r.choice([str(r.randint(0, 10**12)), "0", "-5", " 42", "12abc", "",
                             "99999999999999999999", "x"])
            c.append("<%sSize>%s</%sSize>" % (p, size, p))
        if r.random() < 0.9:
            etag = r.choice(['"%032x"' % r.getrandbits(128), '""', '"', 'abc', '"x', ''])
            c.append("<%sETag>%s</%sETag>" % (p, esc(etag, r), p))
        c.append("<%sLastModified>2026-11-01T00:05:12.000Z</%sLastModified>" % (p, p))
        if r.random() < 0.2:
            c.append("<%sOwner><%sID>x</%sID></%sOwner>" % (p, p, p, p))
        r.shuffle(c)
        parts.append("<%sContents>%s</%sContents>" % (p, "".join(c), p))
    for _ in range(r.randint(0, 4)):
        ps = "".join("<%sPrefix>%s</%sPrefix>" % (p, esc(rand_key(r), r), p)
                     for _ in range(r.randint(0, 2)))
        parts.append("<%sCommonPrefixes>%s</%sCommonPrefixes>" % (p, ps, p))
    if r.random() < 0.3:
        parts.append("<%sUnknown a=\"1\"><%sKey>no</%sKey></%sUnknown>" % (p, p, p, p))
    if r.random() < 0.2:
        parts.append("<!-- a comment -->")
    r.shuffle(parts)
    sep = r.choice(["", "", "\n", "\n  "])
    return sep.join(parts)


def rand_error(r, ns):
    p = ns
    parts = []
    for n in ("Code", "Message", "Region", "RequestId", "Code"):
        if r.random() < 0.7:
            parts.append("<%s%s>%s</%s%s>" % (p, n, esc(rand_key(r), r), p, n))
    r.shuffle(parts)
    return "".join(parts)


def rand_doc(r):
    ns = r.choice(["", "", "s3:"])
    root = r.choice(["ListBucketResult"] * 6 + ["Error"] * 2 + ["html", "ListBucketResultX"])
    body = rand_error(r, ns) if root == "Error" else rand_page(r, ns)
    decl = r.choice(['<?xml version="1.0" encoding="UTF-8"?>\n', "", '<?xml version="1.0"?>'])
    if ns:
        attr = ' xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"'
    else:
        attr = r.choice(['', ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'])
    doc = "%s<%s%s%s>%s</%s%s>" % (decl, ns, root, attr, body, ns, root)
    if r.random() < 0.03:
        doc = "<!DOCTYPE r [<!ENTITY e \"AWSLogs/&amp;x\">]>" + doc.replace("<%sKey>" % ns, "<%sKey>&e;" % ns, 1)
    x = r.random()
    if x < 0.06:
        doc = doc[:r.randint(0, len(doc) - 1)]          # cut short
    elif x < 0.09:
        i = doc.rfind("</")
        doc = doc[:i] + "</Z" + doc[i + 2:]             # renamed end tag
    elif x < 0.12:
        i = r.randint(doc.find(">") + 1, len(doc) - 1)
        doc = doc[:i] + r.choice(["<", "&", "&nope;"]) + doc[i:]   # stray markup
    return doc.encode(r.choice(["utf-8"] * 9 + ["utf-16"]) if not decl.startswith('<?xml version="1.0" encoding') else "utf-8")


def main():
    cli, seeddir, work = sys.argv[1:4]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 10000
    os.makedirs(work, exist_ok=True)
    files = []
    for name in sorted(os.listdir(seeddir)):
        if name not in DIVERGE:
            files.append(os.path.join(seeddir, name))
    r = random.Random(20261101)
    for i in range(n):
        path = os.path.join(work, "doc%05d.xml" % i)
        with open(path, "wb") as f:
            f.write(rand_doc(r))
        files.append(path)
    out = subprocess.run([cli, "-"], input="\n".join(files) + "\n",
                         capture_output=True, text=True)
    lines = out.stdout.splitlines()
    passed = failed = 0
    if out.returncode != 0 or len(lines) != len(files):
        print("FAIL diff: s3xml_cli exited %d with %d lines for %d documents: %s"
              % (out.returncode, len(lines), len(files), out.stderr[-500:]))
        failed += 1
    kinds = {}
    for path, got in zip(files, lines):
        with open(path, "rb") as f:
            doc = f.read()
        exp = reference(doc)
        k = exp.split("\t")[0]
        kinds[k] = kinds.get(k, 0) + 1
        if got == exp:
            passed += 1
        else:
            failed += 1
            if failed <= 10:
                print("FAIL diff %s\n  doc:      %r\n  s3xml:    %s\n  etree:    %s"
                      % (path, doc[:400], got[:400], exp[:400]))
    print("diff: %d documents; listing statuses by the reference: %s"
          % (len(files), ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))
    print("RESULT diff passed=%d failed=%d" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
