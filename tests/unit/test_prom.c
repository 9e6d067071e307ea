// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for lib/fmt/prom.c, promfile.c and httpd.c: escapes as a
 * property over random strings (each written, parsed back by a checker of
 * the format's own and compared), the log2-us histogram's buckets, the
 * atomic file, and the server's answers to good, wrong and slow clients.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "fmt/httpd.h"
#include "fmt/prom.h"
#include "tap.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* UTF-8 of code point @cp into @out; its length */
static size_t utf8_put(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* byte sequences that are not UTF-8, each byte of which is replaced alone */
static const char *const bad_seqs[] = {
	"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xff", "\xfe", "\xed\xa0\x80",
	"\xf4\x90\x80\x80", "\xe2\x82", "\xf0\x9f\x98", "\xe0\x80\xaf",
};

/*
 * A random string of tokens (the format's specials, ASCII, code points of
 * every length, bad bytes with an 'x' after them) into @s, and what the writer must make of it
 * (bad bytes as U+FFFD each) into @want. Returns whether any bad byte was in.
 */
static int random_string(char *s, char *want, size_t room)
{
	size_t n = 0, w = 0;
	int bad = 0, len = (int)rnd(24);

	for (int i = 0; i < len && n + 16 < room; i++) {
		char tok[16];
		size_t k;
		uint32_t kind = rnd(8), cp;

		if (kind <= 2) {
			k = 1;
			tok[0] = "\\\"\n{}=,# \t\r'"[rnd(12)];
		} else if (kind <= 4) {
			k = utf8_put(0x01 + rnd(0x7f), tok);
		} else if (kind <= 6) {
			do
				cp = 0x80 + rnd(0x10ffff - 0x80);
			while (cp >= 0xd800 && cp <= 0xdfff);
			k = utf8_put(cp, tok);
		} else {
			const char *b = bad_seqs[rnd(sizeof(bad_seqs) / sizeof(bad_seqs[0]))];

			k = strlen(b);
			memcpy(s + n, b, k);
			n += k;
			for (size_t j = 0; j < k; j++, w += 3)
				memcpy(want + w, "\xef\xbf\xbd", 3);
			/* a cut sequence and a stray continuation would make a good one */
			s[n++] = want[w++] = 'x';
			bad = 1;
			continue;
		}
		memcpy(s + n, tok, k);
		memcpy(want + w, tok, k);
		n += k;
		w += k;
	}
	s[n] = want[w] = '\0';
	return bad;
}

/*
 * The checker: a label value as the exposition format reads it, from just
 * after the opening quote. The value, unescaped, into @out; the position
 * after the closing quote, or NULL where the text is not the format.
 */
static const char *read_label_value(const char *p, char *out)
{
	for (;;) {
		if (*p == '"') {
			*out = '\0';
			return p + 1;
		}
		if (*p == '\0' || *p == '\n')
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == '\\' || *p == '"')
				*out++ = *p++;
			else if (*p == 'n')
				*out++ = '\n', p++;
			else
				return NULL;
			continue;
		}
		*out++ = *p++;
	}
}

/* the checker for HELP text: up to the line's end, \\ and \n unescaped */
static const char *read_help(const char *p, char *out)
{
	while (*p && *p != '\n') {
		if (*p == '\\') {
			p++;
			if (*p == '\\')
				*out++ = '\\';
			else if (*p == 'n')
				*out++ = '\n';
			else
				return NULL;
			p++;
			continue;
		}
		*out++ = *p++;
	}
	*out = '\0';
	return *p == '\n' ? p + 1 : NULL;
}

/* one round: a family with the string as HELP (ASCII part) and as a label */
static int escape_round(int *bad_seen)
{
	char s[512], want[1024], got[1024], help[512];
	struct hci_prom p;
	const char *c;
	int good = 0;
	size_t h = 0;

	*bad_seen |= random_string(s, want, sizeof(s));
	for (const char *q = s; *q; q++)
		if ((unsigned char)*q < 0x80)
			help[h++] = *q;
	help[h] = '\0';
	hci_prom_init(&p);
	hci_prom_family(&p, "hci_t", HCI_PROM_GAUGE, help);
	hci_prom_sample(&p, "hci_t", (struct hci_prom_label[]){ { "origin", s } }, 1, 1);
	c = p.buf;
	if (!p.err && !strncmp(c, "# HELP hci_t ", 13) && (c = read_help(c + 13, got)) &&
	    !strcmp(got, help) && !strncmp(c, "# TYPE hci_t gauge\n", 19)) {
		c += 19;
		if (!strncmp(c, "hci_t{origin=\"", 14) && (c = read_label_value(c + 14, got)))
			good = !strcmp(got, want) && !strcmp(c, "} 1\n");
	}
	if (!good)
		printf("# round failed on %s\n", p.buf ? p.buf : "(nothing)");
	hci_prom_free(&p);
	return good;
}

static void test_escape_property(void)
{
	int fails = 0, bad_seen = 0;

	for (int i = 0; i < 20000; i++)
		fails += !escape_round(&bad_seen);
	is_int(fails, 0, "20000 random label values and HELP texts parse back to what was "
	       "written (bad UTF-8 as U+FFFD)");
	ok(bad_seen, "the rounds included bytes that are not UTF-8");
}

static void test_escape_cases(void)
{
	struct hci_prom p;

	hci_prom_init(&p);
	hci_prom_sample_u64(&p, "hci_x_total",
			    (struct hci_prom_label[]){ { "a", "q\"b\\s\nn" }, { "b", "" } }, 2,
			    18446744073709551615ULL);
	is_str(p.buf, "hci_x_total{a=\"q\\\"b\\\\s\\nn\",b=\"\"} 18446744073709551615\n",
	       "quote, backslash, newline escaped; a u64 written exactly");
	hci_prom_reset(&p);
	hci_prom_sample(&p, "hci_y", NULL, 0, NAN);
	hci_prom_sample(&p, "hci_y", NULL, 0, -INFINITY);
	hci_prom_sample(&p, "hci_y", NULL, 0, 0.25);
	is_str(p.buf, "hci_y NaN\nhci_y -Inf\nhci_y 0.25\n", "no braces without labels; NaN, -Inf");
	hci_prom_reset(&p);
	hci_prom_sample(&p, "9bad", NULL, 0, 1);
	is_int(p.err, -EINVAL, "a metric name starting with a digit is refused");
	hci_prom_reset(&p);
	hci_prom_sample(&p, "ok", (struct hci_prom_label[]){ { "a:b", "x" } }, 1, 1);
	is_int(p.err, -EINVAL, "a label name with ':' is refused");
	ok(hci_prom_name_ok("hci:rule:rate5m", 0) && !hci_prom_name_ok("a-b", 0) &&
	   !hci_prom_name_ok("", 1), "metric names: colons yes, dashes and empty no");
	hci_prom_free(&p);
}

/* the number after "} " or " " at the line's end */
static const char *value_of(const char *line)
{
	const char *sp = strrchr(line, ' ');

	return sp ? sp + 1 : "";
}

/* the bucket lines of one series: cumulative, monotonic, exact bounds */
static int check_buckets(char *text, uint64_t total, int *nlines, char *last_le)
{
	uint64_t prev = 0;
	double prev_le = -1;
	int n = 0, good = 1;

	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *le = strstr(line, "le=\"");
		uint64_t v;
		double bound;

		if (strncmp(line, "hci_lat_seconds_bucket{", 23) || !le)
			continue;
		v = strtoull(value_of(line), NULL, 10);
		le += 4;
		bound = strncmp(le, "+Inf\"", 5) ? strtod(le, NULL) : INFINITY;
		if (v < prev || bound <= prev_le)
			good = 0;
		if (!isinf(bound) && fabs(bound - ldexp(1, n) * 1e-6) > 1e-15 * bound)
			good = 0;
		snprintf(last_le, 16, "%.*s", (int)strcspn(le, "\""), le);
		prev = v;
		prev_le = bound;
		n++;
	}
	*nlines = n;
	return good && prev == total;
}

static void test_histogram(void)
{
	__u64 slots[HCI_NBUCKETS] = {}, total = 0, sum_ns = 0;
	struct hci_prom p;
	char le[32], last[16], *copy, want[64];
	int n, good;

	hci_prom_le(0, le, sizeof(le));
	is_str(le, "0.000001", "bucket 0's bound: 1 us");
	hci_prom_le(10, le, sizeof(le));
	is_str(le, "0.001024", "bucket 10's bound: 1024 us, exactly");
	hci_prom_le(HCI_NBUCKETS - 2, le, sizeof(le));
	is_str(le, "1073.741824", "the last finite bound: 2^30 us");
	for (int b = 0; b < HCI_NBUCKETS; b++) {
		slots[b] = rnd(3) ? rnd(1000000) : 0;
		total += slots[b];
		sum_ns += slots[b] * (hci_bucket_lo_us(b) * 1000 + 500);
	}
	hci_prom_init(&p);
	hci_prom_family(&p, "hci_lat_seconds", HCI_PROM_HISTOGRAM, "latency");
	hci_prom_hist_log2us(&p, "hci_lat_seconds",
			     (struct hci_prom_label[]){ { "stage", "Q2C" } }, 1, slots, sum_ns);
	ok(!p.err && strstr(p.buf, "# TYPE hci_lat_seconds histogram\n"), "a histogram family");
	snprintf(want, sizeof(want), "hci_lat_seconds_count{stage=\"Q2C\"} %llu\n",
		 (unsigned long long)total);
	ok(strstr(p.buf, want) != NULL, "_count is the total count");
	snprintf(want, sizeof(want), "hci_lat_seconds_sum{stage=\"Q2C\"} %llu.%09llu\n",
		 (unsigned long long)(sum_ns / 1000000000ULL),
		 (unsigned long long)(sum_ns % 1000000000ULL));
	ok(strstr(p.buf, want) != NULL, "_sum is the exact ns sum in seconds");
	copy = strdup(p.buf);
	good = check_buckets(copy, total, &n, last);
	ok(good, "buckets cumulative, monotonic, at 2^b us, and +Inf == _count");
	is_int(n, HCI_NBUCKETS, "one line per finite bound and +Inf");
	is_str(last, "+Inf", "the last bucket is +Inf");
	free(copy);
	hci_prom_free(&p);
}

/* a value in bucket b (by hci_hist.h) lies at or below bucket b's le */
static void test_bucket_bounds(void)
{
	int fails = 0;

	for (int i = 0; i < 100000; i++) {
		uint64_t ns = (uint64_t)rnd(1u << 31) >> rnd(31);
		unsigned int b = hci_bucket_of_ns(ns);
		char le[32];

		if (b == HCI_NBUCKETS - 1)
			continue;
		hci_prom_le(b, le, sizeof(le));
		if ((double)ns / 1e9 > strtod(le, NULL) ||
		    (b > 0 && (hci_prom_le(b - 1, le, sizeof(le)), (double)ns / 1e9 <
							       strtod(le, NULL))))
			fails++;
	}
	is_int(fails, 0, "100000 random latencies lie inside their bucket's bounds");
}

static void test_file(void)
{
	char dir[] = "/tmp/test_prom.XXXXXX", path[64], err[256], buf[64];
	struct stat st;
	FILE *f;
	DIR *d;
	int left = 0;

	ok(mkdtemp(dir) != NULL, "a directory for the file");
	snprintf(path, sizeof(path), "%s/hcitrace.prom", dir);
	is_int(hci_prom_write_file(path, "a 1\n", 4, err, sizeof(err)), 0, "written");
	is_int(hci_prom_write_file(path, "b 2\n", 4, err, sizeof(err)), 0, "written over");
	f = fopen(path, "r");
	ok(f && fgets(buf, sizeof(buf), f) && !strcmp(buf, "b 2\n"), "the new text");
	if (f)
		fclose(f);
	ok(!stat(path, &st) && (st.st_mode & 0777) == 0644, "mode 0644, for the collector");
	d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));)
		left += e->d_name[0] != '.' || strlen(e->d_name) > 2;
	if (d)
		closedir(d);
	is_int(left, 1, "no temporary file left beside it");
	ok(hci_prom_write_file("/nonexistent/x.prom", "", 0, err, sizeof(err)) == -ENOENT &&
	   strstr(err, "/nonexistent/x.prom"), "a missing directory: an error naming the path");
	unlink(path);
	rmdir(dir);
}

/* send @req to the server and read its whole answer into @out */
static int http(unsigned int port, const char *req, char *out, size_t room)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { 3, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t n = 0;
	ssize_t r;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return -1;
	}
	while (n + 1 < room && (r = read(fd, out + n, room - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(fd);
	return (int)n;
}

static int slow_client(unsigned int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) || write(fd, "G", 1) != 1) {
		close(fd);
		return -1;
	}
	return fd;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define GET_METRICS "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

static void test_server_answers(struct hci_httpd *h, unsigned int port)
{
	static char out[1 << 20];
	char big[200000];

	http(port, GET_METRICS, out, sizeof(out));
	ok(!strncmp(out, "HTTP/1.1 503", 12), "503 before the first text");
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	hci_httpd_publish(h, "a 1\n", 4);
	hci_httpd_publish(h, big, sizeof(big));
	http(port, GET_METRICS, out, sizeof(out));
	ok(!strncmp(out, "HTTP/1.1 200", 12) &&
	   strstr(out, "Content-Type: " HCI_HTTPD_CONTENT_TYPE "\r\n"),
	   "GET /metrics: 200, the exposition content type");
	ok(strstr(out, "\r\n\r\n") && !memcmp(strstr(out, "\r\n\r\n") + 4, big, sizeof(big)),
	   "the last text published, whole (200 kB)");
	http(port, "GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", out,
	     sizeof(out));
	ok(!strncmp(out, "HTTP/1.1 404", 12), "another path: 404");
	http(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
	     "Connection: close\r\n\r\n", out, sizeof(out));
	ok(!strncmp(out, "HTTP/1.1 405", 12) && strstr(out, "Allow: GET"),
	   "POST /metrics: 405 with Allow: GET");
}

/* with one address's slots all held, the next is refused, until one frees */
static void test_per_ip_limit(struct hci_httpd *h, int *slow, int nslow)
{
	static char out[1 << 16];
	int more[2], n = 0;

	for (int i = nslow; i < HCI_HTTPD_MAX_PER_IP; i++)
		if ((more[n] = slow_client(hci_httpd_port(h))) >= 0)
			n++;
	usleep(100000);	/* the server takes them in */
	ok(http(hci_httpd_port(h), GET_METRICS, out, sizeof(out)) <= 0,
	   "with %d connections from 127.0.0.1 held, another gets nothing", nslow + n);
	close(slow[0]);
	slow[0] = more[--n];
	for (int i = 0; i < n; i++)
		close(more[i]);
	usleep(100000);
	ok(http(hci_httpd_port(h), GET_METRICS, out, sizeof(out)) > 0 &&
	   !strncmp(out, "HTTP/1.1 200", 12), "and once they close, it is answered");
}

static void test_server(void)
{
	static char out[1 << 16];
	struct hci_httpd *h;
	char err[256];
	unsigned long served, refused;
	int slow[HCI_HTTPD_MAX_PER_IP - 2], nslow = 0;
	double t0, worst = 0;

	h = hci_httpd_start("127.0.0.1:0", false, err, sizeof(err));
	ok(h != NULL, "serving on a free port (%s)", h ? hci_httpd_where(h) : err);
	if (!h)
		return;
	ok(!strncmp(hci_httpd_where(h), "127.0.0.1:", 10) && hci_httpd_port(h) > 0,
	   "where says the port bound");
	test_server_answers(h, hci_httpd_port(h));
	/* slow clients hold slots, never the others' answers or the publisher */
	for (int i = 0; i < (int)(sizeof(slow) / sizeof(slow[0])); i++)
		if ((slow[nslow] = slow_client(hci_httpd_port(h))) >= 0)
			nslow++;
	for (int i = 0; i < 20; i++) {
		t0 = now_s();
		hci_httpd_publish(h, "b 2\n", 4);
		http(hci_httpd_port(h), GET_METRICS, out, sizeof(out));
		if (now_s() - t0 > worst)
			worst = now_s() - t0;
	}
	ok(strstr(out, "\r\n\r\nb 2\n") != NULL, "answers beside %d slow clients", nslow);
	ok(worst < 0.5, "a publish and a scrape beside them: at most %.1f ms", worst * 1e3);
	test_per_ip_limit(h, slow, nslow);
	for (int i = 0; i < nslow; i++)
		close(slow[i]);
	hci_httpd_counts(h, &served, &refused);
	is_int(served, 22, "scrapes served counted");
	is_int(refused, 3, "503, 404, 405 counted");
	hci_httpd_stop(h);
	/* TEST-NET-1 (RFC 5737): no address of this host */
	ok(!hci_httpd_start("192.0.2.1:0", false, err, sizeof(err)) && strstr(err, "192.0.2.1"),
	   "an address it cannot bind: an error (%s)", err);
}

static void test_addr(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256];
	const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

	ok(!hci_httpd_addr("9100", &ss, &len, err, sizeof(err)) && ss.ss_family == AF_INET &&
	   in->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && ntohs(in->sin_port) == 9100,
	   "PORT is 127.0.0.1:PORT");
	ok(!hci_httpd_addr(":9101", &ss, &len, err, sizeof(err)) &&
	   in->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && ntohs(in->sin_port) == 9101,
	   ":PORT is 127.0.0.1:PORT");
	ok(!hci_httpd_addr("0.0.0.0:80", &ss, &len, err, sizeof(err)) &&
	   in->sin_addr.s_addr == 0, "ADDR:PORT");
	ok(!hci_httpd_addr("[::1]:9100", &ss, &len, err, sizeof(err)) &&
	   ss.ss_family == AF_INET6, "[IPv6]:PORT");
	ok(hci_httpd_addr("::1:9100", &ss, &len, err, sizeof(err)) == -EINVAL &&
	   hci_httpd_addr("1.2.3.4:65536", &ss, &len, err, sizeof(err)) == -EINVAL &&
	   hci_httpd_addr("1.2.3.4:", &ss, &len, err, sizeof(err)) == -EINVAL &&
	   hci_httpd_addr("x:-1", &ss, &len, err, sizeof(err)) == -EINVAL,
	   "bare IPv6, a port past 65535, none, negative: refused");
	ok(strstr(err, "ADDR:PORT") != NULL, "the error says the forms");
}

int main(void)
{
	test_escape_cases();
	test_escape_property();
	test_histogram();
	test_bucket_bounds();
	test_file();
	test_addr();
	test_server();
	return done_testing();
}
