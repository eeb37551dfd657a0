#!/usr/bin/env python3
"""run.py: the Grafana dashboard against a foreign table, as Grafana runs it.

Design notes.  Reads grafana/bedrock-usage.json, expands every target of
every panel (and the template variables' own queries) exactly as Grafana's
PostgreSQL data source does (grafana_sql.py), for a fixed 24-hour range of
the month-long fixture bucket s3://month/m/ (2 log objects an hour), and
runs each through psql as a login role that has only SELECT on the foreign
table and its own user mapping, as a Grafana data source would.  For each
query it checks: it runs; it returns rows, not all of them empty or zero;
a time-series target has a "time" column; and EXPLAIN ANALYZE shows every
foreign scan read at most the objects written in the range plus the
delivery delay (counted from the generator's manifest, not from the
extension), far fewer than the bucket holds.  It also runs each target with
one account and one model selected, checks the expander against Grafana's
own test cases, and checks the provisioning files name the dashboard's data
source type.

With BEDLOG_GRAFANA_SOURCE=cloudwatch, the same over the same month as
the CloudWatch Logs group bedrock/month of the rig's responder
(test/cwlogs/responder.py), a table IMPORT makes with log_group: there the
check of what a scan reads is that its FilterLogEvents request asks for
the range alone (startTime and endTime within it) and that the events it
returned are far fewer than the group holds.

Needs PGHOST/PGPORT (a running cluster with bedlog_fdw installed, the S3
rig up with the month bucket) and BEDLOG_MONTH_MANIFEST.  Prints one line
per check and ends with `grafana: N passed, N failed`.
"""

import datetime as dt
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import grafana_sql as g  # noqa: E402

DB = "bedlog_grafana"
ROLE = "bedlog_grafana_reader"
ENDPOINT = os.environ.get("BEDLOG_S3_ENDPOINT", "http://127.0.0.1:45712")
T_FROM = dt.datetime(2026, 11, 15, 0, 0, tzinfo=dt.timezone.utc)
T_TO = dt.datetime(2026, 11, 16, 0, 0, tzinfo=dt.timezone.utc)
DELIVERY_DELAY = dt.timedelta(hours=1)
CLOUDWATCH = os.environ.get("BEDLOG_GRAFANA_SOURCE") == "cloudwatch"
CW_URL = "http://127.0.0.1:%s" % os.environ.get("CWLOGS_PORT", "45730")
CW_GROUP = "bedrock/month"

passed = 0
failed = 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok      %s" % what)
    else:
        failed += 1
        print("FAILED  %s%s" % (what, (": " + detail) if detail else ""))
    return ok


def psql(sql, user="postgres", db=DB, header=True):
    """Run one statement string through psql (simple query protocol, as
    Grafana's pgx Exec does).  Returns (ok, rows as lists of str, error)."""
    cmd = ["psql", "-X", "-q", "-A", "-v", "ON_ERROR_STOP=1", "-P", "footer=off",
           "-F", "\x1f", "-R", "\x1e", "-U", user, "-d", db, "-c", sql]
    if not header:
        cmd.insert(1, "-t")
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, PGTZ="UTC"))
    if p.returncode != 0:
        return False, [], p.stderr.decode("utf-8", "replace").strip()
    out = p.stdout.decode("utf-8")
    if out.endswith("\n"):
        out = out[:-1]
    rows = [r.split("\x1f") for r in out.split("\x1e")] if out else []
    return True, rows, ""


# ---------------------------------------------------------------------------
# The expander against cases of Grafana's own macro tests


def self_test():
    f = dt.datetime(2018, 4, 12, 18, 0, tzinfo=dt.timezone.utc)
    t = f + dt.timedelta(minutes=5)
    cases = [
        ("select $__time(time_column)", 'select time_column AS "time"'),
        ("WHERE $__timeFilter(time_column)",
         "WHERE time_column BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'"),
        ("select $__timeFrom()", "select '2018-04-12T18:00:00Z'"),
        ("select $__timeTo()", "select '2018-04-12T18:05:00Z'"),
        ("SELECT $__timeGroup(time_column,'5m'), value",
         'SELECT floor(extract(epoch from time_column)/300)*300 AS "time", value'),
        ("SELECT $__timeGroup(time_column,'5m') as time, value",
         "SELECT floor(extract(epoch from time_column)/300)*300 as time, value"),
        ("SELECT $__timeGroupAlias(time_column,'5m')",
         'SELECT floor(extract(epoch from time_column)/300)*300 AS "time"'),
        ("$__timeGroup(time_column , '5m')", "floor(extract(epoch from time_column)/300)*300"),
        ("GROUP BY $__timeGroup(time_column , '12d')",
         "GROUP BY floor(extract(epoch from time_column)/1.0368e+06)*1.0368e+06"),
        ("GROUP BY $__timeGroup(time_column , '20ms')",
         "GROUP BY floor(extract(epoch from time_column)/0.02)*0.02"),
        ("select $__unixEpochFilter(time)", "select time >= 1523556000 AND time <= 1523556300"),
        ("select $__unixEpochNanoFilter(time)",
         "select time >= 1523556000000000000 AND time <= 1523556300000000000"),
        ("SELECT $__unixEpochGroup(time_column+time_adjustment,'5m')",
         "SELECT floor((time_column+time_adjustment)/300)*300"),
    ]
    for src, want in cases:
        got = g.expand_macros(src, f, t)
        check(got == want, "macro %s" % src, "got %r" % got)
    f2 = dt.datetime(1960, 2, 1, 7, 0, 0, 500000, tzinfo=dt.timezone.utc)
    t2 = dt.datetime(1980, 2, 3, 8, 0, 0, 500000, tzinfo=dt.timezone.utc)
    got = g.expand_macros("WHERE $__timeFilter(time_column)", f2, t2)
    check(got == "WHERE time_column BETWEEN '1960-02-01T07:00:00.5Z' AND '1980-02-03T08:00:00.5Z'",
          "macro $__timeFilter with fractions", got)
    try:
        g.expand_macros("SELECT $__nosuch(x)", f, t)
        check(False, "unknown macro is an error")
    except g.MacroError:
        check(True, "unknown macro is an error")
    # variables: multi/All quoted, single value unquoted with quotes doubled, sqlstring
    variables = {"m": {"multi": True, "includeAll": True, "value": "$__all", "all": ["a", "o'k"]},
                 "s": {"value": "it's"},
                 "a": {"multi": True, "value": ["1", "2"]}}
    got = g.replace_variables("x IN ($m) AND y = '$s' AND z IN (${a:sqlstring}) AND [[s]] $__timeFilter(t)",
                              variables, {})
    check(got == "x IN ('a','o''k') AND y = 'it''s' AND z IN ('1','2') AND it''s $__timeFilter(t)",
          "template variables", got)
    # $__interval: 24 h over 500 points -> 172.8 s -> 2m; over 1000 -> 1m
    check(g.calculate_interval(T_FROM, T_TO, 500) == ("2m", 120000), "interval 24h / 500")
    check(g.calculate_interval(T_FROM, T_TO, 100000) == ("1m", 60000), "interval floor 1m")


# ---------------------------------------------------------------------------
# Set-up: a database, the foreign table of the README, a reader role.  The
# table is IMPORT's alone, as the README makes it: nothing is added to it,
# so every column a panel reads must be one IMPORT creates.


SETUP = """
CREATE EXTENSION bedlog_fdw;
CREATE SERVER bedrock FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint '%(endpoint)s', aws_region 'us-east-1');
IMPORT FOREIGN SCHEMA bedrock FROM SERVER bedrock INTO public
  OPTIONS (location 's3://month/m/');
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%(role)s') THEN
    CREATE ROLE %(role)s LOGIN;
  END IF;
END $$;
CREATE USER MAPPING FOR %(role)s SERVER bedrock
  OPTIONS (access_key_id 'S3RVER', secret_access_key 'S3RVER');
GRANT SELECT ON model_invocations TO %(role)s;
"""

# the CloudWatch variant: the group's events, signed with a user mapping's
# keys (the responder accepts only signed requests); the S3 endpoint stays
# for large bodies
SETUP_CW = """
CREATE EXTENSION bedlog_fdw;
CREATE SERVER bedrock FOREIGN DATA WRAPPER bedlog_fdw
  OPTIONS (endpoint '%(endpoint)s', aws_region 'us-east-1',
           logs_endpoint '%(cw_url)s');
IMPORT FOREIGN SCHEMA bedrock FROM SERVER bedrock INTO public
  OPTIONS (log_group '%(group)s');
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%(role)s') THEN
    CREATE ROLE %(role)s LOGIN;
  END IF;
END $$;
CREATE USER MAPPING FOR %(role)s SERVER bedrock
  OPTIONS (access_key_id 'AKIABEDLOGMAPKEY0001',
           secret_access_key 'MapSecretMapping4Rf7Tg1Yh5Uj9Ik',
           session_token 'MapTokenMappingZ8x6C4v2B0n8M6q4W2e0');
GRANT SELECT ON model_invocations TO %(role)s;
"""


def setup():
    ok, _, err = psql("DROP DATABASE IF EXISTS %s" % DB, db="postgres")
    ok = ok and psql("CREATE DATABASE %s" % DB, db="postgres")[0]
    if not check(ok, "create database %s" % DB, err):
        return False
    ok, _, err = psql((SETUP_CW if CLOUDWATCH else SETUP) %
                      {"endpoint": ENDPOINT, "role": ROLE, "cw_url": CW_URL, "group": CW_GROUP})
    return check(ok, "foreign table by IMPORT alone, reader role", err)


def teardown():
    psql("DROP DATABASE IF EXISTS %s" % DB, db="postgres")
    psql("DROP ROLE IF EXISTS %s" % ROLE, db="postgres")


# ---------------------------------------------------------------------------


def window_objects(manifest):
    """Log objects written in [from, to + delivery delay], from the file
    names in the generator's manifest; and how many objects in all."""
    n = 0
    keys = [o["key"] for o in manifest["objects"]]
    for k in keys:
        m = re.search(r"(\d{8}T\d{6})(\d{3})Z_[0-9a-f]{16}\.json\.gz$", k)
        w = dt.datetime.strptime(m.group(1), "%Y%m%dT%H%M%S").replace(
            tzinfo=dt.timezone.utc) + dt.timedelta(milliseconds=int(m.group(2)))
        if T_FROM <= w <= T_TO + DELIVERY_DELAY:
            n += 1
    return n, len(keys)


def meaningful(rows):
    """Some value outside the time column is neither empty nor zero."""
    if len(rows) < 2:
        return False
    header = rows[0]
    for r in rows[1:]:
        for name, v in zip(header, r):
            if name == "time" or v == "":
                continue
            try:
                if float(v) != 0:
                    return True
            except ValueError:
                return True
    return False


def run_target(label, sql, fmt, window, total, require_rows=True):
    ok, rows, err = psql(sql, user=ROLE)
    if not check(ok, "%s runs" % label, err + "\n" + sql):
        return None
    nrows = max(0, len(rows) - 1)
    if require_rows:
        check(nrows > 0 and meaningful(rows), "%s returns rows (%d)" % (label, nrows), sql)
    if fmt == "time_series" and rows:
        check("time" in rows[0], "%s has a time column" % label, repr(rows[0]))
    ok, plan, err = psql("EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql,
                         user=ROLE, header=False)
    if not check(ok, "%s EXPLAIN ANALYZE" % label, err):
        return rows
    text = "\n".join(r[0] for r in plan)
    if CLOUDWATCH:
        lo_ms = int(T_FROM.timestamp() * 1000)
        # the request's end is widened by the table's delivery_delay (1 hour)
        hi_ms = int(T_TO.timestamp() * 1000) + 3600 * 1000
        starts = [int(x) for x in re.findall(r"CloudWatch Start Time: (\d+)", text)]
        ends = [int(x) for x in re.findall(r"CloudWatch End Time: (\d+)", text)]
        events = [int(x) for x in re.findall(r"CloudWatch Events: (\d+)", text)]
        check(starts and len(starts) == len(ends) == len(events) and
              all(lo_ms <= a <= b <= hi_ms for a, b in zip(starts, ends)) and
              all(0 < e and e * 10 <= total for e in events),
              "%s asks for the range alone: startTime %s, endTime %s, events %s of %d"
              % (label, starts, ends, events, total), text)
        return rows
    reads = [int(x) for x in re.findall(r"S3 Objects Read: (\d+)", text)]
    check(reads and all(0 < r <= window for r in reads) and window * 10 <= total,
          "%s prunes by time: objects read %s of %d (window %d)" % (label, reads, total, window),
          text if not reads else "")
    return rows


def main():
    with open(os.path.join(ROOT, "grafana", "bedrock-usage.json")) as f:
        dash = json.load(f)
    self_test()

    # provisioning examples name the data source type the dashboard asks for
    ds_var = [v for v in dash["templating"]["list"] if v["type"] == "datasource"]
    check(len(ds_var) == 1, "one data source variable")
    ds_type = ds_var[0]["query"]
    with open(os.path.join(ROOT, "grafana", "provisioning", "datasources", "bedlog.yaml")) as f:
        check(re.search(r"^\s*type:\s*%s\s*(#.*)?$" % re.escape(ds_type), f.read(), re.M) is not None,
              "data source provisioning uses type %s" % ds_type)
    with open(os.path.join(ROOT, "grafana", "provisioning", "dashboards", "bedlog.yaml")) as f:
        check(re.search(r"^\s*type:\s*file\s*(#.*)?$", f.read(), re.M) is not None, "dashboard provider of type file")
    for p in dash["panels"]:
        for t in p.get("targets", []):
            check(t.get("datasource", {}).get("uid") == "${datasource}" and
                  t["datasource"].get("type") == ds_type,
                  "panel %r target %s uses the data source variable" % (p["title"], t["refId"]))

    # the README shows what this suite and sql/pricing.sql run (from sql/include/cost_view.sql)
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    with open(os.path.join(ROOT, "sql", "include", "cost_view.sql")) as f:
        view = re.search(r"^CREATE VIEW model_invocation_costs AS$.*?;$", f.read(), re.M | re.S).group(0)
    check(view in readme, "README shows the cost view of sql/pricing.sql and sql/cwlogs.sql")
    # the Grafana section's first step is the IMPORT this suite runs, and
    # nothing after it (its SQL block ends there)
    imp = re.search(r"^IMPORT FOREIGN SCHEMA .*?;$", SETUP, re.M | re.S).group(0)
    imp = imp.replace("s3://month/m/", "s3://my-log-bucket/my/key/prefix/")
    step = "\n".join("   " + ln for ln in ["```sql"] + imp.split("\n") + ["```"])
    grafana = readme[readme.find("### Grafana"):]
    check(step in grafana, "README's Grafana step 1 is the IMPORT this suite runs, alone", step)

    path = os.environ.get("BEDLOG_MONTH_MANIFEST")
    if not path or not os.path.exists(path):
        check(False, "month manifest", "set BEDLOG_MONTH_MANIFEST")
        return
    with open(path) as f:
        window, total = window_objects(json.load(f))
    if CLOUDWATCH:
        # the group's size, as the responder holds it
        import urllib.request
        with urllib.request.urlopen(CW_URL + "/__cw/stats") as r:
            total = json.load(r)["groups"].get(CW_GROUP, 0)
        check(total > 0, "CloudWatch Logs group %s holds the month (%d events)" % (CW_GROUP, total))
        print("range %s to %s over the group %s of %d events"
              % (g.rfc3339nano(T_FROM), g.rfc3339nano(T_TO), CW_GROUP, total))
    else:
        print("range %s to %s: %d of %d log objects written in the range plus the delivery delay"
              % (g.rfc3339nano(T_FROM), g.rfc3339nano(T_TO), window, total))

    if not setup():
        return
    try:
        # template variables, in order; each query variable is itself expanded
        # (with the variables before it) and run like a panel query
        variables = {}
        for v, q in g.query_variables(dash):
            sql, _ = g.expand(q, T_FROM, T_TO, variables)
            rows = run_target("variable $%s" % v["name"], sql, "table", window, total)
            values = [r[0] for r in rows[1:]] if rows else []
            check(len(values) > 0, "variable $%s has values %s" % (v["name"], values[:4]))
            variables[v["name"]] = g.all_selected(v, values)
        check(set(variables) >= {"account", "model"}, "variables account and model")

        # pg_dump keeps the prices a user added, not the shipped ones
        # (CREATE EXTENSION recreates those)
        ok, _, err = psql("INSERT INTO bedlog_price (model_key, effective_from, input_per_1k, output_per_1k) "
                          "VALUES ('my.model-v1:0', '2026-01-01', 0.001, 0.002)")
        p = subprocess.run(["pg_dump", "--data-only", "-U", "postgres", "-d", DB],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        dump = p.stdout.decode("utf-8", "replace")
        copy = re.search(r"^COPY public\.bedlog_price .*?^\\\.$", dump, re.M | re.S)
        check(ok and p.returncode == 0 and copy is not None and "my.model-v1:0" in copy.group(0)
              and "anthropic." not in copy.group(0),
              "pg_dump saves user prices only", err + p.stderr.decode("utf-8", "replace"))

        # every panel target with All selected, then with one value each
        one = {k: dict(v, value=[v["all"][0]] if v["all"] else []) for k, v in variables.items()}
        for p in dash["panels"]:
            for t in p.get("targets", []):
                label = "panel %r %s" % (p["title"], t["refId"])
                for sel, vars_, need in (("all", variables, True), ("one", one, False)):
                    sql, interval = g.expand(t["rawSql"], T_FROM, T_TO, vars_,
                                             p.get("maxDataPoints", 1000), p.get("interval") or "1m")
                    if "$" in re.sub(r"'(?:[^']|'')*'", "", sql):
                        check(False, "%s: nothing left to expand" % label, sql)
                    run_target("%s [%s]" % (label, sel), sql, t.get("format", "time_series"),
                               window, total, require_rows=need)
    finally:
        teardown()


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a crash counts as a failure, with its cause
        import traceback
        traceback.print_exc()
        check(False, "run.py crashed", repr(e))
    print("grafana: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
