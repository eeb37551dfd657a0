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


# --- s3xml: one XML document per file ----------------------------------------
xdir = os.path.join(root, "corpus", "s3xml")
os.makedirs(xdir, exist_ok=True)
NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
BASE = "AWSLogs/111111111111/BedrockModelInvocationLogs/us-east-1/2026/11/01/"


def contents(key, size=1234, etag='&quot;0123456789abcdef0123456789abcdef&quot;',
             lm="2026-11-01T00:05:12.000Z", sc="STANDARD"):
    return ("<Contents><Key>%s</Key><LastModified>%s</LastModified>"
            "<ETag>%s</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm>"
            "<Size>%s</Size><StorageClass>%s</StorageClass></Contents>"
            % (key, lm, etag, size, sc))


def page(body, prefix=BASE, truncated=False, token=None, enc="url",
         count=None, delim=None, decl=True):
    head = "<Name>logs</Name><Prefix>%s</Prefix>" % prefix
    if token is not None:
        head += "<NextContinuationToken>%s</NextContinuationToken>" % token
    head += "<KeyCount>%d</KeyCount><MaxKeys>1000</MaxKeys>" % (
        count if count is not None else body.count("<Key>") +
        body.count("<Prefix>"))
    if delim:
        head += "<Delimiter>%s</Delimiter>" % delim
    if enc:
        head += "<EncodingType>%s</EncodingType>" % enc
    head += "<IsTruncated>%s</IsTruncated>" % ("true" if truncated else "false")
    return ((DECL if decl else "") + "<ListBucketResult %s>" % NS + head +
            body + "</ListBucketResult>")


def log_key(h, i, extra=""):
    return BASE + "%02d/20261101T%02d%02d12%03dZ_%016x%s.json.gz" % (
        h, h, i % 60, i, 0x9e3779b97f4a7c15 * (i + 1) % (1 << 64), extra)


xml_seeds = {
    # real-looking pages
    "page_one": page("".join(contents(log_key(0, i), 900 + i) for i in range(3))),
    "page_truncated": page("".join(contents(log_key(1, i)) for i in range(5)),
                           truncated=True,
                           token="1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="),
    "page_150": page("".join(contents(log_key(i // 60, i), 100 + i)
                              for i in range(150)), truncated=True,
                      token="Ag" + "x" * 100),
    "page_prefixes": page(
        "".join("<CommonPrefixes><Prefix>AWSLogs/%012d/</Prefix></CommonPrefixes>"
                % a for a in (111111111111, 222222222222, 333333333333)),
        prefix="AWSLogs/", delim="/"),
    "page_prefixes_and_objects": page(
        contents("AWSLogs/aws-programmatic-access-test-object", 0) +
        "<CommonPrefixes><Prefix>AWSLogs/111111111111/</Prefix></CommonPrefixes>",
        prefix="AWSLogs/", delim="/"),
    "page_url_escapes": page(
        contents(BASE + "00/caf%C3%A9+%E2%82%AC%2B%25%26%3C%3E.json.gz") +
        contents(BASE + "00/a%2Fb%3Fc%23d%20e.json.gz") +
        "<CommonPrefixes><Prefix>AWSLogs/with+space%2Fslash/</Prefix></CommonPrefixes>"),
    "page_no_encoding": page(contents(BASE + "00/plus+stays%41.json.gz"), enc=None),
    "page_encoding_upper": page(contents(BASE + "00/x%41y"), enc="URL"),
    "page_encoding_last": (DECL + "<ListBucketResult %s><Contents><Key>a%%2Fb"
                           "</Key><Size>1</Size></Contents><EncodingType>url"
                           "</EncodingType></ListBucketResult>" % NS),
    "page_encoding_twice": (DECL + "<ListBucketResult><EncodingType>url</EncodingType>"
                            "<EncodingType>none</EncodingType><Contents><Key>a%2Fb"
                            "</Key></Contents></ListBucketResult>"),
    "page_empty": page("", count=0),
    "page_pretty": page("\n  " + contents(log_key(2, 1)).replace("><", ">\n    <")
                        + "\n"),
    "page_marker_and_data": page(
        contents(BASE + "00/data/" + "f" * 32 + ".json", 500000) +
        contents("AWSLogs/111111111111/BedrockModelInvocationLogs/"
                 "aws-programmatic-access-test-object", 0)),
    # edge cases of values
    "etag_variants": page(contents("a", etag='""') + contents("b", etag='"') +
                          contents("c", etag='"x') + contents("d", etag='x"') +
                          contents("e", etag="&quot;&quot;&quot;") +
                          contents("f", etag="abc-12")),
    "size_variants": page(contents("a", "9223372036854775807") +
                          contents("b", "99999999999999999999999") +
                          contents("c", "-1") + contents("d", " 12x") +
                          contents("e", "") + contents("f", "0x10")),
    "key_decode_edges": page(contents("%") + contents("%4") + contents("%zz") +
                             contents("%00cut") + contents("+++") +
                             contents("%%41") + contents("%C3") + contents("")),
    "key_cdata_charref": page(contents("<![CDATA[a<b&c]]>") +
                              contents("&#x41;&#66;&amp;&lt;&gt;&apos;&quot;") +
                              contents("a<!-- c -->b<?pi x?>c"), enc=None),
    "key_child_elements": page(contents("x<b>y</b>z") + contents(" <i>k</i>")),
    "key_whitespace": page(contents("   ") + contents("\n\t a \n")),
    "key_twice": page("<Contents><Key>first</Key><Key>second</Key><Size>1</Size>"
                      "<Size>2</Size><ETag>a</ETag><ETag>b</ETag></Contents>"),
    "contents_no_key": page(contents("ok") + "<Contents><Size>1</Size></Contents>"),
    "contents_empty_key": page("<Contents><Key/></Contents>"),
    "truncated_no_token": page(contents("a"), truncated=True),
    "truncated_empty_token": page(contents("a"), truncated=True, token=""),
    "truncated_variants": page(contents("a")).replace(
        "<IsTruncated>false</IsTruncated>",
        "<IsTruncated>TRUE</IsTruncated><IsTruncated> true</IsTruncated>"),
    "namespaced_root": ('<s3:ListBucketResult xmlns:s3="http://s3.amazonaws.com/'
                        'doc/2006-03-01/"><s3:Contents><s3:Key>k</s3:Key>'
                        '</s3:Contents></s3:ListBucketResult>'),
    "xml_space_preserve": ('<ListBucketResult xml:space="preserve"> <Contents> '
                           '<Key> k </Key> </Contents> </ListBucketResult>'),
    # documents
    "utf16_bom": ("\ufeff" + page(contents("caf\u00e9"), decl=False)).encode("utf-16-le"),
    "latin1_decl": ('<?xml version="1.0" encoding="ISO-8859-1"?>'
                    '<ListBucketResult><Contents><Key>caf\xe9</Key></Contents>'
                    '</ListBucketResult>').encode("latin-1"),
    "bad_utf8": b"<ListBucketResult><Contents><Key>\xff\xfe</Key></Contents></ListBucketResult>",
    "doctype_entity": ('<!DOCTYPE ListBucketResult [<!ENTITY k "AWSLogs/x">]>'
                       '<ListBucketResult><Contents><Key>&k;/y</Key></Contents>'
                       '</ListBucketResult>'),
    "billion_laughs": ('<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">' +
                       "".join('<!ENTITY %s "%s">' % (chr(98 + i), ("&%s;" % chr(97 + i)) * 10)
                               for i in range(8)) +
                       ']><ListBucketResult><Contents><Key>&i;</Key></Contents>'
                       '</ListBucketResult>'),
    "external_entity": ('<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                        '<ListBucketResult><Contents><Key>&x;</Key></Contents>'
                        '</ListBucketResult>'),
    "undefined_entity": "<ListBucketResult><Contents><Key>&nope;</Key></Contents></ListBucketResult>",
    "truncated_doc": page(contents("a") + contents("b"))[:150],
    "unclosed": "<ListBucketResult><Contents><Key>a</Key>",
    "mismatched": "<ListBucketResult><Contents><Key>a</Contents></Key></ListBucketResult>",
    "two_roots": "<ListBucketResult/><ListBucketResult/>",
    "trailing_garbage": page(contents("a")) + "junk",
    "empty": "",
    "not_xml": "this is not xml",
    "html_error": "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
    "nul_inside": b"<ListBucketResult><Contents><Key>a\x00b</Key></Contents></ListBucketResult>",
    "deep_nesting": "<ListBucketResult>" + "<Contents>" * 300 + "<Key>d</Key>" +
                    "</Contents>" * 300 + "</ListBucketResult>",
    "deep_nesting_key": "<ListBucketResult><Contents><Key>" + "<a>" * 300 + "k" +
                        "</a>" * 300 + "</Key></Contents></ListBucketResult>",
    # error bodies
    "err_access_denied": (DECL + "<Error><Code>AccessDenied</Code><Message>Access "
                          "Denied</Message><RequestId>4442587FB7D0A2F9</RequestId>"
                          "<HostId>vPkx2cH1o8mw=</HostId></Error>"),
    "err_no_such_bucket": (DECL + "<Error><Code>NoSuchBucket</Code><Message>The "
                           "specified bucket does not exist</Message><BucketName>"
                           "no-such-bucket</BucketName><RequestId>R</RequestId>"
                           "<HostId>H</HostId></Error>"),
    "err_redirect": (DECL + "<Error><Code>PermanentRedirect</Code><Message>The bucket "
                     "you are attempting to access must be addressed using the "
                     "specified endpoint.</Message><Endpoint>logs.s3.eu-west-1."
                     "amazonaws.com</Endpoint><Bucket>logs</Bucket><Region>eu-west-1"
                     "</Region></Error>"),
    "err_auth_region": (DECL + "<Error><Code>AuthorizationHeaderMalformed</Code>"
                        "<Message>The authorization header is malformed; the region "
                        "'us-east-1' is wrong; expecting 'eu-central-1'</Message>"
                        "<Region>eu-central-1</Region></Error>"),
    "err_no_code": "<Error><Message>m</Message><Region>r</Region></Error>",
    "err_nested": "<Error><Code><Inner>X</Inner>Y</Code><Code>Z</Code></Error>",
    "err_escapes": "<Error><Code>A&amp;B</Code><Message>&lt;tag&gt; &#x263A;</Message></Error>",
}
for name, data in xml_seeds.items():
    put(xdir, name, data)
