#!/usr/bin/env bash
# check-links.sh: every relative link of the documentation must resolve.
#
#   bash scripts/check-links.sh [FILE.md ...]
#
# Checks README.md and doc/*.md (or the files named): every relative link,
# inline ([text](target), ![alt](target)) or by reference ([id]: target),
# must name a file or directory that exists, and a #fragment must name a
# heading of the target Markdown file (or of the file itself for a bare
# #fragment), by GitHub's rule: the heading's text in lower case, every
# character other than a letter, digit, space, '-' or '_' dropped, spaces
# turned into '-', and a repeated slug suffixed -1, -2, ...  Links with a
# scheme (https:, mailto:, ...) are not followed.  Code blocks and code
# spans are not read.  Prints one line per broken link, then exactly one
# line `links: N passed, N failed`; exits non-zero iff a link is broken.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if [ $# -eq 0 ]; then
	set -- README.md doc/*.md
fi

exec python3 - "$ROOT" "$@" <<'EOF'
import os
import re
import sys
import urllib.parse

root = os.path.realpath(sys.argv[1])
files = sys.argv[2:]

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
ANCHOR = re.compile(r"""<a\s[^>]*\b(?:name|id)\s*=\s*["']([^"']+)["']""", re.I)
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
REFDEF = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*(<[^>]*>|\S+)", re.M)
CODESPAN = re.compile(r"(`+)(.+?)\1", re.S)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def prose_lines(path):
    """(line number, text) of the lines outside fenced code blocks."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    fence = None
    for n, line in enumerate(lines, 1):
        m = FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)
            continue
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and line.strip() == m.group(1):
                fence = None
            continue
        yield n, line


def slug(text):
    """GitHub's anchor for a heading's Markdown text."""
    text = CODESPAN.sub(lambda m: m.group(2), text)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)   # links: their text
    text = re.sub(r"<[^>]+>", "", text)                        # HTML tags
    text = text.replace("*", "")
    text = text.strip().lower()
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


anchors_of = {}


def anchors(path):
    """The fragments a Markdown file offers: heading slugs and HTML anchors."""
    if path not in anchors_of:
        found = set()
        seen = {}
        prev = None
        for _, line in prose_lines(path):
            heading = None
            m = ATX.match(line)
            if m:
                heading = m.group(2)
            elif prev is not None and prev.strip() and SETEXT.match(line) \
                    and not ATX.match(prev) and not prev.lstrip().startswith(("-", "*", "|", ">")):
                heading = prev
            if heading is not None:
                s = slug(heading)
                k = seen.get(s, 0)
                seen[s] = k + 1
                found.add(s if k == 0 else "%s-%d" % (s, k))
            for a in ANCHOR.findall(line):
                found.add(a)
            prev = line
        anchors_of[path] = found
    return anchors_of[path]


passed = failed = 0


def fail(where, target, why):
    global failed
    failed += 1
    print("%s: %s (%s)" % (where, target, why))


for name in files:
    path = os.path.realpath(name)
    if not os.path.isfile(path):
        fail(name, name, "no such file to check")
        continue
    base = os.path.dirname(path)
    # the prose, with code blocks and code spans blanked out (offsets kept)
    with open(path, encoding="utf-8") as f:
        nlines = f.read().count("\n") + 1
    prose = [""] * nlines
    for n, line in prose_lines(path):
        prose[n - 1] = line
    text = "\n".join(prose)
    text = CODESPAN.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    found = [(m.start(), m.group(1)) for m in INLINE.finditer(text)]
    found += [(m.start(), m.group(1)) for m in REFDEF.finditer(text)]
    for offset, target in sorted(found):
        if target.startswith("<") and target.endswith(">"):
            target = target[1:-1]
        if not target or SCHEME.match(target):
            continue
        where = "%s:%d" % (name, text.count("\n", 0, offset) + 1)
        part, _, frag = target.partition("#")
        part = urllib.parse.unquote(part)
        dest = os.path.realpath(os.path.join(base, part)) if part else path
        if dest != root and not dest.startswith(root + os.sep):
            fail(where, target, "outside the repository")
            continue
        if not os.path.exists(dest):
            fail(where, target, "no such file")
            continue
        if frag:
            if not dest.endswith(".md") or not os.path.isfile(dest):
                fail(where, target, "a fragment of a file that is not Markdown")
                continue
            if urllib.parse.unquote(frag) not in anchors(dest):
                fail(where, target, "no such heading in %s" % os.path.relpath(dest, root))
                continue
        passed += 1

print("links: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
EOF
