// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests for throttle/qmp_reply.c (QMP replies) and the state-file text of
 * throttle/qmp.c's throttle settings. */
#include <errno.h>
#include <stdlib.h>
#include "tap.h"
#include "throttle/qmp_reply.h"
#include "throttle/qmp.h"

static int parse(const char *s, struct hci_json_doc *d, char *err)
{
	return hci_json_parse(s, strlen(s), d, err, 128);
}

static void rejects(const char *s, const char *why)
{
	struct hci_json_doc d;
	char err[128] = "";
	int rc = parse(s, &d, err);

	ok(rc == -EINVAL && d.root == NULL && d.mem == NULL && !strncmp(err, "JSON: ", 6),
	   "rejects %s: %s", why, err);
}

static void test_values(void)
{
	struct hci_json_doc d;
	const struct hci_json *m, *e;
	char err[128];
	double v;
	int n;

	is_int(parse(" {\"return\": [{\"device\": \"d0\", \"inserted\": {\"iops_rd\": 500, "
		     "\"bps\": 0, \"ro\": false, \"x\": null, \"f\": -1.5e3}, \"locked\": true}],"
		     " \"id\": 7}\r\n", &d, err), 0, "a query-block reply parses");
	is_int(d.root->type, HCI_JSON_OBJ, "root is an object");
	ok(hci_json_num(d.root, "id", &v) && v == 7, "id is 7");
	m = hci_json_get(d.root, "return");
	ok(m && m->type == HCI_JSON_ARR && m->len == 1, "return is a list of 1");
	e = m->child;
	is_str(hci_json_str(e, "device"), "d0", "device");
	m = hci_json_get(e, "inserted");
	ok(hci_json_num(m, "iops_rd", &v) && v == 500, "iops_rd 500");
	ok(hci_json_num(m, "f", &v) && v == -1500, "-1.5e3");
	ok(!hci_json_num(m, "ro", &v), "a bool is not a number");
	ok(!hci_json_num(m, "missing", &v), "a missing key is not a number");
	ok(hci_json_get(m, "x") && hci_json_get(m, "x")->type == HCI_JSON_NULL, "null");
	ok(hci_json_get(e, "locked")->b && !hci_json_get(m, "ro")->b, "true and false");
	ok(!hci_json_str(m, "iops_rd"), "a number is not a string");
	ok(!hci_json_get(hci_json_get(d.root, "return"), "device"), "get on a list is NULL");
	n = 0;
	for (m = hci_json_get(e, "inserted")->child; m; m = m->next)
		n++;
	is_int(n, 5, "members kept in order, all of them");
	is_str(hci_json_get(e, "inserted")->child->key, "iops_rd", "first member's key");
	hci_json_free(&d);

	is_int(parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20ac\\ud83d\\ude00\"", &d, err), 0,
	       "escapes parse");
	is_str(d.root->str, "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
	       "escapes decode to UTF-8, surrogate pair included");
	hci_json_free(&d);
	is_int(parse("\"a\\u0000b\"", &d, err), 0, "an escaped NUL parses");
	ok(d.root->len == 3 && d.root->str[1] == '\0' && d.root->str[2] == 'b',
	   "its length counts past the NUL");
	hci_json_free(&d);
	is_int(parse("[]", &d, err), 0, "empty list");
	ok(d.root->type == HCI_JSON_ARR && !d.root->child && d.root->len == 0, "has no members");
	hci_json_free(&d);
	is_int(parse("{}", &d, err), 0, "empty object");
	hci_json_free(&d);
	is_int(parse("0", &d, err), 0, "0");
	hci_json_free(&d);
	is_int(parse("[-0.5, 1E+2, 3e-1]", &d, err), 0, "numbers with fraction and exponent");
	ok(d.root->child->num == -0.5 && d.root->child->next->num == 100, "their values");
	hci_json_free(&d);
	is_int(parse("{\"a\":1,\"a\":2}", &d, err), 0, "a repeated key parses");
	ok(hci_json_num(d.root, "a", &v) && v == 1, "and the first one is found");
	hci_json_free(&d);
	is_int(parse("1e999", &d, err), 0, "a huge number parses");
	ok(!hci_json_num(d.root, "x", &v), "(not an object)");
	hci_json_free(&d);
	is_int(parse("{\"x\":1e999}", &d, err), 0, "an infinite member parses");
	ok(!hci_json_num(d.root, "x", &v), "but is not given out as a number");
	hci_json_free(&d);
}

static void test_errors(void)
{
	char deep[200];

	rejects("", "empty text");
	rejects("   ", "only white space");
	rejects("{", "an open object");
	rejects("[1,", "an open list");
	rejects("[1 2]", "a missing comma");
	rejects("[1,]", "a trailing comma");
	rejects("{\"a\" 1}", "a missing colon");
	rejects("{1:2}", "a non-string key");
	rejects("{\"a\":1,}", "a trailing comma in an object");
	rejects("\"abc", "an unterminated string");
	rejects("\"a\nb\"", "a raw newline in a string");
	rejects("\"\\x\"", "a bad escape");
	rejects("\"\\u12\"", "a short \\u escape");
	rejects("\"\\u12g4\"", "a bad hex digit");
	rejects("\"\\ud800\"", "a lone high surrogate");
	rejects("\"\\ud800\\u0041\"", "a bad surrogate pair");
	rejects("\"\\udc00\"", "a lone low surrogate");
	rejects("01", "a leading zero");
	rejects("-", "a lone minus");
	rejects("1.", "a bare decimal point");
	rejects("1e", "a bare exponent");
	rejects("+1", "a plus sign");
	rejects(".5", "a leading point");
	rejects("tru", "a cut literal");
	rejects("nul", "a cut null");
	rejects("{} {}", "two values");
	rejects("[1] x", "trailing characters");
	rejects("NaN", "NaN");
	rejects("{\"return\\u0000x\": 1}", "a NUL in a member name");
	memset(deep, '[', HCI_JSON_MAX_DEPTH + 1);
	deep[HCI_JSON_MAX_DEPTH + 1] = '\0';
	rejects(deep, "nesting deeper than the limit");
	{
		struct hci_json_doc d;
		char err[128];
		char ok_deep[200];

		memset(ok_deep, '[', HCI_JSON_MAX_DEPTH);
		memset(ok_deep + HCI_JSON_MAX_DEPTH, ']', HCI_JSON_MAX_DEPTH);
		is_int(hci_json_parse(ok_deep, 2 * HCI_JSON_MAX_DEPTH, &d, err, sizeof(err)), 0,
		       "nesting at the limit parses");
		hci_json_free(&d);
		/* the length is honoured: a NUL-free prefix of a longer text */
		is_int(hci_json_parse("[1]]]", 3, &d, err, sizeof(err)), 0,
		       "only len bytes are read");
		hci_json_free(&d);
		is_int(hci_json_parse("[1]\0", 4, &d, err, sizeof(err)), -EINVAL,
		       "an embedded NUL after the value is trailing junk");
	}
}

static void test_qmp_text(void)
{
	struct hci_qmp_throttle t = {0}, u;
	char buf[1024];

	is_int(HCI_QMP_NFIELDS, 19, "19 numeric throttle arguments");
	is_str(hci_qmp_fields[HCI_QMP_IOPS_SIZE], "iops_size", "the last is iops_size");
	is_str(hci_qmp_fields[HCI_QMP_IOPS_RD], "iops_rd", "iops_rd's index");
	t.v[HCI_QMP_IOPS_RD] = 500;
	t.v[HCI_QMP_BPS] = 1048576;
	t.v[HCI_QMP_IOPS_SIZE] = 4096;
	snprintf(t.group, sizeof(t.group), "tenant a");
	hci_qmp_format(&t, buf, sizeof(buf));
	ok(strstr(buf, "bps=1048576 ") == buf && strstr(buf, " iops_rd=500 ") &&
	   strstr(buf, " iops_size=4096 group=tenant a"), "format: %s", buf);
	is_int(hci_qmp_parse(buf, &u), 0, "parse it back");
	ok(!memcmp(u.v, t.v, sizeof(t.v)), "every number comes back");
	is_str(u.group, "tenant a", "the group, space and all");
	t.group[0] = '\0';
	hci_qmp_format(&t, buf, sizeof(buf));
	ok(!strstr(buf, "group"), "no group: none written");
	is_int(hci_qmp_parse(buf, &u), 0, "parses");
	is_str(u.group, "", "no group read");
	is_int(hci_qmp_parse("", &u), 0, "empty: all zero");
	is_int(hci_qmp_parse("bps=1 bogus=2", &u), -EINVAL, "an unknown name");
	is_int(hci_qmp_parse("bps=x", &u), -EINVAL, "a bad number");
	is_int(hci_qmp_parse("bps=-1", &u), -EINVAL, "a negative number");
	is_int(hci_qmp_parse("bps=inf", &u), -EINVAL, "an infinite number");
	is_int(hci_qmp_parse("bps", &u), -EINVAL, "no value");
	is_int(hci_qmp_parse("bps=1 group=", &u), -EINVAL, "an empty group");
}

int main(void)
{
	test_values();
	test_errors();
	test_qmp_text();
	return done_testing();
}
