"""grafana_sql.py: Grafana's query interpolation for its PostgreSQL data source.

Design notes.  A panel's rawSql reaches PostgreSQL after three rewrites, and
this module does each the way Grafana does it:

1. The browser (templateSrv.replace with the SQL data source's
   interpolateVariable): dashboard variables, in the forms $name, ${name},
   ${name:format} and [[name]], and the built-ins $__interval,
   $__interval_ms, $__from, $__to, $__range*.  A multi-value or include-All
   variable becomes a list of quoted literals ('a','b'); a single-value one
   is inserted with its quotes doubled but unquoted; the sqlstring format
   always quotes.  "All" without a custom all value means every option.
   Unknown names are left as they are (the macros below look like
   variables).  $__interval is calculateInterval(range, maxDataPoints, min
   interval): roundInterval(range / maxDataPoints), at least the panel's (or
   the data source's, 1m by default) minimum, written as secondsToHms does.
2. The server's global substitutions (sqleng.Interpolate): $__interval_ms,
   $__interval, $__unixEpochFrom(), $__unixEpochTo().
3. The PostgreSQL macro engine (pkg/tsdb/grafana-postgresql-datasource/
   macros.go): every match of \\$(\\w+)\\(([^)]*)\\) is a macro call, its
   arguments split on "," and trimmed of spaces; $__timeFilter(c) is
   "c BETWEEN '<from>' AND '<to>'" with RFC 3339 UTC times (fractions only
   when not zero, trailing zeros dropped); $__timeGroup(c, '5m') is
   "floor(extract(epoch from c)/300)*300" with the seconds printed as Go's
   %v prints a float64 (so 12 days is 1.0368e+06); $__timeGroupAlias adds
   AS "time", and so does $__timeGroup directly followed by ",".  An
   unknown macro is an error, as in Grafana.

Only the standard library is used.
"""

import datetime as dt
import decimal
import re

# ---------------------------------------------------------------------------
# Time and number formatting


def rfc3339nano(t):
    """Go's time.RFC3339Nano for a UTC datetime: 2018-04-12T18:00:00Z,
    1960-02-01T07:00:00.5Z (trailing zeros of the fraction dropped)."""
    t = t.astimezone(dt.timezone.utc)
    s = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        s += ("." + "%06d" % t.microsecond).rstrip("0")
    return s + "Z"


def go_float(x):
    """fmt.Sprintf("%v", x) for a float64: the shortest digits that read
    back as x, in exponent form (two exponent digits at least) when the
    decimal exponent is below -4 or 6 and above, as strconv's 'g' format
    does with the shortest precision."""
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    t = decimal.Decimal(repr(abs(float(x)))).as_tuple()
    full = "".join(str(d) for d in t.digits)
    dp = len(full) + t.exponent                 # digits before the point
    digits = full.rstrip("0") or "0"
    exp = dp - 1
    if exp < -4 or exp >= 6:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return "%s%se%s%02d" % (sign, mant, "-" if exp < 0 else "+", abs(exp))
    if dp <= 0:
        return sign + "0." + "0" * (-dp) + digits
    if dp >= len(digits):
        return sign + digits + "0" * (dp - len(digits))
    return sign + digits[:dp] + "." + digits[dp:]


_UNITS_MS = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000, "w": 604800000}


def parse_interval_ms(s):
    """gtime.ParseInterval for the fixed units (ms s m h d w)."""
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d|w)", s.strip())
    if not m:
        raise ValueError("error parsing interval %s" % s)
    return int(m.group(1)) * _UNITS_MS[m.group(2)]


def round_interval(ms):
    """rangeutil.roundInterval."""
    steps = [(15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000),
             (3500, 2000), (7500, 5000), (12500, 10000), (17500, 15000), (25000, 20000),
             (45000, 30000), (90000, 60000), (210000, 120000), (450000, 300000),
             (750000, 600000), (1050000, 900000), (1500000, 1200000), (2700000, 1800000),
             (5400000, 3600000), (9000000, 7200000), (16200000, 10800000),
             (32400000, 21600000), (86400000, 43200000), (604800000, 86400000),
             (1814400000, 604800000), (3628800000, 2592000000)]
    for limit, value in steps:
        if ms < limit:
            return value
    return 31536000000


def seconds_to_hms(seconds):
    """rangeutil.secondsToHms."""
    parts = (
        ("y", seconds // 31536000),
        ("d", (seconds % 31536000) // 86400),
        ("h", ((seconds % 31536000) % 86400) // 3600),
        ("m", (((seconds % 31536000) % 86400) % 3600) // 60),
        ("s", (((seconds % 31536000) % 86400) % 3600) % 60 // 1),
    )
    for unit, n in parts:
        if int(n):
            return "%d%s" % (int(n), unit)
    ms = int(seconds * 1000.0)
    return "%dms" % ms if ms else "less than a millisecond"


def calculate_interval(t_from, t_to, max_data_points, min_interval="1m"):
    """rangeutil.calculateInterval: (interval text, interval in ms)."""
    range_ms = (t_to - t_from) / dt.timedelta(milliseconds=1)
    ms = round_interval(range_ms / max_data_points)
    low = parse_interval_ms(min_interval) if min_interval else 1
    if low > ms:
        ms = low
    return seconds_to_hms(ms / 1000), ms


# ---------------------------------------------------------------------------
# 1. Dashboard variables (the browser)


def quote_literal(v):
    """PostgresQueryModel.quoteLiteral."""
    return "'" + str(v).replace("'", "''") + "'"


def interpolate_variable(value, variable):
    """SqlDatasource.interpolateVariable."""
    if isinstance(value, str):
        if variable.get("multi") or variable.get("includeAll"):
            return quote_literal(value)
        return value.replace("'", "''")
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return ",".join(quote_literal(v) for v in value)
    return value


def sqlstring(value):
    """The sqlstring format: quoted, quotes doubled, comma-joined."""
    if isinstance(value, list):
        return ",".join("'" + str(v).replace("'", "''") + "'" for v in value)
    return "'" + str(value).replace("'", "''") + "'"


def csv_format(value):
    return ",".join(value) if isinstance(value, list) else str(value)


FORMATS = {
    "sqlstring": sqlstring,
    "csv": csv_format,
    "raw": lambda v: ",".join(v) if isinstance(v, list) else str(v),
    "singlequote": lambda v: ",".join("'" + str(x).replace("'", "\\'") + "'" for x in v)
    if isinstance(v, list) else "'" + str(v).replace("'", "\\'") + "'",
    "doublequote": lambda v: ",".join('"' + str(x).replace('"', '\\"') + '"' for x in v)
    if isinstance(v, list) else '"' + str(v).replace('"', '\\"') + '"',
    "pipe": lambda v: "|".join(v) if isinstance(v, list) else str(v),
}

# templateSrv's variable regex: $name | [[name(:fmt)]] | ${name(.field)(:fmt)}
VARIABLE_RE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}")


def replace_variables(sql, variables, builtins):
    """templateSrv.replace(sql, scopedVars, interpolateVariable).
    variables: name -> {"multi", "includeAll", "value": str|list,
    "allValue": None|str, "all": [all option values]}; a value of
    "$__all" selects All.  builtins: name -> str (scoped variables)."""

    def repl(m):
        name = m.group(1) or m.group(2) or m.group(4)
        fmt = m.group(3) or m.group(6)
        if name in builtins:
            value = builtins[name]
            if fmt in FORMATS:
                return FORMATS[fmt](value)
            if fmt:
                raise ValueError("format %s of built-in %s is not modelled" % (fmt, name))
            return interpolate_variable(value, {})
        if name not in variables:
            return m.group(0)
        var = variables[name]
        value = var["value"]
        if value == "$__all" or value == ["$__all"]:
            if var.get("allValue"):
                # a custom all value is inserted as it is
                return var["allValue"]
            value = list(var["all"])
        if fmt:
            if fmt not in FORMATS:
                raise ValueError("variable format %s is not modelled" % fmt)
            return FORMATS[fmt](value)
        return interpolate_variable(value, var)

    return VARIABLE_RE.sub(repl, sql)


# ---------------------------------------------------------------------------
# 2. and 3. The server


def global_substitutions(sql, t_from, t_to, interval_ms):
    """sqleng.Interpolate."""
    sql = sql.replace("$__interval_ms", str(interval_ms))
    sql = sql.replace("$__interval", format_interval_go(interval_ms))
    sql = sql.replace("$__unixEpochFrom()", str(int(t_from.timestamp())))
    sql = sql.replace("$__unixEpochTo()", str(int(t_to.timestamp())))
    return sql


def format_interval_go(ms):
    """gtime.FormatInterval."""
    for unit, size in (("y", 31536000000), ("d", 86400000), ("h", 3600000), ("m", 60000),
                       ("s", 1000), ("ms", 1)):
        if ms >= size:
            return "%d%s" % (ms // size, unit)
    return "1ms"


MACRO_RE = re.compile(r"\$([_a-zA-Z0-9]+)\(([^\)]*)\)")


class MacroError(Exception):
    pass


def _epoch_ns(t):
    d = t.astimezone(dt.timezone.utc) - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return (d.days * 86400 + d.seconds) * 1000000000 + d.microseconds * 1000


def evaluate_macro(name, args, t_from, t_to):
    def need_col():
        if not args or args == [""]:
            raise MacroError("missing time column argument for macro %s" % name)

    def group(expr_fmt):
        if len(args) < 2:
            raise MacroError("macro %s needs time column and interval and optional fill value" % name)
        try:
            ms = parse_interval_ms(args[1].strip("'"))
        except ValueError:
            raise MacroError("error parsing interval %s" % args[1])
        secs = go_float(ms / 1000.0)
        return expr_fmt % (args[0], secs, secs)

    if name == "__time":
        need_col()
        return '%s AS "time"' % args[0]
    if name == "__timeEpoch":
        need_col()
        return 'extract(epoch from %s) as "time"' % args[0]
    if name == "__timeFilter":
        need_col()
        return "%s BETWEEN '%s' AND '%s'" % (args[0], rfc3339nano(t_from), rfc3339nano(t_to))
    if name == "__timeFrom":
        return "'%s'" % rfc3339nano(t_from)
    if name == "__timeTo":
        return "'%s'" % rfc3339nano(t_to)
    if name == "__timeGroup":
        return group("floor(extract(epoch from %s)/%s)*%s")
    if name == "__timeGroupAlias":
        return group("floor(extract(epoch from %s)/%s)*%s") + ' AS "time"'
    if name == "__unixEpochFilter":
        need_col()
        return "%s >= %d AND %s <= %d" % (args[0], int(t_from.timestamp()), args[0], int(t_to.timestamp()))
    if name == "__unixEpochNanoFilter":
        need_col()
        return "%s >= %d AND %s <= %d" % (args[0], _epoch_ns(t_from), args[0], _epoch_ns(t_to))
    if name == "__unixEpochNanoFrom":
        return "%d" % _epoch_ns(t_from)
    if name == "__unixEpochNanoTo":
        return "%d" % _epoch_ns(t_to)
    if name == "__unixEpochGroup":
        return group("floor((%s)/%s)*%s")
    if name == "__unixEpochGroupAlias":
        return group("floor((%s)/%s)*%s") + ' AS "time"'
    raise MacroError('unknown macro "%s"' % name)


def expand_macros(sql, t_from, t_to):
    """postgresMacroEngine.Interpolate."""
    original = sql
    out = []
    pos = 0
    for m in MACRO_RE.finditer(original):
        name = m.group(1)
        if name == "__timeGroup":
            # pre-5.3 compatibility: the first occurrence of the same text
            # directly followed by "," gets AS "time"
            i = original.find(m.group(0))
            if i >= 0:
                i += len(m.group(0))
                if i < len(original) and original[i] == ",":
                    name = "__timeGroupAlias"
        args = [a.strip(" ") for a in m.group(2).split(",")]
        out.append(original[pos:m.start()])
        out.append(evaluate_macro(name, args, t_from, t_to))
        pos = m.end()
    out.append(original[pos:])
    return "".join(out)


def expand(sql, t_from, t_to, variables, max_data_points=1000, min_interval="1m"):
    """The SQL PostgreSQL receives for a panel target: (sql, interval text)."""
    interval, interval_ms = calculate_interval(t_from, t_to, max_data_points, min_interval)
    builtins = {
        "__interval": interval,
        "__interval_ms": str(interval_ms),
        "__from": str(int(t_from.timestamp() * 1000)),
        "__to": str(int(t_to.timestamp() * 1000)),
        "__range": seconds_to_hms((t_to - t_from).total_seconds()),
        "__range_s": str(int((t_to - t_from).total_seconds())),
        "__range_ms": str(int((t_to - t_from).total_seconds() * 1000)),
    }
    sql = replace_variables(sql, variables, builtins)
    sql = global_substitutions(sql, t_from, t_to, interval_ms)
    return expand_macros(sql, t_from, t_to), interval


def query_variables(dash):
    """The dashboard's query variables, in order, each with its SQL text."""
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            yield v, (v["query"] if isinstance(v["query"], str) else v["query"]["rawSql"])


def all_selected(v, values):
    """A variable's state with the values its query returned, All selected."""
    return {"multi": v.get("multi"), "includeAll": v.get("includeAll"),
            "allValue": v.get("allValue"), "all": values, "value": "$__all"}
