#!/usr/bin/env python3
"""modgraph.py: the module graph of bedlog_fdw's built objects, and its cycles.

Usage: modgraph.py ROOT [-v]

The modules are the objects of the Makefile's OBJS (bedlog_fdw.o, src/*.o),
read as they were built in ROOT; nothing is built here.  Module A depends on
module B (A -> B) when A uses a global symbol that B defines: `nm -u` of A
against `nm -g --defined-only` of B.  Symbols no module defines (PostgreSQL's,
libcurl's, libc's) are left out.

Modules should form layers, as postgres_fdw's do: a module never calls back
up into one that uses it, directly or through others.  One check per module:
it passes when the module was built (its object exists and is not older
than its source or the shared headers) and no cycle of the graph goes
through it.  Each cycle is printed with the symbols of its edges.

src/bedlog_fdw.h groups its declarations by the file that defines them,
under headings "/* X.c */" (or "X.c: what it is").  One check per group:
every variable and function declared extern under it is defined by X.o.

-v also prints every module's dependencies.  Ends with exactly one line
"modgraph: N passed, N failed"; exits 0 iff nothing failed.
"""

import os
import re
import subprocess
import sys

MAX_CYCLES = 50  # cycles printed at most


def objs_of_makefile(root):
    """The object files listed in the Makefile's OBJS, in order."""
    with open(os.path.join(root, "Makefile"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^OBJS\s*=((?:.*\\\n)*.*)$", text, re.M)
    if m is None:
        return []
    return m.group(1).replace("\\\n", " ").split()


def nm_symbols(path, undefined):
    """Global symbols an object defines, or those it leaves undefined."""
    args = ["nm", "-u", path] if undefined else ["nm", "-g", "--defined-only", path]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def header_groups(path):
    """The groups of a header: (file, [(line, name) declared extern])."""
    groups = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        m = re.match(r"^ \* ([a-z0-9_]+\.c)(:.*)?$", line)
        if m and i > 0 and lines[i - 1] == "/*" and i + 1 < len(lines) and lines[i + 1] == " */":
            groups.append((m.group(1), []))
            continue
        m = re.match(r"^extern\b[^(;\[]*?\b([A-Za-z_][A-Za-z0-9_]*)\s*[(;\[]", line)
        if m:
            if not groups:
                groups.append(("(before any heading)", []))
            groups[-1][1].append((i + 1, m.group(1)))
    return groups


def strongly_connected(nodes, edges):
    """Tarjan's algorithm: the strongly connected components, as lists."""
    index = {}
    low = {}
    stack = []
    on_stack = set()
    result = []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            result.append(sorted(comp))

    for v in nodes:
        if v not in index:
            visit(v)
    return result


def elementary_cycles(comp, edges):
    """The simple cycles within one component, each starting at its least
    module (in the order of comp), found by depth-first search."""
    order = {v: i for i, v in enumerate(comp)}
    cycles = []

    def walk(start, v, path, seen):
        for w in sorted(edges[v]):
            if w not in order or order[w] < order[start]:
                continue
            if w == start:
                cycles.append(path + [start])
            elif w not in seen:
                seen.add(w)
                walk(start, w, path + [w], seen)
                seen.discard(w)

    for start in comp:
        walk(start, start, [start], {start})
    return cycles


def main(argv):
    if len(argv) < 2:
        print("usage: modgraph.py ROOT [-v]", file=sys.stderr)
        print("modgraph: 0 passed, 1 failed")
        return 1
    root = argv[1]
    verbose = "-v" in argv[2:]
    objs = objs_of_makefile(root)
    if not objs:
        print("FAIL no OBJS found in the Makefile")
        print("modgraph: 0 passed, 1 failed")
        return 1

    headers = [os.path.join(root, "src", h) for h in os.listdir(os.path.join(root, "src"))
               if h.endswith(".h")]
    newest_header = max((os.path.getmtime(h) for h in headers), default=0)

    modules = []
    broken = {}
    defines = {}
    uses = {}
    for obj in objs:
        name = os.path.splitext(os.path.basename(obj))[0]
        modules.append(name)
        path = os.path.join(root, obj)
        source = os.path.splitext(path)[0] + ".c"
        if not os.path.exists(path):
            broken[name] = "%s is not built (run make first)" % obj
            continue
        built = os.path.getmtime(path)
        if (os.path.exists(source) and os.path.getmtime(source) > built) or newest_header > built:
            broken[name] = "%s is older than its source or the headers (run make first)" % obj
            continue
        try:
            defines[name] = nm_symbols(path, False)
            uses[name] = nm_symbols(path, True)
        except (OSError, subprocess.CalledProcessError) as e:
            broken[name] = "nm failed on %s: %s" % (obj, e)

    owner = {}
    for name, syms in defines.items():
        for s in syms:
            owner.setdefault(s, name)
    edges = {name: set() for name in modules}
    via = {}
    for name, syms in uses.items():
        for s in sorted(syms):
            dep = owner.get(s)
            if dep is None or dep == name:
                continue
            edges[name].add(dep)
            via.setdefault((name, dep), []).append(s)

    in_cycle = set()
    cycles = []
    for comp in strongly_connected(modules, edges):
        if len(comp) > 1:
            in_cycle.update(comp)
            cycles.extend(elementary_cycles(comp, edges))

    for n, cyc in enumerate(cycles):
        if n == MAX_CYCLES:
            print("... and %d more cycles" % (len(cycles) - MAX_CYCLES))
            break
        print("cycle: %s" % " -> ".join(cyc))
        for a, b in zip(cyc, cyc[1:]):
            print("    %s -> %s: %s" % (a, b, ", ".join(via[(a, b)])))

    if verbose:
        for name in modules:
            if name not in broken:
                print("%s -> %s" % (name, " ".join(sorted(edges[name])) or "(nothing)"))

    passed = failed = 0
    for name in modules:
        if name in broken:
            print("FAIL %s: %s" % (name, broken[name]))
            failed += 1
        elif name in in_cycle:
            print("FAIL %s: in a cycle of the module graph" % name)
            failed += 1
        else:
            passed += 1

    header = os.path.join(root, "src", "bedlog_fdw.h")
    for source, decls in header_groups(header):
        module = source[:-2]
        wrong = []
        for line, name in decls:
            where = owner.get(name)
            if where != module:
                wrong.append("%s (line %d) is defined in %s" %
                             (name, line, (where + ".o") if where else "no object"))
        if module in broken:
            print("FAIL bedlog_fdw.h group %s: %s" % (source, broken[module]))
            failed += 1
        elif wrong:
            print("FAIL bedlog_fdw.h group %s: %s" % (source, "; ".join(wrong)))
            failed += 1
        else:
            passed += 1
    # A catch that does not re-throw ends with FlushErrorState.  From
    # PostgreSQL 16 bad data comes back as soft errors and nothing may
    # catch; before 16 only skip.c (on_error 'skip') and bodies.c (a
    # missing large body) do, each with the reason it is safe.
    major = os.environ.get("PG_MAJOR", "")
    if major.isdigit():
        allowed = set() if int(major) >= 16 else {"skip", "bodies"}
        swallow = sorted(n for n, u in uses.items()
                         if "FlushErrorState" in u and n not in allowed)
        if swallow:
            print("FAIL errors caught and not re-thrown (FlushErrorState) on %s in: %s" %
                  (major, ", ".join(o + ".o" for o in swallow)))
            failed += 1
        else:
            passed += 1
    print("modgraph: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
