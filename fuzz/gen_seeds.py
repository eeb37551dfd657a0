#!/usr/bin/env python3
"""Regenerate the seed corpora under fuzz/corpus/ (run from the repo root:
python3 fuzz/gen_seeds.py).  The seeds are committed; this only documents
how they were made."""
import glob
import os
import struct

root = os.path.dirname(os.path.abspath(__file__))
jdir = os.path.join(root, "corpus", "jsonscan")
sdir = os.path.join(root, "corpus", "sigv4")
os.makedirs(jdir, exist_ok=True)
os.makedirs(sdir, exist_ok=True)


def put(d, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- jsonscan: "<json_path>\n<json text>" ---------------------------------
paths = [
    "output.outputBodyJson[-1].amazon-bedrock-invocationMetrics.invocationLatency",
    "input.inputTokenCount",
    "$",
    "output.outputBodyJson[0]",
    "requestMetadata",
]
examples = sorted(glob.glob(os.path.join(root, "..", "test", "fixtures",
                                         "examples", "*.json")))
for i, ex in enumerate(examples):
    with open(ex, "rb") as f:
        body = f.read()
    p = paths[i % len(paths)]
    put(jdir, "ex_%02d" % i, p.encode() + b"\n" + body)

edge = {
    "esc_simple": 'a\n{"a":"\\"\\\\\\/\\b\\f\\n\\r\\t"}',
    "esc_unicode": 'a\n{"a":"caf\\u00e9 \\u20ac \\u0041"}',
    "surrogate_pair": 'a\n{"a":"\\ud83d\\ude00"}',
    "surrogate_lone_hi": 'a\n{"a":"x\\ud83dy"}',
    "surrogate_lone_lo": 'a\n{"a":"\\ude00"}',
    "surrogate_reversed": 'a\n{"a":"\\ude00\\ud83d"}',
    "nul_escape": 'a\n{"a":"a\\u0000b"}',
    "raw_utf8": 'a\n{"a":"\u00e9\u20ac\U0001F600"}',
    "bad_escape": 'a\n{"a":"\\x"}',
    "short_u": 'a\n{"a":"\\u12"}',
    "numbers": '[-1]\n[0, -0, 1.5, -1.5e10, 1E+2, 2e-3, 123456789012345678901234567890, 0.0]',
    "bad_numbers": '$\n[01, 1., .5, -, 1e, +1]',
    "literals": '[1]\n[true, false, null]',
    "bad_literal": '$\n[tru]',
    "empty_containers": 'a.b\n{"a":{"b":[],"c":{}}}',
    "dup_keys": 'a.b\n{"a":{"b":1},"a":{"b":2}}',
    "dup_keys_neg": 'a[-1]\n{"a":[1,2],"a":[3,{"x":"y"}]}',
    "neg_index": '[-2].k\n[{"k":1},{"k":"two"},{"k":3}]',
    "neg_index_deep": 'a[-1][-1].b\n{"a":[[1],[2,{"b":"\\u00e9"}]]}',
    "index_oob": '[5]\n[1,2]',
    "quoted_key": 'requestMetadata."a.b"\n{"requestMetadata":{"a.b":"v","a":{"b":"w"}}}',
    "empty_key": '""\n{"":1}',
    "escaped_key": 'a\n{"\\u0061":1}',
    "dollar_member": '$a\n{"$a":1}',
    "dollar_index": '$[0]\n[["x"]]',
    "leading_index": '[0].a\n[{"a":{"b":null}}]',
    "whitespace": 'a\n \t\r\n{ "a" : [ 1 , 2 ] } \n',
    "trailing_garbage": 'a\n{"a":1} x',
    "two_values": '$\n1 2',
    "empty_doc": 'a\n',
    "no_newline": '{"a":1}',
    "unterminated_string": 'a\n{"a":"abc',
    "unterminated_obj": 'a\n{"a":[1,2',
    "control_char": 'a\n{"a":"\x01"}',
    "bad_path": 'a..b\n{"a":1}',
    "bad_path_index": 'a[+1]\n{"a":[1]}',
    "long_string": 'a\n{"a":"' + ("x" * 40 + "\\n") * 50 + '"}',
    "deep_array_100": '$\n' + "[" * 100 + "1" + "]" * 100,
    "deep_object_100": 'a.a.a\n' + '{"a":' * 100 + '"z"' + "}" * 100,
    "deep_unbalanced": '$\n' + "[" * 100 + "]" * 99,
}
for name, data in edge.items():
    put(jdir, name, data)


# --- sigv4: flags byte, length-prefixed pieces, 8-byte time ------------------
def lp(s):
    b = s.encode() if isinstance(s, str) else s
    assert len(b) < 256
    return bytes([len(b)]) + b


def sig(flags, method, host, uri, params, headers, phash, date, region,
        service, akid, secret, token, t=1369353600):
    out = bytes([flags]) + lp(method) + lp(host) + lp(uri)
    out += bytes([len(params)])
    for n, v in params:
        out += lp(n) + lp(v)
    out += bytes([len(headers)])
    for n, v in headers:
        out += lp(n) + lp(v)
    for s in (phash, date, region, service, akid, secret, token):
        out += lp(s)
    return out + struct.pack(">q", t)


sec = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
e3b = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
put(sdir, "get_object", sig(0, "GET", "examplebucket.s3.amazonaws.com",
    "/test.txt", [], [("Range", "bytes=0-9"), ("x-amz-content-sha256", e3b)],
    e3b, "20130524T000000Z", "us-east-1", "s3", "AKIAIOSFODNN7EXAMPLE", sec, ""))
put(sdir, "list_objects", sig(0, "GET", "examplebucket.s3.amazonaws.com", "/",
    [("list-type", "2"), ("prefix", "AWSLogs/1/a b"), ("max-keys", "2"),
     ("continuation-token", "1/+=x")],
    [("x-amz-content-sha256", "UNSIGNED-PAYLOAD")], "UNSIGNED-PAYLOAD",
    "20130524T000000Z", "us-east-1", "s3", "AKIAIOSFODNN7EXAMPLE", sec,
    "FwoGZXIvYXdzEXAMPLETOKEN"))
put(sdir, "bare_params", sig(2, "GET", "h:9000", "/b", [("lifecycle", ""),
    ("a", "1"), ("a", "0")], [], e3b, "20130524T000000Z", "eu-west-1", "s3",
    "AK", "s", ""))
put(sdir, "dup_headers", sig(0, "PUT", "h", "/k%20x", [],
    [("X-Foo", "  a   b  "), ("x-foo", "c\td"), ("Content-Type", "text/plain")],
    e3b, "20130524T000000Z", "us-east-1", "s3", "AK", "s", "tok"))
put(sdir, "refused_header", sig(0, "GET", "h", "/", [],
    [("Authorization", "x"), ("x-amz-date", "y")], e3b, "20130524T000000Z",
    "us-east-1", "s3", "AK", "s", ""))
put(sdir, "bad_date", sig(0, "GET", "h", "/", [], [], e3b, "2013-05-24",
    "us-east-1", "s3", "AK", "s", ""))
put(sdir, "bad_uri", sig(0, "GET", "h", "no slash ?#", [], [], e3b,
    "20130524T000000Z", "us/east", "s 3", "A,K", "s", ""))
put(sdir, "ctrl_value", sig(0, "GET", "h", "/", [], [("x-a", "a\r\nb")], e3b,
    "20130524T000000Z", "us-east-1", "s3", "AK", "s", ""))
put(sdir, "flags_all", bytes([255]) + b"\x00" * 20)
put(sdir, "binary_params", sig(0xff, "", "h", "", [("\x00\xff/~", "\xc3\xa9")],
    [], "", "", "", "", "", "s", "", t=-1))
