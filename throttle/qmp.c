// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The QMP client (qmp.h). QEMU sends one JSON object per line: first a
 * greeting, then, for each command, maybe some events and the reply, which
 * carries the "id" we sent. Every read and write waits at most until one
 * deadline for the whole call, so a QEMU that hangs (or a socket that
 * another client holds: QEMU then never greets us) cannot stall the caller.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "qmp_reply.h"
#include "qmp.h"

const char *const hci_qmp_fields[HCI_QMP_NFIELDS] = {
	"bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr",
	"bps_max", "bps_rd_max", "bps_wr_max", "iops_max", "iops_rd_max", "iops_wr_max",
	"bps_max_length", "bps_rd_max_length", "bps_wr_max_length",
	"iops_max_length", "iops_rd_max_length", "iops_wr_max_length", "iops_size",
};

struct conn {
	int fd;
	const char *sock;
	char *buf;
	size_t len, cap;
	long long deadline_ms;
	unsigned int id;
	char *err;
	size_t errlen;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cfail(struct conn *c, int rc, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(c->err, c->errlen, "QMP %s: ", c->sock);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Wait for fd to be ready for events, until the deadline. */
static int wait_fd(struct conn *c, short events)
{
	struct pollfd p = { .fd = c->fd, .events = events };
	long long left = c->deadline_ms - now_ms();
	int n;

	if (left <= 0)
		return -ETIMEDOUT;
	do
		n = poll(&p, 1, (int)left);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

static int send_all(struct conn *c, const char *s, size_t len)
{
	while (len) {
		ssize_t n = send(c->fd, s, len, MSG_NOSIGNAL);
		int rc;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			rc = wait_fd(c, POLLOUT);
			if (rc)
				return cfail(c, rc, "cannot send: %s", strerror(-rc));
			continue;
		}
		if (n < 0)
			return cfail(c, -errno, "cannot send: %s", strerror(errno));
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The next message: one line, parsed. */
static int next_msg(struct conn *c, struct hci_json_doc *doc)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		ssize_t n;
		int rc;

		if (nl) {
			size_t line = (size_t)(nl - c->buf) + 1, l = line - 1;
			char jerr[128];

			if (l && c->buf[l - 1] == '\r')
				l--;
			rc = hci_json_parse(c->buf, l, doc, jerr, sizeof(jerr));
			memmove(c->buf, c->buf + line, c->len - line);
			c->len -= line;
			if (rc)
				return cfail(c, rc, "bad reply: %s", jerr);
			return 0;
		}
		if (c->len == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 65536;
			char *b;

			if (cap > HCI_QMP_MAX_REPLY)
				return cfail(c, -EMSGSIZE, "reply longer than %u bytes",
					     HCI_QMP_MAX_REPLY);
			b = realloc(c->buf, cap);
			if (!b)
				return cfail(c, -ENOMEM, "out of memory");
			c->buf = b;
			c->cap = cap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0)
			return cfail(c, -ECONNRESET, "QEMU closed the connection");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return cfail(c, -errno, "cannot read: %s", strerror(errno));
		rc = wait_fd(c, POLLIN);
		if (rc == -ETIMEDOUT)
			return cfail(c, rc, "no reply within %d ms (is another client connected?)",
				     HCI_QMP_TIMEOUT_MS);
		if (rc)
			return cfail(c, rc, "cannot read: %s", strerror(-rc));
	}
}

/*
 * Run a command; its reply's "return" stays in doc. args is "" or the
 * members of the "arguments" object, as JSON text.
 */
static int command(struct conn *c, const char *execute, const char *args,
		   struct hci_json_doc *doc, const struct hci_json **ret)
{
	char *msg;
	int rc, n;

	c->id++;
	n = asprintf(&msg, "{\"execute\":\"%s\"%s%s%s,\"id\":%u}\n", execute,
		     *args ? ",\"arguments\":{" : "", args, *args ? "}" : "", c->id);
	if (n < 0)
		return cfail(c, -ENOMEM, "out of memory");
	rc = send_all(c, msg, (size_t)n);
	free(msg);
	if (rc)
		return rc;
	for (;;) {
		const struct hci_json *e;
		double id;

		rc = next_msg(c, doc);
		if (rc)
			return rc;
		/* events come in between; anything without our id is not ours */
		if (!hci_json_num(doc->root, "id", &id) || id != c->id) {
			hci_json_free(doc);
			continue;
		}
		e = hci_json_get(doc->root, "error");
		if (e) {
			const char *desc = hci_json_str(e, "desc");

			rc = cfail(c, -EIO, "%s: %s", execute, desc ? desc : "error");
			hci_json_free(doc);
			return rc;
		}
		*ret = hci_json_get(doc->root, "return");
		if (!*ret) {
			hci_json_free(doc);
			return cfail(c, -EPROTO, "%s: reply without \"return\"", execute);
		}
		return 0;
	}
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
}

static int conn_open(struct conn *c, const char *sock, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct hci_json_doc doc;
	const struct hci_json *ret;
	int rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->sock = sock;
	c->err = err;
	c->errlen = errlen;
	c->deadline_ms = now_ms() + HCI_QMP_TIMEOUT_MS;
	if (strlen(sock) >= sizeof(sa.sun_path))
		return cfail(c, -ENAMETOOLONG, "socket path too long");
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return cfail(c, -errno, "socket: %s", strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		if (rc == -EAGAIN)
			cfail(c, rc, "the socket's backlog is full (is another client connected?)");
		else
			cfail(c, rc, "cannot connect: %s", strerror(errno));
		conn_close(c);
		return rc;
	}
	/* the greeting: {"QMP": {...}} */
	rc = next_msg(c, &doc);
	if (rc)
		goto fail;
	if (!hci_json_get(doc.root, "QMP")) {
		hci_json_free(&doc);
		rc = cfail(c, -EPROTO, "no QMP greeting: is this a QMP socket?");
		goto fail;
	}
	hci_json_free(&doc);
	rc = command(c, "qmp_capabilities", "", &doc, &ret);
	if (rc)
		goto fail;
	hci_json_free(&doc);
	return 0;
fail:
	conn_close(c);
	return rc;
}

/* JSON string text for s (quotes included). */
static void jstr(char *out, size_t len, const char *s)
{
	size_t o = 0;

	if (len < 3) {
		if (len)
			out[0] = '\0';
		return;
	}
	out[o++] = '"';
	for (; *s && o + 8 < len; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch < 0x20) {
			o += (size_t)snprintf(out + o, len - o, "\\u%04x", ch);
		} else {
			out[o++] = (char)ch;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
}

/*
 * The query-block entry for drive, and how block_set_io_throttle names it:
 * "device":"<drive id>" or "id":"<qdev path>".
 */
static const struct hci_json *find_drive(const struct hci_json *list, const char *drive,
					 char *addr, size_t addrlen)
{
	char want[300], q[600];

	snprintf(want, sizeof(want), "/peripheral/%s/", drive);
	for (const struct hci_json *e = list->child; e; e = e->next) {
		const char *dev = hci_json_str(e, "device");
		const char *qdev = hci_json_str(e, "qdev");

		if (dev && *dev && !strcmp(dev, drive)) {
			jstr(q, sizeof(q), dev);
			snprintf(addr, addrlen, "\"device\":%s", q);
			return e;
		}
		if (qdev && (!strcmp(qdev, drive) || strstr(qdev, want))) {
			jstr(q, sizeof(q), qdev);
			snprintf(addr, addrlen, "\"id\":%s", q);
			return e;
		}
	}
	return NULL;
}

/* Connect, and find the drive: its "inserted" object and its address. */
static int open_drive(struct conn *c, const char *sock, const char *drive,
		      struct hci_json_doc *doc, const struct hci_json **ins, char *addr,
		      size_t addrlen, char *err, size_t errlen)
{
	const struct hci_json *list, *e;
	int rc = conn_open(c, sock, err, errlen);

	if (rc)
		return rc;
	rc = command(c, "query-block", "", doc, &list);
	if (rc)
		goto fail;
	if (list->type != HCI_JSON_ARR) {
		rc = cfail(c, -EPROTO, "query-block did not return a list");
		goto fail_doc;
	}
	e = find_drive(list, drive, addr, addrlen);
	if (!e) {
		rc = cfail(c, -ENOENT, "no drive '%s' (want a -drive id or a -device id)", drive);
		goto fail_doc;
	}
	*ins = hci_json_get(e, "inserted");
	if (!*ins) {
		rc = cfail(c, -ENOENT, "drive '%s' has no medium", drive);
		goto fail_doc;
	}
	return 0;
fail_doc:
	hci_json_free(doc);
fail:
	conn_close(c);
	return rc;
}

static void read_throttle(const struct hci_json *ins, struct hci_qmp_throttle *t)
{
	const char *g = hci_json_str(ins, "group");

	memset(t, 0, sizeof(*t));
	for (int i = 0; i < HCI_QMP_NFIELDS; i++)
		if (!hci_json_num(ins, hci_qmp_fields[i], &t->v[i]) || t->v[i] < 0)
			t->v[i] = 0;
	snprintf(t->group, sizeof(t->group), "%s", g ? g : "");
}

int hci_qmp_get(const char *sock, const char *drive, struct hci_qmp_throttle *t, char *err,
		size_t errlen)
{
	struct hci_json_doc doc;
	const struct hci_json *ins;
	struct conn c;
	char addr[700];
	int rc = open_drive(&c, sock, drive, &doc, &ins, addr, sizeof(addr), err, errlen);

	if (rc)
		return rc;
	read_throttle(ins, t);
	hci_json_free(&doc);
	conn_close(&c);
	return 0;
}

int hci_qmp_set(const char *sock, const char *drive, const struct hci_qmp_throttle *t,
		char *err, size_t errlen)
{
	struct hci_json_doc doc;
	const struct hci_json *ins, *ret;
	struct conn c;
	char addr[700], args[2048], g[300];
	size_t o;
	int rc = open_drive(&c, sock, drive, &doc, &ins, addr, sizeof(addr), err, errlen);

	if (rc)
		return rc;
	hci_json_free(&doc);
	o = (size_t)snprintf(args, sizeof(args), "%s", addr);
	for (int i = 0; i < HCI_QMP_NFIELDS && o < sizeof(args); i++) {
		/* the rates are required arguments; the others only when set */
		if (i >= HCI_QMP_NRATES && !(t->v[i] > 0))
			continue;
		o += (size_t)snprintf(args + o, sizeof(args) - o, ",\"%s\":%.0f", hci_qmp_fields[i],
				      t->v[i] > 0 && isfinite(t->v[i]) ? t->v[i] : 0);
	}
	if (t->group[0] && o < sizeof(args)) {
		jstr(g, sizeof(g), t->group);
		o += (size_t)snprintf(args + o, sizeof(args) - o, ",\"group\":%s", g);
	}
	if (o >= sizeof(args)) {
		conn_close(&c);
		return cfail(&c, -E2BIG, "arguments too long");
	}
	rc = command(&c, "block_set_io_throttle", args, &doc, &ret);
	if (!rc)
		hci_json_free(&doc);
	conn_close(&c);
	return rc;
}

void hci_qmp_format(const struct hci_qmp_throttle *t, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < HCI_QMP_NFIELDS && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s=%.0f", i ? " " : "", hci_qmp_fields[i],
				      t->v[i]);
	if (t->group[0] && o < len)
		snprintf(buf + o, len - o, " group=%s", t->group);
}

int hci_qmp_parse(const char *s, struct hci_qmp_throttle *t)
{
	char copy[1024], *tok, *save = NULL, *g;

	memset(t, 0, sizeof(*t));
	if (snprintf(copy, sizeof(copy), "%s", s) >= (int)sizeof(copy))
		return -EINVAL;
	/* the group is last, and is the rest of the text (it may hold spaces) */
	g = !strncmp(copy, "group=", 6) ? copy : strstr(copy, " group=");
	if (g) {
		char *name = strchr(g, '=') + 1;

		if (!*name || snprintf(t->group, sizeof(t->group), "%s", name) >=
		    (int)sizeof(t->group))
			return -EINVAL;
		*g = '\0';
	}
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '='), *end;
		int i;

		if (!eq)
			return -EINVAL;
		*eq++ = '\0';
		for (i = 0; i < HCI_QMP_NFIELDS; i++)
			if (!strcmp(tok, hci_qmp_fields[i]))
				break;
		if (i == HCI_QMP_NFIELDS)
			return -EINVAL;
		errno = 0;
		t->v[i] = strtod(eq, &end);
		if (errno || end == eq || *end || !isfinite(t->v[i]) || t->v[i] < 0)
			return -EINVAL;
	}
	return 0;
}
