/*
 * unit.c
 *		Table-driven tests of src/s3xml.c: what is read from listing pages
 *		and error bodies, the errors, %-decoding, and how libxml2's tree
 *		shapes values in the corners (entities, CDATA, blank text).
 *
 * Prints failing cases, then "RESULT unit passed=N failed=M".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3xml.h"

static int	passed;
static int	failed;

#define NS "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""
#define LBR(body) "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult " NS ">" body "</ListBucketResult>"

static const char *const status_names[] = {
	"OK", "MALFORMED", "WRONG_ROOT", "NO_KEY", "NO_TOKEN", "NOMEM"
};

static void
check(int ok, const char *name, const char *what)
{
	if (ok)
		passed++;
	else
	{
		failed++;
		printf("FAIL %s: %s\n", name, what);
	}
}

static int
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * Parse doc as a listing; expect status st and, when OK, the objects in
 * exp ("key|size|etag" with etag "-" for NULL, NULL-terminated), the
 * prefixes in pre (NULL-terminated), truncated and token.
 */
static void
list_case(const char *name, const char *doc, S3XmlStatus st,
		  const char *const *exp, const char *const *pre,
		  int truncated, const char *token, const char *root)
{
	S3XmlListPage p;
	S3XmlStatus got = s3xml_parse_list(doc, strlen(doc), &p);
	char		what[2200];
	int			i;

	snprintf(what, sizeof(what), "status %s, expected %s",
			 status_names[got], status_names[st]);
	check(got == st, name, what);
	if (got == st && st == S3XML_OK)
	{
		int			n = 0;

		while (exp && exp[n])
			n++;
		snprintf(what, sizeof(what), "%d objects, expected %d", p.nobjects, n);
		check(p.nobjects == n, name, what);
		for (i = 0; i < n && i < p.nobjects; i++)
		{
			char		buf[1024];

			snprintf(buf, sizeof(buf), "%s|%lld|%s", p.objects[i].key,
					 p.objects[i].size, p.objects[i].etag ? p.objects[i].etag : "-");
			snprintf(what, sizeof(what), "object %d is \"%s\", expected \"%s\"",
					 i, buf, exp[i]);
			check(strcmp(buf, exp[i]) == 0, name, what);
		}
		n = 0;
		while (pre && pre[n])
			n++;
		snprintf(what, sizeof(what), "%d prefixes, expected %d", p.nprefixes, n);
		check(p.nprefixes == n, name, what);
		for (i = 0; i < n && i < p.nprefixes; i++)
		{
			snprintf(what, sizeof(what), "prefix %d is \"%s\", expected \"%s\"",
					 i, p.prefixes[i], pre[i]);
			check(strcmp(p.prefixes[i], pre[i]) == 0, name, what);
		}
		check(p.truncated == truncated, name, "truncated");
		snprintf(what, sizeof(what), "token \"%s\", expected \"%s\"",
				 p.next_token ? p.next_token : "(null)", token ? token : "(null)");
		check(streq(p.next_token, token), name, what);
	}
	if (got == st && st == S3XML_WRONG_ROOT)
	{
		snprintf(what, sizeof(what), "root \"%s\", expected \"%s\"",
				 p.root_name ? p.root_name : "(null)", root);
		check(streq(p.root_name, root), name, what);
	}
	s3xml_list_free(&p);
}

static void
error_case(const char *name, const char *doc, S3XmlStatus st,
		   const char *code, const char *message, const char *region)
{
	S3XmlError e;
	S3XmlStatus got = s3xml_parse_error(doc, strlen(doc), &e);
	char		what[2200];

	snprintf(what, sizeof(what), "status %s, expected %s",
			 status_names[got], status_names[st]);
	check(got == st, name, what);
	snprintf(what, sizeof(what), "code \"%s\" message \"%s\" region \"%s\"",
			 e.code ? e.code : "(null)", e.message ? e.message : "(null)",
			 e.region ? e.region : "(null)");
	check(streq(e.code, code) && streq(e.message, message) &&
		  streq(e.region, region), name, what);
	s3xml_error_free(&e);
}

static void
decode_case(const char *in, const char *out)
{
	char	   *d = s3xml_url_decode(in);
	char		what[256];

	snprintf(what, sizeof(what), "\"%s\" decodes to \"%s\", expected \"%s\"",
			 in, d ? d : "(null)", out);
	check(d && strcmp(d, out) == 0, "url_decode", what);
	free(d);
}

#define L(...) ((const char *const[]) {__VA_ARGS__, NULL})
#define NONE ((const char *const *) NULL)

int
main(void)
{
	/* a real page: url-encoded keys, quoted ETags, truncated */
	list_case("real_page", LBR(
		"<Name>logs</Name><Prefix>AWSLogs/</Prefix>"
		"<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
		"<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><EncodingType>url</EncodingType>"
		"<IsTruncated>true</IsTruncated>"
		"<Contents><Key>AWSLogs/1/2026/11/01/00/a+b%2Bc%C3%A9.json.gz</Key>"
		"<LastModified>2026-11-01T00:05:12.000Z</LastModified>"
		"<ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag>"
		"<Size>1234</Size><StorageClass>STANDARD</StorageClass></Contents>"
		"<Contents><Key>AWSLogs/1/2026/11/01/00/b%25.json.gz</Key>"
		"<ETag>\"9b2cf535f27731c974343645a3985328-3\"</ETag><Size>17179869184</Size></Contents>"),
			  S3XML_OK,
			  L("AWSLogs/1/2026/11/01/00/a b+c\xc3\xa9.json.gz|1234|0123456789abcdef0123456789abcdef",
				"AWSLogs/1/2026/11/01/00/b%.json.gz|17179869184|9b2cf535f27731c974343645a3985328-3"),
			  NONE, 1, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=", NULL);
	list_case("common_prefixes", LBR(
		"<Prefix>AWSLogs/</Prefix><Delimiter>/</Delimiter><EncodingType>url</EncodingType>"
		"<IsTruncated>false</IsTruncated>"
		"<Contents><Key>AWSLogs/aws-programmatic-access-test-object</Key><Size>0</Size></Contents>"
		"<CommonPrefixes><Prefix>AWSLogs/111111111111/</Prefix></CommonPrefixes>"
		"<CommonPrefixes><Prefix>AWSLogs/with+space%2F/</Prefix><Prefix>second</Prefix></CommonPrefixes>"),
			  S3XML_OK, L("AWSLogs/aws-programmatic-access-test-object|0|-"),
			  L("AWSLogs/111111111111/", "AWSLogs/with space//", "second"), 0, NULL, NULL);
	list_case("empty_page", LBR("<IsTruncated>false</IsTruncated>"),
			  S3XML_OK, NONE, NONE, 0, NULL, NULL);
	list_case("encoding_after_keys", LBR("<Contents><Key>a%2Fb</Key></Contents>"
										 "<EncodingType>url</EncodingType>"),
			  S3XML_OK, L("a/b|0|-"), NONE, 0, NULL, NULL);
	list_case("encoding_any_case", LBR("<EncodingType>uRL</EncodingType>"
									   "<Contents><Key>a%2Fb+c</Key></Contents>"),
			  S3XML_OK, L("a/b c|0|-"), NONE, 0, NULL, NULL);
	list_case("encoding_absent", LBR("<Contents><Key>a%2Fb+c</Key></Contents>"),
			  S3XML_OK, L("a%2Fb+c|0|-"), NONE, 0, NULL, NULL);
	list_case("encoding_other", LBR("<EncodingType>urlx</EncodingType>"
									"<Contents><Key>a%2Fb</Key></Contents>"),
			  S3XML_OK, L("a%2Fb|0|-"), NONE, 0, NULL, NULL);
	list_case("encoding_last_wins", LBR("<EncodingType>url</EncodingType>"
										"<EncodingType>none</EncodingType>"
										"<Contents><Key>a%2Fb</Key></Contents>"),
			  S3XML_OK, L("a%2Fb|0|-"), NONE, 0, NULL, NULL);
	list_case("last_child_wins", LBR("<Contents><Key>first</Key><Key>second</Key>"
									 "<Size>1</Size><Size>2</Size><ETag>a</ETag><ETag>b</ETag></Contents>"
									 "<NextContinuationToken>t1</NextContinuationToken>"
									 "<NextContinuationToken>t2</NextContinuationToken>"),
			  S3XML_OK, L("second|2|b"), NONE, 0, "t2", NULL);
	list_case("etags", LBR("<Contents><Key>a</Key><ETag>\"\"</ETag></Contents>"
						   "<Contents><Key>b</Key><ETag>\"</ETag></Contents>"
						   "<Contents><Key>c</Key><ETag>\"x</ETag></Contents>"
						   "<Contents><Key>d</Key><ETag>&quot;&quot;&quot;</ETag></Contents>"
						   "<Contents><Key>e</Key><ETag/></Contents>"),
			  S3XML_OK, L("a|0|", "b|0|\"", "c|0|\"x", "d|0|\"", "e|0|"), NONE, 0, NULL, NULL);
	list_case("sizes", LBR("<Contents><Key>a</Key><Size>9223372036854775807</Size></Contents>"
						   "<Contents><Key>b</Key><Size>99999999999999999999</Size></Contents>"
						   "<Contents><Key>c</Key><Size>-1</Size></Contents>"
						   "<Contents><Key>d</Key><Size> 12x</Size></Contents>"
						   "<Contents><Key>e</Key><Size>x</Size></Contents>"),
			  S3XML_OK, L("a|9223372036854775807|-", "b|9223372036854775807|-",
						  "c|-1|-", "d|12|-", "e|0|-"), NONE, 0, NULL, NULL);
	list_case("is_truncated_exact", LBR("<IsTruncated>TRUE</IsTruncated>"),
			  S3XML_OK, NONE, NONE, 0, NULL, NULL);
	list_case("is_truncated_last_wins", LBR("<IsTruncated>true</IsTruncated>"
											"<IsTruncated>false</IsTruncated>"),
			  S3XML_OK, NONE, NONE, 0, NULL, NULL);
	list_case("values_markup", LBR("<Contents><Key><![CDATA[a<b&c]]></Key></Contents>"
								   "<Contents><Key>&#x41;&#66;&amp;&lt;&gt;&apos;&quot;</Key></Contents>"
								   "<Contents><Key>a<!-- c -->b<?pi x?>c</Key></Contents>"
								   "<Contents><Key>x<b>y</b>z</Key></Contents>"),
			  S3XML_OK, L("a<b&c|0|-", "AB&<>'\"|0|-", "abc|0|-", "xyz|0|-"),
			  NONE, 0, NULL, NULL);
	list_case("namespace_prefix", "<s3:ListBucketResult xmlns:s3=\"urn:x\"><s3:Contents>"
			  "<s3:Key>k</s3:Key></s3:Contents></s3:ListBucketResult>",
			  S3XML_OK, L("k|0|-"), NONE, 0, NULL, NULL);
	list_case("internal_entity", "<!DOCTYPE r [<!ENTITY k \"AWSLogs/x\">]>"
			  "<ListBucketResult><Contents><Key>&k;/y</Key></Contents></ListBucketResult>",
			  S3XML_OK, L("AWSLogs/x/y|0|-"), NONE, 0, NULL, NULL);

	/* libxml2 drops blank text where its heuristic calls it formatting */
	list_case("blank_value_kept", LBR("<Contents><Key>   </Key></Contents>"),
			  S3XML_OK, L("   |0|-"), NONE, 0, NULL, NULL);
	list_case("blank_before_markup_dropped", LBR("<Contents><Key> <i>k</i></Key></Contents>"
												 "<Contents><Key> <!--c-->x</Key></Contents>"),
			  S3XML_OK, L("k|0|-", "x|0|-"), NONE, 0, NULL, NULL);
	list_case("pretty_printed", LBR("\n  <IsTruncated>false</IsTruncated>\n  <Contents>\n"
									"    <Key>k</Key>\n    <Size>3</Size>\n  </Contents>\n"),
			  S3XML_OK, L("k|3|-"), NONE, 0, NULL, NULL);

	/* nothing is read from outside the document */
	list_case("external_entity", "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
			  "<ListBucketResult><Contents><Key>a&x;b</Key></Contents></ListBucketResult>",
			  S3XML_OK, L("ab|0|-"), NONE, 0, NULL, NULL);

	/* errors */
	list_case("no_key", LBR("<Contents><Key>a</Key></Contents><Contents><Size>1</Size></Contents>"),
			  S3XML_NO_KEY, NONE, NONE, 0, NULL, NULL);
	list_case("no_key_before_no_token", LBR("<IsTruncated>true</IsTruncated>"
											"<Contents><Size>1</Size></Contents>"),
			  S3XML_NO_KEY, NONE, NONE, 0, NULL, NULL);
	list_case("empty_key_is_a_key", LBR("<Contents><Key/></Contents>"),
			  S3XML_OK, L("|0|-"), NONE, 0, NULL, NULL);
	list_case("no_token", LBR("<IsTruncated>true</IsTruncated><Contents><Key>a</Key></Contents>"),
			  S3XML_NO_TOKEN, NONE, NONE, 0, NULL, NULL);
	list_case("empty_token", LBR("<IsTruncated>true</IsTruncated>"
								 "<NextContinuationToken></NextContinuationToken>"),
			  S3XML_NO_TOKEN, NONE, NONE, 0, NULL, NULL);
	list_case("wrong_root", "<Error><Code>AccessDenied</Code></Error>",
			  S3XML_WRONG_ROOT, NONE, NONE, 0, NULL, "Error");
	list_case("html", "<html><body>502 Bad Gateway</body></html>",
			  S3XML_WRONG_ROOT, NONE, NONE, 0, NULL, "html");
	list_case("empty_doc", "", S3XML_MALFORMED, NONE, NONE, 0, NULL, NULL);
	list_case("not_xml", "not xml", S3XML_MALFORMED, NONE, NONE, 0, NULL, NULL);
	list_case("unclosed", "<ListBucketResult><Contents><Key>a</Key>",
			  S3XML_MALFORMED, NONE, NONE, 0, NULL, NULL);
	list_case("two_roots", "<ListBucketResult/><ListBucketResult/>",
			  S3XML_MALFORMED, NONE, NONE, 0, NULL, NULL);
	list_case("undefined_entity", LBR("<Contents><Key>&nope;</Key></Contents>"),
			  S3XML_MALFORMED, NONE, NONE, 0, NULL, NULL);
	list_case("bad_utf8", "<ListBucketResult><Contents><Key>\xff</Key></Contents></ListBucketResult>",
			  S3XML_MALFORMED, NONE, NONE, 0, NULL, NULL);
	list_case("billion_laughs", "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\">"
			  "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
			  "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\"><!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">"
			  "<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\"><!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">"
			  "<!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\"><!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">]>"
			  "<ListBucketResult><Contents><Key>&i;</Key></Contents></ListBucketResult>",
			  S3XML_MALFORMED, NONE, NONE, 0, NULL, NULL);

	/* libxml2 refuses nesting deeper than 256 elements (no XML_PARSE_HUGE) */
	{
		char		deep[8192];
		int			i;
		int			depth;

		for (depth = 250; depth <= 260; depth += 10)
		{
			strcpy(deep, "<ListBucketResult><Contents><Key>");
			for (i = 0; i < depth; i++)
				strcat(deep, "<a>");
			strcat(deep, "k");
			for (i = 0; i < depth; i++)
				strcat(deep, "</a>");
			strcat(deep, "</Key></Contents></ListBucketResult>");
			list_case(depth == 250 ? "depth_250" : "depth_260", deep,
					  depth == 250 ? S3XML_OK : S3XML_MALFORMED,
					  L("k|0|-"), NONE, 0, NULL, NULL);
		}
	}

	/* error bodies */
	error_case("error", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
			   "<Message>Access Denied</Message><RequestId>R</RequestId></Error>",
			   S3XML_OK, "AccessDenied", "Access Denied", NULL);
	error_case("error_region", "<Error><Code>AuthorizationHeaderMalformed</Code>"
			   "<Message>the region 'us-east-1' is wrong; expecting 'eu-central-1'</Message>"
			   "<Region>eu-central-1</Region></Error>",
			   S3XML_OK, "AuthorizationHeaderMalformed",
			   "the region 'us-east-1' is wrong; expecting 'eu-central-1'", "eu-central-1");
	error_case("error_no_code", "<Error><Message>m</Message></Error>",
			   S3XML_OK, NULL, "m", NULL);
	error_case("error_last_wins", "<Error><Code><i>X</i>Y</Code><Code>A&amp;B</Code></Error>",
			   S3XML_OK, "A&B", NULL, NULL);
	error_case("error_wrong_root", LBR(""), S3XML_WRONG_ROOT, NULL, NULL, NULL);
	error_case("error_malformed", "<Error><Code>x</Error>", S3XML_MALFORMED, NULL, NULL, NULL);

	/* %-decoding */
	decode_case("", "");
	decode_case("plain/key.json.gz", "plain/key.json.gz");
	decode_case("a+b", "a b");
	decode_case("%2b%2B", "++");
	decode_case("%C3%a9", "\xc3\xa9");
	decode_case("%", "%");
	decode_case("%4", "%4");
	decode_case("%zz%4g", "%zz%4g");
	decode_case("%%41", "%A");
	decode_case("%2541", "%41");
	decode_case("a%00b", "a");

	printf("RESULT unit passed=%d failed=%d\n", passed, failed);
	return failed ? 1 : 0;
}
